//! A member's activity as the web front shows it: filtered, keyset-paginated history and
//! sums over periods. Reads only; every write goes through the store's write path.

use chrono::{DateTime, Utc};
use ledger::{AccountId, Amount, Leg, Transaction, TxId, TxKind};

use crate::dispatch;
use crate::store::{Store, StoreError, StoreResult};

/// Most lines one history page shows.
pub const HISTORY_PAGE_SIZE_MAX: usize = 100;
/// Default lines per history page.
pub const HISTORY_PAGE_SIZE_DEFAULT: usize = 25;
/// Most lines a CSV export or a monthly statement holds.
pub const EXPORT_ROWS_MAX: usize = 10_000;

/// What to show: a period (`from` inclusive, `to` exclusive), a kind, a counterparty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub kind: Option<TxKind>,
    pub counterparty: Option<AccountId>,
}

/// One line of history: the transaction and its net effect on the account.
#[derive(Debug, Clone)]
pub struct Line {
    pub transaction: Transaction,
    pub net: Amount,
}

impl Line {
    /// The other member of a payment or capture (the principal leg on another account).
    pub fn counterparty(&self, me: AccountId) -> Option<AccountId> {
        self.transaction
            .postings()
            .iter()
            .find(|p| p.leg == Leg::Principal && p.account != me)
            .map(|p| p.account)
    }

    /// The amount of one leg on the account (commission, fund contribution).
    pub fn leg(&self, me: AccountId, leg: Leg) -> Amount {
        let minor: i64 = self
            .transaction
            .postings()
            .iter()
            .filter(|p| p.account == me && p.leg == leg)
            .map(|p| p.amount.minor())
            .sum();
        Amount::from_minor(minor)
    }
}

pub struct Page {
    pub lines: Vec<Line>,
    pub next_before: Option<TxId>,
}

fn db_id(id: u64) -> StoreResult<i64> {
    i64::try_from(id).map_err(|_| StoreError::Invalid(format!("id {id} is out of range")))
}

/// Lines of `account`'s history matching `filter`, newest first, older than `before`.
pub async fn history(
    store: &Store,
    account: AccountId,
    filter: &Filter,
    before: Option<TxId>,
    page_size: usize,
) -> StoreResult<Page> {
    assert!(page_size > 0 && page_size <= EXPORT_ROWS_MAX);
    // Unused filters become values that match everything, so one SQL text serves all.
    // Plain four-digit years: SQLite compares these times as text.
    let from = filter.from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let to = filter.to.unwrap_or_else(crate::store::time_last);
    let kind = filter.kind.map(|k| k.as_str()).unwrap_or("");
    let counterparty = match filter.counterparty {
        Some(id) => db_id(id.0)?,
        None => 0,
    };
    // The keyset: older than the transaction `before` by (time, id); without one, older
    // than the end of time. A `before` that names no transaction matches nothing.
    let (before, newest) = match before {
        Some(id) => (db_id(id.0)?, None),
        None => (i64::MAX, Some(crate::store::time_last())),
    };
    // One range of the `postings (account_id, time, tx_id)` index (a posting carries its
    // transaction's time), newest first. The counterparty is looked up among the line's own
    // postings (a primary-key range), not in the counterparty's whole history.
    let sql = "SELECT p.tx_id, CAST(SUM(p.amount) AS BIGINT) FROM postings p \
               JOIN transactions t ON t.id = p.tx_id \
               WHERE p.account_id = $1 \
               AND (p.time, p.tx_id) < \
                   (COALESCE((SELECT time FROM transactions WHERE id = $2), $8), $2) \
               AND p.time >= $3 AND p.time < $4 \
               AND ($5 = '' OR t.kind = $5) \
               AND ($6 = 0 OR $6 IN (SELECT q.account_id FROM postings q \
                                     WHERE q.tx_id = p.tx_id)) \
               GROUP BY p.time, p.tx_id ORDER BY p.time DESC, p.tx_id DESC LIMIT $7";
    let rows: Vec<(i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(sql)
            .bind(db_id(account.0)?).bind(before).bind(from).bind(to).bind(kind)
            .bind(counterparty).bind(page_size as i64 + 1).bind(newest)
            .fetch_all(pool).await?
    });
    let more = rows.len() > page_size;
    let rows: Vec<(TxId, i64)> = rows
        .into_iter()
        .take(page_size)
        .map(|(tx_id, net)| {
            u64::try_from(tx_id)
                .map(|id| (TxId(id), net))
                .map_err(|_| StoreError::Corrupt("tx id".into()))
        })
        .collect::<StoreResult<_>>()?;
    // One query for the page's transactions (and one for their postings), not one per line.
    let ids: Vec<TxId> = rows.iter().map(|(id, _)| *id).collect();
    let lines: Vec<Line> = store
        .transactions_by_ids(&ids)
        .await?
        .into_iter()
        .zip(rows)
        .map(|(transaction, (_, net))| Line {
            transaction,
            net: Amount::from_minor(net),
        })
        .collect();
    let next_before = if more {
        lines.last().map(|l| l.transaction.id())
    } else {
        None
    };
    Ok(Page { lines, next_before })
}

/// The net of every posting on `account` at or after `since`: the current balance minus
/// this is the balance at `since`.
pub async fn net_since(
    store: &Store,
    account: AccountId,
    since: DateTime<Utc>,
) -> StoreResult<Amount> {
    let sql = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings \
               WHERE account_id = $1 AND time >= $2";
    let net: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql).bind(db_id(account.0)?).bind(since).fetch_one(pool).await?
    });
    Ok(Amount::from_minor(net))
}
