//! `/admin`: the console's landing page, a menu of its sections (this half's and the
//! fees, guarantee fund and statistics pages) with the figures that call for attention.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{page_error, reader};
use crate::console::{applications, departures, limit_requests, members, reviews, settings};
use crate::http::error::AppResult;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;

#[derive(Template)]
#[template(path = "console/landing.html")]
struct LandingTemplate {
    c: Chrome,
    members: i64,
    frozen: i64,
    pending: i64,
    limit_requests: i64,
    reviews_due: usize,
    near_max: usize,
    leaving: i64,
    disputes: i64,
    can_act: bool,
}

pub async fn landing(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let (members, frozen) = members::counts(&state.store).await.map_err(page_error)?;
    let pending = applications::pending_count(&state.store)
        .await
        .map_err(page_error)?;
    let limit_requests = limit_requests::pending_count(&state.store)
        .await
        .map_err(page_error)?;
    let today = chrono::Utc::now().date_naive();
    let settings = settings::get(&state.store).await.map_err(page_error)?;
    let counts = reviews::attention_counts(&state.store, &actor, &settings, today)
        .await
        .map_err(page_error)?;
    let leaving = departures::leaving_count(&state.store)
        .await
        .map_err(page_error)?;
    let disputes = crate::console::disputes::open_count(&state.store)
        .await
        .map_err(page_error)?;
    page(LandingTemplate {
        c: auth.chrome(),
        members,
        frozen,
        pending,
        limit_requests,
        reviews_due: counts.reviews_due,
        near_max: counts.near_max,
        leaving,
        disputes,
        can_act: actor.require_manager().is_ok(),
    })
}
