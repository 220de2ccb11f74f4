//! Standing orders (`crate::standing`, the page `/standing-orders`): a member company pays
//! another the same amount every week or month. Its owner and staff set one up and stop one,
//! paid or received; its users read them; the network's staff read any one by id.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::http::limits::{self, ErrorFormat};
use crate::http::AppState;
use crate::standing::{self, Every, NewStanding, Run, StandingOrder};

/// One due date and what the ledger did with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingRunItem {
    #[schema(format = Date, example = "2027-01-31")]
    pub due_date: String,
    /// The payment, when it was made.
    pub transaction_id: Option<i64>,
    /// The refusal code, when refused: the ledger's (`insufficient_credit`, `account_frozen`...),
    /// or `over_month_limit` (the staff user who set the order up used its month).
    pub rejection: Option<String>,
    pub ran_at: String,
}

fn run_item(run: &Run) -> StandingRunItem {
    StandingRunItem {
        due_date: run.due_date.format("%Y-%m-%d").to_string(),
        transaction_id: run.tx_id,
        rejection: run.rejection.clone(),
        ran_at: unix_time(run.ran_at),
    }
}

/// A standing order.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingOrderItem {
    pub id: i64,
    /// The paying member's id.
    pub payer: i64,
    /// The receiving member's id.
    pub payee: i64,
    #[schema(example = "450.00")]
    pub amount: String,
    pub reference: String,
    pub memo: String,
    /// `week` or `month`.
    #[schema(value_type = crate::http::api::types::StandingEvery)]
    pub every: String,
    #[schema(format = Date, example = "2027-01-31")]
    pub first_date: String,
    #[schema(format = Date)]
    pub end_date: Option<String>,
    /// The next due date while the order is active.
    #[schema(format = Date)]
    pub next_date: Option<String>,
    /// `active`, `cancelled` (stopped by either company) or `finished` (past its last date,
    /// or an account closed).
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
    /// Its due dates passed, newest first: the last one in a list, the last 24 for one order.
    pub runs: Vec<StandingRunItem>,
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub(crate) fn item(order: &StandingOrder, runs: &[Run]) -> StandingOrderItem {
    StandingOrderItem {
        id: order.id,
        payer: order.payer_member_id,
        payee: order.payee_member_id,
        amount: money(order.amount),
        reference: order.reference.clone(),
        memo: order.memo.clone(),
        every: order.every.as_str().to_owned(),
        first_date: day(order.first_date),
        end_date: order.end_date.map(day),
        next_date: order.next_date.map(day),
        status: order.status.as_str().to_owned(),
        created_by: order.created_by.clone(),
        created_at: unix_time(order.created_at),
        ended_at: order.ended_at.map(unix_time),
        ended_by: order.ended_by.clone(),
        runs: runs.iter().map(run_item).collect(),
    }
}

/// The order with its latest runs.
async fn detailed(state: &AppState, order: &StandingOrder) -> ApiResult<StandingOrderItem> {
    let runs = standing::runs(&state.store, order.id).await?;
    Ok(item(order, &runs))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StandingOrderList {
    /// The orders the caller's company pays, newest first, at most 100.
    pub paid: Vec<StandingOrderItem>,
    /// The orders it receives, newest first, at most 100.
    pub received: Vec<StandingOrderItem>,
}

/// The caller's company's standing orders, paid and received (a member's users).
#[utoipa::path(get, path = "/api/v1/standing-orders", operation_id = "list_standing_orders", tag = "payments",
    responses(
        (status = 200, description = "Paid and received, each with its last run", body = StandingOrderList),
        (status = 403, description = "Not a member's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<StandingOrderList>> {
    let member = auth.member()?;
    let (paid, received) = standing::member_orders(&state.store, member.id).await?;
    let ids: BTreeSet<i64> = paid.iter().chain(received.iter()).map(|o| o.id).collect();
    let last = standing::last_runs(&state.store, &ids).await?;
    let listed = |orders: &[StandingOrder]| -> Vec<StandingOrderItem> {
        orders
            .iter()
            .map(|o| {
                item(
                    o,
                    last.get(&o.id)
                        .map(std::slice::from_ref)
                        .unwrap_or_default(),
                )
            })
            .collect()
    };
    Ok(Json(StandingOrderList {
        paid: listed(&paid),
        received: listed(&received),
    }))
}

/// One standing order with its last 24 runs (the paying or receiving company's users, or
/// the network's staff); any other is 404.
#[utoipa::path(get, path = "/api/v1/standing-orders/{id}", operation_id = "show_standing_order", tag = "payments",
    params(("id" = i64, Path, description = "Standing order id")),
    responses(
        (status = 200, description = "The order", body = StandingOrderItem),
        (status = 404, description = "No such order the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StandingOrderItem>> {
    let id = types::path_id(&id)?;
    let order = if auth.is_network() {
        standing::get(&state.store, id).await?
    } else {
        let member = auth.member.as_ref().ok_or(ApiError::NotFound)?;
        standing::of_member(&state.store, member.id, id).await?
    };
    Ok(Json(detailed(&state, &order).await?))
}

/// A new standing order.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StandingOrderBody {
    /// The member paid (its member id).
    pub payee: i64,
    /// Above zero, at most the network's largest payment.
    #[schema(
        example = "450.00",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    /// At most 64 characters.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub reference: String,
    /// At most 280 characters.
    #[serde(default)]
    #[schema(max_length = 280)]
    pub memo: String,
    /// `week` or `month`.
    #[schema(example = "month", value_type = crate::http::api::types::StandingEvery)]
    pub every: String,
    /// From today to 366 days ahead; today's is paid at once.
    #[schema(format = Date, example = "2027-01-31")]
    pub first_date: String,
    /// The last due date, at most 3 660 days after the first; none: until stopped.
    #[serde(default)]
    #[schema(format = Date)]
    pub end_date: Option<String>,
}

fn date(field: &str, text: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, format!("{field} must be a date (YYYY-MM-DD).")))
}

/// Sets up a standing order paid by the caller's company (pay scope, owner or staff). A
/// first date of today is paid before the answer (see `runs`); later ones by the server's
/// housekeeping, every 5 minutes. Counted with payments in the per-token rate limit.
#[utoipa::path(post, path = "/api/v1/standing-orders", operation_id = "create_standing_order", tag = "payments",
    request_body = StandingOrderBody,
    responses(
        (status = 201, description = "Set up", body = StandingOrderItem, links(("show" = (operation_id = "show_standing_order", parameters(("id" = "$response.body#/id")))), ("cancel" = (operation_id = "cancel_standing_order", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many active orders (`too_many_standing_orders`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many payments with this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let payer = auth.payer()?.clone();
    limits::check(
        &state.limits.api_payments,
        &auth.token.id.to_string(),
        ErrorFormat::Problem,
    )?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: StandingOrderBody = types::json(&request.body)?;
        let every = Every::parse(input.every.trim())
            .ok_or_else(|| ApiError::invalid("every", "every must be week or month."))?;
        let new = NewStanding {
            payee_member_id: input.payee,
            amount: types::amount("amount", &input.amount)?,
            reference: input.reference,
            memo: input.memo,
            every,
            first_date: date("first_date", &input.first_date)?,
            end_date: input
                .end_date
                .as_deref()
                .map(|d| date("end_date", d))
                .transpose()?,
        };
        let today = Utc::now().date_naive();
        let order = standing::create(&state.store, &auth.user, &payer, &new, today).await?;
        standing::run_due_of(&state.store, order.id, today).await?;
        let order = standing::get(&state.store, order.id).await?;
        Written::created(detailed(&state, &order).await?)
    })
    .await)
}

/// Stops an active standing order, paid or received (pay scope, owner or staff).
#[utoipa::path(post, path = "/api/v1/standing-orders/{id}/cancel", operation_id = "cancel_standing_order", tag = "payments",
    params(
        ("id" = i64, Path, description = "Standing order id"),
    ),
    responses(
        (status = 200, description = "Stopped", body = StandingOrderItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stopped or finished already (`standing_order_ended`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let order = standing::cancel(&state.store, &auth.user, &member, id).await?;
        Written::ok(detailed(&state, &order).await?)
    })
    .await)
}
