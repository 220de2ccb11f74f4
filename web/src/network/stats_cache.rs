//! The monthly aggregates behind the health report (migration 0013, `stats_months`): per
//! account and calendar month, the net of its postings and its trades, kept up to date from
//! the ledger incrementally so that a report reads one row per account and month, however
//! many postings there are.
//!
//! **Exactly once.** `stats_state.seq_through` says which transactions are counted: those
//! whose commit number (`seq`, dense and in commit order) is at most it. A refresh reads the
//! transactions after it, at most [`REFRESH_TX_PER_STEP`] at a time through the unique index
//! on `seq`, and adds them in one short write transaction that first checks that nobody moved
//! the mark meanwhile (otherwise it starts again). A trade counts in its own month; when a
//! later reversal undoes it, its sales and purchases are taken back from that month, so
//! reversed trades never count. Months before `month_floor` (24 months before the first
//! refresh) are not kept.
//!
//! Work per refresh: the transactions committed since the last one (plus, once, the history
//! since the floor); it holds SQLite's write lock only while it writes the rows.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use ledger::AccountId;
use sqlx::QueryBuilder;

use crate::dispatch;
use crate::store::{BackendKind, Store, StoreError, StoreResult};

/// Transactions one refresh step reads at most.
pub const REFRESH_TX_PER_STEP: i64 = 100_000;
/// Steps one refresh takes at most (a bound on the loop; 10 billion transactions).
pub const REFRESH_STEPS_MAX: usize = 100_000;
/// Months kept before the month of the first refresh.
pub const MONTHS_KEPT: u32 = super::stats::STATS_MONTHS_MAX;
/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 500;

/// One account's month: the net of its postings; its trades' sales, their number and its
/// purchases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthRow {
    pub net: i64,
    pub sales: i64,
    pub sales_count: i64,
    pub purchases: i64,
}

impl MonthRow {
    fn add(&mut self, other: MonthRow) {
        self.net = self.net.saturating_add(other.net);
        self.sales = self.sales.saturating_add(other.sales);
        self.sales_count = self.sales_count.saturating_add(other.sales_count);
        self.purchases = self.purchases.saturating_add(other.purchases);
    }

    pub fn traded(&self) -> bool {
        self.sales != 0 || self.sales_count != 0 || self.purchases != 0
    }
}

/// `YYYY-MM` of a time column, in each backend's dialect (times are UTC on both).
pub(crate) fn month_sql(kind: BackendKind, column: &str) -> String {
    match kind {
        BackendKind::Sqlite => format!("substr({column}, 1, 7)"),
        BackendKind::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"),
    }
}

pub(crate) fn month_start(key: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?))
}

fn floor_for(now: DateTime<Utc>) -> String {
    let first = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).expect("a first of month");
    first
        .checked_sub_months(Months::new(MONTHS_KEPT))
        .unwrap_or(first)
        .format("%Y-%m")
        .to_string()
}

type Key = (AccountId, String);

fn account(id: i64) -> AccountId {
    AccountId(u64::try_from(id).unwrap_or(0))
}

/// The changes the transactions with `seq` in `(from, to]` make to the months since `floor`.
async fn increment(
    store: &Store,
    from: i64,
    to: i64,
    floor: DateTime<Utc>,
) -> StoreResult<HashMap<Key, MonthRow>> {
    let kind = store.kind();
    let month = month_sql(kind, "t.time");
    let original_month = month_sql(kind, "o.time");
    let trade = "t.kind IN ('payment', 'hold_capture') AND p.leg = 'principal'";
    let added_sql = format!(
        "SELECT p.account_id, {month}, CAST(SUM(p.amount) AS BIGINT), \
         CAST(SUM(CASE WHEN {trade} AND p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN {trade} AND p.amount > 0 THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN {trade} AND p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT) \
         FROM transactions t JOIN postings p ON p.tx_id = t.id \
         WHERE t.seq > $1 AND t.seq <= $2 AND t.time >= $3 GROUP BY 1, 2"
    );
    // Reversals of trades take the trade back from the trade's own month.
    let reversed_sql = format!(
        "SELECT p.account_id, {original_month}, \
         CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN p.amount > 0 THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT) \
         FROM transactions t JOIN transactions o ON o.id = t.reverses \
         JOIN postings p ON p.tx_id = o.id \
         WHERE t.seq > $1 AND t.seq <= $2 AND t.kind = 'reversal' \
         AND o.kind IN ('payment', 'hold_capture') AND p.leg = 'principal' AND o.time >= $3 \
         GROUP BY 1, 2"
    );
    type Added = Vec<(i64, String, i64, i64, i64, i64)>;
    type Reversed = Vec<(i64, String, i64, i64, i64)>;
    let (added, reversed): (Added, Reversed) = dispatch!(store.backend(), pool => {
        let added = sqlx::query_as(&added_sql)
            .bind(from).bind(to).bind(floor).fetch_all(pool).await?;
        let reversed = sqlx::query_as(&reversed_sql)
            .bind(from).bind(to).bind(floor).fetch_all(pool).await?;
        (added, reversed)
    });
    let mut changes: HashMap<Key, MonthRow> = HashMap::with_capacity(added.len());
    for (id, month, net, sales, sales_count, purchases) in added {
        changes
            .entry((account(id), month))
            .or_default()
            .add(MonthRow {
                net,
                sales,
                sales_count,
                purchases,
            });
    }
    for (id, month, sales, sales_count, purchases) in reversed {
        changes
            .entry((account(id), month))
            .or_default()
            .add(MonthRow {
                net: 0,
                sales: -sales,
                sales_count: -sales_count,
                purchases: -purchases,
            });
    }
    Ok(changes)
}

/// Brings `stats_months` up to the ledger's head.
pub async fn refresh(store: &Store, now: DateTime<Utc>) -> StoreResult<()> {
    for _ in 0..REFRESH_STEPS_MAX {
        let (state, head): (Option<(i64, String)>, i64) = dispatch!(store.backend(), pool => {
            let state = sqlx::query_as("SELECT seq_through, month_floor FROM stats_state WHERE id = 1")
                .fetch_optional(pool).await?;
            let head = sqlx::query_scalar("SELECT seq FROM ledger_head WHERE id = 1")
                .fetch_one(pool).await?;
            (state, head)
        });
        let (from, floor) = state.unwrap_or_else(|| (0, floor_for(now)));
        if head <= from {
            return Ok(());
        }
        let to = head.min(from.saturating_add(REFRESH_TX_PER_STEP));
        let floor_time = month_start(&floor)
            .ok_or_else(|| StoreError::Corrupt(format!("stats floor {floor:?}")))?;
        let changes = increment(store, from, to, floor_time).await?;
        // Applied only if nobody moved the mark meanwhile; otherwise read again.
        apply(store, (from, &floor), to, changes).await?;
    }
    Err(StoreError::Unavailable(
        "the statistics could not catch up with the ledger".into(),
    ))
}

/// Adds `changes` and moves the mark from `from` to `to`, unless the mark is no longer at
/// `from` (another refresh applied first: the caller reads again).
async fn apply(
    store: &Store,
    (from, floor): (i64, &str),
    to: i64,
    changes: HashMap<Key, MonthRow>,
) -> StoreResult<()> {
    let begin = store.begin_write_sql();
    let lock = match store.kind() {
        BackendKind::Postgres => " FOR UPDATE",
        BackendKind::Sqlite => "",
    };
    let state_sql = format!("SELECT seq_through, month_floor FROM stats_state WHERE id = 1{lock}");
    let rows: Vec<(Key, MonthRow)> = changes
        .into_iter()
        .filter(|(_, r)| *r != MonthRow::default())
        .collect();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        sqlx::query("INSERT INTO stats_state (id, seq_through, month_floor) VALUES (1, 0, $1) \
                     ON CONFLICT (id) DO NOTHING")
            .bind(floor)
            .execute(&mut *tx)
            .await?;
        let current: (i64, String) = sqlx::query_as(&state_sql).fetch_one(&mut *tx).await?;
        if current.0 != from || current.1 != floor {
            tx.rollback().await?;
            return Ok(());
        }
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::new(
                "INSERT INTO stats_months (month, account_id, net, sales, sales_count, purchases) ",
            );
            query.push_values(chunk, |mut row, ((account, month), r)| {
                row.push_bind(month.clone())
                    .push_bind(i64::try_from(account.0).unwrap_or(i64::MAX))
                    .push_bind(r.net)
                    .push_bind(r.sales)
                    .push_bind(r.sales_count)
                    .push_bind(r.purchases);
            });
            query.push(
                " ON CONFLICT (month, account_id) DO UPDATE SET \
                 net = stats_months.net + excluded.net, \
                 sales = stats_months.sales + excluded.sales, \
                 sales_count = stats_months.sales_count + excluded.sales_count, \
                 purchases = stats_months.purchases + excluded.purchases",
            );
            query.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE stats_state SET seq_through = $1 WHERE id = 1")
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    })
}

/// The rows of the months from `first` (`YYYY-MM`) on, future months included.
pub async fn rows_since(store: &Store, first: &str) -> StoreResult<HashMap<Key, MonthRow>> {
    let sql = "SELECT account_id, month, net, sales, sales_count, purchases FROM stats_months \
               WHERE month >= $1";
    let rows: Vec<(i64, String, i64, i64, i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(sql).bind(first).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, month, net, sales, sales_count, purchases)| {
            (
                (account(id), month),
                MonthRow {
                    net,
                    sales,
                    sales_count,
                    purchases,
                },
            )
        })
        .collect())
}
