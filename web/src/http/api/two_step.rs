//! `/api/v1/network/two-step`: who the network requires two-step login of, and the users it
//! covers who have not turned it on (docs/web.md, "Two-step login"; the page is
//! `/admin/two-step`).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types;
use crate::console::settings;
use crate::http::AppState;
use crate::store::Store;
use crate::totp;

/// A user the rule covers who has not turned two-step login on.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserWithout {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    #[schema(value_type = crate::http::api::types::UserRole)]
    pub role: String,
    /// Its company, for a member's user.
    pub member_id: Option<i64>,
}

/// The network's rule and whom it still waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoStepRuleBody {
    /// `nobody` (each user's choice), `network_staff` (managers and the network's
    /// accountants) or `everyone`.
    #[schema(value_type = crate::http::api::types::TwoStepRuleName)]
    pub rule: String,
    /// How many users the rule covers who have not turned it on.
    pub users_without_count: i64,
    /// The first of them by email, at most 200.
    pub users_without: Vec<UserWithout>,
}

/// A change of the rule.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TwoStepRuleChange {
    #[schema(value_type = crate::http::api::types::TwoStepRuleName)]
    pub rule: String,
    /// Why (1 to 500 characters), in the action log.
    pub reason: String,
}

async fn body(store: &Store) -> ApiResult<TwoStepRuleBody> {
    let rule = totp::rule(store).await?;
    let (count, without) = totp::without(store, rule).await?;
    Ok(TwoStepRuleBody {
        rule: rule.as_str().to_owned(),
        users_without_count: count,
        users_without: without
            .into_iter()
            .map(|w| UserWithout {
                user_id: w.user_id,
                email: w.email,
                name: w.display_name,
                role: w.role.as_str().to_owned(),
                member_id: w.member.map(|(id, _)| id),
            })
            .collect(),
    })
}

/// Who the network requires two-step login of (manager or accountant).
#[utoipa::path(get, path = "/api/v1/network/two-step", tag = "manage",
    responses(
        (status = 200, description = "The rule and the users it waits for", body = TwoStepRuleBody),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<TwoStepRuleBody>> {
    let actor = auth.console_actor()?;
    actor.require_reader()?;
    Ok(Json(body(&state.store).await?))
}

/// Changes who the network requires two-step login of (manager), with a reason, logged as
/// `settings.two_step`. A rule not in the list is `invalid_choice`, the rule in force
/// `same_as_current`, a missing or too long reason `required`/`too_long`
/// (`validation_failed`, each field named).
#[utoipa::path(put, path = "/api/v1/network/two-step", tag = "manage",
    request_body = TwoStepRuleChange,
    responses(
        (status = 200, description = "Set: the rule as it is now", body = TwoStepRuleBody),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule not in the list, the rule in force, or no reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: TwoStepRuleChange = types::json(&request.body)?;
        settings::set_two_step_rule(&state.store, &actor, &input.rule, &input.reason).await?;
        Written::ok(body(&state.store).await?)
    })
    .await)
}
