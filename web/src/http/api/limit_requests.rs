//! Limit requests (`console::limit_requests`, the pages `/credit-limit` and
//! `/admin/limit-requests`): a member's owner asks for another credit limit, another upper
//! limit or both, and may withdraw the request while it waits; the network's manager grants
//! it (the amounts asked or others) or declines it. A member's users read their company's requests; the network's staff read
//! every request.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::applications::RefusalBody;
use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::console::limit_requests::{self, Grant, LimitRequest, LimitRequestStatus, Wanted};
use crate::http::AppState;
use crate::people::{Member, Role};
use crate::tokens::Scope;

/// A member's request for another credit limit, another upper limit, or both.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitRequestItem {
    pub id: i64,
    pub member_id: i64,
    /// `pending`, `granted`, `declined` or `withdrawn`.
    pub status: String,
    /// The email of the owner who asked, as it was then.
    pub requested_by: String,
    /// The credit limit when the member asked.
    #[schema(example = "1000.00")]
    pub credit_limit_before: String,
    /// The credit limit wanted: `credit_limit_before` when the request leaves it alone.
    #[schema(example = "3000.00")]
    pub credit_limit_asked: String,
    pub message: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    pub decided_at: Option<String>,
    /// The manager who granted or declined it, or the owner who withdrew it.
    pub decided_by: Option<String>,
    /// The manager's reason, which the member reads.
    pub decision_reason: String,
    /// The credit limit after the grant, once granted.
    pub credit_limit_granted: Option<String>,
    /// The upper limit when the member asked (null: none then, or not asked).
    pub max_balance_before: Option<String>,
    /// The upper limit wanted; null when the request leaves it alone.
    #[schema(example = "20000.00")]
    pub max_balance_asked: Option<String>,
    /// The upper limit set, once granted (null unless asked).
    pub max_balance_granted: Option<String>,
}

pub(crate) fn item(r: &LimitRequest) -> LimitRequestItem {
    LimitRequestItem {
        id: r.id,
        member_id: r.member_id,
        status: r.status.as_str().to_owned(),
        requested_by: r.requested_by.clone(),
        credit_limit_before: money(r.credit_limit_before),
        credit_limit_asked: money(r.credit_limit_asked),
        message: r.message.clone(),
        created_at: unix_time(r.created_at),
        decided_at: r.decided_at.map(unix_time),
        decided_by: r.decided_by.clone(),
        decision_reason: r.decision_reason.clone(),
        credit_limit_granted: r.credit_limit_granted.map(money),
        max_balance_before: r.max_balance_before.map(money),
        max_balance_asked: r.max_balance_asked.map(money),
        max_balance_granted: r.max_balance_granted.map(money),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitRequestList {
    /// Newest first: at most 200 for the network's staff, 20 for a member.
    pub items: Vec<LimitRequestItem>,
}

/// The member company whose owner may ask and withdraw: a `pay` token of its owner.
fn owner(auth: &ApiAuth) -> ApiResult<&Member> {
    auth.require(Scope::Pay)?;
    if auth.user.role != Role::Owner {
        return Err(ApiError::forbidden(
            "Only a member's owner may ask the network for other limits.",
        ));
    }
    auth.member()
}

/// Limit requests: the caller's company's (a member's users), or every member's
/// (manage: the network's manager or accountant).
#[utoipa::path(get, path = "/api/v1/limit-requests", operation_id = "list_limit_requests", tag = "accounts",
    params(("status" = Option<crate::http::api::types::LimitRequestState>, Query, description = "`pending`, `granted`, `declined` or `withdrawn`; all by default")),
    responses(
        (status = 200, description = "The requests, newest first", body = LimitRequestList),
        (status = 403, description = "Neither a member's user nor the network's staff with a manage token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<LimitRequestList>> {
    let params = types::query(raw.as_deref());
    let status = match types::param(&params, "status") {
        None => None,
        Some(text) => Some(LimitRequestStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "status must be pending, granted, declined or withdrawn.",
            )
        })?),
    };
    let found = if auth.is_network() {
        let actor = auth.console_actor()?;
        limit_requests::list(&state.store, &actor, status).await?
    } else {
        let member = auth.member()?;
        limit_requests::member_requests(&state.store, member.id)
            .await?
            .into_iter()
            .filter(|r| status.is_none_or(|s| r.status == s))
            .collect()
    };
    Ok(Json(LimitRequestList {
        items: found.iter().map(item).collect(),
    }))
}

/// The request `id` as the caller may see it: any for the network's staff, its company's
/// for a member's users; 404 otherwise.
async fn visible(state: &AppState, auth: &ApiAuth, id: &str) -> ApiResult<LimitRequest> {
    let id = types::path_id(id)?;
    if auth.is_network() {
        let actor = auth.console_actor()?;
        return Ok(limit_requests::get(&state.store, &actor, id).await?);
    }
    let member = auth.member.as_ref().ok_or(ApiError::NotFound)?;
    Ok(limit_requests::of_member(&state.store, member.id, id).await?)
}

/// One credit-limit request (its company's users, or the network's staff).
#[utoipa::path(get, path = "/api/v1/limit-requests/{id}", operation_id = "show_limit_request", tag = "accounts",
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "The request", body = LimitRequestItem),
        (status = 404, description = "No such request the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<LimitRequestItem>> {
    Ok(Json(item(&visible(&state, &auth, &id).await?)))
}

/// What a member's owner asks for: another credit limit, another upper limit, or both (at
/// least one).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LimitRequestBody {
    /// The credit limit wanted, higher or lower than the one in force (0 to 10 000 000);
    /// absent: the request leaves it alone.
    #[schema(example = "3000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub credit_limit: Option<String>,
    /// The upper limit wanted (the largest balance the member may hold), higher or lower than
    /// the one in force (0 to 10 000 000); absent: the request leaves it alone.
    #[schema(example = "20000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub max_balance: Option<String>,
    /// Why, for the manager: 1 to 1 000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    pub message: String,
}

/// Asks the network for another credit limit, another upper limit or both (pay scope, the
/// member's owner). One request waits at a time, and a member makes at most 5 in 30 days.
#[utoipa::path(post, path = "/api/v1/limit-requests", tag = "accounts",
    request_body = LimitRequestBody,
    responses(
        (status = 201, description = "Asked: the request waits for the manager", body = LimitRequestItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request waits already (`already_pending`), too many requests in 30 days (`too_many_limit_requests`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`same_as_current`...), or the account is closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn ask(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: LimitRequestBody = types::json(&request.body)?;
        let wanted = Wanted {
            credit_limit: types::optional_amount("credit_limit", input.credit_limit.as_deref())?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
        };
        let asked =
            limit_requests::ask(&state.store, &auth.user, &member, wanted, &input.message).await?;
        Written::created(item(&asked))
    })
    .await)
}

/// Withdraws the company's waiting request (pay scope, the member's owner).
#[utoipa::path(post, path = "/api/v1/limit-requests/{id}/withdraw", operation_id = "withdraw_limit_request", tag = "accounts",
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Withdrawn", body = LimitRequestItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided or withdrawn already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let done = limit_requests::withdraw(&state.store, &auth.user, &member, id).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// The manager's grant: each limit the request asks for (the amount asked when absent;
/// one it does not ask for is `not_asked`) and a reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantBody {
    #[schema(example = "2500.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub credit_limit: Option<String>,
    #[schema(example = "20000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub max_balance: Option<String>,
    /// Why, 1 to 500 characters: the member reads it, and the ledger's limit history and
    /// the action log keep it.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Grants a waiting request (manager): each limit it asks for becomes the amount asked, or
/// the one given; a limit it leaves alone stays. Logged as `limit_request.grant`.
#[utoipa::path(post, path = "/api/v1/limit-requests/{id}/grant", tag = "manage",
    request_body = GrantBody,
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Granted", body = LimitRequestItem),
        (status = 403, description = "Not a manage token of the manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided or withdrawn already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or the ledger refused (`account_closed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: GrantBody = types::json(&request.body)?;
        let decision = Grant {
            credit_limit: types::optional_amount("credit_limit", input.credit_limit.as_deref())?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
            reason: input.reason,
        };
        let granted = limit_requests::grant(&state.store, &actor, id, &decision).await?;
        Written::ok(item(&granted))
    })
    .await)
}

/// Declines a waiting request with a reason the member reads (manager). Logged as
/// `limit_request.decline`.
#[utoipa::path(post, path = "/api/v1/limit-requests/{id}/decline", operation_id = "decline_limit_request", tag = "manage",
    request_body = RefusalBody,
    params(
        ("id" = i64, Path, description = "Request id"),
    ),
    responses(
        (status = 200, description = "Declined", body = LimitRequestItem),
        (status = 403, description = "Not a manage token of the manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided or withdrawn already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn decline(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: RefusalBody = types::json(&request.body)?;
        let declined = limit_requests::decline(&state.store, &actor, id, &input.reason).await?;
        Written::ok(item(&declined))
    })
    .await)
}
