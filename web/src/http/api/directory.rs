//! What every member may read about the network: the members' directory (where an API
//! client finds a payee's id) and the fee rules in force with the announced changes (the
//! `/directory` and `/rules` pages); the manager announces new rules (the `/admin/fees` page).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use ledger::{FundPayer, Policy, FEE_BP_MAX};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, time};
use crate::http::AppState;
use crate::network::fees::{self, FeeChange};
use crate::network::Reason;
use crate::people::{self, Role};
use crate::store::{Effective, PolicyRecord};

/// A member company as the directory shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntry {
    /// The id to pay (`payee`) or to invoice (`payer`).
    pub member_id: i64,
    /// Its ledger account: the `payee` of a signed payment order.
    pub account_id: i64,
    pub name: String,
    /// A sector code (`informatique`, `restauration`...).
    pub sector: String,
    pub city: String,
    pub contact: String,
    pub description: String,
    /// Null when the member chose not to show it.
    #[schema(example = "-120.00")]
    pub balance: Option<String>,
}

/// A page of the directory, in id order; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryPage {
    pub items: Vec<DirectoryEntry>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// The members' directory: the member companies that chose to appear in it.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory",
    params(
        ("sector" = Option<crate::http::api::types::SectorCode>, Query, description = "A sector code: only that sector's members"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Members, in id order", body = DirectoryPage),
        (status = 403, description = "Member accountants do not see the directory", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn directory(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<DirectoryPage>> {
    if auth.user.role == Role::MemberAccountant {
        return Err(ApiError::forbidden(
            "A member accountant does not see the directory.",
        ));
    }
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let after = types::cursor(&params, "after")?;
    let sector = types::param(&params, "sector");
    if let Some(sector) = sector {
        if !people::is_sector(sector) {
            return Err(ApiError::invalid("sector", "sector is not a sector code."));
        }
    }
    let (members, next) = people::directory_page(&state.store, sector, after, limit as i64).await?;
    let balances = people::shown_balances(&state.store, &members).await?;
    let items = members
        .into_iter()
        .map(|m| DirectoryEntry {
            balance: balances.get(&m.account()).map(|b| money(*b)),
            member_id: m.id,
            account_id: m.account_id,
            name: m.name,
            sector: m.sector,
            city: m.city,
            contact: m.contact,
            description: m.description,
        })
        .collect();
    Ok(Json(DirectoryPage {
        items,
        next: next.map(|id| id.to_string()),
    }))
}

/// One version of the network's fee rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesVersion {
    /// Increases with every version.
    pub version: u64,
    /// From when it applies; null for the network's first rules (from the beginning).
    #[schema(example = "2027-01-01T00:00:00Z")]
    pub effective_from: Option<String>,
    /// The operator's commission on each sale, in basis points (200 = 2 %).
    pub commission_bp: u32,
    /// The least commission on one sale.
    #[schema(example = "0.50")]
    pub commission_min: String,
    /// The guarantee fund's contribution on each trade, in basis points.
    pub fund_bp: u32,
    /// Who pays the contribution: `buyer` or `seller`.
    #[schema(value_type = crate::http::api::types::FundPayer)]
    pub fund_payer: String,
    /// The most one payment may move.
    #[schema(example = "100000.00")]
    pub amount_per_tx_max: String,
}

/// The rules in force and the changes announced, earliest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesBody {
    pub in_force: RulesVersion,
    pub upcoming: Vec<RulesVersion>,
    pub return_to_zero: ReturnToZeroRule,
}

/// The network's return-to-zero rule (docs/web.md, "Return to zero").
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnToZeroRule {
    /// A negative balance comes back to zero within this many days, 1 to 3 650.
    #[schema(minimum = 1, maximum = 3650)]
    pub days: i64,
    /// The full days of a negative spell at which its company is reminded (a quarter, a
    /// half, three quarters of the rule).
    pub reminder_days: Vec<i64>,
    /// From this many full days negative, the spell is past the rule: the network's manager
    /// reviews the account.
    pub past_days: i64,
}

fn rules_version(record: &PolicyRecord) -> RulesVersion {
    let version = &record.version;
    let Policy {
        fees,
        amount_per_tx_max,
    } = version.policy;
    RulesVersion {
        version: version.version,
        effective_from: version.effective_from.map(time),
        commission_bp: fees.commission_bp(),
        commission_min: money(fees.commission_min()),
        fund_bp: fees.fund_bp(),
        fund_payer: match fees.fund_payer() {
            FundPayer::Buyer => "buyer",
            FundPayer::Seller => "seller",
        }
        .to_owned(),
        amount_per_tx_max: money(amount_per_tx_max),
    }
}

/// The network's fee rules: what every member pays, and what is announced; and its
/// return-to-zero rule.
#[utoipa::path(get, path = "/api/v1/rules", tag = "directory",
    responses(
        (status = 200, description = "The rules in force and the announced changes", body = RulesBody),
    ),
    security(("bearer" = [])))]
pub async fn rules(State(state): State<AppState>, _auth: ApiAuth) -> ApiResult<Json<RulesBody>> {
    let rules = fees::rules(&state.store, Utc::now()).await?;
    let zero = crate::zero::rule(&state.store).await?;
    Ok(Json(RulesBody {
        return_to_zero: ReturnToZeroRule {
            days: zero.days(),
            reminder_days: (1..crate::zero::STEPS).map(|s| zero.step_days(s)).collect(),
            past_days: zero.step_days(crate::zero::STEPS),
        },
        in_force: rules_version(&rules.in_force.record),
        upcoming: rules
            .upcoming
            .iter()
            .map(|v| rules_version(&v.record))
            .collect(),
    }))
}

/// A change of the fee rules, as a manager announces it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RulesChangeBody {
    /// The commission on each sale, in basis points, 0 to 5 000.
    #[schema(minimum = 0, maximum = 5000)]
    pub commission_bp: u32,
    /// The least commission on one sale, a decimal string (may be `"0"`).
    #[schema(example = "0.50", pattern = r"^[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub commission_min: String,
    /// The guarantee fund's contribution, in basis points, 0 to 5 000.
    #[schema(minimum = 0, maximum = 5000)]
    pub fund_bp: u32,
    /// `buyer` or `seller`.
    #[schema(value_type = crate::http::api::types::FundPayer)]
    pub fund_payer: String,
    /// RFC 3339; not in the past, not before a change already announced. Absent: at once.
    #[schema(example = "2027-01-01T00:00:00Z")]
    #[serde(default)]
    pub effective_from: Option<String>,
    /// Why (the assembly's decision...), 1 to 500 characters; in the action log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Announces new fee rules (a manage token of the manager): every member sees them in
/// `GET /api/v1/rules` until they apply, and every operation is decided with the rules in
/// force at its own time.
#[utoipa::path(post, path = "/api/v1/rules", tag = "directory",
    request_body = RulesChangeBody,
    responses(
        (status = 201, description = "Scheduled: the new version", body = RulesVersion),
        (status = 403, description = "Not a manage token of the network's manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`), or a date in the past or before an announced change (`effective_in_past`, `before_scheduled_change`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn schedule_rules(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.network_actor()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: RulesChangeBody = types::json(&request.body)?;
        for (field, bp) in [
            ("commission_bp", input.commission_bp),
            ("fund_bp", input.fund_bp),
        ] {
            if bp > FEE_BP_MAX {
                return Err(ApiError::invalid(
                    field,
                    format!("{field} must be 0 to {FEE_BP_MAX}."),
                ));
            }
        }
        let commission_min = types::amount("commission_min", &input.commission_min)?;
        let fund_payer = FundPayer::parse(&input.fund_payer).ok_or_else(|| {
            ApiError::invalid("fund_payer", "fund_payer must be buyer or seller.")
        })?;
        let effective = match &input.effective_from {
            None => Effective::Now,
            Some(text) => Effective::At(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| {
                        ApiError::invalid(
                            "effective_from",
                            "effective_from must be an RFC 3339 time.",
                        )
                    })?
                    .with_timezone(&Utc),
            ),
        };
        let reason = Reason::parse(&input.reason)
            .map_err(|invalid| ApiError::invalid("reason", invalid.to_string()))?;
        // The rates and the minimum were checked above: what is left cannot fail.
        let fees = fees::fee_policy(
            input.commission_bp,
            commission_min,
            input.fund_bp,
            fund_payer,
        )
        .map_err(|invalid| ApiError::invalid("body", invalid.to_string()))?;
        let record = fees::schedule_change(
            &state.store,
            &actor,
            &FeeChange::new(fees, effective, reason),
        )
        .await?;
        Written::created(rules_version(&record))
    })
    .await)
}

/// The caller's company as the network knows it, and what it shows in the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyBody {
    pub member_id: i64,
    pub account_id: i64,
    pub name: String,
    pub siren: String,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    pub contact: String,
    /// The balance is not shown in the directory.
    pub hide_balance: bool,
    /// The company appears in the directory.
    pub in_directory: bool,
}

pub(crate) fn company_body(m: &people::Member) -> CompanyBody {
    CompanyBody {
        member_id: m.id,
        account_id: m.account_id,
        name: m.name.clone(),
        siren: m.siren.clone(),
        address: m.address.clone(),
        city: m.city.clone(),
        postcode: m.postcode.clone(),
        sector: m.sector.clone(),
        description: m.description.clone(),
        contact: m.contact.clone(),
        hide_balance: m.hide_balance,
        in_directory: m.in_directory,
    }
}

/// The company as it is now, read back after a change.
async fn company_now(state: &AppState, member_id: i64) -> ApiResult<CompanyBody> {
    let now = people::member(&state.store, member_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(company_body(&now))
}

/// The caller's company (any user of a member company).
#[utoipa::path(get, path = "/api/v1/company", tag = "directory",
    responses(
        (status = 200, description = "The caller's company", body = CompanyBody),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn company(auth: ApiAuth) -> ApiResult<Json<CompanyBody>> {
    Ok(Json(company_body(auth.member()?)))
}

/// What the company shows in the directory.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PrivacyBody {
    pub hide_balance: bool,
    pub in_directory: bool,
}

/// Sets what the caller's company shows in the directory (its owner, with a pay token).
#[utoipa::path(put, path = "/api/v1/company/privacy", tag = "directory",
    request_body = PrivacyBody,
    responses(
        (status = 200, description = "Set: the company as it is now", body = CompanyBody),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_privacy(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = company_owner(&auth)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: PrivacyBody = types::json(&request.body)?;
        people::update_privacy(
            &state.store,
            member.id,
            input.hide_balance,
            input.in_directory,
        )
        .await?;
        Written::ok(company_now(&state, member.id).await?)
    })
    .await)
}

/// A company's profile as its owner edits it (the SIREN is the company's identity: not here).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileBody {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 1, max_length = 200)]
    pub address: String,
    #[schema(min_length = 1, max_length = 200)]
    pub city: String,
    /// Five digits.
    #[schema(example = "69002", pattern = "^[0-9]{5}$")]
    pub postcode: String,
    /// A sector code (`GET /api/v1/directory` lists the members by sector).
    #[schema(example = "informatique", value_type = crate::http::api::types::SectorCode)]
    pub sector: String,
    /// At most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// How to reach the company (an email, a phone), 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub contact: String,
}

/// Changes the caller's company profile (its owner, with a pay token): what the directory
/// and the company page show. Every bad field is named at once; nothing changes then.
#[utoipa::path(put, path = "/api/v1/company", tag = "directory",
    request_body = ProfileBody,
    responses(
        (status = 200, description = "Saved: the company as it is now", body = CompanyBody),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`, every field at fault in `errors`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_profile(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = company_owner(&auth)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: ProfileBody = types::json(&request.body)?;
        let profile = crate::console::check_profile(&people::Profile {
            name: input.name,
            siren: member.siren.clone(),
            address: input.address,
            city: input.city,
            postcode: input.postcode,
            sector: input.sector,
            description: input.description,
            contact: input.contact,
        })
        .map_err(|issues| ApiError::from(crate::console::ConsoleError::Invalid(issues)))?;
        people::update_profile(&state.store, member.id, &profile).await?;
        Written::ok(company_now(&state, member.id).await?)
    })
    .await)
}

/// The caller's company's users.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyUsers {
    pub items: Vec<super::manage::MemberUser>,
}

pub(crate) async fn company_users(state: &AppState, member_id: i64) -> ApiResult<CompanyUsers> {
    let used = crate::spending::used_of_member(&state.store, member_id, people::now_unix()).await?;
    Ok(CompanyUsers {
        items: people::users_of_member(&state.store, member_id)
            .await?
            .into_iter()
            .map(|u| super::manage::MemberUser::of(&u, &used))
            .collect(),
    })
}

/// The users of the caller's company (any of them).
#[utoipa::path(get, path = "/api/v1/company/users", tag = "directory",
    responses(
        (status = 200, description = "The company's users", body = CompanyUsers),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<CompanyUsers>> {
    let member = auth.member()?;
    Ok(Json(company_users(&state, member.id).await?))
}

/// Someone the owner invites into the company.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffInvitationBody {
    #[schema(format = Email)]
    pub email: String,
    /// `staff` (pays and trades for the company) or `member_accountant` (reads its books).
    #[schema(value_type = crate::http::api::types::InvitedRole)]
    pub role: String,
}

/// A one-time invitation into the company.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffInvitation {
    pub email: String,
    #[schema(value_type = crate::http::api::types::InvitedRole)]
    pub role: String,
    /// Shown once: whoever opens it chooses a password and joins the company.
    pub invitation_url: String,
    /// Whether the link was also e-mailed to the address (when the server sends e-mail).
    pub emailed: bool,
}

/// The caller's company, for what only its owner does (with a pay token): its profile,
/// what it shows, its users.
fn company_owner(auth: &ApiAuth) -> ApiResult<people::Member> {
    let member = auth.payer()?.clone();
    if auth.user.role != Role::Owner {
        return Err(ApiError::forbidden("Only the company's owner may do this."));
    }
    Ok(member)
}

/// Invites a member of staff or an accountant into the caller's company (its owner, with a
/// pay token), as the company page does.
#[utoipa::path(post, path = "/api/v1/company/invitations", tag = "directory",
    request_body = StaffInvitationBody,
    responses(
        (status = 201, description = "Invited", body = StaffInvitation),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email or role, or an email already in use", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn invite_user(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = company_owner(&auth)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: StaffInvitationBody = types::json(&request.body)?;
        let role = match input.role.as_str() {
            "staff" => Role::Staff,
            "member_accountant" => Role::MemberAccountant,
            _ => {
                return Err(ApiError::invalid(
                    "role",
                    "role must be staff or member_accountant.",
                ))
            }
        };
        let invited = people::invite(
            &state.store,
            &input.email,
            role,
            Some(member.id),
            auth.user.id,
        )
        .await?;
        let (email, token) = invited.map_err(|refusal| {
            ApiError::invalid(
                "email",
                match refusal {
                    people::InviteRefusal::InvalidEmail => "email is not a valid address.",
                    people::InviteRefusal::EmailTaken => "email is already a user's address.",
                },
            )
        })?;
        let invitation_url = format!("{}/invitation/{token}", state.config.base_url());
        let lang =
            crate::http::i18n::Lang::parse(&auth.user.lang).unwrap_or(crate::http::i18n::Lang::Fr);
        let emailed = crate::http::mail_invitation(
            &state,
            lang,
            &email,
            &auth.user.display_name,
            &member.name,
            &invitation_url,
        )
        .await?;
        Written::created(StaffInvitation {
            email,
            role: role.as_str().to_owned(),
            invitation_url,
            emailed,
        })
    })
    .await)
}

/// Removes a member of staff or an accountant from the caller's company (its owner, with a
/// pay token): their sessions and API tokens end with them. The owner cannot be removed.
#[utoipa::path(post, path = "/api/v1/company/users/{id}/remove", tag = "directory",
    params(
        ("id" = i64, Path, description = "A user id of the company"),
    ),
    responses(
        (status = 200, description = "Removed: the users left", body = CompanyUsers),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the company, or its owner", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove_user(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = company_owner(&auth)?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        if !people::remove_member_user(&state.store, member.id, id, &auth.user.email).await? {
            return Err(ApiError::NotFound);
        }
        Written::ok(company_users(&state, member.id).await?)
    })
    .await)
}

/// A staff user's payment limits: each field given is set (`null` lifts it), a field left
/// out stays as it is; at least one is required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentLimitBody {
    /// The most the user may commit the company to in one operation (a payment, a request
    /// accepted, an order, a refund, a standing order's amount): a decimal string, above
    /// zero and at most `"10000000.00"`; `null` lifts the limit.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "500.00")]
    pub payment_limit: Option<Option<String>>,
    /// The most the user may commit the company to in a calendar month (UTC), all its
    /// operations together (standing orders' runs included): a decimal string, above zero and
    /// at most `"10000000.00"`; `null` lifts the limit. What the user committed this month
    /// stays counted.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "2000.00")]
    pub month_limit: Option<Option<String>>,
}

/// A limit as given: `None` lifts it; otherwise above zero and at most
/// [`people::PAYMENT_MAX_MAX`].
fn limit_of(field: &'static str, given: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(text) = given else {
        return Ok(None);
    };
    let amount = types::positive_amount(field, text)?;
    if amount.minor() > people::PAYMENT_MAX_MAX {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be at most \"10000000.00\"."),
        ));
    }
    Ok(Some(amount.minor()))
}

/// A field given, `null` or not (`Some`), as opposed to a field missing (`None`, by
/// `#[serde(default)]`).
fn present<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Sets or lifts a staff user's payment limits, per operation and per month (the caller's
/// company's owner, with a pay token), as the company page does. Above them, the user's
/// payments, acceptances, orders, refunds and standing orders are refused with
/// `over_payment_limit` or `over_month_limit`.
#[utoipa::path(put, path = "/api/v1/company/users/{id}/payment-limit", tag = "directory",
    request_body = PaymentLimitBody,
    params(
        ("id" = i64, Path, description = "A staff user id of the company"),
    ),
    responses(
        (status = 200, description = "Set: the company's users", body = CompanyUsers),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff user in the company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_payment_limit(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = company_owner(&auth)?;
    let id = types::path_id(&id)?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: PaymentLimitBody = types::json(&request.body)?;
        if input.payment_limit.is_none() && input.month_limit.is_none() {
            return Err(ApiError::invalid(
                "payment_limit",
                "payment_limit or month_limit is required (null lifts a limit).",
            ));
        }
        // Both checked before either is set (in one statement): a refusal changes nothing.
        let per_operation = match &input.payment_limit {
            Some(given) => Some(limit_of("payment_limit", given.as_deref())?),
            None => None,
        };
        let per_month = match &input.month_limit {
            Some(given) => Some(limit_of("month_limit", given.as_deref())?),
            None => None,
        };
        let change = people::LimitsChange {
            per_operation,
            per_month,
        };
        if !people::set_payment_limits(&state.store, member.id, id, change).await? {
            return Err(ApiError::NotFound);
        }
        Written::ok(company_users(&state, member.id).await?)
    })
    .await)
}

/// What the network's manager did to the caller's company (any of its users, any scope):
/// its part of the action log, newest first, as `/company/record` shows it. The company's
/// own steps are not in it.
#[utoipa::path(get, path = "/api/v1/company/actions", tag = "directory",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Entries, newest first", body = super::manage::ActionPage),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn company_actions(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<super::manage::ActionPage>> {
    let member = auth.member()?;
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let filter = crate::store::ActionFilter {
        member_id: Some(member.id),
        before_id: types::cursor(&params, "after")?,
        ..crate::store::ActionFilter::default()
    };
    let mut entries = state.store.actions(&filter, limit as i64 + 1).await?;
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(super::manage::ActionPage {
        items: entries
            .into_iter()
            .map(super::manage::action_item)
            .collect(),
        next,
    }))
}
