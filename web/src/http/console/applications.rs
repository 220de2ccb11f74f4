//! Applications: the public form `/apply` (anyone; an anonymous session carries its CSRF
//! token) and the managers' pages to approve or refuse them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{
    form_messages, manager, optional_amount, page_error, reader, time_text, unprocessable,
};
use crate::console::applications::{
    self as console_applications, Application, ApplicationForm, ApplicationStatus, ApprovalInput,
};
use crate::console::categories::{self, Category};
use crate::console::{ConsoleError, Field, Problem};
use crate::http::error::{AppError, AppResult};
use crate::http::i18n::Tr;
use crate::http::market::sectors;
use crate::http::session::{ensure_session, with_cookie, Auth, Ctx};
use crate::http::templates::{page, Chrome};
use crate::http::AppState;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApplyValues {
    #[serde(default)]
    name: String,
    #[serde(default)]
    siren: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    turnover: String,
    #[serde(default)]
    message: String,
}

#[derive(Template)]
#[template(path = "console/apply.html")]
struct ApplyTemplate {
    c: Chrome,
    values: ApplyValues,
    messages: Vec<String>,
    sectors: Vec<(&'static str, String)>,
    done: bool,
}

async fn apply_page(
    state: &AppState,
    ctx: &Ctx,
    values: ApplyValues,
    messages: Vec<String>,
    done: bool,
) -> AppResult<Response> {
    let (csrf, cookie) = ensure_session(state, ctx).await?;
    let failed = !messages.is_empty();
    let response = page(ApplyTemplate {
        c: ctx.chrome().with_csrf(&csrf),
        values,
        messages,
        sectors: sectors(ctx.tr()),
        done,
    })?;
    let response = with_cookie(response, cookie);
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn apply_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    apply_page(&state, &ctx, ApplyValues::default(), Vec::new(), false).await
}

pub async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(values): Form<ApplyValues>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let turnover = match optional_amount(&values.turnover) {
        Ok(turnover) => turnover,
        Err(()) => {
            let error = ConsoleError::invalid(Field::Turnover, Problem::InvalidAmount);
            return apply_page(&state, &ctx, values, t.con_messages(&error), false).await;
        }
    };
    let form = ApplicationForm {
        name: values.name.clone(),
        siren: values.siren.clone(),
        email: values.email.clone(),
        contact: values.contact.clone(),
        address: values.address.clone(),
        city: values.city.clone(),
        postcode: values.postcode.clone(),
        sector: values.sector.clone(),
        description: values.description.clone(),
        declared_turnover: turnover,
        message: values.message.clone(),
    };
    match console_applications::apply(&state.store, &form).await {
        Ok(_) => apply_page(&state, &ctx, ApplyValues::default(), Vec::new(), true).await,
        Err(error) => {
            let messages = form_messages(t, error)?;
            apply_page(&state, &ctx, values, messages, false).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

pub struct Row {
    id: i64,
    name: String,
    siren: String,
    city: String,
    received: String,
    status: &'static str,
}

fn status_label(t: Tr, status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Pending => t.con_pending(),
        ApplicationStatus::Approved => t.con_approved(),
        ApplicationStatus::Refused => t.con_refused(),
    }
}

#[derive(Template)]
#[template(path = "console/applications.html")]
struct ListTemplate {
    c: Chrome,
    rows: Vec<Row>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let t = auth.tr();
    let status = ApplicationStatus::parse(&query.status);
    let rows = console_applications::list(&state.store, &actor, status)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|a| Row {
            id: a.id,
            received: time_text(a.created_at),
            status: status_label(t, a.status),
            name: a.form.name,
            siren: a.form.siren,
            city: a.form.city,
        })
        .collect();
    page(ListTemplate {
        c: auth.chrome(),
        rows,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionValues {
    #[serde(default)]
    category: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "console/application.html")]
struct PageTemplate {
    c: Chrome,
    a: Application,
    status: &'static str,
    pending: bool,
    received: String,
    turnover: String,
    categories: Vec<Category>,
    values: DecisionValues,
    messages: Vec<String>,
    link: Option<String>,
    /// The link was also e-mailed to the applicant.
    mailed: bool,
    can_act: bool,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    id: i64,
    values: DecisionValues,
    failure: Option<ConsoleError>,
    link: Option<(String, crate::http::Emailed)>,
) -> AppResult<Response> {
    let mailed = link.as_ref().map(|l| l.1) == Some(crate::http::Emailed::Yes);
    let link = link.map(|l| l.0);
    let actor = reader(auth)?;
    let t = auth.tr();
    let a = console_applications::get(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let failed = !messages.is_empty();
    let response = page(PageTemplate {
        c: auth.chrome(),
        status: status_label(t, a.status),
        pending: a.status == ApplicationStatus::Pending,
        received: time_text(a.created_at),
        turnover: a
            .form
            .declared_turnover
            .map(|x| t.lang.amount(x))
            .unwrap_or_default(),
        a,
        categories: categories::list(&state.store).await.map_err(page_error)?,
        values,
        messages,
        link,
        mailed,
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    draw(&state, &auth, id, DecisionValues::default(), None, None).await
}

pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<DecisionValues>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let parsed = (
        optional_amount(&values.credit_limit),
        optional_amount(&values.max_balance),
    );
    let (Ok(credit_limit), Ok(max_balance)) = parsed else {
        let error = ConsoleError::invalid(Field::CreditLimit, Problem::InvalidAmount);
        return draw(&state, &auth, id, values, Some(error), None).await;
    };
    let input = ApprovalInput {
        category: Some(values.category.clone()),
        credit_limit,
        max_balance,
        reason: values.reason.clone(),
    };
    match console_applications::approve(&state.store, &actor, id, &input).await {
        Ok(created) => {
            let emailed = crate::http::mail_new_owners(
                &state,
                auth.tr().lang,
                &auth.user.display_name,
                std::slice::from_ref(&created),
            )
            .await?;
            let link = created.invitation.link(state.config.base_url());
            draw(
                &state,
                &auth,
                id,
                DecisionValues::default(),
                None,
                Some((link, emailed)),
            )
            .await
        }
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => draw(&state, &auth, id, values, Some(error), None).await,
    }
}

pub async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<DecisionValues>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match console_applications::refuse(&state.store, &actor, id, &values.reason).await {
        Ok(()) => Ok(super::see_other(&format!("/admin/applications/{id}"))),
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => draw(&state, &auth, id, values, Some(error), None).await,
    }
}
