//! The suggested credit limit: a figure with its explanation, for the manager to accept,
//! change or ignore (it pre-fills the limit form; nothing changes by itself).
//!
//! The rule, with the console's settings:
//!
//! - **from turnover** = declared annual turnover × `turnover_share_bp` / 10 000 (the UK
//!   TBEX rule: 5 % of revenue);
//! - **trading cap** = the member's sales over the last `sales_months` × 30 days ×
//!   `sales_share_bp` / 10 000, but never below its category's default limit (so a newcomer
//!   without history keeps the default);
//! - **suggested** = the smaller of the two, rounded down to a whole unit. No declared
//!   turnover, no suggestion.
//!
//! Sales are the principal legs credited to the member by payments and delivered orders in
//! the window, less the principal debited back by reversals of such sales.

use chrono::{DateTime, Duration, Utc};
use ledger::{Amount, MINOR_PER_UNIT};

use super::members::member_view;
use super::reviews::MONTH_DAYS;
use super::settings::{self, Settings};
use super::{Actor, ConsoleResult};
use crate::dispatch;
use crate::store::Store;

/// The suggestion and every figure it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub settings: Settings,
    pub current: Amount,
    pub declared_turnover: Option<Amount>,
    pub from_turnover: Option<Amount>,
    pub sales: Amount,
    pub from_sales: Amount,
    pub category_default: Amount,
    pub trading_cap: Amount,
    /// `None` without a declared turnover.
    pub suggested: Option<Amount>,
}

/// `amount × bp / 10 000`, rounded down, never negative.
pub fn share(amount: Amount, bp: i64) -> Amount {
    let value = i128::from(amount.minor().max(0)) * i128::from(bp) / 10_000;
    Amount::from_minor(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The rule above, on given figures (pure).
pub fn rule(
    settings: &Settings,
    declared_turnover: Option<Amount>,
    sales: Amount,
    category_default: Amount,
) -> (Option<Amount>, Amount, Amount, Option<Amount>) {
    let from_turnover = declared_turnover.map(|t| share(t, settings.turnover_share_bp));
    let from_sales = share(sales, settings.sales_share_bp);
    let trading_cap = from_sales.max(category_default);
    let suggested = from_turnover.map(|t| {
        let raw = t.min(trading_cap).minor();
        Amount::from_minor(raw - raw % MINOR_PER_UNIT)
    });
    (from_turnover, from_sales, trading_cap, suggested)
}

/// A member's sales since `since` (see the module documentation).
pub async fn sales_since(
    store: &Store,
    account: ledger::AccountId,
    since: DateTime<Utc>,
) -> ConsoleResult<Amount> {
    let sql = "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM postings p \
               JOIN transactions t ON t.id = p.tx_id \
               LEFT JOIN transactions o ON o.id = t.reverses \
               WHERE p.account_id = $1 AND p.leg = 'principal' AND p.time >= $2 AND ( \
               (t.kind IN ('payment', 'hold_capture') AND p.amount > 0) OR \
               (t.kind = 'reversal' AND o.kind IN ('payment', 'hold_capture') \
               AND p.amount < 0))";
    let account = i64::try_from(account.0).unwrap_or(i64::MAX);
    let sum: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql).bind(account).bind(since).fetch_one(pool).await?
    });
    Ok(Amount::from_minor(sum.max(0)))
}

/// The suggested limit of a member, now (readers).
pub async fn suggest(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    now: DateTime<Utc>,
) -> ConsoleResult<Suggestion> {
    let view = member_view(store, actor, member_id).await?;
    let settings = settings::get(store).await?;
    let since = now - Duration::days(settings.sales_months * MONTH_DAYS);
    let sales = sales_since(store, view.member.account(), since).await?;
    let (from_turnover, from_sales, trading_cap, suggested) = rule(
        &settings,
        view.fields.declared_turnover,
        sales,
        view.category.credit_limit,
    );
    Ok(Suggestion {
        settings,
        current: view.account.credit_limit(),
        declared_turnover: view.fields.declared_turnover,
        from_turnover,
        sales,
        from_sales,
        category_default: view.category.credit_limit,
        trading_cap,
        suggested,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(units: i64) -> Amount {
        Amount::from_units(units)
    }

    #[test]
    fn five_percent_of_turnover_capped_by_sales_but_not_below_the_default() {
        let s = Settings::default();
        // 200 000 turnover → 10 000; sales 6 000 → cap 6 000.
        let (from_turnover, from_sales, cap, suggested) =
            rule(&s, Some(u(200_000)), u(6_000), u(1_000));
        assert_eq!(from_turnover, Some(u(10_000)));
        assert_eq!(from_sales, u(6_000));
        assert_eq!(cap, u(6_000));
        assert_eq!(suggested, Some(u(6_000)));
        // No sales yet: the category default is the cap.
        assert_eq!(
            rule(&s, Some(u(200_000)), Amount::ZERO, u(1_000)).3,
            Some(u(1_000))
        );
        // Small turnover: 5 % of it wins.
        assert_eq!(
            rule(&s, Some(u(10_000)), u(50_000), u(1_000)).3,
            Some(u(500))
        );
        // No declared turnover: no suggestion.
        assert_eq!(rule(&s, None, u(50_000), u(1_000)).3, None);
        // Rounded down to a whole unit.
        assert_eq!(
            rule(&s, Some(Amount::from_minor(1_234_599)), u(1_000_000), u(0)).3,
            Some(u(617))
        );
    }

    #[test]
    fn shares_in_basis_points() {
        assert_eq!(share(u(100), 500), u(5));
        assert_eq!(share(u(100), 10_000), u(100));
        assert_eq!(share(Amount::from_minor(-100), 500), Amount::ZERO);
        assert_eq!(share(Amount::MAX, 100_000), Amount::MAX);
    }
}
