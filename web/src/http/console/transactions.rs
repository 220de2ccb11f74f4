//! `/admin/transactions/{id}`: one transaction as the network's staff see it (kind, time,
//! reference, memo, every posting with its account, what it reverses and what reversed it),
//! and the manager's form to reverse it (`console::reversals`: a reason, required, that both
//! members read as the reversal's memo and that goes in the action log). `/admin/transactions`
//! finds one by its number. Accountants read; members get 403.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use ledger::{TxId, MEMO_LEN_MAX};
use serde::Deserialize;

use super::{form_messages, manager, page_error, reader, request_key, see_other};
use crate::console::reversals;
use crate::http::error::{AppError, AppResult};
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::people;

pub struct PostingView {
    pub account_id: u64,
    /// The member's name, or the system account's kind.
    pub account: String,
    /// The member's id, for a link to its page.
    pub member_id: Option<i64>,
    pub leg: &'static str,
    pub amount: String,
    pub negative: bool,
}

#[derive(Template)]
#[template(path = "console/transaction.html")]
struct TransactionTemplate {
    c: Chrome,
    id: u64,
    kind: &'static str,
    reversible: bool,
    time: String,
    reference: String,
    memo: String,
    reverses: Option<u64>,
    reversed_by: Option<u64>,
    /// Who of a member company entered it (`transaction_authors`).
    entered_by: Option<String>,
    postings: Vec<PostingView>,
    /// Its disputes (`console::disputes`): id and status in words, oldest first.
    disputes: Vec<(i64, &'static str)>,
    can_act: bool,
    errors: Vec<String>,
    typed_reason: String,
    token: String,
    reason_len_max: usize,
}

#[derive(Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
pub struct ReverseForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    token: String,
}

fn tx_id(text: &str) -> AppResult<TxId> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && i64::try_from(*id).is_ok())
        .map(TxId)
        .ok_or(AppError::NotFound)
}

/// `/admin/transactions?id=N`: the transaction's page.
pub async fn find(auth: Auth, Query(query): Query<FindQuery>) -> AppResult<Response> {
    reader(&auth)?;
    let id = tx_id(&query.id)?;
    Ok(see_other(&format!("/admin/transactions/{}", id.0)))
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    id: TxId,
    errors: Vec<String>,
    typed_reason: String,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let reviewed = reversals::transaction(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let tx = &reviewed.transaction;
    // The members behind the postings in one read; a system account shows its kind.
    let accounts = tx.postings().iter().map(|p| p.account).collect();
    let holders = people::holders_of_accounts(&state.store, &accounts).await?;
    let mut postings = Vec::with_capacity(tx.postings().len());
    for p in tx.postings() {
        let holder = holders.get(&p.account);
        let account = match holder {
            Some((_, name)) => name.clone(),
            None => state
                .store
                .account(p.account)
                .await?
                .map(|a| a.kind().as_str().to_owned())
                .unwrap_or_default(),
        };
        postings.push(PostingView {
            account_id: p.account.0,
            account,
            member_id: holder.map(|(id, _)| *id),
            leg: p.leg.as_str(),
            amount: t.lang.amount(p.amount),
            negative: p.amount.is_negative(),
        });
    }
    let disputes = crate::console::disputes::of_transaction(&state.store, &actor, id)
        .await
        .map_err(page_error)?
        .iter()
        .map(|d| (d.id, t.dispute_status(d.status)))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = page(TransactionTemplate {
        c: auth.chrome(),
        id: tx.id().0,
        kind: t.tx_kind(tx.kind()),
        reversible: tx.kind().is_reversible(),
        time: tx.time().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        reverses: tx.reverses().map(|r| r.0),
        reversed_by: reviewed.reversed_by.map(|r| r.0),
        entered_by: state
            .store
            .line_marks(&[tx.id()])
            .await?
            .authors
            .remove(&tx.id())
            .map(|a| a.author().to_owned()),
        postings,
        disputes,
        can_act: actor.require_manager().is_ok(),
        errors,
        typed_reason,
        token: people::random_token(),
        reason_len_max: MEMO_LEN_MAX,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = tx_id(&id)?;
    draw(&state, &auth, id, Vec::new(), String::new()).await
}

pub async fn reverse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Form(form): Form<ReverseForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let id = tx_id(&id)?;
    let key = request_key(&form.token);
    match reversals::reverse(&state.store, &actor, id, &form.reason, &key).await {
        Ok(_) => Ok(see_other(&format!("/admin/transactions/{}", id.0))),
        Err(error) => {
            let errors = form_messages(auth.tr(), error)?;
            let typed: String = form.reason.chars().take(MEMO_LEN_MAX + 1).collect();
            draw(&state, &auth, id, errors, typed).await
        }
    }
}
