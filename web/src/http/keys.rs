//! Signing keys in the web UI (`/settings/keys`): a member company's users see the Ed25519
//! public keys registered for its account; its owner and staff register one (the secret half
//! stays on their machine: `troc order keygen`) and revoke one. Orders signed with an active
//! key are paid through `POST /api/v1/signed-payments` (docs/api.md, docs/audit.md). Forms
//! carry the CSRF token like every form (the session middleware checks it).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::store::{KeyError, MemberKey, MEMBER_KEYS_EVER_MAX, MEMBER_KEYS_PER_ACCOUNT_MAX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/keys", get(keys_page).post(register))
        .route("/settings/keys/{public_key}/revoke", post(revoke))
}

pub struct KeyView {
    pub public_key: String,
    pub created: String,
    /// The revocation time; empty while the key is active.
    pub revoked: String,
    pub active: bool,
    /// Who registered it (an email), empty when not recorded (before migration 0021).
    pub registered_by: String,
    /// Who revoked it, empty while the key is active.
    pub revoked_by: String,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysTemplate {
    c: Chrome,
    account_id: i64,
    keys: Vec<KeyView>,
    error: Option<String>,
    /// The key just typed, kept after a refusal.
    typed: String,
}

fn minute(time: chrono::DateTime<chrono::Utc>) -> String {
    super::tokens::day_time(time.timestamp())
}

impl From<MemberKey> for KeyView {
    fn from(k: MemberKey) -> Self {
        KeyView {
            created: minute(k.created_at),
            revoked: k.revoked_at.map(minute).unwrap_or_default(),
            active: k.active,
            public_key: k.public_key,
            registered_by: k.registered_by.unwrap_or_default(),
            revoked_by: k.revoked_by.unwrap_or_default(),
        }
    }
}

async fn draw(
    state: &AppState,
    reader: &MemberReader,
    status: StatusCode,
    error: Option<String>,
    typed: String,
) -> AppResult<Response> {
    let keys = state
        .store
        .member_keys(reader.member.account())
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect();
    let mut response = page(KeysTemplate {
        c: reader.chrome(),
        account_id: reader.member.account_id,
        keys,
        error,
        typed,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn keys_page(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw(&state, &reader, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
struct NewKey {
    #[serde(default)]
    public_key: String,
}

async fn register(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<NewKey>,
) -> AppResult<Response> {
    let t = auth.tr();
    let refusal = match state
        .store
        .register_member_key(
            auth.member.account(),
            &form.public_key,
            &auth.auth.user.email,
        )
        .await
    {
        Ok(_) => return Ok(Redirect::to("/settings/keys").into_response()),
        Err(KeyError::Malformed | KeyError::NotOnCurve | KeyError::Weak) => t.key_invalid(),
        Err(KeyError::AlreadyRegistered) => t.key_taken().to_owned(),
        Err(KeyError::TooManyActive) => t.keys_too_many(MEMBER_KEYS_PER_ACCOUNT_MAX),
        Err(KeyError::TooManyEver) => t.keys_too_many_ever(MEMBER_KEYS_EVER_MAX),
        Err(KeyError::NotMemberAccount(_) | KeyError::NotActive(_)) => {
            return Err(AppError::Forbidden)
        }
        Err(KeyError::Store(error)) => return Err(AppError::Store(error)),
    };
    let typed: String = form.public_key.chars().take(200).collect();
    draw(
        &state,
        &auth.into(),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(refusal),
        typed,
    )
    .await
}

async fn revoke(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(public_key): Path<String>,
) -> AppResult<Response> {
    match state
        .store
        .revoke_member_key(auth.member.account(), &public_key, &auth.auth.user.email)
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/keys").into_response()),
        Err(KeyError::Store(error)) => Err(AppError::Store(error)),
        Err(_) => Err(AppError::NotFound),
    }
}

impl Tr {
    pub fn keys_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Clés de signature",
            Lang::En => "Signing keys",
        }
    }

    pub fn keys_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Une clé de signature Ed25519 permet à votre entreprise de signer elle-même \
                 ses ordres de paiement : la signature est conservée avec le paiement et \
                 chaînée dans le registre, ce qui prouve votre accord sans avoir à faire \
                 confiance à l'opérateur. La clé secrète reste sur votre machine ; \
                 enregistrez ici sa clé publique."
            }
            Lang::En => {
                "An Ed25519 signing key lets your company sign its own payment orders: the \
                 signature is kept with the payment and chained into the ledger, which proves \
                 your consent without trusting the operator. The secret key stays on your \
                 machine; register its public key here."
            }
        }
    }

    pub fn keys_how(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Avec la ligne de commande :",
            Lang::En => "With the command line:",
        }
    }

    pub fn keys_account(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Numéro de compte à signer comme payeur",
            Lang::En => "Account id to sign as the payer",
        }
    }

    pub fn key_public(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Clé publique (64 chiffres hexadécimaux)",
            Lang::En => "Public key (64 hex digits)",
        }
    }

    pub fn key_register(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Enregistrer la clé",
            Lang::En => "Register the key",
        }
    }

    pub fn key_registered_at(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Enregistrée",
            Lang::En => "Registered",
        }
    }

    pub fn key_revoked_at(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Révoquée",
            Lang::En => "Revoked",
        }
    }

    pub fn key_active(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "active",
            Lang::En => "active",
        }
    }

    pub fn keys_none(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Aucune clé enregistrée.",
            Lang::En => "No key registered.",
        }
    }

    pub fn key_invalid(&self) -> String {
        match self.lang {
            Lang::Fr => "Collez une clé publique Ed25519 valide : 64 chiffres hexadécimaux.".into(),
            Lang::En => "Paste a valid Ed25519 public key: 64 hex digits.".into(),
        }
    }

    pub fn key_taken(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Cette clé est déjà enregistrée ; une clé ne sert jamais deux fois.",
            Lang::En => "This key is already registered; a key is never used twice.",
        }
    }

    pub fn keys_too_many(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => {
                format!("Votre compte a déjà {max} clés actives : révoquez-en une d'abord.")
            }
            Lang::En => format!("Your account already has {max} active keys: revoke one first."),
        }
    }

    pub fn keys_too_many_ever(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => format!("Votre compte a enregistré {max} clés, le maximum."),
            Lang::En => format!("Your account has registered {max} keys, the most it may."),
        }
    }
}
