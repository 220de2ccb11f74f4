//! The one error type of the web front.
//!
//! `AppError::into_response` only sets the status and records the error in the response's
//! extensions; the session middleware, which knows the user's language, renders the HTML
//! error page (and logs server errors). That keeps handlers free of language plumbing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::limits::RetryAfter;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("login required")]
    LoginRequired,
    /// The network requires two-step login of the user, who has not turned it on.
    #[error("two-step login required")]
    TwoStepDue,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("request body too large")]
    TooLarge,
    #[error("bad request")]
    BadRequest,
    #[error("the request holds the NUL character")]
    NulCharacter,
    #[error("too many requests (retry in {} s)", .0.seconds())]
    TooManyRequests(RetryAfter),
    #[error("not available yet")]
    Unavailable,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    #[error("internal: {0}")]
    Internal(String),
}

pub type AppResult<T, E = AppError> = Result<T, E>;

/// Which error page to draw; carried from `into_response` to the middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Forbidden,
    Csrf,
    TooLarge,
    BadRequest,
    NulCharacter,
    TooManyRequests(RetryAfter),
    Unavailable,
    Internal,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::LoginRequired | AppError::TwoStepDue => StatusCode::SEE_OTHER,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest | AppError::NulCharacter => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(_)
            | AppError::Database(_)
            | AppError::Render(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            AppError::NotFound => ErrorPage::NotFound,
            AppError::Forbidden | AppError::LoginRequired | AppError::TwoStepDue => {
                ErrorPage::Forbidden
            }
            AppError::Csrf => ErrorPage::Csrf,
            AppError::TooLarge => ErrorPage::TooLarge,
            AppError::BadRequest => ErrorPage::BadRequest,
            AppError::NulCharacter => ErrorPage::NulCharacter,
            AppError::TooManyRequests(retry) => ErrorPage::TooManyRequests(*retry),
            AppError::Unavailable => ErrorPage::Unavailable,
            AppError::Store(_)
            | AppError::Database(_)
            | AppError::Render(_)
            | AppError::Internal(_) => ErrorPage::Internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::LoginRequired => return Redirect::to("/login").into_response(),
            AppError::TwoStepDue => return Redirect::to("/account/two-step").into_response(),
            _ => {}
        }
        let status = self.status();
        if status.is_server_error() {
            // The internal message is logged, never shown.
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (status, status.canonical_reason().unwrap_or("error")).into_response();
        if let AppError::TooManyRequests(retry) = &self {
            let (name, value) = super::limits::retry_after_header(*retry);
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(self.page());
        response
    }
}
