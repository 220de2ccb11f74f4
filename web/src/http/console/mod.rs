//! The network manager's console, members and credit limits: pages over `crate::console`.
//!
//! Every page under `/admin` is for network staff: managers read and act, accountants read
//! (their forms are not drawn, and their posts answer 403); members (owners and staff) get
//! 403 everywhere. Forms carry the CSRF token (the session middleware checks it) and, for
//! ledger actions, a random `token` that becomes the operation's idempotency key. Errors
//! redraw the page with 422 and what was typed; successes redirect (303) to the page.

pub mod i18n;

mod applications;
mod disputes;
mod import;
mod landing;
mod limit_requests;
mod log;
mod member;
mod members;
mod reviews;
mod transactions;
pub(crate) mod two_step;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ledger::Amount;

use super::error::{AppError, AppResult};
use super::session::{Auth, MULTIPART_BODY_LEN_MAX};
use super::AppState;
use crate::console::{Actor, ConsoleError, RequestKey};
use crate::people::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(landing::landing))
        .route("/admin/members", get(members::list).post(members::create))
        .route("/admin/members/new", get(members::new_form))
        .route("/admin/members/{id}", get(member::show))
        .route("/admin/members/{id}/limits", post(member::limits))
        .route("/admin/members/{id}/limits.csv", get(member::limits_csv))
        .route("/admin/members/{id}/status", post(member::status))
        .route(
            "/admin/members/{id}/departure",
            post(member::close_departure),
        )
        .route("/admin/members/{id}/category", post(member::category))
        .route("/admin/members/{id}/turnover", post(member::turnover))
        .route("/admin/members/{id}/review", post(member::review))
        .route("/admin/members/{id}/invite", post(member::invite))
        .route(
            "/admin/members/{id}/users/{user}/reset-link",
            post(member::reset_link),
        )
        .route(
            "/admin/members/{id}/users/{user}/two-step-off",
            post(member::two_step_off),
        )
        .route(
            "/admin/members/{id}/tokens/{token}/revoke",
            post(member::revoke_token),
        )
        .route(
            "/admin/categories",
            get(members::categories).post(members::create_category),
        )
        .route("/admin/categories/{id}", post(members::update_category))
        .route("/admin/applications", get(applications::list))
        .route("/admin/applications/{id}", get(applications::show))
        .route(
            "/admin/applications/{id}/approve",
            post(applications::approve),
        )
        .route(
            "/admin/applications/{id}/refuse",
            post(applications::refuse),
        )
        .route(
            "/apply",
            get(applications::apply_form).post(applications::apply),
        )
        .route(
            "/admin/import",
            get(import::show)
                .post(import::upload)
                .layer(DefaultBodyLimit::max(MULTIPART_BODY_LEN_MAX)),
        )
        .route("/admin/import/{batch}/finish", post(import::finish))
        .route("/admin/limit-requests", get(limit_requests::list))
        .route("/admin/limit-requests/{id}", get(limit_requests::show))
        .route(
            "/admin/limit-requests/{id}/grant",
            post(limit_requests::grant),
        )
        .route(
            "/admin/limit-requests/{id}/decline",
            post(limit_requests::decline),
        )
        .route("/admin/disputes", get(disputes::list))
        .route("/admin/disputes/{id}", post(disputes::decide))
        .route("/admin/reviews", get(reviews::show))
        .route("/admin/settings", post(reviews::settings))
        .route("/admin/two-step", get(two_step::show).post(two_step::set))
        .route("/admin/transactions", get(transactions::find))
        .route("/admin/transactions/{id}", get(transactions::show))
        .route(
            "/admin/transactions/{id}/reverse",
            post(transactions::reverse),
        )
        .route("/admin/log", get(log::show))
        .route("/admin/log.csv", get(log::csv))
}

/// The console's actor for a logged-in user who may read it (managers, accountants).
pub(crate) fn reader(auth: &Auth) -> AppResult<Actor> {
    auth.require(&[Role::Manager, Role::Accountant])?;
    Ok(Actor::from_user(&auth.user))
}

/// The console's actor for a user who may act (managers).
pub(crate) fn manager(auth: &Auth) -> AppResult<Actor> {
    auth.require(&[Role::Manager])?;
    Ok(Actor::from_user(&auth.user))
}

/// The errors that are not a form's to show.
pub(crate) fn page_error(error: ConsoleError) -> AppError {
    match error {
        ConsoleError::Forbidden => AppError::Forbidden,
        ConsoleError::NotFound => AppError::NotFound,
        ConsoleError::Store(error) => AppError::Store(error),
        other => AppError::Internal(format!("unexpected console error: {other}")),
    }
}

/// A form's problems to show (field errors, refusals, conflicts), or the error page.
pub(crate) fn form_messages(t: super::i18n::Tr, error: ConsoleError) -> AppResult<Vec<String>> {
    match error {
        ConsoleError::Invalid(_)
        | ConsoleError::InvalidFile(_)
        | ConsoleError::Rejected(_)
        | ConsoleError::Conflict(_) => Ok(t.con_messages(&error)),
        other => Err(page_error(other)),
    }
}

pub(crate) fn unprocessable(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// The request key of a ledger form: its token, or a fresh one if it has none.
fn request_key(token: &str) -> RequestKey {
    RequestKey::new(token).unwrap_or_else(|_| RequestKey::random())
}

/// An optional amount typed in a form; `Err` with the text kept when it does not parse.
fn optional_amount(text: &str) -> Result<Option<Amount>, ()> {
    crate::console::parse_amount(text).map_err(|_| ())
}

/// A CSV download named `filename`.
pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A unix time as the pages show it (UTC).
pub(crate) fn time_text(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub(crate) fn amount_text(t: super::i18n::Tr, amount: Option<Amount>) -> String {
    match amount {
        Some(amount) => t.lang.amount(amount),
        None => t.con_no_max().to_owned(),
    }
}
