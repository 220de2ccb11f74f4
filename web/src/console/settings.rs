//! The console's settings: the review lists' thresholds and the suggested-limit rule's
//! parameters. One row (migration 0012), changed by managers, every change logged
//! (`settings.change`, before and after).

use serde::{Deserialize, Serialize};

use super::{Actor, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::now_unix;
use crate::store::action_log::insert_action;
use crate::store::{Store, StoreError};
use crate::totp::{self, TwoStepRule};

/// The bounds of each setting (the database checks the same).
pub const NEAR_LIMIT_PCT_RANGE: (i64, i64) = (1, 100);
pub const NEGATIVE_DAYS_RANGE: (i64, i64) = (1, 3650);
pub const GROWTH_MONTHS_RANGE: (i64, i64) = (1, 24);
pub const TURNOVER_SHARE_BP_RANGE: (i64, i64) = (0, 10_000);
pub const SALES_MONTHS_RANGE: (i64, i64) = (1, 36);
pub const SALES_SHARE_BP_RANGE: (i64, i64) = (0, 100_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// "Near its limit": the member uses at least this share (%) of its credit limit.
    pub near_limit_pct: i64,
    /// The return-to-zero rule: a member negative for more than this many days is listed
    /// (Sardex: 12 months).
    pub negative_days: i64,
    /// "Positive balance keeps growing": positive and up over each of this many 30-day
    /// periods.
    pub growth_months: i64,
    /// Suggested limit: this share (basis points) of the declared annual turnover (UK TBEX
    /// rule: 500 = 5 %)...
    pub turnover_share_bp: i64,
    /// ...capped by this share (basis points) of the sales of the last `sales_months`
    /// 30-day periods (10 000 = 100 %).
    pub sales_months: i64,
    pub sales_share_bp: i64,
}

impl Default for Settings {
    /// The values migration 0012 writes.
    fn default() -> Settings {
        Settings {
            near_limit_pct: 80,
            negative_days: 365,
            growth_months: 3,
            turnover_share_bp: 500,
            sales_months: 12,
            sales_share_bp: 10_000,
        }
    }
}

impl Settings {
    fn check(&self) -> ConsoleResult<()> {
        let mut issues = Issues::default();
        for (field, value, (min, max)) in [
            (
                Field::NearLimitPct,
                self.near_limit_pct,
                NEAR_LIMIT_PCT_RANGE,
            ),
            (Field::NegativeDays, self.negative_days, NEGATIVE_DAYS_RANGE),
            (Field::GrowthMonths, self.growth_months, GROWTH_MONTHS_RANGE),
            (
                Field::TurnoverShareBp,
                self.turnover_share_bp,
                TURNOVER_SHARE_BP_RANGE,
            ),
            (Field::SalesMonths, self.sales_months, SALES_MONTHS_RANGE),
            (
                Field::SalesShareBp,
                self.sales_share_bp,
                SALES_SHARE_BP_RANGE,
            ),
        ] {
            if !(min..=max).contains(&value) {
                issues.add(field, Problem::OutOfRange { min, max });
            }
        }
        issues.finish()
    }
}

pub async fn get(store: &Store) -> ConsoleResult<Settings> {
    let sql = "SELECT near_limit_pct, negative_days, growth_months, turnover_share_bp, \
               sales_months, sales_share_bp FROM console_settings WHERE id = 1";
    let row: Option<(i64, i64, i64, i64, i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(sql).fetch_optional(pool).await?
    });
    let (
        near_limit_pct,
        negative_days,
        growth_months,
        turnover_share_bp,
        sales_months,
        sales_share_bp,
    ) = row.ok_or_else(|| StoreError::Corrupt("console_settings has no row".into()))?;
    Ok(Settings {
        near_limit_pct,
        negative_days,
        growth_months,
        turnover_share_bp,
        sales_months,
        sales_share_bp,
    })
}

/// Changes the settings (managers only), logged as `settings.change`.
pub async fn update(store: &Store, actor: &Actor, settings: &Settings) -> ConsoleResult<()> {
    actor.require_manager()?;
    settings.check()?;
    let before = get(store).await?;
    let note = actor.note("settings.change", "")?.states(
        serde_json::to_value(before).expect("settings serialise"),
        serde_json::to_value(settings).expect("settings serialise"),
    );
    let sql = "UPDATE console_settings SET near_limit_pct = $1, negative_days = $2, \
               growth_months = $3, turnover_share_bp = $4, sales_months = $5, \
               sales_share_bp = $6, updated_at = $7 WHERE id = 1";
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(sql)
            .bind(settings.near_limit_pct).bind(settings.negative_days)
            .bind(settings.growth_months).bind(settings.turnover_share_bp)
            .bind(settings.sales_months).bind(settings.sales_share_bp).bind(now_unix())
            .execute(&mut *tx).await?;
        insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Changes who the network requires two-step login of (managers only), with a reason,
/// logged as `settings.two_step` (before and after). A rule not among
/// [`TwoStepRule::ALL`] is `InvalidChoice`; the rule in force, `SameAsCurrent`.
pub async fn set_two_step_rule(
    store: &Store,
    actor: &Actor,
    rule: &str,
    reason: &str,
) -> ConsoleResult<TwoStepRule> {
    actor.require_manager()?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    let before = totp::rule(store).await?;
    let rule = match TwoStepRule::parse(rule.trim()) {
        Some(rule) if rule == before => {
            issues.add(Field::TwoStepRule, Problem::SameAsCurrent);
            rule
        }
        Some(rule) => rule,
        None => {
            issues.add(Field::TwoStepRule, Problem::InvalidChoice);
            before
        }
    };
    issues.finish()?;
    let note = actor.note("settings.two_step", &reason)?.states(
        serde_json::json!({ "two_step_rule": before.as_str() }),
        serde_json::json!({ "two_step_rule": rule.as_str() }),
    );
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE console_settings SET two_step_rule = $1, updated_at = $2 WHERE id = 1")
            .bind(rule.as_str()).bind(now_unix())
            .execute(&mut *tx).await?;
        insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
    });
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_bounds() {
        assert!(Settings::default().check().is_ok());
        let at_max = Settings {
            near_limit_pct: 100,
            negative_days: 3650,
            growth_months: 24,
            turnover_share_bp: 10_000,
            sales_months: 36,
            sales_share_bp: 100_000,
        };
        assert!(at_max.check().is_ok());
        let past = Settings {
            negative_days: 3651,
            ..at_max
        };
        assert!(past.check().is_err());
        let below = Settings {
            near_limit_pct: 0,
            ..Settings::default()
        };
        assert!(below.check().is_err());
    }
}
