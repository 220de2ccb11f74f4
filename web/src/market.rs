//! The marketplace: members' offers and wants. Rows only.

use sqlx::Row;

use crate::dispatch;
use crate::people::now_unix;
use crate::store::{Store, StoreError, StoreResult};

pub const TITLE_LEN_MAX: usize = 120;
pub const LISTING_DESCRIPTION_LEN_MAX: usize = 4_000;
pub const CITY_LEN_MAX: usize = 100;
pub const SEARCH_TEXT_LEN_MAX: usize = 100;
/// Listings per search page.
pub const SEARCH_PAGE_SIZE: i64 = 20;
/// Highest VAT rate accepted, in basis points (the French standard rate is 20 %).
pub const VAT_BP_MAX: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Offer,
    Want,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Offer => "offer",
            Kind::Want => "want",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Offer, Kind::Want]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub id: i64,
    pub member_id: i64,
    pub kind: Kind,
    pub title: String,
    pub description: String,
    pub category: String,
    /// `None`: on quote.
    pub price_minor: Option<i64>,
    pub vat_bp: i64,
    pub city: String,
    /// `YYYY-MM-DD`.
    pub active_until: String,
    pub open: bool,
    pub created_at: i64,
}

impl Listing {
    /// Its price, when it can be ordered on `today` (`YYYY-MM-DD`): an open offer with a
    /// price, still active.
    pub fn order_price(&self, today: &str) -> Option<i64> {
        match (self.open, self.kind, self.price_minor) {
            (true, Kind::Offer, Some(price)) if self.active_until.as_str() >= today => Some(price),
            _ => None,
        }
    }
}

/// Today in UTC as `YYYY-MM-DD`, the form of [`Listing::active_until`].
pub fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// A listing's content as entered (validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingContent {
    pub kind: Kind,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price_minor: Option<i64>,
    pub vat_bp: i64,
    pub city: String,
    pub active_until: String,
}

/// What a search asks for; empty strings match everything.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub text: String,
    pub category: String,
    pub city: String,
    pub kind: Option<Kind>,
    /// Keyset cursor: only listings with a smaller id (older).
    pub before: Option<i64>,
}

const COLUMNS: &str = "id, member_id, kind, title, description, category, price_minor, vat_bp, \
     city, active_until, status, created_at";

fn from_row<R>(row: &R) -> StoreResult<Listing>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(Listing {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind:?}")))?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        category: row.try_get("category")?,
        price_minor: row.try_get("price_minor")?,
        vat_bp: row.try_get("vat_bp")?,
        city: row.try_get("city")?,
        active_until: row.try_get("active_until")?,
        open: status == "open",
        created_at: row.try_get("created_at")?,
    })
}

/// Creates a listing. With a form token, a replayed form returns the first listing's id.
pub async fn create(
    store: &Store,
    member_id: i64,
    content: &ListingContent,
    form_token: Option<&str>,
) -> StoreResult<i64> {
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO listings (member_id, kind, title, description, category, \
                 price_minor, vat_bp, city, active_until, status, created_at, updated_at, \
                 form_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $10, $11) \
                 ON CONFLICT (form_token) DO NOTHING RETURNING id")
            .bind(member_id).bind(content.kind.as_str()).bind(&content.title)
            .bind(&content.description).bind(&content.category).bind(content.price_minor)
            .bind(content.vat_bp).bind(&content.city).bind(&content.active_until).bind(now)
            .bind(form_token)
            .fetch_optional(pool).await?;
        match (id, form_token) {
            (Some(id), _) => Ok(id),
            (None, Some(token)) => {
                let id: i64 = sqlx::query_scalar("SELECT id FROM listings WHERE form_token = $1")
                    .bind(token).fetch_one(pool).await?;
                Ok(id)
            }
            (None, None) => Err(StoreError::Corrupt("listing insert returned nothing".into())),
        }
    })
}

/// Updates a listing of `member_id`; false when it is not theirs (or does not exist).
pub async fn update(
    store: &Store,
    id: i64,
    member_id: i64,
    content: &ListingContent,
) -> StoreResult<bool> {
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE listings SET kind = $1, title = $2, description = $3, category = $4, \
                     price_minor = $5, vat_bp = $6, city = $7, active_until = $8, \
                     updated_at = $9 WHERE id = $10 AND member_id = $11")
            .bind(content.kind.as_str()).bind(&content.title).bind(&content.description)
            .bind(&content.category).bind(content.price_minor).bind(content.vat_bp)
            .bind(&content.city).bind(&content.active_until).bind(now_unix()).bind(id)
            .bind(member_id)
            .execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

pub async fn close(store: &Store, id: i64, member_id: i64) -> StoreResult<bool> {
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE listings SET status = 'closed', updated_at = $1 \
                     WHERE id = $2 AND member_id = $3")
            .bind(now_unix()).bind(id).bind(member_id)
            .execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

pub async fn get(store: &Store, id: i64) -> StoreResult<Option<Listing>> {
    let sql = format!("SELECT {COLUMNS} FROM listings WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// Escapes LIKE wildcards so that a search for "50%" means the text "50%".
fn like_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Open, still active listings matching `search`, newest first; one more than a page is
/// fetched to know whether a next page exists.
pub async fn search(store: &Store, search: &Search, today: &str) -> StoreResult<Vec<Listing>> {
    search_page(store, search, today, SEARCH_PAGE_SIZE + 1).await
}

/// [`search`] with `rows` rows at most (the API's `limit`, plus one).
pub async fn search_page(
    store: &Store,
    search: &Search,
    today: &str,
    rows: i64,
) -> StoreResult<Vec<Listing>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM listings WHERE status = 'open' AND active_until >= $1 \
         AND id < $2 AND ($3 = '' OR kind = $3) AND ($4 = '' OR category = $4) \
         AND ($5 = '' OR LOWER(city) = $5) \
         AND ($6 = '%%' OR LOWER(title) LIKE $6 ESCAPE '\\' OR LOWER(description) LIKE $6 ESCAPE '\\') \
         ORDER BY id DESC LIMIT $7"
    );
    let kind = search.kind.map(|k| k.as_str()).unwrap_or("");
    let pattern = like_pattern(search.text.trim());
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(today).bind(search.before.unwrap_or(i64::MAX)).bind(kind)
            .bind(&search.category).bind(search.city.trim().to_lowercase()).bind(&pattern)
            .bind(rows)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect()
    })
}

/// A member's own listings, open and closed, newest first.
pub async fn of_member(store: &Store, member_id: i64, limit: i64) -> StoreResult<Vec<Listing>> {
    let sql =
        format!("SELECT {COLUMNS} FROM listings WHERE member_id = $1 ORDER BY id DESC LIMIT $2");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(from_row).collect()
    })
}
