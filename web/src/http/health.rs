//! Health, readiness and metrics for operators and load balancers, and the request-id and
//! metrics middleware that wraps every route.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tracing::Instrument;

use super::AppState;
use crate::metrics::{self, PoolUsage};

/// The header carrying the request id, in requests (kept if valid) and in every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id accepted from a client (a proxy's); longer ones are replaced.
pub const REQUEST_ID_LEN_MAX: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers and every migration this binary knows is applied.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.pending_migrations().await {
        Ok(0) => (StatusCode::OK, "ready\n").into_response(),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {pending} migrations pending\n"),
        )
            .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the database does not answer ({error})\n"),
        )
            .into_response(),
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let pool: PoolUsage = state.store.pool_usage();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics::global().render(pool),
    )
        .into_response()
}

fn valid_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty()
        && text.len() <= REQUEST_ID_LEN_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then(|| text.to_owned())
}

/// Gives each request an id (a valid `x-request-id` from the proxy, or a new one), runs it in
/// a tracing span carrying that id so that every log line shows it, returns it in the
/// response, and records the request's route, status and latency.
pub async fn track(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(valid_request_id)
        .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!("request", id = %id, %method, route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics::global().record_request(&route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(status, micros = elapsed.as_micros() as u64, "request done");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
