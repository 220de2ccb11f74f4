//! Applications to join the network (the public `/apply` form) and the manager's decision
//! on them (the console's `/admin/applications` pages), through `console::applications`.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::manage::MemberCreated;
use super::types::{self, money, unix_time};
use crate::console::applications::{self, Application, ApplicationStatus, ApprovalInput};
use crate::http::AppState;

/// An application to join the network, as the applicant filled it in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationItem {
    pub id: i64,
    /// `pending`, `approved` or `refused`.
    pub status: String,
    pub name: String,
    pub siren: String,
    pub email: String,
    pub contact: String,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    #[schema(example = "250000.00")]
    pub declared_turnover: Option<String>,
    pub message: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decision_reason: String,
    /// The member made of it, once approved.
    pub member_id: Option<i64>,
}

fn application_item(a: &Application) -> ApplicationItem {
    let form = &a.form;
    ApplicationItem {
        id: a.id,
        status: a.status.as_str().to_owned(),
        name: form.name.clone(),
        siren: form.siren.clone(),
        email: form.email.clone(),
        contact: form.contact.clone(),
        address: form.address.clone(),
        city: form.city.clone(),
        postcode: form.postcode.clone(),
        sector: form.sector.clone(),
        description: form.description.clone(),
        declared_turnover: form.declared_turnover.map(money),
        message: form.message.clone(),
        created_at: unix_time(a.created_at),
        decided_at: a.decided_at.map(unix_time),
        decision_reason: a.decision_reason.clone(),
        member_id: a.member_id,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    /// Newest first, at most 200.
    pub items: Vec<ApplicationItem>,
}

/// Applications to join, newest first (manage: the network's manager or accountant).
#[utoipa::path(get, path = "/api/v1/applications", operation_id = "list_applications", tag = "manage",
    params(("status" = Option<crate::http::api::types::ApplicationState>, Query, description = "`pending`, `approved` or `refused`; all by default")),
    responses(
        (status = 200, description = "The 200 newest applications", body = ApplicationList),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ApplicationList>> {
    let actor = auth.console_actor()?;
    let params = types::query(raw.as_deref());
    let status = match types::param(&params, "status") {
        None => None,
        Some(text) => Some(ApplicationStatus::parse(text).ok_or_else(|| {
            ApiError::invalid("status", "status must be pending, approved or refused.")
        })?),
    };
    let found = applications::list(&state.store, &actor, status).await?;
    Ok(Json(ApplicationList {
        items: found.iter().map(application_item).collect(),
    }))
}

/// One application (manage: the network's manager or accountant).
#[utoipa::path(get, path = "/api/v1/applications/{id}", operation_id = "show_application", tag = "manage",
    params(("id" = i64, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationItem),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationItem>> {
    let actor = auth.console_actor()?;
    let id = types::path_id(&id)?;
    let found = applications::get(&state.store, &actor, id).await?;
    Ok(Json(application_item(&found)))
}

/// The manager's choices when admitting an applicant; the category's defaults when absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApprovalBody {
    /// A category code.
    #[serde(default)]
    pub category: Option<String>,
    #[schema(example = "1000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub credit_limit: Option<String>,
    #[schema(example = "5000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub max_balance: Option<String>,
    /// A comment, at most 500 characters; in the action log.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Admits a pending applicant (manager): the member and its account are created as by
/// `POST /api/v1/members`, and the invitation link is for the applicant's email.
#[utoipa::path(post, path = "/api/v1/applications/{id}/approve", operation_id = "approve_application", tag = "manage",
    request_body = ApprovalBody,
    params(
        ("id" = i64, Path, description = "Application id"),
    ),
    responses(
        (status = 201, description = "Admitted: the new member", body = MemberCreated),
        (status = 403, description = "Not a manage token of the manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (the SIREN already a member's...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: ApprovalBody = types::json(&request.body)?;
        let approval = ApprovalInput {
            category: input.category,
            credit_limit: types::optional_amount("credit_limit", input.credit_limit.as_deref())?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
            reason: input.reason,
        };
        let created = applications::approve(&state.store, &actor, id, &approval).await?;
        let mut answers =
            MemberCreated::mailed(&state, &auth, std::slice::from_ref(&created)).await?;
        Written::created(answers.remove(0))
    })
    .await)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefusalBody {
    /// Why, 1 to 500 characters; in the action log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Refuses a pending application, with a reason (manager).
#[utoipa::path(post, path = "/api/v1/applications/{id}/refuse", tag = "manage",
    request_body = RefusalBody,
    params(
        ("id" = i64, Path, description = "Application id"),
    ),
    responses(
        (status = 200, description = "Refused", body = ApplicationItem),
        (status = 403, description = "Not a manage token of the manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn refuse(
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
        applications::refuse(&state.store, &actor, id, &input.reason).await?;
        let refused = applications::get(&state.store, &actor, id).await?;
        Written::ok(application_item(&refused))
    })
    .await)
}
