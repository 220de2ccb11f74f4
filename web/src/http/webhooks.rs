//! Webhooks in the web UI (`/settings/webhooks`, `crate::webhooks`): a member company's
//! users see its webhooks, where their deliveries stand and their last attempts, and the
//! network key that signs them; its owner registers one, removes one, or enables again one
//! that was disabled after too many failures. Forms carry the CSRF token like every form;
//! refusals are worded in the user's language and change nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::console::form_messages;
use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::tokens::day_time;
use super::AppState;
use crate::console::ConsoleError;
use crate::webhooks::{self, Status};

/// Attempts the page shows per webhook (the API gives 20).
pub const DELIVERIES_SHOWN_MAX: i64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/webhooks", get(webhooks_page).post(create))
        .route("/settings/webhooks/{id}/remove", post(remove))
        .route("/settings/webhooks/{id}/enable", post(enable))
        .route("/settings/webhooks/{id}/ping", post(ping))
}

pub struct DeliveryView {
    pub at: String,
    pub events: i64,
    /// `200`, or the error in a few words.
    pub outcome: String,
    pub delivered: bool,
    pub duration_ms: i64,
}

pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub active: bool,
    pub created: String,
    pub created_by: String,
    pub failures: i64,
    pub waiting: i64,
    /// Empty when never.
    pub last_success: String,
    /// Empty when no retry waits.
    pub next_attempt: String,
    pub disabled: String,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksTemplate {
    c: Chrome,
    hooks: Vec<WebhookView>,
    public_keys: Vec<String>,
    messages: Vec<String>,
    /// The URL just typed, kept after a refusal.
    typed: String,
    url_len_max: usize,
    hooks_max: i64,
    failures_max: i64,
}

async fn draw(
    state: &AppState,
    reader: &MemberReader,
    status: StatusCode,
    messages: Vec<String>,
    typed: String,
) -> AppResult<Response> {
    let member_id = reader.member.id;
    let mut hooks = Vec::new();
    for hook in webhooks::list(&state.store, member_id)
        .await
        .map_err(super::console::page_error)?
    {
        let deliveries = webhooks::deliveries(&state.store, &hook, DELIVERIES_SHOWN_MAX)
            .await
            .map_err(super::console::page_error)?
            .into_iter()
            .map(|d| DeliveryView {
                at: day_time(d.attempted_at),
                events: d.events,
                delivered: d.succeeded(),
                outcome: match (d.status_code, &d.error) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => String::new(),
                },
                duration_ms: d.duration_ms,
            })
            .collect();
        hooks.push(WebhookView {
            id: hook.id,
            url: hook.url,
            active: hook.status == Status::Active,
            created: day_time(hook.created_at),
            created_by: hook.created_by,
            failures: hook.failures,
            waiting: hook.waiting,
            last_success: hook.last_success_at.map(day_time).unwrap_or_default(),
            next_attempt: hook
                .next_attempt_at
                .filter(|_| hook.failures > 0)
                .map(day_time)
                .unwrap_or_default(),
            disabled: hook.disabled_at.map(day_time).unwrap_or_default(),
            deliveries,
        });
    }
    let public_keys = super::api::webhooks::public_keys(&state.store).await?;
    let mut response = page(WebhooksTemplate {
        c: reader.chrome(),
        hooks,
        public_keys,
        messages,
        typed,
        url_len_max: webhooks::URL_LEN_MAX,
        hooks_max: webhooks::WEBHOOKS_PER_MEMBER_MAX,
        failures_max: webhooks::FAILURES_MAX,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn webhooks_page(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw(&state, &reader, StatusCode::OK, Vec::new(), String::new()).await
}

#[derive(Deserialize)]
struct NewWebhook {
    #[serde(default)]
    url: String,
}

async fn create(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<NewWebhook>,
) -> AppResult<Response> {
    let t = auth.tr();
    let targets = state.config.webhook_targets();
    match webhooks::create(
        &state.store,
        &auth.auth.user,
        &auth.member,
        &form.url,
        targets,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings/webhooks").into_response()),
        Err(ConsoleError::Forbidden) => Err(AppError::Forbidden),
        Err(error) => {
            let messages = form_messages(t, error)?;
            let typed: String = form.url.chars().take(webhooks::URL_LEN_MAX + 100).collect();
            draw(
                &state,
                &auth.into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
                typed,
            )
            .await
        }
    }
}

fn id_of(text: &str) -> AppResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

async fn remove(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = id_of(&id)?;
    webhooks::delete(&state.store, &auth.auth.user, &auth.member, id)
        .await
        .map_err(super::console::page_error)?;
    Ok(Redirect::to("/settings/webhooks").into_response())
}

async fn enable(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = id_of(&id)?;
    webhooks::enable(&state.store, &auth.auth.user, &auth.member, id)
        .await
        .map_err(super::console::page_error)?;
    Ok(Redirect::to("/settings/webhooks").into_response())
}

/// The owner's test: one `ping` POST now; its attempt shows on the page.
async fn ping(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = id_of(&id)?;
    let sender = state.webhooks.clone().ok_or(AppError::Unavailable)?;
    webhooks::ping(&state.store, &sender, &auth.auth.user, &auth.member, id)
        .await
        .map_err(super::console::page_error)?;
    Ok(Redirect::to(&format!("/settings/webhooks#webhook-{id}")).into_response())
}

impl Tr {
    pub fn webhook_ping(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Envoyer un test",
            Lang::En => "Send a test",
        }
    }

    pub fn webhooks_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Webhooks",
            Lang::En => "Webhooks",
        }
    }

    pub fn webhooks_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Un webhook prévient votre propre logiciel (ERP, caisse, comptabilité) de \
                 chaque opération sur le compte de votre entreprise — paiement reçu ou \
                 envoyé, commission, remboursement — sans qu'il ait à interroger Troc. Le \
                 serveur envoie à l'adresse donnée un POST JSON des opérations, de la plus \
                 ancienne à la plus récente, et recommence jusqu'à obtenir une réponse 2xx."
            }
            Lang::En => {
                "A webhook tells your own software (ERP, till, accounting) of every \
                 transaction on your company's account — a payment received or sent, a fee, \
                 a refund — without it having to ask Troc. The server posts the transactions \
                 as JSON to the address given, oldest first, and tries again until it gets a \
                 2xx answer."
            }
        }
    }

    pub fn webhooks_signature(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Chaque envoi est signé par la clé du réseau (Ed25519) : l'en-tête \
                 Troc-Signature porte t=HEURE,ed25519=SIGNATURE, la signature de « HEURE.CORPS ». \
                 Vérifiez-la avec la clé publique ci-dessous (aussi publiée sur /audit) avant \
                 de croire un envoi. Un même événement peut arriver deux fois : son id suffit \
                 à l'écarter."
            }
            Lang::En => {
                "Each delivery is signed with the network's key (Ed25519): the Troc-Signature \
                 header carries t=TIME,ed25519=SIGNATURE, the signature of \"TIME.BODY\". \
                 Check it with the public key below (also published on /audit) before \
                 trusting a delivery. The same event may arrive twice: its id tells."
            }
        }
    }

    pub fn webhooks_keys(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Clé publique du réseau",
            Lang::En => "The network's public key",
        }
    }

    pub fn webhook_url(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Adresse (https://…)",
            Lang::En => "Address (https://…)",
        }
    }

    pub fn webhook_add(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Ajouter le webhook",
            Lang::En => "Add the webhook",
        }
    }

    pub fn webhooks_none(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Aucun webhook.",
            Lang::En => "No webhook.",
        }
    }

    pub fn webhooks_limits(&self, max: i64, failures: i64) -> String {
        match self.lang {
            Lang::Fr => format!(
                "Au plus {max} webhooks. Après {failures} échecs de suite (environ sept heures \
                 d'essais), un webhook est suspendu : les opérations en attente sont gardées et \
                 partent quand vous le réactivez ; celles passées pendant la suspension ne \
                 sont pas envoyées (elles sont dans votre historique)."
            ),
            Lang::En => format!(
                "At most {max} webhooks. After {failures} failures in a row (about seven hours \
                 of retries) a webhook is suspended: the transactions waiting are kept and go \
                 when you enable it again; those of the time it was suspended are not sent \
                 (they are in your history)."
            ),
        }
    }

    pub fn webhook_state(&self, active: bool) -> &'static str {
        match (self.lang, active) {
            (Lang::Fr, true) => "actif",
            (Lang::Fr, false) => "suspendu",
            (Lang::En, true) => "active",
            (Lang::En, false) => "disabled",
        }
    }

    pub fn webhook_waiting(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "En attente d'envoi",
            Lang::En => "Waiting to be sent",
        }
    }

    pub fn webhook_failures(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Échecs de suite",
            Lang::En => "Failures in a row",
        }
    }

    pub fn webhook_last_success(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Dernier envoi réussi",
            Lang::En => "Last delivered",
        }
    }

    pub fn webhook_next_attempt(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Prochain essai",
            Lang::En => "Next attempt",
        }
    }

    pub fn webhook_attempts(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Derniers envois",
            Lang::En => "Last attempts",
        }
    }

    pub fn webhook_attempted(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Envoi",
            Lang::En => "Sent",
        }
    }

    pub fn webhook_events(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Opérations",
            Lang::En => "Transactions",
        }
    }

    pub fn webhook_outcome(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Réponse",
            Lang::En => "Answer",
        }
    }

    pub fn webhook_remove(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Supprimer",
            Lang::En => "Remove",
        }
    }

    pub fn webhook_enable(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Réactiver",
            Lang::En => "Enable again",
        }
    }
}
