//! `/api/v1/announcements`: the network's announcements (docs/web.md, "Announcements";
//! `crate::news`; the page is `/news`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, unix_time};
use crate::http::AppState;
use crate::news::{self, Announcement, NewAnnouncement};

/// An announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementItem {
    pub id: i64,
    pub title: String,
    pub message: String,
    /// The last day it is shown on the members' dashboards (YYYY-MM-DD, UTC).
    #[schema(example = "2026-12-31")]
    pub shown_until: String,
    /// Shown on the dashboards today (neither ended nor withdrawn).
    pub current: bool,
    /// The manager who published it, by name.
    pub author: String,
    pub published_at: String,
    /// When it was withdrawn, and why; null otherwise.
    pub withdrawn_at: Option<String>,
    pub withdrawn_reason: Option<String>,
}

fn item(a: Announcement) -> AnnouncementItem {
    let current = a.is_current(Utc::now().date_naive());
    let (withdrawn_at, withdrawn_reason) = match a.withdrawn {
        Some((at, reason)) => (Some(unix_time(at)), Some(reason)),
        None => (None, None),
    };
    AnnouncementItem {
        id: a.id,
        title: a.title,
        message: a.message,
        shown_until: a.shown_until.to_string(),
        current,
        author: a.author,
        published_at: unix_time(a.published_at),
        withdrawn_at,
        withdrawn_reason,
    }
}

/// The announcements, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementList {
    /// At most 100, withdrawn and ended ones included.
    pub items: Vec<AnnouncementItem>,
}

/// The network's announcements (any token), newest first, at most 100.
#[utoipa::path(get, path = "/api/v1/announcements", tag = "directory",
    responses(
        (status = 200, description = "The announcements", body = AnnouncementList),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _auth: ApiAuth,
) -> ApiResult<Json<AnnouncementList>> {
    let items = news::listed(&state.store).await?;
    Ok(Json(AnnouncementList {
        items: items.into_iter().map(item).collect(),
    }))
}

/// A new announcement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAnnouncementBody {
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    #[schema(min_length = 1, max_length = 4000)]
    pub message: String,
    /// The last day it is shown on the dashboards: today to 365 days ahead (UTC).
    #[schema(example = "2026-12-31")]
    pub shown_until: String,
}

/// Publishes an announcement (manager), logged as `announcement.publish`. A field's problem
/// is named (`required`, `too_long`, `invalid_date`); with 10 shown already,
/// `too_many_announcements` (409).
#[utoipa::path(post, path = "/api/v1/announcements", tag = "manage",
    request_body = NewAnnouncementBody,
    responses(
        (status = 201, description = "Published", body = AnnouncementItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "As many shown as allowed, or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: NewAnnouncementBody = types::json(&request.body)?;
        let new = NewAnnouncement {
            title: input.title,
            message: input.message,
            shown_until: input.shown_until,
        };
        let today = Utc::now().date_naive();
        let id = news::publish(&state.store, &actor, &new, today).await?;
        let published = news::get(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(item(published))
    })
    .await)
}

/// Why an announcement is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawBody {
    /// 1 to 500 characters, in the action log and on the announcement.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Withdraws an announcement (manager) with a reason, logged as `announcement.withdraw`.
#[utoipa::path(post, path = "/api/v1/announcements/{id}/withdraw", tag = "manage",
    params(
        ("id" = i64, Path, description = "Announcement id"),
    ),
    request_body = WithdrawBody,
    responses(
        (status = 200, description = "Withdrawn", body = AnnouncementItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such announcement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Withdrawn already (`already_withdrawn`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let input: WithdrawBody = types::json(&request.body)?;
        news::withdraw(&state.store, &actor, id, &input.reason).await?;
        let withdrawn = news::get(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(item(withdrawn))
    })
    .await)
}
