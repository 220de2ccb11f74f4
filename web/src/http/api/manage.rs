//! The network manager's routes (`manage` tokens): members, limits, freezes, the guarantee
//! fund and defaults. Each calls the console's or the network's domain function, which
//! checks the role (accountants read, managers act) and writes the action log.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use ledger::{AccountId, IdempotencyKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, CallerKey, WriteRequest, Written};
use super::types::{self, money};
use crate::console::history as console_history;
use crate::console::members::{self as console_members, CreatedMember, LimitsChange, StatusSet};
use crate::console::{BatchSource, NewMember, RequestKey, Target};
use crate::http::AppState;
use crate::network::{fund, Memo, Reason};
use crate::store::ActionFilter;

/// A new member company.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMemberBody {
    pub name: String,
    /// 9 digits passing the Luhn check.
    pub siren: String,
    /// The owner's email: the invitation link is for them.
    #[schema(format = Email)]
    pub email: String,
    /// A category code; the default category when absent.
    #[serde(default)]
    pub category: Option<String>,
    /// A decimal string; the category's default when absent.
    #[schema(example = "1000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub credit_limit: Option<String>,
    #[schema(example = "5000.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    #[serde(default)]
    pub max_balance: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCreated {
    /// The member id.
    pub id: i64,
    pub account_id: i64,
    /// The owner's user id: none until the owner accepts the invitation.
    pub user_id: Option<i64>,
    /// The one-time link the owner opens to choose a password (shown once).
    pub invitation_url: String,
    /// Whether the link was also e-mailed to the owner (when the server sends e-mail).
    pub emailed: bool,
}

impl MemberCreated {
    /// The answer for a member just created (by the API or an approved application): its
    /// owner exists only once the invitation at `base_url` is accepted.
    pub fn of(
        created: &CreatedMember,
        base_url: &str,
        emailed: crate::http::Emailed,
    ) -> MemberCreated {
        MemberCreated {
            id: created.member_id,
            account_id: created.account_id.0 as i64,
            user_id: None,
            invitation_url: created.invitation.link(base_url),
            emailed: emailed == crate::http::Emailed::Yes,
        }
    }

    /// E-mails the new owners their invitations (when the server sends e-mail), then the
    /// answers for `created`.
    pub(crate) async fn mailed(
        state: &AppState,
        auth: &ApiAuth,
        created: &[CreatedMember],
    ) -> ApiResult<Vec<MemberCreated>> {
        let lang =
            crate::http::i18n::Lang::parse(&auth.user.lang).unwrap_or(crate::http::i18n::Lang::Fr);
        let emailed =
            crate::http::mail_new_owners(state, lang, &auth.user.display_name, created).await?;
        Ok(created
            .iter()
            .map(|c| MemberCreated::of(c, state.config.base_url(), emailed))
            .collect())
    }
}

pub(crate) fn console_key(key: Option<CallerKey>) -> ApiResult<RequestKey> {
    RequestKey::new(&CallerKey::or_random(key).0).map_err(ApiError::from)
}

/// Creates a member company and its account; returns the owner's invitation link (manager).
#[utoipa::path(post, path = "/api/v1/members", tag = "manage",
    request_body = NewMemberBody,
    responses(
        (status = 201, description = "Created", body = MemberCreated),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_member(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: NewMemberBody = types::json(&request.body)?;
        let credit_limit = types::optional_amount("credit_limit", input.credit_limit.as_deref())?;
        let max_balance = types::optional_amount("max_balance", input.max_balance.as_deref())?;
        let new = NewMember {
            name: input.name,
            siren: input.siren,
            email: input.email,
            category: input.category,
            credit_limit,
            max_balance,
            source: BatchSource::Api,
            ..NewMember::default()
        };
        let created = console_members::create_member(&state.store, &actor, new).await?;
        let mut answers =
            MemberCreated::mailed(&state, &auth, std::slice::from_ref(&created)).await?;
        Written::created(answers.remove(0))
    })
    .await)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreditLimitBody {
    #[schema(example = "1500.00", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub credit_limit: String,
    /// The upper limit of the balance; none when absent.
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub max_balance: Option<String>,
    /// Why (kept in the limit history and the action log), 1 to 500 characters.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    pub credit_limit: String,
    pub max_balance: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsChanged {
    pub account_id: i64,
    pub member_id: i64,
    pub before: LimitsView,
    pub after: LimitsView,
}

fn limits_view(limits: &console_members::Limits) -> LimitsView {
    LimitsView {
        credit_limit: money(limits.credit_limit),
        max_balance: limits.max_balance.map(money),
    }
}

fn account_target(id: &str) -> ApiResult<Target> {
    Ok(Target::Account(AccountId(types::path_id(id)? as u64)))
}

/// Sets a member's credit limit and upper limit, with a reason kept in the limit history (manager).
#[utoipa::path(put, path = "/api/v1/accounts/{id}/credit-limit", tag = "manage",
    request_body = CreditLimitBody,
    params(
        ("id" = i64, Path, description = "A member's account id"),
    ),
    responses(
        (status = 200, description = "Set", body = LimitsChanged),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_credit_limit(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let target = account_target(&id)?;
        let input: CreditLimitBody = types::json(&request.body)?;
        let change = LimitsChange {
            credit_limit: types::amount("credit_limit", &input.credit_limit)?,
            max_balance: types::optional_amount("max_balance", input.max_balance.as_deref())?,
            reason: input.reason,
        };
        let set =
            console_members::set_limits(&state.store, &actor, target, change, &console_key(key)?)
                .await?;
        Written::ok(LimitsChanged {
            account_id: set.account_id.0 as i64,
            member_id: set.member_id,
            before: limits_view(&set.before),
            after: limits_view(&set.after),
        })
    })
    .await)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why, 1 to 500 characters (280 for a default).
    #[schema(min_length = 1, max_length = 280)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChanged {
    pub account_id: i64,
    pub member_id: i64,
    /// `active`, `frozen` or `closed`.
    pub before: String,
    pub after: String,
}

fn status_changed(set: StatusSet) -> StatusChanged {
    StatusChanged {
        account_id: set.account_id.0 as i64,
        member_id: set.member_id,
        before: set.before.as_str().to_owned(),
        after: set.after.as_str().to_owned(),
    }
}

/// What `set_status` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusAction {
    Freeze,
    Unfreeze,
    Close,
}

async fn set_status(
    state: AppState,
    auth: ApiAuth,
    id: String,
    request: WriteRequest,
    action: StatusAction,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let target = account_target(&id)?;
        let input: ReasonBody = types::json(&request.body)?;
        let key = console_key(key)?;
        let set = match action {
            StatusAction::Freeze => {
                console_members::freeze(&state.store, &actor, target, &input.reason, &key).await?
            }
            StatusAction::Unfreeze => {
                console_members::unfreeze(&state.store, &actor, target, &input.reason, &key).await?
            }
            StatusAction::Close => {
                console_members::close(&state.store, &actor, target, &input.reason, &key).await?
            }
        };
        Written::ok(status_changed(set))
    })
    .await)
}

/// Freezes a member: it may receive, not pay (manager).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/freeze", tag = "manage",
    request_body = ReasonBody,
    params(
        ("id" = i64, Path, description = "A member's account id"),
    ),
    responses(
        (status = 200, description = "Frozen: the member may receive, not pay", body = StatusChanged),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger (`status_unchanged`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn freeze(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    set_status(state, auth, id, request, StatusAction::Freeze).await
}

/// Unfreezes a member (manager).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/unfreeze", tag = "manage",
    request_body = ReasonBody,
    params(
        ("id" = i64, Path, description = "A member's account id"),
    ),
    responses(
        (status = 200, description = "Active again", body = StatusChanged),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger (`status_unchanged`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn unfreeze(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    set_status(state, auth, id, request, StatusAction::Unfreeze).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuaranteeFund {
    #[schema(example = "1250.00")]
    pub balance: String,
    /// Sum of the open members' negative balances, as a positive amount.
    #[schema(example = "5000.00")]
    pub exposure: String,
    /// balance ÷ exposure, 4 decimals, as a string; none when nothing is owed.
    #[schema(example = "0.2500")]
    pub coverage_ratio: Option<String>,
    /// Open member accounts with a negative balance.
    pub debtors: i64,
    /// Defaults the fund could not cover so far.
    pub losses: String,
}

/// The guarantee fund's balance, exposure and coverage ratio (manager or accountant).
#[utoipa::path(get, path = "/api/v1/guarantee-fund", tag = "manage",
    responses(
        (status = 200, description = "The fund's figures", body = GuaranteeFund),
        (status = 403, description = "Not a manage token of a manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn guarantee_fund(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<GuaranteeFund>> {
    let actor = auth.network_actor()?;
    let overview = fund::overview(&state.store, &actor).await?;
    Ok(Json(GuaranteeFund {
        balance: money(overview.metrics.fund_balance),
        exposure: money(overview.metrics.exposure),
        coverage_ratio: overview.metrics.coverage_ratio.map(|r| format!("{r:.4}")),
        debtors: overview.debtors as i64,
        losses: money(overview.losses),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WrittenOff {
    pub transaction_id: i64,
    /// The member's debt written off (negative).
    pub loss: String,
    /// Absorbed by the guarantee fund.
    pub from_fund: String,
    /// Absorbed by the losses account.
    pub from_losses: String,
}

/// Writes off a defaulted member: the fund absorbs its debt, then the losses account (manager).
#[utoipa::path(post, path = "/api/v1/members/{id}/default", tag = "manage",
    request_body = ReasonBody,
    params(
        ("id" = i64, Path, description = "Member id"),
    ),
    responses(
        (status = 200, description = "Written off: the fund absorbs the debt, then the losses account; the account is closed", body = WrittenOff),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger (`nothing_to_write_off`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn default_member(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.network_actor()?;
    crate::network::require(&actor, crate::network::Access::Act)?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let member_id = types::path_id(&id)?;
        let input: ReasonBody = types::json(&request.body)?;
        let reason = Reason::parse(&input.reason)
            .map_err(|e| ApiError::from(crate::network::NetworkError::from(e)))?;
        let key = CallerKey::or_random(key);
        let ledger_key = IdempotencyKey::new(format!("api-writeoff-{member_id}-{}", key.0))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let done = fund::write_off(&state.store, &actor, member_id, &reason, ledger_key).await?;
        Written::ok(WrittenOff {
            transaction_id: done.tx.0 as i64,
            loss: money(done.absorption.loss),
            from_fund: money(done.absorption.from_fund),
            from_losses: money(done.absorption.from_losses),
        })
    })
    .await)
}

/// Money recovered from a defaulted member.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecoveryBody {
    /// A decimal string, more than zero.
    #[schema(
        example = "250.00",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    /// What it is (a liquidator's payment...), 1 to 280 characters; the transaction's memo.
    #[schema(min_length = 1, max_length = 280)]
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    pub transaction_id: i64,
    /// The guarantee fund's balance afterwards.
    #[schema(example = "1250.00")]
    pub fund_balance: String,
}

/// Records money recovered from a written-off member: it goes back to the guarantee fund
/// (manager).
#[utoipa::path(post, path = "/api/v1/members/{id}/recovery", tag = "manage",
    request_body = RecoveryBody,
    params(
        ("id" = i64, Path, description = "Member id"),
    ),
    responses(
        (status = 201, description = "Recorded: the fund is credited", body = Recovered),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger (a member not written off...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn recovery(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.network_actor()?;
    crate::network::require(&actor, crate::network::Access::Act)?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let member_id = types::path_id(&id)?;
        let input: RecoveryBody = types::json(&request.body)?;
        let amount = types::positive_amount("amount", &input.amount)?;
        let memo = Memo::parse(&input.memo)
            .map_err(|e| ApiError::from(crate::network::NetworkError::from(e)))?;
        let key = CallerKey::or_random(key);
        let ledger_key = IdempotencyKey::new(format!("api-recovery-{member_id}-{}", key.0))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let done =
            fund::record_recovery(&state.store, &actor, member_id, amount, &memo, ledger_key)
                .await?;
        Written::created(Recovered {
            transaction_id: done.tx.0 as i64,
            fund_balance: money(done.fund_balance),
        })
    })
    .await)
}

/// Closes a member's account for good: its balance must be zero and no hold open (manager).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/close", operation_id = "close_account", tag = "manage",
    request_body = ReasonBody,
    params(
        ("id" = i64, Path, description = "A member's account id"),
    ),
    responses(
        (status = 200, description = "Closed: the member neither pays nor receives", body = StatusChanged),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input or refused by the ledger (`non_zero_balance`, `open_holds`, `account_closed`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    set_status(state, auth, id, request, StatusAction::Close).await
}

/// One change of a member's limits.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitChangeItem {
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub time: String,
    /// Who decided it (the manager's email).
    pub actor: String,
    pub reason: String,
    #[schema(example = "1000.00")]
    pub credit_limit_before: String,
    #[schema(example = "1500.00")]
    pub credit_limit_after: String,
    pub max_balance_before: Option<String>,
    pub max_balance_after: Option<String>,
    /// The new credit limit was below the member's debt at the time.
    pub below_current_debt: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitHistory {
    /// Oldest first.
    pub items: Vec<LimitChangeItem>,
}

/// A member's credit and upper limit history, oldest first: its own to a member's users (any
/// scope), every member's to the network's manager or accountant (manage).
#[utoipa::path(get, path = "/api/v1/accounts/{id}/limit-history", tag = "accounts",
    params(("id" = i64, Path, description = "A member's account id")),
    responses(
        (status = 200, description = "Every change, with its author and reason", body = LimitHistory),
        (status = 403, description = "The network's staff without a manage token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member account, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn limit_history(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<LimitHistory>> {
    let records = match &auth.member {
        // A member's users read their own account's; any other id is 404.
        Some(member) => {
            if types::path_id(&id)? != member.account_id {
                return Err(ApiError::NotFound);
            }
            console_history::own_limit_history(&state.store, member.id).await?
        }
        None => {
            let actor = auth.console_actor()?;
            actor.require_reader()?;
            let (member, _) = console_members::resolve(&state.store, account_target(&id)?).await?;
            console_history::limit_history(&state.store, &actor, member.id).await?
        }
    };
    Ok(Json(LimitHistory {
        items: records.into_iter().map(limit_change_item).collect(),
    }))
}

/// One change of a member's limits, as the API and the data package give it.
pub(crate) fn limit_change_item(r: console_history::LimitRecord) -> LimitChangeItem {
    let amount = |a: Option<ledger::Amount>| a.map(money);
    LimitChangeItem {
        time: types::time(r.time),
        actor: r.actor,
        reason: r.reason,
        credit_limit_before: money(r.credit_limit_before),
        credit_limit_after: money(r.credit_limit_after),
        max_balance_before: amount(r.max_balance_before),
        max_balance_after: amount(r.max_balance_after),
        below_current_debt: r.below_current_debt,
    }
}

/// A member creation that stopped half-way (the process ended between its steps).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnfinishedBatchItem {
    pub id: i64,
    /// Where the creation came from: `form`, `import`, `application` or `api`.
    pub source: String,
    /// Who started it.
    pub actor: String,
    /// How many members it creates.
    pub lines: i64,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
}

/// Unfinished member creations.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnfinishedBatches {
    /// Oldest first, at most 100 (the `/admin/import` page's list).
    pub items: Vec<UnfinishedBatchItem>,
}

/// Member creations that stopped half-way, as the `/admin/import` page lists them (manager
/// or accountant): their members exist but have no credit and no invitation yet, until a
/// manager finishes them.
#[utoipa::path(get, path = "/api/v1/members/import/unfinished", tag = "manage",
    responses(
        (status = 200, description = "The unfinished creations", body = UnfinishedBatches),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn unfinished_imports(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<UnfinishedBatches>> {
    let actor = auth.console_actor()?;
    actor.require_reader()?;
    let batches = crate::console::unfinished_batches(&state.store, &actor).await?;
    Ok(Json(UnfinishedBatches {
        items: batches
            .into_iter()
            .map(|b| UnfinishedBatchItem {
                id: b.id,
                source: b.source.as_str().to_owned(),
                actor: b.actor,
                lines: b.lines,
                created_at: types::unix_time(b.created_at),
            })
            .collect(),
    }))
}

/// Finishes a member creation that stopped half-way (manager), as the `/admin/import` page's
/// button does: its ledger operations are resubmitted under their original keys (what was
/// written is not written twice), then the invitations are made (new links: the first ones
/// were never shown) and the creation is marked done.
#[utoipa::path(post, path = "/api/v1/members/import/{batch}/finish", tag = "manage",
    params(("batch" = i64, Path, description = "The creation's id, from `GET /api/v1/members/import/unfinished`")),
    responses(
        (status = 201, description = "The creation finished: its members", body = MembersImported),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such creation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`batch_not_unfinished`: the creation is already done or cancelled; or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The ledger refused the creation's operations (it is then cancelled)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn finish_import(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(batch): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let batch = types::path_id(&batch)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let created = crate::console::finish_batch(&state.store, &actor, batch).await?;
        Written::created(MembersImported::mailed(&state, &auth, &created).await?)
    })
    .await)
}

/// One entry of the action log: what an operator or the system did, with the state before
/// and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItem {
    pub id: i64,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub time: String,
    /// Who (an email, or `system`).
    pub actor: String,
    /// What, e.g. `limits.set`, `status.set`, `fees.schedule`, `fund.write_off`.
    pub action: String,
    pub member_id: Option<i64>,
    pub account_id: Option<i64>,
    pub reason: String,
    /// The state before; null when there was none (a creation, an invitation).
    #[schema(value_type = Option<Object>)]
    pub before: serde_json::Value,
    /// The state after; null when there is none.
    #[schema(value_type = Option<Object>)]
    pub after: serde_json::Value,
    /// The ledger operation's idempotency key, for ledger actions.
    pub idempotency_key: Option<String>,
}

/// A page of the action log, newest first; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPage {
    pub items: Vec<ActionItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// The action log: everything an operator does is on the record (manage: manager or
/// accountant).
#[utoipa::path(get, path = "/api/v1/action-log", tag = "manage",
    params(
        ("action" = Option<String>, Query, description = "Only this action (at most 64 characters)"),
        ("member" = Option<i64>, Query, description = "Only this member id's entries"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Entries, newest first", body = ActionPage),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn action_log(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ActionPage>> {
    let actor = auth.console_actor()?;
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let action = types::param(&params, "action").map(str::to_owned);
    if action
        .as_ref()
        .is_some_and(|a| a.chars().count() > ACTION_NAME_LEN_MAX)
    {
        return Err(ApiError::invalid(
            "action",
            format!("action is longer than {ACTION_NAME_LEN_MAX} characters."),
        ));
    }
    let filter = ActionFilter {
        action,
        member_id: match types::param(&params, "member") {
            None => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| ApiError::invalid("member", "member must be a member id."))?,
            ),
        },
        before_id: types::cursor(&params, "after")?,
        ..ActionFilter::default()
    };
    let mut entries =
        console_history::actions(&state.store, &actor, &filter, limit as i64 + 1).await?;
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(ActionPage {
        items: entries.into_iter().map(action_item).collect(),
        next,
    }))
}

/// An action-log entry as the API gives it.
pub fn action_item(e: crate::store::ActionEntry) -> ActionItem {
    ActionItem {
        id: e.id,
        time: types::time(e.time),
        actor: e.actor,
        action: e.action,
        member_id: e.member_id,
        account_id: e.account_id,
        reason: e.reason,
        before: e.before,
        after: e.after,
        idempotency_key: e.idempotency_key,
    }
}

/// The longest `action` filter: action names are short (`limits.set`).
const ACTION_NAME_LEN_MAX: usize = 64;

/// A member company in the manager's register, with its account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberItem {
    pub id: i64,
    pub name: String,
    pub siren: String,
    pub city: String,
    /// A sector code.
    pub sector: String,
    /// The category's code (`standard`...): its default limits apply to new members.
    pub category: String,
    /// What the member declared as yearly turnover, if it did.
    pub declared_turnover: Option<String>,
    /// When the manager reviews its limits next (`YYYY-MM-DD`), if planned.
    pub next_review: Option<String>,
    pub created_at: String,
    pub account: super::accounts::AccountBody,
}

/// A page of members in name order; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
    /// How many members match the filters, on every page.
    pub total: usize,
}

fn member_item(
    member: &crate::people::Member,
    account: &ledger::Account,
    fields: &console_members::ConsoleFields,
    category: &str,
) -> MemberItem {
    MemberItem {
        id: member.id,
        name: member.name.clone(),
        siren: member.siren.clone(),
        city: member.city.clone(),
        sector: member.sector.clone(),
        category: category.to_owned(),
        declared_turnover: fields.declared_turnover.map(money),
        next_review: fields.next_review.map(|d| d.to_string()),
        created_at: types::unix_time(fields.created_at),
        account: super::accounts::account_body(account, Some(member.id)),
    }
}

/// The member register (the `/admin/members` list): every member company with its account,
/// filtered by status, category or a search in name, SIREN and city (manager or accountant).
#[utoipa::path(get, path = "/api/v1/members", tag = "manage",
    params(
        ("status" = Option<crate::http::api::types::AccountState>, Query, description = "`active`, `frozen` or `closed`"),
        ("category" = Option<String>, Query, description = "A category code"),
        ("q" = Option<String>, Query, description = "Text in the name, SIREN or city, at most 100 characters"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Members, in name order", body = MemberList, links(("member" = (operation_id = "show_member", parameters(("id" = "$response.body#/items/0/id")))), ("account" = (operation_id = "account", parameters(("id" = "$response.body#/items/0/account/id")))), ("history" = (operation_id = "transactions", parameters(("id" = "$response.body#/items/0/account/id")))), ("keys" = (operation_id = "list_account_keys", parameters(("id" = "$response.body#/items/0/account/id")))))),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_members(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<MemberList>> {
    let actor = auth.console_actor()?;
    actor.require_reader()?;
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let status = match types::param(&params, "status") {
        None => None,
        Some(text) => Some(ledger::AccountStatus::parse(text).ok_or_else(|| {
            ApiError::invalid("status", "status must be active, frozen or closed.")
        })?),
    };
    let categories = crate::console::categories::list(&state.store).await?;
    let category_id = match types::param(&params, "category") {
        None => None,
        Some(code) => Some(
            categories
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.id)
                .ok_or_else(|| ApiError::invalid("category", "category is not a category code."))?,
        ),
    };
    let search = types::param(&params, "q").unwrap_or_default().to_owned();
    if search.chars().count() > console_members::SEARCH_LEN_MAX {
        return Err(ApiError::invalid(
            "q",
            format!(
                "q is longer than {} characters.",
                console_members::SEARCH_LEN_MAX
            ),
        ));
    }
    let filter = console_members::MemberFilter {
        status,
        category_id,
        search,
        after: types::cursor(&params, "after")?,
        limit: Some(limit),
    };
    let page = console_members::list_members(&state.store, &actor, &filter).await?;
    let code_of = |id: i64| {
        categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.code.as_str())
            .unwrap_or_default()
    };
    Ok(Json(MemberList {
        items: page
            .rows
            .iter()
            .map(|r| {
                member_item(
                    &r.member,
                    &r.account,
                    &r.fields,
                    code_of(r.fields.category_id),
                )
            })
            .collect(),
        next: page.next_after.map(|id| id.to_string()),
        total: page.total,
    }))
}

/// A user of a member company.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// `owner`, `staff` or `member_accountant`.
    pub role: String,
    /// Staff users: the most they may commit the company to in one operation, which the
    /// owner sets (`PUT /api/v1/company/users/{id}/payment-limit`); `null`: no limit of their
    /// own. Always `null` for the other roles.
    #[schema(example = "500.00")]
    pub payment_limit: Option<String>,
    /// Staff users: the most they may commit the company to in a calendar month (UTC), all
    /// their operations together, which the owner sets (the same route); `null`: no limit per
    /// month. Always `null` for the other roles.
    #[schema(example = "2000.00")]
    pub month_limit: Option<String>,
    /// Staff users with a limit per month: what they committed the company to this month
    /// ("0.00" when nothing; counted while they have the limit). `null` otherwise.
    #[schema(example = "350.00")]
    pub month_used: Option<String>,
}

impl MemberUser {
    /// `used`: what each user committed this month (`spending::used_of_member`).
    pub fn of(user: &crate::people::User, used: &HashMap<i64, ledger::Amount>) -> MemberUser {
        let staff = user.role == crate::people::Role::Staff;
        MemberUser {
            id: user.id,
            email: user.email.clone(),
            name: user.display_name.clone(),
            role: user.role.as_str().to_owned(),
            payment_limit: user
                .payment_max
                .filter(|_| staff)
                .map(|max| ledger::Amount::from_minor(max).to_plain()),
            month_limit: user
                .payment_month_max
                .filter(|_| staff)
                .map(|max| ledger::Amount::from_minor(max).to_plain()),
            month_used: (staff && user.payment_month_max.is_some()).then(|| {
                used.get(&user.id)
                    .copied()
                    .unwrap_or(ledger::Amount::ZERO)
                    .to_plain()
            }),
        }
    }
}

/// One member as the manager's member page shows it: profile, account, category, review
/// date and the company's users.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub item: MemberItem,
    pub address: String,
    pub postcode: String,
    pub description: String,
    pub contact: String,
    /// The company shows no balance in the directory.
    pub hide_balance: bool,
    pub in_directory: bool,
    pub users: Vec<MemberUser>,
}

/// One member of the register (manager or accountant).
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "manage",
    params(("id" = i64, Path, description = "A member id")),
    responses(
        (status = 200, description = "The member", body = MemberDetail),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show_member(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<MemberDetail>> {
    let actor = auth.console_actor()?;
    let id = types::path_id(&id)?;
    Ok(Json(member_detail(&state, &actor, id).await?))
}

async fn member_detail(
    state: &AppState,
    actor: &crate::console::Actor,
    id: i64,
) -> ApiResult<MemberDetail> {
    let view = console_members::member_view(&state.store, actor, id).await?;
    let m = &view.member;
    Ok(MemberDetail {
        item: member_item(m, &view.account, &view.fields, &view.category.code),
        address: m.address.clone(),
        postcode: m.postcode.clone(),
        description: m.description.clone(),
        contact: m.contact.clone(),
        hide_balance: m.hide_balance,
        in_directory: m.in_directory,
        users: {
            let used =
                crate::spending::used_of_member(&state.store, m.id, crate::people::now_unix())
                    .await?;
            view.users
                .iter()
                .map(|u| MemberUser::of(u, &used))
                .collect()
        },
    })
}

/// A member's category.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberCategoryBody {
    /// A category code (`standard`...).
    pub category: String,
    /// Why, at most 500 characters; in the action log.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Moves a member to another category (manager). Its limits do not change: set them with
/// `PUT /api/v1/accounts/{id}/credit-limit`. Logged as `member.category`.
#[utoipa::path(put, path = "/api/v1/members/{id}/category", tag = "manage",
    request_body = MemberCategoryBody,
    params(
        ("id" = i64, Path, description = "A member id"),
    ),
    responses(
        (status = 200, description = "Set: the member as it is now", body = MemberDetail),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown category (`validation_failed`, field `category`) or reason too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_category(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: MemberCategoryBody = types::json(&request.body)?;
        console_members::set_category(&state.store, &actor, id, &input.category, &input.reason)
            .await?;
        Written::ok(member_detail(&state, &actor, id).await?)
    })
    .await)
}

/// When the manager reviews a member's limits next.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewBody {
    /// `YYYY-MM-DD`; null: no review planned.
    #[schema(example = "2027-03-01")]
    pub next_review: Option<String>,
    /// Why, at most 500 characters; in the action log.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Plans (or clears) a member's next limit review (manager): the member then appears in
/// the console's review list on that day. Logged as `member.review`.
#[utoipa::path(put, path = "/api/v1/members/{id}/review", tag = "manage",
    request_body = ReviewBody,
    params(
        ("id" = i64, Path, description = "A member id"),
    ),
    responses(
        (status = 200, description = "Set: the member as it is now", body = MemberDetail),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a date, or reason too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_review(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: ReviewBody = types::json(&request.body)?;
        let date = match input.next_review.as_deref() {
            None => None,
            Some(text) => Some(
                chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid("next_review", "next_review must be a date YYYY-MM-DD.")
                })?,
            ),
        };
        console_members::set_review_date(&state.store, &actor, id, date, &input.reason).await?;
        Written::ok(member_detail(&state, &actor, id).await?)
    })
    .await)
}

/// What a member declared as yearly turnover (in euros, outside the network).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TurnoverBody {
    /// A decimal string, 0 to 10,000,000,000.00; null: not declared.
    #[schema(example = "250000.00")]
    pub declared_turnover: Option<String>,
}

/// Records a member's declared turnover (manager), which the console compares with its
/// credit limit. Logged as `member.turnover`.
#[utoipa::path(put, path = "/api/v1/members/{id}/turnover", tag = "manage",
    request_body = TurnoverBody,
    params(
        ("id" = i64, Path, description = "A member id"),
    ),
    responses(
        (status = 200, description = "Set: the member as it is now", body = MemberDetail),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an amount, negative or too large", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_turnover(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: TurnoverBody = types::json(&request.body)?;
        let turnover =
            types::optional_amount("declared_turnover", input.declared_turnover.as_deref())?;
        console_members::set_turnover(&state.store, &actor, id, turnover).await?;
        Written::ok(member_detail(&state, &actor, id).await?)
    })
    .await)
}

/// Who is invited to own a member company.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OwnerInvitationBody {
    #[schema(format = Email)]
    pub email: String,
}

/// A one-time invitation link.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationCreated {
    pub email: String,
    /// Shown once: whoever opens it chooses a password and becomes the user.
    pub invitation_url: String,
    /// Whether the link was also e-mailed to the address (when the server sends e-mail).
    pub emailed: bool,
}

/// A new invitation for a member's owner (manager): when the first link was lost or
/// expired, or the owner changed. Logged as `member.invite`.
#[utoipa::path(post, path = "/api/v1/members/{id}/invitation", tag = "manage",
    request_body = OwnerInvitationBody,
    params(
        ("id" = i64, Path, description = "A member id"),
    ),
    responses(
        (status = 201, description = "Invited", body = InvitationCreated),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, or already used or invited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn invite_owner(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: OwnerInvitationBody = types::json(&request.body)?;
        let (invitation, company) =
            console_members::invite_owner(&state.store, &actor, id, &input.email).await?;
        let invitation_url = invitation.link(state.config.base_url());
        let lang =
            crate::http::i18n::Lang::parse(&auth.user.lang).unwrap_or(crate::http::i18n::Lang::Fr);
        let emailed = crate::http::mail_invitation(
            &state,
            lang,
            &invitation.email,
            &auth.user.display_name,
            &company,
            &invitation_url,
        )
        .await?;
        Written::created(InvitationCreated {
            invitation_url,
            email: invitation.email,
            emailed,
        })
    })
    .await)
}

/// One of the largest debtors of a stress test.
#[derive(Debug, Serialize, ToSchema)]
pub struct StressDebtor {
    pub account_id: i64,
    pub member_id: Option<i64>,
    pub name: Option<String>,
    /// What it owes, as a positive amount.
    pub debt: String,
}

/// What the default of the `k` largest debtors would do to the fund.
#[derive(Debug, Serialize, ToSchema)]
pub struct StressReport {
    /// How many default (at most the number of debtors).
    pub k: usize,
    /// Their combined debt.
    pub debt: String,
    /// What the fund would absorb (at most its balance).
    pub absorbed_by_fund: String,
    /// What would be left for the losses account.
    pub uncovered: String,
    /// debt ÷ fund balance, 4 decimals; none when the fund is empty.
    #[schema(example = "0.4000")]
    pub share_of_fund: Option<String>,
    /// Largest first.
    pub debtors: Vec<StressDebtor>,
}

/// The fund's stress test (manager or accountant): what if the `k` largest debtors
/// defaulted at once (the `/admin/fund` page).
#[utoipa::path(get, path = "/api/v1/guarantee-fund/stress", tag = "manage",
    params(("k" = Option<i64>, Query, description = "1 to 1 000 debtors, default 3", minimum = 1, maximum = 1000)),
    responses(
        (status = 200, description = "The stress test", body = StressReport),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`k` out of its range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn fund_stress(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<StressReport>> {
    let actor = auth.network_actor()?;
    let params = types::query(raw.as_deref());
    let k = match types::param(&params, "k") {
        None => fund::STRESS_K_DEFAULT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=fund::STRESS_K_MAX).contains(k))
            .ok_or_else(|| {
                ApiError::invalid("k", format!("k must be 1 to {}.", fund::STRESS_K_MAX))
            })?,
    };
    let report = fund::stress(&state.store, &actor, k).await?;
    Ok(Json(StressReport {
        k: report.test.k,
        debt: money(report.test.debt),
        absorbed_by_fund: money(report.test.absorbed_by_fund),
        uncovered: money(report.test.uncovered),
        share_of_fund: report.test.share_of_fund.map(|d| format!("{d:.4}")),
        debtors: report
            .debtors
            .iter()
            .map(|d| StressDebtor {
                account_id: d.account.0 as i64,
                member_id: d.member.as_ref().map(|m| m.id),
                name: d.member.as_ref().map(|m| m.name.clone()),
                debt: money(d.debt),
            })
            .collect(),
    }))
}

/// A member written off, and what was recovered since.
#[derive(Debug, Serialize, ToSchema)]
pub struct WrittenOffItem {
    pub member_id: i64,
    pub name: String,
    /// The write-off.
    pub transaction_id: i64,
    pub time: String,
    pub loss: String,
    pub from_fund: String,
    pub from_losses: String,
    /// Recovered since (`POST /api/v1/members/{id}/recovery`).
    pub recovered: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WrittenOffList {
    pub items: Vec<WrittenOffItem>,
}

/// The members written off, with what was recovered from each (manager or accountant).
#[utoipa::path(get, path = "/api/v1/guarantee-fund/written-off", tag = "manage",
    responses(
        (status = 200, description = "The write-offs", body = WrittenOffList),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn written_off(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<WrittenOffList>> {
    let actor = auth.network_actor()?;
    let listed = fund::written_off_members(&state.store, &actor).await?;
    Ok(Json(WrittenOffList {
        items: listed
            .iter()
            .map(|w| WrittenOffItem {
                member_id: w.member.id,
                name: w.member.name.clone(),
                transaction_id: w.tx.0 as i64,
                time: types::time(w.time),
                loss: money(w.absorption.loss),
                from_fund: money(w.absorption.from_fund),
                from_losses: money(w.absorption.from_losses),
                recovered: money(w.recovered),
            })
            .collect(),
    }))
}

/// A listing suggested to a member, with who posted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokeringMatch {
    pub listing: super::offers::ListingItem,
    pub counterparty_id: i64,
    pub counterparty_name: String,
    pub counterparty_balance: String,
    pub same_city: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokeringSuggestion {
    pub member_id: i64,
    pub name: String,
    pub balance: String,
    /// Whether it gave notice that it leaves the network (such members come first).
    pub leaving: bool,
    pub matches: Vec<BrokeringMatch>,
}

/// The brokering lists: the largest creditors with offers they could buy, the largest
/// debtors with wants they could fill (each at most 20 members, 5 listings each).
#[derive(Debug, Serialize, ToSchema)]
pub struct BrokeringLists {
    pub creditors: Vec<BrokeringSuggestion>,
    pub debtors: Vec<BrokeringSuggestion>,
}

fn suggestion(s: &crate::network::brokering::Suggestion) -> BrokeringSuggestion {
    BrokeringSuggestion {
        member_id: s.member.id,
        name: s.member.name.clone(),
        balance: money(s.balance),
        leaving: s.leaving,
        matches: s
            .matches
            .iter()
            .map(|m| BrokeringMatch {
                listing: super::offers::listing_item(&m.listing),
                counterparty_id: m.counterparty.id,
                counterparty_name: m.counterparty.name.clone(),
                counterparty_balance: money(m.counterparty_balance),
                same_city: m.same_city,
            })
            .collect(),
    }
}

/// Brokering (manager): who should trade with whom to bring balances back toward zero (the
/// `/admin/brokering` page).
#[utoipa::path(get, path = "/api/v1/brokering", tag = "manage",
    responses(
        (status = 200, description = "The brokering lists", body = BrokeringLists),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn brokering(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<BrokeringLists>> {
    let actor = auth.network_actor()?;
    let lists =
        crate::network::brokering::brokering(&state.store, &actor, &crate::market::today()).await?;
    Ok(Json(BrokeringLists {
        creditors: lists.creditors.iter().map(suggestion).collect(),
        debtors: lists.debtors.iter().map(suggestion).collect(),
    }))
}

/// The members an import created.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersImported {
    /// In file order, each with its owner's invitation link (shown once).
    pub items: Vec<MemberCreated>,
}

impl MembersImported {
    async fn mailed(
        state: &AppState,
        auth: &ApiAuth,
        created: &[CreatedMember],
    ) -> ApiResult<MembersImported> {
        Ok(MembersImported {
            items: MemberCreated::mailed(state, auth, created).await?,
        })
    }
}

/// Imports members from a CSV file, the body itself (manager; the `/admin/import` page's
/// file): header `name,siren,email[,category,credit_limit,max_balance,opening_balance]`
/// (`,` or `;`, French names accepted), at most 500 lines and 128 KiB. Every line is
/// checked first: one bad line and nothing is created, and the answer (`invalid_file`)
/// lists every problem with its line and field. Otherwise all of them, in one batch.
#[utoipa::path(post, path = "/api/v1/members/import", tag = "manage",
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 201, description = "Every member created", body = MembersImported),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_file`: every problem in `errors`, with its `line`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn import_members(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let created =
            crate::console::import::import_members(&state.store, &actor, &request.body).await?;
        Written::created(MembersImported::mailed(&state, &auth, &created).await?)
    })
    .await)
}

/// An API token of one of a member's users (never the token itself): its user and the
/// fields of the user's own list.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberTokenItem {
    /// The user's email.
    pub user: String,
    #[serde(flatten)]
    pub token: super::accounts::TokenItem,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberTokenList {
    /// Oldest first.
    pub items: Vec<MemberTokenItem>,
}

fn member_token_item(listed: &crate::tokens::ListedToken, now: i64) -> MemberTokenItem {
    MemberTokenItem {
        user: listed.email.clone(),
        token: super::accounts::token_item(&listed.token, now),
    }
}

/// The API tokens of a member's users (manager, accountant), as the member page lists them.
#[utoipa::path(get, path = "/api/v1/members/{id}/tokens", tag = "manage",
    params(("id" = i64, Path, description = "A member id")),
    responses(
        (status = 200, description = "The tokens of the member's users", body = MemberTokenList),
        (status = 403, description = "Not a manage token of the network's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn member_tokens(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<MemberTokenList>> {
    let actor = auth.console_actor()?;
    let id = types::path_id(&id)?;
    let listed = console_members::member_tokens(&state.store, &actor, id).await?;
    let now = crate::people::now_unix();
    Ok(Json(MemberTokenList {
        items: listed.iter().map(|t| member_token_item(t, now)).collect(),
    }))
}

/// Why a manager revokes a member's token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRevocationBody {
    /// 1 to 500 characters, for the action log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Revokes an API token of one of a member's users (manager): a leaked token while the
/// owner cannot be reached, a user who left. Logged as `token.revoke`; revoking a revoked
/// token answers it as it is.
#[utoipa::path(post, path = "/api/v1/members/{id}/tokens/{token_id}/revoke", tag = "manage",
    request_body = TokenRevocationBody,
    params(
        ("id" = i64, Path, description = "A member id"),
        ("token_id" = i64, Path, description = "A token id of one of the member's users"),
    ),
    responses(
        (status = 200, description = "Revoked", body = MemberTokenItem),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member, or not a token of its users", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one too long", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke_member_token(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((id, token_id)): Path<(String, String)>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    let id = types::path_id(&id)?;
    let token_id = types::path_id(&token_id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: TokenRevocationBody = types::json(&request.body)?;
        let revoked =
            console_members::revoke_member_token(&state.store, &actor, id, token_id, &input.reason)
                .await?;
        Written::ok(member_token_item(&revoked, crate::people::now_unix()))
    })
    .await)
}
