//! Set-off of outside invoices (`crate::setoff`; the pages `/setoff` and `/admin/setoff`):
//! a member company declares a euro invoice another member owes it, the debtor confirms or
//! rejects it, the creditor closes it; a manager runs a set-off over the confirmed ones.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::console::Actor;
use crate::http::AppState;
use crate::setoff::{
    self, Answer, Line, NewInvoice, OutsideInvoice, Preview, Run, LINES_OF_MEMBER_MAX,
    OF_MEMBER_MAX,
};

/// An invoice a member declared on another.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutsideInvoiceItem {
    pub id: i64,
    pub creditor_member_id: i64,
    pub creditor_name: String,
    pub debtor_member_id: i64,
    pub debtor_name: String,
    /// The creditor's invoice number.
    pub number: String,
    /// Tax included, in euros.
    #[schema(example = "1200.00")]
    pub amount: String,
    /// What is still owed: the amount less what set-offs cancelled.
    #[schema(example = "700.00")]
    pub open: String,
    #[schema(example = "2026-12-31")]
    pub due_on: String,
    /// `declared` (waits for the debtor), `confirmed`, `rejected` (by the debtor),
    /// `closed` (by the creditor) or `cleared` (set off in full).
    pub status: String,
    pub declared_by: String,
    pub declared_at: String,
    /// The debtor's answer: who and when; null before it.
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
    /// The creditor's closing: who and when; null unless closed.
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    /// The debtor's reason for rejecting it, or the creditor's for closing it.
    pub note: Option<String>,
}

pub(crate) fn item(i: &OutsideInvoice) -> OutsideInvoiceItem {
    OutsideInvoiceItem {
        id: i.id,
        creditor_member_id: i.creditor_member_id,
        creditor_name: i.creditor_name.clone(),
        debtor_member_id: i.debtor_member_id,
        debtor_name: i.debtor_name.clone(),
        number: i.number.clone(),
        amount: money(i.amount),
        open: money(i.open),
        due_on: i.due_on.to_string(),
        status: i.status.as_str().to_owned(),
        declared_by: i.declared_by.clone(),
        declared_at: unix_time(i.declared_at),
        answered_by: i.answered.as_ref().map(|(by, _)| by.clone()),
        answered_at: i.answered.as_ref().map(|(_, at)| unix_time(*at)),
        closed_by: i.closed.as_ref().map(|(by, _)| by.clone()),
        closed_at: i.closed.as_ref().map(|(_, at)| unix_time(*at)),
        note: i.note.clone(),
    }
}

/// What one set-off cancelled on one invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetoffLineItem {
    pub run_id: i64,
    pub run_at: String,
    pub invoice_id: i64,
    pub number: String,
    pub creditor_member_id: i64,
    pub creditor_name: String,
    pub debtor_member_id: i64,
    pub debtor_name: String,
    #[schema(example = "500.00")]
    pub amount: String,
}

pub(crate) fn line(l: &Line) -> SetoffLineItem {
    SetoffLineItem {
        run_id: l.run_id,
        run_at: unix_time(l.run_at),
        invoice_id: l.invoice_id,
        number: l.number.clone(),
        creditor_member_id: l.creditor_member_id,
        creditor_name: l.creditor_name.clone(),
        debtor_member_id: l.debtor_member_id,
        debtor_name: l.debtor_name.clone(),
        amount: money(l.amount),
    }
}

/// The caller's company's outside invoices and what set-offs cancelled on them.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutsideInvoiceList {
    /// Issued and owed, newest first, at most 200.
    pub items: Vec<OutsideInvoiceItem>,
    /// The set-off lines on them, newest first, at most 200.
    pub set_offs: Vec<SetoffLineItem>,
}

/// The caller's company's outside invoices, both sides, and the set-offs on them (any
/// scope, a member's user).
#[utoipa::path(get, path = "/api/v1/outside-invoices", operation_id = "list_outside_invoices", tag = "payments",
    responses(
        (status = 200, description = "The invoices", body = OutsideInvoiceList),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<OutsideInvoiceList>> {
    let member = auth.member()?;
    let items = setoff::of_member(&state.store, member.id, OF_MEMBER_MAX).await?;
    let lines = setoff::lines_of_member(&state.store, member.id, LINES_OF_MEMBER_MAX).await?;
    Ok(Json(OutsideInvoiceList {
        items: items.iter().map(item).collect(),
        set_offs: lines.iter().map(line).collect(),
    }))
}

/// An invoice the caller's company issued to another member and that is still unpaid.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOutsideInvoiceBody {
    /// The debtor's member id (another member).
    pub debtor_member_id: i64,
    /// The invoice's number, 1 to 40 characters, once per creditor.
    #[schema(min_length = 1, max_length = 40)]
    pub number: String,
    /// What is owed, tax included, in euros: above zero, at most 100 000 000.00.
    #[schema(example = "1200.00")]
    pub amount: String,
    /// Within 365 days before or after today (UTC).
    #[schema(example = "2026-12-31")]
    pub due_on: String,
}

/// Declares an invoice the caller's company issued to another member (pay scope, owner or
/// staff); it waits for the debtor's confirmation. A field's problem is named; the number
/// used already is `already_declared` (409); past 200 invoices waiting or owed,
/// `too_many_outside_invoices` (409).
#[utoipa::path(post, path = "/api/v1/outside-invoices", operation_id = "declare_outside_invoice", tag = "payments",
    request_body = NewOutsideInvoiceBody,
    responses(
        (status = 201, description = "Declared", body = OutsideInvoiceItem, links(("confirm" = (operation_id = "confirm_outside_invoice", parameters(("id" = "$response.body#/id")))), ("reject" = (operation_id = "reject_outside_invoice", parameters(("id" = "$response.body#/id")))), ("close" = (operation_id = "close_outside_invoice", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Number used already, too many waiting, or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn declare(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: NewOutsideInvoiceBody = types::json(&request.body)?;
        let amount = types::positive_amount("amount", &input.amount)?;
        let new = NewInvoice {
            debtor: input.debtor_member_id.to_string(),
            number: input.number,
            amount: amount.to_string(),
            due_on: input.due_on,
        };
        let today = chrono::Utc::now().date_naive();
        let declared = setoff::declare(&state.store, &auth.user, &member, &new, today).await?;
        crate::http::notices::outside_invoice_declared(&state, declared.id).await?;
        Written::created(item(&declared))
    })
    .await)
}

/// Confirms an invoice declared on the caller's company (pay scope, the debtor's owner or
/// staff): set-offs take it from then on.
#[utoipa::path(post, path = "/api/v1/outside-invoices/{id}/confirm", operation_id = "confirm_outside_invoice", tag = "payments",
    params(
        ("id" = i64, Path, description = "Outside invoice id"),
    ),
    responses(
        (status = 200, description = "Confirmed", body = OutsideInvoiceItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice owed by the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Answered or closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let done =
            setoff::answer(&state.store, &auth.user, &member, id, Answer::Confirm, "").await?;
        Written::ok(item(&done))
    })
    .await)
}

/// Why an invoice is rejected or closed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OutsideReasonBody {
    /// 1 to 500 characters; the other company reads it.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Rejects an invoice declared on the caller's company, with a reason (pay scope, the
/// debtor's owner or staff).
#[utoipa::path(post, path = "/api/v1/outside-invoices/{id}/reject", operation_id = "reject_outside_invoice", tag = "payments",
    params(
        ("id" = i64, Path, description = "Outside invoice id"),
    ),
    request_body = OutsideReasonBody,
    responses(
        (status = 200, description = "Rejected", body = OutsideInvoiceItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice owed by the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Answered or closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: OutsideReasonBody = types::json(&request.body)?;
        let user = &auth.user;
        let done = setoff::answer(
            &state.store,
            user,
            &member,
            id,
            Answer::Reject,
            &input.reason,
        )
        .await?;
        crate::http::notices::outside_invoice_rejected(&state, id).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// Closes an invoice the caller's company issued, still waiting or owed (paid otherwise,
/// or declared by mistake), with a reason (pay scope, the creditor's owner or staff); what
/// set-offs cancelled on it stays.
#[utoipa::path(post, path = "/api/v1/outside-invoices/{id}/close", operation_id = "close_outside_invoice", tag = "payments",
    params(
        ("id" = i64, Path, description = "Outside invoice id"),
    ),
    request_body = OutsideReasonBody,
    responses(
        (status = 200, description = "Closed", body = OutsideInvoiceItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice issued by the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Rejected, closed or cleared already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: OutsideReasonBody = types::json(&request.body)?;
        let done = setoff::close(&state.store, &auth.user, &member, id, &input.reason).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// A set-off run.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetoffRunItem {
    pub id: i64,
    pub run_at: String,
    /// The manager who ran it (email).
    pub run_by: String,
    /// The confirmed invoices it took, and what they owed before it.
    pub invoices: i64,
    #[schema(example = "3000.00")]
    pub owed: String,
    /// What it cancelled.
    #[schema(example = "1500.00")]
    pub cleared: String,
}

fn run_item(r: &Run) -> SetoffRunItem {
    SetoffRunItem {
        id: r.id,
        run_at: unix_time(r.run_at),
        run_by: r.run_by.clone(),
        invoices: r.invoices,
        owed: money(r.owed),
        cleared: money(r.cleared),
    }
}

/// What a set-off would do now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetoffPreview {
    /// The confirmed invoices still owed (at most 5 000, oldest first) and what they owe.
    pub invoices: i64,
    pub owed: String,
    /// What a run would cancel, and on how many invoices.
    pub cleared: String,
    pub cleared_invoices: i64,
}

fn preview_item(p: &Preview) -> SetoffPreview {
    SetoffPreview {
        invoices: p.invoices,
        owed: money(p.owed),
        cleared: money(p.cleared),
        cleared_invoices: p.cleared_invoices,
    }
}

/// What a set-off would do now and the last runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetoffOverview {
    pub now: SetoffPreview,
    /// Newest first, at most 50.
    pub runs: Vec<SetoffRunItem>,
}

/// What a set-off would cancel now and the last runs (manage token of a manager or the
/// network's accountant).
#[utoipa::path(get, path = "/api/v1/setoff-runs", operation_id = "list_setoff_runs", tag = "network",
    responses(
        (status = 200, description = "The overview", body = SetoffOverview),
        (status = 403, description = "Not a manage token of the network's staff", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn overview(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<SetoffOverview>> {
    let actor = auth.console_actor()?;
    let now = setoff::preview(&state.store, &actor).await?;
    let runs = setoff::runs(&state.store, &actor).await?;
    Ok(Json(SetoffOverview {
        now: preview_item(&now),
        runs: runs.iter().map(run_item).collect(),
    }))
}

/// A run and what it cancelled on each invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetoffRunDetail {
    pub run: SetoffRunItem,
    /// By invoice id.
    pub lines: Vec<SetoffLineItem>,
}

async fn detail(state: &AppState, actor: &Actor, id: i64) -> ApiResult<(Run, Vec<Line>)> {
    let run = setoff::run_by_id(&state.store, actor, id).await?;
    let lines = setoff::run_lines(&state.store, actor, id).await?;
    Ok((run, lines))
}

fn detail_body(run: &Run, lines: &[Line]) -> SetoffRunDetail {
    SetoffRunDetail {
        run: run_item(run),
        lines: lines.iter().map(line).collect(),
    }
}

/// Why a manager runs a set-off.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetoffRunBody {
    /// 1 to 500 characters, in the action log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Runs a set-off over the confirmed invoices still owed (manager), logged as
/// `setoff.run`. When nothing can be cancelled: `nothing_to_set_off` (409), nothing
/// recorded.
#[utoipa::path(post, path = "/api/v1/setoff-runs", operation_id = "run_setoff", tag = "manage",
    request_body = SetoffRunBody,
    responses(
        (status = 201, description = "Run", body = SetoffRunDetail, links(("show" = (operation_id = "get_setoff_run", parameters(("id" = "$response.body#/run/id")))))),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to set off, or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn run(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: SetoffRunBody = types::json(&request.body)?;
        let run = setoff::run(&state.store, &actor, &input.reason).await?;
        let (run, lines) = detail(&state, &actor, run.id).await?;
        crate::http::notices::setoff_ran(&state, run.id, &lines).await?;
        Written::created(detail_body(&run, &lines))
    })
    .await)
}

/// One run and its lines (manage token of a manager or the network's accountant).
#[utoipa::path(get, path = "/api/v1/setoff-runs/{id}", operation_id = "get_setoff_run", tag = "network",
    params(
        ("id" = i64, Path, description = "Run id"),
    ),
    responses(
        (status = 200, description = "The run", body = SetoffRunDetail),
        (status = 403, description = "Not a manage token of the network's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SetoffRunDetail>> {
    let actor = auth.console_actor()?;
    let id = types::path_id(&id)?;
    let (run, lines) = detail(&state, &actor, id).await?;
    Ok(Json(detail_body(&run, &lines)))
}
