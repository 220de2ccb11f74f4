//! Period locks (the accounting page's locks, `docs/exports.md`): once a period is over, the
//! network's manager or accountant locks it, and nothing can be dated inside it any more. A
//! FEC needs its period locked. And what every export carries: the network's name and
//! SIREN, and its chart of accounts (the account mapping).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, time};
use crate::export::calendar;
use crate::export::download::Books;
use crate::export::mapping::{MemberMapping, OperatorMapping};
use crate::export::{PeriodLock, Siren};
use crate::http::AppState;
use crate::store::{
    ActionNote, StoreError, ACTION_REASON_LEN_MAX, LOCK_ACTION, MAPPING_ACTION,
    MEMBER_MAPPING_ACTION, SIREN_ACTION,
};

/// A locked period: every day up to `through` (Paris time), included.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockItem {
    #[schema(example = "2026-11-30", format = Date)]
    pub through: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub locked_at: String,
}

fn lock_item(lock: &PeriodLock) -> LockItem {
    LockItem {
        through: lock.through.format("%Y-%m-%d").to_string(),
        locked_at: time(lock.locked_at),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LockList {
    /// Oldest first; the last one says through when the books are closed.
    pub items: Vec<LockItem>,
}

/// The locked periods.
#[utoipa::path(get, path = "/api/v1/period-locks", operation_id = "list_period_locks", tag = "exports",
    responses(
        (status = 200, description = "Every lock, oldest first", body = LockList),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, _auth: ApiAuth) -> ApiResult<Json<LockList>> {
    let locks = state.store.period_locks().await?;
    Ok(Json(LockList {
        items: locks.iter().map(lock_item).collect(),
    }))
}

/// A period to lock.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LockBody {
    /// The last day locked, `YYYY-MM-DD`: before today (Paris), after the last lock.
    #[schema(example = "2026-11-30", format = Date)]
    pub through: String,
    /// Why (at most 500 characters); in the action log.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

fn already_locked(last: Option<NaiveDate>) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        "already_locked",
        match last {
            Some(last) => format!("The books are already locked through {last}."),
            None => "The books are already locked through that day.".to_owned(),
        },
    )
}

/// Locks every day up to `through` (a manage token of the network's manager or accountant).
#[utoipa::path(post, path = "/api/v1/period-locks", tag = "exports",
    request_body = LockBody,
    responses(
        (status = 201, description = "Locked", body = LockItem),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already locked through that day or later (`already_locked`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or a period not over yet (`period_not_over`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn lock(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    if !auth.is_network() {
        return Err(ApiError::forbidden(
            "Only the network's manager or accountant locks periods, with a manage token.",
        ));
    }
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: LockBody = types::json(&request.body)?;
        let through = NaiveDate::parse_from_str(input.through.trim(), "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("through", "through must be a date, YYYY-MM-DD."))?;
        let reason = input.reason.trim();
        if reason.chars().count() > ACTION_REASON_LEN_MAX {
            return Err(ApiError::invalid(
                "reason",
                format!("reason is longer than {ACTION_REASON_LEN_MAX} characters."),
            ));
        }
        let now = Utc::now();
        if through >= calendar::day_of(now) {
            return Err(ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "period_not_over",
                "Only a period that is over can be locked: through must be before today.",
            ));
        }
        let last = state.store.locked_through().await?;
        if last.is_some_and(|last| last >= through) {
            return Err(already_locked(last));
        }
        let note = ActionNote::new(Some(auth.user.id), &auth.user.email, LOCK_ACTION, reason)?;
        match state.store.lock_period_noted(through, note, now).await {
            Ok(lock) => Written::created(lock_item(&lock)),
            // Another lock went in meanwhile.
            Err(StoreError::Invalid(_)) => Err(already_locked(state.store.locked_through().await?)),
            Err(error) => Err(error.into()),
        }
    })
    .await)
}

/// The network as its books name it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkBody {
    pub name: String,
    /// The operator's SIREN: exports need it (the FEC's file name, OFX's bank id); none
    /// until the manager sets it.
    pub siren: Option<String>,
}

async fn network_body(state: &AppState) -> ApiResult<NetworkBody> {
    Ok(NetworkBody {
        name: state.store.network_name().await?.unwrap_or_default(),
        siren: state
            .store
            .network_siren()
            .await?
            .map(|s| s.as_str().to_owned()),
    })
}

/// The network's name and SIREN (any token).
#[utoipa::path(get, path = "/api/v1/network", tag = "exports",
    responses(
        (status = 200, description = "The network", body = NetworkBody),
    ),
    security(("bearer" = [])))]
pub async fn network(
    State(state): State<AppState>,
    _auth: ApiAuth,
) -> ApiResult<Json<NetworkBody>> {
    Ok(Json(network_body(&state).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SirenBody {
    /// 9 digits passing the Luhn check.
    #[schema(example = "552100554", pattern = "^[0-9]{9}$")]
    pub siren: String,
}

/// Sets the network operator's SIREN (a manage token of the manager), recorded in the
/// action log (`network.siren`), as the accounting page does.
#[utoipa::path(put, path = "/api/v1/network/siren", tag = "exports",
    request_body = SirenBody,
    responses(
        (status = 200, description = "Set: the network", body = NetworkBody),
        (status = 403, description = "Not a manage token of the manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid SIREN", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_siren(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    auth.console_actor()?.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: SirenBody = types::json(&request.body)?;
        let typed = input.siren.trim();
        let siren = Some(typed)
            .filter(|s| crate::people::siren_is_valid(s))
            .and_then(|s| Siren::new(s).ok())
            .ok_or_else(|| {
                ApiError::invalid("siren", "siren must be 9 digits passing the Luhn check.")
            })?;
        let note = ActionNote::new(Some(auth.user.id), &auth.user.email, SIREN_ACTION, "")?;
        state.store.set_network_siren(&siren, note).await?;
        Written::ok(network_body(&state).await?)
    })
    .await)
}

/// The network's chart of accounts for the exports: the operator's accounts and the
/// members' default (each account `{num, label}`; positions `{"single": account}` or
/// `{"split": {debit, credit}}`; the fund `{"deposits": {...}}` or `{"provision": {...}}`;
/// docs/exports.md, "Account mapping").
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MappingBody {
    #[schema(value_type = Object)]
    pub operator: OperatorMapping,
    #[schema(value_type = Object)]
    pub member_default: MemberMapping,
}

async fn mapping_body(state: &AppState) -> ApiResult<MappingBody> {
    let mapping = state.store.account_mapping().await?;
    Ok(MappingBody {
        operator: mapping.operator.clone(),
        member_default: mapping.member_default.clone(),
    })
}

fn network_staff(auth: &ApiAuth) -> ApiResult<()> {
    if auth.is_network() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only the network's manager or accountant keeps its chart of accounts, with a manage token.",
        ))
    }
}

/// The network's account mapping, as the exports use it (manager or accountant).
#[utoipa::path(get, path = "/api/v1/accounting/mapping", tag = "exports",
    responses(
        (status = 200, description = "The mapping (the defaults when none is stored)", body = MappingBody),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn mapping(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<MappingBody>> {
    network_staff(&auth)?;
    Ok(Json(mapping_body(&state).await?))
}

/// Replaces the network's account mapping (manager or accountant): every account is
/// checked (a number of 3 to 20 letters or digits starting with three digits, the first a
/// PCG class 1 to 8; a label of 1 to 100 characters); the
/// members' own overrides stay; recorded in the action log (`accounting.mapping`, before
/// and after), as the accounting page's mapping form.
#[utoipa::path(put, path = "/api/v1/accounting/mapping", tag = "exports",
    request_body = MappingBody,
    responses(
        (status = 200, description = "Stored: the mapping as it is now", body = MappingBody),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid account (`field` is its path, e.g. `operator.commission`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_mapping(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    network_staff(&auth)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: MappingBody = types::json(&request.body)?;
        let note = ActionNote::new(Some(auth.user.id), &auth.user.email, MAPPING_ACTION, "")?;
        state
            .store
            .set_network_mapping(input.operator, input.member_default, note)
            .await?;
        Written::ok(mapping_body(&state).await?)
    })
    .await)
}

/// A member company's chart of accounts: the network's default, or its own.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberMappingBody {
    pub member_id: i64,
    /// The member's own chart (true) or the network's default (false).
    pub own: bool,
    /// The chart its books are exported with.
    #[schema(value_type = Object)]
    pub mapping: MemberMapping,
}

async fn member_mapping_body(
    state: &AppState,
    member: &crate::people::Member,
) -> ApiResult<MemberMappingBody> {
    let mapping = state.store.account_mapping().await?;
    Ok(MemberMappingBody {
        member_id: member.id,
        own: mapping.member_override(member.account()).is_some(),
        mapping: mapping.for_member(member.account()).clone(),
    })
}

/// The chart of accounts a member's books are exported with: the caller's company for its
/// owner or member accountant; any member (`member=`) for the network's staff.
#[utoipa::path(get, path = "/api/v1/accounting/member-mapping", tag = "exports",
    params(("member" = Option<i64>, Query, description = "A member id (the network's staff)")),
    responses(
        (status = 200, description = "The member's mapping", body = MemberMappingBody),
        (status = 403, description = "Staff do not read the books", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown member, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No member named (the network's staff)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn member_mapping(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<MemberMappingBody>> {
    let params = types::query(raw.as_deref());
    let Books::Member(account) = super::exports::books_of(&state, &auth, &params).await? else {
        return Err(ApiError::invalid("member", "Name the member: member=<id>."));
    };
    let member = crate::people::member_by_account(&state.store, account.0 as i64)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(member_mapping_body(&state, &member).await?))
}

/// The company's own chart, or none to use the network's default again.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberMappingChange {
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<MemberMapping>,
}

/// Sets the caller's company's own chart of accounts, or drops it (`mapping: null`): its
/// owner (a pay token) or its member accountant (its read token: the books are what it
/// keeps). Recorded in the action log (`accounting.member_mapping`).
#[utoipa::path(put, path = "/api/v1/accounting/member-mapping", tag = "exports",
    request_body = MemberMappingChange,
    responses(
        (status = 200, description = "Stored: the company's mapping as it is now", body = MemberMappingBody),
        (status = 403, description = "Not the company's owner or member accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid account, named by its path", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_member_mapping(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    match auth.user.role {
        // The owner acts with a pay token; a member accountant can only hold read tokens,
        // and keeping the company's books is what it is there for (no money moves).
        crate::people::Role::Owner => auth.require(crate::tokens::Scope::Pay)?,
        crate::people::Role::MemberAccountant => {}
        _ => {
            return Err(ApiError::forbidden(
                "Only the company's owner or its accountant chooses its chart of accounts.",
            ))
        }
    }
    let member = auth.member()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: MemberMappingChange = types::json(&request.body)?;
        let note = ActionNote::new(
            Some(auth.user.id),
            &auth.user.email,
            MEMBER_MAPPING_ACTION,
            "",
        )?
        .member(member.id);
        state
            .store
            .set_member_mapping(member.account(), input.mapping, note)
            .await?;
        Written::ok(member_mapping_body(&state, &member).await?)
    })
    .await)
}
