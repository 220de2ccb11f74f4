//! Payment requests and orders, as pages.
//!
//! Authorisation: a request or an order is visible to its two members only; anyone else gets
//! the same 404 as for an id that does not exist, so ids reveal nothing.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use ledger::Amount;
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Tr};
use super::money::{token_is_valid, validate_pay, PayErrors, PayPurpose, PayValues};
use super::session::MemberAuth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::people::{self, Member};
use crate::trade::{self, OrderStatus, RequestStatus, Scope, Settlement, Side};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(requests_page).post(create_request))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/accept", post(accept_request))
        .route("/requests/{id}/decline", post(decline_request))
        .route("/orders", get(orders_page))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/deliver", post(deliver_order))
        .route("/orders/{id}/cancel", post(cancel_order))
}

pub struct RequestView {
    pub id: i64,
    pub seller: String,
    pub buyer: String,
    pub amount: String,
    pub reference: String,
    pub memo: String,
    pub due_date: String,
    pub status: &'static str,
    pub is_open: bool,
}

fn status_label(t: Tr, status: RequestStatus) -> &'static str {
    let fr = t.lang == super::i18n::Lang::Fr;
    match status {
        RequestStatus::Open => {
            if fr {
                "À payer"
            } else {
                "Open"
            }
        }
        RequestStatus::Paid => {
            if fr {
                "Payée"
            } else {
                "Paid"
            }
        }
        RequestStatus::Declined => {
            if fr {
                "Refusée"
            } else {
                "Declined"
            }
        }
        RequestStatus::Expired => {
            if fr {
                "Expirée"
            } else {
                "Expired"
            }
        }
    }
}

fn order_status_label(t: Tr, status: OrderStatus) -> &'static str {
    let fr = t.lang == super::i18n::Lang::Fr;
    match status {
        OrderStatus::Held => {
            if fr {
                "En attente de livraison"
            } else {
                "Awaiting delivery"
            }
        }
        OrderStatus::Delivered => {
            if fr {
                "Livrée et payée"
            } else {
                "Delivered and paid"
            }
        }
        OrderStatus::Cancelled => {
            if fr {
                "Annulée"
            } else {
                "Cancelled"
            }
        }
        OrderStatus::Expired => {
            if fr {
                "Expirée"
            } else {
                "Expired"
            }
        }
    }
}

/// The names of the members the page's rows show: one read, bounded by the rows, whatever
/// the size of the network.
async fn member_names(
    state: &AppState,
    shown: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    let shown: BTreeSet<i64> = shown.into_iter().collect();
    Ok(people::names_of_members(&state.store, &shown).await?)
}

fn request_members(r: &trade::PaymentRequest) -> [i64; 2] {
    [r.seller_member_id, r.buyer_member_id]
}

fn order_members(o: &trade::Order) -> [i64; 2] {
    [o.buyer_member_id, o.seller_member_id]
}

fn request_view(t: Tr, r: &trade::PaymentRequest, names: &HashMap<i64, String>) -> RequestView {
    RequestView {
        id: r.id,
        seller: names.get(&r.seller_member_id).cloned().unwrap_or_default(),
        buyer: names.get(&r.buyer_member_id).cloned().unwrap_or_default(),
        amount: t.lang.amount(Amount::from_minor(r.amount_minor)),
        reference: r.reference.clone(),
        memo: r.memo.clone(),
        due_date: r.due_date.clone(),
        status: status_label(t, r.status),
        is_open: r.status == RequestStatus::Open,
    }
}

/// Open requests the member has to pay (for the dashboard).
pub async fn requests_to_pay(
    state: &AppState,
    member: &Member,
    t: Tr,
    limit: i64,
) -> AppResult<Vec<RequestView>> {
    trade::expire_requests(&state.store).await?;
    let requests =
        trade::requests_of(&state.store, member.id, Side::Buyer, Scope::Open, limit).await?;
    let names = member_names(state, requests.iter().flat_map(request_members)).await?;
    Ok(requests
        .iter()
        .map(|r| request_view(t, r, &names))
        .collect())
}

#[derive(Default)]
struct RequestErrors {
    pay: PayErrors,
    due_date: Option<String>,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsTemplate {
    c: Chrome,
    to_pay: Vec<RequestView>,
    sent: Vec<RequestView>,
    buyers: Vec<(String, String)>,
    values: PayValues,
    due_date: String,
    errors: RequestErrors,
    notice: Option<String>,
}

async fn requests_form(
    state: &AppState,
    auth: &MemberAuth,
    values: PayValues,
    due_date: String,
    errors: RequestErrors,
    notice: Option<String>,
) -> AppResult<Response> {
    let t = auth.tr();
    trade::expire_requests(&state.store).await?;
    let to_pay = trade::requests_of(
        &state.store,
        auth.member.id,
        Side::Buyer,
        Scope::All,
        trade::LIST_ROWS_MAX,
    )
    .await?;
    let sent = trade::requests_of(
        &state.store,
        auth.member.id,
        Side::Seller,
        Scope::All,
        trade::LIST_ROWS_MAX,
    )
    .await?;
    let names = member_names(state, to_pay.iter().chain(&sent).flat_map(request_members)).await?;
    // The buyer drop-down lists members like the payee list; the rows' names do not come
    // from it.
    let mut buyers = super::money::payees(state, &auth.member).await?;
    buyers.sort_by(|a, b| a.1.cmp(&b.1));
    let failed = errors.pay.payee.is_some()
        || errors.pay.amount.is_some()
        || errors.pay.reference.is_some()
        || errors.pay.memo.is_some()
        || errors.due_date.is_some();
    let mut response = page(RequestsTemplate {
        c: auth.chrome(),
        to_pay: to_pay.iter().map(|r| request_view(t, r, &names)).collect(),
        sent: sent.iter().map(|r| request_view(t, r, &names)).collect(),
        buyers,
        values,
        due_date,
        errors,
        notice,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn requests_page(State(state): State<AppState>, auth: MemberAuth) -> AppResult<Response> {
    let values = PayValues {
        token: people::random_token(),
        ..PayValues::default()
    };
    requests_form(
        &state,
        &auth,
        values,
        String::new(),
        RequestErrors::default(),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct RequestForm {
    #[serde(flatten)]
    values: PayValues,
    #[serde(default)]
    due_date: String,
}

async fn create_request(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    if !token_is_valid(&form.values.token) {
        return Err(AppError::BadRequest);
    }
    let t = auth.tr();
    // The form names the buyer in the `payee` field shared with the payment form.
    let checked = validate_pay(&state, &auth, &form.values, PayPurpose::Request).await?;
    let today = Utc::now().date_naive();
    let due = NaiveDate::parse_from_str(form.due_date.trim(), "%Y-%m-%d");
    let due_error = match due {
        Err(_) => Some(t.field_error(FieldError::InvalidDate)),
        Ok(day) if day < today => Some(t.field_error(FieldError::DateInPast)),
        Ok(_) => None,
    };
    let (valid, due) = match (checked, due, due_error) {
        (Ok(valid), Ok(due), None) => (valid, due),
        (checked, _, due_error) => {
            let errors = RequestErrors {
                pay: checked.err().unwrap_or_default(),
                due_date: due_error,
            };
            return requests_form(&state, &auth, form.values, form.due_date, errors, None).await;
        }
    };
    let expires_at = due
        .and_hms_opt(23, 59, 59)
        .expect("end of day")
        .and_utc()
        .timestamp()
        + trade::REQUEST_GRACE_SECONDS;
    let form_token = format!("{}-{}", auth.member.id, form.values.token);
    let id = trade::create_request(
        &state.store,
        &trade::NewRequest {
            seller_member_id: auth.member.id,
            buyer_member_id: valid.payee.id,
            amount_minor: valid.amount.minor(),
            reference: &valid.reference,
            memo: &valid.memo,
            due_date: &due.format("%Y-%m-%d").to_string(),
            expires_at,
            form_token: &form_token,
        },
    )
    .await?;
    super::notices::request_received(&state, id).await?;
    Ok(Redirect::to("/requests").into_response())
}

/// A request the member may see: theirs as buyer or seller. Anything else is "not found".
async fn visible_request(
    state: &AppState,
    auth: &MemberAuth,
    id: i64,
) -> AppResult<trade::PaymentRequest> {
    trade::expire_requests(&state.store).await?;
    let request = trade::request(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if request.buyer_member_id != auth.member.id && request.seller_member_id != auth.member.id {
        return Err(AppError::NotFound);
    }
    Ok(request)
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestTemplate {
    c: Chrome,
    request: RequestView,
    can_answer: bool,
    message: Option<String>,
}

async fn request_page_with(
    state: &AppState,
    auth: &MemberAuth,
    id: i64,
    message: Option<String>,
) -> AppResult<Response> {
    let request = visible_request(state, auth, id).await?;
    let names = member_names(state, request_members(&request)).await?;
    let failed = message.is_some();
    let mut response = page(RequestTemplate {
        c: auth.chrome(),
        can_answer: request.buyer_member_id == auth.member.id
            && request.status == RequestStatus::Open,
        request: request_view(auth.tr(), &request, &names),
        message,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn request_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    request_page_with(&state, &auth, id, None).await
}

async fn accept_request(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let request = visible_request(&state, &auth, id).await?;
    if request.buyer_member_id != auth.member.id {
        return Err(AppError::NotFound);
    }
    if request.status == RequestStatus::Paid {
        // A second click after the first one paid: show the result, pay nothing.
        return Ok(Redirect::to(&format!("/requests/{id}")).into_response());
    }
    if request.status != RequestStatus::Open {
        return Err(AppError::NotFound);
    }
    if let Err(over) = auth
        .auth
        .user
        .may_commit(Amount::from_minor(request.amount_minor))
    {
        let message = auth.tr().over_payment_max(over.max);
        return request_page_with(&state, &auth, id, Some(message)).await;
    }
    let seller = people::member(&state.store, request.seller_member_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let held = crate::spending::hold(
        &state.store,
        &auth.auth.user,
        &trade::accept_key(&request),
        Amount::from_minor(request.amount_minor),
        people::now_unix(),
    )
    .await?;
    let held = match held {
        Ok(held) => held,
        Err(over) => {
            let message = auth.tr().over_payment_month_max(&over);
            return request_page_with(&state, &auth, id, Some(message)).await;
        }
    };
    let author = auth.auth.user.author();
    let decision =
        trade::accept_request(&state.store, &auth.member, &seller, &request, author).await?;
    held.after(&state.store, &decision).await?;
    match decision {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(rejection) => {
            let message = auth.tr().rejection(&rejection);
            request_page_with(&state, &auth, id, Some(message)).await
        }
    }
}

async fn decline_request(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let request = visible_request(&state, &auth, id).await?;
    if request.buyer_member_id != auth.member.id {
        return Err(AppError::NotFound);
    }
    if trade::decline_request(&state.store, request.id).await? {
        super::notices::request_declined(&state, request.id).await?;
    }
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

pub struct OrderView {
    pub id: i64,
    pub listing_id: i64,
    pub buyer: String,
    pub seller: String,
    pub amount: String,
    pub status: &'static str,
    pub is_held: bool,
    pub expires: String,
    /// The delivery's transaction (the hold's capture), once delivered: the buyer may
    /// dispute it (`/payments/{id}/dispute`), the seller refund it.
    pub paid_tx: Option<i64>,
}

fn order_view(t: Tr, o: &trade::Order, names: &HashMap<i64, String>) -> OrderView {
    OrderView {
        id: o.id,
        listing_id: o.listing_id,
        buyer: names.get(&o.buyer_member_id).cloned().unwrap_or_default(),
        seller: names.get(&o.seller_member_id).cloned().unwrap_or_default(),
        amount: t.lang.amount(Amount::from_minor(o.amount_minor)),
        status: order_status_label(t, o.status),
        is_held: o.status == OrderStatus::Held,
        paid_tx: o.tx_id.filter(|_| o.status == OrderStatus::Delivered),
        expires: chrono::DateTime::from_timestamp(o.expires_at, 0)
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
    }
}

/// Releases holds past their expiry through the ledger, then records it on the orders.
pub async fn sweep_orders(state: &AppState) -> AppResult<()> {
    Ok(trade::sweep_orders(&state.store).await?)
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersTemplate {
    c: Chrome,
    bought: Vec<OrderView>,
    sold: Vec<OrderView>,
}

async fn orders_page(State(state): State<AppState>, auth: MemberAuth) -> AppResult<Response> {
    sweep_orders(&state).await?;
    let t = auth.tr();
    let bought = trade::orders_of(
        &state.store,
        auth.member.id,
        Side::Buyer,
        trade::LIST_ROWS_MAX,
    )
    .await?;
    let sold = trade::orders_of(
        &state.store,
        auth.member.id,
        Side::Seller,
        trade::LIST_ROWS_MAX,
    )
    .await?;
    let names = member_names(&state, bought.iter().chain(&sold).flat_map(order_members)).await?;
    page(OrdersTemplate {
        c: auth.chrome(),
        bought: bought.iter().map(|o| order_view(t, o, &names)).collect(),
        sold: sold.iter().map(|o| order_view(t, o, &names)).collect(),
    })
}

async fn visible_order(state: &AppState, auth: &MemberAuth, id: i64) -> AppResult<trade::Order> {
    sweep_orders(state).await?;
    let order = trade::order(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if order.buyer_member_id != auth.member.id && order.seller_member_id != auth.member.id {
        return Err(AppError::NotFound);
    }
    Ok(order)
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderTemplate {
    c: Chrome,
    order: OrderView,
    is_seller: bool,
    message: Option<String>,
}

async fn order_page_with(
    state: &AppState,
    auth: &MemberAuth,
    id: i64,
    message: Option<String>,
) -> AppResult<Response> {
    let order = visible_order(state, auth, id).await?;
    let names = member_names(state, order_members(&order)).await?;
    let failed = message.is_some();
    let mut response = page(OrderTemplate {
        c: auth.chrome(),
        is_seller: order.seller_member_id == auth.member.id,
        order: order_view(auth.tr(), &order, &names),
        message,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn order_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    order_page_with(&state, &auth, id, None).await
}

/// Applies a capture or a void to an order's hold and shows the order.
async fn resolve(
    state: &AppState,
    auth: &MemberAuth,
    order: trade::Order,
    settlement: Settlement,
) -> AppResult<Response> {
    let id = order.id;
    let author = auth.auth.user.author();
    match trade::settle_order(&state.store, &order, settlement, author).await? {
        Ok(()) => {
            super::notices::order_settled(state, id, auth.member.id).await?;
            Ok(Redirect::to(&format!("/orders/{id}")).into_response())
        }
        Err(rejection) => {
            let message = auth.tr().rejection(&rejection);
            order_page_with(state, auth, id, Some(message)).await
        }
    }
}

async fn deliver_order(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let order = visible_order(&state, &auth, id).await?;
    // Only the seller confirms delivery; the buyer gets the same answer as a stranger.
    if order.seller_member_id != auth.member.id || order.hold_id.is_none() {
        return Err(AppError::NotFound);
    }
    resolve(&state, &auth, order, Settlement::Deliver).await
}

async fn cancel_order(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let order = visible_order(&state, &auth, id).await?;
    if order.hold_id.is_none() {
        return Err(AppError::NotFound);
    }
    resolve(&state, &auth, order, Settlement::Cancel).await
}
