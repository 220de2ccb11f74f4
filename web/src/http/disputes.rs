//! Disputes on the member pages (`console::disputes`): `/payments/{id}/dispute` shows a
//! payment the company made and its owner or staff contest it with a reason (the history
//! links it beside each payment made); `/disputes` lists the company's disputes, those it
//! opened (withdrawn there while open) and those about payments it received (answered
//! there, or settled by a refund, `/payments/{id}/refund`). The member accountant reads;
//! its posts answer 403. Another company's payment or dispute is 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use ledger::TxId;
use serde::Deserialize;

use super::console::{form_messages, page_error, time_text};
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Tr};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::disputes::{
    self, Disputable, Dispute, DisputeStatus, DISPUTES_OF_MEMBER_MAX, DISPUTE_AGE_DAYS_MAX,
    DISPUTE_REASON_LEN_MAX, DISPUTE_REPLY_LEN_MAX,
};
use crate::console::ConsoleError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/payments/{id}/dispute", get(new_page).post(open))
        .route("/disputes", get(list_page))
        .route("/disputes/{id}/withdraw", post(withdraw))
        .route("/disputes/{id}/reply", post(reply))
}

/// One dispute as the member pages and the console show it.
pub struct DisputeView {
    pub id: i64,
    pub transaction_id: i64,
    pub date: String,
    pub opened_by: String,
    pub payer: String,
    pub payer_member_id: i64,
    pub payee: String,
    pub payee_member_id: i64,
    pub amount: String,
    pub reason: String,
    pub status: &'static str,
    pub open: bool,
    /// The payee's answer, and when and by whom ("" when none).
    pub reply: String,
    pub replied: String,
    /// When and by whom it closed, and the manager's note ("" when open).
    pub decided: String,
    pub note: String,
}

impl DisputeView {
    pub fn of(t: Tr, d: &Dispute) -> DisputeView {
        let when = |at: Option<i64>, by: &Option<String>| match (at, by) {
            (Some(at), Some(by)) => format!("{} · {by}", time_text(at)),
            (Some(at), None) => time_text(at),
            _ => String::new(),
        };
        DisputeView {
            id: d.id,
            transaction_id: d.transaction_id,
            date: time_text(d.created_at),
            opened_by: d.opened_by.clone(),
            payer: d.payer_name.clone(),
            payer_member_id: d.payer_member_id,
            payee: d.payee_name.clone(),
            payee_member_id: d.payee_member_id,
            amount: t.lang.amount(d.amount),
            reason: d.reason.clone(),
            status: t.dispute_status(d.status),
            open: d.status == DisputeStatus::Open,
            reply: d.reply.clone().unwrap_or_default(),
            replied: when(d.replied_at, &d.replied_by),
            decided: when(d.decided_at, &d.decided_by),
            note: d.decision_note.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "dispute_new.html")]
struct NewTemplate {
    c: Chrome,
    id: u64,
    date: String,
    payee: String,
    amount: String,
    reference: String,
    memo: String,
    reversed_by: Option<String>,
    open: Option<i64>,
    messages: Vec<String>,
    typed_reason: String,
    reason_len_max: usize,
    age_days_max: i64,
}

#[derive(Debug, Default, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// The payment `id` names, if the caller's company paid it to another member.
async fn paid(state: &AppState, member: &crate::people::Member, id: &str) -> AppResult<Disputable> {
    let id: u64 = id.parse().map_err(|_| AppError::NotFound)?;
    disputes::disputable(&state.store, member, TxId(id))
        .await
        .map_err(page_error)?
        .ok_or(AppError::NotFound)
}

fn draw_new(
    auth: &MemberAuth,
    payment: &Disputable,
    status: StatusCode,
    messages: Vec<String>,
    typed: &str,
) -> AppResult<Response> {
    let t = auth.tr();
    let tx = &payment.transaction;
    let mut response = page(NewTemplate {
        c: auth.chrome(),
        id: tx.id().0,
        date: tx.time().format("%d/%m/%Y %H:%M").to_string(),
        payee: payment.payee.name.clone(),
        amount: t.lang.amount(payment.amount),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        reversed_by: payment.reversed_by.map(|r| r.to_string()),
        open: payment.open.as_ref().map(|d| d.id),
        messages,
        typed_reason: typed.chars().take(DISPUTE_REASON_LEN_MAX + 1).collect(),
        reason_len_max: DISPUTE_REASON_LEN_MAX,
        age_days_max: DISPUTE_AGE_DAYS_MAX,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn new_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let payment = paid(&state, &auth.member, &id).await?;
    draw_new(&auth, &payment, StatusCode::OK, Vec::new(), "")
}

async fn open(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let payment = paid(&state, &auth.member, &id).await?;
    let tx = payment.transaction.id();
    match disputes::open(
        &state.store,
        &auth.auth.user,
        &auth.member,
        tx,
        &form.reason,
    )
    .await
    {
        Ok(opened) => {
            super::notices::dispute_changed(&state, opened.id).await?;
            let outcome = Outcome {
                done: Some(auth.tr().dispute_opened_done()),
                ..Outcome::shown()
            };
            draw_list(&state, &auth.into(), outcome).await
        }
        Err(error) => {
            let messages = form_messages(auth.tr(), error)?;
            // Read again: a dispute opened at that moment shows.
            let payment = paid(&state, &auth.member, &id).await?;
            draw_new(
                &auth,
                &payment,
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
                &form.reason,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct ListTemplate {
    c: Chrome,
    opened: Vec<DisputeView>,
    received: Vec<DisputeView>,
    can_act: bool,
    done: Option<&'static str>,
    messages: Vec<String>,
    /// The answer typed for the dispute it was refused on, kept.
    reply_for: i64,
    typed_reply: String,
    reply_len_max: usize,
}

struct Outcome {
    status: StatusCode,
    done: Option<&'static str>,
    messages: Vec<String>,
    reply_for: i64,
    typed_reply: String,
}

impl Outcome {
    fn shown() -> Outcome {
        Outcome {
            status: StatusCode::OK,
            done: None,
            messages: Vec::new(),
            reply_for: 0,
            typed_reply: String::new(),
        }
    }
}

async fn draw_list(
    state: &AppState,
    reader: &MemberReader,
    outcome: Outcome,
) -> AppResult<Response> {
    let t = reader.tr();
    let all = disputes::of_member(&state.store, reader.member.id, DISPUTES_OF_MEMBER_MAX)
        .await
        .map_err(page_error)?;
    let (opened, received): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|d| d.payer_member_id == reader.member.id);
    let c = reader.chrome();
    let can_act = c.is_member();
    let mut response = page(ListTemplate {
        c,
        opened: opened.iter().map(|d| DisputeView::of(t, d)).collect(),
        received: received.iter().map(|d| DisputeView::of(t, d)).collect(),
        can_act,
        done: outcome.done,
        messages: outcome.messages,
        reply_for: outcome.reply_for,
        typed_reply: outcome
            .typed_reply
            .chars()
            .take(DISPUTE_REPLY_LEN_MAX + 1)
            .collect(),
        reply_len_max: DISPUTE_REPLY_LEN_MAX,
    })?;
    *response.status_mut() = outcome.status;
    Ok(response)
}

async fn list_page(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw_list(&state, &reader, Outcome::shown()).await
}

/// The list again after a step: its message, or the refusal worded (403, 404 and store
/// failures are error pages).
async fn after(
    state: &AppState,
    auth: MemberAuth,
    result: Result<Dispute, ConsoleError>,
    done: &'static str,
    typed: (i64, String),
) -> AppResult<Response> {
    let outcome = match result {
        Ok(_) => Outcome {
            done: Some(done),
            ..Outcome::shown()
        },
        Err(error) => Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            messages: form_messages(auth.tr(), error)?,
            reply_for: typed.0,
            typed_reply: typed.1,
            ..Outcome::shown()
        },
    };
    draw_list(state, &auth.into(), outcome).await
}

async fn withdraw(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let result = disputes::withdraw(&state.store, &auth.auth.user, &auth.member, id).await;
    let done = auth.tr().dispute_withdrawn_done();
    after(&state, auth, result, done, (0, String::new())).await
}

#[derive(Debug, Default, Deserialize)]
struct ReplyForm {
    #[serde(default)]
    reply: String,
}

async fn reply(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
    Form(form): Form<ReplyForm>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let result =
        disputes::reply(&state.store, &auth.auth.user, &auth.member, id, &form.reply).await;
    if result.is_ok() {
        super::notices::dispute_changed(&state, id).await?;
    }
    let done = auth.tr().dispute_replied_done();
    after(&state, auth, result, done, (id, form.reply)).await
}

catalogue! {
    dispute_title => "Contestations", "Disputes";
    dispute_new_title => "Contester un paiement", "Dispute a payment";
    dispute_link => "Contester", "Dispute";
    dispute_intro => "Vous avez payé et la prestation n'a pas été rendue, ou pas comme convenu ? Contestez le paiement : le vendeur voit votre contestation et peut y répondre ou vous rembourser. À défaut d'accord, le gestionnaire du réseau tranche : il annule le paiement (vous récupérez tout ce que vous avez payé, frais compris) ou rejette la contestation. Le paiement reste en l'état en attendant. Parlez d'abord au vendeur : la plupart des désaccords se règlent entre entreprises.", "You paid and the goods or service did not come, or not as agreed? Dispute the payment: the seller sees your dispute and may answer it or refund you. If you do not agree, the network's manager decides: it reverses the payment (you get back all you paid, fees included) or dismisses the dispute. The payment stands meanwhile. Talk to the seller first: most disagreements are settled between companies.";
    dispute_rules => "Une entreprise qui a payé peut contester le paiement dans les 90 jours (page Historique, lien « Contester ») en disant pourquoi. Le vendeur voit la contestation, peut y répondre ou rembourser le paiement. À défaut d'accord, le gestionnaire du réseau tranche : il annule le paiement (l'acheteur récupère tout ce qu'il a payé, frais compris, et le vendeur le rend) ou rejette la contestation, avec une note que les deux entreprises lisent. Les décisions du gestionnaire sont inscrites au journal des actions du réseau.", "A company that paid may dispute the payment within 90 days (History page, \"Dispute\" link), saying why. The seller sees the dispute and may answer it or refund the payment. If they do not agree, the network's manager decides: it reverses the payment (the buyer gets back all it paid, fees included, and the seller gives it back) or dismisses the dispute, with a note both companies read. The manager's decisions are written in the network's action log.";
    dispute_payee => "Bénéficiaire", "Payee";
    dispute_payer => "Payeur", "Payer";
    dispute_reason => "Pourquoi contestez-vous ce paiement ?", "Why do you dispute this payment?";
    dispute_reason_short => "Motif", "Reason";
    dispute_submit => "Contester ce paiement", "Dispute this payment";
    dispute_age => "Un paiement peut être contesté jusqu'à ce nombre de jours après avoir été fait :", "A payment may be disputed up to this many days after it was made:";
    dispute_reversed => "Ce paiement a été remboursé ou annulé : il n'y a plus rien à contester.", "This payment was refunded or reversed: there is nothing left to dispute.";
    dispute_already_open => "Une contestation est ouverte sur ce paiement :", "A dispute is open on this payment:";
    dispute_see_all => "voir vos contestations", "see your disputes";
    dispute_opened => "Vos contestations (paiements que vous avez faits)", "Your disputes (payments you made)";
    dispute_received => "Contestations de vos ventes (paiements que vous avez reçus)", "Disputes of your sales (payments you received)";
    dispute_status_title => "État", "Status";
    dispute_reply => "Réponse du vendeur", "The seller's answer";
    dispute_reply_label => "Votre réponse à l'acheteur (et au gestionnaire)", "Your answer to the buyer (and the manager)";
    dispute_reply_submit => "Répondre", "Answer";
    dispute_refund => "Rembourser ce paiement…", "Refund this payment…";
    dispute_withdraw => "Retirer la contestation (réglée entre nous)", "Withdraw the dispute (settled between us)";
    dispute_decision => "Décision", "Decision";
    dispute_payment => "Paiement", "Payment";
    dispute_opened_done => "Votre contestation est enregistrée : le vendeur et le gestionnaire du réseau la voient.", "Your dispute is recorded: the seller and the network's manager see it.";
    dispute_withdrawn_done => "La contestation est retirée.", "The dispute is withdrawn.";
    dispute_replied_done => "Votre réponse est enregistrée : l'acheteur et le gestionnaire du réseau la voient.", "Your answer is recorded: the buyer and the network's manager see it.";
    dispute_none => "Aucune contestation.", "No dispute.";
    dispute_order_hint => "livraison absente ou non conforme ? Parlez-en au vendeur, puis contestez le paiement.", "delivery missing or not as agreed? Talk to the seller, then dispute the payment.";
}

impl Tr {
    pub fn dispute_status(&self, status: DisputeStatus) -> &'static str {
        use super::i18n::Lang;
        match (self.lang, status) {
            (Lang::Fr, DisputeStatus::Open) => "ouverte",
            (Lang::En, DisputeStatus::Open) => "open",
            (Lang::Fr, DisputeStatus::Withdrawn) => "retirée par l'acheteur",
            (Lang::En, DisputeStatus::Withdrawn) => "withdrawn by the buyer",
            (Lang::Fr, DisputeStatus::Refunded) => "remboursée par le vendeur",
            (Lang::En, DisputeStatus::Refunded) => "refunded by the seller",
            (Lang::Fr, DisputeStatus::Reversed) => "paiement annulé par le réseau",
            (Lang::En, DisputeStatus::Reversed) => "payment reversed by the network",
            (Lang::Fr, DisputeStatus::Dismissed) => "rejetée par le réseau",
            (Lang::En, DisputeStatus::Dismissed) => "dismissed by the network",
        }
    }

    /// A dashboard reminder: one of the company's disputes closed lately.
    pub fn reminder_dispute_closed(&self, d: &Dispute, me: i64) -> String {
        use super::i18n::Lang;
        let other = if d.payer_member_id == me {
            &d.payee_name
        } else {
            &d.payer_name
        };
        let amount = self.lang.amount(d.amount);
        let status = self.dispute_status(d.status);
        let note = match (d.decision_note.as_deref(), self.lang) {
            (Some(note), Lang::Fr) if !note.is_empty() => format!(" Note : {note}"),
            (Some(note), Lang::En) if !note.is_empty() => format!(" Note: {note}"),
            _ => String::new(),
        };
        match self.lang {
            Lang::Fr => format!(
                "Contestation n° {} (paiement n° {}, {amount}, {other}) : {status}.{note}",
                d.id, d.transaction_id
            ),
            Lang::En => format!(
                "Dispute n° {} (payment n° {}, {amount}, {other}): {status}.{note}",
                d.id, d.transaction_id
            ),
        }
    }

    /// The console's member page: its open disputes, as payer and as payee.
    pub fn con_member_disputes(&self, opened: &i64, received: &i64) -> String {
        use super::i18n::Lang;
        match self.lang {
            Lang::Fr => {
                format!("Contestations ouvertes : {opened} par ce membre, {received} de ses ventes")
            }
            Lang::En => format!("Open disputes: {opened} by this member, {received} of its sales"),
        }
    }

    pub fn disputes_waiting(&self, count: &i64) -> String {
        use super::i18n::Lang;
        match self.lang {
            Lang::Fr => {
                format!("Contestations de vos ventes en attente de votre réponse : {count}")
            }
            Lang::En => format!("Disputes of your sales waiting for your answer: {count}"),
        }
    }
}
