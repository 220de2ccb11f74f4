//! `/departure`: a member company leaves the network (`console::departures`). Its users see
//! what is left before its account can close (the balance to bring to zero, the orders
//! under way) and what the closing ends (its open listings, standing orders and waiting
//! payment requests), with its notice if one waits and the past ones; its owner gives
//! notice (an optional message for the manager) and withdraws it while it waits. Staff and
//! the member accountant read only (their posts answer 403). The company page links here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::console::{form_messages, page_error, time_text};
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Lang, Tr};
use super::money::{account_of, figures, Figures};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::departures::{
    self, Departure, DepartureStatus, Remaining, DEPARTURE_MESSAGE_LEN_MAX,
};
use crate::console::ConsoleError;
use crate::people::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/departure", get(departure_page).post(give_notice))
        .route("/departure/{id}/withdraw", post(withdraw))
}

/// One notice as the page shows it.
pub struct NoticeLine {
    pub id: i64,
    pub date: String,
    pub by: String,
    pub message: String,
    pub status: &'static str,
    pub decided: String,
    pub decided_by: String,
}

impl NoticeLine {
    pub fn of(t: Tr, d: &Departure) -> NoticeLine {
        NoticeLine {
            id: d.id,
            date: time_text(d.created_at),
            by: d.requested_by.clone(),
            message: d.message.clone(),
            status: t.dep_status(d.status),
            decided: d.decided_at.map(time_text).unwrap_or_default(),
            decided_by: d.decided_by.clone().unwrap_or_default(),
        }
    }
}

/// One line of what is left: a text, and whether it still blocks the closing.
pub struct ToDo {
    pub id: &'static str,
    pub text: String,
    pub blocks: bool,
}

/// What is left, in words: the blocking steps first, then what the closing ends. Empty when
/// nothing is left at all.
pub fn to_do(t: Tr, r: &Remaining) -> Vec<ToDo> {
    let mut list = Vec::new();
    if r.balance.is_positive() {
        list.push(ToDo {
            id: "dep-balance",
            text: t.dep_spend(&t.lang.amount(r.balance)),
            blocks: true,
        });
    } else if r.balance.is_negative() {
        list.push(ToDo {
            id: "dep-balance",
            text: t.dep_repay(&t.lang.amount(r.balance.abs())),
            blocks: true,
        });
    }
    let counts = [
        (
            "dep-orders-to-pay",
            r.orders_to_pay,
            Tr::dep_orders_to_pay as fn(&Tr) -> &'static str,
            true,
        ),
        (
            "dep-orders-to-deliver",
            r.orders_to_deliver,
            Tr::dep_orders_to_deliver,
            true,
        ),
        ("dep-listings", r.open_listings, Tr::dep_listings, false),
        ("dep-standing", r.standing_orders, Tr::dep_standing, false),
        ("dep-requests", r.requests_waiting, Tr::dep_requests, false),
    ];
    for (id, count, words, blocks) in counts {
        if count > 0 {
            list.push(ToDo {
                id,
                text: match t.lang {
                    Lang::Fr => format!("{} : {count}", words(&t)),
                    Lang::En => format!("{}: {count}", words(&t)),
                },
                blocks,
            });
        }
    }
    list
}

/// What still blocks the closing, in words (the console's list and member page).
pub fn blocking(t: Tr, r: &Remaining) -> Vec<String> {
    to_do(t, r)
        .into_iter()
        .filter(|item| item.blocks)
        .map(|item| item.text)
        .collect()
}

#[derive(Template)]
#[template(path = "departure.html")]
struct DepartureTemplate {
    c: Chrome,
    figures: Figures,
    closed: bool,
    to_do: Vec<ToDo>,
    settled: bool,
    pending: Option<NoticeLine>,
    past: Vec<NoticeLine>,
    can_ask: bool,
    done: Option<&'static str>,
    messages: Vec<String>,
    typed_message: String,
    message_len_max: usize,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeForm {
    #[serde(default)]
    message: String,
}

struct Outcome {
    status: StatusCode,
    done: Option<&'static str>,
    messages: Vec<String>,
    typed: NoticeForm,
}

impl Outcome {
    fn shown() -> Outcome {
        Outcome {
            status: StatusCode::OK,
            done: None,
            messages: Vec::new(),
            typed: NoticeForm::default(),
        }
    }
}

async fn draw(state: &AppState, reader: &MemberReader, outcome: Outcome) -> AppResult<Response> {
    let t = reader.tr();
    let account = account_of(state, &reader.member).await?;
    let remaining = departures::remaining(&state.store, reader.member.id, account.balance())
        .await
        .map_err(page_error)?;
    let notices = departures::member_departures(&state.store, reader.member.id)
        .await
        .map_err(page_error)?;
    let (pending, past): (Vec<_>, Vec<_>) = notices
        .iter()
        .partition(|d| d.status == DepartureStatus::Pending);
    let closed = account.status() == ledger::AccountStatus::Closed;
    let mut response = page(DepartureTemplate {
        c: reader.chrome(),
        figures: figures(t.lang, &account),
        closed,
        to_do: to_do(t, &remaining),
        settled: remaining.settled(),
        pending: pending.first().map(|d| NoticeLine::of(t, d)),
        past: past.iter().map(|d| NoticeLine::of(t, d)).collect(),
        can_ask: reader.auth.user.role == Role::Owner && !closed,
        done: outcome.done,
        messages: outcome.messages,
        typed_message: outcome
            .typed
            .message
            .chars()
            .take(DEPARTURE_MESSAGE_LEN_MAX + 1)
            .collect(),
        message_len_max: DEPARTURE_MESSAGE_LEN_MAX,
    })?;
    *response.status_mut() = outcome.status;
    Ok(response)
}

async fn departure_page(
    State(state): State<AppState>,
    reader: MemberReader,
) -> AppResult<Response> {
    draw(&state, &reader, Outcome::shown()).await
}

/// A refusal the form words, or the error page (403, 404, a store failure).
async fn refused(
    state: &AppState,
    auth: MemberAuth,
    error: ConsoleError,
    typed: NoticeForm,
) -> AppResult<Response> {
    let messages = form_messages(auth.tr(), error)?;
    let outcome = Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        done: None,
        messages,
        typed,
    };
    draw(state, &auth.into(), outcome).await
}

async fn give_notice(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<NoticeForm>,
) -> AppResult<Response> {
    if !auth.is_owner() {
        return Err(AppError::Forbidden);
    }
    match departures::ask(&state.store, &auth.auth.user, &auth.member, &form.message).await {
        Ok(_) => {
            let outcome = Outcome {
                done: Some(auth.tr().dep_asked_done()),
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
    match departures::withdraw(&state.store, &auth.auth.user, &auth.member, id).await {
        Ok(_) => {
            let outcome = Outcome {
                done: Some(auth.tr().dep_withdrawn_done()),
                ..Outcome::shown()
            };
            draw(&state, &auth.into(), outcome).await
        }
        Err(error) => refused(&state, auth, error, NoticeForm::default()).await,
    }
}

catalogue! {
    dep_title => "Quitter le réseau", "Leaving the network";
    dep_link => "Quitter le réseau…", "Leave the network…";
    dep_intro => "Une entreprise peut quitter le réseau à tout moment. Son compte est fermé par le gestionnaire du réseau quand son solde est revenu à zéro et qu'aucune commande n'est en cours : un solde positif se dépense dans le réseau (ce qui reste, s'il ne peut être dépensé au centime près, est versé au fonds de garantie à la fermeture), un solde négatif se rembourse en vendant dans le réseau ou en le réglant avec le réseau. Donnez votre préavis ici : le gestionnaire le voit et vous accompagne. Vous pouvez le retirer tant que le compte n'est pas fermé. Vos données restent téléchargeables (page Entreprise).", "A company may leave the network at any time. The network's manager closes its account once its balance is back to zero and no order is under way: a positive balance is spent in the network (what is left, if it cannot be spent to the cent, goes to the guarantee fund at the closing), a negative one is paid back by selling in the network or settled with the network. Give notice here: the manager sees it and helps you through. You may withdraw it until the account is closed. Your data stays downloadable (Company page).";
    dep_rules => "Une entreprise peut quitter le réseau à tout moment : son dirigeant donne son préavis (page Entreprise). Son compte est fermé quand son solde est revenu à zéro et qu'aucune commande n'est en cours. Un solde positif se dépense dans le réseau ; ce qui ne peut être dépensé au centime près (chaque paiement coûte en plus la contribution au fonds) est versé au fonds de garantie à la fermeture, par une écriture que l'entreprise voit dans son historique. Un solde négatif se rembourse en vendant dans le réseau ; à défaut, le réseau déclare l'entreprise défaillante et le fonds de garantie couvre la perte. L'entreprise garde ses données (export complet et livres comptables).", "A company may leave the network at any time: its owner gives notice (Company page). Its account is closed once its balance is back to zero and no order is under way. A positive balance is spent in the network; what cannot be spent to the cent (each payment also costs the fund's contribution) goes to the guarantee fund at the closing, by an entry the company sees in its history. A negative balance is paid back by selling in the network; failing that, the network declares the company in default and the guarantee fund covers the loss. The company keeps its data (full export and books).";
    dep_for_you => "Ce que vous pourriez acheter ou vendre dans le réseau…", "What you could buy or sell in the network…";
    dep_to_do => "Ce qu'il reste à faire", "What is left to do";
    dep_ends => "Ce que la fermeture arrête", "What the closing ends";
    dep_nothing_left => "Rien ne bloque la fermeture : le gestionnaire peut fermer le compte.", "Nothing blocks the closing: the manager may close the account.";
    dep_orders_to_pay => "Commandes passées en attente de livraison (livrées ou annulées avant la fermeture)", "Orders placed and waiting for delivery (delivered or cancelled before the closing)";
    dep_orders_to_deliver => "Commandes à livrer (livrées ou annulées avant la fermeture)", "Orders to deliver (delivered or cancelled before the closing)";
    dep_listings => "Annonces ouvertes (fermées avec le compte)", "Open listings (closed with the account)";
    dep_standing => "Virements permanents actifs (arrêtés par la fermeture)", "Active standing orders (ended by the closing)";
    dep_requests => "Demandes de paiement en attente (sans suite après la fermeture)", "Payment requests waiting (void after the closing)";
    dep_pending => "Préavis de départ en attente", "Notice of departure waiting";
    dep_message => "Message au gestionnaire (facultatif)", "Message to the manager (optional)";
    dep_submit => "Donner mon préavis de départ", "Give notice of departure";
    dep_withdraw => "Retirer le préavis (rester dans le réseau)", "Withdraw the notice (stay in the network)";
    dep_owner_only => "Seul le dirigeant de l'entreprise peut donner le préavis de départ.", "Only the company's owner may give notice of departure.";
    dep_closed => "Le compte de l'entreprise est fermé : elle a quitté le réseau.", "The company's account is closed: it has left the network.";
    dep_history => "Préavis précédents", "Earlier notices";
    dep_asked_done => "Votre préavis de départ est enregistré : le gestionnaire du réseau le voit.", "Your notice of departure is recorded: the network's manager sees it.";
    dep_withdrawn_done => "Votre préavis est retiré : votre entreprise reste dans le réseau.", "Your notice is withdrawn: your company stays in the network.";
    dep_reminder => "Votre préavis de départ est en attente : voyez ce qu'il reste à faire avant la fermeture du compte.", "Your notice of departure is waiting: see what is left to do before the account closes.";
}

impl Tr {
    pub fn dep_spend(&self, amount: &str) -> String {
        match self.lang {
            Lang::Fr => format!("Solde positif à dépenser dans le réseau : {amount}"),
            Lang::En => format!("Positive balance to spend in the network: {amount}"),
        }
    }

    pub fn dep_repay(&self, amount: &str) -> String {
        match self.lang {
            Lang::Fr => format!(
                "Solde négatif à rembourser (en vendant dans le réseau, ou à régler avec le \
                 réseau) : {amount}"
            ),
            Lang::En => format!(
                "Negative balance to pay back (by selling in the network, or settled with the \
                 network): {amount}"
            ),
        }
    }

    pub fn dep_status(&self, status: DepartureStatus) -> &'static str {
        match (self.lang, status) {
            (Lang::Fr, DepartureStatus::Pending) => "en attente",
            (Lang::En, DepartureStatus::Pending) => "waiting",
            (Lang::Fr, DepartureStatus::Withdrawn) => "retiré",
            (Lang::En, DepartureStatus::Withdrawn) => "withdrawn",
            (Lang::Fr, DepartureStatus::Closed) => "compte fermé",
            (Lang::En, DepartureStatus::Closed) => "account closed",
        }
    }
}
