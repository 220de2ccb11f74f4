//! E-mail notices of what waits for a member's action, when the server sends e-mail: a
//! payment request received (to the paying company's owner and staff) and a staff user's
//! payment waiting for approval (to the company's owner). Each user chooses on `/account`
//! whether to receive them (`users.mail_notices`, on by default).
//!
//! Each notice is queued once per user and object (`mail::Mail::once`): a form sent twice or
//! a request retried does not send it twice. It does *not* notify payments received, which
//! the history, the dashboard and webhooks show (left for later).

use ledger::Amount;

use super::i18n::Lang;
use super::AppState;
use crate::people::{self, Role};
use crate::store::StoreResult;

/// Users one notice goes to at most (a company's owner and staff).
pub const NOTICE_RECIPIENTS_MAX: i64 = 20;

/// Notifies the buyer's users of payment request `id` (just created by its seller).
pub(crate) async fn request_received(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(request) = crate::trade::request(&state.store, id).await? else {
        return Ok(());
    };
    let seller = people::member(&state.store, request.seller_member_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let link = format!("{}/requests/{id}", state.config.base_url());
    let recipients = people::notice_recipients(
        &state.store,
        request.buyer_member_id,
        &[Role::Owner, Role::Staff],
        NOTICE_RECIPIENTS_MAX,
    )
    .await?;
    let now = people::now_unix();
    for user in recipients {
        let lang = Lang::parse(&user.lang).unwrap_or(Lang::Fr);
        let amount = lang.amount(Amount::from_minor(request.amount_minor));
        let Ok(mail) = crate::mail::payment_request(
            lang,
            &user.email,
            &seller,
            &amount,
            &request.reference,
            &request.due_date,
            &link,
        ) else {
            continue;
        };
        let mail = mail.once(&format!("request:{id}:{}", user.id));
        let _ = crate::mail::enqueue(&state.store, &mail, now).await?;
    }
    Ok(())
}

/// Notifies the paying company's owner of approval request `id` (just made by a staff user).
pub(crate) async fn approval_waiting(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(approval) = crate::approvals::approval(&state.store, id).await? else {
        return Ok(());
    };
    let payee = people::member(&state.store, approval.payee_member_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let link = format!("{}/approvals#approval-{id}", state.config.base_url());
    let recipients = people::notice_recipients(
        &state.store,
        approval.member_id,
        &[Role::Owner],
        NOTICE_RECIPIENTS_MAX,
    )
    .await?;
    let now = people::now_unix();
    for user in recipients {
        let lang = Lang::parse(&user.lang).unwrap_or(Lang::Fr);
        let amount = lang.amount(Amount::from_minor(approval.amount_minor));
        let Ok(mail) = crate::mail::approval_waiting(
            lang,
            &user.email,
            &approval.requested_by_email,
            &payee,
            &amount,
            &link,
        ) else {
            continue;
        };
        let mail = mail.once(&format!("approval:{id}:{}", user.id));
        let _ = crate::mail::enqueue(&state.store, &mail, now).await?;
    }
    Ok(())
}
