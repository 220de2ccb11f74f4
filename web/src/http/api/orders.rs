//! Orders of the marketplace's offers: a hold on the buyer's credit for the offer's price,
//! captured when the seller delivers, voided when either side cancels, released when it
//! expires. The same domain functions as the listing and order pages (`trade::place_order`,
//! `trade::settle_order`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, CallerKey, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::http::AppState;
use crate::market;
use crate::people::{Member, Role};
use crate::trade::{self, Order, OrderRefusal, OrderStatus, Settlement};

/// An order: the buyer's credit held for an offer until the seller delivers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderItem {
    pub id: i64,
    /// The offer ordered.
    pub offer_id: i64,
    pub buyer_member_id: i64,
    pub seller_member_id: i64,
    /// The offer's price when ordered, held on the buyer's credit.
    #[schema(example = "120.00")]
    pub amount: String,
    /// `held`, `delivered` (paid), `cancelled` or `expired` (released).
    pub status: String,
    /// The payment, once delivered.
    pub transaction_id: Option<i64>,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    /// When an undelivered order's hold is released.
    #[schema(example = "2026-12-16T23:59:59Z")]
    pub expires_at: String,
}

pub(crate) fn order_item(o: &Order) -> OrderItem {
    OrderItem {
        id: o.id,
        offer_id: o.listing_id,
        buyer_member_id: o.buyer_member_id,
        seller_member_id: o.seller_member_id,
        amount: money(ledger::Amount::from_minor(o.amount_minor)),
        status: o.status.as_str().to_owned(),
        transaction_id: o.tx_id,
        created_at: unix_time(o.created_at),
        expires_at: unix_time(o.expires_at),
    }
}

/// A page of orders, newest first; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// The member company whose orders a token sees: its users, except member accountants
/// (who do not trade, as on the pages).
fn trader(auth: &ApiAuth) -> ApiResult<&Member> {
    if auth.user.role == Role::MemberAccountant {
        return Err(ApiError::forbidden("A member accountant does not trade."));
    }
    auth.member()
}

/// Orders the offer `id` for its price (pay scope): a hold on the caller's credit.
#[utoipa::path(post, path = "/api/v1/offers/{id}/order", tag = "offers",
    params(
        ("id" = i64, Path, description = "Offer id"),
    ),
    responses(
        (status = 201, description = "Ordered: the price is held on the caller's credit", body = OrderItem, links(("show" = (operation_id = "show_order", parameters(("id" = "$response.body#/id")))), ("deliver" = (operation_id = "deliver", parameters(("id" = "$response.body#/id")))), ("cancel" = (operation_id = "cancel_order", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open, priced offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller's own offer (`own_offer`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the ledger (`insufficient_credit`, `account_frozen`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn place(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let buyer = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let id = types::path_id(&id)?;
        let listing = market::get(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let token = format!("api-{}", CallerKey::or_random(key).0);
        match trade::place_order(&state.store, &buyer, &auth.user, &listing, &token).await? {
            Ok(order_id) => {
                crate::http::notices::order_placed(&state, order_id).await?;
                let order = trade::order(&state.store, order_id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
                Written::created(order_item(&order))
            }
            Err(OrderRefusal::NotOrderable) => Err(ApiError::NotFound),
            Err(OrderRefusal::OwnOffer) => Err(ApiError::coded(
                StatusCode::CONFLICT,
                "own_offer",
                "A member does not order its own offer.",
            )),
            Err(OrderRefusal::OverPaymentMax(over)) => Err(over.into()),
            Err(OrderRefusal::OverMonthMax(over)) => Err(over.into()),
            Err(OrderRefusal::Rejected(rejection)) => Err(ApiError::Rejected(rejection)),
        }
    })
    .await)
}

/// The caller's orders, as buyer and as seller.
#[utoipa::path(get, path = "/api/v1/orders", operation_id = "list_orders", tag = "offers",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Orders, newest first", body = OrderPage),
        (status = 403, description = "Not a trading member's user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<OrderPage>> {
    let member = trader(&auth)?;
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let after = types::cursor(&params, "after")?;
    trade::sweep_orders(&state.store).await?;
    let (orders, next) = trade::orders_page(&state.store, member.id, after, limit as i64).await?;
    Ok(Json(OrderPage {
        items: orders.iter().map(order_item).collect(),
        next: next.map(|id| id.to_string()),
    }))
}

/// An order of the caller's company (buyer or seller); any other is 404.
async fn own_order(state: &AppState, member: &Member, id: &str) -> ApiResult<Order> {
    let id = types::path_id(id)?;
    trade::sweep_orders(&state.store).await?;
    let order = trade::order(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if order.buyer_member_id != member.id && order.seller_member_id != member.id {
        return Err(ApiError::NotFound);
    }
    Ok(order)
}

/// One order of the caller's company.
#[utoipa::path(get, path = "/api/v1/orders/{id}", operation_id = "show_order", tag = "offers",
    params(("id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderItem),
        (status = 403, description = "Not a trading member's user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's company", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderItem>> {
    let member = trader(&auth)?;
    Ok(Json(order_item(&own_order(&state, member, &id).await?)))
}

/// Delivers (the seller) or cancels (either side) a held order; doing it again answers the
/// order as it stands.
async fn settle(
    state: &AppState,
    auth: &ApiAuth,
    id: &str,
    request: &WriteRequest,
    settlement: Settlement,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(state, auth, request, |_| async {
        let order = own_order(state, &member, id).await?;
        // Only the seller delivers; the buyer gets the same answer as a stranger.
        if settlement == Settlement::Deliver && order.seller_member_id != member.id {
            return Err(ApiError::NotFound);
        }
        let done = match settlement {
            Settlement::Deliver => OrderStatus::Delivered,
            Settlement::Cancel => OrderStatus::Cancelled,
        };
        if order.status == done {
            return Written::ok(order_item(&order));
        }
        if order.status != OrderStatus::Held || order.hold_id.is_none() {
            return Err(ApiError::coded(
                StatusCode::CONFLICT,
                "order_not_held",
                format!("This order is {}.", order.status.as_str()),
            ));
        }
        trade::settle_order(&state.store, &order, settlement, auth.user.author())
            .await?
            .map_err(ApiError::Rejected)?;
        crate::http::notices::order_settled(state, order.id, member.id).await?;
        let order = trade::order(&state.store, order.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(order_item(&order))
    })
    .await)
}

/// The seller confirms delivery: the held amount is paid (pay scope).
#[utoipa::path(post, path = "/api/v1/orders/{id}/deliver", tag = "offers",
    params(
        ("id" = i64, Path, description = "Order id"),
    ),
    responses(
        (status = 200, description = "Delivered and paid (or already)", body = OrderItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order sold by the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled or expired (`order_not_held`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the ledger (`hold_expired`, `over_upper_limit`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn deliver(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    settle(&state, &auth, &id, &request, Settlement::Deliver).await
}

/// The buyer or the seller cancels a held order: the hold is released (pay scope).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", operation_id = "cancel_order", tag = "offers",
    params(
        ("id" = i64, Path, description = "Order id"),
    ),
    responses(
        (status = 200, description = "Cancelled (or already)", body = OrderItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Delivered or expired (`order_not_held`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    settle(&state, &auth, &id, &request, Settlement::Cancel).await
}
