//! Forgotten passwords: `/password/forgot` e-mails a one-time link to the address of an
//! account (when the server sends e-mail), `/password/reset/{token}` sets the new password.
//! A manager makes such a link from the console (`console::member::reset_link`).
//!
//! The answer to `/password/forgot` is the same whether or not an account uses the address,
//! so that the page does not tell who is a member. Both routes count as login attempts for
//! the per-IP limit (`limits::LOGIN_ROUTES`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Lang};
use super::session::{self, Ctx};
use super::templates::{page, Chrome};
use super::AppState;
use crate::people::{self, PASSWORD_LEN_MAX, PASSWORD_LEN_MIN};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset/{token}", get(reset_page).post(reset))
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotTemplate {
    c: Chrome,
    /// Whether the server sends e-mail (otherwise the page says whom to ask).
    mail: bool,
    email: String,
    error: Option<String>,
    sent: bool,
}

async fn forgot_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let (csrf, cookie) = session::ensure_session(&state, &ctx).await?;
    let template = ForgotTemplate {
        c: ctx.chrome().with_csrf(&csrf),
        mail: state.mail.is_some(),
        email: String::new(),
        error: None,
        sent: false,
    };
    Ok(session::with_cookie(page(template)?, cookie))
}

#[derive(Deserialize)]
struct ForgotForm {
    email: String,
}

async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let email = people::normalize_email(&form.email);
    let mail = state.mail.is_some();
    let error = if email.chars().count() > people::EMAIL_LEN_MAX {
        Some(ctx.tr().field_error(FieldError::TooLong {
            max: people::EMAIL_LEN_MAX,
        }))
    } else if !people::email_is_valid(&email) {
        Some(ctx.tr().field_error(FieldError::InvalidEmail))
    } else {
        None
    };
    if let Some(error) = error {
        let mut response = page(ForgotTemplate {
            c: ctx.chrome(),
            mail,
            email: form.email.clone(),
            error: Some(error),
            sent: false,
        })?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    if mail {
        let now = people::now_unix();
        if let Some(user) = people::user_by_email(&state.store, &email).await? {
            if let Some(token) = people::create_password_reset(&state.store, user.id, now).await? {
                let link = format!("{}/password/reset/{token}", state.config.base_url());
                let lang = Lang::parse(&user.lang).unwrap_or(Lang::Fr);
                let message = crate::mail::password_reset(
                    lang,
                    &user.email,
                    &link,
                    people::RESET_TTL_SECONDS / 60,
                    crate::mail::AskedBy::User,
                )
                .map_err(|e| AppError::Internal(e.to_string()))?;
                // A full outbox drops the e-mail (logged, counted): the answer stays the same.
                let _ = crate::mail::enqueue(&state.store, &message, now).await?;
            }
        }
    }
    page(ForgotTemplate {
        c: ctx.chrome(),
        mail,
        email: String::new(),
        error: None,
        sent: mail,
    })
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetTemplate {
    c: Chrome,
    token: String,
    /// Empty when the link no longer works.
    email: String,
    new_error: Option<String>,
    confirm_error: Option<String>,
}

/// Reset tokens are 64 hex characters; anything else is not looked up.
fn token_is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The page of a link that no longer works (used, expired or unknown): 404, with the way to
/// ask for another.
fn gone(ctx: &Ctx) -> AppResult<Response> {
    let mut response = page(ResetTemplate {
        c: ctx.chrome(),
        token: String::new(),
        email: String::new(),
        new_error: None,
        confirm_error: None,
    })?;
    *response.status_mut() = StatusCode::NOT_FOUND;
    Ok(response)
}

async fn reset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if !token_is_well_formed(&token) {
        return gone(&ctx);
    }
    let Some(user) = people::find_password_reset(&state.store, &token, people::now_unix()).await?
    else {
        return gone(&ctx);
    };
    let (csrf, cookie) = session::ensure_session(&state, &ctx).await?;
    let template = ResetTemplate {
        c: ctx.chrome().with_csrf(&csrf),
        token,
        email: user.email,
        new_error: None,
        confirm_error: None,
    };
    Ok(session::with_cookie(page(template)?, cookie))
}

#[derive(Deserialize)]
struct ResetForm {
    new: String,
    confirm: String,
}

async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    if !token_is_well_formed(&token) {
        return gone(&ctx);
    }
    let now = people::now_unix();
    let Some(user) = people::find_password_reset(&state.store, &token, now).await? else {
        return gone(&ctx);
    };
    let t = ctx.tr();
    let (mut new_error, mut confirm_error) = (None, None);
    if form.new.chars().count() < PASSWORD_LEN_MIN {
        new_error = Some(t.field_error(FieldError::PasswordTooShort {
            min: PASSWORD_LEN_MIN,
        }));
    } else if form.new.len() > PASSWORD_LEN_MAX {
        new_error = Some(t.field_error(FieldError::TooLong {
            max: PASSWORD_LEN_MAX,
        }));
    } else if form.new != form.confirm {
        confirm_error = Some(t.field_error(FieldError::PasswordMismatch));
    }
    if new_error.is_some() || confirm_error.is_some() {
        let mut response = page(ResetTemplate {
            c: ctx.chrome(),
            token,
            email: user.email,
            new_error,
            confirm_error,
        })?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    // argon2 is deliberately slow: keep it off the async workers.
    let password = form.new.clone();
    let hash = tokio::task::spawn_blocking(move || people::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(user) = people::use_password_reset(&state.store, &token, &hash, now).await? else {
        return gone(&ctx);
    };
    state.login_limiter.clear(&user.email);
    if state.mail.is_some() {
        let when = chrono::DateTime::from_timestamp(now, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let lang = Lang::parse(&user.lang).unwrap_or(Lang::Fr);
        let notice = crate::mail::password_changed(lang, &user.email, &when)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let _ = crate::mail::enqueue(&state.store, &notice, now).await?;
    }
    // With two-step login, a link by e-mail does not stand for the code: the user logs in
    // with its new password and a code.
    if crate::totp::required(&state.store, user.id).await? {
        return Ok(Redirect::to("/login?reset=1").into_response());
    }
    // Logged in on a new session: the anonymous one (and its CSRF token) is dropped.
    if let Some(old) = &ctx.session {
        people::delete_session(&state.store, &old.token_hash).await?;
    }
    let session_token = people::create_session(&state.store, Some(user.id)).await?;
    let mut response = Redirect::to("/account?reset=1").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::session_cookie(&state, &session_token));
    Ok(response)
}
