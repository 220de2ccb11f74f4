//! Multilateral set-off of outside invoices (docs/web.md, "Set-off of outside invoices",
//! migration 0042). Member companies also owe each other euros, on ordinary invoices
//! settled outside the barter ledger. A company declares such an invoice it issued to
//! another member (its number, the amount tax included, the day it is due); the debtor
//! confirms it owes it, or rejects it with a reason. A network manager then runs a set-off:
//! over the confirmed invoices still owed, `ledger::set_off` finds the largest amounts to
//! cancel that leave every company's net position unchanged (A owes B, B owes C, C owes A:
//! the smallest of the three is cancelled on each), and each invoice's amount still owed
//! goes down by its share, in one write transaction that also records the run, its lines
//! and the action (`setoff.run`). An invoice cancelled in full is `cleared`. The creditor
//! closes an invoice paid otherwise (or declared by mistake) with a reason.
//!
//! Each company reads its invoices, both sides, and what each set-off cancelled on them;
//! the network's staff read every run. Members' steps are not in the action log (the
//! operators' record); the row keeps who did them and when.
//!
//! Not here: any movement of barter or euros. A set-off only says by how much each invoice
//! is reduced; each company books it (a "compensation" entry between its 411 and 401
//! accounts). Not here either: the pages (`http::setoff`, `http::console::setoff`) and the
//! API (`http::api::setoff`).

use chrono::{Duration, NaiveDate};
use ledger::{Amount, Obligation, SETOFF_AMOUNT_MAX, SETOFF_OBLIGATIONS_MAX};
use serde_json::json;
use sqlx::Row;

use crate::console::{Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::{self, now_unix, Member, User};
use crate::store::action_log::{insert_action, Conn};
use crate::store::{BackendKind, Store};

/// Longest invoice number, in characters.
pub const NUMBER_LEN_MAX: usize = 40;
/// The due day is at most this many days before or after the day it is declared.
pub const DUE_DAYS_MAX: i64 = 365;
/// Invoices a company may have declared and still waiting (declared or confirmed) at once.
pub const OPEN_PER_MEMBER_MAX: i64 = 200;
/// Invoices a company's page and the API list, newest first.
pub const OF_MEMBER_MAX: i64 = 200;
/// Set-off lines a company's page lists, newest first.
pub const LINES_OF_MEMBER_MAX: i64 = 200;
/// Runs the console and the API list, newest first.
pub const RUNS_LISTED_MAX: i64 = 50;
/// Confirmed invoices one run takes at most, oldest first (the next run takes the rest).
pub const RUN_INVOICES_MAX: usize = SETOFF_OBLIGATIONS_MAX;
/// The action-log code of a run.
pub const ACTION_SETOFF_RUN: &str = "setoff.run";

/// The largest amount of one invoice.
pub fn amount_max() -> Amount {
    Amount::from_minor(SETOFF_AMOUNT_MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    /// Waits for the debtor.
    Declared,
    /// The debtor owes it: set-offs take it while something is owed.
    Confirmed,
    /// The debtor says it does not owe it.
    Rejected,
    /// The creditor closed it (paid otherwise, or declared by mistake).
    Closed,
    /// Set-offs cancelled all of it.
    Cleared,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Declared,
        InvoiceStatus::Confirmed,
        InvoiceStatus::Rejected,
        InvoiceStatus::Closed,
        InvoiceStatus::Cleared,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Declared => "declared",
            InvoiceStatus::Confirmed => "confirmed",
            InvoiceStatus::Rejected => "rejected",
            InvoiceStatus::Closed => "closed",
            InvoiceStatus::Cleared => "cleared",
        }
    }

    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        InvoiceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An invoice one member declared on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideInvoice {
    pub id: i64,
    pub creditor_member_id: i64,
    pub creditor_name: String,
    pub debtor_member_id: i64,
    pub debtor_name: String,
    pub number: String,
    pub amount: Amount,
    /// What is still owed: the amount less what set-offs cancelled.
    pub open: Amount,
    pub due_on: NaiveDate,
    pub status: InvoiceStatus,
    pub declared_by: String,
    pub declared_at: i64,
    /// The debtor's answer: who and when.
    pub answered: Option<(String, i64)>,
    /// The creditor's closing: who and when.
    pub closed: Option<(String, i64)>,
    /// The debtor's reason for rejecting it, or the creditor's for closing it.
    pub note: Option<String>,
}

/// What a company declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewInvoice {
    /// The debtor's member id, as typed.
    pub debtor: String,
    pub number: String,
    /// Tax included, as typed ("1 234,50").
    pub amount: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

const SELECT: &str = "SELECT i.id, i.creditor_member_id, c.name, i.debtor_member_id, d.name, \
     i.number, i.amount_minor, i.open_minor, i.due_on, i.status, i.declared_by, \
     i.declared_at, i.answered_by, i.answered_at, i.closed_by, i.closed_at, i.note \
     FROM outside_invoices i JOIN members c ON c.id = i.creditor_member_id \
     JOIN members d ON d.id = i.debtor_member_id";

fn corrupt(id: i64, what: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: what.into(),
        source: format!("outside invoice {id}: unreadable {what}").into(),
    }
}

fn from_row<R>(row: &R) -> Result<OutsideInvoice, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let id: i64 = row.try_get(0)?;
    let due_on: String = row.try_get(8)?;
    let due_on =
        NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").map_err(|_| corrupt(id, "due_on"))?;
    let status: String = row.try_get(9)?;
    let status = InvoiceStatus::parse(&status).ok_or_else(|| corrupt(id, "status"))?;
    let answered_by: Option<String> = row.try_get(12)?;
    let closed_by: Option<String> = row.try_get(14)?;
    Ok(OutsideInvoice {
        id,
        creditor_member_id: row.try_get(1)?,
        creditor_name: row.try_get(2)?,
        debtor_member_id: row.try_get(3)?,
        debtor_name: row.try_get(4)?,
        number: row.try_get(5)?,
        amount: Amount::from_minor(row.try_get(6)?),
        open: Amount::from_minor(row.try_get(7)?),
        due_on,
        status,
        declared_by: row.try_get(10)?,
        declared_at: row.try_get(11)?,
        answered: answered_by.zip(row.try_get::<Option<i64>, _>(13)?),
        closed: closed_by.zip(row.try_get::<Option<i64>, _>(15)?),
        note: row.try_get(16)?,
    })
}

async fn select(
    store: &Store,
    where_sql: &str,
    id: i64,
    limit: i64,
) -> ConsoleResult<Vec<OutsideInvoice>> {
    let sql = format!("{SELECT} WHERE {where_sql} LIMIT $2");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

/// Invoice `id`, whoever's it is (the callers check).
pub async fn by_id(store: &Store, id: i64) -> ConsoleResult<OutsideInvoice> {
    if id <= 0 {
        return Err(ConsoleError::NotFound);
    }
    select(store, "i.id = $1", id, 1)
        .await?
        .pop()
        .ok_or(ConsoleError::NotFound)
}

/// Invoice `id` if `member` is its creditor or its debtor; anyone else's is `NotFound`.
pub async fn of_member_by_id(
    store: &Store,
    member: &Member,
    id: i64,
) -> ConsoleResult<OutsideInvoice> {
    let invoice = by_id(store, id).await?;
    if invoice.creditor_member_id == member.id || invoice.debtor_member_id == member.id {
        Ok(invoice)
    } else {
        Err(ConsoleError::NotFound)
    }
}

/// The company's invoices, issued and received, newest first, at most `limit`.
pub async fn of_member(
    store: &Store,
    member_id: i64,
    limit: i64,
) -> ConsoleResult<Vec<OutsideInvoice>> {
    select(
        store,
        "(i.creditor_member_id = $1 OR i.debtor_member_id = $1) ORDER BY i.id DESC",
        member_id,
        limit,
    )
    .await
}

/// Declares an invoice `member` issued to another member; it waits for the debtor. Each
/// field's problem is named (the debtor: a member other than the company, its account not
/// closed; the number: 1 to [`NUMBER_LEN_MAX`] characters, once per creditor; the amount:
/// above zero, at most [`amount_max`]; the due day: within [`DUE_DAYS_MAX`] days of
/// `today`). With [`OPEN_PER_MEMBER_MAX`] waiting or confirmed already:
/// `TooManyOutsideInvoices`.
pub async fn declare(
    store: &Store,
    user: &User,
    member: &Member,
    new: &NewInvoice,
    today: NaiveDate,
) -> ConsoleResult<OutsideInvoice> {
    let mut issues = Issues::default();
    let debtor = match new.debtor.trim().parse::<i64>() {
        Ok(id) if id > 0 && id != member.id => people::member(store, id).await?,
        _ => None,
    };
    // A company that left the network (its account closed) confirms nothing any more.
    let debtor = match debtor {
        Some(debtor) => {
            let account = store.account(debtor.account()).await?;
            account
                .filter(|a| a.status() != ledger::AccountStatus::Closed)
                .map(|_| debtor)
        }
        None => None,
    };
    if debtor.is_none() {
        let problem = if new.debtor.trim().is_empty() {
            Problem::Required
        } else {
            Problem::InvalidChoice
        };
        issues.add(Field::Debtor, problem);
    }
    let number = issues.text(Field::Number, &new.number, NUMBER_LEN_MAX);
    let amount = match crate::console::parse_amount(&new.amount) {
        Ok(Some(amount)) if amount > amount_max() => {
            issues.add(Field::Amount, Problem::AmountAboveMax { max: amount_max() });
            None
        }
        Ok(Some(amount)) if amount.minor() > 0 => Some(amount),
        Ok(Some(_)) => {
            issues.add(Field::Amount, Problem::InvalidAmount);
            None
        }
        Ok(None) => {
            issues.add(Field::Amount, Problem::Required);
            None
        }
        Err(problem) => {
            issues.add(Field::Amount, problem);
            None
        }
    };
    let due_on = match NaiveDate::parse_from_str(new.due_on.trim(), "%Y-%m-%d") {
        Ok(day)
            if day >= today - Duration::days(DUE_DAYS_MAX)
                && day <= today + Duration::days(DUE_DAYS_MAX) =>
        {
            Some(day)
        }
        _ => {
            issues.add(Field::DueOn, Problem::InvalidDate);
            None
        }
    };
    issues.finish()?;
    let (Some(debtor), Some(amount), Some(due_on)) = (debtor, amount, due_on) else {
        unreachable!("every missing value added an issue");
    };
    let begin = store.begin_write_sql();
    let due_text = due_on.to_string();
    // The count and the insert in one write transaction: two declarations at once do not
    // pass the limit together (PostgreSQL locks the creditor's member row).
    let inserted: Result<Option<i64>, sqlx::Error> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        if store.kind() == BackendKind::Postgres {
            sqlx::query("SELECT id FROM members WHERE id = $1 FOR UPDATE")
                .bind(member.id).execute(&mut *tx).await?;
        }
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outside_invoices WHERE creditor_member_id = $1 \
             AND status IN ('declared', 'confirmed')")
            .bind(member.id).fetch_one(&mut *tx).await?;
        if waiting >= OPEN_PER_MEMBER_MAX {
            Ok(None)
        } else {
            let id = sqlx::query_scalar(
                "INSERT INTO outside_invoices (creditor_member_id, debtor_member_id, number, \
                 amount_minor, open_minor, due_on, status, declared_by, declared_at) \
                 VALUES ($1, $2, $3, $4, $4, $5, 'declared', $6, $7) RETURNING id")
                .bind(member.id).bind(debtor.id).bind(&number).bind(amount.minor())
                .bind(&due_text).bind(&user.email).bind(now_unix())
                .fetch_one(&mut *tx).await;
            match id {
                Ok(id) => {
                    tx.commit().await?;
                    Ok(Some(id))
                }
                Err(error) => Err(error),
            }
        }
    });
    let refusal = ConsoleError::Conflict(Conflict::InvoiceNumberTaken);
    let id = match inserted {
        Ok(None) => return Err(ConsoleError::Conflict(Conflict::TooManyOutsideInvoices)),
        Ok(Some(id)) => Ok(id),
        Err(error) => Err(error),
    };
    let id = crate::console::inserted_or(id, refusal)?;
    by_id(store, id).await
}

/// What the debtor answers to a declared invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Confirm,
    Reject,
}

/// The debtor confirms a declared invoice (set-offs take it from then on) or rejects it
/// with a reason (required when rejecting, at most `REASON_LEN_MAX` characters). Another
/// company's invoice, or one `member` issued, is `NotFound`; one answered or closed
/// already is `already_decided`.
pub async fn answer(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
    answer: Answer,
    reason: &str,
) -> ConsoleResult<OutsideInvoice> {
    let invoice = by_id(store, id).await?;
    if invoice.debtor_member_id != member.id {
        return Err(ConsoleError::NotFound);
    }
    let (status, note) = match answer {
        Answer::Confirm => (InvoiceStatus::Confirmed, None),
        Answer::Reject => {
            let mut issues = Issues::default();
            let reason = issues.reason(reason);
            issues.finish()?;
            (InvoiceStatus::Rejected, Some(reason))
        }
    };
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE outside_invoices SET status = $1, answered_by = $2, answered_at = $3, \
             note = $4 WHERE id = $5 AND status = 'declared'",
        )
        .bind(status.as_str()).bind(&user.email).bind(now_unix()).bind(&note).bind(id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::OutsideInvoiceDecided));
    }
    by_id(store, id).await
}

/// The creditor closes an invoice still waiting or owed (paid in euros, declared by
/// mistake), with a reason; what set-offs cancelled on it stays. Another company's invoice,
/// or one `member` owes, is `NotFound`; one rejected, closed or cleared already is
/// `already_decided`.
pub async fn close(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
    reason: &str,
) -> ConsoleResult<OutsideInvoice> {
    let invoice = by_id(store, id).await?;
    if invoice.creditor_member_id != member.id {
        return Err(ConsoleError::NotFound);
    }
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let done: u64 = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE outside_invoices SET status = 'closed', closed_by = $1, closed_at = $2, \
             note = $3 WHERE id = $4 AND status IN ('declared', 'confirmed')",
        )
        .bind(&user.email).bind(now_unix()).bind(&reason).bind(id)
        .execute(pool).await?.rows_affected()
    });
    if done == 0 {
        return Err(ConsoleError::Conflict(Conflict::OutsideInvoiceDecided));
    }
    by_id(store, id).await
}

/// A set-off a manager ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: i64,
    pub run_at: i64,
    pub run_by: String,
    /// The confirmed invoices it took.
    pub invoices: i64,
    /// What they owed before it.
    pub owed: Amount,
    /// What it cancelled.
    pub cleared: Amount,
}

/// What one run cancelled on one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub run_id: i64,
    pub run_at: i64,
    pub invoice_id: i64,
    pub number: String,
    pub creditor_member_id: i64,
    pub creditor_name: String,
    pub debtor_member_id: i64,
    pub debtor_name: String,
    pub amount: Amount,
}

/// What a run would do now: the confirmed invoices still owed (at most
/// [`RUN_INVOICES_MAX`], oldest first), what they owe, what it would cancel, and on how
/// many invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    pub invoices: i64,
    pub owed: Amount,
    pub cleared: Amount,
    pub cleared_invoices: i64,
}

const OPEN_SQL: &str = "SELECT id, debtor_member_id, creditor_member_id, open_minor \
     FROM outside_invoices WHERE status = 'confirmed' ORDER BY id LIMIT $1";

type OpenRow = (i64, i64, i64, i64);

fn obligations(rows: &[OpenRow]) -> ConsoleResult<Vec<Obligation>> {
    let id = |value: i64| {
        u64::try_from(value).map_err(|_| {
            ConsoleError::Store(crate::store::StoreError::Corrupt(format!(
                "outside invoice: negative id {value}"
            )))
        })
    };
    rows.iter()
        .map(|&(invoice, debtor, creditor, open)| {
            Ok(Obligation {
                id: id(invoice)?,
                debtor: id(debtor)?,
                creditor: id(creditor)?,
                amount: open,
            })
        })
        .collect()
}

fn solve(rows: &[OpenRow]) -> ConsoleResult<ledger::Setoff> {
    ledger::set_off(&obligations(rows)?).map_err(|error| {
        ConsoleError::Store(crate::store::StoreError::Corrupt(format!(
            "outside invoices: {error}"
        )))
    })
}

fn owed(rows: &[OpenRow]) -> i64 {
    rows.iter().map(|row| row.3).sum()
}

/// What a run would cancel now (managers and the network's accountants).
pub async fn preview(store: &Store, actor: &Actor) -> ConsoleResult<Preview> {
    actor.require_reader()?;
    let limit = i64::try_from(RUN_INVOICES_MAX).unwrap_or(i64::MAX);
    let rows: Vec<OpenRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(OPEN_SQL).bind(limit).fetch_all(pool).await?
    });
    let setoff = solve(&rows)?;
    Ok(Preview {
        invoices: i64::try_from(rows.len()).unwrap_or(i64::MAX),
        owed: Amount::from_minor(owed(&rows)),
        cleared: Amount::from_minor(setoff.total),
        cleared_invoices: i64::try_from(setoff.cleared.len()).unwrap_or(i64::MAX),
    })
}

/// Runs a set-off (managers): over the confirmed invoices still owed (at most
/// [`RUN_INVOICES_MAX`], oldest first), cancels what `ledger::set_off` finds, lowers each
/// invoice's amount owed (`cleared` at zero) and records the run, its lines and the action
/// (`setoff.run`, with `reason`), all in one write transaction. When nothing can be
/// cancelled: `NothingToSetOff`, and nothing is recorded.
pub async fn run(store: &Store, actor: &Actor, reason: &str) -> ConsoleResult<Run> {
    actor.require_manager()?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let note = actor.note(ACTION_SETOFF_RUN, &reason)?;
    let limit = i64::try_from(RUN_INVOICES_MAX).unwrap_or(i64::MAX);
    let begin = store.begin_write_sql();
    // PostgreSQL locks the invoices it reads (a creditor closing one waits); SQLite's
    // `BEGIN IMMEDIATE` serialises the writers already.
    let open_sql = match store.kind() {
        BackendKind::Postgres => format!("{OPEN_SQL} FOR UPDATE"),
        BackendKind::Sqlite => OPEN_SQL.to_owned(),
    };
    let run_at = now_unix();
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        let rows: Vec<OpenRow> = sqlx::query_as(&open_sql).bind(limit)
            .fetch_all(&mut *tx).await?;
        let setoff = solve(&rows)?;
        if setoff.total == 0 {
            None
        } else {
            let owed_minor = owed(&rows);
            let invoices = i64::try_from(rows.len()).unwrap_or(i64::MAX);
            let run_id: i64 = sqlx::query_scalar(
                "INSERT INTO setoff_runs (run_at, run_by, invoices, owed_minor, cleared_minor) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(run_at).bind(actor.email()).bind(invoices).bind(owed_minor)
                .bind(setoff.total).fetch_one(&mut *tx).await?;
            // A few statements of [`RUN_STATEMENT_ROWS`] lines each, not two per line: the
            // run holds the write lock (on SQLite, every writer's) for as short as it can.
            for chunk in setoff.cleared.chunks(RUN_STATEMENT_ROWS) {
                let (insert, update) = chunk_sql(chunk.len());
                let mut query = sqlx::query(&insert);
                for line in chunk {
                    query = query.bind(run_id).bind(line_id(line)).bind(line.amount);
                }
                query.execute(&mut *tx).await?;
                let mut query = sqlx::query(&update);
                for line in chunk {
                    query = query.bind(line_id(line)).bind(line.amount);
                }
                let done = query.execute(&mut *tx).await?.rows_affected();
                // The rows were read in this transaction, under its lock.
                assert_eq!(done, chunk.len() as u64, "an outside invoice changed under the set-off");
            }
            let note = note.states(
                json!(null),
                json!({
                    "run": run_id,
                    "invoices": invoices,
                    "owed": Amount::from_minor(owed_minor).to_string(),
                    "cleared": Amount::from_minor(setoff.total).to_string(),
                    "cleared_invoices": setoff.cleared.len(),
                }),
            );
            insert_action(Conn::from(&mut *tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
            Some(run_id)
        }
    });
    let id = id.ok_or(ConsoleError::Conflict(Conflict::NothingToSetOff))?;
    run_by_id(store, actor, id).await
}

/// Lines one statement of a run writes (3 parameters each: far below both backends' limits).
const RUN_STATEMENT_ROWS: usize = 500;

fn line_id(line: &ledger::Cleared) -> i64 {
    i64::try_from(line.id).unwrap_or(i64::MAX)
}

/// The statements that record `rows` lines of a run and lower their invoices: one
/// `INSERT ... VALUES` and one `UPDATE ... FROM (VALUES ...)`, whose columns both backends
/// name `column1`, `column2`.
fn chunk_sql(rows: usize) -> (String, String) {
    let mut insert =
        String::from("INSERT INTO setoff_lines (run_id, invoice_id, amount_minor) VALUES ");
    let mut values = String::new();
    for row in 0..rows {
        let sep = if row == 0 { "" } else { ", " };
        let p = 3 * row;
        insert.push_str(&format!("{sep}(${}, ${}, ${})", p + 1, p + 2, p + 3));
        let q = 2 * row;
        values.push_str(&format!(
            "{sep}(CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
            q + 1,
            q + 2
        ));
    }
    let update = format!(
        "UPDATE outside_invoices SET open_minor = open_minor - v.column2, \
         status = CASE WHEN open_minor = v.column2 THEN 'cleared' ELSE status END \
         FROM (VALUES {values}) AS v \
         WHERE outside_invoices.id = v.column1 AND outside_invoices.status = 'confirmed' \
         AND outside_invoices.open_minor >= v.column2"
    );
    (insert, update)
}

const RUN_SELECT: &str =
    "SELECT id, run_at, run_by, invoices, owed_minor, cleared_minor FROM setoff_runs";

type RunRow = (i64, i64, String, i64, i64, i64);

fn run_of(row: RunRow) -> Run {
    let (id, run_at, run_by, invoices, owed, cleared) = row;
    Run {
        id,
        run_at,
        run_by,
        invoices,
        owed: Amount::from_minor(owed),
        cleared: Amount::from_minor(cleared),
    }
}

/// The last runs, newest first (managers and the network's accountants).
pub async fn runs(store: &Store, actor: &Actor) -> ConsoleResult<Vec<Run>> {
    actor.require_reader()?;
    let sql = format!("{RUN_SELECT} ORDER BY id DESC LIMIT {RUNS_LISTED_MAX}");
    let rows: Vec<RunRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(run_of).collect())
}

/// Run `id` (managers and the network's accountants).
pub async fn run_by_id(store: &Store, actor: &Actor, id: i64) -> ConsoleResult<Run> {
    actor.require_reader()?;
    let sql = format!("{RUN_SELECT} WHERE id = $1");
    let row: Option<RunRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    row.map(run_of).ok_or(ConsoleError::NotFound)
}

const LINE_SELECT: &str = "SELECT l.run_id, r.run_at, l.invoice_id, i.number, \
     i.creditor_member_id, c.name, i.debtor_member_id, d.name, l.amount_minor \
     FROM setoff_lines l JOIN setoff_runs r ON r.id = l.run_id \
     JOIN outside_invoices i ON i.id = l.invoice_id \
     JOIN members c ON c.id = i.creditor_member_id \
     JOIN members d ON d.id = i.debtor_member_id";

type LineRow = (i64, i64, i64, String, i64, String, i64, String, i64);

fn line_of(row: LineRow) -> Line {
    let (run_id, run_at, invoice_id, number, creditor, creditor_name, debtor, debtor_name, a) = row;
    Line {
        run_id,
        run_at,
        invoice_id,
        number,
        creditor_member_id: creditor,
        creditor_name,
        debtor_member_id: debtor,
        debtor_name,
        amount: Amount::from_minor(a),
    }
}

/// The lines of run `id`, by invoice (managers and the network's accountants; at most
/// [`RUN_INVOICES_MAX`], as a run has).
pub async fn run_lines(store: &Store, actor: &Actor, id: i64) -> ConsoleResult<Vec<Line>> {
    actor.require_reader()?;
    let limit = i64::try_from(RUN_INVOICES_MAX).unwrap_or(i64::MAX);
    let sql = format!("{LINE_SELECT} WHERE l.run_id = $1 ORDER BY l.invoice_id LIMIT $2");
    let rows: Vec<LineRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(id).bind(limit).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(line_of).collect())
}

/// What set-offs cancelled on the company's invoices, both sides, newest first (at most
/// `limit`; its page lists [`LINES_OF_MEMBER_MAX`]).
pub async fn lines_of_member(
    store: &Store,
    member_id: i64,
    limit: i64,
) -> ConsoleResult<Vec<Line>> {
    let sql = format!(
        "{LINE_SELECT} WHERE i.creditor_member_id = $1 OR i.debtor_member_id = $1 \
         ORDER BY l.run_id DESC, l.invoice_id LIMIT $2"
    );
    let rows: Vec<LineRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(member_id).bind(limit).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(line_of).collect())
}

/// Set-off lines as CSV for a spreadsheet or a bookkeeping tool (plain amounts, RFC 3339
/// times in UTC): `run,run_at,invoice_id,number,creditor,debtor,amount`, and for one
/// company (`member`) a column `side`: `creditor` (the line lowers what it is owed: its
/// customer account) or `debtor` (what it owes: its supplier account).
pub fn lines_csv(lines: &[Line], member: Option<i64>) -> String {
    use crate::console::history::csv_cell;
    let mut csv = String::from("run,run_at,invoice_id,number,creditor,debtor,");
    if member.is_some() {
        csv.push_str("side,");
    }
    csv.push_str("amount\r\n");
    for l in lines {
        let run_at = chrono::DateTime::from_timestamp(l.run_at, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},",
            l.run_id,
            run_at,
            l.invoice_id,
            csv_cell(&l.number),
            csv_cell(&l.creditor_name),
            csv_cell(&l.debtor_name),
        ));
        if let Some(member) = member {
            let side = if l.creditor_member_id == member {
                "creditor"
            } else {
                "debtor"
            };
            csv.push_str(side);
            csv.push(',');
        }
        csv.push_str(&l.amount.to_plain());
        csv.push_str("\r\n");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_csv() {
        let line = Line {
            run_id: 3,
            run_at: 0,
            invoice_id: 9,
            number: "=F-1".into(),
            creditor_member_id: 1,
            creditor_name: "Alpha \"A\"".into(),
            debtor_member_id: 2,
            debtor_name: "Beta".into(),
            amount: Amount::from_minor(12_345),
        };
        assert_eq!(
            lines_csv(std::slice::from_ref(&line), None),
            "run,run_at,invoice_id,number,creditor,debtor,amount\r\n\
             3,1970-01-01T00:00:00+00:00,9,\"'=F-1\",\"Alpha \"\"A\"\"\",\"Beta\",123.45\r\n"
        );
        let csv = lines_csv(&[line], Some(2));
        assert!(csv.starts_with("run,run_at,invoice_id,number,creditor,debtor,side,amount\r\n"));
        assert!(csv.ends_with(",debtor,123.45\r\n"), "{csv}");
    }

    #[test]
    fn statuses_read_back() {
        for status in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(InvoiceStatus::parse("open"), None);
    }

    #[test]
    fn a_run_writes_its_lines_in_few_statements() {
        let (insert, update) = chunk_sql(2);
        assert!(
            insert.ends_with("VALUES ($1, $2, $3), ($4, $5, $6)"),
            "{insert}"
        );
        assert!(update.contains(
            "(VALUES (CAST($1 AS BIGINT), CAST($2 AS BIGINT)), (CAST($3 AS BIGINT), CAST($4 AS BIGINT)))"
        ));
        let (insert, _) = chunk_sql(RUN_STATEMENT_ROWS);
        assert!(insert.contains(&format!("${}", 3 * RUN_STATEMENT_ROWS)));
    }

    #[test]
    fn open_rows_become_obligations() {
        let rows = [(7, 1, 2, 500), (8, 2, 1, 200)];
        let setoff = solve(&rows).unwrap();
        assert_eq!(setoff.total, 400);
        assert_eq!(owed(&rows), 700);
        assert!(solve(&[(-1, 1, 2, 5)]).is_err());
    }
}
