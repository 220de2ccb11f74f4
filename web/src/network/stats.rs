//! Network health: members, active traders, monthly volume and trades, the fund and the
//! exposure at each month end, velocity, the distribution of balances, sector imbalance and
//! the Greco indicator.
//!
//! **Definitions** (also in docs/console.md):
//! - a *trade* is a payment or a captured order (`payment`, `hold_capture`) that was not
//!   reversed; its *volume* is its principal (fees excluded);
//! - an *active trader* over N days bought or sold in a trade in the N days before now;
//! - the *money supply* at a time is the sum of the positive balances of member accounts;
//!   *exposure* the sum of their negative balances (as a positive amount);
//! - **velocity** (per year) = trade volume over the last 12 complete calendar months ÷ the
//!   average of the money supply at the end of each of those 12 months (how many times a
//!   unit of positive balance was spent in a year; Sardex reported about 12);
//! - **Greco indicator** = today's debt (exposure) ÷ the average daily trade volume over the
//!   last 3 complete calendar months: how many days of trade it would take to clear all debt
//!   (the Drupal `mutual_credit` module's figure; around 100 days is usual in business
//!   networks).
//!
//! **Bounded work.** A report reads the accounts (one row each), the members (one row each),
//! the monthly aggregates of `stats_cache` (one row per account and month, at most
//! [`STATS_MONTHS_MAX`] months plus the 12 of the velocity), after bringing them up to date
//! with the transactions committed since the last report; and two counts of active traders
//! that probe the `postings (account_id, time)` index once per member. It never scans the
//! postings of the period. Month-end balances are rebuilt from today's balances minus the
//! later months' nets.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use ledger::{Account, AccountId, AccountKind, AccountStatus, Amount};
use rust_decimal::{Decimal, RoundingStrategy};

use super::fund::MEMBERS_READ_MAX;
use super::stats_cache;
use super::{require, Access, InvalidInput, NetworkResult};
use crate::actor::Actor;
use crate::dispatch;
use crate::store::{Store, StoreError};

/// Months a health report covers at most.
pub const STATS_MONTHS_MAX: u32 = 24;
/// Months it covers by default.
pub const STATS_MONTHS_DEFAULT: u32 = 12;
/// Complete months the velocity is computed over.
pub const VELOCITY_MONTHS: u32 = 12;
/// Complete months the Greco indicator's average daily volume is taken over.
pub const GRECO_MONTHS: u32 = 3;
/// The active-trader windows, in days.
pub const ACTIVE_SHORT_DAYS: i64 = 30;
pub const ACTIVE_LONG_DAYS: i64 = 90;
/// Edges of the balance histogram, in units: buckets are below the first edge, between
/// consecutive edges, exactly zero, and above the last edge (see [`BalanceBucket`]).
pub const HISTOGRAM_EDGES_UNITS: [i64; 6] = [-10_000, -5_000, -1_000, 1_000, 5_000, 10_000];

/// The figures of one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    /// Its first day.
    pub month: NaiveDate,
    pub trades: u64,
    pub volume: Amount,
    /// Members who bought or sold in it.
    pub traders: u64,
    /// At the month's end (the current month: now).
    pub fund_balance: Amount,
    pub exposure: Amount,
    pub money_supply: Amount,
    pub debtors: u64,
}

impl MonthFigures {
    pub fn label(&self) -> String {
        self.month.format("%Y-%m").to_string()
    }
}

/// Members by status (member accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemberCounts {
    pub total: u64,
    pub active: u64,
    pub frozen: u64,
    pub closed: u64,
}

/// Open members whose balance is in a range of the histogram: `low < balance ≤ high` for
/// positive buckets, `low ≤ balance < high` for negative ones, exactly zero for the zero
/// bucket; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceBucket {
    pub low: Option<Amount>,
    pub high: Option<Amount>,
    pub members: u64,
}

impl BalanceBucket {
    pub fn is_zero(&self) -> bool {
        self.low == Some(Amount::ZERO) && self.high == Some(Amount::ZERO)
    }
}

/// One sector's trade over the report's months, and its members' balances today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectorFigures {
    pub sector: String,
    /// Open members of the sector.
    pub members: u64,
    /// Members of the sector who traded in the report's months.
    pub traders: u64,
    pub sales: Amount,
    pub purchases: Amount,
    /// Sales − purchases: positive for a net seller sector, negative for a net buyer.
    pub net: Amount,
    pub balance: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Velocity {
    /// Trade volume over the last [`VELOCITY_MONTHS`] complete months.
    pub volume: Amount,
    /// Average money supply at their month ends.
    pub average_money_supply: Amount,
    /// volume ÷ average, 2 decimals; `None` when there was no positive balance.
    pub per_year: Option<Decimal>,
    /// Members who traded in those months.
    pub traders: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greco {
    /// Today's exposure.
    pub debt: Amount,
    /// Trade volume over the last [`GRECO_MONTHS`] complete months.
    pub volume: Amount,
    /// The days in those months.
    pub period_days: u32,
    /// debt ÷ (volume ÷ period_days), 1 decimal; `None` without trade.
    pub days: Option<Decimal>,
    /// Members who traded in those months.
    pub traders: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkHealth {
    pub now: DateTime<Utc>,
    pub members: MemberCounts,
    pub active_short: u64,
    pub active_long: u64,
    /// The report's months, oldest first; the last is the current month.
    pub months: Vec<MonthFigures>,
    pub velocity: Velocity,
    pub greco: Greco,
    pub histogram: Vec<BalanceBucket>,
    /// Net buyer sectors first (most negative net), then net sellers.
    pub sectors: Vec<SectorFigures>,
    /// Open members in debt, and with a positive balance, today.
    pub debtors: u64,
    pub creditors: u64,
}

/// Checks a month count (1 to [`STATS_MONTHS_MAX`]).
pub fn months_in_range(months: u32) -> Result<u32, InvalidInput> {
    if (1..=STATS_MONTHS_MAX).contains(&months) {
        Ok(months)
    } else {
        Err(InvalidInput::MonthsOutOfRange {
            max: STATS_MONTHS_MAX,
        })
    }
}

/// The health report over the `months` months up to `now` (managers and accountants).
pub async fn network_health(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
    months: u32,
) -> NetworkResult<NetworkHealth> {
    require(actor, Access::Read)?;
    compute(store, now, months_in_range(months)?).await
}

fn first_of_month(time: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(time.year(), time.month(), 1).expect("the first of a month exists")
}

fn month_key(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

/// What the report is computed from.
#[derive(Debug, Default)]
pub(crate) struct Raw {
    pub(crate) accounts: Vec<Account>,
    /// Sector by member account.
    pub(crate) sectors: HashMap<AccountId, String>,
    /// Net postings per (account, `YYYY-MM`), from the first month read on.
    pub(crate) deltas: HashMap<(AccountId, String), i64>,
    /// Trades per (account, `YYYY-MM`): (sales, number of sales, purchases).
    pub(crate) trades: HashMap<(AccountId, String), (i64, i64, i64)>,
    /// Active traders over the short and long windows.
    pub(crate) active_short: u64,
    pub(crate) active_long: u64,
}

/// Members who traded (bought or sold in a trade not reversed) at a time in `[from, to)`:
/// one probe of the `postings (account_id, time)` index per member account. A scalar
/// subquery with `LIMIT 1` rather than `EXISTS`, so that PostgreSQL keeps the probe per
/// account instead of turning it into a join over the period's transactions.
const ACTIVE_SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM accounts a \
     WHERE a.kind = 'member' AND (SELECT 1 FROM postings p \
     JOIN transactions t ON t.id = p.tx_id \
     WHERE p.account_id = a.id AND p.time >= $1 AND p.time < $2 AND p.leg = 'principal' \
     AND t.kind IN ('payment', 'hold_capture') \
     AND NOT EXISTS (SELECT 1 FROM transactions r WHERE r.reverses = t.id) LIMIT 1) IS NOT NULL";

pub(crate) async fn compute(
    store: &Store,
    now: DateTime<Utc>,
    months: u32,
) -> NetworkResult<NetworkHealth> {
    let current = first_of_month(now);
    let back = (months - 1).max(VELOCITY_MONTHS);
    let first = current
        .checked_sub_months(Months::new(back))
        .expect("a few months back exists");
    let raw = read(store, now, &month_key(first)).await?;
    Ok(assemble(&raw, now, months))
}

async fn read(store: &Store, now: DateTime<Utc>, first: &str) -> NetworkResult<Raw> {
    stats_cache::refresh(store, now).await?;
    let rows = stats_cache::rows_since(store, first).await?;
    let short_from = now - Duration::days(ACTIVE_SHORT_DAYS);
    let long_from = now - Duration::days(ACTIVE_LONG_DAYS);
    let (active_short, active_long): (i64, i64) = dispatch!(store.backend(), pool => {
        let short = sqlx::query_scalar(ACTIVE_SQL).bind(short_from).bind(now)
            .fetch_one(pool).await.map_err(StoreError::from)?;
        let long = sqlx::query_scalar(ACTIVE_SQL).bind(long_from).bind(now)
            .fetch_one(pool).await.map_err(StoreError::from)?;
        (short, long)
    });
    let deltas = rows
        .iter()
        .map(|(key, row)| (key.clone(), row.net))
        .collect();
    let trades = rows
        .iter()
        .filter(|(_, row)| row.traded())
        .map(|(key, row)| (key.clone(), (row.sales, row.sales_count, row.purchases)))
        .collect();
    Ok(Raw {
        accounts: store.accounts().await?,
        sectors: crate::people::members(store, MEMBERS_READ_MAX)
            .await?
            .into_iter()
            .map(|member| (member.account(), member.sector))
            .collect(),
        deltas,
        trades,
        active_short: u64::try_from(active_short).unwrap_or(0),
        active_long: u64::try_from(active_long).unwrap_or(0),
    })
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn sum_amount(values: impl Iterator<Item = i64>) -> Amount {
    let total: i128 = values.map(i128::from).sum();
    Amount::from_minor(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// `numerator ÷ denominator` rounded half away from zero to `scale` decimals.
fn ratio(numerator: i128, denominator: i128, scale: u32) -> Option<Decimal> {
    if denominator <= 0 {
        return None;
    }
    let n = Decimal::from_i128_with_scale(numerator, 0);
    let d = Decimal::from_i128_with_scale(denominator, 0);
    let mut value = n
        .checked_div(d)?
        .round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(scale);
    Some(value)
}

/// Balances of every account at the end of each month of `keys` (ascending `YYYY-MM`, the
/// last being the current month), rebuilt from today's balances minus later postings.
fn month_end_balances(raw: &Raw, keys: &[String]) -> Vec<HashMap<AccountId, i64>> {
    let mut per_account: HashMap<AccountId, BTreeMap<&str, i64>> = HashMap::new();
    for ((account, month), delta) in &raw.deltas {
        *per_account
            .entry(*account)
            .or_default()
            .entry(month.as_str())
            .or_insert(0) += delta;
    }
    let mut result = vec![HashMap::with_capacity(raw.accounts.len()); keys.len()];
    let last = keys.last().map(String::as_str).unwrap_or("");
    for account in &raw.accounts {
        let deltas = per_account.get(&account.id());
        // Postings dated after the current month are not yet part of any month end.
        let mut running = i128::from(account.balance().minor())
            - deltas
                .map(|d| {
                    d.range::<str, _>((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                        .map(|(_, v)| i128::from(*v))
                        .sum::<i128>()
                })
                .unwrap_or(0);
        for (i, key) in keys.iter().enumerate().rev() {
            result[i].insert(account.id(), running as i64);
            running -= deltas
                .and_then(|d| d.get(key.as_str()))
                .map(|v| i128::from(*v))
                .unwrap_or(0);
        }
    }
    result
}

/// The pure part: the report from what was read.
pub(crate) fn assemble(raw: &Raw, now: DateTime<Utc>, months: u32) -> NetworkHealth {
    let current = first_of_month(now);
    let back = (months - 1).max(VELOCITY_MONTHS);
    let all_months: Vec<NaiveDate> = (0..=back)
        .rev()
        .map(|n| {
            current
                .checked_sub_months(Months::new(n))
                .expect("months back exist")
        })
        .collect();
    let keys: Vec<String> = all_months.iter().map(|m| month_key(*m)).collect();
    let balances = month_end_balances(raw, &keys);
    let members: Vec<&Account> = raw
        .accounts
        .iter()
        .filter(|a| a.kind() == AccountKind::Member)
        .collect();
    let fund = raw
        .accounts
        .iter()
        .find(|a| a.kind() == AccountKind::GuaranteeFund)
        .map(Account::id);
    // Grouped once: each month then reads only its own traders.
    let mut trades_by_month: HashMap<&str, Vec<(i64, i64, i64)>> = HashMap::new();
    for ((_, month), trade) in &raw.trades {
        trades_by_month
            .entry(month.as_str())
            .or_default()
            .push(*trade);
    }
    let figures: Vec<MonthFigures> = all_months
        .iter()
        .zip(&keys)
        .zip(&balances)
        .map(|((month, key), balances)| {
            let trades = trades_by_month
                .get(key.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            month_figures(*month, trades, balances, &members, fund)
        })
        .collect();
    let window_start = figures.len() - months as usize;
    let velocity_months = &figures[figures.len() - 1 - VELOCITY_MONTHS as usize..figures.len() - 1];
    let velocity = velocity(raw, velocity_months);
    let open: Vec<&Account> = members
        .iter()
        .copied()
        .filter(|a| a.status() != AccountStatus::Closed)
        .collect();
    let debt: i64 = open
        .iter()
        .map(|a| a.balance().minor())
        .filter(|b| *b < 0)
        .map(i64::saturating_neg)
        .sum();
    let greco_months = &figures[figures.len() - 1 - GRECO_MONTHS as usize..figures.len() - 1];
    let greco = greco(raw, greco_months, debt);
    let window_keys = &keys[window_start..];
    NetworkHealth {
        now,
        members: member_counts(&members),
        active_short: raw.active_short,
        active_long: raw.active_long,
        months: figures[window_start..].to_vec(),
        velocity,
        greco,
        histogram: histogram(&open),
        sectors: sectors(raw, &open, window_keys),
        debtors: count(open.iter().filter(|a| a.balance().is_negative()).count()),
        creditors: count(open.iter().filter(|a| a.balance().is_positive()).count()),
    }
}

/// One month's figures from its traders' (sales, number of sales, purchases) and the
/// month-end balances.
fn month_figures(
    month: NaiveDate,
    trades: &[(i64, i64, i64)],
    balances: &HashMap<AccountId, i64>,
    members: &[&Account],
    fund: Option<AccountId>,
) -> MonthFigures {
    let member_balances: Vec<i64> = members
        .iter()
        .map(|a| balances.get(&a.id()).copied().unwrap_or(0))
        .collect();
    MonthFigures {
        month,
        trades: u64::try_from(trades.iter().map(|t| t.1).sum::<i64>()).unwrap_or(0),
        volume: sum_amount(trades.iter().map(|t| t.0)),
        traders: count(trades.len()),
        fund_balance: Amount::from_minor(fund.and_then(|f| balances.get(&f).copied()).unwrap_or(0)),
        exposure: sum_amount(
            member_balances
                .iter()
                .filter(|b| **b < 0)
                .map(|b| b.saturating_neg()),
        ),
        money_supply: sum_amount(member_balances.iter().copied().filter(|b| *b > 0)),
        debtors: count(member_balances.iter().filter(|b| **b < 0).count()),
    }
}

/// Members who traded in `months`.
fn traders_in(raw: &Raw, months: &[MonthFigures]) -> u64 {
    let keys: Vec<String> = months.iter().map(MonthFigures::label).collect();
    let mut traders: Vec<AccountId> = raw
        .trades
        .keys()
        .filter(|(_, m)| keys.contains(m))
        .map(|(a, _)| *a)
        .collect();
    traders.sort_unstable();
    traders.dedup();
    count(traders.len())
}

fn days_in(month: NaiveDate) -> u32 {
    let next = month
        .checked_add_months(Months::new(1))
        .expect("next month exists");
    u32::try_from((next - month).num_days()).unwrap_or(0)
}

fn greco(raw: &Raw, months: &[MonthFigures], debt: i64) -> Greco {
    let volume: i128 = months.iter().map(|m| i128::from(m.volume.minor())).sum();
    let period_days: u32 = months.iter().map(|m| days_in(m.month)).sum();
    Greco {
        debt: Amount::from_minor(debt),
        volume: Amount::from_minor(volume.clamp(0, i128::from(i64::MAX)) as i64),
        period_days,
        // debt ÷ (volume ÷ days) = debt × days ÷ volume, exactly.
        days: ratio(i128::from(debt) * i128::from(period_days), volume, 1),
        traders: traders_in(raw, months),
    }
}

fn velocity(raw: &Raw, months: &[MonthFigures]) -> Velocity {
    let volume: i128 = months.iter().map(|m| i128::from(m.volume.minor())).sum();
    let supply: i128 = months
        .iter()
        .map(|m| i128::from(m.money_supply.minor()))
        .sum();
    let n = i128::from(u32::try_from(months.len()).unwrap_or(1).max(1));
    Velocity {
        volume: Amount::from_minor(volume.clamp(0, i128::from(i64::MAX)) as i64),
        average_money_supply: Amount::from_minor((supply / n).clamp(0, i128::from(i64::MAX)) as i64),
        // volume ÷ (supply ÷ n) = volume × n ÷ supply, exactly.
        per_year: ratio(volume * n, supply, 2),
        traders: traders_in(raw, months),
    }
}

fn member_counts(members: &[&Account]) -> MemberCounts {
    let with = |status| count(members.iter().filter(|a| a.status() == status).count());
    MemberCounts {
        total: count(members.len()),
        active: with(AccountStatus::Active),
        frozen: with(AccountStatus::Frozen),
        closed: with(AccountStatus::Closed),
    }
}

/// The buckets of [`HISTOGRAM_EDGES_UNITS`], lowest first, with the zero bucket in the middle.
fn histogram(open: &[&Account]) -> Vec<BalanceBucket> {
    let edges: Vec<Amount> = HISTOGRAM_EDGES_UNITS
        .iter()
        .map(|u| Amount::from_units(*u))
        .collect();
    let mut buckets = Vec::with_capacity(edges.len() + 2);
    let negative: Vec<Amount> = edges.iter().copied().filter(|e| e.is_negative()).collect();
    let positive: Vec<Amount> = edges.iter().copied().filter(|e| e.is_positive()).collect();
    let mut low = None;
    for high in negative.iter().copied().chain([Amount::ZERO]) {
        buckets.push(BalanceBucket {
            low,
            high: Some(high),
            members: 0,
        });
        low = Some(high);
    }
    buckets.push(BalanceBucket {
        low: Some(Amount::ZERO),
        high: Some(Amount::ZERO),
        members: 0,
    });
    let mut low = Amount::ZERO;
    for high in positive.iter().copied().map(Some).chain([None]) {
        buckets.push(BalanceBucket {
            low: Some(low),
            high,
            members: 0,
        });
        low = high.unwrap_or(low);
    }
    for account in open {
        let b = account.balance();
        let index = buckets.iter().position(|bucket| in_bucket(bucket, b));
        if let Some(i) = index {
            buckets[i].members += 1;
        }
    }
    buckets
}

fn in_bucket(bucket: &BalanceBucket, balance: Amount) -> bool {
    if bucket.is_zero() {
        return balance.is_zero();
    }
    let negative_side = bucket.high.is_some_and(|h| h <= Amount::ZERO);
    if negative_side {
        bucket.low.is_none_or(|l| l <= balance) && bucket.high.is_some_and(|h| balance < h)
    } else {
        bucket.low.is_some_and(|l| l < balance) && bucket.high.is_none_or(|h| balance <= h)
    }
}

fn sectors(raw: &Raw, open: &[&Account], window_keys: &[String]) -> Vec<SectorFigures> {
    let mut by_sector: BTreeMap<&str, SectorFigures> = BTreeMap::new();
    for account in open {
        let Some(sector) = raw.sectors.get(&account.id()) else {
            continue;
        };
        let figures = by_sector
            .entry(sector.as_str())
            .or_insert_with(|| empty_sector(sector));
        figures.members += 1;
        figures.balance = figures
            .balance
            .checked_add(account.balance())
            .unwrap_or(figures.balance);
    }
    let mut traders: HashMap<&str, Vec<AccountId>> = HashMap::new();
    for ((account, month), (sales, _, purchases)) in &raw.trades {
        if !window_keys.contains(month) {
            continue;
        }
        let Some(sector) = raw.sectors.get(account) else {
            continue;
        };
        let figures = by_sector
            .entry(sector.as_str())
            .or_insert_with(|| empty_sector(sector));
        figures.sales = Amount::from_minor(figures.sales.minor().saturating_add(*sales));
        figures.purchases =
            Amount::from_minor(figures.purchases.minor().saturating_add(*purchases));
        traders.entry(sector.as_str()).or_default().push(*account);
    }
    let mut list: Vec<SectorFigures> = by_sector
        .into_iter()
        .map(|(sector, mut figures)| {
            figures.net = Amount::from_minor(
                figures
                    .sales
                    .minor()
                    .saturating_sub(figures.purchases.minor()),
            );
            if let Some(accounts) = traders.get_mut(sector) {
                accounts.sort_unstable();
                accounts.dedup();
                figures.traders = count(accounts.len());
            }
            figures
        })
        .collect();
    list.sort_by(|a, b| a.net.cmp(&b.net).then_with(|| a.sector.cmp(&b.sector)));
    list
}

fn empty_sector(sector: &str) -> SectorFigures {
    SectorFigures {
        sector: sector.to_owned(),
        members: 0,
        traders: 0,
        sales: Amount::ZERO,
        purchases: Amount::ZERO,
        net: Amount::ZERO,
        balance: Amount::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, units: i64) -> Account {
        Account::from_parts(
            AccountId(id),
            AccountKind::Member,
            AccountStatus::Active,
            Amount::from_units(units),
            Amount::ZERO,
            Amount::from_units(100_000),
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn histogram_edges_belong_to_the_bucket_nearer_zero() {
        let accounts: Vec<Account> = [-10_001, -10_000, -1_000, -1, 0, 1, 1_000, 1_001, 10_001]
            .iter()
            .enumerate()
            .map(|(i, u)| member(i as u64 + 1, *u))
            .collect();
        let open: Vec<&Account> = accounts.iter().collect();
        let counts: Vec<u64> = histogram(&open).iter().map(|b| b.members).collect();
        // < −10 000 | [−10 000, −5 000) | [−5 000, −1 000) | [−1 000, 0) | 0 | (0, 1 000] |
        // (1 000, 5 000] | (5 000, 10 000] | > 10 000
        assert_eq!(counts, [1, 1, 0, 2, 1, 2, 1, 0, 1]);
    }

    #[test]
    fn velocity_and_greco_round_half_away_from_zero() {
        assert_eq!(ratio(89_100, 2_000, 1), Some(Decimal::new(446, 1)));
        assert_eq!(ratio(20_400, 2_110, 2), Some(Decimal::new(967, 2)));
        assert_eq!(ratio(1, 0, 2), None);
        assert_eq!(days_in(NaiveDate::from_ymd_opt(2028, 2, 1).unwrap()), 29);
    }
}
