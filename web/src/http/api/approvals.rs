//! Payments waiting for the owner's approval (`crate::approvals`, migration 0026; docs/web.md
//! "Staff payment limits"): a staff user whose payment is over the limit its owner set asks
//! the owner to approve it; nothing moves while it waits. The owner approves (the company
//! pays through the write path, entered by the staff user) or declines it with a note; the
//! staff user who asked may withdraw it. The owner sees the company's requests, a staff user
//! its own; member accountants, who do not trade, and the network's staff see none.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, CallerKey, WriteRequest, Written};
use super::payments::{other_member, texts, PaymentBody};
use super::types::{self, money, unix_time};
use crate::approvals::{
    self, Approval, Filter, NewApproval, TooManyPending, APPROVALS_PENDING_MAX,
    APPROVAL_NOTE_LEN_MAX,
};
use crate::http::limits::{self, ErrorFormat};
use crate::http::AppState;
use crate::people::{self, Member, Role};
use crate::trade::PaymentOrder;

/// A staff user's payment waiting for (or decided by) its company's owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentApproval {
    pub id: i64,
    /// The paying company (the caller's).
    pub member_id: i64,
    /// The payee's member id.
    pub payee: i64,
    #[schema(example = "150.00")]
    pub amount: String,
    pub reference: String,
    pub memo: String,
    /// The email of the staff user who asked.
    pub requested_by: String,
    /// `pending`, `approved`, `declined`, `withdrawn` or `expired` (nobody decided within
    /// 30 days of `created_at`; nothing was paid).
    pub status: String,
    /// Approvals the ledger refused so far (the request stays pending after each).
    pub attempts: i64,
    /// The payment, once approved.
    pub transaction_id: Option<i64>,
    /// The owner who approved or declined it, or the user who withdrew it (none when it
    /// expired).
    pub decided_by: Option<String>,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub decided_at: Option<String>,
    /// The owner's note with a refusal (empty otherwise).
    pub note: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    /// When a request nobody decides expires: `created_at` plus 30 days.
    #[schema(example = "2027-01-01T10:00:00Z")]
    pub expires_at: String,
}

pub(crate) fn item(a: &Approval) -> PaymentApproval {
    PaymentApproval {
        id: a.id,
        member_id: a.member_id,
        payee: a.payee_member_id,
        amount: money(a.amount()),
        reference: a.reference.clone(),
        memo: a.memo.clone(),
        requested_by: a.requested_by_email.clone(),
        status: a.status.as_str().to_owned(),
        attempts: a.attempts,
        transaction_id: a.tx_id,
        decided_by: a.decided_by.clone(),
        decided_at: a.decided_at.map(unix_time),
        note: a.note.clone(),
        created_at: unix_time(a.created_at),
        expires_at: unix_time(a.expires_at()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentApprovalList {
    pub items: Vec<PaymentApproval>,
    /// The cursor of the following page (pass it as `after`); none on the last page.
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// The owner's refusal.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApprovalDeclineBody {
    /// Why, for the staff user who asked: at most 280 characters.
    #[serde(default)]
    #[schema(max_length = 280)]
    pub note: Option<String>,
}

/// The company of an owner or staff user, whatever the token's scope (403 for a member
/// accountant, who does not trade, and for the network's staff, who have no company).
fn trader(auth: &ApiAuth) -> ApiResult<&Member> {
    if !matches!(auth.user.role, Role::Owner | Role::Staff) {
        return Err(ApiError::forbidden(
            "Only a member's owner or staff see payments waiting for approval.",
        ));
    }
    auth.member()
}

/// The company whose owner approves or declines: a `pay` token of its owner.
fn owner(auth: &ApiAuth) -> ApiResult<&Member> {
    let member = auth.payer()?;
    if auth.user.role != Role::Owner {
        return Err(ApiError::forbidden(
            "Only the company's owner approves or declines a payment.",
        ));
    }
    Ok(member)
}

/// The request `id` as the caller may see it: its company's for the owner, its own for a
/// staff user; anything else is 404.
async fn visible(state: &AppState, auth: &ApiAuth, id: &str) -> ApiResult<Approval> {
    let id = types::path_id(id)?;
    approvals::expire_overdue(&state.store).await?;
    approvals::approval(&state.store, id)
        .await?
        .filter(|a| a.visible_to(&auth.user))
        .ok_or(ApiError::NotFound)
}

fn not_pending() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        "approval_not_pending",
        "This payment is no longer waiting for approval.",
    )
}

/// Asks the company's owner to approve a payment over the caller's limit (pay scope, a
/// staff user). Nothing moves until the owner approves it.
#[utoipa::path(post, path = "/api/v1/payment-approvals", operation_id = "create_payment_approval", tag = "payments",
    request_body = PaymentBody,
    responses(
        (status = 201, description = "Asked: the payment waits for the owner", body = PaymentApproval, links(("show" = (operation_id = "show_payment_approval", parameters(("id" = "$response.body#/id")))), ("approve" = (operation_id = "approve_payment", parameters(("id" = "$response.body#/id")))), ("decline" = (operation_id = "decline_payment_approval", parameters(("id" = "$response.body#/id")))), ("withdraw" = (operation_id = "withdraw_payment_approval", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`), the caller may pay this itself (`approval_not_needed`), or 100 payments wait already (`too_many_pending`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let payer = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let input: PaymentBody = types::json(&request.body)?;
        let payee = other_member(&state, &payer, "payee", input.payee, None).await?;
        let amount = types::positive_amount("amount", &input.amount)?;
        let (reference, memo) = texts(&input.reference, &input.memo)?;
        if crate::spending::within_limits(&state.store, &auth.user, amount, people::now_unix())
            .await?
        {
            return Err(ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "approval_not_needed",
                "You may make this payment yourself: no approval is needed.",
            ));
        }
        let key = CallerKey::or_random(key);
        let form_token = format!("api-{}-{}", payer.id, key.0);
        let order = PaymentOrder {
            amount,
            reference,
            memo,
        };
        let new = NewApproval {
            payer: &payer,
            payee: &payee,
            order: &order,
            requested_by: &auth.user,
            form_token: &form_token,
        };
        let id = approvals::create(&state.store, &new)
            .await?
            .map_err(|TooManyPending| {
                ApiError::coded(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "too_many_pending",
                    format!(
                        "Your company has {APPROVALS_PENDING_MAX} payments waiting for \
                         approval already: the owner must decide some first."
                    ),
                )
            })?;
        crate::http::notices::approval_waiting(&state, id).await?;
        let approval = approvals::approval(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(item(&approval))
    })
    .await)
}

/// Payments waiting for approval: the company's for its owner, a staff user's own.
#[utoipa::path(get, path = "/api/v1/payment-approvals", operation_id = "list_payment_approvals", tag = "payments",
    params(
        ("status" = Option<crate::http::api::types::PendingOrAll>, Query, description = "`pending` for those waiting only; `all` (the default) for every one"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "The requests, newest first, in keyset pages", body = PaymentApprovalList),
        (status = 403, description = "Not a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PaymentApprovalList>> {
    let member = trader(&auth)?;
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let filter = match types::param(&params, "status") {
        None | Some("") | Some("all") => Filter::All,
        Some("pending") => Filter::Pending,
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "status must be pending or all.",
            ))
        }
    };
    let after = types::cursor(&params, "after")?;
    let requested_by = (auth.user.role == Role::Staff).then_some(auth.user.id);
    approvals::expire_overdue(&state.store).await?;
    let (items, next) = approvals::page(
        &state.store,
        member.id,
        requested_by,
        filter,
        after,
        limit as i64,
    )
    .await?;
    Ok(Json(PaymentApprovalList {
        items: items.iter().map(item).collect(),
        next: next.map(|id| id.to_string()),
    }))
}

/// One payment waiting for approval (or decided): the company's for its owner, its own for a
/// staff user.
#[utoipa::path(get, path = "/api/v1/payment-approvals/{id}", operation_id = "show_payment_approval", tag = "payments",
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "The request", body = PaymentApproval),
        (status = 403, description = "Not a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentApproval>> {
    trader(&auth)?;
    Ok(Json(item(&visible(&state, &auth, &id).await?)))
}

/// Approves a waiting payment (pay scope, the company's owner): the company pays it, entered
/// by the staff user who asked. A ledger refusal leaves it waiting.
#[utoipa::path(post, path = "/api/v1/payment-approvals/{id}/approve", operation_id = "approve_payment", tag = "payments",
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Approved and paid", body = PaymentApproval),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer waiting (`approval_not_pending`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the ledger (`insufficient_credit`, `account_frozen`...; the request stays pending), or a bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many payments for this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let payer = owner(&auth)?.clone();
    // Approving pays: it counts with the token's payments.
    limits::check(
        &state.limits.api_payments,
        &auth.token.id.to_string(),
        ErrorFormat::Problem,
    )?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let approval = visible(&state, &auth, &id).await?;
        if !approval.is_pending() {
            return Err(not_pending());
        }
        let payee = people::member(&state.store, approval.payee_member_id)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("approval {} has no payee", approval.id)))?;
        approvals::approve(&state.store, &approval, &auth.user, &payer, &payee)
            .await?
            .map_err(ApiError::Rejected)?;
        let approval = approvals::approval(&state.store, approval.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(item(&approval))
    })
    .await)
}

/// Declines a waiting payment, with an optional note the staff user reads (pay scope, the
/// company's owner).
#[utoipa::path(post, path = "/api/v1/payment-approvals/{id}/decline", operation_id = "decline_payment_approval", tag = "payments",
    request_body = ApprovalDeclineBody,
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Declined", body = PaymentApproval),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer waiting (`approval_not_pending`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid note (`validation_failed`), or a bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn decline(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    owner(&auth)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: ApprovalDeclineBody = types::json(&request.body)?;
        let note = input.note.as_deref().unwrap_or("").trim();
        if ledger::char_len(note) > APPROVAL_NOTE_LEN_MAX {
            return Err(ApiError::invalid(
                "note",
                format!("note must be at most {APPROVAL_NOTE_LEN_MAX} characters."),
            ));
        }
        let approval = visible(&state, &auth, &id).await?;
        if !approval.is_pending()
            || !approvals::decline(&state.store, approval.id, &auth.user, note).await?
        {
            return Err(not_pending());
        }
        let approval = approvals::approval(&state.store, approval.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(item(&approval))
    })
    .await)
}

/// Withdraws a waiting payment (pay scope, the staff user who asked it).
#[utoipa::path(post, path = "/api/v1/payment-approvals/{id}/withdraw", operation_id = "withdraw_payment_approval", tag = "payments",
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Withdrawn", body = PaymentApproval),
        (status = 403, description = "Not a pay token of a member's staff user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer waiting (`approval_not_pending`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    auth.payer()?;
    if auth.user.role != Role::Staff {
        return Err(ApiError::forbidden(
            "Only the staff user who asked withdraws a payment waiting for approval.",
        ));
    }
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let approval = visible(&state, &auth, &id).await?;
        if !approval.is_pending()
            || !approvals::withdraw(&state.store, approval.id, &auth.user).await?
        {
            return Err(not_pending());
        }
        let approval = approvals::approval(&state.store, approval.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(item(&approval))
    })
    .await)
}
