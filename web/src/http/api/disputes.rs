//! Disputes (`console::disputes`, the pages `/disputes` and `/admin/disputes`): a member
//! that paid contests the payment with its reason, and may withdraw the dispute while it
//! is open; the payee answers it, or refunds the payment
//! (`POST /api/v1/transactions/{id}/refund`, which closes it as `refunded`); a manager
//! reverses the payment or dismisses the dispute with a note both companies read.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::console::disputes::{self, Decision, Dispute, DisputeStatus, DISPUTES_OF_MEMBER_MAX};
use crate::console::{ConsoleError, Field};
use crate::http::AppState;

/// A dispute of a payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeItem {
    pub id: i64,
    /// The disputed payment's transaction id.
    pub transaction_id: i64,
    pub payer_member_id: i64,
    pub payer_name: String,
    pub payee_member_id: i64,
    pub payee_name: String,
    /// The payment's traded amount.
    #[schema(example = "120.00")]
    pub amount: String,
    /// `open`, `withdrawn` (by the payer), `refunded` (by the payee), `reversed` or
    /// `dismissed` (by a manager).
    pub status: String,
    /// The email of the payer's user who opened it, as it was then.
    pub opened_by: String,
    pub reason: String,
    /// The payee's answer, its author and time.
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<String>,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    pub decided_at: Option<String>,
    /// The payer who withdrew it, the payee's user who refunded, or the manager.
    pub decided_by: Option<String>,
    /// The manager's note: a dismissal's, or the reversal's memo.
    pub decision_note: Option<String>,
}

pub(crate) fn item(d: &Dispute) -> DisputeItem {
    DisputeItem {
        id: d.id,
        transaction_id: d.transaction_id,
        payer_member_id: d.payer_member_id,
        payer_name: d.payer_name.clone(),
        payee_member_id: d.payee_member_id,
        payee_name: d.payee_name.clone(),
        amount: money(d.amount),
        status: d.status.as_str().to_owned(),
        opened_by: d.opened_by.clone(),
        reason: d.reason.clone(),
        reply: d.reply.clone(),
        replied_by: d.replied_by.clone(),
        replied_at: d.replied_at.map(unix_time),
        created_at: unix_time(d.created_at),
        decided_at: d.decided_at.map(unix_time),
        decided_by: d.decided_by.clone(),
        decision_note: d.decision_note.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeList {
    /// A member's users: its disputes as payer or payee, newest first, at most 50. The
    /// network's staff: the open disputes oldest first, then the last 200 closed ones
    /// newest first.
    pub items: Vec<DisputeItem>,
    /// The network's staff only: how many disputes the network has in each status, all
    /// time (how disputes end). Absent for a member's users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<DisputeCounts>,
}

/// How many disputes the network has in each status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DisputeCounts {
    pub open: i64,
    pub withdrawn: i64,
    pub refunded: i64,
    pub reversed: i64,
    pub dismissed: i64,
}

impl DisputeCounts {
    fn of(counts: &[(DisputeStatus, i64)]) -> DisputeCounts {
        let mut all = DisputeCounts::default();
        for (status, count) in counts {
            let slot = match status {
                DisputeStatus::Open => &mut all.open,
                DisputeStatus::Withdrawn => &mut all.withdrawn,
                DisputeStatus::Refunded => &mut all.refunded,
                DisputeStatus::Reversed => &mut all.reversed,
                DisputeStatus::Dismissed => &mut all.dismissed,
            };
            *slot = *count;
        }
        all
    }
}

/// The caller's company's disputes, or the network's for its staff (any scope).
#[utoipa::path(get, path = "/api/v1/disputes", operation_id = "list_disputes", tag = "payments",
    responses(
        (status = 200, description = "The disputes", body = DisputeList),
        (status = 403, description = "Neither a member's user nor a manage token of the network's staff", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<DisputeList>> {
    if auth.is_network() {
        let actor = auth.console_actor()?;
        let (open, decided) = disputes::network(&state.store, &actor).await?;
        let counts = disputes::counts(&state.store, &actor).await?;
        return Ok(Json(DisputeList {
            items: open.iter().chain(decided.iter()).map(item).collect(),
            counts: Some(DisputeCounts::of(&counts)),
        }));
    }
    let member = auth.member()?;
    let items = disputes::of_member(&state.store, member.id, DISPUTES_OF_MEMBER_MAX)
        .await?
        .iter()
        .map(item)
        .collect();
    Ok(Json(DisputeList {
        items,
        counts: None,
    }))
}

/// One dispute: for the users of either company (any scope) and the network's staff;
/// anyone else, and an unknown id, 404.
#[utoipa::path(get, path = "/api/v1/disputes/{id}", operation_id = "get_dispute", tag = "payments",
    params(
        ("id" = i64, Path, description = "Dispute id"),
    ),
    responses(
        (status = 200, description = "The dispute", body = DisputeItem),
        (status = 404, description = "No such dispute of the caller's company", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<DisputeItem>> {
    let id = types::path_id(&id)?;
    let dispute = disputes::by_id(&state.store, id).await?;
    if !auth.is_network() {
        let member = auth.member().map_err(|_| ApiError::NotFound)?;
        if member.id != dispute.payer_member_id && member.id != dispute.payee_member_id {
            return Err(ApiError::NotFound);
        }
    }
    Ok(Json(item(&dispute)))
}

/// A payment the caller's company made, and why it disputes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DisputeBody {
    /// The payment's transaction id (a `payment` or `hold_capture` the company paid).
    pub transaction_id: i64,
    /// Why, 1 to 1 000 characters: the payee and the network's manager read it.
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Disputes a payment the caller's company made to another member, at most 90 days old
/// (pay scope, the payer's owner or staff). One dispute is open per payment; a dismissed
/// one is final; a member opens at most 10 in 30 days.
#[utoipa::path(post, path = "/api/v1/disputes", operation_id = "open_dispute", tag = "payments",
    request_body = DisputeBody,
    responses(
        (status = 201, description = "Opened", body = DisputeItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No payment with this id made by the caller's company to another member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A dispute is open on it (`already_disputed`), one was dismissed (`already_decided`), too old (`too_late`), too many disputes in 30 days (`too_many_disputes`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`), or the payment was reversed (`already_reversed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: DisputeBody = types::json(&request.body)?;
        let tx = u64::try_from(input.transaction_id)
            .ok()
            .filter(|id| *id > 0)
            .ok_or(ApiError::NotFound)?;
        let opened = disputes::open(
            &state.store,
            &auth.user,
            &member,
            ledger::TxId(tx),
            &input.reason,
        )
        .await?;
        crate::http::notices::dispute_changed(&state, opened.id).await?;
        Written::created(item(&opened))
    })
    .await)
}

/// Withdraws an open dispute the caller's company opened (pay scope, the payer's owner or
/// staff): the companies settled it between themselves.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/withdraw", operation_id = "withdraw_dispute", tag = "payments",
    params(
        ("id" = i64, Path, description = "Dispute id"),
    ),
    responses(
        (status = 200, description = "Withdrawn", body = DisputeItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute opened by the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let done = disputes::withdraw(&state.store, &auth.user, &member, id).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// The payee's answer to a dispute.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplyBody {
    /// 1 to 1 000 characters; replaces an earlier answer.
    #[schema(min_length = 1, max_length = 1000)]
    pub reply: String,
}

/// Answers an open dispute of a payment the caller's company received (pay scope, the
/// payee's owner or staff). To refund the payment instead, `POST
/// /api/v1/transactions/{id}/refund`, which closes the dispute.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/reply", operation_id = "reply_dispute", tag = "payments",
    request_body = ReplyBody,
    params(
        ("id" = i64, Path, description = "Dispute id"),
    ),
    responses(
        (status = 200, description = "Answered", body = DisputeItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute of a payment the caller's company received", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn reply(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: ReplyBody = types::json(&request.body)?;
        let done = disputes::reply(&state.store, &auth.user, &member, id, &input.reply).await?;
        crate::http::notices::dispute_changed(&state, done.id).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// A manager's decision on an open dispute.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideBody {
    /// `reverse` (the payment is reversed: the payer gets back all it paid, fees
    /// included) or `dismiss` (the payment stands).
    #[schema(example = "dismiss")]
    pub decision: String,
    /// Why, 1 to 280 characters: both companies read it (the reversal's memo); the action
    /// log keeps it.
    #[schema(min_length = 1, max_length = 280)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedItem {
    pub dispute: DisputeItem,
    /// The reversal's transaction id, when the payment was reversed.
    pub reversal_id: Option<i64>,
}

/// Settles an open dispute (manager): reverses the payment (`transaction.reverse`) or
/// dismisses the dispute (`dispute.dismiss`), with a note both companies read.
#[utoipa::path(post, path = "/api/v1/disputes/{id}/decide", operation_id = "decide_dispute", tag = "manage",
    request_body = DecideBody,
    params(
        ("id" = i64, Path, description = "Dispute id"),
    ),
    responses(
        (status = 200, description = "Decided", body = DecidedItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dispute", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or the reversal refused by the ledger (`insufficient_credit`, `already_reversed`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let id = types::path_id(&id)?;
        let input: DecideBody = types::json(&request.body)?;
        let decision = Decision::parse(&input.decision).ok_or_else(|| {
            ApiError::from(ConsoleError::invalid(
                Field::Decision,
                crate::console::Problem::InvalidChoice,
            ))
        })?;
        let key = super::manage::console_key(key)?;
        let done = disputes::decide(&state.store, &actor, id, decision, &input.note, &key).await?;
        Written::ok(DecidedItem {
            dispute: item(&done.dispute),
            reversal_id: done
                .reversal
                .map(|t| i64::try_from(t.0).unwrap_or(i64::MAX)),
        })
    })
    .await)
}
