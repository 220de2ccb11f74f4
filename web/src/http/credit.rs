//! `/credit-limit`: a member company asks the network for another credit limit, another
//! upper limit, or both (`console::limit_requests`). Its users see the limits in force, the
//! request waiting and the past ones with the manager's decision and reason; its owner asks
//! (the limits wanted and a message for the manager) and withdraws the request while it
//! waits. The page also lists the network's last changes to the company's limits, with who
//! decided each and why (the ledger's limit history). Staff and the member
//! accountant read only (their posts answer 403). The figures link here from every page that
//! shows them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::console::{amount_text, form_messages, page_error, time_text};
use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::money::{account_of, figures, Figures};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::history::{own_limit_history_upto, LimitRecord, Order};
use crate::console::limit_requests::{
    self, LimitRequest, LimitRequestStatus, Wanted, LIMIT_REQUEST_MESSAGE_LEN_MAX,
};
use crate::console::{parse_amount, ConsoleError, Field};
use crate::people::Role;
use ledger::Amount;

/// Most changes of the company's limits the page lists (newest first); the API gives them
/// all (`GET /api/v1/accounts/{id}/limit-history`).
pub const LIMIT_CHANGES_SHOWN_MAX: i64 = 20;

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
    /// Whether it asks for another credit limit, the one it asks for and the one then.
    pub asks_credit: bool,
    pub before: String,
    pub asked: String,
    /// Whether it asks for another upper limit, the one it asks for and the one then.
    pub asks_max: bool,
    pub max_before: String,
    pub max_asked: String,
    /// What it asks for in a few words (`Tr::lr_limits_text`).
    pub asked_text: String,
    pub message: String,
    pub status: &'static str,
    /// The limits granted, in the same few words; empty unless granted.
    pub granted: String,
    pub decided: String,
    pub decided_by: String,
    pub reason: String,
}

impl RequestLine {
    pub fn of(t: Tr, r: &LimitRequest) -> RequestLine {
        let asks_credit = r.asks_credit_limit();
        let granted_credit = r.credit_limit_granted.filter(|_| asks_credit);
        RequestLine {
            id: r.id,
            date: time_text(r.created_at),
            by: r.requested_by.clone(),
            asks_credit,
            before: t.lang.amount(r.credit_limit_before),
            asked: t.lang.amount(r.credit_limit_asked),
            asks_max: r.asks_max_balance(),
            max_before: amount_text(t, r.max_balance_before),
            max_asked: r
                .max_balance_asked
                .map(|m| t.lang.amount(m))
                .unwrap_or_default(),
            asked_text: t.lr_limits_text(
                asks_credit.then_some(r.credit_limit_asked),
                r.max_balance_asked,
            ),
            message: r.message.clone(),
            status: t.lr_status(r.status),
            granted: t.lr_limits_text(granted_credit, r.max_balance_granted),
            decided: r.decided_at.map(time_text).unwrap_or_default(),
            decided_by: r.decided_by.clone().unwrap_or_default(),
            reason: r.decision_reason.clone(),
        }
    }
}

/// One change of the company's limits as the page shows it: each limit as "before → after",
/// empty when that change left it alone.
pub struct ChangeLine {
    pub date: String,
    pub credit: String,
    pub max: String,
    pub by: String,
    pub reason: String,
}

impl ChangeLine {
    fn of(t: Tr, r: &LimitRecord) -> ChangeLine {
        let credit = if r.credit_limit_before == r.credit_limit_after {
            String::new()
        } else {
            let (before, after) = (r.credit_limit_before, r.credit_limit_after);
            format!("{} → {}", t.lang.amount(before), t.lang.amount(after))
        };
        let max = if r.max_balance_before == r.max_balance_after {
            String::new()
        } else {
            let (before, after) = (r.max_balance_before, r.max_balance_after);
            format!("{} → {}", amount_text(t, before), amount_text(t, after))
        };
        ChangeLine {
            date: time_text(r.time.timestamp()),
            credit,
            max,
            by: r.actor.clone(),
            reason: r.reason.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "credit_limit.html")]
struct CreditTemplate {
    c: Chrome,
    figures: Figures,
    /// The network's last changes to the company's limits, newest first.
    changes: Vec<ChangeLine>,
    /// What the company can still receive before it, when it has one.
    receivable: Option<String>,
    pending: Option<RequestLine>,
    past: Vec<RequestLine>,
    can_ask: bool,
    done: Option<&'static str>,
    messages: Vec<String>,
    typed_limit: String,
    typed_max: String,
    typed_message: String,
    message_len_max: usize,
}

#[derive(Debug, Default, Deserialize)]
struct AskForm {
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
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
    let changes = own_limit_history_upto(
        &state.store,
        reader.member.id,
        Order::NewestFirst,
        LIMIT_CHANGES_SHOWN_MAX,
    )
    .await
    .map_err(page_error)?
    .iter()
    .map(|r| ChangeLine::of(t, r))
    .collect();
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
        receivable: account.receivable().map(|r| t.lang.amount(r)),
        changes,
        pending: pending.first().map(|r| RequestLine::of(t, r)),
        past: past.iter().map(|r| RequestLine::of(t, r)).collect(),
        can_ask: reader.auth.user.role == Role::Owner,
        done: outcome.done,
        messages: outcome.messages,
        typed_limit: outcome.typed.credit_limit.chars().take(40).collect(),
        typed_max: outcome.typed.max_balance.chars().take(40).collect(),
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
    // Each field may be left empty (that limit stays); `ask` wants at least one.
    let parsed = |field: Field, text: &str| -> Result<Option<Amount>, ConsoleError> {
        parse_amount(text).map_err(|problem| ConsoleError::invalid(field, problem))
    };
    let wanted = parsed(Field::CreditLimit, &form.credit_limit).and_then(|credit_limit| {
        Ok(Wanted {
            credit_limit,
            max_balance: parsed(Field::MaxBalance, &form.max_balance)?,
        })
    });
    let wanted = match wanted {
        Ok(wanted) => wanted,
        Err(error) => return refused(&state, auth, error, form).await,
    };
    let asked = limit_requests::ask(
        &state.store,
        &auth.auth.user,
        &auth.member,
        wanted,
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
            Lang::Fr => "Découvert et plafond",
            Lang::En => "Credit and upper limits",
        }
    }

    pub fn lr_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Votre découvert autorisé est le solde négatif jusqu'où votre entreprise peut \
                 acheter dans le réseau. Pour le changer, demandez-le au gestionnaire du réseau \
                 en expliquant pourquoi (nouveaux achats prévus, activité en hausse ou en \
                 baisse) : il l'accorde, accorde un autre montant ou refuse, et vous lisez sa \
                 réponse ici. Votre plafond est le solde le plus élevé que votre entreprise \
                 peut détenir : au-delà, elle ne peut plus recevoir de paiements. Si vos ventes \
                 l'atteignent, demandez-en un autre de la même façon."
            }
            Lang::En => {
                "Your credit limit is how far below zero your company may buy in the network. \
                 To change it, ask the network's manager and say why (purchases planned, \
                 business growing or shrinking): the manager grants it, grants another amount \
                 or declines, and you read the answer here. Your upper limit is the largest \
                 balance your company may hold: beyond it, it cannot receive payments. If your \
                 sales reach it, ask for another the same way."
            }
        }
    }

    pub fn lr_link(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Demander un autre découvert ou plafond",
            Lang::En => "Ask for another credit or upper limit",
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

    pub fn lr_max_now(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Plafond (solde maximal)",
            Lang::En => "Upper limit (largest balance)",
        }
    }

    pub fn lr_new_max(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Plafond souhaité",
            Lang::En => "Upper limit wanted",
        }
    }

    pub fn lr_max_before(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Plafond alors",
            Lang::En => "Upper limit then",
        }
    }

    pub fn lr_receivable(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Vous pouvez encore recevoir",
            Lang::En => "You can still receive",
        }
    }

    pub fn lr_changes(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Changements de vos limites par le réseau",
            Lang::En => "The network's changes to your limits",
        }
    }

    pub fn lr_by(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Par",
            Lang::En => "By",
        }
    }

    pub fn lr_either(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Remplissez le découvert, le plafond ou les deux : ce que vous laissez \
                         vide ne change pas."
            }
            Lang::En => {
                "Fill in the credit limit, the upper limit or both: what you leave \
                         empty stays as it is."
            }
        }
    }

    /// What a request asks for or was granted, in few words: a credit limit alone as its
    /// amount (as before upper limits could be asked), else each limit named; empty for
    /// neither.
    pub fn lr_limits_text(
        &self,
        credit_limit: Option<Amount>,
        max_balance: Option<Amount>,
    ) -> String {
        let (credit, max) = match self.lang {
            Lang::Fr => ("découvert", "plafond"),
            Lang::En => ("credit limit", "upper limit"),
        };
        let amount = |a: Amount| self.lang.amount(a);
        match (credit_limit, max_balance) {
            (Some(c), None) => amount(c),
            (None, Some(m)) => format!("{max} {}", amount(m)),
            (Some(c), Some(m)) => format!("{credit} {} · {max} {}", amount(c), amount(m)),
            (None, None) => String::new(),
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
        let asks_credit = r.asks_credit_limit();
        let what = match (asks_credit, fr) {
            (true, true) => "de découvert",
            (false, true) => "de plafond",
            (true, false) => "credit-limit",
            (false, false) => "upper-limit",
        };
        let granted = (r.status == LimitRequestStatus::Granted).then(|| {
            self.lr_limits_text(
                r.credit_limit_granted.filter(|_| asks_credit),
                r.max_balance_granted,
            )
        });
        match (granted, fr) {
            (Some(granted), true) => format!(
                "Votre demande {what} n° {} est accordée : {granted}.{reason}",
                r.id
            ),
            (Some(granted), false) => format!(
                "Your {what} request no. {} was granted: {granted}.{reason}",
                r.id
            ),
            (None, true) => format!("Votre demande {what} n° {} est refusée.{reason}", r.id),
            (None, false) => format!("Your {what} request no. {} was declined.{reason}", r.id),
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
