//! `/approvals`: payments waiting for the owner's approval (`crate::approvals`). A staff user
//! whose payment is over its limit asks from the pay form (`POST /pay/approval`, offered
//! next to the limit's message); the owner sees every request of the company and approves
//! (the company pays, recorded as entered by the staff user) or declines it with a note;
//! a staff user sees its own requests and withdraws those still waiting. A request of
//! another company, or another staff user's, is 404.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::console::time_text;
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Lang, Tr};
use super::invoices::query_value;
use super::money::{
    account_of, figures, pay_form, token_is_valid, validate_pay, Figures, PayErrors, PayPurpose,
    PayValues,
};
use super::session::MemberAuth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::approvals::{
    self, Approval, ApprovalStatus, Filter, NewApproval, TooManyPending, APPROVALS_PENDING_MAX,
    APPROVAL_NOTE_LEN_MAX, APPROVAL_WAIT_DAYS_MAX,
};
use crate::people::{self, Role};
use crate::trade::PaymentOrder;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pay/approval", post(ask))
        .route("/approvals", get(list_page))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/decline", post(decline))
        .route("/approvals/{id}/withdraw", post(withdraw))
}

/// Requests one page lists.
pub const APPROVALS_PAGE_SIZE: i64 = 50;

catalogue! {
    approvals_title => "Paiements à approuver", "Payments awaiting approval";
    approvals_intro_owner => "Les paiements que votre équipe a demandés au-delà de son plafond par opération. Rien n'est payé avant votre accord.", "Payments your staff asked for above their limit per operation. Nothing is paid before you approve.";
    approvals_intro_staff => "Vos paiements au-delà de votre plafond, en attente de l'accord du titulaire du compte.", "Your payments above your limit, waiting for the account owner's approval.";
    approval_ask => "Demander l'accord du titulaire", "Ask the owner to approve";
    approval_approve => "Approuver et payer", "Approve and pay";
    approval_decline => "Refuser", "Decline";
    approval_withdraw => "Retirer la demande", "Withdraw";
    approval_note => "Motif (facultatif)", "Reason (optional)";
    approval_requested_by => "Demandé par", "Asked by";
    approval_decided => "Décision", "Decision";
    approval_asked => "Demande envoyée au titulaire du compte.", "Request sent to the account's owner.";
    approval_paid => "Paiement approuvé et effectué.", "Payment approved and made.";
    approval_declined => "Demande refusée.", "Request declined.";
    approval_withdrawn => "Demande retirée.", "Request withdrawn.";
    approval_not_pending => "Cette demande n'est plus en attente.", "This request is no longer waiting.";
    approval_not_needed => "Ce paiement est dans votre plafond : payez-le directement.", "This payment is within your limit: pay it directly.";
    approval_status_pending => "En attente", "Waiting";
    approval_status_approved => "Approuvé", "Approved";
    approval_status_declined => "Refusé", "Declined";
    approval_status_withdrawn => "Retiré", "Withdrawn";
    approval_status_expired => "Expiré", "Expired";
    approvals_show_all => "Toutes les demandes", "All requests";
    approvals_show_waiting => "En attente seulement", "Waiting only";
}

impl Tr {
    /// The pay form's offer to ask the owner, when only the staff limit refused it.
    pub fn approval_offer(&self) -> String {
        match self.lang {
            Lang::Fr => format!(
                "Vous pouvez demander au titulaire du compte d'approuver ce paiement : rien \
                 n'est payé avant son accord, et la demande expire au bout de \
                 {APPROVAL_WAIT_DAYS_MAX} jours sans décision."
            ),
            Lang::En => format!(
                "You may ask the account's owner to approve this payment: nothing is paid \
                 before they approve, and the request expires after {APPROVAL_WAIT_DAYS_MAX} \
                 days without a decision."
            ),
        }
    }

    pub fn approvals_too_many(&self) -> String {
        match self.lang {
            Lang::Fr => format!(
                "Votre entreprise a déjà {APPROVALS_PENDING_MAX} paiements en attente d'accord : \
                 attendez la décision du titulaire."
            ),
            Lang::En => format!(
                "Your company already has {APPROVALS_PENDING_MAX} payments awaiting approval: \
                 wait for the owner's decision."
            ),
        }
    }

    pub fn approval_note_too_long(&self) -> String {
        match self.lang {
            Lang::Fr => format!("Le motif fait au plus {APPROVAL_NOTE_LEN_MAX} caractères."),
            Lang::En => format!("The reason is at most {APPROVAL_NOTE_LEN_MAX} characters."),
        }
    }

    /// The dashboard's notice to the owner.
    pub fn approvals_waiting(&self, count: &i64) -> String {
        match (self.lang, *count) {
            (Lang::Fr, 1) => "1 paiement de votre équipe attend votre accord.".to_owned(),
            (Lang::Fr, n) => format!("{n} paiements de votre équipe attendent votre accord."),
            (Lang::En, 1) => "1 payment of your staff is waiting for your approval.".to_owned(),
            (Lang::En, n) => format!("{n} payments of your staff are waiting for your approval."),
        }
    }

    /// A staff user's dashboard: the owner's answer to one of its requests.
    pub fn reminder_approval_decided(&self, approval: &Approval, payee: &str) -> String {
        let amount = self.lang.amount(approval.amount());
        let note = if approval.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", approval.note)
        };
        match (self.lang, approval.status) {
            (Lang::Fr, ApprovalStatus::Approved) => {
                format!("Votre paiement de {amount} à {payee} a été approuvé et effectué.")
            }
            (Lang::Fr, ApprovalStatus::Expired) => format!(
                "Votre demande de paiement de {amount} à {payee} a expiré sans décision du \
                 titulaire après {APPROVAL_WAIT_DAYS_MAX} jours : rien n'a été payé."
            ),
            (Lang::Fr, _) => {
                format!("Votre paiement de {amount} à {payee} a été refusé par le titulaire{note}.")
            }
            (Lang::En, ApprovalStatus::Approved) => {
                format!("Your payment of {amount} to {payee} was approved and made.")
            }
            (Lang::En, ApprovalStatus::Expired) => format!(
                "Your request to pay {amount} to {payee} expired after \
                 {APPROVAL_WAIT_DAYS_MAX} days without the owner's decision: nothing was paid."
            ),
            (Lang::En, _) => {
                format!("Your payment of {amount} to {payee} was declined by the owner{note}.")
            }
        }
    }

    fn approval_status(&self, status: ApprovalStatus) -> &'static str {
        match status {
            ApprovalStatus::Pending => self.approval_status_pending(),
            ApprovalStatus::Approved => self.approval_status_approved(),
            ApprovalStatus::Declined => self.approval_status_declined(),
            ApprovalStatus::Withdrawn => self.approval_status_withdrawn(),
            ApprovalStatus::Expired => self.approval_status_expired(),
        }
    }
}

fn is_owner(auth: &MemberAuth) -> bool {
    auth.auth.user.role == Role::Owner
}

/// A staff user over its limit asks the owner to approve the payment it could not make.
async fn ask(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(values): Form<PayValues>,
) -> AppResult<Response> {
    if !token_is_valid(&values.token) {
        return Err(AppError::BadRequest);
    }
    let valid = match validate_pay(&state, &auth, &values, PayPurpose::Approval).await? {
        Ok(valid) => valid,
        Err(errors) => return pay_form(&state, &auth, values, errors, None).await,
    };
    let t = auth.tr();
    if crate::spending::within_limits(
        &state.store,
        &auth.auth.user,
        valid.amount,
        crate::people::now_unix(),
    )
    .await?
    {
        // The owner, or a staff user within its limits: nothing to approve.
        let message = t.approval_not_needed().to_owned();
        return pay_form(&state, &auth, values, PayErrors::default(), Some(message)).await;
    }
    let order = PaymentOrder {
        amount: valid.amount,
        reference: valid.reference,
        memo: valid.memo,
    };
    let form_token = format!("web-{}-{}", auth.member.id, values.token);
    let new = NewApproval {
        payer: &auth.member,
        payee: &valid.payee,
        order: &order,
        requested_by: &auth.auth.user,
        form_token: &form_token,
    };
    match approvals::create(&state.store, &new).await? {
        Ok(id) => {
            super::notices::approval_waiting(&state, id).await?;
            Ok(Redirect::to(&format!("/approvals?done=asked#approval-{id}")).into_response())
        }
        Err(TooManyPending) => {
            let message = t.approvals_too_many();
            pay_form(&state, &auth, values, PayErrors::default(), Some(message)).await
        }
    }
}

/// One request as the page shows it.
pub struct ApprovalLine {
    id: i64,
    created: String,
    requested_by: String,
    payee: String,
    amount: String,
    /// What approving it would debit now: the amount and the buyer's fees at the rules in
    /// force (empty once decided).
    total: String,
    reference: String,
    memo: String,
    status: &'static str,
    /// Who decided and when, with the owner's note.
    decided: String,
    tx: Option<i64>,
    can_decide: bool,
    can_withdraw: bool,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct ListTemplate {
    c: Chrome,
    owner: bool,
    figures: Figures,
    lines: Vec<ApprovalLine>,
    /// Only the requests still waiting (`?status=pending`).
    waiting_only: bool,
    next: Option<i64>,
    done: Option<&'static str>,
    message: Option<String>,
    note_max: usize,
}

async fn list_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let before = match query_value(raw.as_deref(), "before") {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AppError::BadRequest)?,
        ),
    };
    let t = auth.tr();
    let done = match query_value(raw.as_deref(), "done") {
        Some("asked") => Some(t.approval_asked()),
        Some("paid") => Some(t.approval_paid()),
        Some("declined") => Some(t.approval_declined()),
        Some("withdrawn") => Some(t.approval_withdrawn()),
        _ => None,
    };
    let filter = match query_value(raw.as_deref(), "status") {
        None | Some("") | Some("all") => Filter::All,
        Some("pending") => Filter::Pending,
        Some(_) => return Err(AppError::BadRequest),
    };
    list(&state, &auth, View { filter, before }, done, None).await
}

/// Which requests the list shows: all or only those waiting, from the page after `before`.
#[derive(Debug, Clone, Copy)]
struct View {
    filter: Filter,
    before: Option<i64>,
}

impl Default for View {
    fn default() -> View {
        View {
            filter: Filter::All,
            before: None,
        }
    }
}

async fn list(
    state: &AppState,
    auth: &MemberAuth,
    view: View,
    done: Option<&'static str>,
    message: Option<String>,
) -> AppResult<Response> {
    approvals::expire_overdue(&state.store).await?;
    let owner = is_owner(auth);
    let user = &auth.auth.user;
    // The owner sees the company's requests; a staff user its own.
    let requested_by = (!owner).then_some(user.id);
    let (rows, next) = approvals::page(
        &state.store,
        auth.member.id,
        requested_by,
        view.filter,
        view.before,
        APPROVALS_PAGE_SIZE,
    )
    .await?;
    let payees: BTreeSet<i64> = rows.iter().map(|a| a.payee_member_id).collect();
    let names = people::names_of_members(&state.store, &payees).await?;
    let t = auth.tr();
    let account = account_of(state, &auth.member).await?;
    let policy = state.store.policy().await?;
    let lines = rows
        .iter()
        .map(|a| ApprovalLine {
            total: if a.is_pending() {
                let fees = policy.fees.fees_for(a.amount());
                a.amount()
                    .checked_add(fees.buyer_extra())
                    .map(|total| t.lang.amount(total))
                    .unwrap_or_default()
            } else {
                String::new()
            },
            id: a.id,
            created: time_text(a.created_at),
            requested_by: a.requested_by_email.clone(),
            payee: names.get(&a.payee_member_id).cloned().unwrap_or_default(),
            amount: t.lang.amount(a.amount()),
            reference: a.reference.clone(),
            memo: a.memo.clone(),
            status: t.approval_status(a.status),
            decided: decided_text(t.lang, a),
            tx: a.tx_id,
            can_decide: owner && a.is_pending(),
            can_withdraw: a.is_pending() && a.requested_by == user.id,
        })
        .collect();
    let failed = message.is_some();
    let mut response = page(ListTemplate {
        c: auth.chrome(),
        owner,
        figures: figures(t.lang, &account),
        lines,
        waiting_only: view.filter == Filter::Pending,
        next,
        done,
        message,
        note_max: APPROVAL_NOTE_LEN_MAX,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Who decided and when; for a waiting request, until when it waits; for an expired one,
/// when it expired.
fn decided_text(lang: Lang, a: &Approval) -> String {
    match (a.status, lang) {
        (ApprovalStatus::Pending, Lang::Fr) => {
            return format!("expire le {}", time_text(a.expires_at()))
        }
        (ApprovalStatus::Pending, Lang::En) => {
            return format!("expires {}", time_text(a.expires_at()))
        }
        (ApprovalStatus::Expired, _) => return time_text(a.decided_at.unwrap_or_default()),
        _ => {}
    }
    let (Some(by), Some(at)) = (&a.decided_by, a.decided_at) else {
        return String::new();
    };
    let mut text = format!("{by}, {}", time_text(at));
    if !a.note.is_empty() {
        text.push_str(" : ");
        text.push_str(&a.note);
    }
    text
}

/// The company's request `id`; another company's, or another staff user's when the caller
/// is staff, is 404 like an unknown one.
async fn visible(state: &AppState, auth: &MemberAuth, id: i64) -> AppResult<Approval> {
    approvals::expire_overdue(&state.store).await?;
    let approval = approvals::approval(&state.store, id)
        .await?
        .filter(|a| a.visible_to(&auth.auth.user))
        .ok_or(AppError::NotFound)?;
    Ok(approval)
}

/// The owner approves: the company pays now. A ledger refusal redraws the list with its
/// reason and the request stays waiting.
async fn approve(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let approval = visible(&state, &auth, id).await?;
    if !is_owner(&auth) {
        return Err(AppError::Forbidden);
    }
    let t = auth.tr();
    match approval.status {
        // A second click after the first one paid: show the result, pay nothing.
        ApprovalStatus::Approved => return Ok(Redirect::to("/approvals?done=paid").into_response()),
        ApprovalStatus::Pending => {}
        _ => {
            return list(
                &state,
                &auth,
                View::default(),
                None,
                Some(t.approval_not_pending().into()),
            )
            .await
        }
    }
    let payee = people::member(&state.store, approval.payee_member_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let outcome = approvals::approve(
        &state.store,
        &approval,
        &auth.auth.user,
        &auth.member,
        &payee,
    )
    .await?;
    match outcome {
        Ok(_) => Ok(Redirect::to("/approvals?done=paid").into_response()),
        Err(rejection) => {
            list(
                &state,
                &auth,
                View::default(),
                None,
                Some(t.rejection(&rejection)),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct DeclineForm {
    #[serde(default)]
    note: String,
}

async fn decline(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
    Form(form): Form<DeclineForm>,
) -> AppResult<Response> {
    let approval = visible(&state, &auth, id).await?;
    if !is_owner(&auth) {
        return Err(AppError::Forbidden);
    }
    let t = auth.tr();
    let note = form.note.trim();
    if ledger::char_len(note) > APPROVAL_NOTE_LEN_MAX {
        return list(
            &state,
            &auth,
            View::default(),
            None,
            Some(t.approval_note_too_long()),
        )
        .await;
    }
    if !approvals::decline(&state.store, approval.id, &auth.auth.user, note).await? {
        return list(
            &state,
            &auth,
            View::default(),
            None,
            Some(t.approval_not_pending().into()),
        )
        .await;
    }
    Ok(Redirect::to("/approvals?done=declined").into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let approval = visible(&state, &auth, id).await?;
    if approval.requested_by != auth.auth.user.id {
        return Err(AppError::Forbidden);
    }
    if !approvals::withdraw(&state.store, approval.id, &auth.auth.user).await? {
        let message = auth.tr().approval_not_pending().to_owned();
        return list(&state, &auth, View::default(), None, Some(message)).await;
    }
    Ok(Redirect::to("/approvals?done=withdrawn").into_response())
}
