//! Accountant exports: the file itself, streamed (`export::download`, as on the accounting
//! page).

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::types;
use crate::export::download::{self, Books, DownloadRequest};
use crate::export::{CsvOptions, Format, Period};
use crate::http::AppState;
use crate::people::{self, Role};

/// An accountant export (FEC, hledger, Beancount, CSV, OFX), the file itself.
#[utoipa::path(get, path = "/api/v1/exports/{format}", tag = "exports",
    params(
        ("format" = crate::http::api::types::ExportFormat, Path, description = "`fec`, `hledger`, `beancount`, `csv` or `ofx`"),
        ("dates" = Option<crate::http::api::types::CsvDates>, Query, description = "A CSV's dates: `french` (DD/MM/YYYY, the default) or `iso` (YYYY-MM-DD)"),
        ("from" = String, Query, description = "First day, `YYYY-MM-DD` (Paris)", format = Date),
        ("to" = String, Query, description = "Last day, `YYYY-MM-DD` (Paris)", format = Date),
        ("member" = Option<i64>, Query, description = "A member id: that member's books (the network's by default for its staff; a member's user gets its own)"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 403, description = "Staff may not download the books", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown format or member, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad period, SIREN not set, OFX without a member...", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many downloads at once", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(format): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = types::query(raw.as_deref());
    let options = match types::param(&params, "dates") {
        Some("iso") => CsvOptions::ISO,
        _ => CsvOptions::FRENCH,
    };
    let format = Format::from_name(&format, options).ok_or(ApiError::NotFound)?;
    let books = books_of(&state, &auth, &params).await?;
    let period = period_of(&params)?;
    let request = DownloadRequest {
        format,
        books,
        period,
    };
    Ok(download::download(&state.store, &state.downloads, request)
        .await?
        .into_response())
}

/// Whose books a request is about (`member=<id>`): any member's or the network's (by
/// default) for the network's staff; its own company's for a member's owner or accountant
/// (another member's id answers 404, like a missing one); staff are refused.
pub(super) async fn books_of(
    state: &AppState,
    auth: &ApiAuth,
    params: &[(String, String)],
) -> ApiResult<Books> {
    let member = types::param(params, "member").unwrap_or("").trim();
    if auth.is_network() {
        if member.is_empty() {
            return Ok(Books::Network);
        }
        let id = types::path_id(member)?;
        let member = people::member(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        return Ok(Books::Member(member.account()));
    }
    match auth.user.role {
        Role::Owner | Role::MemberAccountant => {}
        _ => {
            return Err(ApiError::forbidden(
                "Only the network's staff (manage token), a member's owner or its accountant read the books.",
            ))
        }
    }
    let own = auth.member()?;
    if !member.is_empty() && member != own.id.to_string() {
        return Err(ApiError::NotFound);
    }
    Ok(Books::Member(own.account()))
}

/// The period of `from` and `to` (`YYYY-MM-DD`, both days included).
pub(super) fn period_of(params: &[(String, String)]) -> ApiResult<Period> {
    let day = |name: &str| {
        types::param(params, name)
            .and_then(|t| NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").ok())
            .ok_or_else(|| ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD.")))
    };
    Period::new(day("from")?, day("to")?).map_err(|e| ApiError::invalid("to", e.to_string()))
}
