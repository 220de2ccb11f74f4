//! Logging in and out, password change, language choice and invitation links.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Lang};
use super::session::{self, Auth, Ctx};
use super::templates::{page, Chrome};
use super::AppState;
use crate::people::{self, Role, PASSWORD_LEN_MAX, PASSWORD_LEN_MIN, PROFILE_FIELD_LEN_MAX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/notices", post(set_notices))
        .route(
            "/invitation/{token}",
            get(invitation_page).post(accept_invitation),
        )
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    c: Chrome,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    match ctx.user().map(|u| u.role) {
        Some(Role::Owner | Role::Staff | Role::MemberAccountant) => {
            Ok(Redirect::to("/dashboard").into_response())
        }
        Some(Role::Manager | Role::Accountant) => Ok(Redirect::to("/admin").into_response()),
        None => {
            // The footer's language form needs a CSRF token, hence a session.
            let (csrf, cookie) = session::ensure_session(&state, &ctx).await?;
            let template = HomeTemplate {
                c: ctx.chrome().with_csrf(&csrf),
            };
            Ok(session::with_cookie(page(template)?, cookie))
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    c: Chrome,
    email: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct LoginQuery {
    /// Set by `/password/reset/{token}` for a user with two-step login: the new password
    /// is saved, the login (with its code) is still to do.
    reset: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> AppResult<Response> {
    if ctx.user().is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let (csrf, cookie) = session::ensure_session(&state, &ctx).await?;
    let template = LoginTemplate {
        c: ctx.chrome().with_csrf(&csrf),
        email: String::new(),
        error: None,
        notice: query.reset.map(|_| ctx.tr().reset_log_in_with_code()),
    };
    Ok(session::with_cookie(page(template)?, cookie))
}

/// The login page again, with `error` (401): a wrong password, or a second step that must
/// start again.
pub fn login_refused(ctx: &Ctx, email: String, error: &'static str) -> AppResult<Response> {
    let template = LoginTemplate {
        c: ctx.chrome(),
        email,
        error: Some(error),
        notice: None,
    };
    let mut response = page(template)?;
    *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let email = people::normalize_email(&form.email);
    let now = people::now_unix();
    let t = ctx.tr();
    let refuse = |error: &'static str| login_refused(&ctx, form.email.clone(), error);
    let blocked = state.login_limiter.blocked(&email, now);
    if email.len() > people::EMAIL_LEN_MAX || blocked.is_some() {
        let mut response = refuse(t.login_throttled())?;
        *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        if let Some(retry) = blocked {
            let (name, value) = super::limits::retry_after_header(retry);
            response.headers_mut().insert(name, value);
        }
        return Ok(response);
    }
    let found = people::find_login(&state.store, &email).await?;
    let password = form.password.clone();
    let (user, ok) = match found {
        Some((user, hash)) => {
            // argon2 is deliberately slow: keep it off the async workers.
            let ok = tokio::task::spawn_blocking(move || people::verify_password(&password, &hash))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            (Some(user), ok)
        }
        None => {
            tokio::task::spawn_blocking(move || {
                people::verify_password(&password, people::decoy_hash())
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
            (None, false)
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        state.login_limiter.record(&email, now);
        return refuse(t.login_failed());
    };
    // With two-step login, the password opens only the second step: no session yet, a
    // challenge that the code page carries (`two_step::login_code`). The limiter is cleared
    // when the code is accepted.
    if crate::totp::required(&state.store, user.id).await? {
        let challenge = crate::totp::begin_challenge(&state.store, user.id, now).await?;
        return super::two_step::code_page(&ctx, challenge, None);
    }
    state.login_limiter.clear(&email);
    // A new session on login: the anonymous one (and its CSRF token) is dropped, so a
    // session id planted before login is worthless after it.
    if let Some(old) = &ctx.session {
        people::delete_session(&state.store, &old.token_hash).await?;
    }
    let token = people::create_session(&state.store, Some(user.id)).await?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::session_cookie(&state, &token));
    Ok(response)
}

async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(session) = &ctx.session {
        people::delete_session(&state.store, &session.token_hash).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::clear_session_cookie(&state));
    Ok(response)
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
}

async fn set_lang(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LangForm>,
) -> AppResult<Response> {
    let lang = Lang::parse(&form.lang).ok_or(AppError::BadRequest)?;
    if let Some(user) = ctx.user() {
        people::set_lang(&state.store, user.id, lang.code()).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::lang_cookie(&state, lang));
    Ok(response)
}

#[derive(Default)]
struct PasswordErrors {
    current: Option<String>,
    new: Option<String>,
    confirm: Option<String>,
    display_name: Option<String>,
}

impl PasswordErrors {
    fn any(&self) -> bool {
        self.current.is_some()
            || self.new.is_some()
            || self.confirm.is_some()
            || self.display_name.is_some()
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTemplate {
    c: Chrome,
    email: String,
    notice: Option<&'static str>,
    errors: PasswordErrors,
    /// Which e-mails the user gets; `None` when the server sends no e-mail (the form is not
    /// shown).
    notices: Option<people::MailChoices>,
}

/// The user's choice of e-mails, for the account page (`None` without e-mail).
async fn notices_of(state: &AppState, auth: &Auth) -> AppResult<Option<people::MailChoices>> {
    if state.mail.is_none() {
        return Ok(None);
    }
    Ok(Some(
        people::mail_choices(&state.store, auth.user.id).await?,
    ))
}

#[derive(Deserialize)]
struct AccountQuery {
    /// Set by `/password/reset/{token}` after a new password was saved.
    reset: Option<String>,
}

async fn account_page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<AccountQuery>,
) -> AppResult<Response> {
    page(AccountTemplate {
        c: auth.chrome(),
        email: auth.user.email.clone(),
        notice: query.reset.map(|_| auth.tr().reset_sessions_closed()),
        errors: PasswordErrors::default(),
        notices: notices_of(&state, &auth).await?,
    })
}

/// One box per kind of e-mail: `on` when ticked, absent otherwise.
#[derive(Deserialize)]
struct NoticesForm {
    #[serde(default)]
    mail_notices: Option<String>,
    #[serde(default)]
    mail_receipts: Option<String>,
    #[serde(default)]
    mail_listings: Option<String>,
    #[serde(default)]
    mail_statements: Option<String>,
}

/// A ticked box (`on`), an unticked one (absent), or a forged form.
fn ticked(value: Option<&str>) -> AppResult<bool> {
    match value {
        None => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(AppError::BadRequest),
    }
}

async fn set_notices(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<NoticesForm>,
) -> AppResult<Response> {
    let choices = people::MailChoices {
        notices: ticked(form.mail_notices.as_deref())?,
        receipts: ticked(form.mail_receipts.as_deref())?,
        listings: ticked(form.mail_listings.as_deref())?,
        statements: ticked(form.mail_statements.as_deref())?,
    };
    people::set_mail_choices(&state.store, auth.user.id, choices).await?;
    page(AccountTemplate {
        c: auth.chrome(),
        email: auth.user.email.clone(),
        notice: Some(auth.tr().saved()),
        errors: PasswordErrors::default(),
        notices: notices_of(&state, &auth).await?,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// Checks a new password and its confirmation.
fn check_new_password(ctx: &Ctx, new: &str, confirm: &str, errors: &mut PasswordErrors) {
    let t = ctx.tr();
    if new.chars().count() < PASSWORD_LEN_MIN {
        errors.new = Some(t.field_error(FieldError::PasswordTooShort {
            min: PASSWORD_LEN_MIN,
        }));
    } else if new.len() > PASSWORD_LEN_MAX {
        errors.new = Some(t.field_error(FieldError::TooLong {
            max: PASSWORD_LEN_MAX,
        }));
    } else if new != confirm {
        errors.confirm = Some(t.field_error(FieldError::PasswordMismatch));
    }
}

async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut errors = PasswordErrors::default();
    check_new_password(&auth.ctx, &form.new, &form.confirm, &mut errors);
    let hash = people::password_hash_of(&state.store, auth.user.id).await?;
    let current = form.current.clone();
    let current_ok = tokio::task::spawn_blocking(move || people::verify_password(&current, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !current_ok {
        errors.current = Some(auth.tr().field_error(FieldError::PasswordWrong));
    }
    let notice = if errors.any() {
        None
    } else {
        people::set_password(&state.store, auth.user.id, &form.new, &auth.session_hash).await?;
        Some(auth.tr().password_changed())
    };
    let status = if errors.any() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let notices = notices_of(&state, &auth).await?;
    let mut response = page(AccountTemplate {
        c: auth.chrome(),
        email: auth.user.email.clone(),
        notice,
        errors,
        notices,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationTemplate {
    c: Chrome,
    token: String,
    email: String,
    display_name: String,
    errors: PasswordErrors,
}

/// Invitation tokens are 64 hex characters; anything else is not looked up.
fn token_is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn invitation_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if !token_is_well_formed(&token) {
        return Err(AppError::NotFound);
    }
    let invitation = people::find_invitation(&state.store, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    let (csrf, cookie) = session::ensure_session(&state, &ctx).await?;
    let template = InvitationTemplate {
        c: ctx.chrome().with_csrf(&csrf),
        token,
        email: invitation.email,
        display_name: String::new(),
        errors: PasswordErrors::default(),
    };
    Ok(session::with_cookie(page(template)?, cookie))
}

#[derive(Deserialize)]
struct AcceptForm {
    display_name: String,
    new: String,
    confirm: String,
}

async fn accept_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    if !token_is_well_formed(&token) {
        return Err(AppError::NotFound);
    }
    let invitation = people::find_invitation(&state.store, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = PasswordErrors::default();
    let display_name = form.display_name.trim();
    if display_name.is_empty() {
        errors.display_name = Some(ctx.tr().field_error(FieldError::Required));
    } else if display_name.chars().count() > PROFILE_FIELD_LEN_MAX {
        errors.display_name = Some(ctx.tr().field_error(FieldError::TooLong {
            max: PROFILE_FIELD_LEN_MAX,
        }));
    }
    check_new_password(&ctx, &form.new, &form.confirm, &mut errors);
    if errors.any() {
        let mut response = page(InvitationTemplate {
            c: ctx.chrome(),
            token,
            email: invitation.email,
            display_name: form.display_name.clone(),
            errors,
        })?;
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let user_id = people::accept_invitation(&state.store, &token, &form.new, display_name)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(old) = &ctx.session {
        people::delete_session(&state.store, &old.token_hash).await?;
    }
    let session_token = people::create_session(&state.store, Some(user_id)).await?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::session_cookie(&state, &session_token));
    Ok(response)
}
