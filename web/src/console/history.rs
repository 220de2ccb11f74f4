//! Histories the console shows and exports: a member's limit changes (the ledger's own
//! records, written in the batch that decided each change) and the action log as CSV.

use chrono::{DateTime, Utc};
use ledger::Amount;

use super::members::resolve;
use super::{Actor, ConsoleError, ConsoleResult, Target};
use crate::dispatch;
use crate::store::{ActionEntry, ActionFilter, Store, ACTIONS_PAGE_SIZE_MAX};

/// Most limit changes shown or exported for one member.
pub const LIMIT_HISTORY_MAX: i64 = 1_000;
/// Most action-log entries one CSV export holds.
pub const ACTIONS_EXPORT_MAX: usize = 10_000;

/// One change of a member's limits, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRecord {
    pub time: DateTime<Utc>,
    /// Who decided it (the manager's email).
    pub actor: String,
    pub reason: String,
    pub credit_limit_before: Amount,
    pub credit_limit_after: Amount,
    pub max_balance_before: Option<Amount>,
    pub max_balance_after: Option<Amount>,
    /// The new credit limit was below the member's debt at the time.
    pub below_current_debt: bool,
}

type LimitRow = (
    DateTime<Utc>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
);

/// A member's limit history, oldest first (readers).
pub async fn limit_history(
    store: &Store,
    actor: &Actor,
    member_id: i64,
) -> ConsoleResult<Vec<LimitRecord>> {
    actor.require_reader()?;
    own_limit_history(store, member_id).await
}

/// A member's limit history, oldest first, for the member's own users (the API's own
/// account): the network's decisions on its limits are on its record too. The caller
/// checks that the member is the user's own.
pub async fn own_limit_history(store: &Store, member_id: i64) -> ConsoleResult<Vec<LimitRecord>> {
    own_limit_history_upto(store, member_id, Order::OldestFirst, LIMIT_HISTORY_MAX).await
}

/// Which end of a member's limit history a read starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// At most `limit` of the member's changes from one end of its history: the newest for the
/// `/credit-limit` page, the oldest for the data package (which asks for one more than it
/// holds, to refuse rather than cut).
pub async fn own_limit_history_upto(
    store: &Store,
    member_id: i64,
    order: Order,
    limit: i64,
) -> ConsoleResult<Vec<LimitRecord>> {
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let account = i64::try_from(member.account().0).map_err(|_| ConsoleError::NotFound)?;
    let direction = match order {
        Order::OldestFirst => "",
        Order::NewestFirst => " DESC",
    };
    let sql = format!(
        "SELECT time, actor, reason, credit_limit_before, credit_limit_after, \
         max_balance_before, max_balance_after, below_current_debt FROM limit_changes \
         WHERE account_id = $1 ORDER BY id{direction} LIMIT $2"
    );
    let rows: Vec<LimitRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(account).bind(limit).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(time, actor, reason, cb, ca, mb, ma, below)| LimitRecord {
            time,
            actor,
            reason,
            credit_limit_before: Amount::from_minor(cb),
            credit_limit_after: Amount::from_minor(ca),
            max_balance_before: mb.map(Amount::from_minor),
            max_balance_after: ma.map(Amount::from_minor),
            below_current_debt: below,
        })
        .collect())
}

/// A text cell for a spreadsheet: quoted, and prefixed with `'` when a spreadsheet would
/// run it as a formula.
pub fn csv_cell(text: &str) -> String {
    crate::http::money::csv_field(text)
}

fn amount_cell(amount: Option<Amount>) -> String {
    amount.map(|a| a.to_plain()).unwrap_or_default()
}

/// The limit history as CSV (plain amounts, RFC 3339 times in UTC).
pub fn limit_history_csv(records: &[LimitRecord]) -> String {
    let mut csv = String::from(
        "time,actor,reason,credit_limit_before,credit_limit_after,max_balance_before,\
         max_balance_after,below_current_debt\r\n",
    );
    for r in records {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            r.time.to_rfc3339(),
            csv_cell(&r.actor),
            csv_cell(&r.reason),
            r.credit_limit_before.to_plain(),
            r.credit_limit_after.to_plain(),
            amount_cell(r.max_balance_before),
            amount_cell(r.max_balance_after),
            r.below_current_debt,
        ));
    }
    csv
}

/// One page of the action log (readers): newest first, `limit` entries at most.
pub async fn actions(
    store: &Store,
    actor: &Actor,
    filter: &ActionFilter,
    limit: i64,
) -> ConsoleResult<Vec<ActionEntry>> {
    actor.require_reader()?;
    Ok(store.actions(filter, limit).await?)
}

/// The action log's entries about member `member_id`, oldest first, at most `max` (its data
/// package: the caller asks one more than a package holds, to tell a full list from a cut
/// one). Read newest first by pages of [`ACTIONS_PAGE_SIZE_MAX`].
pub async fn own_actions_upto(
    store: &Store,
    member_id: i64,
    max: i64,
) -> ConsoleResult<Vec<ActionEntry>> {
    let mut filter = ActionFilter {
        member_id: Some(member_id),
        ..ActionFilter::default()
    };
    let mut entries: Vec<ActionEntry> = Vec::new();
    // Bounded: each page but the last adds ACTIONS_PAGE_SIZE_MAX entries, up to `max`.
    while (entries.len() as i64) < max {
        let page_size = ACTIONS_PAGE_SIZE_MAX.min(max - entries.len() as i64);
        let page = store.actions(&filter, page_size).await?;
        let full = page.len() as i64 == page_size;
        filter.before_id = page.last().map(|e| e.id);
        entries.extend(page);
        if !full {
            break;
        }
    }
    entries.reverse();
    Ok(entries)
}

/// Every entry matching `filter` (at most [`ACTIONS_EXPORT_MAX`], newest first), as CSV
/// (readers). The states are kept as their JSON text.
pub async fn actions_csv(
    store: &Store,
    actor: &Actor,
    filter: &ActionFilter,
) -> ConsoleResult<String> {
    actor.require_reader()?;
    let mut csv = String::from(
        "id,time,actor,action,member_id,account_id,reason,before,after,idempotency_key\r\n",
    );
    let mut filter = filter.clone();
    let mut written = 0;
    while written < ACTIONS_EXPORT_MAX {
        let page = store.actions(&filter, ACTIONS_PAGE_SIZE_MAX).await?;
        for e in &page {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\r\n",
                e.id,
                e.time.to_rfc3339(),
                csv_cell(&e.actor),
                csv_cell(&e.action),
                e.member_id.map(|m| m.to_string()).unwrap_or_default(),
                e.account_id.map(|a| a.to_string()).unwrap_or_default(),
                csv_cell(&e.reason),
                csv_cell(&e.before.to_string()),
                csv_cell(&e.after.to_string()),
                csv_cell(e.idempotency_key.as_deref().unwrap_or("")),
            ));
            written += 1;
            if written == ACTIONS_EXPORT_MAX {
                break;
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == ACTIONS_PAGE_SIZE_MAX => {
                filter.before_id = Some(last.id)
            }
            _ => break,
        }
    }
    Ok(csv)
}
