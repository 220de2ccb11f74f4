//! `/admin/fund` (the fund's dashboard, stress test and history), and the default workflow:
//! `/admin/members/{id}/default` shows what a write-off would post and posts it;
//! `/admin/members/{id}/recovery` records money recovered from a written-off member.
//!
//! The write-off and recovery forms carry a random token: it is the operation's idempotency
//! key (`web-writeoff-MEMBER-TOKEN`, `web-recovery-MEMBER-TOKEN`), so a double click posts
//! once; a refused key stays refused, so a refusal redraws the form with a new token.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use ledger::fund::Absorption;
use ledger::{Amount, IdempotencyKey};
use serde::Deserialize;

use super::charts::{line_chart, LineChart};
use super::{actor, csv_response, or_dash, page_error, plain};
use crate::http::error::{AppError, AppResult};
use crate::http::i18n::{FieldError, Tr};
use crate::http::money::token_is_valid;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::network::fund::{self, DefaultPreview, WrittenOff, STRESS_K_DEFAULT, STRESS_K_MAX};
use crate::network::stats::{MonthFigures, STATS_MONTHS_DEFAULT, STATS_MONTHS_MAX};
use crate::network::{Access, Memo, NetworkError, Reason};
use crate::people::{self, Role};

#[derive(Debug, Default, Deserialize)]
pub struct FundQuery {
    #[serde(default)]
    k: String,
    #[serde(default)]
    months: String,
}

pub struct StressView {
    k: usize,
    debt: String,
    absorbed: String,
    uncovered: String,
    share: String,
    debtors: Vec<(String, String, String)>,
}

pub struct MonthView {
    label: String,
    fund: String,
    exposure: String,
}

pub struct WrittenOffView {
    member_id: i64,
    name: String,
    date: String,
    loss: String,
    from_fund: String,
    from_losses: String,
    recovered: String,
}

#[derive(Template)]
#[template(path = "net_fund.html")]
struct FundTemplate {
    c: Chrome,
    fund_balance: String,
    exposure: String,
    coverage: String,
    debtors: usize,
    losses: String,
    k_text: String,
    k_max: usize,
    k_error: Option<String>,
    stress: Option<StressView>,
    months_text: String,
    months_max: u32,
    months_error: Option<String>,
    chart: Option<LineChart>,
    history: Vec<MonthView>,
    written_off: Vec<WrittenOffView>,
    can_act: bool,
}

/// A count from a query string: the default when empty, an error message when not a number
/// in range.
fn count_param<T: std::str::FromStr + PartialOrd + Copy>(
    text: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    message: impl Fn() -> String,
) -> Result<T, String> {
    if text.trim().is_empty() {
        return Ok(default);
    }
    match text.trim().parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(message()),
    }
}

fn written_off_view(t: Tr, w: &WrittenOff) -> WrittenOffView {
    WrittenOffView {
        member_id: w.member.id,
        name: w.member.name.clone(),
        date: t.net_time(w.time),
        loss: t.lang.amount(w.absorption.loss),
        from_fund: t.lang.amount(w.absorption.from_fund),
        from_losses: t.lang.amount(w.absorption.from_losses),
        recovered: t.lang.amount(w.recovered),
    }
}

fn history_chart(t: Tr, months: &[MonthFigures]) -> Option<LineChart> {
    let labels: Vec<String> = months.iter().map(MonthFigures::label).collect();
    line_chart(
        t.lang,
        &labels,
        vec![
            (
                t.net_fund_balance(),
                "#1f6f3a",
                months.iter().map(|m| m.fund_balance.minor()).collect(),
            ),
            (
                t.net_exposure(),
                "#a4161a",
                months.iter().map(|m| m.exposure.minor()).collect(),
            ),
        ],
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<FundQuery>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Read)?;
    let t = auth.tr();
    let store = &state.store;
    let overview = fund::overview(store, &actor).await.map_err(page_error)?;
    let k = count_param(&query.k, STRESS_K_DEFAULT, 1..=STRESS_K_MAX, || {
        t.net_invalid(&crate::network::InvalidInput::StressCountOutOfRange { max: STRESS_K_MAX })
    });
    let months = count_param(
        &query.months,
        STATS_MONTHS_DEFAULT,
        1..=STATS_MONTHS_MAX,
        || {
            t.net_invalid(&crate::network::InvalidInput::MonthsOutOfRange {
                max: STATS_MONTHS_MAX,
            })
        },
    );
    let stress = match &k {
        Ok(k) => {
            let report = fund::stress(store, &actor, *k).await.map_err(page_error)?;
            Some(StressView {
                k: report.test.k,
                debt: t.lang.amount(report.test.debt),
                absorbed: t.lang.amount(report.test.absorbed_by_fund),
                uncovered: t.lang.amount(report.test.uncovered),
                share: or_dash(t, report.test.share_of_fund.map(|d| t.net_decimal(d))),
                debtors: report
                    .debtors
                    .iter()
                    .map(|d| {
                        let name = d
                            .member
                            .as_ref()
                            .map(|m| m.name.clone())
                            .unwrap_or_default();
                        let id = d
                            .member
                            .as_ref()
                            .map(|m| m.id.to_string())
                            .unwrap_or_default();
                        (id, name, t.lang.amount(d.debt))
                    })
                    .collect(),
            })
        }
        Err(_) => None,
    };
    let history = match &months {
        Ok(months) => fund::history(store, &actor, Utc::now(), *months)
            .await
            .map_err(page_error)?,
        Err(_) => Vec::new(),
    };
    let written_off = fund::written_off_members(store, &actor)
        .await
        .map_err(page_error)?;
    let failed = k.is_err() || months.is_err();
    let metrics = overview.metrics;
    let mut response = page(FundTemplate {
        c: auth.chrome(),
        fund_balance: t.lang.amount(metrics.fund_balance),
        exposure: t.lang.amount(metrics.exposure),
        coverage: or_dash(t, metrics.coverage_ratio.map(|d| t.net_decimal(d))),
        debtors: overview.debtors,
        losses: t.lang.amount(overview.losses),
        k_text: if query.k.is_empty() {
            STRESS_K_DEFAULT.to_string()
        } else {
            query.k.clone()
        },
        k_max: STRESS_K_MAX,
        k_error: k.err(),
        stress,
        months_text: if query.months.is_empty() {
            STATS_MONTHS_DEFAULT.to_string()
        } else {
            query.months.clone()
        },
        months_max: STATS_MONTHS_MAX,
        months_error: months.err(),
        chart: history_chart(t, &history),
        history: history
            .iter()
            .map(|m| MonthView {
                label: m.label(),
                fund: t.lang.amount(m.fund_balance),
                exposure: t.lang.amount(m.exposure),
            })
            .collect(),
        written_off: written_off.iter().map(|w| written_off_view(t, w)).collect(),
        can_act: auth.user.role == Role::Manager,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn history_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<FundQuery>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Read)?;
    let months = count_param(
        &query.months,
        STATS_MONTHS_DEFAULT,
        1..=STATS_MONTHS_MAX,
        String::new,
    )
    .map_err(|_| AppError::BadRequest)?;
    let history = fund::history(&state.store, &actor, Utc::now(), months)
        .await
        .map_err(page_error)?;
    let mut csv = String::from("month,fund_balance,exposure,money_supply,debtors\r\n");
    for m in &history {
        csv.push_str(&format!(
            "{},{},{},{},{}\r\n",
            m.label(),
            plain(m.fund_balance),
            plain(m.exposure),
            plain(m.money_supply),
            m.debtors
        ));
    }
    Ok(csv_response("troc-fund-history.csv", csv))
}

/// The default page's forms, echoed back on errors.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    token: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecoveryForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    token: String,
}

#[derive(Default)]
struct DefaultErrors {
    reason: Option<String>,
    refusal: Option<String>,
    amount: Option<String>,
    memo: Option<String>,
    recovery_refusal: Option<String>,
}

impl DefaultErrors {
    fn any(&self) -> bool {
        [
            &self.reason,
            &self.refusal,
            &self.amount,
            &self.memo,
            &self.recovery_refusal,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

pub struct AbsorptionView {
    loss: String,
    from_fund: String,
    from_losses: String,
    fund_after: String,
}

#[derive(Template)]
#[template(path = "net_default.html")]
struct DefaultTemplate {
    c: Chrome,
    member_id: i64,
    member_name: String,
    siren: String,
    balance: String,
    pending: String,
    status: &'static str,
    fund_balance: String,
    absorption: Option<AbsorptionView>,
    refused: Option<String>,
    written_off: Option<WrittenOffView>,
    form: DefaultForm,
    recovery: RecoveryForm,
    errors: DefaultErrors,
    notice: Option<&'static str>,
    reason_len_max: usize,
    memo_len_max: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct DefaultQuery {
    #[serde(default)]
    done: String,
}

fn member_id(text: &str) -> AppResult<i64> {
    text.parse().map_err(|_| AppError::NotFound)
}

fn absorption_view(t: Tr, a: &Absorption, fund_balance: Amount) -> AbsorptionView {
    AbsorptionView {
        loss: t.lang.amount(a.loss),
        from_fund: t.lang.amount(a.from_fund),
        from_losses: t.lang.amount(a.from_losses),
        fund_after: t.lang.amount(Amount::from_minor(
            fund_balance.minor() - a.from_fund.minor(),
        )),
    }
}

fn status_label(t: Tr, status: ledger::AccountStatus) -> &'static str {
    match status {
        ledger::AccountStatus::Active => t.net_account_active(),
        ledger::AccountStatus::Frozen => t.net_account_frozen(),
        ledger::AccountStatus::Closed => t.net_account_closed(),
    }
}

async fn draw_default(
    state: &AppState,
    auth: &Auth,
    id: i64,
    forms: (Option<DefaultForm>, Option<RecoveryForm>),
    errors: DefaultErrors,
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let actor = actor(auth, Access::Act)?;
    let t = auth.tr();
    let preview: DefaultPreview = fund::default_preview(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let (absorption, refused) = match &preview.absorption {
        Ok(a) => (Some(absorption_view(t, a, preview.fund_balance)), None),
        Err(rejection) => (None, Some(t.net_rejection(rejection))),
    };
    let fresh = || people::random_token();
    let mut form = forms.0.unwrap_or_default();
    if form.token.is_empty() {
        form.token = fresh();
    }
    let mut recovery = forms.1.unwrap_or_default();
    if recovery.token.is_empty() {
        recovery.token = fresh();
    }
    let failed = errors.any();
    let mut response = page(DefaultTemplate {
        c: auth.chrome(),
        member_id: preview.member.id,
        member_name: preview.member.name.clone(),
        siren: preview.member.siren.clone(),
        balance: t.lang.amount(preview.account.balance()),
        pending: t.lang.amount(preview.account.pending()),
        status: status_label(t, preview.account.status()),
        fund_balance: t.lang.amount(preview.fund_balance),
        absorption,
        refused,
        written_off: preview.written_off.as_ref().map(|w| written_off_view(t, w)),
        form,
        recovery,
        errors,
        notice,
        reason_len_max: fund::WRITE_OFF_REASON_LEN_MAX,
        memo_len_max: ledger::MEMO_LEN_MAX,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn default_page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(query): Query<DefaultQuery>,
) -> AppResult<Response> {
    actor(&auth, Access::Act)?;
    let t = auth.tr();
    let notice = match query.done.as_str() {
        "writeoff" => Some(t.net_written_off_done()),
        "recovery" => Some(t.net_recovery_done()),
        _ => None,
    };
    let id = member_id(&id)?;
    draw_default(
        &state,
        &auth,
        id,
        (None, None),
        DefaultErrors::default(),
        notice,
    )
    .await
}

pub async fn write_off(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Form(mut form): Form<DefaultForm>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Act)?;
    let id = member_id(&id)?;
    if !token_is_valid(&form.token) {
        return Err(AppError::BadRequest);
    }
    let t = auth.tr();
    let reason = match Reason::parse_within(&form.reason, fund::WRITE_OFF_REASON_LEN_MAX) {
        Ok(reason) => reason,
        Err(invalid) => {
            let errors = DefaultErrors {
                reason: Some(t.net_invalid(&invalid)),
                ..DefaultErrors::default()
            };
            return draw_default(&state, &auth, id, (Some(form), None), errors, None).await;
        }
    };
    let key = IdempotencyKey::new(format!("web-writeoff-{id}-{}", form.token))
        .map_err(|_| AppError::BadRequest)?;
    match fund::write_off(&state.store, &actor, id, &reason, key).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/members/{id}/default?done=writeoff")).into_response())
        }
        Err(NetworkError::Rejected(rejection)) => {
            // The key is spent: the corrected form gets a new one.
            form.token = String::new();
            let errors = DefaultErrors {
                refusal: Some(t.net_rejection(&rejection)),
                ..DefaultErrors::default()
            };
            draw_default(&state, &auth, id, (Some(form), None), errors, None).await
        }
        Err(NetworkError::Invalid(invalid)) => {
            let errors = DefaultErrors {
                reason: Some(t.net_invalid(&invalid)),
                ..DefaultErrors::default()
            };
            draw_default(&state, &auth, id, (Some(form), None), errors, None).await
        }
        Err(other) => Err(page_error(other)),
    }
}

pub async fn recovery(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Form(mut form): Form<RecoveryForm>,
) -> AppResult<Response> {
    let actor = actor(&auth, Access::Act)?;
    let id = member_id(&id)?;
    if !token_is_valid(&form.token) {
        return Err(AppError::BadRequest);
    }
    let t = auth.tr();
    let mut errors = DefaultErrors::default();
    let amount = Amount::parse_positive(&form.amount).ok();
    if amount.is_none() {
        errors.amount = Some(t.field_error(FieldError::InvalidAmount));
    }
    let memo = Memo::parse(&form.memo).map_err(|e| errors.memo = Some(t.net_invalid(&e)));
    let (Some(amount), Ok(memo)) = (amount, memo) else {
        return draw_default(&state, &auth, id, (None, Some(form)), errors, None).await;
    };
    let key = IdempotencyKey::new(format!("web-recovery-{id}-{}", form.token))
        .map_err(|_| AppError::BadRequest)?;
    match fund::record_recovery(&state.store, &actor, id, amount, &memo, key).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/members/{id}/default?done=recovery")).into_response())
        }
        Err(NetworkError::Rejected(rejection)) => {
            form.token = String::new();
            errors.recovery_refusal = Some(t.net_rejection(&rejection));
            draw_default(&state, &auth, id, (None, Some(form)), errors, None).await
        }
        Err(other) => Err(page_error(other)),
    }
}
