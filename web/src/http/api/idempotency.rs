//! `Idempotency-Key` on every POST and PUT: the first answer is remembered per user and key
//! with the SHA-256 of the request (method, path, body); the same request again gets that
//! answer replayed exactly, another request under the same key gets 409
//! `idempotency_conflict`. Payments also pass the key into the ledger's own idempotency key,
//! so money never moves twice even when two requests race.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::store::StoreResult;
use crate::tokens::{self, Remembered};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Longest key, in bytes (visible ASCII only).
pub const KEY_LEN_MAX: usize = 255;

/// A write request as the idempotency rule reads it: the method, the path as the client
/// sent it, the headers (for `Idempotency-Key`) and the body. The handlers of every POST and
/// PUT take it as their last argument (it consumes the body).
pub struct WriteRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for WriteRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<WriteRequest, ApiError> {
        let method = request.method().clone();
        let path = match request.extensions().get::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri.path().to_owned(),
            None => request.uri().path().to_owned(),
        };
        let headers = request.headers().clone();
        // The body's size is bounded before this by `limits::body_limit` (413).
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::coded(
                    rejection.status(),
                    "bad_request",
                    format!("The request body could not be read: {rejection}"),
                )
            })?;
        Ok(WriteRequest {
            method,
            path,
            headers,
            body,
        })
    }
}

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

/// A keyed write whose key is not known yet (the up-front lookup found no answer).
#[derive(Debug, Clone)]
pub struct Keyed {
    pub user_id: i64,
    pub key: String,
    pub path: String,
    /// SHA-256 of method, path and body, in hex.
    pub request_hash: String,
}

impl Keyed {
    /// The key hashed with the user id, for the ledger's and the console's keys.
    pub fn caller(&self) -> CallerKey {
        CallerKey(hex::encode(Sha256::digest(
            format!("{}:{}", self.user_id, self.key).as_bytes(),
        )))
    }
}

/// Where a write stands after [`begin`].
pub enum Begun {
    /// No `Idempotency-Key`: nothing is remembered.
    Unkeyed,
    /// A key with no answer yet: the write goes ahead.
    Keyed(Keyed),
    /// Answered already: a bad key, a replay, a conflict, or a store error.
    Answered(Response),
}

/// Reads the key, hashes the request and looks the key up: the same request replays the
/// remembered answer, another request under the key is 409 `idempotency_conflict`.
pub async fn begin(state: &AppState, auth: &ApiAuth, request: &WriteRequest) -> Begun {
    let WriteRequest {
        method,
        path,
        headers,
        body,
    } = request;
    let key = match key_of(headers) {
        Ok(Some(key)) => key,
        Ok(None) => return Begun::Unkeyed,
        Err(error) => return Begun::Answered(error.into_response()),
    };
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    let keyed = Keyed {
        user_id: auth.user.id,
        key,
        path: path.to_owned(),
        request_hash: hex::encode(hasher.finalize()),
    };
    // Read with the token (`ApiAuth`), for this same key: no second read.
    let remembered = match &auth.remembered {
        Some(read) if read.key == keyed.key => Ok(read.answer.clone()),
        _ => tokens::remembered(&state.store, keyed.user_id, &keyed.key).await,
    };
    match answer_of(remembered, &keyed) {
        Some(answer) => Begun::Answered(answer),
        None => Begun::Keyed(keyed),
    }
}

fn conflict() -> Response {
    ApiError::coded(
        StatusCode::CONFLICT,
        "idempotency_conflict",
        "This Idempotency-Key was used for another request.",
    )
    .into_response()
}

/// The answer remembered under the key: replayed if it answered this request, 409 if
/// another; `None` when there is none.
/// A remembered answer as it is sent again: its status and body, with the content type of
/// a success or a problem.
pub fn remembered_response(status: u16, body: String) -> Response {
    json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
}

async fn stored_answer(state: &AppState, keyed: &Keyed) -> Option<Response> {
    answer_of(
        tokens::remembered(&state.store, keyed.user_id, &keyed.key).await,
        keyed,
    )
}

/// What a remembered answer (or the failure to read it) means for this request: the answer
/// again, a conflict (another request under the key), an error, or `None` (go on).
fn answer_of(remembered: StoreResult<Option<Remembered>>, keyed: &Keyed) -> Option<Response> {
    match remembered {
        Ok(Some(answer)) if answer.request_hash == keyed.request_hash => {
            Some(remembered_response(answer.status, answer.response))
        }
        Ok(Some(_)) => Some(conflict()),
        Ok(None) => None,
        Err(error) => Some(ApiError::from(error).into_response()),
    }
}

/// Remembers a write's answer with its own write (`tokens::remember`) and answers it.
/// Server errors and rate limits are not remembered (a retry may succeed).
async fn remember_answer(state: &AppState, keyed: &Keyed, result: ApiResult<Written>) -> Response {
    let (status, response) = match result {
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
        request_hash: keyed.request_hash.clone(),
        status: status.as_u16(),
        response,
    };
    let stored = tokens::remember(
        &state.store,
        keyed.user_id,
        &keyed.key,
        &keyed.path,
        &answer,
    );
    if let Err(error) = stored.await {
        return ApiError::from(error).into_response();
    }
    json_response(status, answer.response)
}

/// Answers a write whose operation was submitted with a receipt
/// (`store::ApiReceipt`), once the store answered: the receipt was written in the
/// operation's own batch, so the answer is read back and returned exactly (409 if another
/// request under the key stored its answer first). With no receipt stored (the ledger
/// replayed a decision made without one, e.g. before receipts existed, or the stored
/// answer expired), `fallback` answers and is remembered as [`run`] does.
pub async fn finish<F, Fut>(state: &AppState, keyed: &Keyed, fallback: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Written>>,
{
    if let Some(answer) = stored_answer(state, keyed).await {
        return answer;
    }
    let result = fallback().await;
    remember_answer(state, keyed, result).await
}

/// Answers a write: replays or refuses under a known key, else runs `write` (with the
/// caller's key, if any) and remembers its answer. Server errors and rate limits are not
/// remembered (a retry may succeed).
pub async fn run<F, Fut>(
    state: &AppState,
    auth: &ApiAuth,
    request: &WriteRequest,
    write: F,
) -> Response
where
    F: FnOnce(Option<CallerKey>) -> Fut,
    Fut: Future<Output = ApiResult<Written>>,
{
    let keyed = match begin(state, auth, request).await {
        Begun::Answered(answer) => return answer,
        Begun::Unkeyed => {
            return match write(None).await {
                Ok(written) => json_response(written.status, written.body.to_string()),
                Err(error) => error.into_response(),
            }
        }
        Begun::Keyed(keyed) => keyed,
    };
    let result = write(Some(keyed.caller())).await;
    remember_answer(state, &keyed, result).await
}
