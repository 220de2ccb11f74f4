//! `ApiError`: every refusal of the JSON API as an RFC 9457 problem document
//! (`application/problem+json`) with a stable `code`.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger::Rejection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::console::ConsoleError;
use crate::export::download::DownloadError;
use crate::http::limits::RateLimited;
use crate::network::{InvalidInput, NetworkError};
use crate::store::StoreError;

/// An RFC 9457 problem document. `code` is stable (see docs/api.md for the list); `field`
/// names the input at fault on `validation_failed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status says what kind of problem it is, `code` says which.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable machine code, e.g. `insufficient_credit`, `not_found`, `validation_failed`.
    pub code: String,
    /// The field at fault (`validation_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One field's problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    /// The line of an uploaded file at fault (`invalid_file`; none for the file as a whole),
    /// or of a body's list (an invoice's `lines`, from 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Why an API request was refused. Nothing was changed.
#[derive(Debug)]
pub enum ApiError {
    /// 401 with `WWW-Authenticate: Bearer`: no token, a malformed one, an unknown or a
    /// revoked one.
    Unauthorized(&'static str),
    /// 403: the token's scope or the user's role does not allow this.
    Forbidden(String),
    /// 404: no such object, or not the caller's (the same answer, so ids reveal nothing).
    NotFound,
    /// 422 `validation_failed`, naming the field.
    Invalid {
        field: String,
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// 422 with the ledger's code (`insufficient_credit`, `account_frozen`...).
    Rejected(Rejection),
    /// Another status with its own code (409 `idempotency_conflict`, 422 `no_siren`...).
    Coded {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// 422 `invalid_file`: an uploaded file's problems, each with its line and field.
    InvalidFile(Vec<FieldProblem>),
    /// 429 with `Retry-After`.
    RateLimited(RateLimited),
    /// 500; the message is logged, never shown.
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.to_owned(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::Forbidden(detail.into())
    }

    pub fn coded(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Coded {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } | ApiError::Rejected(_) | ApiError::InvalidFile(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Coded { status, .. } => *status,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Invalid { .. } => "validation_failed",
            ApiError::Rejected(rejection) => rejection.code(),
            ApiError::Coded { code, .. } => code,
            ApiError::InvalidFile(_) => "invalid_file",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem document this error answers.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, field, errors) = match self {
            ApiError::Unauthorized(detail) => ((*detail).to_owned(), None, Vec::new()),
            ApiError::Forbidden(detail) => (detail.clone(), None, Vec::new()),
            ApiError::NotFound => ("No such object.".to_owned(), None, Vec::new()),
            ApiError::Invalid {
                field,
                detail,
                errors,
            } => (detail.clone(), Some(field.clone()), errors.clone()),
            ApiError::Rejected(rejection) => (rejection_detail(rejection), None, Vec::new()),
            ApiError::Coded { detail, .. } => (detail.clone(), None, Vec::new()),
            ApiError::InvalidFile(errors) => (
                format!(
                    "The file is invalid ({} problem(s)); nothing was imported.",
                    errors.len()
                ),
                None,
                errors.clone(),
            ),
            ApiError::RateLimited(limited) => (
                format!(
                    "Too many requests: retry in {} seconds.",
                    limited.retry.seconds()
                ),
                None,
                Vec::new(),
            ),
            ApiError::Internal(_) => ("Internal error.".to_owned(), None, Vec::new()),
        };
        Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
            field,
            errors,
        }
    }
}

/// The detail of a ledger refusal, in the ledger's words but one: an upper limit is the
/// payee's, whose figures (its limit and the balance it would reach tell its balance, which
/// it may hide) are not the caller's to read.
fn rejection_detail(rejection: &Rejection) -> String {
    match rejection {
        Rejection::OverUpperLimit { account, .. } => format!(
            "account {account} would exceed its upper limit: it cannot receive this amount now"
        ),
        other => other.to_string(),
    }
}

/// A problem document as a response.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_string(problem).unwrap_or_else(|_| "{}".to_owned());
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::RateLimited(limited) = self {
            return limited.into_response();
        }
        if let ApiError::Internal(message) = &self {
            tracing::error!(error = %message, "API request failed");
        }
        let mut response = problem_response(self.status(), &self.problem());
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"troc\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::Internal(error.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::Internal(error.to_string())
    }
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> ApiError {
        ApiError::RateLimited(limited)
    }
}

/// A staff user's operation above the payment limit its owner set: 422
/// `over_payment_limit`, nothing changed.
impl From<crate::people::OverPaymentMax> for ApiError {
    fn from(over: crate::people::OverPaymentMax) -> ApiError {
        ApiError::Coded {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "over_payment_limit",
            detail: format!(
                "This amount is over your limit per operation ({}), which your company's owner \
                 sets: the owner can do it, or raise your limit.",
                over.max.to_plain()
            ),
        }
    }
}

/// A staff user's operation that would take its month over the limit per month its owner
/// set: 422 `over_month_limit`, nothing changed.
impl From<crate::spending::OverMonthMax> for ApiError {
    fn from(over: crate::spending::OverMonthMax) -> ApiError {
        ApiError::Coded {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "over_month_limit",
            detail: format!(
                "This amount is over what is left of your limit per month ({} committed this \
                 month of {}, {} left), which your company's owner sets: the owner can do it, \
                 or raise your limit.",
                over.used.to_plain(),
                over.max.to_plain(),
                over.left().to_plain()
            ),
        }
    }
}

/// A staff user's limit per operation or per month: `over_payment_limit` or
/// `over_month_limit`.
impl From<crate::spending::OverLimit> for ApiError {
    fn from(over: crate::spending::OverLimit) -> ApiError {
        match over {
            crate::spending::OverLimit::Operation(over) => over.into(),
            crate::spending::OverLimit::Month(over) => over.into(),
        }
    }
}

impl From<ConsoleError> for ApiError {
    fn from(error: ConsoleError) -> ApiError {
        match error {
            ConsoleError::Forbidden => ApiError::forbidden("Only network managers may do this."),
            ConsoleError::NotFound => ApiError::NotFound,
            ConsoleError::Invalid(issues) => {
                let errors: Vec<FieldProblem> = issues
                    .iter()
                    .map(|i| FieldProblem {
                        field: i.field.as_str().to_owned(),
                        code: i.problem.code().to_owned(),
                        line: i.line,
                    })
                    .collect();
                let field = errors.first().map(|e| e.field.clone()).unwrap_or_default();
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.code))
                    .collect::<Vec<_>>()
                    .join(", ");
                ApiError::Invalid {
                    field,
                    detail,
                    errors,
                }
            }
            ConsoleError::InvalidFile(issues) => ApiError::InvalidFile(
                issues
                    .iter()
                    .map(|i| FieldProblem {
                        field: i.field.map(|f| f.as_str()).unwrap_or("file").to_owned(),
                        code: i.problem.code().to_owned(),
                        line: i.line,
                    })
                    .collect(),
            ),
            ConsoleError::Rejected(rejection) => ApiError::Rejected(rejection),
            error @ ConsoleError::Conflict(_) => {
                let code = error.code();
                ApiError::coded(StatusCode::CONFLICT, code, error.to_string())
            }
            ConsoleError::Store(error) => error.into(),
        }
    }
}

fn invalid_input_field(invalid: &InvalidInput) -> &'static str {
    match invalid {
        InvalidInput::ReasonMissing | InvalidInput::ReasonTooLong { .. } => "reason",
        InvalidInput::MemoMissing | InvalidInput::MemoTooLong { .. } => "memo",
        InvalidInput::RateTooHigh { .. } => "rate",
        InvalidInput::NegativeMinimum => "minimum",
        InvalidInput::StressCountOutOfRange { .. } => "k",
        InvalidInput::MonthsOutOfRange { .. } => "months",
    }
}

impl From<NetworkError> for ApiError {
    fn from(error: NetworkError) -> ApiError {
        match error {
            NetworkError::Forbidden => ApiError::forbidden("This role may not do this."),
            NetworkError::UnknownMember => ApiError::NotFound,
            NetworkError::Invalid(invalid) => ApiError::Invalid {
                field: invalid_input_field(&invalid).to_owned(),
                detail: invalid.to_string(),
                errors: vec![FieldProblem {
                    field: invalid_input_field(&invalid).to_owned(),
                    code: invalid.code().to_owned(),
                    line: None,
                }],
            },
            NetworkError::Rejected(rejection) => ApiError::Rejected(rejection),
            NetworkError::Schedule(error) => ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.code(),
                error.to_string(),
            ),
            NetworkError::Store(error) => error.into(),
        }
    }
}

impl From<DownloadError> for ApiError {
    fn from(error: DownloadError) -> ApiError {
        match error {
            DownloadError::Store(error) => error.into(),
            DownloadError::UnknownMember(_) => ApiError::NotFound,
            error => ApiError::coded(error.status(), error.code(), error.to_string()),
        }
    }
}
