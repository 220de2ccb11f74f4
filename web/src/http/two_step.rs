//! Two-step login on the account's pages (docs/web.md, "Two-step login"): a user turns on a
//! code from an authenticator app after its password (`/account/two-step`), and the login's
//! second step (`POST /login/code`, after `POST /login` accepted the password). The codes
//! and their records are `crate::totp`.
//!
//! Not here: API tokens, which are their own secrets and skip this step (a token is made by
//! a user already logged in, or by the operator).

use askama::Template;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::session::{self, Auth, Ctx};
use super::templates::{page, Chrome};
use super::AppState;
use crate::people;
use crate::totp;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/two-step", get(show))
        .route("/account/two-step/start", post(start))
        .route("/account/two-step/qr.svg", get(qr))
        .route("/account/two-step/confirm", post(confirm))
        .route("/account/two-step/disable", post(disable))
        .route("/login/code", post(login_code))
}

super::i18n::catalogue! {
    two_step_title => "Connexion en deux étapes", "Two-step login";
    two_step_intro => "Après votre mot de passe, Troc vous demandera un code à six chiffres donné par une application d'authentification (FreeOTP, Aegis, Google Authenticator...) sur votre téléphone : votre mot de passe seul ne suffit plus pour entrer dans votre compte.", "After your password, Troc will ask for a six-digit code from an authenticator app (FreeOTP, Aegis, Google Authenticator...) on your phone: your password alone no longer opens your account.";
    two_step_on => "Activée : un code vous est demandé à chaque connexion.", "On: a code is asked at each login.";
    two_step_off => "Désactivée.", "Off.";
    two_step_start => "Activer la connexion en deux étapes", "Turn on two-step login";
    two_step_scan => "Scannez ce code QR avec votre application, ou saisissez-y cette clé, puis donnez le code qu'elle affiche :", "Scan this QR code with your app, or type this key in it, then give the code it shows:";
    two_step_key => "Clé", "Key";
    two_step_code => "Code à six chiffres", "Six-digit code";
    two_step_confirm => "Vérifier et activer", "Check and turn on";
    two_step_wrong => "Code incorrect : vérifiez l'heure de votre téléphone et donnez le code affiché maintenant.", "Wrong code: check your phone's clock and give the code it shows now.";
    two_step_enabled => "Connexion en deux étapes activée.", "Two-step login turned on.";
    two_step_codes => "Vos codes de secours, chacun valable une fois si vous perdez votre téléphone. Notez-les maintenant : ils ne seront plus affichés.", "Your recovery codes, each good once if you lose your phone. Write them down now: they will not be shown again.";
    two_step_left => "Codes de secours restants", "Recovery codes left";
    two_step_disable => "Désactiver", "Turn off";
    two_step_disable_help => "Pour la désactiver, donnez votre mot de passe et un code de l'application (ou un code de secours).", "To turn it off, give your password and a code from the app (or a recovery code).";
    two_step_disabled => "Connexion en deux étapes désactivée.", "Two-step login turned off.";
    two_step_refused => "Mot de passe ou code incorrect : rien n'a changé.", "Wrong password or code: nothing changed.";
    login_code_title => "Code de connexion", "Login code";
    login_code_intro => "Votre mot de passe est correct. Donnez le code affiché par votre application d'authentification, ou l'un de vos codes de secours.", "Your password is right. Give the code your authenticator app shows, or one of your recovery codes.";
    login_code_wrong => "Code incorrect.", "Wrong code.";
    reset_log_in_with_code => "Mot de passe enregistré. Vos autres sessions ont été fermées. Connectez-vous avec lui, puis le code de votre application.", "Password saved. Your other sessions were closed. Log in with it, then the code of your app.";
    two_step_due => "Votre réseau demande la connexion en deux étapes pour votre compte : activez-la pour continuer (les autres pages restent fermées d'ici là).", "Your network requires two-step login for your account: turn it on to go on (the other pages stay closed until then).";
    two_step_kept => "Votre réseau demande la connexion en deux étapes pour votre compte : elle ne peut pas être désactivée. Si vous perdez votre téléphone et vos codes de secours, le gestionnaire du réseau peut la désactiver, et vous la réactiverez à votre connexion suivante.", "Your network requires two-step login for your account: it cannot be turned off. If you lose your phone and your recovery codes, the network's manager can turn it off, and you will turn it on again at your next login.";
    two_step_kept_refused => "Rien n'a changé : votre réseau demande la connexion en deux étapes pour votre compte.", "Nothing changed: your network requires two-step login for your account.";
    login_code_again => "Trop d'essais, ou plus de cinq minutes : reconnectez-vous avec votre mot de passe.", "Too many tries, or more than five minutes: log in again with your password.";
}

#[derive(Template)]
#[template(path = "two_step.html")]
struct TwoStepTemplate {
    c: Chrome,
    enabled: bool,
    /// The network requires it of this user: it cannot be turned off.
    required: bool,
    recovery_left: i64,
    /// Setting up: the key, as an app's manual entry takes it (its QR code is
    /// `/account/two-step/qr.svg`).
    setup: Option<String>,
    /// Just turned on: the recovery codes, shown this once.
    codes: Vec<String>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// The QR code of `uri` as an SVG document; an empty one if it cannot be made (the key
/// shown beside it still works).
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#.to_owned(),
    }
}

/// The key grouped by four, as apps show it.
fn grouped(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    setup: Option<totp::Secret>,
    codes: Vec<String>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> AppResult<Response> {
    let status = totp::status(&state.store, auth.user.id).await?;
    let required = totp::rule(&state.store).await?.covers(auth.user.role);
    let setup = setup.map(|secret| grouped(&secret.to_base32()));
    let mut response = page(TwoStepTemplate {
        c: auth.chrome(),
        enabled: status.enabled,
        required,
        recovery_left: status.recovery_left,
        setup,
        codes,
        notice,
        error,
    })?;
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The QR code of the secret being set up, as an SVG image (the page shows it with an
/// `<img>` of the site: no markup of it enters the page). 404 when nothing is being set up.
async fn qr(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let Some(secret) = totp::status(&state.store, auth.user.id).await?.pending else {
        return Err(AppError::NotFound);
    };
    let issuer = state
        .store
        .network_name()
        .await?
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Troc".to_owned());
    let svg = qr_svg(&secret.uri(&issuer, &auth.user.email));
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "private, no-store"),
        ],
        svg,
    )
        .into_response())
}

/// Tells the user by e-mail that its two-step login changed, when the server sends e-mail
/// (a full outbox drops the notice: the change is made either way).
pub(crate) async fn tell(
    state: &AppState,
    email: &str,
    lang: &str,
    change: crate::mail::TwoStepChange,
) -> AppResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let now = people::now_unix();
    let when = chrono::DateTime::from_timestamp(now, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let lang = super::i18n::Lang::parse(lang).unwrap_or(super::i18n::Lang::Fr);
    let mail = crate::mail::two_step_changed(lang, email, &when, change)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let _ = crate::mail::enqueue(&state.store, &mail, now).await?;
    Ok(())
}

async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, None, Vec::new(), None, None).await
}

/// A new secret to set up (it replaces one being set up; one in force stays until the new
/// one is confirmed).
async fn start(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    if totp::required(&state.store, auth.user.id).await? {
        return Ok(Redirect::to("/account/two-step").into_response());
    }
    let secret = totp::start(&state.store, auth.user.id).await?;
    draw(&state, &auth, Some(secret), Vec::new(), None, None).await
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn confirm(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let t = auth.tr();
    let now = people::now_unix();
    match totp::confirm(&state.store, auth.user.id, &form.code, now).await? {
        Some(codes) => {
            tracing::info!(user = auth.user.id, "two-step login turned on");
            let on = crate::mail::TwoStepChange::On;
            tell(&state, &auth.user.email, &auth.user.lang, on).await?;
            draw(&state, &auth, None, codes, Some(t.two_step_enabled()), None).await
        }
        None => {
            // The same secret again, to try another code.
            let pending = totp::status(&state.store, auth.user.id).await?.pending;
            draw(
                &state,
                &auth,
                pending,
                Vec::new(),
                None,
                Some(t.two_step_wrong()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<DisableForm>,
) -> AppResult<Response> {
    let t = auth.tr();
    if totp::rule(&state.store).await?.covers(auth.user.role) {
        let kept = Some(t.two_step_kept_refused());
        return draw(&state, &auth, None, Vec::new(), None, kept).await;
    }
    let password_ok = if form.password.len() > people::PASSWORD_LEN_MAX {
        false
    } else {
        let hash = people::password_hash_of(&state.store, auth.user.id).await?;
        let password = form.password.clone();
        tokio::task::spawn_blocking(move || people::verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    };
    // The code is checked (and used up) only after the password.
    let code_ok = password_ok
        && totp::verify(&state.store, auth.user.id, &form.code, people::now_unix())
            .await?
            .is_some();
    if !code_ok {
        let refused = Some(t.two_step_refused());
        return draw(&state, &auth, None, Vec::new(), None, refused).await;
    }
    totp::disable(&state.store, auth.user.id).await?;
    tracing::info!(user = auth.user.id, "two-step login turned off");
    let off = crate::mail::TwoStepChange::Off;
    tell(&state, &auth.user.email, &auth.user.lang, off).await?;
    draw(
        &state,
        &auth,
        None,
        Vec::new(),
        Some(t.two_step_disabled()),
        None,
    )
    .await
}

#[derive(Template)]
#[template(path = "login_code.html")]
pub struct LoginCodeTemplate {
    pub c: Chrome,
    pub challenge: String,
    pub error: Option<&'static str>,
}

/// The second step's page, for a challenge just begun (`POST /login` accepted the
/// password) or after a wrong code.
pub fn code_page(ctx: &Ctx, challenge: String, error: Option<&'static str>) -> AppResult<Response> {
    let mut response = page(LoginCodeTemplate {
        c: ctx.chrome(),
        challenge,
        error,
    })?;
    if error.is_some() {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LoginCodeForm {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    code: String,
}

/// The login's second step: the code of the challenge `POST /login` began. Accepted, the
/// user is logged in on a new session; wrong, the page asks again (5 tries in 5 minutes,
/// each counted by the login rate limit too); past that, back to the password.
async fn login_code(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginCodeForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let now = people::now_unix();
    let Some(user_id) = totp::challenge_user(&state.store, &form.challenge, now).await? else {
        return super::auth::login_refused(&ctx, String::new(), t.login_code_again());
    };
    let Some(user) = people::user(&state.store, user_id).await? else {
        return super::auth::login_refused(&ctx, String::new(), t.login_code_again());
    };
    let blocked = state.login_limiter.blocked(&user.email, now);
    if blocked.is_some() {
        return super::auth::login_refused(&ctx, user.email, t.login_throttled());
    }
    let accepted = totp::verify(&state.store, user_id, &form.code, now).await?;
    // The challenge ends with its first accepted code: a second request with it finds
    // nothing to end.
    let Some(accepted) = accepted else {
        state.login_limiter.record(&user.email, now);
        if totp::challenge_failed(&state.store, &form.challenge).await? {
            return code_page(&ctx, form.challenge, Some(t.login_code_wrong()));
        }
        return super::auth::login_refused(&ctx, user.email, t.login_code_again());
    };
    if !totp::end_challenge(&state.store, &form.challenge).await? {
        return super::auth::login_refused(&ctx, user.email, t.login_code_again());
    }
    state.login_limiter.clear(&user.email);
    if let Some(old) = &ctx.session {
        people::delete_session(&state.store, &old.token_hash).await?;
    }
    let token = people::create_session(&state.store, Some(user.id)).await?;
    let target = match accepted {
        totp::Accepted::App => "/",
        totp::Accepted::Recovery => "/account/two-step",
    };
    let mut response = Redirect::to(target).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, session::session_cookie(&state, &token));
    Ok(response)
}
