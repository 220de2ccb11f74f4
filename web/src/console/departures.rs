//! Departures: a member company's owner gives notice that the company leaves the network,
//! with an optional message for the manager, and may withdraw it while it waits. One notice
//! waits per member at a time (a unique index says so too).
//!
//! Leaving is settling: the account closes through the ledger (`members::close`, or a
//! write-off for a member that defaults), which the ledger allows once the balance is zero
//! and no hold is open. [`remaining`] tells the member and the manager what is left to do:
//! the balance to bring to zero (spend it in the network when positive; sell, or settle
//! with the network, when negative), the orders still to pay or to deliver, and what the
//! closing ends by itself (open listings, which [`after_close`] closes; standing orders and
//! payment requests, which a closed account can no longer pay or receive).
//!
//! A member cannot always spend its balance to the cent (each payment costs it the fund's
//! contribution on top): [`close_leaving`] moves what is left to the guarantee fund and
//! closes the account.
//!
//! The notice is marked `closed` when a manager closes the account ([`after_close`], called
//! by the status change and the write-off after the ledger's commit); should the process stop
//! in between, readers still see the account closed and the review list leaves it out.
//! Members' own steps (asking, withdrawing) are not in the action log, which is the
//! operators' record; the row keeps who did them and when. Not here: a notice period or a
//! departure date set by the network's rules, and anything done automatically on the
//! member's behalf (nothing is paid or transferred for it).

use std::collections::{BTreeSet, HashMap};

use ledger::{AccountStatus, Amount, Operation, Rejection};
use sqlx::Row;

use super::members::{resolve, status_submission, StatusAction};
use super::{
    Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem, RequestKey, Target,
};
use crate::dispatch;
use crate::people::{now_unix, Member, User};
use crate::store::{AllOrNone, Store, StoreResult, Submission};

/// Longest message a member writes with its notice, in characters (it may be empty).
pub const DEPARTURE_MESSAGE_LEN_MAX: usize = 1_000;
/// Most notices a member's page and the API list (newest first).
pub const DEPARTURES_OF_MEMBER_MAX: i64 = 20;
/// Most waiting notices the review list shows (oldest first).
pub const DEPARTURES_LISTED_MAX: i64 = 200;
/// Most notices a member gives in [`DEPARTURES_WINDOW_DAYS`] days, withdrawn ones included
/// (giving and withdrawing in a loop would fill the table).
pub const DEPARTURES_PER_WINDOW_MAX: i64 = 3;
pub const DEPARTURES_WINDOW_DAYS: i64 = 30;
/// Longest reason for closing a departure, in characters: it is the memo of the adjustment
/// that moves the balance to the guarantee fund (the ledger's memo limit).
pub const DEPARTURE_REASON_LEN_MAX: usize = 280;
/// The action-log code of the adjustment that moves a leaving member's balance to the fund.
pub const ACTION_DEPARTURE_SETTLE: &str = "member.departure_settle";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartureStatus {
    Pending,
    Withdrawn,
    Closed,
}

impl DepartureStatus {
    pub const ALL: [DepartureStatus; 3] = [
        DepartureStatus::Pending,
        DepartureStatus::Withdrawn,
        DepartureStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DepartureStatus::Pending => "pending",
            DepartureStatus::Withdrawn => "withdrawn",
            DepartureStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<DepartureStatus> {
        DepartureStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One notice, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub id: i64,
    pub member_id: i64,
    /// The email of the owner who gave notice, as it was then.
    pub requested_by: String,
    pub message: String,
    pub status: DepartureStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The owner who withdrew it, or the manager who closed the account.
    pub decided_by: Option<String>,
}

const COLUMNS: &str =
    "id, member_id, requested_by, message, status, created_at, decided_at, decided_by";

fn from_row<R>(row: &R) -> Result<Departure, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(4)?;
    let status = DepartureStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "status".into(),
        source: format!("unknown departure status {status:?}").into(),
    })?;
    Ok(Departure {
        id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        requested_by: row.try_get(2)?,
        message: row.try_get(3)?,
        status,
        created_at: row.try_get(5)?,
        decided_at: row.try_get(6)?,
        decided_by: row.try_get(7)?,
    })
}

/// What is left before the member's account can close, and what the closing ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    /// Brought to zero by trading (or settled with the network) before the account closes.
    pub balance: Amount,
    /// Orders it placed that hold its credit until the seller delivers or cancels.
    pub orders_to_pay: i64,
    /// Orders it sold that wait for its delivery (or its cancellation).
    pub orders_to_deliver: i64,
    /// Its listings still open: closed with the account.
    pub open_listings: i64,
    /// Active standing orders it pays or receives: a closed account ends them.
    pub standing_orders: i64,
    /// Payment requests it sent or received that wait for an answer (not past their
    /// expiry, swept or not).
    pub requests_waiting: i64,
}

impl Remaining {
    /// Whether nothing blocks the closing: a zero balance and no order under way (the
    /// ledger itself refuses to close an account with a balance or an open hold).
    pub fn settled(&self) -> bool {
        self.balance.is_zero() && self.orders_to_pay == 0 && self.orders_to_deliver == 0
    }
}

/// The counts of [`Remaining`] for the member `m` of a `FROM members m` read, through the
/// indexes on orders, listings, standing orders and payment requests by member; `$2` is now
/// (payment requests past their expiry are left out, swept or not).
const REMAINING_COUNTS: &str = "\
     (SELECT COUNT(*) FROM orders WHERE buyer_member_id = m.id AND status = 'held'), \
     (SELECT COUNT(*) FROM orders WHERE seller_member_id = m.id AND status = 'held'), \
     (SELECT COUNT(*) FROM listings WHERE member_id = m.id AND status = 'open'), \
     (SELECT COUNT(*) FROM standing_orders WHERE status = 'active' \
        AND (payer_member_id = m.id OR payee_member_id = m.id)), \
     (SELECT COUNT(*) FROM payment_requests WHERE status = 'open' AND expires_at > $2 \
        AND (seller_member_id = m.id OR buyer_member_id = m.id))";

type Counts = (i64, i64, i64, i64, i64);

fn remaining_from(balance: Amount, counts: Counts) -> Remaining {
    let (to_pay, to_deliver, listings, standing, requests) = counts;
    Remaining {
        balance,
        orders_to_pay: to_pay,
        orders_to_deliver: to_deliver,
        open_listings: listings,
        standing_orders: standing,
        requests_waiting: requests,
    }
}

/// What `member_id` (whose account is `balance`) has left to settle, in one read
/// ([`REMAINING_COUNTS`]).
pub async fn remaining(store: &Store, member_id: i64, balance: Amount) -> ConsoleResult<Remaining> {
    let sql = format!("SELECT {REMAINING_COUNTS} FROM members m WHERE m.id = $1");
    let counts: Option<Counts> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(member_id).bind(now_unix()).fetch_optional(pool).await?
    });
    Ok(remaining_from(balance, counts.unwrap_or_default()))
}

/// Which notices a read returns.
#[derive(Debug, Clone, Copy)]
enum Which {
    Id(i64),
    /// The member's, newest first.
    Member(i64),
    /// The member's waiting one.
    MemberPending(i64),
    /// Every waiting one, oldest first.
    Pending,
}

async fn select(store: &Store, which: Which, limit: i64) -> ConsoleResult<Vec<Departure>> {
    let (where_sql, id, order) = match which {
        Which::Id(id) => ("id = $1", id, "id"),
        Which::Member(id) => ("member_id = $1", id, "id DESC"),
        Which::MemberPending(id) => ("member_id = $1 AND status = 'pending'", id, "id"),
        // No id to match: `$1` is bound to 0 so that every read binds the same parameters.
        Which::Pending => ("status = 'pending' AND $1 = 0", 0, "id"),
    };
    let sql =
        format!("SELECT {COLUMNS} FROM departures WHERE {where_sql} ORDER BY {order} LIMIT $2");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

async fn by_id(store: &Store, id: i64) -> ConsoleResult<Departure> {
    if id <= 0 {
        return Err(ConsoleError::NotFound);
    }
    select(store, Which::Id(id), 1)
        .await?
        .pop()
        .ok_or(ConsoleError::NotFound)
}

/// Records the owner's notice that its company leaves, with a message of at most
/// [`DEPARTURE_MESSAGE_LEN_MAX`] characters (it may be empty). Refused when one waits
/// already, past [`DEPARTURES_PER_WINDOW_MAX`] notices in [`DEPARTURES_WINDOW_DAYS`] days,
/// and for a closed account.
pub async fn ask(
    store: &Store,
    user: &User,
    member: &Member,
    message: &str,
) -> ConsoleResult<Departure> {
    // Only the member's owner gives and withdraws notice: leaving commits the company.
    super::require_owner(user, member)?;
    let (_, account) = resolve(store, Target::Member(member.id)).await?;
    if account.status() == AccountStatus::Closed {
        return Err(ConsoleError::Rejected(Rejection::AccountClosed {
            account: account.id(),
        }));
    }
    let mut issues = Issues::default();
    let message = issues.optional_text(Field::Message, message, DEPARTURE_MESSAGE_LEN_MAX);
    issues.finish()?;
    if pending_of(store, member.id).await?.is_some() {
        return Err(ConsoleError::Conflict(Conflict::DeparturePending));
    }
    let now = now_unix();
    let since = now - DEPARTURES_WINDOW_DAYS * 86_400;
    let recent: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM departures WHERE member_id = $1 AND created_at > $2")
            .bind(member.id).bind(since).fetch_one(pool).await?
    });
    if recent >= DEPARTURES_PER_WINDOW_MAX {
        return Err(ConsoleError::Conflict(Conflict::TooManyDepartures));
    }
    let sql = "INSERT INTO departures (member_id, requested_by, message, status, created_at) \
               VALUES ($1, $2, $3, 'pending', $4) RETURNING id";
    let inserted: Result<i64, sqlx::Error> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(member.id).bind(&user.email).bind(&message).bind(now)
            .fetch_one(pool).await
    });
    // Two notices at once: the one-pending index keeps one.
    let id = super::inserted_or(inserted, ConsoleError::Conflict(Conflict::DeparturePending))?;
    by_id(store, id).await
}

/// The owner withdraws its waiting notice: the company stays. Another member's notice is
/// `NotFound`; one closed or withdrawn already is `DepartureDecided`.
pub async fn withdraw(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<Departure> {
    super::require_owner(user, member)?;
    let departure = by_id(store, id).await?;
    if departure.member_id != member.id {
        return Err(ConsoleError::NotFound);
    }
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE departures SET status = 'withdrawn', decided_at = $1, decided_by = $2 \
             WHERE id = $3 AND member_id = $4 AND status = 'pending'",
        )
        .bind(now_unix()).bind(&user.email).bind(id).bind(member.id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::DepartureDecided));
    }
    by_id(store, id).await
}

/// The member's notices, newest first, at most [`DEPARTURES_OF_MEMBER_MAX`] (its users'
/// page and the API).
pub async fn member_departures(store: &Store, member_id: i64) -> ConsoleResult<Vec<Departure>> {
    member_departures_upto(store, member_id, DEPARTURES_OF_MEMBER_MAX).await
}

/// The member's notices, newest first, at most `limit` (the data package).
pub async fn member_departures_upto(
    store: &Store,
    member_id: i64,
    limit: i64,
) -> ConsoleResult<Vec<Departure>> {
    select(store, Which::Member(member_id), limit).await
}

/// The member's waiting notice, if any.
pub async fn pending_of(store: &Store, member_id: i64) -> ConsoleResult<Option<Departure>> {
    Ok(select(store, Which::MemberPending(member_id), 1)
        .await?
        .pop())
}

/// A member leaving, as the review list shows it.
#[derive(Debug, Clone)]
pub struct Leaving {
    pub departure: Departure,
    pub member: Member,
    pub account: ledger::Account,
    pub remaining: Remaining,
}

/// The waiting notices of members whose account is not closed yet, oldest first, at most
/// [`DEPARTURES_LISTED_MAX`], each with what is left (readers: managers and accountants).
/// Four reads, whatever the number of members leaving: the notices, what each member has
/// left with its account id ([`REMAINING_COUNTS`]), the members and their accounts.
pub async fn leaving(store: &Store, actor: &Actor) -> ConsoleResult<Vec<Leaving>> {
    actor.require_reader()?;
    let waiting = select(store, Which::Pending, DEPARTURES_LISTED_MAX).await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let ids = crate::store::id_list(waiting.iter().map(|d| d.member_id.max(0) as u64));
    let sql = format!(
        "SELECT m.id, m.account_id, {REMAINING_COUNTS} FROM members m WHERE {}",
        crate::store::in_id_list(store.kind(), "m.id", 1)
    );
    let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(&ids).bind(now_unix()).fetch_all(pool).await?
    });
    let counts: HashMap<i64, (ledger::AccountId, Counts)> = rows
        .into_iter()
        .map(|(id, account, a, b, c, d, e)| {
            (
                id,
                (ledger::AccountId(account.max(0) as u64), (a, b, c, d, e)),
            )
        })
        .collect();
    let account_ids: BTreeSet<ledger::AccountId> = counts.values().map(|(a, _)| *a).collect();
    let members = crate::people::members_of_accounts(store, &account_ids).await?;
    let accounts: HashMap<ledger::AccountId, ledger::Account> = store
        .accounts_of(&account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id(), a))
        .collect();
    let mut list = Vec::with_capacity(waiting.len());
    for departure in waiting {
        let Some((account_id, left)) = counts.get(&departure.member_id) else {
            continue;
        };
        let (Some(member), Some(account)) = (members.get(account_id), accounts.get(account_id))
        else {
            continue;
        };
        if account.status() == AccountStatus::Closed {
            continue;
        }
        list.push(Leaving {
            remaining: remaining_from(account.balance(), *left),
            member: member.clone(),
            account: account.clone(),
            departure,
        });
    }
    Ok(list)
}

/// The accounts of the members whose notice waits, at most [`DEPARTURES_LISTED_MAX`]
/// (brokering lists them first).
pub async fn leaving_accounts(
    store: &Store,
) -> StoreResult<std::collections::HashSet<ledger::AccountId>> {
    let ids: Vec<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT m.account_id FROM departures d JOIN members m ON m.id = d.member_id \
             WHERE d.status = 'pending' ORDER BY d.id LIMIT $1")
            .bind(DEPARTURES_LISTED_MAX).fetch_all(pool).await?
    });
    Ok(ids
        .into_iter()
        .map(|id| ledger::AccountId(id.max(0) as u64))
        .collect())
}

/// How many members gave notice and are not closed yet (the console's landing page).
pub async fn leaving_count(store: &Store) -> ConsoleResult<i64> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM departures d JOIN members m ON m.id = d.member_id \
             JOIN accounts a ON a.id = m.account_id \
             WHERE d.status = 'pending' AND a.status <> 'closed'")
            .fetch_one(pool).await?
    });
    Ok(count)
}

/// What closing a departure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartureClosed {
    /// The notice, now `closed`.
    pub departure: Departure,
    /// The balance moved to the guarantee fund (zero when there was none).
    pub to_fund: Amount,
}

/// Closes the account of a member whose notice waits (managers only), with a reason of 1
/// to [`DEPARTURE_REASON_LEN_MAX`] characters: its positive balance, which must be
/// `balance` (what the manager was shown: `not_the_balance` otherwise), goes to the
/// guarantee fund by an adjustment (reference `departure:ID`, the reason as memo, logged as
/// [`ACTION_DEPARTURE_SETTLE`]) and the account closes through the ledger (`member.close`),
/// both or neither (`Store::submit_all_or_none`); then the notice and the member's listings
/// close ([`after_close`]). For the remainder a
/// member cannot spend to the cent (a payment costs it the fund's contribution on top), or
/// a balance it chose to leave to the network. Refused while orders are under way
/// (`orders_under_way`) and for a negative balance (`in_debt`: it sells, or is written off).
/// `request` makes a retry safe: the ledger's steps are keyed by it.
pub async fn close_leaving(
    store: &Store,
    actor: &Actor,
    id: i64,
    balance: Amount,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<DepartureClosed> {
    actor.require_manager()?;
    let departure = by_id(store, id).await?;
    if departure.status != DepartureStatus::Pending {
        return Err(ConsoleError::Conflict(Conflict::DepartureDecided));
    }
    let (member, account) = resolve(store, Target::Member(departure.member_id)).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    if reason.chars().count() > DEPARTURE_REASON_LEN_MAX {
        issues.add(
            Field::Reason,
            Problem::TooLong {
                max: DEPARTURE_REASON_LEN_MAX,
            },
        );
    }
    if balance != account.balance() {
        issues.add(Field::Balance, Problem::NotTheBalance);
    }
    issues.finish()?;
    if balance.is_negative() {
        return Err(ConsoleError::Conflict(Conflict::DepartureInDebt));
    }
    let left = remaining(store, member.id, balance).await?;
    if left.orders_to_pay > 0 || left.orders_to_deliver > 0 {
        return Err(ConsoleError::Conflict(Conflict::OrdersUnderWay));
    }
    // Both steps in one database transaction: if the balance changed since it was read (a
    // payment at that moment), the closing is refused and nothing moves.
    let mut steps = Vec::with_capacity(2);
    if balance.is_positive() {
        let fund = store.system_accounts().await?.fund;
        let op = Operation::Adjustment {
            from: member.account(),
            to: fund,
            amount: balance,
            reference: format!("departure:{id}"),
            memo: reason.clone(),
        };
        let note = actor
            .note(ACTION_DEPARTURE_SETTLE, &reason)?
            .member(member.id)
            .account(member.account().0);
        let key = request.ledger_key("departure-settle", member.id);
        steps.push(Submission::new(key, op).noted(note));
    }
    steps.push(status_submission(
        actor,
        &member,
        StatusAction::Close,
        &reason,
        request,
    )?);
    match store.submit_all_or_none(steps).await? {
        AllOrNone::Committed(_) => {}
        AllOrNone::Refused(mut refusals) => {
            let (_, rejection) = refusals.remove(0);
            return Err(ConsoleError::Rejected(rejection));
        }
    }
    after_close(store, member.id, actor.email()).await?;
    Ok(DepartureClosed {
        departure: by_id(store, id).await?,
        to_fund: balance,
    })
}

/// After the ledger closed `member_id`'s account (a manager's closing or a write-off): its
/// open listings close, and its waiting notice, if any, is marked closed by `by`. Safe to
/// call again.
pub async fn after_close(store: &Store, member_id: i64, by: &str) -> StoreResult<()> {
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE listings SET status = 'closed', updated_at = $1 \
                     WHERE member_id = $2 AND status = 'open'")
            .bind(now).bind(member_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE departures SET status = 'closed', decided_at = $1, decided_by = $2 \
                     WHERE member_id = $3 AND status = 'pending'")
            .bind(now).bind(by).bind(member_id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
