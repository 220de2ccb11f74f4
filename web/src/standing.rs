//! Standing orders (« virements permanents »): a member company pays another the same amount
//! every week or every month (rent, a subscription, a maintenance contract paid in barter),
//! from a first date until an optional last date or until either company stops it.
//!
//! Rows only, like `trade`: the money moves through the store's write path. Each due date is
//! paid by [`run_due`] (the server's housekeeping calls it every few minutes; the pages call
//! [`run_due_of`] for the order they just set up) under the idempotency key
//! `standing-ID-DATE`, so a due date is
//! paid at most once whatever the number of processes, retries or restarts. A refused
//! payment (not enough credit, a frozen account) is not retried: the due date is recorded
//! with the ledger's refusal and the order moves on to the next one, as a bank does. A closed
//! account ends the order. Due date k is the first date plus k weeks or k months (the
//! month's last day when the first date's day is past it; never drifting).
//!
//! Errors are the console's typed [`ConsoleError`]s (fields and codes shared with the API).
//! Not here: paying in advance, amounts that vary, or a standing order decided by anyone but
//! the paying company (a payee asks with a payment request).

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use ledger::{AccountStatus, Amount, IdempotencyKey, Rejection};
use sqlx::Row;

use crate::console::{Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::{self, now_unix, Member, Role, User};
use crate::store::Store;
use crate::trade::{self, PaymentOrder};

/// Active standing orders one member pays at most.
pub const STANDING_ORDERS_ACTIVE_MAX: i64 = 50;
/// Standing orders a member's list shows (newest first), paid and received each.
pub const STANDING_ORDERS_LISTED_MAX: i64 = 100;
/// How far ahead the first payment may be, in days.
pub const FIRST_DATE_AHEAD_DAYS_MAX: i64 = 366;
/// How long after the first payment the last may be, in days (ten years).
pub const END_DATE_AFTER_DAYS_MAX: i64 = 3_660;
/// Due dates one [`run_due`] pays at most (the rest wait for the next sweep).
pub const RUNS_PER_SWEEP_MAX: usize = 1_000;
/// Orders one read of [`run_due`] takes.
const DUE_BATCH_ROWS: i64 = 200;
/// Reads of due orders one [`run_due`] makes at most.
const SWEEP_ROUNDS_MAX: usize = 50;
/// Runs an order's detail shows (newest first).
pub const RUNS_LISTED_MAX: i64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Week,
    Month,
}

impl Every {
    /// Every period, in the order the API lists them.
    pub const ALL: [Every; 2] = [Every::Week, Every::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Every::Week => "week",
            Every::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Every> {
        Every::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingStatus {
    Active,
    /// Stopped by either company.
    Cancelled,
    /// Past its last date, or an account closed.
    Finished,
}

impl StandingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StandingStatus::Active => "active",
            StandingStatus::Cancelled => "cancelled",
            StandingStatus::Finished => "finished",
        }
    }

    pub fn parse(text: &str) -> Option<StandingStatus> {
        [
            StandingStatus::Active,
            StandingStatus::Cancelled,
            StandingStatus::Finished,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Due date `k` of an order starting on `first` (`None` past the calendar's end).
pub fn due_date(first: NaiveDate, every: Every, k: i64) -> Option<NaiveDate> {
    let k = u32::try_from(k).ok()?;
    match every {
        Every::Week => first.checked_add_signed(Duration::weeks(i64::from(k))),
        Every::Month => first.checked_add_months(Months::new(k)),
    }
}

/// What the paying company's user types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStanding {
    pub payee_member_id: i64,
    pub amount: Amount,
    pub reference: String,
    pub memo: String,
    pub every: Every,
    pub first_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingOrder {
    pub id: i64,
    pub payer_member_id: i64,
    pub payee_member_id: i64,
    pub amount: Amount,
    pub reference: String,
    pub memo: String,
    pub every: Every,
    pub first_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// The next due date while active.
    pub next_date: Option<NaiveDate>,
    pub runs: i64,
    pub status: StandingStatus,
    pub created_by: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

/// One due date and what the ledger did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub due_date: NaiveDate,
    /// The payment, when it was made.
    pub tx_id: Option<i64>,
    /// The ledger's refusal code, when it was refused.
    pub rejection: Option<String>,
    pub ran_at: i64,
}

/// A run as read: due date, transaction, refusal code, time.
type RunRow = (String, Option<i64>, Option<String>, i64);
/// A run as read with its order's id first.
type LastRunRow = (i64, String, Option<i64>, Option<String>, i64);

fn run_of(
    due: String,
    tx_id: Option<i64>,
    rejection: Option<String>,
    ran_at: i64,
) -> Result<Run, sqlx::Error> {
    Ok(Run {
        due_date: date_of(&due)?,
        tx_id,
        rejection,
        ran_at,
    })
}

const COLUMNS: &str = "id, payer_member_id, payee_member_id, amount, reference, memo, every, \
     first_date, end_date, next_date, runs, status, created_by, created_at, ended_at, ended_by";

fn date_of(text: &str) -> Result<NaiveDate, sqlx::Error> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| sqlx::Error::ColumnDecode {
        index: "date".into(),
        source: Box::new(e),
    })
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn from_row<R>(row: &R) -> Result<StandingOrder, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let every: String = row.try_get(6)?;
    let status: String = row.try_get(11)?;
    let corrupt = |what: &str, text: &str| sqlx::Error::ColumnDecode {
        index: what.into(),
        source: format!("unknown {what} {text:?}").into(),
    };
    Ok(StandingOrder {
        id: row.try_get(0)?,
        payer_member_id: row.try_get(1)?,
        payee_member_id: row.try_get(2)?,
        amount: Amount::from_minor(row.try_get(3)?),
        reference: row.try_get(4)?,
        memo: row.try_get(5)?,
        every: Every::parse(&every).ok_or_else(|| corrupt("every", &every))?,
        first_date: date_of(&row.try_get::<String, _>(7)?)?,
        end_date: row
            .try_get::<Option<String>, _>(8)?
            .as_deref()
            .map(date_of)
            .transpose()?,
        next_date: row
            .try_get::<Option<String>, _>(9)?
            .as_deref()
            .map(date_of)
            .transpose()?,
        runs: row.try_get(10)?,
        status: StandingStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        created_by: row.try_get(12)?,
        created_at: row.try_get(13)?,
        ended_at: row.try_get(14)?,
        ended_by: row.try_get(15)?,
    })
}

/// One order by id, whoever's.
async fn by_id(store: &Store, id: i64) -> ConsoleResult<StandingOrder> {
    let sql = format!("SELECT {COLUMNS} FROM standing_orders WHERE id = $1");
    let found = dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Some(from_row(&row)?),
            None => None,
        }
    });
    found.ok_or(ConsoleError::NotFound)
}

/// The order if `member_id` pays or receives it; `NotFound` otherwise.
pub async fn of_member(store: &Store, member_id: i64, id: i64) -> ConsoleResult<StandingOrder> {
    let order = by_id(store, id).await?;
    if order.payer_member_id != member_id && order.payee_member_id != member_id {
        return Err(ConsoleError::NotFound);
    }
    Ok(order)
}

/// One order whoever's (the network's staff).
pub async fn get(store: &Store, id: i64) -> ConsoleResult<StandingOrder> {
    by_id(store, id).await
}

/// The orders the member pays and those it receives, newest first, at most
/// [`STANDING_ORDERS_LISTED_MAX`] each.
pub async fn member_orders(
    store: &Store,
    member_id: i64,
) -> ConsoleResult<(Vec<StandingOrder>, Vec<StandingOrder>)> {
    member_orders_upto(store, member_id, STANDING_ORDERS_LISTED_MAX).await
}

/// [`member_orders`], at most `limit` each (the data package).
pub async fn member_orders_upto(
    store: &Store,
    member_id: i64,
    limit: i64,
) -> ConsoleResult<(Vec<StandingOrder>, Vec<StandingOrder>)> {
    let mut sides = Vec::with_capacity(2);
    for column in ["payer_member_id", "payee_member_id"] {
        let sql = format!(
            "SELECT {COLUMNS} FROM standing_orders WHERE {column} = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows = dispatch!(store.backend(), pool => {
            let rows = sqlx::query(&sql).bind(member_id).bind(limit)
                .fetch_all(pool).await?;
            rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?
        });
        sides.push(rows);
    }
    let received = sides.pop().unwrap_or_default();
    let paid = sides.pop().unwrap_or_default();
    Ok((paid, received))
}

/// An order's latest runs, newest first, at most [`RUNS_LISTED_MAX`].
pub async fn runs(store: &Store, order_id: i64) -> ConsoleResult<Vec<Run>> {
    runs_upto(store, order_id, RUNS_LISTED_MAX).await
}

/// An order's latest runs, newest first, at most `limit`.
pub async fn runs_upto(store: &Store, order_id: i64, limit: i64) -> ConsoleResult<Vec<Run>> {
    let rows: Vec<RunRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT due_date, tx_id, rejection, ran_at FROM standing_order_runs \
             WHERE order_id = $1 ORDER BY due_date DESC LIMIT $2")
            .bind(order_id).bind(limit).fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|(due, tx_id, rejection, ran_at)| run_of(due, tx_id, rejection, ran_at))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(ConsoleError::from)
}

/// The latest run of each of these orders (orders never run are absent): one read, bounded
/// by the ids the page shows.
pub async fn last_runs(
    store: &Store,
    orders: &std::collections::BTreeSet<i64>,
) -> ConsoleResult<std::collections::HashMap<i64, Run>> {
    if orders.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!(
        "SELECT r.order_id, r.due_date, r.tx_id, r.rejection, r.ran_at \
         FROM standing_order_runs r WHERE {} AND r.due_date = \
         (SELECT MAX(l.due_date) FROM standing_order_runs l WHERE l.order_id = r.order_id)",
        crate::store::in_id_list(store.kind(), "r.order_id", 1)
    );
    let ids = crate::store::id_list(orders.iter().filter_map(|id| u64::try_from(*id).ok()));
    let rows: Vec<LastRunRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|(order, due, tx_id, rejection, ran_at)| {
            Ok((order, run_of(due, tx_id, rejection, ran_at)?))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ConsoleError::from)
}

/// A due date the ledger refused, for the reminders of both companies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRun {
    pub order_id: i64,
    pub payer_member_id: i64,
    pub payee_member_id: i64,
    pub amount: Amount,
    pub due_date: NaiveDate,
    /// The ledger's refusal code.
    pub rejection: String,
}

/// Reminders shown at most (the latest refusals).
pub const REFUSED_SHOWN_MAX: i64 = 5;

/// The due dates refused since `since` (unix seconds) of the orders the member pays or
/// receives, newest first, at most [`REFUSED_SHOWN_MAX`]: one read, usually empty (the
/// dashboard's reminders).
pub async fn refused_since(
    store: &Store,
    member_id: i64,
    since: i64,
) -> ConsoleResult<Vec<RefusedRun>> {
    let rows: Vec<(i64, i64, i64, i64, String, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT o.id, o.payer_member_id, o.payee_member_id, o.amount, r.due_date, \
             r.rejection FROM standing_orders o JOIN standing_order_runs r ON r.order_id = o.id \
             WHERE (o.payer_member_id = $1 OR o.payee_member_id = $1) \
             AND r.rejection IS NOT NULL AND r.ran_at >= $2 \
             ORDER BY r.ran_at DESC, o.id DESC LIMIT $3")
            .bind(member_id).bind(since).bind(REFUSED_SHOWN_MAX)
            .fetch_all(pool).await?
    });
    rows.into_iter()
        .map(
            |(order_id, payer_member_id, payee_member_id, amount, due, rejection)| {
                Ok(RefusedRun {
                    order_id,
                    payer_member_id,
                    payee_member_id,
                    amount: Amount::from_minor(amount),
                    due_date: date_of(&due)?,
                    rejection,
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(ConsoleError::from)
}

/// Records a standing order of `payer` (its owner or staff acting) to `new.payee_member_id`,
/// checked: another member whose account is open; an amount above zero and within the
/// network's largest payment; reference and memo within the ledger's limits; a first date
/// from `today` to [`FIRST_DATE_AHEAD_DAYS_MAX`] days ahead; a last date, if any, from the
/// first to [`END_DATE_AFTER_DAYS_MAX`] days after it; at most
/// [`STANDING_ORDERS_ACTIVE_MAX`] active orders. Nothing is paid here: [`run_due`] pays.
pub async fn create(
    store: &Store,
    user: &User,
    payer: &Member,
    new: &NewStanding,
    today: NaiveDate,
) -> ConsoleResult<StandingOrder> {
    if user.member_id != Some(payer.id) || !matches!(user.role, Role::Owner | Role::Staff) {
        return Err(ConsoleError::Forbidden);
    }
    let mut issues = Issues::default();
    let payee = if new.payee_member_id == payer.id {
        issues.add(Field::Payee, Problem::InvalidChoice);
        None
    } else {
        match people::member(store, new.payee_member_id).await? {
            Some(payee) => Some(payee),
            None => {
                issues.add(Field::Payee, Problem::InvalidChoice);
                None
            }
        }
    };
    if let Some(payee) = &payee {
        let account = store.account(payee.account()).await?;
        if account.is_none_or(|a| a.status() == AccountStatus::Closed) {
            issues.add(Field::Payee, Problem::InvalidChoice);
        }
    }
    let max = store.policy().await?.amount_per_tx_max;
    if new.amount.minor() <= 0 {
        issues.add(Field::Amount, Problem::InvalidAmount);
    } else if new.amount > max {
        issues.add(Field::Amount, Problem::AmountAboveMax { max });
    } else if let Err(over) = user.may_commit(new.amount) {
        // Every run commits the company to the amount: a staff user's limit applies.
        issues.add(Field::Amount, Problem::OverPaymentMax { max: over.max });
    } else if let (Role::Staff, Some(max)) = (user.role, user.payment_month_max) {
        // Each run counts in the month of whoever set it up: one run over the limit per
        // month could never be paid.
        if new.amount.minor() > max {
            issues.add(
                Field::Amount,
                Problem::OverMonthMax {
                    max: Amount::from_minor(max),
                },
            );
        }
    }
    let ahead = today + Duration::days(FIRST_DATE_AHEAD_DAYS_MAX);
    if new.first_date < today || new.first_date > ahead {
        issues.add(Field::FirstDate, Problem::InvalidDate);
    }
    if let Some(end) = new.end_date {
        let latest = new.first_date + Duration::days(END_DATE_AFTER_DAYS_MAX);
        if end < new.first_date || end > latest {
            issues.add(Field::EndDate, Problem::InvalidDate);
        }
    }
    issues.finish()?;
    let reference = new.reference.trim().to_owned();
    let memo = new.memo.trim().to_owned();
    ledger::validate_text(&reference, &memo).map_err(ConsoleError::Rejected)?;
    let active: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM standing_orders WHERE payer_member_id = $1 AND status = 'active'")
            .bind(payer.id).fetch_one(pool).await?
    });
    if active >= STANDING_ORDERS_ACTIVE_MAX {
        return Err(ConsoleError::Conflict(Conflict::TooManyStandingOrders));
    }
    let first = day(new.first_date);
    let id: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "INSERT INTO standing_orders (payer_member_id, payee_member_id, amount, reference, \
             memo, every, first_date, end_date, next_date, runs, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, 0, 'active', $9, $10) RETURNING id")
            .bind(payer.id).bind(new.payee_member_id).bind(new.amount.minor())
            .bind(&reference).bind(&memo).bind(new.every.as_str()).bind(&first)
            .bind(new.end_date.map(day)).bind(&user.email).bind(now_unix())
            .fetch_one(pool).await?
    });
    by_id(store, id).await
}

/// Stops an active order: the paying or the receiving company's owner or staff.
pub async fn cancel(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<StandingOrder> {
    if user.member_id != Some(member.id) || !matches!(user.role, Role::Owner | Role::Staff) {
        return Err(ConsoleError::Forbidden);
    }
    let order = of_member(store, member.id, id).await?;
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE standing_orders SET status = 'cancelled', next_date = NULL, ended_at = $1, \
             ended_by = $2 WHERE id = $3 AND status = 'active'")
            .bind(now_unix()).bind(&user.email).bind(order.id)
            .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::StandingOrderEnded));
    }
    by_id(store, id).await
}

/// What one [`run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub paid: usize,
    pub refused: usize,
}

/// Pays every due date up to `today` of the active orders (the oldest first, at most
/// [`RUNS_PER_SWEEP_MAX`]), each under its own idempotency key, and records each outcome;
/// an order past its last date, or whose payer or payee account closed, finishes.
/// `today` is passed in so that tests drive the calendar.
pub async fn run_due(store: &Store, today: NaiveDate) -> ConsoleResult<Swept> {
    sweep(store, today, None).await
}

/// [`run_due`] for one order only: what the pages and the API call right after setting one
/// up, so that a first date of today is paid before they answer, without paying the rest of
/// the network's due dates on the member's request.
pub async fn run_due_of(store: &Store, order_id: i64, today: NaiveDate) -> ConsoleResult<Swept> {
    sweep(store, today, Some(order_id)).await
}

async fn sweep(store: &Store, today: NaiveDate, only: Option<i64>) -> ConsoleResult<Swept> {
    let mut swept = Swept::default();
    let today_text = day(today);
    let only = only.unwrap_or(0);
    let sql = format!(
        "SELECT {COLUMNS} FROM standing_orders WHERE status = 'active' AND next_date <= $1 \
         AND ($3 = 0 OR id = $3) ORDER BY next_date, id LIMIT $2"
    );
    // Each round reads the orders still due; a round where another process moved every one
    // on first pays nothing, so the rounds are bounded too.
    for _round in 0..SWEEP_ROUNDS_MAX {
        if swept.paid + swept.refused >= RUNS_PER_SWEEP_MAX {
            break;
        }
        let due: Vec<StandingOrder> = dispatch!(store.backend(), pool => {
            let rows = sqlx::query(&sql).bind(&today_text).bind(DUE_BATCH_ROWS).bind(only)
                .fetch_all(pool).await?;
            rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?
        });
        if due.is_empty() {
            break;
        }
        for order in due {
            if swept.paid + swept.refused >= RUNS_PER_SWEEP_MAX {
                break;
            }
            match run_one(store, &order, Utc::now()).await? {
                Some(true) => swept.paid += 1,
                Some(false) => swept.refused += 1,
                None => {}
            }
        }
    }
    Ok(swept)
}

/// The refusal recorded for a run that would take the staff user who set the order up
/// over its limit per month (`spending`): the API's code for it too.
pub const OVER_MONTH_LIMIT: &str = "over_month_limit";

/// Pays `order`'s next due date and moves it on. `Some(true)` paid, `Some(false)` refused,
/// `None` when another process moved it on first.
async fn run_one(
    store: &Store,
    order: &StandingOrder,
    now: DateTime<Utc>,
) -> ConsoleResult<Option<bool>> {
    let Some(due) = order.next_date else {
        return Ok(None);
    };
    let payer = people::member(store, order.payer_member_id).await?;
    let payee = people::member(store, order.payee_member_id).await?;
    let (Some(payer), Some(payee)) = (payer, payee) else {
        return Err(ConsoleError::NotFound);
    };
    let key = IdempotencyKey::new(format!("standing-{}-{}", order.id, day(due)))
        .expect("a standing order's key is short visible ASCII");
    let payment = PaymentOrder {
        amount: order.amount,
        reference: order.reference.clone(),
        memo: order.memo.clone(),
    };
    // Entered by whoever set the order up, for the paying company; a staff user's run counts
    // in its month, as its own payment would (a run over it is refused, nothing paid).
    let author = crate::store::Author::new(order.payer_member_id, &order.created_by);
    let setter = people::user_by_email(store, &order.created_by)
        .await?
        .filter(|user| user.member_id == Some(order.payer_member_id));
    let held = match &setter {
        Some(user) => {
            crate::spending::hold(store, user, key.as_str(), order.amount, now.timestamp()).await?
        }
        None => Ok(crate::spending::Held::nothing()),
    };
    let (decision, closed) = match held {
        Ok(held) => {
            let decision = trade::pay(store, key, &payer, &payee, payment, Some(author)).await?;
            held.after(store, &decision).await?;
            let closed = matches!(decision, Err(Rejection::AccountClosed { .. }));
            (
                decision.map_err(|rejection| rejection.code().to_owned()),
                closed,
            )
        }
        Err(_) => (Err(OVER_MONTH_LIMIT.to_owned()), false),
    };
    let (tx_id, rejection) = match &decision {
        Ok(outcome) => (outcome.tx().map(|t| t.0 as i64), None),
        Err(code) => (None, Some(code.clone())),
    };
    let next = due_date(order.first_date, order.every, order.runs + 1);
    let past_end = match (next, order.end_date) {
        (Some(next), Some(end)) => next > end,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let finished = closed || past_end;
    let next_text = if finished { None } else { next.map(day) };
    let status = if finished {
        StandingStatus::Finished
    } else {
        StandingStatus::Active
    };
    let ended_at = finished.then_some(now.timestamp());
    let moved: ConsoleResult<bool> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE standing_orders SET runs = runs + 1, next_date = $1, status = $2, \
                 ended_at = $3 WHERE id = $4 AND runs = $5 AND status = 'active'")
                .bind(&next_text).bind(status.as_str()).bind(ended_at).bind(order.id)
                .bind(order.runs)
                .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO standing_order_runs (order_id, due_date, tx_id, rejection, ran_at) \
                 VALUES ($1, $2, $3, $4, $5)")
                .bind(order.id).bind(day(due)).bind(tx_id).bind(&rejection)
                .bind(now.timestamp())
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        }.await
    });
    if !moved? {
        return Ok(None);
    }
    Ok(Some(decision.is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn monthly_due_dates_keep_their_day_and_never_drift() {
        let first = d("2027-01-31");
        let dates: Vec<NaiveDate> = (0..4)
            .map(|k| due_date(first, Every::Month, k).unwrap())
            .collect();
        assert_eq!(
            dates,
            [
                d("2027-01-31"),
                d("2027-02-28"),
                d("2027-03-31"),
                d("2027-04-30")
            ]
        );
        assert_eq!(
            due_date(d("2028-01-31"), Every::Month, 1),
            Some(d("2028-02-29"))
        );
    }

    #[test]
    fn weekly_due_dates_are_seven_days_apart() {
        let first = d("2027-12-27");
        assert_eq!(due_date(first, Every::Week, 0), Some(first));
        assert_eq!(due_date(first, Every::Week, 1), Some(d("2028-01-03")));
        assert_eq!(due_date(first, Every::Week, 52), Some(d("2028-12-25")));
        assert_eq!(due_date(first, Every::Week, -1), None);
    }

    #[test]
    fn frequencies_and_statuses_read_back() {
        for every in [Every::Week, Every::Month] {
            assert_eq!(Every::parse(every.as_str()), Some(every));
        }
        for status in [
            StandingStatus::Active,
            StandingStatus::Cancelled,
            StandingStatus::Finished,
        ] {
            assert_eq!(StandingStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Every::parse("day"), None);
    }
}
