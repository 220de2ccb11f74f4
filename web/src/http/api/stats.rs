//! The network's health (the console's `/admin/stats` page): members, trade by month, the
//! money's velocity, the Greco indicator, the balance histogram and the sectors, from
//! `network::stats::network_health`.

use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::types::{self, money, time};
use crate::http::AppState;
use crate::network::stats::{self, NetworkHealth, STATS_MONTHS_MAX};

/// One calendar month (UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthStats {
    #[schema(example = "2026-11")]
    pub month: String,
    pub trades: u64,
    #[schema(example = "12500.00")]
    pub volume: String,
    /// Members who bought or sold in it.
    pub traders: u64,
    /// At the month's end (the current month: now).
    pub fund_balance: String,
    /// What members in debt owe.
    pub exposure: String,
    /// The sum of the positive balances.
    pub money_supply: String,
    pub debtors: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberStats {
    pub total: u64,
    pub active: u64,
    pub frozen: u64,
    pub closed: u64,
    /// Members who traded in the last 30 days.
    pub trading_30_days: u64,
    /// Members who traded in the last 90 days.
    pub trading_90_days: u64,
    /// Open members in debt today.
    pub debtors: u64,
    /// Open members with a positive balance today.
    pub creditors: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VelocityStats {
    /// Trade volume over the last 12 complete months.
    pub volume: String,
    /// The average money supply at their month ends.
    pub average_money_supply: String,
    /// volume ÷ average money supply, 2 decimals; null when nothing was owed.
    #[schema(example = "3.20")]
    pub per_year: Option<String>,
    pub traders: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrecoStats {
    /// Today's exposure.
    pub debt: String,
    /// Trade volume over the last 3 complete months.
    pub volume: String,
    pub period_days: u32,
    /// Days of trade the debt stands for, 1 decimal; null without trade.
    #[schema(example = "41.5")]
    pub days: Option<String>,
    pub traders: u64,
}

/// Open members whose balance is in a range; null bounds are open.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceRange {
    pub low: Option<String>,
    pub high: Option<String>,
    pub members: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectorStats {
    pub sector: String,
    pub members: u64,
    pub traders: u64,
    pub sales: String,
    pub purchases: String,
    /// Sales − purchases: positive for a net seller sector.
    pub net: String,
    pub balance: String,
}

/// The network's health over `months` months.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub at: String,
    pub members: MemberStats,
    /// Oldest first; the last is the current month.
    pub months: Vec<MonthStats>,
    pub velocity: VelocityStats,
    pub greco: GrecoStats,
    pub histogram: Vec<BalanceRange>,
    /// Net buyer sectors first, then net sellers.
    pub sectors: Vec<SectorStats>,
}

fn health_body(h: &NetworkHealth) -> HealthBody {
    HealthBody {
        at: time(h.now),
        members: MemberStats {
            total: h.members.total,
            active: h.members.active,
            frozen: h.members.frozen,
            closed: h.members.closed,
            trading_30_days: h.active_short,
            trading_90_days: h.active_long,
            debtors: h.debtors,
            creditors: h.creditors,
        },
        months: h
            .months
            .iter()
            .map(|m| MonthStats {
                month: m.label(),
                trades: m.trades,
                volume: money(m.volume),
                traders: m.traders,
                fund_balance: money(m.fund_balance),
                exposure: money(m.exposure),
                money_supply: money(m.money_supply),
                debtors: m.debtors,
            })
            .collect(),
        velocity: VelocityStats {
            volume: money(h.velocity.volume),
            average_money_supply: money(h.velocity.average_money_supply),
            per_year: h.velocity.per_year.map(|d| d.to_string()),
            traders: h.velocity.traders,
        },
        greco: GrecoStats {
            debt: money(h.greco.debt),
            volume: money(h.greco.volume),
            period_days: h.greco.period_days,
            days: h.greco.days.map(|d| d.to_string()),
            traders: h.greco.traders,
        },
        histogram: h
            .histogram
            .iter()
            .map(|b| BalanceRange {
                low: b.low.map(money),
                high: b.high.map(money),
                members: b.members,
            })
            .collect(),
        sectors: h
            .sectors
            .iter()
            .map(|s| SectorStats {
                sector: s.sector.clone(),
                members: s.members,
                traders: s.traders,
                sales: money(s.sales),
                purchases: money(s.purchases),
                net: money(s.net),
                balance: money(s.balance),
            })
            .collect(),
    }
}

/// The network's health (manage: the network's manager or accountant).
#[utoipa::path(get, path = "/api/v1/network/stats", tag = "network",
    params(("months" = Option<u32>, Query, description = "1 to 24 months, default 12", minimum = 1, maximum = 24)),
    responses(
        (status = 200, description = "The health report", body = HealthBody),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn network_stats(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<HealthBody>> {
    let actor = auth.network_actor()?;
    let params = types::query(raw.as_deref());
    let months = match types::param(&params, "months") {
        None => MONTHS_DEFAULT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=STATS_MONTHS_MAX).contains(m))
            .ok_or_else(|| {
                ApiError::invalid("months", format!("months must be 1 to {STATS_MONTHS_MAX}."))
            })?,
    };
    let health = stats::network_health(&state.store, &actor, Utc::now(), months).await?;
    Ok(Json(health_body(&health)))
}

/// The months of a report when the caller names none.
const MONTHS_DEFAULT: u32 = 12;
