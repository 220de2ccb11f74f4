//! `Idempotency-Key` on every POST and PUT: the first answer is remembered per user and key
//! with the SHA-256 of the request (method, path, body); the same request again gets that
//! answer replayed exactly, another request under the same key gets 409
//! `idempotency_conflict`. Payments also pass the key into the ledger's own idempotency key,
//! so money never moves twice even when two requests race.

use std::future::Future;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::tokens::{self, Remembered};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Longest key, in bytes (visible ASCII only).
pub const KEY_LEN_MAX: usize = 255;

/// A successful write's answer.
pub struct Written {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Written {
    pub fn created(body: impl serde::Serialize) -> ApiResult<Written> {
        Ok(Written {
            status: StatusCode::CREATED,
            body: serde_json::to_value(body).map_err(|e| ApiError::Internal(e.to_string()))?,
        })
    }

    pub fn ok(body: impl serde::Serialize) -> ApiResult<Written> {
        Ok(Written {
            status: StatusCode::OK,
            body: serde_json::to_value(body).map_err(|e| ApiError::Internal(e.to_string()))?,
        })
    }
}

/// The key the caller gave, hashed with their user id: 64 hex characters, usable inside the
/// ledger's and the console's keys (`api-pay-…`), never the same for two users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerKey(pub String);

impl CallerKey {
    /// The given key, or a fresh random one when the request had none.
    pub fn or_random(key: Option<CallerKey>) -> CallerKey {
        key.unwrap_or_else(|| CallerKey(crate::people::random_token()))
    }
}

/// The header's key: 1 to [`KEY_LEN_MAX`] visible ASCII characters.
pub fn key_of(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    let ok =
        !text.is_empty() && text.len() <= KEY_LEN_MAX && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(Some(text.to_owned()))
    } else {
        Err(ApiError::invalid(
            "Idempotency-Key",
            format!("The Idempotency-Key must be 1 to {KEY_LEN_MAX} visible ASCII characters."),
        ))
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// Answers a write: replays or refuses under a known key, else runs `write` (with the
/// caller's key, if any) and remembers its answer. Server errors and rate limits are not
/// remembered (a retry may succeed).
pub async fn run<F, Fut>(
    state: &AppState,
    auth: &ApiAuth,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    write: F,
) -> Response
where
    F: FnOnce(Option<CallerKey>) -> Fut,
    Fut: Future<Output = ApiResult<Written>>,
{
    let key = match key_of(headers) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(key) = key else {
        return match write(None).await {
            Ok(written) => json_response(written.status, written.body.to_string()),
            Err(error) => error.into_response(),
        };
    };
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    let request_hash = hex::encode(hasher.finalize());
    let user_id = auth.user.id;
    match tokens::remembered(&state.store, user_id, &key).await {
        Ok(Some(answer)) if answer.request_hash == request_hash => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            return json_response(status, answer.response);
        }
        Ok(Some(_)) => {
            return ApiError::coded(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "This Idempotency-Key was used for another request.",
            )
            .into_response()
        }
        Ok(None) => {}
        Err(error) => return ApiError::from(error).into_response(),
    }
    let caller = CallerKey(hex::encode(Sha256::digest(
        format!("{user_id}:{key}").as_bytes(),
    )));
    let (status, response) = match write(Some(caller)).await {
        Ok(written) => (written.status, written.body.to_string()),
        Err(ApiError::RateLimited(limited)) => return limited.into_response(),
        Err(error) => {
            let status = error.status();
            if status.is_server_error() {
                return error.into_response();
            }
            let body = serde_json::to_string(&error.problem()).unwrap_or_default();
            (status, body)
        }
    };
    let answer = Remembered {
        request_hash,
        status: status.as_u16(),
        response,
    };
    if let Err(error) = tokens::remember(&state.store, user_id, &key, path, &answer).await {
        return ApiError::from(error).into_response();
    }
    json_response(status, answer.response)
}
