//! The marketplace's listings: offers (what members sell) and wants (what they look for).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, CallerKey, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::http::AppState;
use crate::market::{self, Kind, Listing, ListingContent, Search};
use crate::people::{self, Member, Role};

/// A listing of the marketplace: an offer (what a member sells) or a want (what it looks for).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingItem {
    pub id: i64,
    /// `offer` or `want`.
    pub kind: String,
    pub member_id: i64,
    pub title: String,
    pub description: String,
    /// A sector code (`informatique`, `restauration`...).
    pub category: String,
    /// An offer's price, a want's budget; None: on quote.
    #[schema(example = "120.00")]
    pub price: Option<String>,
    /// VAT in basis points (2000 = 20 %).
    pub vat_bp: i64,
    pub city: String,
    #[schema(example = "2026-12-31")]
    pub active_until: String,
    /// `open` or `closed`.
    pub status: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
}

pub(super) fn listing_item(l: &Listing) -> ListingItem {
    ListingItem {
        id: l.id,
        kind: l.kind.as_str().to_owned(),
        member_id: l.member_id,
        title: l.title.clone(),
        description: l.description.clone(),
        category: l.category.clone(),
        price: l.price_minor.map(|p| money(ledger::Amount::from_minor(p))),
        vat_bp: l.vat_bp,
        city: l.city.clone(),
        active_until: l.active_until.clone(),
        status: if l.open { "open" } else { "closed" }.to_owned(),
        created_at: unix_time(l.created_at),
    }
}

/// A page of listings, newest first; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingPage {
    pub items: Vec<ListingItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// Member accountants do not see the marketplace (as on the pages).
fn refuse_member_accountant(auth: &ApiAuth) -> ApiResult<()> {
    if auth.user.role == Role::MemberAccountant {
        return Err(ApiError::forbidden(
            "A member accountant does not see the marketplace.",
        ));
    }
    Ok(())
}

/// The open, still active listings of one kind, searched.
async fn list_of(
    state: &AppState,
    auth: &ApiAuth,
    raw: Option<&str>,
    kind: Kind,
) -> ApiResult<Json<ListingPage>> {
    refuse_member_accountant(auth)?;
    let params = types::query(raw);
    let limit = types::limit(&params)?;
    let after = types::cursor(&params, "after")?;
    let text = types::param(&params, "q").unwrap_or("").to_owned();
    if text.chars().count() > market::SEARCH_TEXT_LEN_MAX {
        return Err(ApiError::invalid(
            "q",
            format!(
                "q is longer than {} characters.",
                market::SEARCH_TEXT_LEN_MAX
            ),
        ));
    }
    let search = Search {
        text,
        category: types::param(&params, "category").unwrap_or("").to_owned(),
        city: types::param(&params, "city").unwrap_or("").to_owned(),
        kind: Some(kind),
        before: after,
    };
    let today = market::today();
    let mut rows = market::search_page(&state.store, &search, &today, limit as i64 + 1).await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|l| l.id.to_string())
    } else {
        None
    };
    Ok(Json(ListingPage {
        items: rows.iter().map(listing_item).collect(),
        next,
    }))
}

/// The marketplace's open offers.
#[utoipa::path(get, path = "/api/v1/offers", operation_id = "list_offers", tag = "offers",
    params(
        ("q" = Option<String>, Query, description = "Words of the title or description (at most 100 characters)"),
        ("category" = Option<String>, Query, description = "A sector code"),
        ("city" = Option<String>, Query, description = "A city"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Open, active offers", body = ListingPage),
        (status = 403, description = "Member accountants do not see the marketplace", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ListingPage>> {
    list_of(&state, &auth, raw.as_deref(), Kind::Offer).await
}

/// The marketplace's open wants: what members look for.
#[utoipa::path(get, path = "/api/v1/wants", tag = "offers",
    params(
        ("q" = Option<String>, Query, description = "Words of the title or description (at most 100 characters)"),
        ("category" = Option<String>, Query, description = "A sector code"),
        ("city" = Option<String>, Query, description = "A city"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Open, active wants", body = ListingPage),
        (status = 403, description = "Member accountants do not see the marketplace", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_wants(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ListingPage>> {
    list_of(&state, &auth, raw.as_deref(), Kind::Want).await
}

/// An offer or a want of the caller's company, as entered.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ListingBody {
    /// 1 to 120 characters.
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    /// At most 4 000 characters.
    #[serde(default)]
    pub description: String,
    /// A sector code (`informatique`, `restauration`...).
    #[schema(value_type = crate::http::api::types::SectorCode)]
    pub category: String,
    /// A decimal string (an offer's price, a want's budget); absent or null: on quote.
    #[schema(
        example = "120.00",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    #[serde(default)]
    pub price: Option<String>,
    /// VAT in basis points, 0 to 10 000 (2000 = 20 %).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    pub vat_bp: i64,
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    /// `YYYY-MM-DD`, today or later.
    #[schema(example = "2026-12-31", format = Date)]
    pub active_until: String,
}

fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, ApiError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required.")));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} is longer than {max} characters."),
        ));
    }
    Ok(value.to_owned())
}

fn content(input: &ListingBody, kind: Kind) -> Result<ListingContent, ApiError> {
    let title = text("title", &input.title, market::TITLE_LEN_MAX, true)?;
    let description = text(
        "description",
        &input.description,
        market::LISTING_DESCRIPTION_LEN_MAX,
        false,
    )?;
    if !people::is_sector(&input.category) {
        return Err(ApiError::invalid(
            "category",
            "category is not a sector code.",
        ));
    }
    let price_minor = match &input.price {
        None => None,
        Some(price) => Some(types::positive_amount("price", price)?.minor()),
    };
    if !(0..=market::VAT_BP_MAX).contains(&input.vat_bp) {
        return Err(ApiError::invalid("vat_bp", "vat_bp must be 0 to 10000."));
    }
    let city = text("city", &input.city, market::CITY_LEN_MAX, true)?;
    let until = NaiveDate::parse_from_str(input.active_until.trim(), "%Y-%m-%d")
        .ok()
        .filter(|day| *day >= Utc::now().date_naive())
        .ok_or_else(|| {
            ApiError::invalid(
                "active_until",
                "active_until must be a date, today or later.",
            )
        })?;
    Ok(ListingContent {
        kind,
        title,
        description,
        category: input.category.clone(),
        price_minor,
        vat_bp: input.vat_bp,
        city,
        active_until: until.format("%Y-%m-%d").to_string(),
    })
}

/// Lists an offer or a want of the caller's company.
async fn create_of(
    state: &AppState,
    auth: &ApiAuth,
    request: &WriteRequest,
    kind: Kind,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(state, auth, request, |key| async {
        let input: ListingBody = types::json(&request.body)?;
        let content = content(&input, kind)?;
        let key = CallerKey::or_random(key);
        let form_token = format!("api-{}-{}", member.id, key.0);
        let id = market::create(&state.store, member.id, &content, Some(&form_token)).await?;
        let listing = market::get(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(listing_item(&listing))
    })
    .await)
}

/// Lists an offer of the caller's company (pay scope).
#[utoipa::path(post, path = "/api/v1/offers", operation_id = "create_offer", tag = "offers",
    request_body = ListingBody,
    responses(
        (status = 201, description = "Listed", body = ListingItem, links(("show" = (operation_id = "show_offer", parameters(("id" = "$response.body#/id")))), ("update" = (operation_id = "update_offer", parameters(("id" = "$response.body#/id")))), ("close" = (operation_id = "close_listing", parameters(("id" = "$response.body#/id")))), ("order" = (operation_id = "place", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    create_of(&state, &auth, &request, Kind::Offer).await
}

/// Lists a want of the caller's company: what it looks for (pay scope).
#[utoipa::path(post, path = "/api/v1/wants", tag = "offers",
    request_body = ListingBody,
    responses(
        (status = 201, description = "Listed", body = ListingItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_want(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    create_of(&state, &auth, &request, Kind::Want).await
}

/// A listing of this kind visible to the caller: open ones to every trading user, a closed
/// one to its own member's users only; another kind, a closed listing of another member or
/// an unknown id is 404.
async fn visible(state: &AppState, auth: &ApiAuth, id: &str, kind: Kind) -> ApiResult<Listing> {
    refuse_member_accountant(auth)?;
    let id = types::path_id(id)?;
    let listing = market::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let is_own = auth.member.as_ref().map(|m| m.id) == Some(listing.member_id);
    if listing.kind != kind || (!listing.open && !is_own) {
        return Err(ApiError::NotFound);
    }
    Ok(listing)
}

/// A listing of this kind of the caller's company, for a change (pay scope); any other is
/// 404.
async fn own(
    state: &AppState,
    auth: &ApiAuth,
    member: &Member,
    id: &str,
    kind: Kind,
) -> ApiResult<Listing> {
    let listing = visible(state, auth, id, kind).await?;
    if listing.member_id != member.id {
        return Err(ApiError::NotFound);
    }
    Ok(listing)
}

/// One offer of the marketplace.
#[utoipa::path(get, path = "/api/v1/offers/{id}", operation_id = "show_offer", tag = "offers",
    params(("id" = i64, Path, description = "Offer id")),
    responses(
        (status = 200, description = "The offer", body = ListingItem),
        (status = 403, description = "Member accountants do not see the marketplace", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer (a closed one is its member's only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ListingItem>> {
    Ok(Json(listing_item(
        &visible(&state, &auth, &id, Kind::Offer).await?,
    )))
}

/// One want of the marketplace.
#[utoipa::path(get, path = "/api/v1/wants/{id}", tag = "offers",
    params(("id" = i64, Path, description = "Want id")),
    responses(
        (status = 200, description = "The want", body = ListingItem),
        (status = 403, description = "Member accountants do not see the marketplace", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such want (a closed one is its member's only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show_want(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ListingItem>> {
    Ok(Json(listing_item(
        &visible(&state, &auth, &id, Kind::Want).await?,
    )))
}

/// Replaces a listing's content (its kind stays); orders already placed keep their price.
async fn update_of(
    state: &AppState,
    auth: &ApiAuth,
    id: &str,
    request: &WriteRequest,
    kind: Kind,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(state, auth, request, |_| async {
        let listing = own(state, auth, &member, id, kind).await?;
        let input: ListingBody = types::json(&request.body)?;
        let content = content(&input, kind)?;
        if !market::update(&state.store, listing.id, member.id, &content).await? {
            return Err(ApiError::NotFound);
        }
        let listing = market::get(&state.store, listing.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(listing_item(&listing))
    })
    .await)
}

/// Changes an offer of the caller's company (pay scope): the whole content, as when listed.
#[utoipa::path(put, path = "/api/v1/offers/{id}", operation_id = "update_offer", tag = "offers",
    request_body = ListingBody,
    params(
        ("id" = i64, Path, description = "Offer id"),
    ),
    responses(
        (status = 200, description = "Changed", body = ListingItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    update_of(&state, &auth, &id, &request, Kind::Offer).await
}

/// Changes a want of the caller's company (pay scope): the whole content, as when listed.
#[utoipa::path(put, path = "/api/v1/wants/{id}", tag = "offers",
    request_body = ListingBody,
    params(
        ("id" = i64, Path, description = "Want id"),
    ),
    responses(
        (status = 200, description = "Changed", body = ListingItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such want of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update_want(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    update_of(&state, &auth, &id, &request, Kind::Want).await
}

/// Closes a listing of the caller's company; closing it again answers it as it is.
async fn close_of(
    state: &AppState,
    auth: &ApiAuth,
    id: &str,
    request: &WriteRequest,
    kind: Kind,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(state, auth, request, |_| async {
        let listing = own(state, auth, &member, id, kind).await?;
        if !market::close(&state.store, listing.id, member.id).await? {
            return Err(ApiError::NotFound);
        }
        let listing = market::get(&state.store, listing.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(listing_item(&listing))
    })
    .await)
}

/// Closes an offer of the caller's company (pay scope); closing it again answers it as it
/// is. Orders already placed stay as they are.
#[utoipa::path(post, path = "/api/v1/offers/{id}/close", operation_id = "close_listing", tag = "offers",
    params(
        ("id" = i64, Path, description = "Offer id"),
    ),
    responses(
        (status = 200, description = "Closed", body = ListingItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    close_of(&state, &auth, &id, &request, Kind::Offer).await
}

/// Closes a want of the caller's company (pay scope); closing it again answers it as it is.
#[utoipa::path(post, path = "/api/v1/wants/{id}/close", tag = "offers",
    params(
        ("id" = i64, Path, description = "Want id"),
    ),
    responses(
        (status = 200, description = "Closed", body = ListingItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such want of the caller's company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn close_want(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    close_of(&state, &auth, &id, &request, Kind::Want).await
}

/// A listing the network suggests to the caller's company, with who posted it (never its
/// balance: members may hide it).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedListing {
    pub listing: ListingItem,
    pub counterparty_id: i64,
    pub counterparty_name: String,
    /// Posted by a member in the caller's city.
    pub same_city: bool,
}

/// What the caller's company could buy and sell.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Open offers in the categories of its open wants (any category when it has none),
    /// at most 5.
    pub to_buy: Vec<SuggestedListing>,
    /// Open wants in its sector and the categories of its open offers, at most 5.
    pub to_sell: Vec<SuggestedListing>,
}

fn suggested(matches: &[crate::network::brokering::Match]) -> Vec<SuggestedListing> {
    matches
        .iter()
        .map(|m| SuggestedListing {
            listing: listing_item(&m.listing),
            counterparty_id: m.counterparty.id,
            counterparty_name: m.counterparty.name.clone(),
            same_city: m.same_city,
        })
        .collect()
}

/// Listings the network suggests to the caller's company (its owner or staff): offers that
/// meet its wants, wants its offers could fill; in its city first (`/market/for-you`).
#[utoipa::path(get, path = "/api/v1/suggestions", tag = "offers",
    responses(
        (status = 200, description = "Offers to buy, wants to fill", body = Suggestions),
        (status = 403, description = "Not a member's owner or staff", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn suggestions(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<Suggestions>> {
    refuse_member_accountant(&auth)?;
    let member = auth.member()?;
    let (to_buy, to_sell) =
        crate::network::brokering::for_member(&state.store, member, &market::today()).await?;
    Ok(Json(Suggestions {
        to_buy: suggested(&to_buy),
        to_sell: suggested(&to_sell),
    }))
}
