//! API tokens in the web UI (`/settings/tokens`): create one (name and scope; the token is
//! shown once, only its hash is stored), list them, revoke one. Forms carry the CSRF token
//! like every form (the session middleware checks it).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::session::Auth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::people::now_unix;
use crate::tokens::{
    self, Lifetime, Scope, TokenError, TokenState, TOKENS_PER_USER_MAX,
    TOKEN_LIFETIME_DAYS_DEFAULT, TOKEN_LIFETIME_DAYS_MAX, TOKEN_NAME_LEN_MAX,
};

/// The lifetimes the form proposes, in days (any other from 1 to
/// `TOKEN_LIFETIME_DAYS_MAX` is accepted too), besides "never".
const LIFETIME_CHOICES_DAYS: [i64; 4] = [7, 30, TOKEN_LIFETIME_DAYS_DEFAULT, 365];
/// The form's value for a token that never expires.
const LIFETIME_NEVER: &str = "never";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/tokens", get(tokens_page).post(create))
        .route("/settings/tokens/{id}/revoke", post(revoke))
}

pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub scope: &'static str,
    pub created: String,
    pub last_used: String,
    /// The expiry date, or "never".
    pub expires: String,
    /// "revoked" or "expired" (translated); empty while the token works.
    pub ended: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensTemplate {
    c: Chrome,
    tokens: Vec<TokenView>,
    scopes: Vec<(&'static str, &'static str)>,
    /// The token just created: shown once.
    created: Option<String>,
    error: Option<String>,
    name: String,
    name_max: usize,
    /// (value, label, selected) of the lifetime choices.
    lifetimes: Vec<(String, String, bool)>,
}

pub(super) fn day_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    status: StatusCode,
    created: Option<String>,
    error: Option<String>,
    name: String,
    lifetime: &str,
) -> AppResult<Response> {
    let t = auth.tr();
    let rows = tokens::of_user(&state.store, auth.user.id).await?;
    let now = now_unix();
    let tokens = rows
        .into_iter()
        .map(|r| {
            let state = r.state(now);
            TokenView {
                id: r.id,
                scope: t.token_scope(r.scope),
                created: day_time(r.created_at),
                last_used: r.last_used_at.map(day_time).unwrap_or_else(|| "—".into()),
                expires: r
                    .expires_at
                    .map(day_time)
                    .unwrap_or_else(|| t.token_never().to_owned()),
                ended: match state {
                    TokenState::Active => "",
                    TokenState::Expired => t.token_expired(),
                    TokenState::Revoked => t.token_revoked(),
                },
                active: state == TokenState::Active,
                name: r.name,
            }
        })
        .collect();
    let mut lifetimes: Vec<(String, String, bool)> = LIFETIME_CHOICES_DAYS
        .iter()
        .map(|days| (days.to_string(), t.token_days(*days), false))
        .collect();
    lifetimes.push((LIFETIME_NEVER.to_owned(), t.token_never().to_owned(), false));
    // The choice just made stays selected after a refusal; the default otherwise.
    let default = TOKEN_LIFETIME_DAYS_DEFAULT.to_string();
    let chosen = if lifetimes.iter().any(|(v, _, _)| v == lifetime) {
        lifetime
    } else {
        default.as_str()
    };
    for choice in &mut lifetimes {
        choice.2 = choice.0 == chosen;
    }
    let scopes = tokens::scopes_for(auth.user.role)
        .iter()
        .map(|s| (s.as_str(), t.token_scope(*s)))
        .collect();
    let mut response = page(TokensTemplate {
        c: auth.chrome(),
        tokens,
        scopes,
        created,
        error,
        name,
        name_max: TOKEN_NAME_LEN_MAX,
        lifetimes,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn tokens_page(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, StatusCode::OK, None, None, String::new(), "").await
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    /// Days (1 to `TOKEN_LIFETIME_DAYS_MAX`) or "never"; absent: the default.
    lifetime: Option<String>,
}

/// The form's lifetime: absent is the default, "never" is unlimited, else whole days.
fn lifetime_of(field: Option<&str>) -> Result<Lifetime, TokenError> {
    match field.map(str::trim) {
        None => Lifetime::days(TOKEN_LIFETIME_DAYS_DEFAULT),
        Some(LIFETIME_NEVER) => Ok(Lifetime::UNLIMITED),
        Some(days) => days
            .parse::<i64>()
            .map_err(|_| TokenError::InvalidLifetime)
            .and_then(Lifetime::days),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<NewToken>,
) -> AppResult<Response> {
    let t = auth.tr();
    let refused = |message: String| (StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    let lifetime = lifetime_of(form.lifetime.as_deref());
    let outcome = match (Scope::parse(&form.scope), lifetime) {
        (None, _) => Err(refused(t.token_scope_invalid().to_owned())),
        (_, Err(_)) => Err(refused(t.token_lifetime_invalid(TOKEN_LIFETIME_DAYS_MAX))),
        (Some(scope), Ok(lifetime)) => {
            match tokens::create(&state.store, &auth.user, &form.name, scope, lifetime).await {
                Ok((_, token)) => Ok(token),
                Err(TokenError::InvalidName) => {
                    Err(refused(t.token_name_invalid(TOKEN_NAME_LEN_MAX)))
                }
                Err(TokenError::ScopeNotAllowed(_)) => {
                    Err(refused(t.token_scope_invalid().to_owned()))
                }
                Err(TokenError::TooMany) => Err(refused(t.token_too_many(TOKENS_PER_USER_MAX))),
                Err(TokenError::InvalidLifetime) => {
                    Err(refused(t.token_lifetime_invalid(TOKEN_LIFETIME_DAYS_MAX)))
                }
                Err(TokenError::Store(error)) => return Err(AppError::Store(error)),
            }
        }
    };
    match outcome {
        Ok(token) => {
            draw(
                &state,
                &auth,
                StatusCode::OK,
                Some(token),
                None,
                String::new(),
                "",
            )
            .await
        }
        Err((status, message)) => {
            let lifetime = form.lifetime.unwrap_or_default();
            draw(&state, &auth, status, None, message, form.name, &lifetime).await
        }
    }
}

async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !tokens::revoke(&state.store, auth.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/settings/tokens").into_response())
}

impl Tr {
    pub fn tokens_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Jetons d'API",
            Lang::En => "API tokens",
        }
    }

    pub fn tokens_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Un jeton permet à un programme d'utiliser l'API JSON en votre nom \
                         (en-tête Authorization: Bearer). Il n'est affiché qu'une fois : \
                         seule son empreinte est conservée."
            }
            Lang::En => {
                "A token lets a program use the JSON API on your behalf \
                         (Authorization: Bearer header). It is shown only once: only its \
                         hash is kept."
            }
        }
    }

    pub fn token_scope(&self, scope: Scope) -> &'static str {
        match (self.lang, scope) {
            (Lang::Fr, Scope::Read) => "lecture",
            (Lang::Fr, Scope::Pay) => "paiements",
            (Lang::Fr, Scope::Manage) => "gestion",
            (Lang::En, Scope::Read) => "read",
            (Lang::En, Scope::Pay) => "pay",
            (Lang::En, Scope::Manage) => "manage",
        }
    }

    pub fn token_created(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Votre nouveau jeton — copiez-le maintenant, il ne sera plus affiché :",
            Lang::En => "Your new token — copy it now, it will not be shown again:",
        }
    }

    pub fn token_name(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Nom",
            Lang::En => "Name",
        }
    }

    pub fn token_scope_label(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Portée",
            Lang::En => "Scope",
        }
    }

    pub fn token_create(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Créer un jeton",
            Lang::En => "Create a token",
        }
    }

    pub fn token_revoke(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Révoquer",
            Lang::En => "Revoke",
        }
    }

    pub fn token_revoked(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "révoqué",
            Lang::En => "revoked",
        }
    }

    pub fn token_created_at(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Créé",
            Lang::En => "Created",
        }
    }

    pub fn token_last_used(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Dernière utilisation",
            Lang::En => "Last used",
        }
    }

    pub fn tokens_none(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Aucun jeton.",
            Lang::En => "No token.",
        }
    }

    pub fn token_scope_invalid(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Choisissez une portée permise à votre rôle.",
            Lang::En => "Choose a scope your role may hold.",
        }
    }

    pub fn token_name_invalid(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => format!("Donnez un nom de 1 à {max} caractères."),
            Lang::En => format!("Give a name of 1 to {max} characters."),
        }
    }

    pub fn token_lifetime_label(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Expire",
            Lang::En => "Expires",
        }
    }

    pub fn token_never(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "jamais",
            Lang::En => "never",
        }
    }

    pub fn token_expired(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "expiré",
            Lang::En => "expired",
        }
    }

    pub fn token_days(&self, days: i64) -> String {
        match (self.lang, days) {
            (Lang::Fr, 365) => "dans 1 an".to_owned(),
            (Lang::En, 365) => "in 1 year".to_owned(),
            (Lang::Fr, days) => format!("dans {days} jours"),
            (Lang::En, days) => format!("in {days} days"),
        }
    }

    pub fn token_lifetime_invalid(&self, max: i64) -> String {
        match self.lang {
            Lang::Fr => format!("Choisissez une durée de 1 à {max} jours, ou « jamais »."),
            Lang::En => format!("Choose a lifetime of 1 to {max} days, or \"never\"."),
        }
    }

    pub fn token_too_many(&self, max: i64) -> String {
        match self.lang {
            Lang::Fr => format!("Vous avez déjà {max} jetons actifs : révoquez-en un d'abord."),
            Lang::En => format!("You already have {max} active tokens: revoke one first."),
        }
    }
}
