//! The marketplace pages: search, my listings, create/edit/close, and ordering from an offer
//! (which places a hold on the buyer's credit; see `trades` for what follows).

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use ledger::Amount;
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Lang, Tr};
use super::money::token_is_valid;
use super::session::{Auth, MemberAuth};
use super::templates::{page, Chrome};
use super::AppState;
use crate::market::{self, Kind, Listing, ListingContent, Search};
use crate::people::{self, SECTORS};
use crate::trade::{self, OrderRefusal};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/market", get(search).post(create))
        .route("/market/mine", get(mine))
        .route("/market/for-you", get(for_you))
        .route("/market/new", get(new_form))
        .route("/market/{id}", get(show).post(update))
        .route("/market/{id}/edit", get(edit_form))
        .route("/market/{id}/close", post(close))
        .route("/market/{id}/order", post(order))
}

pub fn sector_label(t: Tr, code: &str) -> String {
    SECTORS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, fr, en)| if t.lang == Lang::Fr { *fr } else { *en })
        .unwrap_or(code)
        .to_owned()
}

pub fn sectors(t: Tr) -> Vec<(&'static str, String)> {
    SECTORS
        .iter()
        .map(|(c, _, _)| (*c, sector_label(t, c)))
        .collect()
}

pub struct ListingView {
    pub id: i64,
    pub kind: &'static str,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price: String,
    pub vat: String,
    pub city: String,
    pub active_until: String,
    pub member: String,
    pub open: bool,
    pub orderable: bool,
}

fn view(t: Tr, listing: &Listing, member: String) -> ListingView {
    ListingView {
        id: listing.id,
        kind: match listing.kind {
            Kind::Offer => t.offer(),
            Kind::Want => t.want(),
        },
        title: listing.title.clone(),
        description: listing.description.clone(),
        category: sector_label(t, &listing.category),
        price: match listing.price_minor {
            Some(minor) => t.lang.amount(Amount::from_minor(minor)),
            None => t.on_quote().to_owned(),
        },
        vat: format!("{} %", t.lang.amount(Amount::from_minor(listing.vat_bp))),
        city: listing.city.clone(),
        active_until: listing.active_until.clone(),
        member,
        open: listing.open,
        orderable: listing.order_price(&market::today()).is_some(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "market.html")]
struct MarketTemplate {
    c: Chrome,
    query_q: String,
    query_category: String,
    query_city: String,
    query_kind: String,
    sectors: Vec<(&'static str, String)>,
    listings: Vec<ListingView>,
    next_url: Option<String>,
    is_member: bool,
}

async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<SearchQuery>,
) -> AppResult<Response> {
    auth.refuse_member_accountant()?;
    let t = auth.tr();
    if query.q.chars().count() > market::SEARCH_TEXT_LEN_MAX
        || query.city.chars().count() > market::CITY_LEN_MAX
        || !(query.category.is_empty() || people::is_sector(&query.category))
    {
        return Err(AppError::BadRequest);
    }
    let kind = match query.kind.as_str() {
        "" => None,
        text => Some(Kind::parse(text).ok_or(AppError::BadRequest)?),
    };
    let before = match query.before.as_str() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| AppError::BadRequest)?),
    };
    let search = Search {
        text: query.q.clone(),
        category: query.category.clone(),
        city: query.city.clone(),
        kind,
        before,
    };
    let today = market::today();
    let mut found = market::search(&state.store, &search, &today).await?;
    let more = found.len() as i64 > market::SEARCH_PAGE_SIZE;
    found.truncate(market::SEARCH_PAGE_SIZE as usize);
    // The names of the members of the listings shown, not of every member.
    let shown: BTreeSet<i64> = found.iter().map(|l| l.member_id).collect();
    let names = people::names_of_members(&state.store, &shown).await?;
    let next_url = match (more, found.last()) {
        (true, Some(last)) => {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("q", &query.q)
                .append_pair("category", &query.category)
                .append_pair("city", &query.city)
                .append_pair("kind", &query.kind)
                .append_pair("before", &last.id.to_string());
            Some(format!("/market?{}", q.finish()))
        }
        _ => None,
    };
    page(MarketTemplate {
        c: auth.chrome(),
        sectors: sectors(t),
        listings: found
            .iter()
            .map(|l| view(t, l, names.get(&l.member_id).cloned().unwrap_or_default()))
            .collect(),
        next_url,
        is_member: auth.user.member_id.is_some(),
        query_q: query.q,
        query_category: query.category,
        query_city: query.city,
        query_kind: query.kind,
    })
}

#[derive(Template)]
#[template(path = "market_mine.html")]
struct MineTemplate {
    c: Chrome,
    listings: Vec<ListingView>,
}

async fn mine(State(state): State<AppState>, auth: MemberAuth) -> AppResult<Response> {
    let t = auth.tr();
    let listings = market::of_member(&state.store, auth.member.id, trade::LIST_ROWS_MAX).await?;
    page(MineTemplate {
        c: auth.chrome(),
        listings: listings
            .iter()
            .map(|l| view(t, l, auth.member.name.clone()))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "market_for_you.html")]
struct ForYouTemplate {
    c: Chrome,
    to_buy: Vec<ListingView>,
    to_sell: Vec<ListingView>,
}

/// `/market/for-you`: offers that meet the company's wants and wants its offers could fill
/// (`network::brokering::for_member`), so that a positive balance finds something to buy and
/// a debt a buyer. Owner and staff.
async fn for_you(State(state): State<AppState>, auth: MemberAuth) -> AppResult<Response> {
    let t = auth.tr();
    let (to_buy, to_sell) =
        crate::network::brokering::for_member(&state.store, &auth.member, &market::today())
            .await
            .map_err(|e| AppError::Internal(format!("suggestions: {e}")))?;
    let views = |matches: &[crate::network::brokering::Match]| -> Vec<ListingView> {
        matches
            .iter()
            .map(|m| view(t, &m.listing, m.counterparty.name.clone()))
            .collect()
    };
    page(ForYouTemplate {
        c: auth.chrome(),
        to_buy: views(&to_buy),
        to_sell: views(&to_sell),
    })
}

/// The listing form's fields, echoed back on errors.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListingValues {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    vat: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    active_until: String,
    /// Only on creation: the form's identity, so that a double submit creates one listing.
    #[serde(default)]
    token: String,
}

#[derive(Default)]
struct ListingErrors {
    kind: Option<String>,
    title: Option<String>,
    description: Option<String>,
    category: Option<String>,
    price: Option<String>,
    vat: Option<String>,
    city: Option<String>,
    active_until: Option<String>,
}

fn check_text(t: Tr, text: &str, max: usize, required: bool) -> Option<String> {
    if required && text.trim().is_empty() {
        Some(t.field_error(FieldError::Required))
    } else if text.chars().count() > max {
        Some(t.field_error(FieldError::TooLong { max }))
    } else {
        None
    }
}

// The error holds one message per field and is built once per refused form: its size costs
// nothing worth a box.
#[allow(clippy::result_large_err)]
fn validate_listing(t: Tr, v: &ListingValues) -> Result<ListingContent, ListingErrors> {
    let mut e = ListingErrors::default();
    let kind = Kind::parse(&v.kind);
    if kind.is_none() {
        e.kind = Some(t.field_error(FieldError::InvalidChoice));
    }
    e.title = check_text(t, &v.title, market::TITLE_LEN_MAX, true);
    e.description = check_text(
        t,
        &v.description,
        market::LISTING_DESCRIPTION_LEN_MAX,
        false,
    );
    e.city = check_text(t, &v.city, market::CITY_LEN_MAX, true);
    if !people::is_sector(&v.category) {
        e.category = Some(t.field_error(FieldError::InvalidChoice));
    }
    let price = if v.price.trim().is_empty() {
        Some(None)
    } else {
        Amount::parse_positive(&v.price)
            .ok()
            .map(|a| Some(a.minor()))
    };
    if price.is_none() {
        e.price = Some(t.field_error(FieldError::InvalidAmount));
    }
    let vat = Amount::parse_signed(if v.vat.trim().is_empty() { "0" } else { &v.vat })
        .ok()
        .map(|a| a.minor())
        .filter(|bp| (0..=market::VAT_BP_MAX).contains(bp));
    if vat.is_none() {
        e.vat = Some(t.field_error(FieldError::InvalidAmount));
    }
    let until = NaiveDate::parse_from_str(v.active_until.trim(), "%Y-%m-%d");
    match until {
        Err(_) => e.active_until = Some(t.field_error(FieldError::InvalidDate)),
        Ok(day) if day < Utc::now().date_naive() => {
            e.active_until = Some(t.field_error(FieldError::DateInPast))
        }
        Ok(_) => {}
    }
    match (kind, price, vat, until) {
        (Some(kind), Some(price_minor), Some(vat_bp), Ok(until))
            if e.title.is_none()
                && e.description.is_none()
                && e.city.is_none()
                && e.category.is_none()
                && e.active_until.is_none() =>
        {
            Ok(ListingContent {
                kind,
                title: v.title.trim().to_owned(),
                description: v.description.trim().to_owned(),
                category: v.category.clone(),
                price_minor,
                vat_bp,
                city: v.city.trim().to_owned(),
                active_until: until.format("%Y-%m-%d").to_string(),
            })
        }
        _ => Err(e),
    }
}

#[derive(Template)]
#[template(path = "listing_form.html")]
struct ListingFormTemplate {
    c: Chrome,
    action: String,
    values: ListingValues,
    errors: ListingErrors,
    sectors: Vec<(&'static str, String)>,
}

fn listing_form(
    auth: &MemberAuth,
    action: String,
    values: ListingValues,
    errors: ListingErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let mut response = page(ListingFormTemplate {
        c: auth.chrome(),
        action,
        values,
        errors,
        sectors: sectors(auth.tr()),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn new_form(auth: MemberAuth) -> AppResult<Response> {
    let values = ListingValues {
        kind: "offer".into(),
        vat: "20".into(),
        city: auth.member.city.clone(),
        category: auth.member.sector.clone(),
        active_until: (Utc::now().date_naive() + chrono::Duration::days(90))
            .format("%Y-%m-%d")
            .to_string(),
        token: people::random_token(),
        ..ListingValues::default()
    };
    listing_form(
        &auth,
        "/market".into(),
        values,
        ListingErrors::default(),
        StatusCode::OK,
    )
}

async fn create(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(values): Form<ListingValues>,
) -> AppResult<Response> {
    if !token_is_valid(&values.token) {
        return Err(AppError::BadRequest);
    }
    match validate_listing(auth.tr(), &values) {
        Ok(content) => {
            let form_token = format!("{}-{}", auth.member.id, values.token);
            let id =
                market::create(&state.store, auth.member.id, &content, Some(&form_token)).await?;
            Ok(Redirect::to(&format!("/market/{id}")).into_response())
        }
        Err(errors) => listing_form(
            &auth,
            "/market".into(),
            values,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// A listing the member owns; anyone else's is "not found" for editing.
async fn own_listing(state: &AppState, auth: &MemberAuth, id: i64) -> AppResult<Listing> {
    let listing = market::get(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if listing.member_id != auth.member.id {
        return Err(AppError::NotFound);
    }
    Ok(listing)
}

async fn edit_form(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let l = own_listing(&state, &auth, id).await?;
    let values = ListingValues {
        kind: l.kind.as_str().into(),
        title: l.title,
        description: l.description,
        category: l.category,
        price: l
            .price_minor
            .map(|m| Amount::from_minor(m).to_plain())
            .unwrap_or_default(),
        vat: Amount::from_minor(l.vat_bp).to_plain(),
        city: l.city,
        active_until: l.active_until,
        token: String::new(),
    };
    listing_form(
        &auth,
        format!("/market/{id}"),
        values,
        ListingErrors::default(),
        StatusCode::OK,
    )
}

async fn update(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
    Form(values): Form<ListingValues>,
) -> AppResult<Response> {
    own_listing(&state, &auth, id).await?;
    match validate_listing(auth.tr(), &values) {
        Ok(content) => {
            if !market::update(&state.store, id, auth.member.id, &content).await? {
                return Err(AppError::NotFound);
            }
            Ok(Redirect::to(&format!("/market/{id}")).into_response())
        }
        Err(errors) => listing_form(
            &auth,
            format!("/market/{id}"),
            values,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

async fn close(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    own_listing(&state, &auth, id).await?;
    market::close(&state.store, id, auth.member.id).await?;
    Ok(Redirect::to("/market/mine").into_response())
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingTemplate {
    c: Chrome,
    listing: ListingView,
    is_own: bool,
    can_order: bool,
    token: String,
    message: Option<String>,
}

async fn show_with(
    state: &AppState,
    auth: &Auth,
    id: i64,
    message: Option<String>,
) -> AppResult<Response> {
    auth.refuse_member_accountant()?;
    let listing = market::get(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let is_own = auth.user.member_id == Some(listing.member_id);
    // A closed listing is visible to its owner only.
    if !listing.open && !is_own {
        return Err(AppError::NotFound);
    }
    let member = people::member(&state.store, listing.member_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let view = view(auth.tr(), &listing, member);
    let failed = message.is_some();
    let mut response = page(ListingTemplate {
        c: auth.chrome(),
        can_order: view.orderable && !is_own && auth.user.member_id.is_some(),
        listing: view,
        is_own,
        token: people::random_token(),
        message,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    show_with(&state, &auth, id, None).await
}

#[derive(Deserialize)]
struct OrderForm {
    token: String,
}

async fn order(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
    Form(form): Form<OrderForm>,
) -> AppResult<Response> {
    if !token_is_valid(&form.token) {
        return Err(AppError::BadRequest);
    }
    let listing = market::get(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let placed = trade::place_order(
        &state.store,
        &auth.member,
        &auth.auth.user,
        &listing,
        &form.token,
    )
    .await?;
    match placed {
        Ok(order_id) => {
            super::notices::order_placed(&state, order_id).await?;
            Ok(Redirect::to(&format!("/orders/{order_id}")).into_response())
        }
        Err(OrderRefusal::NotOrderable) => Err(AppError::NotFound),
        Err(OrderRefusal::OwnOffer) => Err(AppError::BadRequest),
        Err(OrderRefusal::OverPaymentMax(over)) => {
            let message = auth.tr().over_payment_max(over.max);
            show_with(&state, &auth.auth, id, Some(message)).await
        }
        Err(OrderRefusal::OverMonthMax(over)) => {
            let message = auth.tr().over_payment_month_max(&over);
            show_with(&state, &auth.auth, id, Some(message)).await
        }
        Err(OrderRefusal::Rejected(rejection)) => {
            let message = auth.tr().rejection(&rejection);
            show_with(&state, &auth.auth, id, Some(message)).await
        }
    }
}

impl Tr {
    pub fn for_you_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Pour vous",
            Lang::En => "For you",
        }
    }

    pub fn for_you_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Le réseau vit quand les soldes reviennent vers zéro : dépensez ce que vous avez \
                 gagné, vendez pour rembourser ce que vous devez. Voici les offres qui répondent \
                 à vos demandes, et les demandes que vos offres peuvent satisfaire, près de chez \
                 vous d'abord."
            }
            Lang::En => {
                "The network lives when balances come back to zero: spend what you earned, sell \
                 to pay back what you owe. Here are the offers that meet your wants and the \
                 wants your offers could fill, nearby first."
            }
        }
    }

    pub fn for_you_buy(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Des offres pour vos demandes",
            Lang::En => "Offers for your wants",
        }
    }

    pub fn for_you_sell(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Des demandes pour vos offres",
            Lang::En => "Wants your offers could fill",
        }
    }
}
