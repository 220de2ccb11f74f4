//! Payments and payment requests.

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use ledger::{Account, IdempotencyKey, Outcome, Rejection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{self, ApiAuth};
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, Begun, CallerKey, Keyed, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::http::limits::{self, ErrorFormat};
use crate::http::AppState;
use crate::people::{self, Member};
use crate::spending;
use crate::store::ApiReceipt;
use crate::tokens::NamedMember;
use crate::trade::{self, PaymentOrder, PaymentRequest, RequestStatus};

/// A payment to another member.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentBody {
    /// The payee's member id.
    #[schema(minimum = 1)]
    pub payee: i64,
    /// A decimal string: `"12.50"`, `"12.5"` or `"12"`.
    #[schema(
        example = "12.50",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    /// At most 64 characters.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub reference: String,
    /// At most 280 characters.
    #[serde(default)]
    #[schema(max_length = 280)]
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentDone {
    pub transaction_id: i64,
    /// `completed`.
    pub status: String,
    /// The payer's balance after the payment.
    #[schema(example = "-12.74")]
    pub payer_balance: String,
}

/// The other member of a payment or request: not the caller, existing. Read with the
/// caller's token when the route asked for it (`named`), else now.
pub(crate) async fn other_member(
    state: &AppState,
    me: &Member,
    field: &str,
    id: i64,
    named: Option<&NamedMember>,
) -> ApiResult<Member> {
    if id == me.id {
        return Err(ApiError::invalid(
            field,
            format!("{field} cannot be yourself."),
        ));
    }
    let member = match named {
        Some(named) if named.id == id => named.member.clone(),
        _ => people::member(&state.store, id).await?,
    };
    member.ok_or_else(|| ApiError::invalid(field, format!("{field} is not a member.")))
}

/// A payment's caller and request. The caller is read together with the payee the body
/// names (one read instead of two): the body is read first, and the token is checked
/// whatever happens to the body, so a request without a valid token is answered 401 as on
/// every route.
pub struct PaymentCall {
    auth: ApiAuth,
    request: WriteRequest,
}

impl FromRequest<AppState> for PaymentCall {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<PaymentCall> {
        let headers = request.headers().clone();
        let request = match WriteRequest::from_request(request, state).await {
            Ok(request) => request,
            Err(error) => {
                auth::authenticate(state, &headers, None).await?;
                return Err(error);
            }
        };
        /// Just the payee, if the body has one (the rest is checked by the handler).
        #[derive(Deserialize)]
        struct Payee {
            payee: i64,
        }
        let payee = serde_json::from_slice::<Payee>(&request.body)
            .ok()
            .map(|body| body.payee);
        let auth = auth::authenticate(state, &headers, payee).await?;
        Ok(PaymentCall { auth, request })
    }
}

/// Reference and memo within the ledger's limits.
pub(crate) fn texts(reference: &str, memo: &str) -> ApiResult<(String, String)> {
    let (reference, memo) = (reference.trim(), memo.trim());
    match ledger::validate_text(reference, memo) {
        Err(rejection @ Rejection::ReferenceTooLong { .. }) => {
            Err(ApiError::invalid("reference", rejection.to_string()))
        }
        Err(rejection) => Err(ApiError::invalid("memo", rejection.to_string())),
        Ok(()) => Ok((reference.to_owned(), memo.to_owned())),
    }
}

async fn balance_of(state: &AppState, member: &Member) -> ApiResult<String> {
    let account = state
        .store
        .account(member.account())
        .await?
        .ok_or_else(|| ApiError::Internal(format!("member {} has no account", member.id)))?;
    Ok(money(account.balance()))
}

/// Pays another member (pay scope).
#[utoipa::path(post, path = "/api/v1/payments", tag = "payments",
    request_body = PaymentBody,
    responses(
        (status = 201, description = "Paid", body = PaymentDone, links(("show" = (operation_id = "show_transaction", parameters(("id" = "$response.body#/transaction_id")))), ("refund" = (operation_id = "refund", parameters(("id" = "$response.body#/transaction_id")))), ("reverse" = (operation_id = "reverse", parameters(("id" = "$response.body#/transaction_id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`) or refused by the ledger (`insufficient_credit`, `over_upper_limit`, `account_frozen`...)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many payments for this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn pay(
    State(state): State<AppState>,
    PaymentCall { auth, request }: PaymentCall,
) -> ApiResult<Response> {
    let payer = auth.payer()?.clone();
    limits::check(
        &state.limits.api_payments,
        &auth.token.id.to_string(),
        ErrorFormat::Problem,
    )?;
    let keyed = match idempotency::begin(&state, &auth, &request).await {
        Begun::Answered(answer) => return Ok(answer),
        Begun::Unkeyed => None,
        Begun::Keyed(keyed) => Some(keyed),
    };
    // Invalid input is answered without remembering anything: only a payment the ledger
    // decided has an answer to replay (docs/api.md).
    let input: PaymentBody = types::json(&request.body)?;
    let payee = other_member(&state, &payer, "payee", input.payee, auth.named.as_ref()).await?;
    let amount = types::positive_amount("amount", &input.amount)?;
    let (reference, memo) = texts(&input.reference, &input.memo)?;
    auth.user.may_commit(amount)?;
    let key = CallerKey::or_random(keyed.as_ref().map(Keyed::caller));
    let ledger_key = IdempotencyKey::new(format!("api-pay-{}", key.0))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let order = PaymentOrder {
        amount,
        reference,
        memo,
    };
    let payer_account = payer.account();
    // With a key, the answer is stored in the payment's own database transaction.
    let receipt = keyed
        .as_ref()
        .map(|k| {
            ApiReceipt::new(
                k.user_id,
                &k.key,
                &k.path,
                &k.request_hash,
                payer_account,
                payment_answer,
            )
        })
        .transpose()?;
    let held = spending::hold(
        &state.store,
        &auth.user,
        ledger_key.as_str(),
        amount,
        people::now_unix(),
    )
    .await??;
    let decision = trade::pay_receipted(
        &state.store,
        ledger_key,
        &payer,
        &payee,
        order,
        auth.user.author(),
        receipt.clone(),
    )
    .await?;
    held.after(&state.store, &decision).await?;
    // The answer the payment's own batch stored for the key: sent as it is, not read back.
    if let Some((status, body)) = receipt.as_ref().and_then(ApiReceipt::stored_answer) {
        return Ok(idempotency::remembered_response(status, body));
    }
    let answer = || async {
        let outcome = decision.clone().map_err(ApiError::Rejected)?;
        Written::created(PaymentDone {
            transaction_id: outcome.tx().map(|t| t.0 as i64).unwrap_or_default(),
            status: "completed".to_owned(),
            payer_balance: balance_of(&state, &payer).await?,
        })
    };
    Ok(match keyed {
        Some(keyed) => idempotency::finish(&state, &keyed, answer).await,
        None => match answer().await {
            Ok(written) => (written.status, Json(written.body)).into_response(),
            Err(error) => error.into_response(),
        },
    })
}

/// The answer to a payment, as its receipt stores it (rendered by the write path with the
/// payer's account right after the payment): `201 PaymentDone`, or the ledger's refusal.
fn payment_answer(decision: &Result<Outcome, Rejection>, payer: Option<&Account>) -> (u16, String) {
    let written = match (decision, payer) {
        (Ok(outcome), Some(payer)) => Written::created(PaymentDone {
            transaction_id: outcome.tx().map(|t| t.0 as i64).unwrap_or_default(),
            status: "completed".to_owned(),
            payer_balance: money(payer.balance()),
        }),
        (Ok(_), None) => Err(ApiError::Internal("the payer is not in the batch".into())),
        (Err(rejection), _) => Err(ApiError::Rejected(rejection.clone())),
    };
    match written {
        Ok(written) => (written.status.as_u16(), written.body.to_string()),
        Err(error) => (
            error.status().as_u16(),
            serde_json::to_string(&error.problem()).unwrap_or_default(),
        ),
    }
}

/// A payment request: the seller asks the buyer to pay.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestItem {
    pub id: i64,
    pub seller_member_id: i64,
    pub buyer_member_id: i64,
    #[schema(example = "12.50")]
    pub amount: String,
    pub reference: String,
    pub memo: String,
    #[schema(example = "2026-12-31")]
    pub due_date: String,
    /// `open`, `paid`, `declined` or `expired`.
    pub status: String,
    pub transaction_id: Option<i64>,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
}

pub(crate) fn request_item(r: &PaymentRequest) -> RequestItem {
    RequestItem {
        id: r.id,
        seller_member_id: r.seller_member_id,
        buyer_member_id: r.buyer_member_id,
        amount: money(ledger::Amount::from_minor(r.amount_minor)),
        reference: r.reference.clone(),
        memo: r.memo.clone(),
        due_date: r.due_date.clone(),
        status: r.status.as_str().to_owned(),
        transaction_id: r.tx_id,
        created_at: unix_time(r.created_at),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestList {
    pub items: Vec<RequestItem>,
    /// The cursor of the following page (pass it as `after`); none on the last page.
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// A new payment request (the caller is the seller).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRequestBody {
    /// The buyer's member id.
    #[schema(minimum = 1)]
    pub payer: i64,
    #[schema(
        example = "12.50",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub reference: String,
    #[serde(default)]
    #[schema(max_length = 280)]
    pub memo: String,
    /// `YYYY-MM-DD`, today or later.
    #[schema(example = "2026-12-31", format = Date)]
    pub due_date: String,
}

/// Asks another member to pay (pay scope).
#[utoipa::path(post, path = "/api/v1/payment-requests", tag = "payments",
    request_body = NewRequestBody,
    responses(
        (status = 201, description = "Requested", body = RequestItem, links(("show" = (operation_id = "show_request", parameters(("id" = "$response.body#/id")))), ("accept" = (operation_id = "accept_request", parameters(("id" = "$response.body#/id")))), ("decline" = (operation_id = "decline_request", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_request(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let seller = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let input: NewRequestBody = types::json(&request.body)?;
        let buyer = other_member(&state, &seller, "payer", input.payer, None).await?;
        let amount = types::positive_amount("amount", &input.amount)?;
        let (reference, memo) = texts(&input.reference, &input.memo)?;
        let due = NaiveDate::parse_from_str(input.due_date.trim(), "%Y-%m-%d")
            .ok()
            .filter(|day| *day >= Utc::now().date_naive())
            .ok_or_else(|| {
                ApiError::invalid("due_date", "due_date must be a date, today or later.")
            })?;
        let expires_at = due
            .and_hms_opt(23, 59, 59)
            .map(|t| t.and_utc().timestamp())
            .and_then(|t| t.checked_add(trade::REQUEST_GRACE_SECONDS))
            .ok_or_else(|| ApiError::invalid("due_date", "due_date is out of range."))?;
        let key = CallerKey::or_random(key);
        let form_token = format!("api-{}-{}", seller.id, key.0);
        let id = trade::create_request(
            &state.store,
            &trade::NewRequest {
                seller_member_id: seller.id,
                buyer_member_id: buyer.id,
                amount_minor: amount.minor(),
                reference: &reference,
                memo: &memo,
                due_date: &due.format("%Y-%m-%d").to_string(),
                expires_at,
                form_token: &form_token,
            },
        )
        .await?;
        crate::http::notices::request_received(&state, id).await?;
        let request = trade::request(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(request_item(&request))
    })
    .await)
}

/// The caller's payment requests, as buyer and as seller.
#[utoipa::path(get, path = "/api/v1/payment-requests", tag = "payments",
    params(
        ("status" = Option<crate::http::api::types::OpenOrAll>, Query, description = "`open` for open requests only; all by default"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "The member's requests, as buyer and as seller, newest first, in keyset pages", body = RequestList),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_requests(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<RequestList>> {
    let member = auth.member()?.clone();
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let scope = match types::param(&params, "status") {
        None | Some("") | Some("all") => trade::Scope::All,
        Some("open") => trade::Scope::Open,
        Some(_) => return Err(ApiError::invalid("status", "status must be open or all.")),
    };
    let after = types::cursor(&params, "after")?;
    trade::expire_requests(&state.store).await?;
    let (items, next) =
        trade::requests_page(&state.store, member.id, scope, after, limit as i64).await?;
    Ok(Json(RequestList {
        items: items.iter().map(request_item).collect(),
        next: next.map(|id| id.to_string()),
    }))
}

/// One payment request of the caller's company (as buyer or seller): to follow its status.
#[utoipa::path(get, path = "/api/v1/payment-requests/{id}", tag = "payments",
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "The request", body = RequestItem),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request of the caller's company", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show_request(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestItem>> {
    let member = auth.member()?;
    let id = types::path_id(&id)?;
    trade::expire_requests(&state.store).await?;
    let request = trade::request(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if request.buyer_member_id != member.id && request.seller_member_id != member.id {
        return Err(ApiError::NotFound);
    }
    Ok(Json(request_item(&request)))
}

/// A request the caller must answer as its buyer; any other is 404.
async fn own_request(state: &AppState, buyer: &Member, id: &str) -> ApiResult<PaymentRequest> {
    let id = types::path_id(id)?;
    trade::expire_requests(&state.store).await?;
    let request = trade::request(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if request.buyer_member_id != buyer.id {
        return Err(ApiError::NotFound);
    }
    Ok(request)
}

fn not_open() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        "request_not_open",
        "This request is no longer open.",
    )
}

/// Pays a request addressed to the caller (pay scope).
#[utoipa::path(post, path = "/api/v1/payment-requests/{id}/accept", tag = "payments",
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Paid (or already paid)", body = RequestItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request for this buyer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Declined or expired (`request_not_open`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn accept_request(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let buyer = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let request = own_request(&state, &buyer, &id).await?;
        match request.status {
            RequestStatus::Paid => return Written::ok(request_item(&request)),
            RequestStatus::Open => {}
            _ => return Err(not_open()),
        }
        let amount = ledger::Amount::from_minor(request.amount_minor);
        auth.user.may_commit(amount)?;
        let seller = people::member(&state.store, request.seller_member_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let held = spending::hold(
            &state.store,
            &auth.user,
            &trade::accept_key(&request),
            amount,
            people::now_unix(),
        )
        .await??;
        let decision =
            trade::accept_request(&state.store, &buyer, &seller, &request, auth.user.author())
                .await?;
        held.after(&state.store, &decision).await?;
        decision.map_err(ApiError::Rejected)?;
        let request = trade::request(&state.store, request.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(request_item(&request))
    })
    .await)
}

/// Declines a request addressed to the caller (pay scope).
#[utoipa::path(post, path = "/api/v1/payment-requests/{id}/decline", tag = "payments",
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Declined", body = RequestItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request for this buyer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not open (`request_not_open`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn decline_request(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let buyer = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let request = own_request(&state, &buyer, &id).await?;
        if request.status != RequestStatus::Open
            || !trade::decline_request(&state.store, request.id).await?
        {
            return Err(not_open());
        }
        crate::http::notices::request_declined(&state, request.id).await?;
        let request = trade::request(&state.store, request.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(request_item(&request))
    })
    .await)
}

/// A refund of a payment received.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefundBody {
    /// Why (the payer sees it). At most 280 characters.
    #[serde(default)]
    #[schema(max_length = 280)]
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundDone {
    /// The reversal's transaction id.
    pub transaction_id: i64,
    /// The payment it refunds.
    pub reverses: i64,
    /// `completed`.
    pub status: String,
    /// The caller's balance after the refund.
    #[schema(example = "-12.74")]
    pub balance: String,
}

/// Refunds, in full, a payment the caller received (pay scope, the payee's owner or staff):
/// the ledger reverses it, so the payer gets back all it paid, fees included. At most once
/// per payment (`already_reversed`); the caller needs the credit to give the amount back.
#[utoipa::path(post, path = "/api/v1/transactions/{id}/refund", tag = "payments",
    request_body = RefundBody,
    params(
        ("id" = i64, Path, description = "The payment's transaction id"),
    ),
    responses(
        (status = 201, description = "Refunded", body = RefundDone),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No payment with this id received by the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid memo (`validation_failed`) or refused by the ledger (`already_reversed`, `insufficient_credit`, `account_frozen`...)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many payments for this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn refund(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let payee = auth.payer()?.clone();
    limits::check(
        &state.limits.api_payments,
        &auth.token.id.to_string(),
        ErrorFormat::Problem,
    )?;
    let tx = ledger::TxId(types::path_id(&id)? as u64);
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let input: RefundBody = types::json(&request.body)?;
        let (_, memo) = texts("", &input.memo)?;
        let key = CallerKey::or_random(key);
        let ledger_key = IdempotencyKey::new(format!("api-refund-{}", key.0))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let payment = trade::refundable(&state.store, &payee, tx)
            .await?
            .ok_or(ApiError::NotFound)?;
        auth.user.may_commit(payment.amount)?;
        let held = spending::hold(
            &state.store,
            &auth.user,
            ledger_key.as_str(),
            payment.amount,
            people::now_unix(),
        )
        .await??;
        let decision =
            trade::refund(&state.store, ledger_key, &payment, memo, auth.user.author()).await?;
        held.after(&state.store, &decision).await?;
        let outcome = decision.map_err(ApiError::Rejected)?;
        Written::created(RefundDone {
            transaction_id: outcome.tx().map(|t| t.0 as i64).unwrap_or_default(),
            reverses: tx.0 as i64,
            status: "completed".to_owned(),
            balance: balance_of(&state, &payee).await?,
        })
    })
    .await)
}
