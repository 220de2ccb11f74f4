//! Disputes: a member company that paid contests the payment (goods not delivered, not as
//! described, a payment it did not mean), with its reason. The payee's users read it and
//! answer it, or refund the payment (`trade::refund`), which closes it as `refunded`. The
//! network's manager settles what the two companies do not: it reverses the payment
//! (`reversals::reverse`, which closes it as `reversed`) or dismisses the dispute with a note
//! both companies read (`dispute.dismiss` in the action log). The payer may withdraw it
//! while it is open (the companies settled it between themselves, by a partial refund for
//! instance: an ordinary payment).
//!
//! A dispute names a `payment` or `hold_capture` that the member paid to another member,
//! at most [`DISPUTE_AGE_DAYS_MAX`] days old and not reversed. One dispute is open per
//! payment (a unique index says so too); a dismissed one is final; a member opens at most
//! [`DISPUTES_PER_WINDOW_MAX`] in [`DISPUTES_WINDOW_DAYS`] days. The members and the
//! traded amount are copied from the transaction when the dispute opens, so the lists read
//! one table joined with the members' names.
//!
//! A dispute changes nothing in the ledger by itself: the payment stands until the payee
//! refunds it or a manager reverses it. Members' steps (opening, answering, withdrawing)
//! are not in the action log, which is the operators' record; the row keeps who did them
//! and when. The dispute is marked after the reversal's commit ([`after_reversal`]);
//! should the process stop in between, the dispute stays open over a reversed payment and
//! the manager's reversal is refused (`already_reversed`) until it is dismissed.

use ledger::{Amount, Rejection, TxId, MEMO_LEN_MAX};
use serde_json::json;
use sqlx::Row;

use super::{Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, RequestKey};
use crate::dispatch;
use crate::people::{self, now_unix, Member, User};
use crate::store::action_log::insert_action;
use crate::store::{Store, StoreResult};

/// Longest reason a payer gives, in characters (required).
pub const DISPUTE_REASON_LEN_MAX: usize = 1_000;
/// Longest answer the payee gives, in characters (required when it answers).
pub const DISPUTE_REPLY_LEN_MAX: usize = 1_000;
/// Longest note of the manager's decision, in characters: the reversal's memo when it
/// reverses (the ledger's memo limit).
pub const DISPUTE_NOTE_LEN_MAX: usize = MEMO_LEN_MAX;
/// How old a payment may be and still be disputed, in days.
pub const DISPUTE_AGE_DAYS_MAX: i64 = 90;
/// Most disputes a member opens in [`DISPUTES_WINDOW_DAYS`] days, withdrawn ones included.
pub const DISPUTES_PER_WINDOW_MAX: i64 = 10;
pub const DISPUTES_WINDOW_DAYS: i64 = 30;
/// Most disputes a member's page and the API list (either side, newest first).
pub const DISPUTES_OF_MEMBER_MAX: i64 = 50;
/// Most disputes the console lists (open ones oldest first, then the decided newest first).
pub const DISPUTES_LISTED_MAX: i64 = 200;
/// The action-log code of a manager's dismissal.
pub const ACTION_DISPUTE_DISMISS: &str = "dispute.dismiss";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeStatus {
    Open,
    Withdrawn,
    Refunded,
    Reversed,
    Dismissed,
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 5] = [
        DisputeStatus::Open,
        DisputeStatus::Withdrawn,
        DisputeStatus::Refunded,
        DisputeStatus::Reversed,
        DisputeStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "open",
            DisputeStatus::Withdrawn => "withdrawn",
            DisputeStatus::Refunded => "refunded",
            DisputeStatus::Reversed => "reversed",
            DisputeStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<DisputeStatus> {
        DisputeStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One dispute, as stored, with the two companies' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub id: i64,
    pub transaction_id: i64,
    pub payer_member_id: i64,
    pub payer_name: String,
    pub payee_member_id: i64,
    pub payee_name: String,
    /// The traded amount of the payment.
    pub amount: Amount,
    /// The email of the payer's user who opened it, as it was then.
    pub opened_by: String,
    pub reason: String,
    pub status: DisputeStatus,
    /// The payee's answer, its author and time.
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<i64>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// Who closed it: the payer who withdrew it, the payee's user who refunded, the manager.
    pub decided_by: Option<String>,
    /// The manager's note (a dismissal's, or the reversal's memo).
    pub decision_note: Option<String>,
}

const SELECT: &str = "SELECT d.id, d.transaction_id, d.payer_member_id, p.name, \
     d.payee_member_id, q.name, d.amount_minor, d.opened_by, d.reason, d.status, d.reply, \
     d.replied_by, d.replied_at, d.created_at, d.decided_at, d.decided_by, d.decision_note \
     FROM disputes d JOIN members p ON p.id = d.payer_member_id \
     JOIN members q ON q.id = d.payee_member_id";

fn from_row<R>(row: &R) -> Result<Dispute, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(9)?;
    let status = DisputeStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "status".into(),
        source: format!("unknown dispute status {status:?}").into(),
    })?;
    Ok(Dispute {
        id: row.try_get(0)?,
        transaction_id: row.try_get(1)?,
        payer_member_id: row.try_get(2)?,
        payer_name: row.try_get(3)?,
        payee_member_id: row.try_get(4)?,
        payee_name: row.try_get(5)?,
        amount: Amount::from_minor(row.try_get(6)?),
        opened_by: row.try_get(7)?,
        reason: row.try_get(8)?,
        status,
        reply: row.try_get(10)?,
        replied_by: row.try_get(11)?,
        replied_at: row.try_get(12)?,
        created_at: row.try_get(13)?,
        decided_at: row.try_get(14)?,
        decided_by: row.try_get(15)?,
        decision_note: row.try_get(16)?,
    })
}

/// Which disputes a read returns.
#[derive(Debug, Clone, Copy)]
enum Which {
    Id(i64),
    /// The disputes of one payment, oldest first.
    Transaction(i64),
    /// The open dispute of one payment.
    OpenOn(i64),
    /// The member's, as payer or payee, newest first.
    Member(i64),
    /// Every open one, oldest first.
    Open,
    /// Every decided one, newest first.
    Decided,
}

async fn select(store: &Store, which: Which, limit: i64) -> ConsoleResult<Vec<Dispute>> {
    // Every read binds `$1` (0 when it matches no id) so that the statements share a shape.
    let (where_sql, id, order) = match which {
        Which::Id(id) => ("d.id = $1", id, "d.id"),
        Which::Transaction(id) => ("d.transaction_id = $1", id, "d.id"),
        Which::OpenOn(id) => ("d.transaction_id = $1 AND d.status = 'open'", id, "d.id"),
        Which::Member(id) => (
            "(d.payer_member_id = $1 OR d.payee_member_id = $1)",
            id,
            "d.id DESC",
        ),
        Which::Open => ("d.status = 'open' AND $1 = 0", 0, "d.id"),
        Which::Decided => ("d.status <> 'open' AND $1 = 0", 0, "d.id DESC"),
    };
    let sql = format!("{SELECT} WHERE {where_sql} ORDER BY {order} LIMIT $2");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

/// Dispute `id`, whoever's it is (the callers check).
pub async fn by_id(store: &Store, id: i64) -> ConsoleResult<Dispute> {
    if id <= 0 {
        return Err(ConsoleError::NotFound);
    }
    select(store, Which::Id(id), 1)
        .await?
        .pop()
        .ok_or(ConsoleError::NotFound)
}

/// The disputes of transaction `tx`, oldest first, at most [`DISPUTES_OF_MEMBER_MAX`]
/// (the console's transaction page; network staff only).
pub async fn of_transaction(store: &Store, actor: &Actor, tx: TxId) -> ConsoleResult<Vec<Dispute>> {
    actor.require_reader()?;
    let tx_id = i64::try_from(tx.0).unwrap_or(i64::MAX);
    select(store, Which::Transaction(tx_id), DISPUTES_OF_MEMBER_MAX).await
}

/// A payment `member` paid to another member, as the dispute form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disputable {
    pub transaction: ledger::Transaction,
    /// Who received it.
    pub payee: Member,
    /// The traded amount.
    pub amount: Amount,
    /// The reversal that refunded it already: it cannot be disputed then.
    pub reversed_by: Option<TxId>,
    /// The dispute open on it, if any.
    pub open: Option<Dispute>,
}

/// The payment `tx` if `member` paid it to another member; `None` for any other
/// transaction, a payment it received, another member's payment or an unknown id, alike
/// (the caller answers 404).
pub async fn disputable(
    store: &Store,
    member: &Member,
    tx: TxId,
) -> ConsoleResult<Option<Disputable>> {
    let Some(transaction) = store.transaction(tx).await? else {
        return Ok(None);
    };
    let Some((paid, received)) = crate::trade::principal_legs(&transaction) else {
        return Ok(None);
    };
    if paid.account != member.account() {
        return Ok(None);
    }
    let payee_account = i64::try_from(received.account.0).unwrap_or(i64::MAX);
    let Some(payee) = people::member_by_account(store, payee_account).await? else {
        return Ok(None);
    };
    let reversed_by = store.reversed_by(tx).await?;
    let tx_id = i64::try_from(tx.0).unwrap_or(i64::MAX);
    let open = open_on(store, tx_id).await?;
    Ok(Some(Disputable {
        amount: received.amount,
        payee,
        reversed_by,
        open,
        transaction,
    }))
}

/// Whether a payment made at `paid_at` is past the age a dispute allows at `now` (both
/// Unix seconds): more than [`DISPUTE_AGE_DAYS_MAX`] whole days.
fn too_old(paid_at: i64, now: i64) -> bool {
    now.saturating_sub(paid_at) > DISPUTE_AGE_DAYS_MAX * 86_400
}

async fn open_on(store: &Store, tx_id: i64) -> ConsoleResult<Option<Dispute>> {
    Ok(select(store, Which::OpenOn(tx_id), 1).await?.pop())
}

/// `member`'s user (its owner or staff: the caller checked) opens a dispute on a payment
/// it made, with a reason of 1 to [`DISPUTE_REASON_LEN_MAX`] characters. `NotFound` unless
/// the member paid it to another member; refused when the payment was reversed
/// (`already_reversed`), is older than [`DISPUTE_AGE_DAYS_MAX`] days (`too_late`), has an
/// open dispute (`already_disputed`) or a dismissed one (`already_decided`), and past
/// [`DISPUTES_PER_WINDOW_MAX`] disputes in [`DISPUTES_WINDOW_DAYS`] days.
pub async fn open(
    store: &Store,
    user: &User,
    member: &Member,
    tx: TxId,
    reason: &str,
) -> ConsoleResult<Dispute> {
    let payment = disputable(store, member, tx)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let mut issues = Issues::default();
    let reason = issues.text(Field::Reason, reason, DISPUTE_REASON_LEN_MAX);
    issues.finish()?;
    if let Some(by) = payment.reversed_by {
        return Err(ConsoleError::Rejected(Rejection::AlreadyReversed {
            transaction: tx,
            by,
        }));
    }
    if payment.open.is_some() {
        return Err(ConsoleError::Conflict(Conflict::DisputeOpen));
    }
    let now = now_unix();
    if too_old(payment.transaction.time().timestamp(), now) {
        return Err(ConsoleError::Conflict(Conflict::DisputeTooLate));
    }
    let tx_id = i64::try_from(tx.0).unwrap_or(i64::MAX);
    let since = now - DISPUTES_WINDOW_DAYS * 86_400;
    let (dismissed, recent): (i64, i64) = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM disputes WHERE transaction_id = $1 \
                AND status = 'dismissed'), \
             (SELECT COUNT(*) FROM disputes WHERE payer_member_id = $2 AND created_at > $3)")
            .bind(tx_id).bind(member.id).bind(since).fetch_one(pool).await?
    });
    if dismissed > 0 {
        return Err(ConsoleError::Conflict(Conflict::DisputeDecided));
    }
    if recent >= DISPUTES_PER_WINDOW_MAX {
        return Err(ConsoleError::Conflict(Conflict::TooManyDisputes));
    }
    let sql = "INSERT INTO disputes (transaction_id, payer_member_id, payee_member_id, \
               amount_minor, opened_by, reason, status, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id";
    let inserted: Result<i64, sqlx::Error> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(tx_id).bind(member.id).bind(payment.payee.id)
            .bind(payment.amount.minor()).bind(&user.email).bind(&reason).bind(now)
            .fetch_one(pool).await
    });
    // Two disputes at once: the one-open index keeps one.
    let id = super::inserted_or(inserted, ConsoleError::Conflict(Conflict::DisputeOpen))?;
    by_id(store, id).await
}

/// The payer withdraws its open dispute. Another member's dispute is `NotFound` (the payee
/// does not withdraw it: it answers or refunds); a closed one is `already_decided`.
pub async fn withdraw(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<Dispute> {
    let dispute = by_id(store, id).await?;
    if dispute.payer_member_id != member.id {
        return Err(ConsoleError::NotFound);
    }
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE disputes SET status = 'withdrawn', decided_at = $1, decided_by = $2 \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(now_unix()).bind(&user.email).bind(id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::DisputeDecided));
    }
    by_id(store, id).await
}

/// The payee answers an open dispute (1 to [`DISPUTE_REPLY_LEN_MAX`] characters); a new
/// answer replaces the previous one. Another member's dispute is `NotFound`; a closed one
/// is `already_decided`.
pub async fn reply(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
    text: &str,
) -> ConsoleResult<Dispute> {
    let dispute = by_id(store, id).await?;
    if dispute.payee_member_id != member.id {
        return Err(ConsoleError::NotFound);
    }
    let mut issues = Issues::default();
    let text = issues.text(Field::Reply, text, DISPUTE_REPLY_LEN_MAX);
    issues.finish()?;
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE disputes SET reply = $1, replied_by = $2, replied_at = $3 \
             WHERE id = $4 AND status = 'open'",
        )
        .bind(&text).bind(&user.email).bind(now_unix()).bind(id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::DisputeDecided));
    }
    by_id(store, id).await
}

/// The member's disputes, as payer or payee, newest first, at most `limit` (its pages use
/// [`DISPUTES_OF_MEMBER_MAX`]; the data package more).
pub async fn of_member(store: &Store, member_id: i64, limit: i64) -> ConsoleResult<Vec<Dispute>> {
    select(store, Which::Member(member_id), limit).await
}

/// The disputes of the whole network (readers: managers and accountants): the open ones
/// oldest first, and the last decided ones newest first, at most [`DISPUTES_LISTED_MAX`]
/// each.
pub async fn network(store: &Store, actor: &Actor) -> ConsoleResult<(Vec<Dispute>, Vec<Dispute>)> {
    actor.require_reader()?;
    let open = select(store, Which::Open, DISPUTES_LISTED_MAX).await?;
    let decided = select(store, Which::Decided, DISPUTES_LISTED_MAX).await?;
    Ok((open, decided))
}

/// How many disputes the network has in each status, in [`DisputeStatus::ALL`]'s order
/// (readers: managers and accountants): how disputes end, for the console's page. One read
/// through `disputes_status`.
pub async fn counts(store: &Store, actor: &Actor) -> ConsoleResult<Vec<(DisputeStatus, i64)>> {
    actor.require_reader()?;
    let rows: Vec<(String, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT status, COUNT(*) FROM disputes GROUP BY status")
            .fetch_all(pool).await?
    });
    Ok(DisputeStatus::ALL
        .into_iter()
        .map(|status| {
            let count = rows
                .iter()
                .find(|(text, _)| text == status.as_str())
                .map_or(0, |(_, count)| *count);
            (status, count)
        })
        .collect())
}

/// Most disputes closed lately that a member's dashboard recalls.
pub const DISPUTES_RECALLED_MAX: i64 = 10;

/// Which disputes a member's dashboard recalls, as SQL over `disputes` (`$1` the member,
/// `$3` the earliest closing time): closed after `$3`, and not by the member itself (the
/// payer withdraws, the payee refunds). `trade::waiting` counts them with the same words.
macro_rules! recalled_where {
    () => {
        "(payer_member_id = $1 OR payee_member_id = $1) AND status <> 'open' \
         AND decided_at > $3 \
         AND NOT (status = 'withdrawn' AND payer_member_id = $1) \
         AND NOT (status = 'refunded' AND payee_member_id = $1)"
    };
}
pub(crate) use recalled_where;

/// The member's disputes closed after `since` (Unix seconds) by someone else, newest first,
/// at most [`DISPUTES_RECALLED_MAX`], for its dashboard: the manager's decisions for both
/// companies, the payee's refund for the payer, the payer's withdrawal for the payee.
pub async fn closed_since(
    store: &Store,
    member_id: i64,
    since: i64,
) -> ConsoleResult<Vec<Dispute>> {
    let sql = format!(
        "{SELECT} WHERE d.id IN (SELECT id FROM disputes WHERE {}) ORDER BY d.id DESC LIMIT $2",
        recalled_where!()
    );
    let rows = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(DISPUTES_RECALLED_MAX)
            .bind(since).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?
    });
    Ok(rows)
}

/// How many disputes are open that `member_id` opened, and that are about payments it
/// received (the console's member page), in one read through `disputes_status`.
pub async fn open_counts_of(store: &Store, member_id: i64) -> ConsoleResult<(i64, i64)> {
    let counts: (i64, i64) = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM disputes WHERE status = 'open' AND payer_member_id = $1), \
             (SELECT COUNT(*) FROM disputes WHERE status = 'open' AND payee_member_id = $1)")
            .bind(member_id).fetch_one(pool).await?
    });
    Ok(counts)
}

/// How many disputes are open in the network (the console's landing page; a member's
/// dashboard counts those about its sales with `trade::waiting`).
pub async fn open_count(store: &Store) -> ConsoleResult<i64> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM disputes WHERE status = 'open'")
            .fetch_one(pool).await?
    });
    Ok(count)
}

/// What a manager decides on an open dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The payment is reversed: the payer gets back all it paid, fees included.
    Reverse,
    /// The payment stands.
    Dismiss,
}

impl Decision {
    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "reverse" => Some(Decision::Reverse),
            "dismiss" => Some(Decision::Dismiss),
            _ => None,
        }
    }
}

/// What a manager's decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub dispute: Dispute,
    /// The reversal, when the manager reversed the payment.
    pub reversal: Option<TxId>,
}

/// A manager settles an open dispute, with a note of 1 to [`DISPUTE_NOTE_LEN_MAX`]
/// characters that both companies read: [`Decision::Reverse`] reverses the payment
/// (`reversals::reverse`: the note is its memo, `transaction.reverse` in the action log;
/// the ledger may refuse it, `insufficient_credit` for a payee that spent the money),
/// [`Decision::Dismiss`] closes the dispute and leaves the payment as it is
/// (`dispute.dismiss`, in the same database transaction as the dispute's update).
/// `request` makes a retried reversal safe.
pub async fn decide(
    store: &Store,
    actor: &Actor,
    id: i64,
    decision: Decision,
    note: &str,
    request: &RequestKey,
) -> ConsoleResult<Decided> {
    actor.require_manager()?;
    let dispute = by_id(store, id).await?;
    let mut issues = Issues::default();
    let note = issues.text(Field::Reason, note, DISPUTE_NOTE_LEN_MAX);
    issues.finish()?;
    if dispute.status != DisputeStatus::Open {
        return Err(ConsoleError::Conflict(Conflict::DisputeDecided));
    }
    let tx = TxId(u64::try_from(dispute.transaction_id).unwrap_or_default());
    match decision {
        Decision::Reverse => {
            // `reverse` marks the dispute (`after_reversal`) once the reversal commits.
            let reversed = super::reversals::reverse(store, actor, tx, &note, request).await?;
            Ok(Decided {
                dispute: by_id(store, id).await?,
                reversal: Some(reversed.transaction),
            })
        }
        Decision::Dismiss => {
            let action = actor
                .note(ACTION_DISPUTE_DISMISS, &note)?
                .member(dispute.payer_member_id)
                .states(
                    json!({ "dispute": id, "transaction": dispute.transaction_id,
                            "status": "open" }),
                    json!({ "dispute": id, "status": "dismissed" }),
                );
            let now = now_unix();
            let result: ConsoleResult<()> = dispatch!(store.backend(), pool => {
                async {
                    let mut tx = pool.begin().await?;
                    let done = sqlx::query(
                        "UPDATE disputes SET status = 'dismissed', decided_at = $1, \
                         decided_by = $2, decision_note = $3 WHERE id = $4 AND status = 'open'",
                    )
                    .bind(now).bind(actor.email()).bind(&note).bind(id)
                    .execute(&mut *tx).await?;
                    if done.rows_affected() == 0 {
                        return Err(ConsoleError::Conflict(Conflict::DisputeDecided));
                    }
                    insert_action(conn_of!(tx), action, chrono::Utc::now()).await?;
                    tx.commit().await?;
                    Ok(())
                }.await
            });
            result?;
            Ok(Decided {
                dispute: by_id(store, id).await?,
                reversal: None,
            })
        }
    }
}

/// After the ledger reversed payment `tx` (the payee's refund, or a manager's reversal):
/// its open dispute, if any, closes with `status` (`Refunded` or `Reversed`), by `by`, with
/// the manager's `note`. Safe to call again.
pub async fn after_reversal(
    store: &Store,
    tx: TxId,
    status: DisputeStatus,
    by: Option<&str>,
    note: Option<&str>,
) -> StoreResult<()> {
    debug_assert!(matches!(
        status,
        DisputeStatus::Refunded | DisputeStatus::Reversed
    ));
    let tx_id = i64::try_from(tx.0).unwrap_or(i64::MAX);
    let by = by.filter(|b| !b.is_empty());
    dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE disputes SET status = $1, decided_at = $2, decided_by = $3, \
             decision_note = $4 WHERE transaction_id = $5 AND status = 'open'",
        )
        .bind(status.as_str()).bind(now_unix()).bind(by).bind(note).bind(tx_id)
        .execute(pool).await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_is_disputed_up_to_its_age_limit_and_not_a_second_after() {
        let paid_at = 1_780_000_000;
        let limit = paid_at + DISPUTE_AGE_DAYS_MAX * 86_400;
        assert!(!too_old(paid_at, paid_at));
        assert!(!too_old(paid_at, limit));
        assert!(too_old(paid_at, limit + 1));
        // A clock behind the payment's time is not "too old".
        assert!(!too_old(paid_at, paid_at - 10));
    }

    #[test]
    fn statuses_and_decisions_read_back_what_they_write() {
        for status in DisputeStatus::ALL {
            assert_eq!(DisputeStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DisputeStatus::parse("closed"), None);
        assert_eq!(Decision::parse("reverse"), Some(Decision::Reverse));
        assert_eq!(Decision::parse("dismiss"), Some(Decision::Dismiss));
        assert_eq!(Decision::parse("Reverse"), None);
    }
}
