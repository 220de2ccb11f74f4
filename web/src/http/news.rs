//! `/news`: the network's announcements (docs/web.md, "Announcements"; `crate::news`). Every
//! logged-in user reads them; a manager publishes (`POST /news`) and withdraws
//! (`POST /news/{id}/withdraw`, with a reason) on the same page. The members' dashboards
//! show the current ones (`money::dashboard`, through [`views`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::console::{form_messages, manager, page_error, unprocessable};
use super::error::{AppError, AppResult};
use super::i18n::Tr;
use super::session::Auth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::ConsoleError;
use crate::news::{self, Announcement, NewAnnouncement};
use crate::people::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/news", get(show).post(publish))
        .route("/news/{id}/withdraw", post(withdraw))
}

super::i18n::catalogue! {
    news_title => "Annonces du réseau", "Network announcements";
    news_none => "Aucune annonce.", "No announcement.";
    news_more => "Lire la suite", "Read more";
    news_until => "affichée jusqu'au", "shown until";
    news_withdrawn => "Retirée", "Withdrawn";
    news_publish => "Publier une annonce", "Publish an announcement";
    news_publish_help => "Chaque membre la lit sur son tableau de bord jusqu'au dernier jour choisi, puis sur cette page. Elle est publiée au nom du réseau et inscrite au journal.", "Every member reads it on its dashboard until the last day chosen, then on this page. It is published in the network's name and logged.";
    news_title_field => "Titre", "Title";
    news_message => "Message", "Message";
    news_shown_until => "Affichée jusqu'au", "Shown until";
    news_publish_button => "Publier", "Publish";
    news_withdraw => "Retirer", "Withdraw";
    news_reason => "Motif", "Reason";
}

/// Characters of an announcement's text a dashboard shows before « Lire la suite ».
pub const EXCERPT_LEN: usize = 280;

/// An announcement as the pages show it.
pub struct NewsView {
    pub id: i64,
    pub title: String,
    pub message: String,
    /// The first [`EXCERPT_LEN`] characters (the dashboard's).
    pub excerpt: String,
    pub cut: bool,
    pub published: String,
    pub author: String,
    pub shown_until: String,
    pub current: bool,
    pub withdrawn: Option<(String, String)>,
}

fn view(t: Tr, a: Announcement, today: NaiveDate) -> NewsView {
    let current = a.is_current(today);
    let cut = a.message.chars().count() > EXCERPT_LEN;
    let excerpt = if cut {
        let mut text: String = a.message.chars().take(EXCERPT_LEN).collect();
        text.push('…');
        text
    } else {
        a.message.clone()
    };
    NewsView {
        id: a.id,
        title: a.title,
        message: a.message,
        excerpt,
        cut,
        published: super::console::time_text(a.published_at),
        author: a.author,
        shown_until: super::accounting::day(t.lang, a.shown_until),
        current,
        withdrawn: a
            .withdrawn
            .map(|(at, reason)| (super::console::time_text(at), reason)),
    }
}

/// The announcements shown today, for a dashboard.
pub(crate) async fn views(state: &AppState, t: Tr) -> AppResult<Vec<NewsView>> {
    let today = Utc::now().date_naive();
    let current = news::current(&state.store, today).await?;
    Ok(current.into_iter().map(|a| view(t, a, today)).collect())
}

#[derive(Default, Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    shown_until: String,
}

#[derive(Template)]
#[template(path = "news.html")]
struct NewsTemplate {
    c: Chrome,
    items: Vec<NewsView>,
    can_act: bool,
    values: PublishForm,
    shown_until_max: String,
    messages: Vec<String>,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    values: Option<PublishForm>,
    failure: Option<ConsoleError>,
) -> AppResult<Response> {
    let t = auth.tr();
    let today = Utc::now().date_naive();
    let items = news::listed(&state.store)
        .await?
        .into_iter()
        .map(|a| view(t, a, today))
        .collect();
    let failed = failure.is_some();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let values = values.unwrap_or_else(|| PublishForm {
        shown_until: (today + Duration::days(30)).to_string(),
        ..PublishForm::default()
    });
    let response = page(NewsTemplate {
        c: auth.chrome(),
        items,
        can_act: auth.user.role == Role::Manager,
        values,
        shown_until_max: (today + Duration::days(news::SHOWN_DAYS_MAX)).to_string(),
        messages,
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, None, None).await
}

async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let new = NewAnnouncement {
        title: form.title.clone(),
        message: form.message.clone(),
        shown_until: form.shown_until.clone(),
    };
    let today = Utc::now().date_naive();
    match news::publish(&state.store, &actor, &new, today).await {
        Ok(id) => Ok(Redirect::to(&format!("/news#news-{id}")).into_response()),
        Err(error @ (ConsoleError::Invalid(_) | ConsoleError::Conflict(_))) => {
            draw(&state, &auth, Some(form), Some(error)).await
        }
        Err(error) => Err(page_error(error)),
    }
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    reason: String,
}

async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<WithdrawForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match news::withdraw(&state.store, &actor, id, &form.reason).await {
        Ok(()) => Ok(Redirect::to("/news").into_response()),
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error @ (ConsoleError::Invalid(_) | ConsoleError::Conflict(_))) => {
            draw(&state, &auth, None, Some(error)).await
        }
        Err(error) => Err(page_error(error)),
    }
}
