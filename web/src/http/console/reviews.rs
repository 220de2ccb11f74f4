//! `/admin/reviews`: the review lists (near the credit limit, near the upper limit, negative
//! too long, growing positive balances, reviews due) and the settings that define them.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{form_messages, manager, page_error, reader, see_other, unprocessable};
use crate::console::members::MemberRow;
use crate::console::reviews;
use crate::console::settings::{self, Settings};
use crate::console::ConsoleError;
use crate::http::error::AppResult;
use crate::http::i18n::Tr;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::people::Member;

pub struct Line {
    id: i64,
    name: String,
    balance: String,
    credit_limit: String,
    detail: String,
}

fn line(t: Tr, row: &MemberRow, detail: String) -> Line {
    line_of(t, &row.member, &row.account, detail)
}

fn line_of(t: Tr, member: &Member, account: &ledger::Account, detail: String) -> Line {
    Line {
        id: member.id,
        name: member.name.clone(),
        balance: t.lang.amount(account.balance()),
        credit_limit: t.lang.amount(account.credit_limit()),
        detail,
    }
}

/// A member leaving: when it gave notice, and what still blocks its closing (or that
/// nothing does).
fn leaving_line(t: Tr, l: &crate::console::departures::Leaving) -> Line {
    let blocking = crate::http::departure::blocking(t, &l.remaining);
    let left = if blocking.is_empty() {
        t.dep_nothing_left().to_owned()
    } else {
        blocking.join(" ; ")
    };
    let detail = format!("{} · {left}", super::time_text(l.departure.created_at));
    line_of(t, &l.member, &l.account, detail)
}

/// A row of the ageing of the negative balances.
pub struct AgeingLine {
    step: String,
    days: String,
    members: i64,
    debt: String,
    share: String,
}

fn ageing_line(t: Tr, b: &crate::zero::Bucket) -> AgeingLine {
    let step = match b.step {
        0 => t.con_ageing_step_none().to_owned(),
        crate::zero::STEPS => format!("{} · {}", b.step, t.con_ageing_step_past()),
        _ => format!("{} · {} / 4", b.step, b.step),
    };
    let days = match b.to_days {
        Some(to) if to < b.from_days => "–".to_owned(),
        Some(to) => format!("{} – {to}", b.from_days),
        None => format!("≥ {}", b.from_days),
    };
    AgeingLine {
        step,
        days,
        members: b.members,
        debt: t.lang.amount(b.debt),
        share: crate::http::money::percent(t.lang, u32::try_from(b.share_bp).unwrap_or(0)),
    }
}

#[derive(Template)]
#[template(path = "console/reviews.html")]
struct ReviewsTemplate {
    c: Chrome,
    settings: Settings,
    ageing: Vec<AgeingLine>,
    near: Vec<Line>,
    near_max: Vec<Line>,
    /// Members that gave notice and are not closed yet.
    leaving: Vec<Line>,
    negative: Vec<Line>,
    growing: Vec<Line>,
    due: Vec<Line>,
    messages: Vec<String>,
    can_act: bool,
}

async fn draw(state: &AppState, auth: &Auth, failure: Option<ConsoleError>) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let store = &state.store;
    let settings = settings::get(store).await.map_err(page_error)?;
    let now = chrono::Utc::now();
    let lists = reviews::lists(store, &actor, &settings, now)
        .await
        .map_err(page_error)?;
    let ageing = lists.ageing.iter().map(|b| ageing_line(t, b)).collect();
    let near = lists
        .near_limit
        .iter()
        .map(|n| {
            line(
                t,
                &n.row,
                format!("{} ({} %)", t.lang.amount(n.used), n.used_pct.min(9_999)),
            )
        })
        .collect();
    let near_max = lists
        .near_max
        .iter()
        .map(|n| {
            let max = n.row.account.max_balance().unwrap_or(ledger::Amount::ZERO);
            line(
                t,
                &n.row,
                format!("{} ({} %)", t.lang.amount(max), n.used_pct.min(9_999)),
            )
        })
        .collect();
    let leaving = crate::console::departures::leaving(store, &actor)
        .await
        .map_err(page_error)?
        .iter()
        .map(|l| leaving_line(t, l))
        .collect();
    let negative = lists
        .negative_too_long
        .iter()
        .map(|n| {
            line(
                t,
                &n.row,
                format!("{} ({} j)", n.since.format("%Y-%m-%d"), n.days),
            )
        })
        .collect();
    let growing = lists
        .growing
        .iter()
        .map(|g| {
            let balances: Vec<String> = g.balances.iter().map(|b| t.lang.amount(*b)).collect();
            line(t, &g.row, balances.join(" → "))
        })
        .collect();
    let due = lists
        .reviews_due
        .iter()
        .map(|r| {
            let date = r
                .fields
                .next_review
                .map(|d| d.to_string())
                .unwrap_or_default();
            line(t, r, date)
        })
        .collect();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let failed = !messages.is_empty();
    let response = page(ReviewsTemplate {
        c: auth.chrome(),
        settings,
        ageing,
        near,
        near_max,
        leaving,
        negative,
        growing,
        due,
        messages,
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, None).await
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    near_limit_pct: String,
    negative_days: String,
    growth_months: String,
    turnover_share_bp: String,
    sales_months: String,
    sales_share_bp: String,
}

pub async fn settings(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    // A number that does not parse is out of every range.
    let n = |text: &str| text.trim().parse::<i64>().unwrap_or(-1);
    let new = Settings {
        near_limit_pct: n(&form.near_limit_pct),
        negative_days: n(&form.negative_days),
        growth_months: n(&form.growth_months),
        turnover_share_bp: n(&form.turnover_share_bp),
        sales_months: n(&form.sales_months),
        sales_share_bp: n(&form.sales_share_bp),
    };
    match settings::update(&state.store, &actor, &new).await {
        Ok(()) => Ok(see_other("/admin/reviews")),
        Err(error) => draw(&state, &auth, Some(error)).await,
    }
}
