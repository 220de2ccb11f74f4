//! The console's pages on fees, the guarantee fund, defaults, network health, brokering and
//! open data (docs/console.md, "Fees, guarantee fund and network health"). The pages are a
//! thin skin over the domain layer `crate::network`, which decides who may do what.
//!
//! | route | who |
//! |---|---|
//! | `GET /admin/fees`, `/admin/fund`, `/admin/fund/history.csv`, `/admin/stats`, `/admin/stats/*.csv` | managers and accountants |
//! | `POST /admin/fees`, `GET`/`POST /admin/members/{id}/default`, `POST /admin/members/{id}/recovery`, `GET /admin/brokering` | managers |
//! | `GET /open-data`, `/open-data.csv` | anyone, when the `open_data` setting is on (404 otherwise) |

mod brokering;
pub mod charts;
mod fees;
mod fund;

pub use fees::{version_view, VersionView};
pub mod i18n;
mod open_data;
mod stats;

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::AppError;
use super::session::Auth;
use super::AppState;
use crate::actor::Actor;
use crate::network::{require, Access, NetworkError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/fees", get(fees::show).post(fees::schedule))
        .route("/admin/fund", get(fund::show))
        .route("/admin/fund/history.csv", get(fund::history_csv))
        .route(
            "/admin/members/{id}/default",
            get(fund::default_page).post(fund::write_off),
        )
        .route("/admin/members/{id}/recovery", post(fund::recovery))
        .route("/admin/stats", get(stats::show))
        .route("/admin/stats/monthly.csv", get(stats::monthly_csv))
        .route("/admin/stats/sectors.csv", get(stats::sectors_csv))
        .route("/admin/stats/balances.csv", get(stats::balances_csv))
        .route("/admin/brokering", get(brokering::show))
        .route("/open-data", get(open_data::show))
        .route("/open-data.csv", get(open_data::csv))
}

/// The logged-in user as the domain layer's actor, refused (403) unless allowed `access`:
/// checked before any work.
fn actor(auth: &Auth, access: Access) -> Result<Actor, AppError> {
    let actor = Actor::from_user(&auth.user);
    require(&actor, access).map_err(page_error)?;
    Ok(actor)
}

/// A domain error that no form field explains: its HTTP meaning.
pub(crate) fn page_error(error: NetworkError) -> AppError {
    match error {
        NetworkError::Forbidden => AppError::Forbidden,
        NetworkError::UnknownMember => AppError::NotFound,
        NetworkError::Store(error) => AppError::Store(error),
        NetworkError::Invalid(_) | NetworkError::Rejected(_) | NetworkError::Schedule(_) => {
            AppError::BadRequest
        }
    }
}

/// A CSV download.
fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A plain decimal for files ("1234.50").
fn plain(amount: ledger::Amount) -> String {
    amount.to_plain()
}

/// Quotes a CSV text field; text a spreadsheet would run as a formula gets a leading `'`.
fn csv_text(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// An optional figure for people: the value or « — ».
fn or_dash(t: super::i18n::Tr, value: Option<String>) -> String {
    value.unwrap_or_else(|| t.net_not_available().to_owned())
}
