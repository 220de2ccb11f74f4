//! `/credit-limit`: a member company asks the network for another credit limit
//! (`console::limit_requests`). Its users see the limit in force, the request waiting and
//! the past ones with the manager's decision and reason; its owner asks (the limit wanted and
//! a message for the manager) and withdraws the request while it waits. Staff and the member
//! accountant read only (their posts answer 403). The figures link here from every page that
//! shows them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::console::{form_messages, page_error, time_text};
use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::money::{account_of, figures, Figures};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::limit_requests::{
    self, LimitRequest, LimitRequestStatus, LIMIT_REQUEST_MESSAGE_LEN_MAX,
};
use crate::console::{parse_amount, ConsoleError, Field, Problem};
use crate::people::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/credit-limit", get(credit_page).post(ask))
        .route("/credit-limit/{id}/withdraw", post(withdraw))
}

/// One request as the page shows it.
pub struct RequestLine {
    pub id: i64,
    pub date: String,
    pub by: String,
    pub before: String,
    pub asked: String,
    pub message: String,
    pub status: &'static str,
    /// The limit granted, empty unless granted.
    pub granted: String,
    pub decided: String,
    pub decided_by: String,
    pub reason: String,
}

impl RequestLine {
    pub fn of(t: Tr, r: &LimitRequest) -> RequestLine {
        RequestLine {
            id: r.id,
            date: time_text(r.created_at),
            by: r.requested_by.clone(),
            before: t.lang.amount(r.credit_limit_before),
            asked: t.lang.amount(r.credit_limit_asked),
            message: r.message.clone(),
            status: t.lr_status(r.status),
            granted: r
                .credit_limit_granted
                .map(|g| t.lang.amount(g))
                .unwrap_or_default(),
            decided: r.decided_at.map(time_text).unwrap_or_default(),
            decided_by: r.decided_by.clone().unwrap_or_default(),
            reason: r.decision_reason.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "credit_limit.html")]
struct CreditTemplate {
    c: Chrome,
    figures: Figures,
    pending: Option<RequestLine>,
    past: Vec<RequestLine>,
    can_ask: bool,
    done: Option<&'static str>,
    messages: Vec<String>,
    typed_limit: String,
    typed_message: String,
    message_len_max: usize,
}

#[derive(Debug, Default, Deserialize)]
struct AskForm {
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    message: String,
}

struct Outcome {
    status: StatusCode,
    done: Option<&'static str>,
    messages: Vec<String>,
    typed: AskForm,
}

impl Outcome {
    fn shown() -> Outcome {
        Outcome {
            status: StatusCode::OK,
            done: None,
            messages: Vec::new(),
            typed: AskForm::default(),
        }
    }
}

async fn draw(state: &AppState, reader: &MemberReader, outcome: Outcome) -> AppResult<Response> {
    let t = reader.tr();
    let account = account_of(state, &reader.member).await?;
    let requests = limit_requests::member_requests(&state.store, reader.member.id)
        .await
        .map_err(page_error)?;
    let (pending, past): (Vec<_>, Vec<_>) = requests
        .iter()
        .partition(|r| r.status == LimitRequestStatus::Pending);
    let typed_message: String = outcome
        .typed
        .message
        .chars()
        .take(LIMIT_REQUEST_MESSAGE_LEN_MAX + 1)
        .collect();
    let mut response = page(CreditTemplate {
        c: reader.chrome(),
        figures: figures(t.lang, &account),
        pending: pending.first().map(|r| RequestLine::of(t, r)),
        past: past.iter().map(|r| RequestLine::of(t, r)).collect(),
        can_ask: reader.auth.user.role == Role::Owner,
        done: outcome.done,
        messages: outcome.messages,
        typed_limit: outcome.typed.credit_limit.chars().take(40).collect(),
        typed_message,
        message_len_max: LIMIT_REQUEST_MESSAGE_LEN_MAX,
    })?;
    *response.status_mut() = outcome.status;
    Ok(response)
}

async fn credit_page(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw(&state, &reader, Outcome::shown()).await
}

/// A refusal the form words, or the error page (403, 404, a store failure).
async fn refused(
    state: &AppState,
    auth: MemberAuth,
    error: ConsoleError,
    typed: AskForm,
) -> AppResult<Response> {
    // 403 and 404 are the error page's (`form_messages` hands them back).
    let messages = form_messages(auth.tr(), error)?;
    let outcome = Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        done: None,
        messages,
        typed,
    };
    draw(state, &auth.into(), outcome).await
}

async fn ask(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<AskForm>,
) -> AppResult<Response> {
    if !auth.is_owner() {
        return Err(AppError::Forbidden);
    }
    let credit_limit = match parse_amount(&form.credit_limit) {
        Ok(Some(amount)) => amount,
        Ok(None) => {
            let error = ConsoleError::invalid(Field::CreditLimit, Problem::Required);
            return refused(&state, auth, error, form).await;
        }
        Err(problem) => {
            let error = ConsoleError::invalid(Field::CreditLimit, problem);
            return refused(&state, auth, error, form).await;
        }
    };
    let asked = limit_requests::ask(
        &state.store,
        &auth.auth.user,
        &auth.member,
        credit_limit,
        &form.message,
    )
    .await;
    match asked {
        Ok(_) => {
            let outcome = Outcome {
                done: Some(auth.tr().lr_asked_done()),
                ..Outcome::shown()
            };
            draw(&state, &auth.into(), outcome).await
        }
        Err(error) => refused(&state, auth, error, form).await,
    }
}

async fn withdraw(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if !auth.is_owner() {
        return Err(AppError::Forbidden);
    }
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    match limit_requests::withdraw(&state.store, &auth.auth.user, &auth.member, id).await {
        Ok(_) => {
            let outcome = Outcome {
                done: Some(auth.tr().lr_withdrawn_done()),
                ..Outcome::shown()
            };
            draw(&state, &auth.into(), outcome).await
        }
        Err(error) => refused(&state, auth, error, AskForm::default()).await,
    }
}

impl Tr {
    pub fn lr_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Découvert autorisé",
            Lang::En => "Credit limit",
        }
    }

    pub fn lr_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Votre découvert autorisé est le solde négatif jusqu'où votre entreprise peut \
                 acheter dans le réseau. Pour le changer, demandez-le au gestionnaire du réseau \
                 en expliquant pourquoi (nouveaux achats prévus, activité en hausse ou en \
                 baisse) : il l'accorde, accorde un autre montant ou refuse, et vous lisez sa \
                 réponse ici."
            }
            Lang::En => {
                "Your credit limit is how far below zero your company may buy in the network. \
                 To change it, ask the network's manager and say why (purchases planned, \
                 business growing or shrinking): the manager grants it, grants another amount \
                 or declines, and you read the answer here."
            }
        }
    }

    pub fn lr_link(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demander un autre découvert",
            Lang::En => "Ask for another credit limit",
        }
    }

    pub fn lr_pending(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demande en attente",
            Lang::En => "Request waiting",
        }
    }

    pub fn lr_new_limit(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Découvert souhaité",
            Lang::En => "Credit limit wanted",
        }
    }

    pub fn lr_message(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Pourquoi (lu par le gestionnaire)",
            Lang::En => "Why (the manager reads it)",
        }
    }

    pub fn lr_submit(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Envoyer la demande",
            Lang::En => "Send the request",
        }
    }

    pub fn lr_withdraw(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Retirer la demande",
            Lang::En => "Withdraw the request",
        }
    }

    pub fn lr_owner_only(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Seul le dirigeant de l'entreprise peut demander un autre découvert.",
            Lang::En => "Only the company's owner may ask for another credit limit.",
        }
    }

    pub fn lr_history(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demandes précédentes",
            Lang::En => "Earlier requests",
        }
    }

    pub fn lr_asked(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demandé",
            Lang::En => "Asked",
        }
    }

    pub fn lr_before(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Découvert alors",
            Lang::En => "Limit then",
        }
    }

    pub fn lr_granted(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Accordé",
            Lang::En => "Granted",
        }
    }

    pub fn lr_decision(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Décision",
            Lang::En => "Decision",
        }
    }

    pub fn lr_asked_done(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demande envoyée au gestionnaire du réseau.",
            Lang::En => "Request sent to the network's manager.",
        }
    }

    pub fn lr_withdrawn_done(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demande retirée.",
            Lang::En => "Request withdrawn.",
        }
    }

    /// A dashboard reminder: the network's answer to a credit-limit request.
    pub fn reminder_limit_answer(&self, r: &LimitRequest) -> String {
        let fr = self.lang == Lang::Fr;
        let reason = if r.decision_reason.is_empty() {
            String::new()
        } else if fr {
            format!(" Motif : {}", r.decision_reason)
        } else {
            format!(" Reason: {}", r.decision_reason)
        };
        match (r.credit_limit_granted, fr) {
            (Some(granted), true) => format!(
                "Votre demande de découvert n° {} est accordée : {}.{reason}",
                r.id,
                self.lang.amount(granted)
            ),
            (Some(granted), false) => format!(
                "Your credit-limit request no. {} was granted: {}.{reason}",
                r.id,
                self.lang.amount(granted)
            ),
            (None, true) => format!(
                "Votre demande de découvert n° {} est refusée.{reason}",
                r.id
            ),
            (None, false) => format!(
                "Your credit-limit request no. {} was declined.{reason}",
                r.id
            ),
        }
    }

    pub fn lr_status(&self, status: LimitRequestStatus) -> &'static str {
        let fr = self.lang == Lang::Fr;
        match status {
            LimitRequestStatus::Pending => {
                if fr {
                    "en attente"
                } else {
                    "waiting"
                }
            }
            LimitRequestStatus::Granted => {
                if fr {
                    "accordée"
                } else {
                    "granted"
                }
            }
            LimitRequestStatus::Declined => {
                if fr {
                    "refusée"
                } else {
                    "declined"
                }
            }
            LimitRequestStatus::Withdrawn => {
                if fr {
                    "retirée"
                } else {
                    "withdrawn"
                }
            }
        }
    }
}
