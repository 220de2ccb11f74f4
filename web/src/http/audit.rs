//! Public audit pages (issue 7): the network's keys and signed checkpoints, for machines
//! (`/audit/checkpoints.json`) and for members (`/audit`). Public on purpose: anyone holding
//! an export must be able to fetch the keys and heads it is checked against.

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{AppResult, AppState};
use crate::audit::publish;

/// Checkpoints per published page.
pub const CHECKPOINTS_PER_PAGE: usize = 100;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// Only checkpoints with a greater seq (the previous page's `next_after`).
    after: Option<u64>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(page))
        .route("/audit/checkpoints.json", get(checkpoints_json))
}

async fn checkpoints_json(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> AppResult<impl IntoResponse> {
    let json =
        publish::checkpoints_json(&state.store, query.after.unwrap_or(0), CHECKPOINTS_PER_PAGE)
            .await?;
    Ok((
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=60"),
        ],
        json,
    ))
}

async fn page(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> AppResult<impl IntoResponse> {
    let document =
        publish::published(&state.store, query.after.unwrap_or(0), CHECKPOINTS_PER_PAGE).await?;
    Ok((
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        publish::page_html(&document),
    ))
}
