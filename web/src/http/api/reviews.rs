//! The console's review lists (`/admin/reviews`, `docs/console.md`): the members a manager
//! should look at (near their credit limit or their upper limit, negative for too long, a positive balance that keeps
//! growing, a review date reached), and the settings of those rules.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, time};
use crate::console::members::MemberRow;
use crate::console::reviews;
use crate::console::settings::{self, Settings};
use crate::http::AppState;
use crate::people::Member;

/// The review rules' settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewSettings {
    /// "Near its limit": using at least this share (%) of the credit limit, 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub near_limit_pct: i64,
    /// Listed when negative for more than this many days, 1 to 3 650.
    #[schema(minimum = 1, maximum = 3650)]
    pub negative_days: i64,
    /// "Keeps growing": positive and up over each of this many 30-day periods, 1 to 24.
    #[schema(minimum = 1, maximum = 24)]
    pub growth_months: i64,
    /// Suggested limit: this share (basis points) of the declared turnover, 0 to 10 000...
    #[schema(minimum = 0, maximum = 10000)]
    pub turnover_share_bp: i64,
    /// ...capped by this share (basis points, 0 to 100 000) of the sales of the last
    /// `sales_months` (1 to 36) 30-day periods.
    #[schema(minimum = 1, maximum = 36)]
    pub sales_months: i64,
    #[schema(minimum = 0, maximum = 100000)]
    pub sales_share_bp: i64,
}

impl From<Settings> for ReviewSettings {
    fn from(s: Settings) -> ReviewSettings {
        ReviewSettings {
            near_limit_pct: s.near_limit_pct,
            negative_days: s.negative_days,
            growth_months: s.growth_months,
            turnover_share_bp: s.turnover_share_bp,
            sales_months: s.sales_months,
            sales_share_bp: s.sales_share_bp,
        }
    }
}

/// A member on a review list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewMember {
    pub member_id: i64,
    pub name: String,
    pub account_id: i64,
    pub balance: String,
    pub credit_limit: String,
}

fn review_member(row: &MemberRow) -> ReviewMember {
    review_member_of(&row.member, &row.account)
}

fn review_member_of(member: &Member, account: &ledger::Account) -> ReviewMember {
    ReviewMember {
        member_id: member.id,
        name: member.name.clone(),
        account_id: member.account_id,
        balance: money(account.balance()),
        credit_limit: money(account.credit_limit()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NearLimitItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    /// What it uses of its limit: its debt plus what open holds reserve.
    pub used: String,
    /// That, in % of its credit limit (capped at 9 999 for a zero limit).
    pub used_pct: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NearMaxItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    /// Its upper limit: the largest balance it may hold (payments to it past it are refused).
    pub max_balance: String,
    /// Its balance, in % of its upper limit (capped at 9 999 for a zero upper limit).
    pub used_pct: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NegativeItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    /// When its balance last went below zero.
    pub since: String,
    pub days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrowingItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    /// Its balance at the start of each period and now, oldest first.
    pub balances: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    #[schema(format = Date)]
    pub next_review: String,
}

/// A member that gave notice and whose account is not closed yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeavingItem {
    #[serde(flatten)]
    pub member: ReviewMember,
    pub notice: super::departures::DepartureItem,
    pub remaining: super::departures::RemainingItem,
}

/// The members whose negative spell reached one step of the return-to-zero rule (from a
/// quarter of `negative_days` to past it) and not the next, and what they owe.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingBucket {
    /// 0: not reminded yet; 1 to 3: reminded at a quarter, a half, three quarters of the
    /// rule; 4: past it.
    #[schema(minimum = 0, maximum = 4)]
    pub step: i64,
    /// The first full day negative of the step.
    pub from_days: i64,
    /// The last one; absent for the last step.
    pub to_days: Option<i64>,
    pub members: i64,
    /// Their balances below zero, as a positive amount.
    pub debt: String,
    /// Their share of the members' debt, in basis points.
    #[schema(minimum = 0, maximum = 10000)]
    pub share_bp: i64,
}

/// The review lists (each at most 500 members; 200 leaving) and the settings they use.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewLists {
    pub settings: ReviewSettings,
    /// The members' negative balances by the time they have been negative, in the steps of
    /// the return-to-zero rule (five buckets, step 0 to 4).
    pub ageing: Vec<AgeingBucket>,
    /// Most used first.
    pub near_limit: Vec<NearLimitItem>,
    /// Members whose balance is at least `near_limit_pct` % of their upper limit; fullest
    /// first.
    pub near_max: Vec<NearMaxItem>,
    /// Longest first.
    pub negative_too_long: Vec<NegativeItem>,
    pub growing: Vec<GrowingItem>,
    /// Earliest first.
    pub reviews_due: Vec<DueItem>,
    /// Members that gave notice of departure and are not closed yet, oldest notice first.
    pub leaving: Vec<LeavingItem>,
}

/// The members to review (manager or accountant), as the `/admin/reviews` page lists them.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "manage",
    responses(
        (status = 200, description = "The review lists", body = ReviewLists),
        (status = 403, description = "Not a manage token of the network's manager or accountant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn lists(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<ReviewLists>> {
    let actor = auth.console_actor()?;
    actor.require_reader()?;
    let settings = settings::get(&state.store).await?;
    let lists = reviews::lists(&state.store, &actor, &settings, Utc::now()).await?;
    let leaving = crate::console::departures::leaving(&state.store, &actor).await?;
    Ok(Json(ReviewLists {
        settings: settings.into(),
        ageing: lists
            .ageing
            .iter()
            .map(|b| AgeingBucket {
                step: b.step,
                from_days: b.from_days,
                to_days: b.to_days,
                members: b.members,
                debt: money(b.debt),
                share_bp: b.share_bp,
            })
            .collect(),
        near_limit: lists
            .near_limit
            .iter()
            .map(|n| NearLimitItem {
                member: review_member(&n.row),
                used: money(n.used),
                used_pct: n.used_pct.min(9_999),
            })
            .collect(),
        near_max: lists
            .near_max
            .iter()
            .map(|n| NearMaxItem {
                member: review_member(&n.row),
                max_balance: n.row.account.max_balance().map(money).unwrap_or_default(),
                used_pct: n.used_pct.min(9_999),
            })
            .collect(),
        negative_too_long: lists
            .negative_too_long
            .iter()
            .map(|n| NegativeItem {
                member: review_member(&n.row),
                since: time(n.since),
                days: n.days,
            })
            .collect(),
        growing: lists
            .growing
            .iter()
            .map(|g| GrowingItem {
                member: review_member(&g.row),
                balances: g.balances.iter().map(|b| money(*b)).collect(),
            })
            .collect(),
        reviews_due: lists
            .reviews_due
            .iter()
            .map(|r| DueItem {
                member: review_member(r),
                next_review: r
                    .fields
                    .next_review
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        leaving: leaving
            .iter()
            .map(|l| LeavingItem {
                member: review_member_of(&l.member, &l.account),
                notice: super::departures::item(&l.departure),
                remaining: super::departures::remaining_item(&l.remaining),
            })
            .collect(),
    }))
}

/// Changes the review rules' settings (manager), logged as `settings.change`. A value out
/// of its range is refused (`validation_failed`, each such field named, code `out_of_range`).
#[utoipa::path(put, path = "/api/v1/reviews/settings", tag = "manage",
    request_body = ReviewSettings,
    responses(
        (status = 200, description = "Set: the settings as they are now", body = ReviewSettings),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value out of its range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_settings(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: ReviewSettings = types::json(&request.body)?;
        let new = Settings {
            near_limit_pct: input.near_limit_pct,
            negative_days: input.negative_days,
            growth_months: input.growth_months,
            turnover_share_bp: input.turnover_share_bp,
            sales_months: input.sales_months,
            sales_share_bp: input.sales_share_bp,
        };
        settings::update(&state.store, &actor, &new).await?;
        Written::ok(ReviewSettings::from(settings::get(&state.store).await?))
    })
    .await)
}
