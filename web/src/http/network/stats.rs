//! `/admin/stats`: network health as figures, SVG charts and CSV files (managers and
//! accountants).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use ledger::Amount;
use serde::Deserialize;

use super::charts::{bar_chart, line_chart, BarChart, LineChart};
use super::{actor, csv_response, csv_text, or_dash, page_error, plain};
use crate::http::error::{AppError, AppResult};
use crate::http::i18n::Tr;
use crate::http::market::sector_label;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::network::stats::{
    self, BalanceBucket, MonthFigures, NetworkHealth, SectorFigures, STATS_MONTHS_DEFAULT,
    STATS_MONTHS_MAX,
};
use crate::network::{Access, InvalidInput};

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    months: String,
}

fn months(query: &StatsQuery) -> Result<u32, InvalidInput> {
    if query.months.trim().is_empty() {
        return Ok(STATS_MONTHS_DEFAULT);
    }
    let n = query
        .months
        .trim()
        .parse::<u32>()
        .map_err(|_| InvalidInput::MonthsOutOfRange {
            max: STATS_MONTHS_MAX,
        })?;
    stats::months_in_range(n)
}

/// A histogram bucket's label: « < −10 000,00 », « −1 000,00 à 0,00 », « 0 », « > 10 000,00 ».
pub fn bucket_label(t: Tr, bucket: &BalanceBucket) -> String {
    let a = |amount: Amount| t.lang.amount(amount);
    let to = if t.lang == crate::http::i18n::Lang::Fr {
        "à"
    } else {
        "to"
    };
    match (bucket.low, bucket.high) {
        _ if bucket.is_zero() => "0".into(),
        (None, Some(high)) => format!("< {}", a(high)),
        (Some(low), None) => format!("> {}", a(low)),
        (Some(low), Some(high)) => format!("{} {to} {}", a(low), a(high)),
        (None, None) => String::new(),
    }
}

pub struct MonthView {
    label: String,
    trades: u64,
    volume: String,
    traders: u64,
    money_supply: String,
    exposure: String,
}

pub struct SectorView {
    label: String,
    members: u64,
    sales: String,
    purchases: String,
    net: String,
    balance: String,
}

fn sector_view(t: Tr, s: &SectorFigures) -> SectorView {
    SectorView {
        label: sector_label(t, &s.sector),
        members: s.members,
        sales: t.lang.amount(s.sales),
        purchases: t.lang.amount(s.purchases),
        net: t.lang.amount(s.net),
        balance: t.lang.amount(s.balance),
    }
}

#[derive(Template)]
#[template(path = "net_stats.html")]
struct StatsTemplate {
    c: Chrome,
    months_text: String,
    months_max: u32,
    months_error: Option<String>,
    members_total: u64,
    members_active: u64,
    members_frozen: u64,
    members_closed: u64,
    active_short: u64,
    active_long: u64,
    velocity: String,
    velocity_volume: String,
    velocity_supply: String,
    greco: String,
    greco_debt: String,
    greco_volume: String,
    greco_period_days: u32,
    months: Vec<MonthView>,
    volume_chart: Option<BarChart>,
    trades_chart: Option<BarChart>,
    balance_chart: Option<LineChart>,
    histogram: Vec<(String, u64)>,
    histogram_chart: Option<BarChart>,
    net_buyers: Vec<SectorView>,
    net_sellers: Vec<SectorView>,
    sector_chart: Option<BarChart>,
    csv_query: String,
}

fn charts(t: Tr, h: &NetworkHealth) -> (Option<BarChart>, Option<BarChart>, Option<LineChart>) {
    let amounts = |v: i64| t.lang.amount(Amount::from_minor(v));
    let volume: Vec<(String, i64)> = h
        .months
        .iter()
        .map(|m| (m.label(), m.volume.minor()))
        .collect();
    let trades: Vec<(String, i64)> = h
        .months
        .iter()
        .map(|m| (m.label(), i64::try_from(m.trades).unwrap_or(i64::MAX)))
        .collect();
    let labels: Vec<String> = h.months.iter().map(MonthFigures::label).collect();
    let balances = line_chart(
        t.lang,
        &labels,
        vec![
            (
                t.net_money_supply(),
                "#1f6f3a",
                h.months.iter().map(|m| m.money_supply.minor()).collect(),
            ),
            (
                t.net_exposure(),
                "#a4161a",
                h.months.iter().map(|m| m.exposure.minor()).collect(),
            ),
        ],
    );
    (
        bar_chart(&volume, amounts),
        bar_chart(&trades, |v| v.to_string()),
        balances,
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<StatsQuery>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Read)?;
    let t = auth.tr();
    let (months_wanted, months_error) = match months(&query) {
        Ok(n) => (n, None),
        Err(invalid) => (STATS_MONTHS_DEFAULT, Some(t.net_invalid(&invalid))),
    };
    let h = stats::network_health(&state.store, &actor, Utc::now(), months_wanted)
        .await
        .map_err(page_error)?;
    let (volume_chart, trades_chart, balance_chart) = charts(t, &h);
    let histogram: Vec<(String, u64)> = h
        .histogram
        .iter()
        .map(|b| (bucket_label(t, b), b.members))
        .collect();
    let histogram_values: Vec<(String, i64)> = histogram
        .iter()
        .map(|(label, n)| (label.clone(), i64::try_from(*n).unwrap_or(i64::MAX)))
        .collect();
    let sector_values: Vec<(String, i64)> = h
        .sectors
        .iter()
        .map(|s| (sector_label(t, &s.sector), s.net.minor()))
        .collect();
    let failed = months_error.is_some();
    let mut response = page(StatsTemplate {
        c: auth.chrome(),
        months_text: if query.months.is_empty() {
            STATS_MONTHS_DEFAULT.to_string()
        } else {
            query.months.clone()
        },
        months_max: STATS_MONTHS_MAX,
        months_error,
        members_total: h.members.total,
        members_active: h.members.active,
        members_frozen: h.members.frozen,
        members_closed: h.members.closed,
        active_short: h.active_short,
        active_long: h.active_long,
        velocity: or_dash(t, h.velocity.per_year.map(|v| t.net_decimal(v))),
        velocity_volume: t.lang.amount(h.velocity.volume),
        velocity_supply: t.lang.amount(h.velocity.average_money_supply),
        greco: or_dash(t, h.greco.days.map(|d| t.net_decimal(d))),
        greco_period_days: h.greco.period_days,
        greco_debt: t.lang.amount(h.greco.debt),
        greco_volume: t.lang.amount(h.greco.volume),
        months: h
            .months
            .iter()
            .map(|m| MonthView {
                label: m.label(),
                trades: m.trades,
                volume: t.lang.amount(m.volume),
                traders: m.traders,
                money_supply: t.lang.amount(m.money_supply),
                exposure: t.lang.amount(m.exposure),
            })
            .collect(),
        volume_chart,
        trades_chart,
        balance_chart,
        histogram_chart: bar_chart(&histogram_values, |v| v.to_string()),
        histogram,
        net_buyers: h
            .sectors
            .iter()
            .filter(|s| s.net.is_negative())
            .map(|s| sector_view(t, s))
            .collect(),
        net_sellers: h
            .sectors
            .iter()
            .rev()
            .filter(|s| !s.net.is_negative())
            .map(|s| sector_view(t, s))
            .collect(),
        sector_chart: bar_chart(&sector_values, |v| t.lang.amount(Amount::from_minor(v))),
        csv_query: format!("months={months_wanted}"),
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn health_for_csv(
    state: &AppState,
    auth: &Auth,
    query: &StatsQuery,
) -> AppResult<NetworkHealth> {
    let actor = actor(auth, Access::Read)?;
    let months = months(query).map_err(|_| AppError::BadRequest)?;
    stats::network_health(&state.store, &actor, Utc::now(), months)
        .await
        .map_err(page_error)
}

pub async fn monthly_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<StatsQuery>,
) -> AppResult<Response> {
    let h = health_for_csv(&state, &auth, &query).await?;
    let mut csv =
        String::from("month,trades,volume,traders,fund_balance,exposure,money_supply,debtors\r\n");
    for m in &h.months {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            m.label(),
            m.trades,
            plain(m.volume),
            m.traders,
            plain(m.fund_balance),
            plain(m.exposure),
            plain(m.money_supply),
            m.debtors
        ));
    }
    Ok(csv_response("troc-stats-monthly.csv", csv))
}

pub async fn sectors_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<StatsQuery>,
) -> AppResult<Response> {
    let h = health_for_csv(&state, &auth, &query).await?;
    let mut csv = String::from("sector,members,traders,sales,purchases,net,balance\r\n");
    for s in &h.sectors {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            csv_text(&s.sector),
            s.members,
            s.traders,
            plain(s.sales),
            plain(s.purchases),
            plain(s.net),
            plain(s.balance)
        ));
    }
    Ok(csv_response("troc-stats-sectors.csv", csv))
}

pub async fn balances_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<StatsQuery>,
) -> AppResult<Response> {
    let h = health_for_csv(&state, &auth, &query).await?;
    let mut csv = String::from("low,high,members\r\n");
    for b in &h.histogram {
        csv.push_str(&format!(
            "{},{},{}\r\n",
            b.low.map(plain).unwrap_or_default(),
            b.high.map(plain).unwrap_or_default(),
            b.members
        ));
    }
    Ok(csv_response("troc-stats-balances.csv", csv))
}
