//! The open-data page: aggregated, anonymous statistics for local authorities, published
//! only when the `open_data` setting is on (off by default).
//!
//! **The suppression rule.** No member's name, and no figure about one member: every figure
//! is an aggregate, and an aggregate is published only when it covers at least
//! [`OPEN_DATA_MEMBERS_MIN`] member companies; otherwise it is shown as suppressed. In
//! detail: a month's trades and volume need that many traders in the month; a sector is
//! listed on its own with that many members (smaller sectors are pooled into « other
//! sectors »), and its sales and purchases are shown when that many of its members traded; a histogram bucket's count is shown
//! when it is zero or at least that many; the debt, coverage ratio and Greco indicator need
//! that many debtors (and traders over the Greco window); the velocity needs that many
//! traders over its months and that many members with a positive balance. Counts of members
//! and active traders are published as they are (a count says nothing about anyone).

use chrono::{DateTime, NaiveDate, Utc};
use ledger::fund::FundMetrics;
use ledger::Amount;
use rust_decimal::Decimal;

use super::stats::{self, BalanceBucket, NetworkHealth};
use super::NetworkResult;
use crate::store::Store;

/// Fewest member companies an aggregate must cover to be published.
pub const OPEN_DATA_MEMBERS_MIN: u64 = 3;
/// Months the open data covers.
pub const OPEN_DATA_MONTHS: u32 = 12;
/// The pooled sector's code.
pub const OTHER_SECTORS: &str = "other";

/// A published figure, or why it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published<T> {
    Value(T),
    /// Covers fewer than [`OPEN_DATA_MEMBERS_MIN`] members.
    Suppressed,
}

impl<T> Published<T> {
    fn when(members: u64, value: T) -> Published<T> {
        if members >= OPEN_DATA_MEMBERS_MIN {
            Published::Value(value)
        } else {
            Published::Suppressed
        }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Published::Value(value) => Some(value),
            Published::Suppressed => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenMonth {
    pub month: NaiveDate,
    pub trades: Published<u64>,
    pub volume: Published<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBucket {
    pub low: Option<Amount>,
    pub high: Option<Amount>,
    pub members: Published<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSector {
    /// A sector code, or [`OTHER_SECTORS`].
    pub sector: String,
    pub members: u64,
    pub figures: Published<(Amount, Amount, Amount)>,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenData {
    pub now: DateTime<Utc>,
    pub members: u64,
    pub active_short: u64,
    pub active_long: u64,
    pub months: Vec<OpenMonth>,
    pub fund_balance: Amount,
    pub debt: Published<Amount>,
    pub coverage_ratio: Published<Option<Decimal>>,
    pub greco_days: Published<Option<Decimal>>,
    pub velocity: Published<Option<Decimal>>,
    pub histogram: Vec<OpenBucket>,
    pub sectors: Vec<OpenSector>,
}

/// The anonymous report (no actor: the page is public when the setting is on).
pub async fn open_data(store: &Store, now: DateTime<Utc>) -> NetworkResult<OpenData> {
    let health = stats::compute(store, now, OPEN_DATA_MONTHS).await?;
    let accounts = store.accounts().await?;
    Ok(anonymise(&health, &ledger::fund::fund_metrics(&accounts)))
}

/// The pure rule, applied to a health report.
pub fn anonymise(health: &NetworkHealth, fund: &FundMetrics) -> OpenData {
    let debtors = health.debtors;
    let greco_members = debtors.min(health.greco.traders);
    let velocity_members = health.velocity.traders.min(health.creditors);
    OpenData {
        now: health.now,
        members: health.members.total - health.members.closed,
        active_short: health.active_short,
        active_long: health.active_long,
        months: health
            .months
            .iter()
            .map(|m| OpenMonth {
                month: m.month,
                trades: Published::when(m.traders, m.trades),
                volume: Published::when(m.traders, m.volume),
            })
            .collect(),
        fund_balance: fund.fund_balance,
        debt: Published::when(debtors, fund.exposure),
        coverage_ratio: Published::when(debtors, fund.coverage_ratio),
        greco_days: Published::when(greco_members, health.greco.days),
        velocity: Published::when(velocity_members, health.velocity.per_year),
        histogram: health.histogram.iter().map(open_bucket).collect(),
        sectors: open_sectors(health),
    }
}

fn open_bucket(bucket: &BalanceBucket) -> OpenBucket {
    let members = if bucket.members == 0 {
        Published::Value(0)
    } else {
        Published::when(bucket.members, bucket.members)
    };
    OpenBucket {
        low: bucket.low,
        high: bucket.high,
        members,
    }
}

fn open_sectors(health: &NetworkHealth) -> Vec<OpenSector> {
    let mut listed = Vec::new();
    let mut other = OpenSector {
        sector: OTHER_SECTORS.to_owned(),
        members: 0,
        figures: Published::Suppressed,
    };
    let (mut sales, mut purchases, mut traders) = (0i64, 0i64, 0u64);
    for sector in &health.sectors {
        let figures = (sector.sales, sector.purchases, sector.net);
        if sector.members >= OPEN_DATA_MEMBERS_MIN {
            listed.push(OpenSector {
                sector: sector.sector.clone(),
                members: sector.members,
                figures: Published::when(sector.traders, figures),
            });
        } else {
            other.members += sector.members;
            traders += sector.traders;
            sales = sales.saturating_add(sector.sales.minor());
            purchases = purchases.saturating_add(sector.purchases.minor());
        }
    }
    if other.members > 0 || traders > 0 {
        other.figures = Published::when(
            other.members.min(traders),
            (
                Amount::from_minor(sales),
                Amount::from_minor(purchases),
                Amount::from_minor(sales.saturating_sub(purchases)),
            ),
        );
        listed.push(other);
    }
    listed
}
