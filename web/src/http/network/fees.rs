//! `/admin/fees`: the fee policy's history, what is in force and announced, and the form that
//! schedules a change (managers; accountants read).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use ledger::{Amount, FundPayer, FEE_BP_MAX};
use serde::Deserialize;

use super::{actor, page_error};
use crate::http::error::AppResult;
use crate::http::i18n::{FieldError, Tr};
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::network::fees::{self, FeeChange, FeeVersion, VersionStatus};
use crate::network::{Access, InvalidInput, NetworkError, Reason, REASON_LEN_MAX};
use crate::store::Effective;

/// A version as the pages show it.
pub struct VersionView {
    pub version: u64,
    pub status: &'static str,
    pub status_code: &'static str,
    pub effective: String,
    pub commission_rate: String,
    pub commission_min: String,
    pub fund_rate: String,
    pub fund_payer: &'static str,
    pub actor: String,
    pub reason: String,
    pub recorded: String,
}

fn status_label(t: Tr, status: VersionStatus) -> &'static str {
    match status {
        VersionStatus::Past => t.net_past(),
        VersionStatus::InForce => t.net_in_force(),
        VersionStatus::Upcoming => t.net_upcoming(),
        VersionStatus::Superseded => t.net_superseded(),
    }
}

pub fn payer_label(t: Tr, payer: FundPayer) -> &'static str {
    match payer {
        FundPayer::Buyer => t.net_buyer(),
        FundPayer::Seller => t.net_seller(),
    }
}

pub fn version_view(t: Tr, version: &FeeVersion) -> VersionView {
    let record = &version.record;
    let fees = record.version.policy.fees;
    VersionView {
        version: record.version.version,
        status: status_label(t, version.status),
        status_code: version.status.as_str(),
        effective: record
            .version
            .effective_from
            .map(|time| t.net_time(time))
            .unwrap_or_else(|| t.net_since_beginning().to_owned()),
        commission_rate: t.net_percent(fees.commission_bp()),
        commission_min: t.lang.amount(fees.commission_min()),
        fund_rate: t.net_percent(fees.fund_bp()),
        fund_payer: payer_label(t, fees.fund_payer()),
        actor: record.actor.clone(),
        reason: record.reason.clone(),
        recorded: t.net_time(record.created_at),
    }
}

/// The form, echoed back on errors.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeeForm {
    #[serde(default)]
    commission_rate: String,
    #[serde(default)]
    commission_min: String,
    #[serde(default)]
    fund_rate: String,
    #[serde(default)]
    fund_payer: String,
    #[serde(default)]
    effective_mode: String,
    #[serde(default)]
    effective_at: String,
    #[serde(default)]
    reason: String,
}

#[derive(Default)]
pub struct FeeErrors {
    commission_rate: Option<String>,
    commission_min: Option<String>,
    fund_rate: Option<String>,
    fund_payer: Option<String>,
    effective: Option<String>,
    reason: Option<String>,
}

impl FeeErrors {
    fn any(&self) -> bool {
        [
            &self.commission_rate,
            &self.commission_min,
            &self.fund_rate,
            &self.fund_payer,
            &self.effective,
            &self.reason,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

#[derive(Template)]
#[template(path = "net_fees.html")]
struct FeesTemplate {
    c: Chrome,
    versions: Vec<VersionView>,
    can_act: bool,
    values: FeeForm,
    errors: FeeErrors,
    notice: Option<&'static str>,
    reason_len_max: usize,
}

#[derive(Deserialize)]
pub struct FeesQuery {
    #[serde(default)]
    done: String,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    values: Option<FeeForm>,
    errors: FeeErrors,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let actor = actor(auth, Access::Read)?;
    let t = auth.tr();
    let history = fees::history(&state.store, &actor, Utc::now())
        .await
        .map_err(page_error)?;
    let values = values.unwrap_or_else(|| default_form(&history));
    let failed = errors.any();
    let mut response = page(FeesTemplate {
        c: auth.chrome(),
        versions: history.iter().map(|v| version_view(t, v)).collect(),
        can_act: auth.user.role == crate::people::Role::Manager,
        values,
        errors,
        notice,
        reason_len_max: REASON_LEN_MAX,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The form starts from the latest version's rules, effective tomorrow at midnight UTC.
fn default_form(history: &[FeeVersion]) -> FeeForm {
    let latest = history.first().map(|v| v.record.version.policy.fees);
    let bp = |bp: u32| Amount::from_minor(i64::from(bp)).to_plain();
    let tomorrow = (Utc::now() + Duration::days(1))
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .unwrap_or_else(Utc::now);
    FeeForm {
        commission_rate: latest.map(|f| bp(f.commission_bp())).unwrap_or_default(),
        commission_min: latest
            .map(|f| f.commission_min().to_plain())
            .unwrap_or_default(),
        fund_rate: latest.map(|f| bp(f.fund_bp())).unwrap_or_default(),
        fund_payer: latest
            .map(|f| f.fund_payer().as_str().to_owned())
            .unwrap_or_default(),
        effective_mode: "at".into(),
        effective_at: tomorrow.format("%Y-%m-%dT%H:%M").to_string(),
        reason: String::new(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<FeesQuery>,
) -> AppResult<Response> {
    let notice = (!query.done.is_empty()).then(|| auth.tr().net_change_scheduled());
    draw(&state, &auth, None, FeeErrors::default(), notice).await
}

/// A rate in per cent with at most two decimals, as basis points.
fn rate(t: Tr, text: &str) -> Result<u32, String> {
    let amount =
        Amount::parse_signed(text).map_err(|_| t.field_error(FieldError::InvalidAmount))?;
    if amount.is_negative() {
        return Err(t.field_error(FieldError::InvalidAmount));
    }
    match u32::try_from(amount.minor()) {
        Ok(bp) if bp <= FEE_BP_MAX => Ok(bp),
        _ => Err(t.net_invalid(&InvalidInput::RateTooHigh { max: FEE_BP_MAX })),
    }
}

/// `YYYY-MM-DDTHH:MM` (a `datetime-local` field), read as UTC.
fn effective(t: Tr, form: &FeeForm) -> Result<Effective, String> {
    match form.effective_mode.as_str() {
        "now" => Ok(Effective::Now),
        "at" => {
            let text = form.effective_at.trim();
            let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                .map_err(|_| t.field_error(FieldError::InvalidDate))?;
            let at: DateTime<Utc> = Utc.from_utc_datetime(&parsed);
            Ok(Effective::At(at))
        }
        _ => Err(t.field_error(FieldError::InvalidChoice)),
    }
}

pub async fn schedule(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<FeeForm>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Act)?;
    let t = auth.tr();
    let mut errors = FeeErrors::default();
    let commission = rate(t, &form.commission_rate).map_err(|e| errors.commission_rate = Some(e));
    let fund = rate(t, &form.fund_rate).map_err(|e| errors.fund_rate = Some(e));
    let minimum = Amount::parse_signed(&form.commission_min)
        .ok()
        .filter(|a| !a.is_negative());
    if minimum.is_none() {
        errors.commission_min = Some(t.field_error(FieldError::InvalidAmount));
    }
    let payer = FundPayer::parse(&form.fund_payer);
    if payer.is_none() {
        errors.fund_payer = Some(t.field_error(FieldError::InvalidChoice));
    }
    let effective = effective(t, &form).map_err(|e| errors.effective = Some(e));
    let reason = Reason::parse(&form.reason).map_err(|e| errors.reason = Some(t.net_invalid(&e)));
    let (Ok(commission), Ok(fund), Some(minimum), Some(payer), Ok(effective), Ok(reason)) =
        (commission, fund, minimum, payer, effective, reason)
    else {
        return draw(&state, &auth, Some(form), errors, None).await;
    };
    let fees = match fees::fee_policy(commission, minimum, fund, payer) {
        Ok(fees) => fees,
        Err(invalid) => {
            errors.commission_rate = Some(t.net_invalid(&invalid));
            return draw(&state, &auth, Some(form), errors, None).await;
        }
    };
    let change = FeeChange::new(fees, effective, reason);
    match fees::schedule_change(&state.store, &actor, &change).await {
        Ok(_) => Ok(Redirect::to("/admin/fees?done=1").into_response()),
        Err(NetworkError::Schedule(error)) => {
            errors.effective = Some(t.net_schedule_error(&error));
            draw(&state, &auth, Some(form), errors, None).await
        }
        Err(NetworkError::Invalid(invalid)) => {
            errors.reason = Some(t.net_invalid(&invalid));
            draw(&state, &auth, Some(form), errors, None).await
        }
        Err(other) => Err(page_error(other)),
    }
}
