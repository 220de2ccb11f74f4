//! `/open-data` and `/open-data.csv`: the public, anonymous statistics, served only when the
//! `open_data` setting is on (404 otherwise, like a page that does not exist).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use ledger::Amount;

use super::charts::{bar_chart, BarChart};
use super::stats::bucket_label;
use super::{csv_response, page_error, plain};
use crate::http::error::{AppError, AppResult};
use crate::http::i18n::Tr;
use crate::http::market::sector_label;
use crate::http::session::Ctx;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::network::open_data::{self, OpenData, Published, OTHER_SECTORS};
use crate::network::stats::BalanceBucket;

pub struct OpenMonthView {
    label: String,
    trades: String,
    volume: String,
}

pub struct OpenSectorView {
    label: String,
    members: u64,
    sales: String,
    purchases: String,
    net: String,
}

#[derive(Template)]
#[template(path = "open_data.html")]
struct OpenDataTemplate {
    c: Chrome,
    network_name: String,
    updated: String,
    members: u64,
    active_short: u64,
    active_long: u64,
    months: Vec<OpenMonthView>,
    volume_chart: Option<BarChart>,
    fund_balance: String,
    debt: String,
    coverage: String,
    greco: String,
    velocity: String,
    histogram: Vec<(String, String)>,
    sectors: Vec<OpenSectorView>,
}

fn shown<T>(t: Tr, value: &Published<T>, format: impl Fn(&T) -> String) -> String {
    match value {
        Published::Value(v) => format(v),
        Published::Suppressed => t.net_suppressed().to_owned(),
    }
}

fn decimal(t: Tr, value: &Option<rust_decimal::Decimal>) -> String {
    value
        .map(|d| t.net_decimal(d))
        .unwrap_or_else(|| t.net_not_available().to_owned())
}

async fn published(state: &AppState) -> AppResult<OpenData> {
    if !state.config.open_data_published() {
        return Err(AppError::NotFound);
    }
    open_data::open_data(&state.store, Utc::now())
        .await
        .map_err(page_error)
}

pub async fn show(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let data = published(&state).await?;
    let t = ctx.tr();
    let volumes: Vec<(String, i64)> = data
        .months
        .iter()
        .map(|m| {
            let v = m.volume.value().map(|a| a.minor()).unwrap_or(0);
            (m.month.format("%Y-%m").to_string(), v)
        })
        .collect();
    let a = |amount: &Amount| t.lang.amount(*amount);
    page(OpenDataTemplate {
        c: ctx.chrome(),
        network_name: state.store.network_name().await?.unwrap_or_default(),
        updated: t.net_time(data.now),
        members: data.members,
        active_short: data.active_short,
        active_long: data.active_long,
        months: data
            .months
            .iter()
            .map(|m| OpenMonthView {
                label: m.month.format("%Y-%m").to_string(),
                trades: shown(t, &m.trades, |n| n.to_string()),
                volume: shown(t, &m.volume, a),
            })
            .collect(),
        volume_chart: bar_chart(&volumes, |v| t.lang.amount(Amount::from_minor(v))),
        fund_balance: t.lang.amount(data.fund_balance),
        debt: shown(t, &data.debt, a),
        coverage: shown(t, &data.coverage_ratio, |d| decimal(t, d)),
        greco: shown(t, &data.greco_days, |d| decimal(t, d)),
        velocity: shown(t, &data.velocity, |d| decimal(t, d)),
        histogram: data
            .histogram
            .iter()
            .map(|b| {
                let bucket = BalanceBucket {
                    low: b.low,
                    high: b.high,
                    members: 0,
                };
                (
                    bucket_label(t, &bucket),
                    shown(t, &b.members, |n| n.to_string()),
                )
            })
            .collect(),
        sectors: data
            .sectors
            .iter()
            .map(|s| OpenSectorView {
                label: if s.sector == OTHER_SECTORS {
                    t.net_other_sectors().to_owned()
                } else {
                    sector_label(t, &s.sector)
                },
                members: s.members,
                sales: shown(t, &s.figures, |f| a(&f.0)),
                purchases: shown(t, &s.figures, |f| a(&f.1)),
                net: shown(t, &s.figures, |f| a(&f.2)),
            })
            .collect(),
    })
}

pub async fn csv(State(state): State<AppState>) -> AppResult<Response> {
    let data = published(&state).await?;
    let mut csv = String::from("month,trades,volume\r\n");
    for m in &data.months {
        let trades = m.trades.value().map(|n| n.to_string()).unwrap_or_default();
        let volume = m.volume.value().map(|v| plain(*v)).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{}\r\n",
            m.month.format("%Y-%m"),
            trades,
            volume
        ));
    }
    Ok(csv_response("troc-open-data.csv", csv))
}
