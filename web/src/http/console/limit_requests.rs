//! `/admin/limit-requests`: the members' limit requests (`console::limit_requests`). The
//! list (by status); one request's page with the member's figures, its message and the
//! suggested limit, and the manager's two forms: grant (each limit asked, the amount asked
//! or another, with a reason) and decline (with a reason). Accountants read; their posts
//! answer 403.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{
    form_messages, manager, optional_amount, page_error, reader, see_other, unprocessable,
};
use crate::console::limit_requests::{self, Grant, LimitRequestStatus};
use crate::console::members::member_view;
use crate::console::suggest;
use crate::console::{ConsoleError, Field, Problem};
use crate::http::credit::RequestLine;
use crate::http::error::{AppError, AppResult};
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

pub struct Row {
    line: RequestLine,
    member_id: i64,
    member: String,
}

#[derive(Template)]
#[template(path = "console/limit_requests.html")]
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
    let status = LimitRequestStatus::parse(&query.status);
    let found = limit_requests::list(&state.store, &actor, status)
        .await
        .map_err(page_error)?;
    let names = crate::console::members::names(&state.store)
        .await
        .map_err(page_error)?;
    let rows = found
        .iter()
        .map(|r| Row {
            line: RequestLine::of(t, r),
            member_id: r.member_id,
            member: names.get(&r.member_id).cloned().unwrap_or_default(),
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
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "console/limit_request.html")]
struct PageTemplate {
    c: Chrome,
    r: RequestLine,
    pending: bool,
    member_id: i64,
    member: String,
    balance: String,
    limit_now: String,
    max_balance: String,
    suggested: String,
    sales: String,
    values: DecisionValues,
    messages: Vec<String>,
    can_act: bool,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    id: i64,
    values: DecisionValues,
    failure: Option<ConsoleError>,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let store = &state.store;
    let request = limit_requests::get(store, &actor, id)
        .await
        .map_err(page_error)?;
    let view = member_view(store, &actor, request.member_id)
        .await
        .map_err(page_error)?;
    let suggestion = suggest::suggest(store, &actor, request.member_id, chrono::Utc::now())
        .await
        .map_err(page_error)?;
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let failed = !messages.is_empty();
    let pending = request.status == LimitRequestStatus::Pending;
    // A new page offers each amount asked; a refused form keeps what was typed.
    let values = if pending && !failed {
        DecisionValues {
            credit_limit: if request.asks_credit_limit() {
                t.lang.amount(request.credit_limit_asked)
            } else {
                String::new()
            },
            max_balance: request
                .max_balance_asked
                .map(|m| t.lang.amount(m))
                .unwrap_or_default(),
            ..values
        }
    } else {
        values
    };
    let response = page(PageTemplate {
        c: auth.chrome(),
        r: RequestLine::of(t, &request),
        pending,
        member_id: view.member.id,
        member: view.member.name.clone(),
        balance: t.lang.amount(view.account.balance()),
        limit_now: t.lang.amount(view.account.credit_limit()),
        max_balance: super::amount_text(t, view.account.max_balance()),
        suggested: suggestion
            .suggested
            .map(|s| t.lang.amount(s))
            .unwrap_or_else(|| t.con_no_suggestion().to_owned()),
        sales: t.lang.amount(suggestion.sales),
        values,
        messages,
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
    draw(&state, &auth, id, DecisionValues::default(), None).await
}

pub async fn grant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<DecisionValues>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let Ok(credit_limit) = optional_amount(&values.credit_limit) else {
        let error = ConsoleError::invalid(Field::CreditLimit, Problem::InvalidAmount);
        return draw(&state, &auth, id, values, Some(error)).await;
    };
    let Ok(max_balance) = optional_amount(&values.max_balance) else {
        let error = ConsoleError::invalid(Field::MaxBalance, Problem::InvalidAmount);
        return draw(&state, &auth, id, values, Some(error)).await;
    };
    let decision = Grant {
        credit_limit,
        max_balance,
        reason: values.reason.clone(),
    };
    match limit_requests::grant(&state.store, &actor, id, &decision).await {
        Ok(_) => Ok(see_other(&format!("/admin/limit-requests/{id}"))),
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => draw(&state, &auth, id, values, Some(error)).await,
    }
}

pub async fn decline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<DecisionValues>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match limit_requests::decline(&state.store, &actor, id, &values.reason).await {
        Ok(_) => Ok(see_other(&format!("/admin/limit-requests/{id}"))),
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => draw(&state, &auth, id, values, Some(error)).await,
    }
}
