//! Webhooks (`crate::webhooks`, the page `/settings/webhooks`): the company's users read
//! its webhooks and their last attempts; its owner registers, removes and enables them
//! again. Deliveries are signed with the network key `public_keys` gives (docs/api.md,
//! "Webhooks", says how to check them).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, unix_time};
use crate::http::AppState;
use crate::people::{Member, Role};
use crate::store::{Store, StoreResult};
use crate::tokens::Scope;
use crate::webhooks::{self, Delivery, Webhook};

/// A webhook and where its deliveries stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookItem {
    pub id: i64,
    #[schema(example = "https://erp.example.fr/troc/events")]
    pub url: String,
    /// `active`, or `disabled` after 16 failed deliveries in a row (enable it again with
    /// `POST /api/v1/webhooks/{id}/enable`).
    pub status: String,
    /// The email of the owner who registered it, as it was then.
    pub created_by: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    /// Failed deliveries in a row (0 after a success).
    pub failures: i64,
    /// When the next attempt waits for (after a failure).
    pub next_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    pub disabled_at: Option<String>,
    /// Events queued and not yet delivered.
    pub waiting: i64,
}

pub(crate) fn item(w: &Webhook) -> WebhookItem {
    WebhookItem {
        id: w.id,
        url: w.url.clone(),
        status: w.status.as_str().to_owned(),
        created_by: w.created_by.clone(),
        created_at: unix_time(w.created_at),
        failures: w.failures,
        next_attempt_at: w.next_attempt_at.map(unix_time),
        last_success_at: w.last_success_at.map(unix_time),
        disabled_at: w.disabled_at.map(unix_time),
        waiting: w.waiting,
    }
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryItem {
    pub attempted_at: String,
    /// Events the POST carried, and the first and last of them (their `id`).
    pub events: i64,
    pub first_event: i64,
    pub last_event: i64,
    /// The receiver's HTTP status; null when no answer came.
    pub status_code: Option<i64>,
    /// Why it failed, in a few words.
    pub error: Option<String>,
    pub duration_ms: i64,
    /// A 2xx answer: the events left the queue.
    pub delivered: bool,
}

fn delivery_item(d: &Delivery) -> DeliveryItem {
    DeliveryItem {
        attempted_at: unix_time(d.attempted_at),
        events: d.events,
        first_event: d.first_seq,
        last_event: d.last_seq,
        status_code: d.status_code,
        error: d.error.clone(),
        duration_ms: d.duration_ms,
        delivered: d.succeeded(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first, at most 5.
    pub items: Vec<WebhookItem>,
    /// The network's public keys that sign deliveries (64 hex digits each; the current one
    /// first). Also published in `/audit/checkpoints.json`.
    pub public_keys: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDetail {
    pub webhook: WebhookItem,
    /// The last 20 attempts, newest first.
    pub deliveries: Vec<DeliveryItem>,
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookBody {
    /// Where to post: `https://`, a public host, at most 500 characters.
    #[schema(
        min_length = 1,
        max_length = 500,
        example = "https://erp.example.fr/troc/events"
    )]
    pub url: String,
}

/// The member company whose owner manages webhooks: a `pay` token of its owner.
fn owner(auth: &ApiAuth) -> ApiResult<&Member> {
    auth.require(Scope::Pay)?;
    if auth.user.role != Role::Owner {
        return Err(ApiError::forbidden(
            "Only a member's owner may manage its webhooks.",
        ));
    }
    auth.member()
}

/// The current network keys first, then the retired ones.
pub(crate) async fn public_keys(store: &Store) -> StoreResult<Vec<String>> {
    let mut keys = store.network_keys().await?;
    keys.sort_by_key(|k| (k.retired_at.is_some(), std::cmp::Reverse(k.created_at)));
    Ok(keys.into_iter().map(|k| k.public_key).collect())
}

/// The caller's company's webhooks (its users, any scope).
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "accounts",
    responses(
        (status = 200, description = "The webhooks, and the keys that sign deliveries", body = WebhookList),
        (status = 403, description = "Not a member's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<WebhookList>> {
    let member = auth.member()?;
    let hooks = webhooks::list(&state.store, member.id).await?;
    Ok(Json(WebhookList {
        items: hooks.iter().map(item).collect(),
        public_keys: public_keys(&state.store).await?,
    }))
}

/// Registers a webhook (pay scope, the member's owner): every transaction on the company's
/// account from now on is posted to it. At most 5 per company.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "accounts",
    request_body = WebhookBody,
    responses(
        (status = 201, description = "Registered", body = WebhookItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Five webhooks already (`too_many_webhooks`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an https URL (`invalid_url`), a private address (`private_address`), too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: WebhookBody = types::json(&request.body)?;
        let targets = state.config.webhook_targets();
        let hook = webhooks::create(&state.store, &auth.user, &member, &input.url, targets).await?;
        Written::created(item(&hook))
    })
    .await)
}

/// One of the company's webhooks and its last attempts (its users, any scope).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "show_webhook", tag = "accounts",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook and its last 20 attempts", body = WebhookDetail),
        (status = 403, description = "Not a member's user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook of the caller's company", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookDetail>> {
    let member = auth.member()?;
    let id = types::path_id(&id)?;
    let hook = webhooks::get(&state.store, member.id, id).await?;
    let deliveries = webhooks::deliveries(&state.store, &hook, webhooks::DELIVERIES_KEPT).await?;
    Ok(Json(WebhookDetail {
        webhook: item(&hook),
        deliveries: deliveries.iter().map(delivery_item).collect(),
    }))
}

/// Removes a webhook, with its queue and its attempts (pay scope, the member's owner).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/remove", operation_id = "remove_webhook", tag = "accounts",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Removed: the webhook as it was", body = WebhookItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let removed = webhooks::delete(&state.store, &auth.user, &member, id).await?;
        Written::ok(item(&removed))
    })
    .await)
}

/// Enables a disabled webhook again (pay scope, the member's owner): it is tried at once,
/// with the events that waited first. An active webhook is left as it is.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", operation_id = "enable_webhook", tag = "accounts",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Active", body = WebhookItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn enable(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let hook = webhooks::enable(&state.store, &auth.user, &member, id).await?;
        Written::ok(item(&hook))
    })
    .await)
}

/// Tests a webhook at once (pay scope, the member's owner): one signed POST of a single
/// `ping` event (`id` 0, no transaction), whose answer comes back here and is recorded
/// with the attempts. The queue and the failures are left as they are.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/ping", operation_id = "ping_webhook", tag = "accounts",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The attempt: `delivered` when the receiver answered 2xx", body = DeliveryItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server does not deliver webhooks (`webhooks_off`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn ping(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let sender = state.webhooks.clone().ok_or_else(|| {
            ApiError::coded(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "webhooks_off",
                "This server does not deliver webhooks.",
            )
        })?;
        let id = types::path_id(&id)?;
        let attempt = webhooks::ping(&state.store, &sender, &auth.user, &member, id).await?;
        Written::ok(delivery_item(&attempt))
    })
    .await)
}
