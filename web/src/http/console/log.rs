//! `/admin/log`: the action log, filterable by action, actor, member and period, in keyset
//! pages (newest first), and its CSV export with the same filters. Managers and the
//! network's accountants read it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{csv_response, page_error, reader, time_text, unprocessable};
use crate::console::history::{actions, actions_csv};
use crate::console::members;
use crate::http::error::AppResult;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::store::ActionFilter;

/// Entries on one page of the log.
pub const LOG_PAGE_SIZE: i64 = 50;
/// Longest action or actor filter, in characters.
pub const LOG_FILTER_LEN_MAX: usize = 254;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

/// The store's filter from the query; `Err` with the problem words when a filter is wrong.
fn filter_of(query: &LogQuery) -> Result<ActionFilter, ()> {
    let text = |s: &str| {
        let s = s.trim();
        if s.chars().count() > LOG_FILTER_LEN_MAX {
            Err(())
        } else {
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
    };
    let day = |s: &str| -> Result<Option<i64>, ()> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ())?;
        Ok(Some(
            date.and_hms_opt(0, 0, 0).ok_or(())?.and_utc().timestamp(),
        ))
    };
    let member = match query.member.trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| ())?),
    };
    Ok(ActionFilter {
        action: text(&query.action)?,
        actor: text(&query.actor)?.map(|a| a.to_lowercase()),
        member_id: member,
        from: day(&query.from)?,
        to: day(&query.to)?,
        before_id: query.before,
    })
}

pub struct Entry {
    id: i64,
    time: String,
    actor: String,
    action: String,
    member_id: Option<i64>,
    member: String,
    reason: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "console/log.html")]
struct LogTemplate {
    c: Chrome,
    query: LogQuery,
    entries: Vec<Entry>,
    next: Option<String>,
    csv: String,
    invalid: bool,
}

fn query_string(query: &LogQuery, before: Option<i64>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("action", &query.action)
        .append_pair("actor", &query.actor)
        .append_pair("member", &query.member)
        .append_pair("from", &query.from)
        .append_pair("to", &query.to);
    if let Some(before) = before {
        s.append_pair("before", &before.to_string());
    }
    s.finish()
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<LogQuery>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let Ok(filter) = filter_of(&query) else {
        let response = page(LogTemplate {
            c: auth.chrome(),
            csv: query_string(&query, None),
            query,
            entries: Vec::new(),
            next: None,
            invalid: true,
        })?;
        return Ok(unprocessable(response));
    };
    let mut found = actions(&state.store, &actor, &filter, LOG_PAGE_SIZE + 1)
        .await
        .map_err(page_error)?;
    let more = found.len() as i64 > LOG_PAGE_SIZE;
    found.truncate(LOG_PAGE_SIZE as usize);
    let names: HashMap<i64, String> = members::names(&state.store).await.map_err(page_error)?;
    let next = more
        .then(|| found.last().map(|e| query_string(&query, Some(e.id))))
        .flatten();
    let entries = found
        .into_iter()
        .map(|e| Entry {
            id: e.id,
            time: time_text(e.time.timestamp()),
            member: e
                .member_id
                .and_then(|m| names.get(&m).cloned())
                .unwrap_or_default(),
            member_id: e.member_id,
            actor: e.actor,
            action: e.action,
            reason: e.reason,
            before: e.before.to_string(),
            after: e.after.to_string(),
        })
        .collect();
    page(LogTemplate {
        c: auth.chrome(),
        csv: query_string(&query, None),
        query,
        entries,
        next,
        invalid: false,
    })
}

pub async fn csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<LogQuery>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let mut filter = filter_of(&query).map_err(|_| crate::http::AppError::BadRequest)?;
    filter.before_id = None;
    let body = actions_csv(&state.store, &actor, &filter)
        .await
        .map_err(page_error)?;
    Ok(csv_response("troc-journal.csv", body))
}
