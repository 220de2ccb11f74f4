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
use crate::tokens::{self, Scope, TokenError, TOKENS_PER_USER_MAX, TOKEN_NAME_LEN_MAX};

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
    pub revoked: bool,
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
}

fn day_time(seconds: i64) -> String {
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
) -> AppResult<Response> {
    let t = auth.tr();
    let rows = tokens::of_user(&state.store, auth.user.id).await?;
    let tokens = rows
        .into_iter()
        .map(|r| TokenView {
            id: r.id,
            name: r.name,
            scope: t.token_scope(r.scope),
            created: day_time(r.created_at),
            last_used: r.last_used_at.map(day_time).unwrap_or_else(|| "—".into()),
            revoked: r.revoked_at.is_some(),
        })
        .collect();
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
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn tokens_page(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, StatusCode::OK, None, None, String::new()).await
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<NewToken>,
) -> AppResult<Response> {
    let t = auth.tr();
    let refused = |message: String| (StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    let outcome = match Scope::parse(&form.scope) {
        None => Err(refused(t.token_scope_invalid().to_owned())),
        Some(scope) => match tokens::create(&state.store, &auth.user, &form.name, scope).await {
            Ok((_, token)) => Ok(token),
            Err(TokenError::InvalidName) => Err(refused(t.token_name_invalid(TOKEN_NAME_LEN_MAX))),
            Err(TokenError::ScopeNotAllowed(_)) => Err(refused(t.token_scope_invalid().to_owned())),
            Err(TokenError::TooMany) => Err(refused(t.token_too_many(TOKENS_PER_USER_MAX))),
            Err(TokenError::Store(error)) => return Err(AppError::Store(error)),
        },
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
            )
            .await
        }
        Err((status, message)) => draw(&state, &auth, status, None, message, form.name).await,
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

    pub fn token_too_many(&self, max: i64) -> String {
        match self.lang {
            Lang::Fr => format!("Vous avez déjà {max} jetons actifs : révoquez-en un d'abord."),
            Lang::En => format!("You already have {max} active tokens: revoke one first."),
        }
    }
}
