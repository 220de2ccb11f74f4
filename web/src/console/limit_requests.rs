//! Limit requests: a member company's owner asks the network for another credit limit
//! (higher or lower), another upper limit (the largest balance it may hold), or both, with a
//! message; a manager grants it, the amounts asked or others, or declines it with a reason;
//! the owner may withdraw it while it waits. One request waits per member at a time (a
//! unique index says so too).
//!
//! A grant changes the limit through the ledger like `members::set_limits`, logged as
//! `limit_request.grant` in the ledger batch, under an idempotency key made of the request's
//! id: a request changes the limit at most once, and a second grant with other figures is
//! refused as decided. The request is marked granted after the ledger's commit; should the
//! process stop in between, the request still waits and granting it again with the same
//! figures marks it (the ledger answers the first change again). A decline is logged as
//! `limit_request.decline` in the same transaction as the request's update. What members
//! do (asking, withdrawing) is theirs and is not in the action log: the request's row keeps
//! who asked and when.
//!
//! A grant decides what was asked and nothing else: the limit a request leaves alone stays
//! as it is then (the member's limits form changes anything). Not here: asking to have no
//! upper limit at all, and any automatic decision: the suggested limit (`suggest`) is shown
//! to the manager, never applied.

use ledger::{AccountStatus, Amount, IdempotencyKey, Rejection};
use serde_json::json;
use sqlx::Row;

use super::members::{resolve, write_limits, LimitsChange};
use super::{Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem, Target};
use crate::dispatch;
use crate::people::{now_unix, Member, User};
use crate::store::action_log::insert_action;
use crate::store::Store;

/// Longest message a member writes with its request, in characters.
pub const LIMIT_REQUEST_MESSAGE_LEN_MAX: usize = 1_000;
/// Most requests the console's list shows.
pub const LIMIT_REQUESTS_LISTED_MAX: i64 = 200;
/// Most requests a member's page shows (newest first).
pub const LIMIT_REQUESTS_OF_MEMBER_MAX: i64 = 20;
/// Most requests a member makes in [`LIMIT_REQUESTS_WINDOW_DAYS`] days, withdrawn ones
/// included (asking and withdrawing in a loop would fill the table).
pub const LIMIT_REQUESTS_PER_WINDOW_MAX: i64 = 5;
pub const LIMIT_REQUESTS_WINDOW_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRequestStatus {
    Pending,
    Granted,
    Declined,
    Withdrawn,
}

impl LimitRequestStatus {
    pub const ALL: [LimitRequestStatus; 4] = [
        LimitRequestStatus::Pending,
        LimitRequestStatus::Granted,
        LimitRequestStatus::Declined,
        LimitRequestStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LimitRequestStatus::Pending => "pending",
            LimitRequestStatus::Granted => "granted",
            LimitRequestStatus::Declined => "declined",
            LimitRequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<LimitRequestStatus> {
        LimitRequestStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRequest {
    pub id: i64,
    pub member_id: i64,
    /// The email of the owner who asked, as it was then.
    pub requested_by: String,
    /// The credit limit when the member asked.
    pub credit_limit_before: Amount,
    /// The credit limit wanted; the one in force then (`credit_limit_before`) when the
    /// request leaves it alone ([`LimitRequest::asks_credit_limit`]).
    pub credit_limit_asked: Amount,
    pub message: String,
    pub status: LimitRequestStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The manager who granted or declined it, or the owner who withdrew it.
    pub decided_by: Option<String>,
    pub decision_reason: String,
    /// The credit limit after the grant: the one in force when the request left it alone.
    pub credit_limit_granted: Option<Amount>,
    /// The upper limit when the member asked (`None`: none then); `None` too when the
    /// request leaves it alone.
    pub max_balance_before: Option<Amount>,
    /// The upper limit wanted; `None` when the request leaves it alone.
    pub max_balance_asked: Option<Amount>,
    /// The upper limit set by the grant; `None` unless granted and asked.
    pub max_balance_granted: Option<Amount>,
}

impl LimitRequest {
    /// Whether the request asks for another credit limit (it may ask only for another
    /// upper limit).
    pub fn asks_credit_limit(&self) -> bool {
        self.credit_limit_asked != self.credit_limit_before
    }

    /// Whether the request asks for another upper limit.
    pub fn asks_max_balance(&self) -> bool {
        self.max_balance_asked.is_some()
    }
}

/// What a member asks for: another credit limit, another upper limit, or both (`None`
/// leaves that limit alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wanted {
    pub credit_limit: Option<Amount>,
    pub max_balance: Option<Amount>,
}

impl Wanted {
    /// Another credit limit only.
    pub fn credit_limit(credit_limit: Amount) -> Wanted {
        Wanted {
            credit_limit: Some(credit_limit),
            max_balance: None,
        }
    }

    /// Another upper limit only.
    pub fn max_balance(max_balance: Amount) -> Wanted {
        Wanted {
            credit_limit: None,
            max_balance: Some(max_balance),
        }
    }
}

/// What a manager decides when granting: each limit the request asks for (the amount asked
/// when `None`; giving one the request does not ask for is refused as `NotAsked`) and the
/// reason, which the member reads and the ledger's limit history keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub credit_limit: Option<Amount>,
    pub max_balance: Option<Amount>,
    pub reason: String,
}

const COLUMNS: &str = "id, member_id, requested_by, credit_limit_before, credit_limit_asked, \
     message, status, created_at, decided_at, decided_by, decision_reason, credit_limit_granted, \
     max_balance_before, max_balance_asked, max_balance_granted";

fn from_row<R>(row: &R) -> Result<LimitRequest, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(6)?;
    let status = LimitRequestStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "status".into(),
        source: format!("unknown limit request status {status:?}").into(),
    })?;
    Ok(LimitRequest {
        id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        requested_by: row.try_get(2)?,
        credit_limit_before: Amount::from_minor(row.try_get(3)?),
        credit_limit_asked: Amount::from_minor(row.try_get(4)?),
        message: row.try_get(5)?,
        status,
        created_at: row.try_get(7)?,
        decided_at: row.try_get(8)?,
        decided_by: row.try_get(9)?,
        decision_reason: row.try_get(10)?,
        credit_limit_granted: row.try_get::<Option<i64>, _>(11)?.map(Amount::from_minor),
        max_balance_before: row.try_get::<Option<i64>, _>(12)?.map(Amount::from_minor),
        max_balance_asked: row.try_get::<Option<i64>, _>(13)?.map(Amount::from_minor),
        max_balance_granted: row.try_get::<Option<i64>, _>(14)?.map(Amount::from_minor),
    })
}

/// Which requests a read returns: each part unset (`0`, `None`) matches every request.
#[derive(Debug, Clone, Copy, Default)]
struct Filter {
    id: i64,
    member_id: i64,
    status: Option<LimitRequestStatus>,
}

/// Requests matching `filter`, newest first, at most `limit`.
async fn select(store: &Store, filter: Filter, limit: i64) -> ConsoleResult<Vec<LimitRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM limit_requests WHERE ($1 = 0 OR id = $1) \
         AND ($2 = 0 OR member_id = $2) AND ($3 = '' OR status = $3) ORDER BY id DESC LIMIT $4"
    );
    let status = filter.status.map(|s| s.as_str()).unwrap_or("");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(filter.id).bind(filter.member_id).bind(status)
            .bind(limit).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

async fn by_id(store: &Store, id: i64) -> ConsoleResult<LimitRequest> {
    if id <= 0 {
        return Err(ConsoleError::NotFound);
    }
    let filter = Filter {
        id,
        ..Filter::default()
    };
    select(store, filter, 1)
        .await?
        .pop()
        .ok_or(ConsoleError::NotFound)
}

/// Records the owner's request for the limits `wanted` (at least one; each 0 to
/// `LIMIT_MAX` and not the one in force) with a message of 1 to
/// [`LIMIT_REQUEST_MESSAGE_LEN_MAX`] characters (only the member's owner: a credit line
/// commits the company). Refused when one waits already, past
/// [`LIMIT_REQUESTS_PER_WINDOW_MAX`] requests in [`LIMIT_REQUESTS_WINDOW_DAYS`] days, and
/// for a closed account.
pub async fn ask(
    store: &Store,
    user: &User,
    member: &Member,
    wanted: Wanted,
    message: &str,
) -> ConsoleResult<LimitRequest> {
    super::require_owner(user, member)?;
    let (_, account) = resolve(store, Target::Member(member.id)).await?;
    if account.status() == AccountStatus::Closed {
        return Err(ConsoleError::Rejected(Rejection::AccountClosed {
            account: account.id(),
        }));
    }
    let mut issues = Issues::default();
    if wanted == Wanted::default() {
        issues.add(Field::CreditLimit, Problem::Required);
    }
    if let Some(credit_limit) = wanted.credit_limit {
        issues.limit(Field::CreditLimit, credit_limit);
        if credit_limit == account.credit_limit() {
            issues.add(Field::CreditLimit, Problem::SameAsCurrent);
        }
    }
    if let Some(max_balance) = wanted.max_balance {
        issues.limit(Field::MaxBalance, max_balance);
        if Some(max_balance) == account.max_balance() {
            issues.add(Field::MaxBalance, Problem::SameAsCurrent);
        }
    }
    let message = issues.text(Field::Message, message, LIMIT_REQUEST_MESSAGE_LEN_MAX);
    issues.finish()?;
    if pending_of(store, member.id).await?.is_some() {
        return Err(ConsoleError::Conflict(Conflict::LimitRequestPending));
    }
    let now = now_unix();
    let since = now - LIMIT_REQUESTS_WINDOW_DAYS * 86_400;
    let recent: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM limit_requests WHERE member_id = $1 AND created_at > $2")
            .bind(member.id).bind(since).fetch_one(pool).await?
    });
    if recent >= LIMIT_REQUESTS_PER_WINDOW_MAX {
        return Err(ConsoleError::Conflict(Conflict::TooManyLimitRequests));
    }
    let credit_limit = wanted.credit_limit.unwrap_or(account.credit_limit());
    // The upper limit then, only when the request is about it.
    let max_balance_before = wanted
        .max_balance
        .and(account.max_balance())
        .map(Amount::minor);
    let max_balance_asked = wanted.max_balance.map(Amount::minor);
    let sql = "INSERT INTO limit_requests (member_id, requested_by, credit_limit_before, \
               credit_limit_asked, message, status, created_at, max_balance_before, \
               max_balance_asked) \
               VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING id";
    let inserted: Result<i64, sqlx::Error> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(member.id).bind(&user.email).bind(account.credit_limit().minor())
            .bind(credit_limit.minor()).bind(&message).bind(now)
            .bind(max_balance_before).bind(max_balance_asked)
            .fetch_one(pool).await
    });
    // Two requests at once: the one-pending index keeps one.
    let id = super::inserted_or(
        inserted,
        ConsoleError::Conflict(Conflict::LimitRequestPending),
    )?;
    by_id(store, id).await
}

/// The owner withdraws its waiting request. Another member's request is `NotFound`.
pub async fn withdraw(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<LimitRequest> {
    super::require_owner(user, member)?;
    let request = of_member(store, member.id, id).await?;
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE limit_requests SET status = 'withdrawn', decided_at = $1, decided_by = $2 \
             WHERE id = $3 AND member_id = $4 AND status = 'pending'",
        )
        .bind(now_unix()).bind(&user.email).bind(request.id).bind(member.id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::LimitRequestDecided));
    }
    by_id(store, id).await
}

/// One request of the member (its users read it); another member's is `NotFound`.
pub async fn of_member(store: &Store, member_id: i64, id: i64) -> ConsoleResult<LimitRequest> {
    let request = by_id(store, id).await?;
    if request.member_id != member_id {
        return Err(ConsoleError::NotFound);
    }
    Ok(request)
}

/// The member's requests, newest first, at most [`LIMIT_REQUESTS_OF_MEMBER_MAX`].
pub async fn member_requests(store: &Store, member_id: i64) -> ConsoleResult<Vec<LimitRequest>> {
    member_requests_upto(store, member_id, LIMIT_REQUESTS_OF_MEMBER_MAX).await
}

/// The member's requests, newest first, at most `limit` (the data package).
pub async fn member_requests_upto(
    store: &Store,
    member_id: i64,
    limit: i64,
) -> ConsoleResult<Vec<LimitRequest>> {
    let filter = Filter {
        member_id,
        ..Filter::default()
    };
    select(store, filter, limit).await
}

/// The member's requests granted or declined since `since` (unix seconds), newest first, at
/// most 3: the dashboard tells the member the answer.
pub async fn decided_since(
    store: &Store,
    member_id: i64,
    since: i64,
) -> ConsoleResult<Vec<LimitRequest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM limit_requests WHERE member_id = $1 \
         AND status IN ('granted', 'declined') AND decided_at >= $2 ORDER BY id DESC LIMIT 3"
    );
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(since).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

/// The member's waiting request, if any.
pub async fn pending_of(store: &Store, member_id: i64) -> ConsoleResult<Option<LimitRequest>> {
    let filter = Filter {
        member_id,
        status: Some(LimitRequestStatus::Pending),
        ..Filter::default()
    };
    Ok(select(store, filter, 1).await?.pop())
}

/// Requests of every member, newest first, optionally of one status, at most
/// [`LIMIT_REQUESTS_LISTED_MAX`] (readers).
pub async fn list(
    store: &Store,
    actor: &Actor,
    status: Option<LimitRequestStatus>,
) -> ConsoleResult<Vec<LimitRequest>> {
    actor.require_reader()?;
    let filter = Filter {
        status,
        ..Filter::default()
    };
    select(store, filter, LIMIT_REQUESTS_LISTED_MAX).await
}

/// One request (readers).
pub async fn get(store: &Store, actor: &Actor, id: i64) -> ConsoleResult<LimitRequest> {
    actor.require_reader()?;
    by_id(store, id).await
}

/// How many requests wait for a decision.
pub async fn pending_count(store: &Store) -> ConsoleResult<i64> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM limit_requests WHERE status = 'pending'")
            .fetch_one(pool).await?
    });
    Ok(count)
}

/// Grants a waiting request (managers only): each limit it asks for becomes the amount asked,
/// or the one given, through the ledger (a limit it leaves alone stays as it is now), logged
/// as `limit_request.grant`; then the request is marked granted.
pub async fn grant(
    store: &Store,
    actor: &Actor,
    id: i64,
    grant: &Grant,
) -> ConsoleResult<LimitRequest> {
    actor.require_manager()?;
    let request = by_id(store, id).await?;
    if request.status != LimitRequestStatus::Pending {
        return Err(ConsoleError::Conflict(Conflict::LimitRequestDecided));
    }
    let (member, account) = resolve(store, Target::Member(request.member_id)).await?;
    let mut issues = Issues::default();
    let credit_limit = decided(
        &mut issues,
        Field::CreditLimit,
        request
            .asks_credit_limit()
            .then_some(request.credit_limit_asked),
        grant.credit_limit,
    )
    .unwrap_or(account.credit_limit());
    let max_balance_granted = decided(
        &mut issues,
        Field::MaxBalance,
        request.max_balance_asked,
        grant.max_balance,
    );
    let reason = issues.reason(&grant.reason);
    issues.finish()?;
    let note = actor
        .note("limit_request.grant", &reason)?
        .member(member.id)
        .account(member.account().0)
        .states(
            json!({ "limit_request": id, "status": "pending",
                    "credit_limit_asked": request.credit_limit_asked.minor(),
                    "max_balance_asked": request.max_balance_asked.map(Amount::minor) }),
            json!({ "limit_request": id, "status": "granted",
                    "credit_limit_granted": credit_limit.minor(),
                    "max_balance_granted": max_balance_granted.map(Amount::minor) }),
        );
    let key = IdempotencyKey::new(format!("console-limit-request-{id}"))
        .expect("a console key is short visible ASCII");
    let change = LimitsChange {
        credit_limit,
        max_balance: max_balance_granted.or(account.max_balance()),
        reason: reason.clone(),
    };
    match write_limits(store, actor, &member, &account, change, key, note).await {
        Ok(_) => {}
        // The key was used for other figures: another grant of this request came first.
        Err(ConsoleError::Rejected(Rejection::IdempotencyConflict)) => {
            return Err(ConsoleError::Conflict(Conflict::LimitRequestDecided));
        }
        Err(error) => return Err(error),
    }
    // The limit changed: the request says so even if it was withdrawn or declined while the
    // ledger decided (the action log keeps both decisions).
    dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE limit_requests SET status = 'granted', decided_at = $1, decided_by = $2, \
             decision_reason = $3, credit_limit_granted = $4, max_balance_granted = $5 \
             WHERE id = $6 AND status <> 'granted'",
        )
        .bind(now_unix()).bind(actor.email()).bind(&reason).bind(credit_limit.minor())
        .bind(max_balance_granted.map(Amount::minor)).bind(id)
        .execute(pool).await?;
    });
    by_id(store, id).await
}

/// One limit a grant decides: the amount `given`, or the one `asked` when none is given,
/// checked; `None` when the request does not ask for it, and giving one then is `NotAsked`.
fn decided(
    issues: &mut Issues,
    field: Field,
    asked: Option<Amount>,
    given: Option<Amount>,
) -> Option<Amount> {
    match (asked, given) {
        (None, None) => None,
        (None, Some(_)) => {
            issues.add(field, Problem::NotAsked);
            None
        }
        (Some(asked), given) => {
            let amount = given.unwrap_or(asked);
            issues.limit(field, amount);
            Some(amount)
        }
    }
}

/// Declines a waiting request with a reason the member reads (managers only), logged as
/// `limit_request.decline` in the same transaction.
pub async fn decline(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> ConsoleResult<LimitRequest> {
    actor.require_manager()?;
    let request = by_id(store, id).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let note = actor
        .note("limit_request.decline", &reason)?
        .member(request.member_id)
        .states(
            json!({ "limit_request": id, "status": "pending",
                    "credit_limit_asked": request.credit_limit_asked.minor(),
                    "max_balance_asked": request.max_balance_asked.map(Amount::minor) }),
            json!({ "limit_request": id, "status": "declined" }),
        );
    let now = now_unix();
    let result: ConsoleResult<()> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE limit_requests SET status = 'declined', decided_at = $1, decided_by = $2, \
                 decision_reason = $3 WHERE id = $4 AND status = 'pending'",
            )
            .bind(now).bind(actor.email()).bind(&reason).bind(id)
            .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(ConsoleError::Conflict(Conflict::LimitRequestDecided));
            }
            insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
            Ok(())
        }.await
    });
    result?;
    by_id(store, id).await
}
