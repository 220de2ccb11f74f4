//! The review lists: members near their credit limit, members near their upper limit (soon
//! nobody can pay them), members negative for too long (the network's return-to-zero rule),
//! members whose positive balance keeps growing (they need to buy), and limit reviews due. Each rule is defined here precisely and in
//! `docs/console.md`; the thresholds are the console's settings.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ledger::{AccountId, AccountStatus, Amount};
use sqlx::Row;

use super::members::{all_rows, MemberRow};
use super::settings::Settings;
use super::{Actor, ConsoleResult};
use crate::dispatch;
use crate::store::Store;

/// The length of a "month" in the growth rule and the suggested limit: 30 days, rolling,
/// so a list means the same thing on any day of the month.
pub const MONTH_DAYS: i64 = 30;
/// Most members one review list shows.
pub const REVIEW_ROWS_MAX: usize = 500;

/// A member near one of its limits: it uses `used` of it, that is `used_pct` % of it. Of its
/// credit limit, `used` is its balance below zero plus what open holds reserve; of its upper
/// limit, its balance above zero.
#[derive(Debug, Clone)]
pub struct NearLimit {
    pub row: MemberRow,
    pub used: Amount,
    pub used_pct: i64,
}

/// Members (not closed) with a credit limit whose use (−balance + pending) is at least
/// `near_limit_pct` % of it, or who are beyond it (a limit lowered below their debt); most
/// used first.
pub async fn near_limit(
    store: &Store,
    actor: &Actor,
    settings: &Settings,
) -> ConsoleResult<Vec<NearLimit>> {
    actor.require_reader()?;
    Ok(near_limit_of(&all_rows(store).await?, settings))
}

fn near_limit_of(rows: &[MemberRow], settings: &Settings) -> Vec<NearLimit> {
    let list: Vec<NearLimit> = rows
        .iter()
        .filter(|r| r.account.status() != AccountStatus::Closed)
        .filter_map(|row| {
            let used = i128::from(row.account.pending().minor())
                - i128::from(row.account.balance().minor());
            if used <= 0 {
                return None;
            }
            let limit = i128::from(row.account.credit_limit().minor());
            near(row, used, limit, settings)
        })
        .collect();
    fullest_first(list)
}

/// The member as near its limit when `used` (> 0) is at least `near_limit_pct` % of
/// `limit` (a zero limit: always, at `i64::MAX` %).
fn near(row: &MemberRow, used: i128, limit: i128, settings: &Settings) -> Option<NearLimit> {
    let used_pct = if limit == 0 {
        i64::MAX
    } else {
        i64::try_from(used * 100 / limit).unwrap_or(i64::MAX)
    };
    (used_pct >= settings.near_limit_pct).then(|| NearLimit {
        used: Amount::from_minor(i64::try_from(used).unwrap_or(i64::MAX)),
        used_pct,
        row: row.clone(),
    })
}

/// Most used first, then the largest use; at most [`REVIEW_ROWS_MAX`].
fn fullest_first(mut list: Vec<NearLimit>) -> Vec<NearLimit> {
    list.sort_by(|a, b| b.used_pct.cmp(&a.used_pct).then(b.used.cmp(&a.used)));
    list.truncate(REVIEW_ROWS_MAX);
    list
}

/// A member negative since `since` (the ledger's `negative_since`: when its balance last
/// went below zero), for `days` full days.
#[derive(Debug, Clone)]
pub struct LongNegative {
    pub row: MemberRow,
    pub since: DateTime<Utc>,
    pub days: i64,
}

/// Members (not closed) whose balance has been below zero for more than `negative_days`
/// days without coming back to zero; longest first.
pub async fn negative_too_long(
    store: &Store,
    actor: &Actor,
    settings: &Settings,
    now: DateTime<Utc>,
) -> ConsoleResult<Vec<LongNegative>> {
    actor.require_reader()?;
    Ok(negative_of(&all_rows(store).await?, settings, now))
}

fn negative_of(rows: &[MemberRow], settings: &Settings, now: DateTime<Utc>) -> Vec<LongNegative> {
    let mut list: Vec<LongNegative> = rows
        .iter()
        .filter(|r| r.account.status() != AccountStatus::Closed)
        .filter_map(|row| {
            let since = row.account.negative_since()?;
            let days = (now - since).num_days();
            (row.account.balance().is_negative() && days > settings.negative_days).then(|| {
                LongNegative {
                    row: row.clone(),
                    since,
                    days,
                }
            })
        })
        .collect();
    list.sort_by_key(|n| n.since);
    list.truncate(REVIEW_ROWS_MAX);
    list
}

/// Members (not closed) with an upper limit whose positive balance is at least
/// `near_limit_pct` % of it, or above it (an upper limit lowered below their balance); the
/// fullest first. Past it, the ledger refuses every payment to them.
fn near_max_of(rows: &[MemberRow], settings: &Settings) -> Vec<NearLimit> {
    let list: Vec<NearLimit> = rows
        .iter()
        .filter(|r| r.account.status() != AccountStatus::Closed)
        .filter_map(|row| {
            let max = i128::from(row.account.max_balance()?.minor());
            let held = i128::from(row.account.balance().minor());
            if held <= 0 {
                return None;
            }
            near(row, held, max, settings)
        })
        .collect();
    fullest_first(list)
}

/// A member whose positive balance grew over each period: `balances` are its balances at
/// the start of each period and now, oldest first.
#[derive(Debug, Clone)]
pub struct Growing {
    pub row: MemberRow,
    pub balances: Vec<Amount>,
}

/// The checkpoints of the growth rule: `now − k × 30 days` for k = `periods` down to 0.
pub fn checkpoints(now: DateTime<Utc>, periods: i64) -> Vec<DateTime<Utc>> {
    (0..=periods)
        .rev()
        .map(|k| now - Duration::days(k * MONTH_DAYS))
        .collect()
}

/// Whether balances (oldest first) are all positive and strictly increasing.
pub fn keeps_growing(balances: &[Amount]) -> bool {
    balances.len() >= 2
        && balances.iter().all(|b| b.is_positive())
        && balances.windows(2).all(|w| w[0] < w[1])
}

/// Members (not closed) whose balance was positive at each of the checkpoints
/// `now − k × 30 days` (k = `growth_months` … 0) and went up from each checkpoint to the
/// next: they sell and do not buy, so the network should help them spend. Largest first.
pub async fn growing(
    store: &Store,
    actor: &Actor,
    settings: &Settings,
    now: DateTime<Utc>,
) -> ConsoleResult<Vec<Growing>> {
    actor.require_reader()?;
    growing_of(store, all_rows(store).await?, settings, now).await
}

async fn growing_of(
    store: &Store,
    rows: Vec<MemberRow>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> ConsoleResult<Vec<Growing>> {
    let points = checkpoints(now, settings.growth_months);
    let rows: Vec<MemberRow> = rows
        .into_iter()
        .filter(|r| {
            r.account.status() != AccountStatus::Closed && r.account.balance().is_positive()
        })
        .collect();
    let since = nets_since(store, &points[..points.len() - 1]).await?;
    let mut list: Vec<Growing> = rows
        .into_iter()
        .filter_map(|row| {
            let balance = row.account.balance().minor();
            let nets = since.get(&row.member.account());
            let mut balances: Vec<Amount> = (0..points.len() - 1)
                .map(|k| Amount::from_minor(balance - nets.map(|n| n[k]).unwrap_or(0)))
                .collect();
            balances.push(row.account.balance());
            keeps_growing(&balances).then_some(Growing { row, balances })
        })
        .collect();
    list.sort_by_key(|g| std::cmp::Reverse(g.row.account.balance()));
    list.truncate(REVIEW_ROWS_MAX);
    Ok(list)
}

/// For each account with postings since the earliest of `times`, the net of its postings
/// at or after each time (one pass over the postings of the window).
async fn nets_since(
    store: &Store,
    times: &[DateTime<Utc>],
) -> ConsoleResult<HashMap<AccountId, Vec<i64>>> {
    let Some(earliest) = times.first() else {
        return Ok(HashMap::new());
    };
    // Placeholders only: the text varies with the number of periods, never with data.
    let columns: Vec<String> = (0..times.len())
        .map(|k| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN time >= ${} THEN amount ELSE 0 END), 0) AS BIGINT)",
                k + 2
            )
        })
        .collect();
    let sql = format!(
        "SELECT account_id, {} FROM postings WHERE time >= $1 GROUP BY account_id",
        columns.join(", ")
    );
    let mut nets = HashMap::new();
    dispatch!(store.backend(), pool => {
        let mut query = sqlx::query(&sql).bind(*earliest);
        for time in times {
            query = query.bind(*time);
        }
        for row in query.fetch_all(pool).await? {
            let account: i64 = row.try_get(0)?;
            let mut values = Vec::with_capacity(times.len());
            for k in 0..times.len() {
                values.push(row.try_get::<i64, _>(k + 1)?);
            }
            nets.insert(AccountId(account.max(0) as u64), values);
        }
    });
    Ok(nets)
}

/// Members whose next limit review is due (on or before `today`); earliest first.
fn due_of(rows: &[MemberRow], today: NaiveDate) -> Vec<MemberRow> {
    let mut list: Vec<MemberRow> = rows
        .iter()
        .filter(|r| r.account.status() != AccountStatus::Closed)
        .filter(|r| r.fields.next_review.is_some_and(|d| d <= today))
        .cloned()
        .collect();
    list.sort_by_key(|r| r.fields.next_review);
    list.truncate(REVIEW_ROWS_MAX);
    list
}

/// How many members the console's landing page points at: reviews due, and members near
/// their upper limit (soon nobody can pay them). One read of the members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionCounts {
    pub reviews_due: usize,
    pub near_max: usize,
}

pub async fn attention_counts(
    store: &Store,
    actor: &Actor,
    settings: &Settings,
    today: NaiveDate,
) -> ConsoleResult<AttentionCounts> {
    actor.require_reader()?;
    let rows = all_rows(store).await?;
    Ok(AttentionCounts {
        reviews_due: due_of(&rows, today).len(),
        near_max: near_max_of(&rows, settings).len(),
    })
}

/// The five lists at once, over one read of the members (the review page).
pub struct ReviewLists {
    /// The negative balances by the step of the return-to-zero rule their spell reached
    /// (`crate::zero::ageing`).
    pub ageing: Vec<crate::zero::Bucket>,
    pub near_limit: Vec<NearLimit>,
    pub near_max: Vec<NearLimit>,
    pub negative_too_long: Vec<LongNegative>,
    pub growing: Vec<Growing>,
    pub reviews_due: Vec<MemberRow>,
}

pub async fn lists(
    store: &Store,
    actor: &Actor,
    settings: &Settings,
    now: DateTime<Utc>,
) -> ConsoleResult<ReviewLists> {
    actor.require_reader()?;
    let rows = all_rows(store).await?;
    let rule = crate::zero::Rule::new(settings.negative_days).unwrap_or_default();
    Ok(ReviewLists {
        ageing: crate::zero::ageing(rule, rows.iter().map(|r| &r.account), now),
        near_limit: near_limit_of(&rows, settings),
        near_max: near_max_of(&rows, settings),
        negative_too_long: negative_of(&rows, settings, now),
        reviews_due: due_of(&rows, now.date_naive()),
        growing: growing_of(store, rows, settings, now).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(units: i64) -> Amount {
        Amount::from_units(units)
    }

    #[test]
    fn growth_means_positive_and_up_over_each_period() {
        assert!(keeps_growing(&[a(1), a(2), a(3), a(4)]));
        assert!(!keeps_growing(&[a(1), a(2), a(2), a(4)]), "flat once");
        assert!(
            !keeps_growing(&[a(0), a(2), a(3), a(4)]),
            "zero at the start"
        );
        assert!(!keeps_growing(&[a(-5), a(2), a(3), a(4)]));
        assert!(!keeps_growing(&[a(4), a(3), a(5), a(6)]), "down once");
        assert!(!keeps_growing(&[a(4)]));
    }

    #[test]
    fn checkpoints_are_thirty_days_apart() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let points = checkpoints(now, 3);
        assert_eq!(points.len(), 4);
        assert_eq!(points[3], now);
        assert_eq!(points[0], now - Duration::days(90));
    }
}
