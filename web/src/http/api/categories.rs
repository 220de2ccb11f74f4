//! Member categories (the console's categories, `docs/console.md`): each gives its default
//! credit limit and upper limit to the members created in it. Managers and accountants
//! read them; managers create and change them, on the record.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money};
use crate::console::categories::{self, Category, CategoryInput};
use crate::http::AppState;

/// A member category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryItem {
    /// The stable code (`standard`...), as members and `GET /api/v1/members` name it.
    pub code: String,
    pub name: String,
    /// The default credit limit of a member created in it.
    #[schema(example = "1000.00")]
    pub credit_limit: String,
    /// The default upper limit of the balance, if any.
    pub max_balance: Option<String>,
    /// How many members it has now.
    pub members: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    /// By name.
    pub items: Vec<CategoryItem>,
}

async fn item(state: &AppState, category: &Category) -> ApiResult<CategoryItem> {
    let counts = categories::member_counts(&state.store).await?;
    Ok(category_item(category, &counts))
}

fn category_item(category: &Category, counts: &[(i64, i64)]) -> CategoryItem {
    CategoryItem {
        code: category.code.clone(),
        name: category.name.clone(),
        credit_limit: money(category.credit_limit),
        max_balance: category.max_balance.map(money),
        members: counts
            .iter()
            .find(|(id, _)| *id == category.id)
            .map(|(_, n)| *n)
            .unwrap_or(0),
    }
}

/// Every member category (manager or accountant; at most 100).
#[utoipa::path(get, path = "/api/v1/categories", operation_id = "list_categories", tag = "manage",
    responses(
        (status = 200, description = "The categories, by name", body = CategoryList),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<CategoryList>> {
    auth.console_actor()?.require_reader()?;
    let all = categories::list(&state.store).await?;
    let counts = categories::member_counts(&state.store).await?;
    Ok(Json(CategoryList {
        items: all.iter().map(|c| category_item(c, &counts)).collect(),
    }))
}

/// A new category.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCategoryBody {
    /// 1 to 32 of `a-z`, `0-9`, `-` and `_`; never changes.
    #[schema(example = "pme", pattern = "^[a-z0-9_-]{1,32}$")]
    pub code: String,
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(example = "5000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub credit_limit: String,
    /// None when absent.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub max_balance: Option<String>,
}

/// A category's name and default limits.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryBody {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(example = "5000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub credit_limit: String,
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub max_balance: Option<String>,
}

/// Creates a category (manager), logged as `category.create`.
#[utoipa::path(post, path = "/api/v1/categories", operation_id = "create_category", tag = "manage",
    request_body = NewCategoryBody,
    responses(
        (status = 201, description = "Created", body = CategoryItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, a code already taken (`code_taken` in `errors`) or 100 categories already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: NewCategoryBody = types::json(&request.body)?;
        let category = CategoryInput {
            code: input.code,
            name: input.name,
            credit_limit: types::amount("credit_limit", &input.credit_limit)?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
        };
        let id = categories::create(&state.store, &actor, &category).await?;
        let created = categories::by_id(&state.store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(item(&state, &created).await?)
    })
    .await)
}

/// Changes a category's name and default limits (manager), logged as `category.update`.
/// Its members keep their limits: the defaults are for members created after.
#[utoipa::path(put, path = "/api/v1/categories/{code}", operation_id = "update_category", tag = "manage",
    request_body = CategoryBody,
    params(
        ("code" = String, Path, description = "A category code"),
    ),
    responses(
        (status = 200, description = "Changed: the category as it is now", body = CategoryItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(code): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let category = categories::by_code(&state.store, &code)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: CategoryBody = types::json(&request.body)?;
        let change = CategoryInput {
            code: category.code.clone(),
            name: input.name,
            credit_limit: types::amount("credit_limit", &input.credit_limit)?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
        };
        categories::update(&state.store, &actor, category.id, &change).await?;
        let now = categories::by_id(&state.store, category.id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::ok(item(&state, &now).await?)
    })
    .await)
}
