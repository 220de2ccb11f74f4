//! Departures (`console::departures`, the page `/departure`): a member's owner gives notice
//! that the company leaves the network, and may withdraw it while it waits; the company's
//! users read its notices and what is left before its account can close. The network's
//! staff read the members leaving in `GET /api/v1/reviews` (`leaving`), and close the
//! account as any other (`POST /api/v1/accounts/{id}/close`), which closes the notice, or
//! move what is left of a positive balance to the guarantee fund and close it
//! (`POST /api/v1/departures/{id}/close`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::console::departures::{self, Departure, Remaining};
use crate::http::AppState;
use crate::people::{Member, Role};
use crate::tokens::Scope;

/// A member's notice that it leaves the network.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartureItem {
    pub id: i64,
    pub member_id: i64,
    /// `pending`, `withdrawn` or `closed` (the account was closed).
    pub status: String,
    /// The email of the owner who gave notice, as it was then.
    pub requested_by: String,
    pub message: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    pub decided_at: Option<String>,
    /// The owner who withdrew it, or the manager who closed the account.
    pub decided_by: Option<String>,
}

pub(crate) fn item(d: &Departure) -> DepartureItem {
    DepartureItem {
        id: d.id,
        member_id: d.member_id,
        status: d.status.as_str().to_owned(),
        requested_by: d.requested_by.clone(),
        message: d.message.clone(),
        created_at: unix_time(d.created_at),
        decided_at: d.decided_at.map(unix_time),
        decided_by: d.decided_by.clone(),
    }
}

/// What is left before a member's account can close, and what the closing ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemainingItem {
    /// Brought to zero before the account closes (spent when positive; paid back when
    /// negative).
    #[schema(example = "-120.00")]
    pub balance: String,
    /// Orders it placed that wait for delivery (or cancellation).
    pub orders_to_pay: i64,
    /// Orders it sold that wait for its delivery (or cancellation).
    pub orders_to_deliver: i64,
    /// Its open listings: closed with the account.
    pub open_listings: i64,
    /// Active standing orders it pays or receives: ended by the closing.
    pub standing_orders: i64,
    /// Payment requests it sent or received that wait for an answer.
    pub requests_waiting: i64,
    /// Whether nothing blocks the closing: a zero balance and no order under way.
    pub settled: bool,
}

pub(crate) fn remaining_item(r: &Remaining) -> RemainingItem {
    RemainingItem {
        balance: money(r.balance),
        orders_to_pay: r.orders_to_pay,
        orders_to_deliver: r.orders_to_deliver,
        open_listings: r.open_listings,
        standing_orders: r.standing_orders,
        requests_waiting: r.requests_waiting,
        settled: r.settled(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartureState {
    /// What is left before the company's account can close.
    pub remaining: RemainingItem,
    /// The company's notices, newest first, at most 20.
    pub items: Vec<DepartureItem>,
}

/// The member company whose owner may give and withdraw notice: a `pay` token of its owner.
fn owner(auth: &ApiAuth) -> ApiResult<&Member> {
    auth.require(Scope::Pay)?;
    if auth.user.role != Role::Owner {
        return Err(ApiError::forbidden(
            "Only a member's owner may give notice of departure.",
        ));
    }
    auth.member()
}

/// The caller's company's notices of departure and what is left before its account can
/// close (a member's users, any scope).
#[utoipa::path(get, path = "/api/v1/departures", operation_id = "list_departures", tag = "accounts",
    responses(
        (status = 200, description = "What is left, and the notices newest first", body = DepartureState),
        (status = 403, description = "Not a member's user (the network's staff read `leaving` in /api/v1/reviews)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<DepartureState>> {
    if auth.is_network() {
        return Err(ApiError::forbidden(
            "The network's staff read the members leaving in GET /api/v1/reviews.",
        ));
    }
    let member = auth.member()?;
    let account = state
        .store
        .account(member.account())
        .await?
        .ok_or(ApiError::NotFound)?;
    let remaining = departures::remaining(&state.store, member.id, account.balance()).await?;
    let notices = departures::member_departures(&state.store, member.id).await?;
    Ok(Json(DepartureState {
        remaining: remaining_item(&remaining),
        items: notices.iter().map(item).collect(),
    }))
}

/// The owner's notice: an optional message for the manager.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartureBody {
    /// For the manager, at most 1 000 characters; may be empty or absent.
    #[schema(max_length = 1000)]
    #[serde(default)]
    pub message: String,
}

/// Gives notice that the company leaves the network (pay scope, the member's owner). One
/// notice waits at a time, and a member gives at most 3 in 30 days.
#[utoipa::path(post, path = "/api/v1/departures", operation_id = "give_notice", tag = "accounts",
    request_body = DepartureBody,
    responses(
        (status = 201, description = "Given: the notice waits until the account is closed", body = DepartureItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A notice waits already (`already_pending`), too many notices in 30 days (`too_many_departures`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or the account is closed (`account_closed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn give(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: DepartureBody = types::json(&request.body)?;
        let given = departures::ask(&state.store, &auth.user, &member, &input.message).await?;
        Written::created(item(&given))
    })
    .await)
}

/// Withdraws the company's waiting notice: it stays in the network (pay scope, the
/// member's owner).
#[utoipa::path(post, path = "/api/v1/departures/{id}/withdraw", operation_id = "withdraw_departure", tag = "accounts",
    params(
        ("id" = i64, Path, description = "Notice id"),
    ),
    responses(
        (status = 200, description = "Withdrawn", body = DepartureItem),
        (status = 403, description = "Not a pay token of a member's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Withdrawn or closed already (`already_decided`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = owner(&auth)?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let done = departures::withdraw(&state.store, &auth.user, &member, id).await?;
        Written::ok(item(&done))
    })
    .await)
}

/// The manager's closing of a departure: the balance it moves to the guarantee fund, as
/// read in `GET /api/v1/reviews` (`not_the_balance` if it changed since), and a reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseDepartureBody {
    /// The member's balance now, zero or positive.
    #[schema(example = "0.97", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub balance: String,
    /// Why, 1 to 280 characters: the adjustment's memo, which the member reads in its
    /// history; the action log keeps it.
    #[schema(min_length = 1, max_length = 280)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartureClosedItem {
    pub notice: DepartureItem,
    /// The balance moved to the guarantee fund (`0.00` when there was none).
    pub to_fund: String,
}

/// Closes the account of a member whose notice waits (manager): its positive balance goes
/// to the guarantee fund (an adjustment, `member.departure_settle`), then the account
/// closes (`member.close`), which closes the notice and the member's listings.
#[utoipa::path(post, path = "/api/v1/departures/{id}/close", operation_id = "close_departure", tag = "manage",
    request_body = CloseDepartureBody,
    params(
        ("id" = i64, Path, description = "Notice id"),
    ),
    responses(
        (status = 200, description = "Closed", body = DepartureClosedItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Withdrawn or closed already (`already_decided`), a negative balance (`in_debt`), orders under way (`orders_under_way`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`not_the_balance`...), or refused by the ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let id = types::path_id(&id)?;
        let input: CloseDepartureBody = types::json(&request.body)?;
        let balance = types::amount("balance", &input.balance)?;
        let key = super::manage::console_key(key)?;
        let done =
            departures::close_leaving(&state.store, &actor, id, balance, &input.reason, &key)
                .await?;
        Written::ok(DepartureClosedItem {
            notice: item(&done.departure),
            to_fund: money(done.to_fund),
        })
    })
    .await)
}
