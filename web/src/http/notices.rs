//! E-mail notices, when the server sends e-mail: a payment request received (to the paying
//! company's owner and staff), and its follow-ups (overdue, to the same; declined or
//! expired, to the seller's owner and staff); an order (placed, to the seller; delivered,
//! to the buyer; cancelled, to the other party; expiring undelivered, to the seller;
//! expired, to both); a dispute's steps (to
//! the other company; the manager's decision to both); a staff user's payment
//! waiting for approval (to the company's owner); an hourly digest of the payments a
//! company received (to its owner and staff); what the network's manager did to a
//! company's account (its limits, a request for a limit declined, a freeze: to its owner)
//! or to the network's fees (to every owner); a weekly e-mail of the new listings that
//! could interest a company (to its owner and staff); the monthly statement of a company's
//! account (to its owner and accountant); reminders of the network's return-to-zero rule
//! to a company whose balance stays below zero (to its owner and staff, `crate::zero`);
//! to the network's managers, what members and
//! applicants ask of them (applications, limit requests, disputes, departures) and the
//! companies past the return-to-zero rule. Each user
//! chooses on `/account` (or `PUT /api/v1/me/notices`) which of four kinds to receive
//! (`people::MailKind`: the notices, the digest of payments, the new listings, the
//! statements; all on by default).
//!
//! A request received or declined, an order placed, delivered or cancelled, a dispute
//! opened or answered and a payment waiting for approval are queued by the routes that make
//! them; the others by the
//! server's housekeeping ([`run_due`]), which follows the ledger, the action log, the
//! marketplace and the members' requests from the marks of `notice_marks`, and the
//! requests, orders and disputes that fell due or closed from marks in their own rows. Each notice is queued once per user and object
//! (`mail::Mail::once`): a form sent twice, a request retried or two processes digesting
//! the same hour do not send it twice. It does *not* notify payments sent, the fees charged
//! on them or refunds (the history, the dashboard and webhooks show them), nor queue
//! anything when the server sends no e-mail.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use ledger::Amount;

use super::i18n::Lang;
use super::AppState;
use crate::dispatch;
use crate::mail::{
    ActionNotice, DisputeMail, DisputeStep, InboxItem, InboxLine, Mail, MailError, MatchLine,
    MatchesDigest, NetworkAction, OrderMail, ReceivedDigest, ReceivedLine, RequestFollowUp,
    StatementMail,
};
use crate::people::{self, MailKind, Role};
use crate::store::StoreResult;
use crate::trade::OrderFollowUp;

/// Users one notice goes to at most (a company's owner and staff).
pub const NOTICE_RECIPIENTS_MAX: i64 = 20;
/// The period a digest of payments received covers: an hour.
pub const DIGEST_PERIOD_SECONDS: i64 = 3_600;
/// How long after the end of an hour its digest waits, so that a payment stamped just
/// before the hour and committed just after it is in it.
pub const DIGEST_GRACE_SECONDS: i64 = 60;
/// The longest a digest looks back: after a server was stopped for longer, the hours before
/// are not digested.
pub const DIGEST_LOOKBACK_SECONDS_MAX: i64 = 86_400;
/// Payments listed one by one in a digest (the others are counted).
pub const DIGEST_LINES_MAX: i64 = 10;
/// Companies digested for one period (ordered by member id; the others are skipped and
/// logged: past this, the outbox's own bound would drop e-mails anyway).
pub const DIGEST_MEMBERS_MAX: i64 = 5_000;
/// Companies told of a change of the network's fees (their owners; past it, the outbox's
/// own bound would drop e-mails anyway).
pub const FEE_NOTICE_RECIPIENTS_MAX: i64 = 10_000;
/// Action-log entries read at once when notifying the network's actions (the others wait
/// for the next call).
pub const ACTIONS_READ_MAX: i64 = 500;
/// The period of the e-mail of new listings: a week, from Monday 00:00 UTC.
pub const MATCHES_PERIOD_SECONDS: i64 = 7 * 86_400;
/// Where weeks start: 1970-01-05, the first Monday after the Unix epoch (a Thursday).
const MONDAY_SECONDS: i64 = 4 * 86_400;
/// Companies sent the e-mail of new listings in one week (in member id order).
pub const MATCHES_MEMBERS_MAX: i64 = 5_000;
/// Companies whose monthly statement is made in one call of the housekeeping (in member id
/// order; the next calls go on from the last one).
pub const STATEMENT_MEMBERS_PER_CALL: i64 = 500;
// A chunk's accounts are read at once.
const _: () = assert!(STATEMENT_MEMBERS_PER_CALL as usize <= crate::store::ACCOUNTS_READ_MAX);
/// Longest name, reference, title or city shown on a line of a digest or of the weekly
/// e-mail of new listings.
const DIGEST_TEXT_LEN_MAX: usize = 60;

/// Queues an e-mail of `kind` to each user of `member_id` with one of `roles` who chose to
/// get that kind, written by `message` in the user's language to the user's address, at
/// most once under `{key}:{user id}`. Returns how many were queued (or had been before).
async fn notify<F>(
    state: &AppState,
    member_id: i64,
    roles: &[Role],
    kind: MailKind,
    key: &str,
    message: F,
) -> StoreResult<u64>
where
    F: Fn(Lang, &str) -> Result<Mail, MailError>,
{
    let recipients =
        people::notice_recipients(&state.store, member_id, roles, kind, NOTICE_RECIPIENTS_MAX)
            .await?;
    notify_users(state, &recipients, key, message).await
}

/// Queues a notice to each of `recipients` (see [`notify`]).
async fn notify_users<F>(
    state: &AppState,
    recipients: &[people::User],
    key: &str,
    message: F,
) -> StoreResult<u64>
where
    F: Fn(Lang, &str) -> Result<Mail, MailError>,
{
    let now = people::now_unix();
    let mut queued = 0;
    for user in recipients {
        let lang = Lang::parse(&user.lang).unwrap_or(Lang::Fr);
        let Ok(mail) = message(lang, &user.email) else {
            continue;
        };
        let mail = mail.once(&format!("{key}:{}", user.id));
        if crate::mail::enqueue(&state.store, &mail, now)
            .await?
            .is_ok()
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The name of member `id` (empty when it is gone).
async fn member_name(state: &AppState, id: i64) -> StoreResult<String> {
    Ok(people::member(&state.store, id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default())
}

/// Notifies the buyer's users of payment request `id` (just created by its seller).
pub(crate) async fn request_received(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(request) = crate::trade::request(&state.store, id).await? else {
        return Ok(());
    };
    let seller = member_name(state, request.seller_member_id).await?;
    let link = format!("{}/requests/{id}", state.config.base_url());
    notify(
        state,
        request.buyer_member_id,
        &[Role::Owner, Role::Staff],
        MailKind::Notices,
        &format!("request:{id}"),
        |lang, to| {
            let amount = lang.amount(Amount::from_minor(request.amount_minor));
            crate::mail::payment_request(
                lang,
                to,
                &seller,
                &amount,
                &request.reference,
                &request.due_date,
                &link,
            )
        },
    )
    .await?;
    Ok(())
}

/// The dates of request `request` as its follow-ups say them: its due date and the last day
/// it may be paid (« 31/01/2027 », "2027-01-31").
fn request_dates(lang: Lang, request: &crate::trade::PaymentRequest) -> (String, String) {
    let Ok(due) = chrono::NaiveDate::parse_from_str(&request.due_date, "%Y-%m-%d") else {
        return (request.due_date.clone(), String::new());
    };
    let last = due + chrono::Duration::seconds(crate::trade::REQUEST_GRACE_SECONDS);
    let format = match lang {
        Lang::Fr => "%d/%m/%Y",
        Lang::En => "%Y-%m-%d",
    };
    (
        due.format(format).to_string(),
        last.format(format).to_string(),
    )
}

/// What a follow-up of a payment request tells, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestNotice {
    /// To the buyer: the due date passed.
    Overdue,
    /// To the seller: the buyer declined it.
    Declined,
    /// To the seller: it expired unpaid.
    Expired,
}

impl RequestNotice {
    /// The notice's key for request `id` (a user's id is added to it).
    fn key(self, id: i64) -> String {
        let what = match self {
            RequestNotice::Overdue => "overdue",
            RequestNotice::Declined => "declined",
            RequestNotice::Expired => "expired",
        };
        format!("request-{what}:{id}")
    }
}

/// Queues `notice` of `request` to the owner and staff of the company it goes to (the buyer
/// for an overdue request, the seller for one declined or expired), once per user. Returns
/// how many were queued.
async fn request_follow_up(
    state: &AppState,
    request: &crate::trade::PaymentRequest,
    notice: RequestNotice,
) -> StoreResult<u64> {
    let (member_id, counterparty_id) = match notice {
        RequestNotice::Overdue => (request.buyer_member_id, request.seller_member_id),
        RequestNotice::Declined | RequestNotice::Expired => {
            (request.seller_member_id, request.buyer_member_id)
        }
    };
    let counterparty = member_name(state, counterparty_id).await?;
    let link = format!("{}/requests/{}", state.config.base_url(), request.id);
    notify(
        state,
        member_id,
        &[Role::Owner, Role::Staff],
        MailKind::Notices,
        &notice.key(request.id),
        |lang, to| {
            let amount = lang.amount(Amount::from_minor(request.amount_minor));
            let (due, payable_until) = request_dates(lang, request);
            let follow_up = RequestFollowUp {
                counterparty: &counterparty,
                amount: &amount,
                reference: &request.reference,
                due: &due,
                payable_until: &payable_until,
                link: &link,
            };
            match notice {
                RequestNotice::Overdue => crate::mail::request_overdue(lang, to, &follow_up),
                RequestNotice::Declined => crate::mail::request_declined(lang, to, &follow_up),
                RequestNotice::Expired => crate::mail::request_expired(lang, to, &follow_up),
            }
        },
    )
    .await
}

/// Tells the seller's owner and staff that the buyer declined payment request `id` (just
/// declined, on the request's page or through the API).
pub(crate) async fn request_declined(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(request) = crate::trade::request(&state.store, id).await? else {
        return Ok(());
    };
    request_follow_up(state, &request, RequestNotice::Declined).await?;
    Ok(())
}

/// What one call of [`request_follow_ups`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUpsQueued {
    /// Buyers told of a request whose due date passed (requests).
    pub overdue: u64,
    /// Sellers told that their request expired (requests).
    pub expired: u64,
    /// E-mails queued.
    pub queued: u64,
}

/// Requests followed up in one call, of each kind (the rest at the next calls).
pub const FOLLOW_UPS_PER_CALL: i64 = 500;

/// The follow-ups of payment requests due at `now`: to the buyer's owner and staff, a
/// request whose due date passed (the day after it, UTC) and that is neither paid nor
/// declined, with the last day it may be paid; to the seller's, a request that expired
/// unpaid. Each once (`payment_requests.overdue_noticed_at`, `expiry_noticed_at`), at most
/// [`FOLLOW_UPS_PER_CALL`] of each a call, and none older than
/// [`crate::trade::FOLLOW_UP_WINDOW_SECONDS`]. Run by the housekeeping after its sweep of
/// expired requests; nothing when the server sends no e-mail.
pub async fn request_follow_ups(state: &AppState, now: i64) -> StoreResult<FollowUpsQueued> {
    use crate::trade::{follow_up_sent, follow_ups_due, FollowUp};
    if state.mail.is_none() {
        return Ok(FollowUpsQueued::default());
    }
    let mut done = FollowUpsQueued::default();
    for request in follow_ups_due(&state.store, FollowUp::Overdue, now, FOLLOW_UPS_PER_CALL).await?
    {
        done.queued += request_follow_up(state, &request, RequestNotice::Overdue).await?;
        follow_up_sent(&state.store, FollowUp::Overdue, request.id, now).await?;
        done.overdue += 1;
    }
    for request in follow_ups_due(&state.store, FollowUp::Expired, now, FOLLOW_UPS_PER_CALL).await?
    {
        done.queued += request_follow_up(state, &request, RequestNotice::Expired).await?;
        follow_up_sent(&state.store, FollowUp::Expired, request.id, now).await?;
        done.expired += 1;
    }
    Ok(done)
}

/// What an e-mail about an order tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderNotice {
    /// To the seller: a new order.
    Placed,
    /// To the buyer: the seller delivered (and was paid).
    Delivered,
    /// To the party that did not cancel it (the member id of the one who did).
    Cancelled { by: i64 },
    /// To both parties: it expired undelivered.
    Expired,
    /// To the seller: it expires soon, undelivered.
    Expiring,
}

/// Queues `notice` of `order` to the owner and staff of the companies it goes to, once per
/// user and order. Returns how many were queued.
async fn order_notice(
    state: &AppState,
    order: &crate::trade::Order,
    notice: OrderNotice,
) -> StoreResult<u64> {
    let (buyer, seller) = (order.buyer_member_id, order.seller_member_id);
    let (recipients, what): (Vec<i64>, &str) = match notice {
        OrderNotice::Placed => (vec![seller], "placed"),
        OrderNotice::Delivered => (vec![buyer], "delivered"),
        OrderNotice::Cancelled { by } if by == buyer => (vec![seller], "cancelled"),
        OrderNotice::Cancelled { .. } => (vec![buyer], "cancelled"),
        OrderNotice::Expired => (vec![buyer, seller], "expired"),
        OrderNotice::Expiring => (vec![seller], "expiring"),
    };
    let title = crate::market::get(&state.store, order.listing_id)
        .await?
        .map(|l| shortened(&l.title))
        .unwrap_or_default();
    let buyer_name = member_name(state, buyer).await?;
    let seller_name = member_name(state, seller).await?;
    let link = format!("{}/orders/{}", state.config.base_url(), order.id);
    let deliver_by = DateTime::<Utc>::from_timestamp(order.expires_at, 0).unwrap_or_default();
    let mut queued = 0;
    for member_id in recipients {
        queued += notify(
            state,
            member_id,
            &[Role::Owner, Role::Staff],
            MailKind::Notices,
            &format!("order-{what}:{}", order.id),
            |lang, to| {
                let amount = lang.amount(Amount::from_minor(order.amount_minor));
                let deliver_by = match lang {
                    Lang::Fr => deliver_by.format("%d/%m/%Y"),
                    Lang::En => deliver_by.format("%Y-%m-%d"),
                }
                .to_string();
                let mail = OrderMail {
                    title: &title,
                    buyer: &buyer_name,
                    seller: &seller_name,
                    amount: &amount,
                    deliver_by: &deliver_by,
                    link: &link,
                };
                match notice {
                    OrderNotice::Placed => crate::mail::order_placed(lang, to, &mail),
                    OrderNotice::Delivered => crate::mail::order_delivered(lang, to, &mail),
                    OrderNotice::Cancelled { by } => {
                        let by = if by == buyer {
                            &buyer_name
                        } else {
                            &seller_name
                        };
                        crate::mail::order_cancelled(lang, to, &mail, by)
                    }
                    OrderNotice::Expired => crate::mail::order_expired(lang, to, &mail),
                    OrderNotice::Expiring => crate::mail::order_expiring(lang, to, &mail),
                }
            },
        )
        .await?;
    }
    Ok(queued)
}

/// Tells the seller's owner and staff of order `id` (just placed on its offer, on the
/// listing's page or through the API; a replay tells nothing more).
pub(crate) async fn order_placed(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    if let Some(order) = crate::trade::order(&state.store, id).await? {
        order_notice(state, &order, OrderNotice::Placed).await?;
    }
    Ok(())
}

/// Tells the other party that order `id` was just delivered (the buyer) or cancelled by
/// member `by` (the party that did not cancel it).
pub(crate) async fn order_settled(state: &AppState, id: i64, by: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(order) = crate::trade::order(&state.store, id).await? else {
        return Ok(());
    };
    let notice = match order.status {
        crate::trade::OrderStatus::Delivered => OrderNotice::Delivered,
        crate::trade::OrderStatus::Cancelled => OrderNotice::Cancelled { by },
        crate::trade::OrderStatus::Held | crate::trade::OrderStatus::Expired => return Ok(()),
    };
    order_notice(state, &order, notice).await?;
    Ok(())
}

/// What one call of a housekeeping notice that follows rows did ([`orders_expired`],
/// [`orders_expiring`], [`disputes_closed`], [`network_inbox`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Told {
    /// The orders, disputes or waiting requests told of.
    pub items: u64,
    /// E-mails queued.
    pub queued: u64,
}

/// Reminds the owner and staff of the seller of each held order that expires within
/// [`crate::trade::ORDER_REMINDER_SECONDS`] (two days) that it is not delivered: delivering
/// is what pays it. Once per order (`orders.reminder_noticed_at`), at most
/// [`FOLLOW_UPS_PER_CALL`] a call. Run by the housekeeping; nothing when the server sends
/// no e-mail.
pub async fn orders_expiring(state: &AppState, now: i64) -> StoreResult<Told> {
    order_follow_ups(state, now, OrderFollowUp::Expiring).await
}

/// Tells the owner and staff of the buyer and of the seller of each order that expired
/// undelivered (the sweep released its hold), once (`orders.expiry_noticed_at`), at most
/// [`FOLLOW_UPS_PER_CALL`] a call, none more than [`crate::trade::FOLLOW_UP_WINDOW_SECONDS`]
/// late. Run by the housekeeping after its sweep; nothing when the server sends no e-mail.
pub async fn orders_expired(state: &AppState, now: i64) -> StoreResult<Told> {
    order_follow_ups(state, now, OrderFollowUp::Expired).await
}

/// Sends `follow_up` of each order it is due for at `now`, and marks it sent.
async fn order_follow_ups(
    state: &AppState,
    now: i64,
    follow_up: OrderFollowUp,
) -> StoreResult<Told> {
    use crate::trade::{order_follow_up_sent, order_follow_ups_due};
    if state.mail.is_none() {
        return Ok(Told::default());
    }
    let notice = match follow_up {
        OrderFollowUp::Expiring => OrderNotice::Expiring,
        OrderFollowUp::Expired => OrderNotice::Expired,
    };
    let mut told = Told::default();
    for order in order_follow_ups_due(&state.store, follow_up, now, FOLLOW_UPS_PER_CALL).await? {
        told.queued += order_notice(state, &order, notice).await?;
        order_follow_up_sent(&state.store, follow_up, order.id, now).await?;
        told.items += 1;
    }
    Ok(told)
}

/// Tells the companies a dispute concerns of its `step`: the payee of a dispute opened or
/// withdrawn, the payer of an answer or a refund, both of the manager's decision; their
/// owner and staff, once per step (`dispute-{step}:{id}:{user}`; an answer, once per
/// answer).
async fn dispute_notice(
    state: &AppState,
    dispute: &crate::console::disputes::Dispute,
    step: DisputeStep,
) -> StoreResult<u64> {
    let (payer, payee) = (dispute.payer_member_id, dispute.payee_member_id);
    let (recipients, what, text): (Vec<i64>, &str, &str) = match step {
        DisputeStep::Opened => (vec![payee], "opened", &dispute.reason),
        DisputeStep::Replied => (
            vec![payer],
            "replied",
            dispute.reply.as_deref().unwrap_or_default(),
        ),
        DisputeStep::Withdrawn => (vec![payee], "withdrawn", ""),
        DisputeStep::Refunded => (vec![payer], "refunded", ""),
        DisputeStep::Reversed => (
            vec![payer, payee],
            "reversed",
            dispute.decision_note.as_deref().unwrap_or_default(),
        ),
        DisputeStep::Dismissed => (
            vec![payer, payee],
            "dismissed",
            dispute.decision_note.as_deref().unwrap_or_default(),
        ),
    };
    // Each answer is told (a new one replaces the last); each other step once.
    let key = match (step, dispute.replied_at) {
        (DisputeStep::Replied, Some(at)) => format!("dispute-{what}:{}-{at}", dispute.id),
        _ => format!("dispute-{what}:{}", dispute.id),
    };
    let link = format!("{}/disputes", state.config.base_url());
    let mut queued = 0;
    for member_id in recipients {
        queued += notify(
            state,
            member_id,
            &[Role::Owner, Role::Staff],
            MailKind::Notices,
            &key,
            |lang, to| {
                let amount = lang.amount(dispute.amount);
                let mail = DisputeMail {
                    payer: &dispute.payer_name,
                    payee: &dispute.payee_name,
                    amount: &amount,
                    text,
                    link: &link,
                };
                crate::mail::dispute(lang, to, step, &mail)
            },
        )
        .await?;
    }
    Ok(queued)
}

/// Tells the other company of dispute `id`'s step just taken by a member: the payee when it
/// is opened, the payer when the payee answers (on the pages or through the API).
pub(crate) async fn dispute_changed(state: &AppState, id: i64) -> StoreResult<()> {
    use crate::console::disputes::{self, DisputeStatus};
    if state.mail.is_none() {
        return Ok(());
    }
    let dispute = match disputes::by_id(&state.store, id).await {
        Ok(dispute) => dispute,
        Err(crate::console::ConsoleError::Store(error)) => return Err(error),
        Err(_) => return Ok(()),
    };
    let step = match (dispute.status, &dispute.reply) {
        (DisputeStatus::Open, None) => DisputeStep::Opened,
        (DisputeStatus::Open, Some(_)) => DisputeStep::Replied,
        // Closed: told by the housekeeping (`disputes_closed`).
        _ => return Ok(()),
    };
    dispute_notice(state, &dispute, step).await?;
    Ok(())
}

/// Tells the debtor's owner and staff of outside invoice `id`, just declared (on the page or
/// through the API), that it waits for their answer (`crate::setoff`); once per invoice.
pub(crate) async fn outside_invoice_declared(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let invoice = match crate::setoff::by_id(&state.store, id).await {
        Ok(invoice) => invoice,
        Err(crate::console::ConsoleError::Store(error)) => return Err(error),
        Err(_) => return Ok(()),
    };
    let link = format!("{}/setoff#setoff-received", state.config.base_url());
    notify(
        state,
        invoice.debtor_member_id,
        &[Role::Owner, Role::Staff],
        MailKind::Notices,
        &format!("outside-invoice:{id}"),
        |lang, to| {
            let amount = lang.amount(invoice.amount);
            let due_on = super::accounting::day(lang, invoice.due_on);
            let mail = crate::mail::OutsideInvoiceMail {
                creditor: &invoice.creditor_name,
                number: &invoice.number,
                amount: &amount,
                due_on: &due_on,
                link: &link,
            };
            crate::mail::outside_invoice_declared(lang, to, &mail)
        },
    )
    .await?;
    Ok(())
}

/// Tells the creditor's owner and staff that the debtor rejected outside invoice `id`, with
/// its reason; once per invoice (an invoice is rejected once).
pub(crate) async fn outside_invoice_rejected(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let invoice = match crate::setoff::by_id(&state.store, id).await {
        Ok(invoice) => invoice,
        Err(crate::console::ConsoleError::Store(error)) => return Err(error),
        Err(_) => return Ok(()),
    };
    let link = format!("{}/setoff#setoff-issued", state.config.base_url());
    let reason = invoice.note.clone().unwrap_or_default();
    notify(
        state,
        invoice.creditor_member_id,
        &[Role::Owner, Role::Staff],
        MailKind::Notices,
        &format!("outside-invoice-rejected:{id}"),
        |lang, to| {
            let amount = lang.amount(invoice.amount);
            crate::mail::outside_invoice_rejected(
                lang,
                to,
                &invoice.debtor_name,
                &invoice.number,
                &amount,
                &reason,
                &link,
            )
        },
    )
    .await?;
    Ok(())
}

/// Tells the owner and staff of each company of set-off run `run` what it cancelled on the
/// company's invoices (`lines`: the run's, at most `setoff::RUN_INVOICES_MAX`, so at most
/// twice as many companies); once per run and company. Returns how many were queued.
pub(crate) async fn setoff_ran(
    state: &AppState,
    run: i64,
    lines: &[crate::setoff::Line],
) -> StoreResult<u64> {
    if state.mail.is_none() {
        return Ok(0);
    }
    // Per company: what it was owed that the run cancelled, what it owed, on how many.
    let mut companies: std::collections::BTreeMap<i64, (i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for line in lines {
        let creditor = companies.entry(line.creditor_member_id).or_default();
        creditor.0 += line.amount.minor();
        creditor.2 += 1;
        let debtor = companies.entry(line.debtor_member_id).or_default();
        debtor.1 += line.amount.minor();
        debtor.2 += 1;
    }
    let link = format!("{}/setoff#setoff-lines", state.config.base_url());
    let key = format!("setoff:{run}");
    let mut queued = 0;
    for (member_id, (owed_to, owed_by, invoices)) in companies {
        // A set-off leaves every company's position unchanged (`ledger::set_off` asserts it).
        assert_eq!(
            owed_to, owed_by,
            "set-off run {run} moved company {member_id}"
        );
        queued += notify(
            state,
            member_id,
            &[Role::Owner, Role::Staff],
            MailKind::Notices,
            &key,
            |lang, to| {
                let amount = lang.amount(Amount::from_minor(owed_to));
                let mail = crate::mail::SetoffMail {
                    run,
                    invoices,
                    amount: &amount,
                    link: &link,
                };
                crate::mail::setoff_run(lang, to, &mail)
            },
        )
        .await?;
    }
    Ok(queued)
}

/// A day as the notices write it: « 07/12/2026 » or "2026-12-07".
fn day_text(lang: Lang, time: DateTime<Utc>) -> String {
    let format = match lang {
        Lang::Fr => "%d/%m/%Y",
        Lang::En => "%Y-%m-%d",
    };
    time.format(format).to_string()
}

/// Reminds the owner and staff of each company whose balance has been below zero long
/// enough to reach a step of the network's return-to-zero rule (`crate::zero`: a quarter,
/// a half, three quarters of the rule, then past it) that they were not told of: once per
/// step and spell (`negative_notices`, migration 0044; the e-mail's key
/// `return-to-zero:{account}:{since, in µs}:{step}` keeps a crash between the two from sending it
/// twice), the last step reached only (a spell that reached two at once, the rule having
/// been shortened, is told of the later one), at most [`crate::zero::NOTICES_PER_CALL`]
/// companies a call, the oldest spells first. The companies past the rule in a call are
/// also listed in one e-mail to the network's managers ([`past_rule_to_managers`]). Run by
/// the housekeeping; nothing when the server sends no e-mail.
pub async fn return_to_zero(state: &AppState, now: i64) -> StoreResult<Told> {
    use crate::zero;
    if state.mail.is_none() {
        return Ok(Told::default());
    }
    let now_time = DateTime::from_timestamp(now, 0).unwrap_or_default();
    let rule = zero::rule(&state.store).await?;
    let market = format!("{}/market/for-you", state.config.base_url());
    let dashboard = format!("{}/dashboard", state.config.base_url());
    let mut told = Told::default();
    // The companies past the rule in this call, for the managers' e-mail.
    let mut past = Vec::new();
    for due in zero::due(&state.store, rule, now_time, zero::NOTICES_PER_CALL).await? {
        let days = (now_time - due.since).num_days();
        let step = rule.step_of(days);
        // `due` reads only the spells past a step they were not told of (the same `now`
        // and rule); were a stored time ever to compare otherwise in SQL than here, the
        // account is skipped rather than the housekeeping stopped.
        debug_assert!(
            step > due.told,
            "account {} told of step {step}",
            due.account_id
        );
        if step <= due.told {
            continue;
        }
        let key = format!(
            "return-to-zero:{}:{}:{step}",
            due.account_id,
            due.since.timestamp_micros()
        );
        told.queued += notify(
            state,
            due.member_id,
            &[Role::Owner, Role::Staff],
            MailKind::Notices,
            &key,
            |lang, to| {
                let balance = lang.amount(due.balance);
                let since = day_text(lang, due.since);
                let deadline = day_text(lang, rule.deadline(due.since));
                let mail = crate::mail::ZeroMail {
                    company: &due.company,
                    balance: &balance,
                    since: &since,
                    days,
                    rule_days: rule.days(),
                    deadline: &deadline,
                    past: zero::Past::of_step(step),
                    market: &market,
                    dashboard: &dashboard,
                };
                crate::mail::return_to_zero(lang, to, &mail)
            },
        )
        .await?;
        if zero::Past::of_step(step) == zero::Past::Beyond {
            past.push((due, days));
        } else {
            zero::told(&state.store, due.account_id, due.since, step, now).await?;
        }
        told.items += 1;
    }
    if !past.is_empty() {
        told.queued += past_rule_to_managers(state, rule, &past).await?;
        // Marked after the managers' e-mail: a process stopped in between tells them again
        // under the same key, which the outbox keeps once.
        for (due, _) in &past {
            zero::told(&state.store, due.account_id, due.since, zero::STEPS, now).await?;
        }
    }
    Ok(told)
}

/// Tells the network's managers (those who get notices, at most [`INBOX_RECIPIENTS_MAX`]) of
/// the companies whose spell passed the return-to-zero rule in one call (at most
/// [`INBOX_LINES_MAX`] listed, the others counted), once: the key names the first company
/// and spell of the list and how many it holds. Returns the e-mails queued.
async fn past_rule_to_managers(
    state: &AppState,
    rule: crate::zero::Rule,
    past: &[(crate::zero::Due, i64)],
) -> StoreResult<u64> {
    let Some((first, _)) = past.first() else {
        return Ok(0);
    };
    let managers = people::managers_with_notices(&state.store, INBOX_RECIPIENTS_MAX).await?;
    let base = state.config.base_url();
    let key = format!(
        "return-to-zero-managers:{}:{}:{}",
        first.account_id,
        first.since.timestamp_micros(),
        past.len()
    );
    let reviews = format!("{base}/admin/reviews#negative-long");
    let more = past.len().saturating_sub(INBOX_LINES_MAX) as i64;
    notify_users(state, &managers, &key, |lang, to| {
        let lines: Vec<crate::mail::PastRuleLine> = past
            .iter()
            .take(INBOX_LINES_MAX)
            .map(|(due, days)| crate::mail::PastRuleLine {
                company: shortened(&due.company),
                days: *days,
                balance: lang.amount(due.balance),
                link: format!("{base}/admin/members/{}", due.member_id),
            })
            .collect();
        crate::mail::return_to_zero_managers(lang, to, &lines, more, rule.days(), &reviews)
    })
    .await
}

/// Tells the companies of each dispute that closed how it ended (withdrawn: the payee;
/// refunded: the payer; reversed or dismissed by the manager: both), once
/// (`disputes.closed_noticed_at`), at most [`FOLLOW_UPS_PER_CALL`] a call, none more than
/// [`crate::trade::FOLLOW_UP_WINDOW_SECONDS`] late. Read from the table, so a dispute closed
/// by a refund, a reversal in the console or the API is told alike. Run by the
/// housekeeping; nothing when the server sends no e-mail.
pub async fn disputes_closed(state: &AppState, now: i64) -> StoreResult<Told> {
    use crate::console::disputes::{self, DisputeStatus};
    if state.mail.is_none() {
        return Ok(Told::default());
    }
    let ids: Vec<i64> = dispatch!(state.store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT id FROM disputes WHERE status <> 'open' AND closed_noticed_at IS NULL \
             AND decided_at >= $1 ORDER BY decided_at, id LIMIT $2")
            .bind(now - crate::trade::FOLLOW_UP_WINDOW_SECONDS).bind(FOLLOW_UPS_PER_CALL)
            .fetch_all(pool).await?
    });
    let mut told = Told::default();
    for id in ids {
        let dispute = match disputes::by_id(&state.store, id).await {
            Ok(dispute) => dispute,
            Err(crate::console::ConsoleError::Store(error)) => return Err(error),
            Err(_) => continue,
        };
        let step = match dispute.status {
            DisputeStatus::Withdrawn => Some(DisputeStep::Withdrawn),
            DisputeStatus::Refunded => Some(DisputeStep::Refunded),
            DisputeStatus::Reversed => Some(DisputeStep::Reversed),
            DisputeStatus::Dismissed => Some(DisputeStep::Dismissed),
            DisputeStatus::Open => None,
        };
        if let Some(step) = step {
            told.queued += dispute_notice(state, &dispute, step).await?;
            told.items += 1;
        }
        dispatch!(state.store.backend(), pool => {
            sqlx::query("UPDATE disputes SET closed_noticed_at = $1 \
                         WHERE id = $2 AND closed_noticed_at IS NULL")
                .bind(now).bind(id).execute(pool).await?;
        });
    }
    Ok(told)
}

/// New rows read from each of the tables the managers hear of, in one call (the others at
/// the next calls).
pub const INBOX_READ_MAX: i64 = 100;
/// Lines listed in a managers' e-mail (the others counted).
pub const INBOX_LINES_MAX: usize = 20;
/// Managers one such e-mail goes to at most.
pub const INBOX_RECIPIENTS_MAX: i64 = 20;

/// One new row the managers hear of, as read (amounts in minor units).
enum Asked {
    Application {
        name: String,
        city: String,
    },
    LimitRequest {
        member: String,
        asked: i64,
        before: i64,
    },
    Dispute {
        payer: String,
        payee: String,
        amount: i64,
    },
    Departure {
        member: String,
    },
}

impl Asked {
    /// As the e-mail lists it, in `lang`.
    fn item(&self, lang: Lang) -> InboxItem {
        let amount = |minor: i64| lang.amount(Amount::from_minor(minor));
        match self {
            Asked::Application { name, city } => InboxItem::Application {
                name: name.clone(),
                city: city.clone(),
            },
            Asked::LimitRequest {
                member,
                asked,
                before,
            } => InboxItem::LimitRequest {
                member: member.clone(),
                asked: amount(*asked),
                before: amount(*before),
            },
            Asked::Dispute {
                payer,
                payee,
                amount: minor,
            } => InboxItem::Dispute {
                payer: payer.clone(),
                payee: payee.clone(),
                amount: amount(*minor),
            },
            Asked::Departure { member } => InboxItem::Departure {
                member: member.clone(),
            },
        }
    }
}

/// Tells the network's managers (those who get notices) of what members and applicants
/// asked of them since the last call: applications to join, requests for another credit
/// limit, disputes opened, notices of departure, each still waiting; one e-mail per manager
/// listing at most [`INBOX_LINES_MAX`] with their console pages. Read from each table after
/// its mark in `notice_marks` (at most [`INBOX_READ_MAX`] rows each), so what the web
/// pages, the API and the public application form make is told alike; the marks then move.
/// Run by the housekeeping; nothing when the server sends no e-mail.
pub async fn network_inbox(state: &AppState) -> StoreResult<Told> {
    if state.mail.is_none() {
        return Ok(Told::default());
    }
    let (applications, limits, disputes, departures): (i64, i64, i64, i64) = dispatch!(state.store.backend(), pool => {
        sqlx::query_as(
            "SELECT application_id, limit_request_id, dispute_id, departure_id \
             FROM notice_marks WHERE id = 1")
            .fetch_one(pool).await?
    });
    // Each read: the id, its status (whether it still waits), and what to say.
    let new_applications: Vec<(i64, String, String, String)> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as("SELECT id, status, name, city FROM applications WHERE id > $1 \
                        ORDER BY id LIMIT $2")
            .bind(applications).bind(INBOX_READ_MAX).fetch_all(pool).await?
    });
    let new_limits: Vec<(i64, String, String, i64, i64)> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as("SELECT r.id, r.status, m.name, r.credit_limit_asked, \
                        r.credit_limit_before FROM limit_requests r \
                        JOIN members m ON m.id = r.member_id WHERE r.id > $1 \
                        ORDER BY r.id LIMIT $2")
            .bind(limits).bind(INBOX_READ_MAX).fetch_all(pool).await?
    });
    let new_disputes: Vec<(i64, String, String, String, i64)> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as("SELECT d.id, d.status, p.name, q.name, d.amount_minor \
                        FROM disputes d JOIN members p ON p.id = d.payer_member_id \
                        JOIN members q ON q.id = d.payee_member_id WHERE d.id > $1 \
                        ORDER BY d.id LIMIT $2")
            .bind(disputes).bind(INBOX_READ_MAX).fetch_all(pool).await?
    });
    let new_departures: Vec<(i64, String, String)> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as("SELECT d.id, d.status, m.name FROM departures d \
                        JOIN members m ON m.id = d.member_id WHERE d.id > $1 \
                        ORDER BY d.id LIMIT $2")
            .bind(departures).bind(INBOX_READ_MAX).fetch_all(pool).await?
    });
    let base = state.config.base_url();
    let mut asked: Vec<(Asked, String)> = Vec::new();
    for (id, status, name, city) in &new_applications {
        if status == "pending" {
            let item = Asked::Application {
                name: shortened(name),
                city: shortened(city),
            };
            asked.push((item, format!("{base}/admin/applications/{id}")));
        }
    }
    for (id, status, member, asked_minor, before) in &new_limits {
        if status == "pending" {
            let item = Asked::LimitRequest {
                member: shortened(member),
                asked: *asked_minor,
                before: *before,
            };
            asked.push((item, format!("{base}/admin/limit-requests/{id}")));
        }
    }
    for (_, status, payer, payee, amount) in &new_disputes {
        if status == "open" {
            let item = Asked::Dispute {
                payer: shortened(payer),
                payee: shortened(payee),
                amount: *amount,
            };
            asked.push((item, format!("{base}/admin/disputes")));
        }
    }
    for (_, status, member) in &new_departures {
        if status == "pending" {
            let item = Asked::Departure {
                member: shortened(member),
            };
            asked.push((item, format!("{base}/admin/reviews#leaving")));
        }
    }
    // The marks after this call: the last row read of each table.
    let marks = [
        (
            "application_id",
            new_applications.last().map_or(applications, |r| r.0),
        ),
        (
            "limit_request_id",
            new_limits.last().map_or(limits, |r| r.0),
        ),
        ("dispute_id", new_disputes.last().map_or(disputes, |r| r.0)),
        (
            "departure_id",
            new_departures.last().map_or(departures, |r| r.0),
        ),
    ];
    let mut told = Told::default();
    if !asked.is_empty() {
        let managers = people::managers_with_notices(&state.store, INBOX_RECIPIENTS_MAX).await?;
        let key = format!(
            "inbox:{}-{}-{}-{}",
            marks[0].1, marks[1].1, marks[2].1, marks[3].1
        );
        let console = format!("{base}/admin");
        let more = asked.len().saturating_sub(INBOX_LINES_MAX) as i64;
        told.items = asked.len() as u64;
        told.queued = notify_users(state, &managers, &key, |lang, to| {
            let lines: Vec<InboxLine> = asked
                .iter()
                .take(INBOX_LINES_MAX)
                .map(|(item, link)| InboxLine {
                    item: item.item(lang),
                    link: link.clone(),
                })
                .collect();
            crate::mail::network_inbox(lang, to, &lines, more, &console)
        })
        .await?;
    }
    // Each mark only moves forward (another process may be further on).
    for (column, to) in marks {
        let sql = format!("UPDATE notice_marks SET {column} = $1 WHERE id = 1 AND {column} < $1");
        dispatch!(state.store.backend(), pool => {
            sqlx::query(&sql).bind(to).execute(pool).await?;
        });
    }
    Ok(told)
}

/// Notifies the paying company's owner of approval request `id` (just made by a staff user).
pub(crate) async fn approval_waiting(state: &AppState, id: i64) -> StoreResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    let Some(approval) = crate::approvals::approval(&state.store, id).await? else {
        return Ok(());
    };
    let payee = member_name(state, approval.payee_member_id).await?;
    let link = format!("{}/approvals#approval-{id}", state.config.base_url());
    notify(
        state,
        approval.member_id,
        &[Role::Owner],
        MailKind::Notices,
        &format!("approval:{id}"),
        |lang, to| {
            let amount = lang.amount(Amount::from_minor(approval.amount_minor));
            crate::mail::approval_waiting(
                lang,
                to,
                &approval.requested_by_email,
                &payee,
                &amount,
                &link,
            )
        },
    )
    .await?;
    Ok(())
}

/// The marks of the periodic e-mails in `notice_marks`: each is sent up to its mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// The hourly digest of payments received (`payments_through`).
    Payments,
    /// The weekly new listings (`matches_through`).
    Matches,
}

/// A period `[from, until)` due, in Unix seconds and as times.
struct Period {
    from: i64,
    until: i64,
    from_time: DateTime<Utc>,
    until_time: DateTime<Utc>,
}

impl Mark {
    /// Its column: a constant, never input.
    fn column(self) -> &'static str {
        match self {
            Mark::Payments => "payments_through",
            Mark::Matches => "matches_through",
        }
    }

    /// The period to send now that `until` has passed: from the mark, at most `lookback`
    /// seconds back; none when the mark is at `until` already.
    async fn due(self, state: &AppState, until: i64, lookback: i64) -> StoreResult<Option<Period>> {
        let sql = format!("SELECT {} FROM notice_marks WHERE id = 1", self.column());
        let through: i64 = dispatch!(state.store.backend(), pool => {
            sqlx::query_scalar(&sql).fetch_one(pool).await?
        });
        if until <= through {
            return Ok(None);
        }
        let from = through.max(until - lookback);
        assert!(from < until && until - from <= lookback);
        Ok(
            match (
                DateTime::<Utc>::from_timestamp(from, 0),
                DateTime::<Utc>::from_timestamp(until, 0),
            ) {
                (Some(from_time), Some(until_time)) => Some(Period {
                    from,
                    until,
                    from_time,
                    until_time,
                }),
                _ => None,
            },
        )
    }

    /// Marks the period up to `until` sent. Another process may have sent the same period
    /// (its e-mails had the same keys): the mark only moves forward.
    async fn advance(self, state: &AppState, until: i64) -> StoreResult<()> {
        let column = self.column();
        let sql = format!("UPDATE notice_marks SET {column} = $1 WHERE id = 1 AND {column} < $1");
        dispatch!(state.store.backend(), pool => {
            sqlx::query(&sql).bind(until).execute(pool).await?;
        });
        Ok(())
    }
}

/// Queues what the housekeeping e-mails at `now` (the digest of payments received, the
/// weekly new listings, the follow-ups of requests, the managers' e-mail, closed disputes,
/// expired orders and those expiring soon, the monthly statements, the notices of the
/// network's actions, the reminders of the return-to-zero rule), logging
/// what it queued and what failed: one failure does not stop the others.
pub async fn run_due(state: &AppState, now: i64) {
    report(
        "digest of payments received",
        payments_received(state, now).await,
        |d| d.queued,
    );
    report(
        "weekly new listings",
        weekly_matches(state, now).await,
        |d| d.queued,
    );
    report(
        "follow-ups of payment requests",
        request_follow_ups(state, now).await,
        |d| d.queued,
    );
    report("the managers' e-mail", network_inbox(state).await, |d| {
        d.queued
    });
    report("closed disputes", disputes_closed(state, now).await, |d| {
        d.queued
    });
    report("expired orders", orders_expired(state, now).await, |d| {
        d.queued
    });
    report(
        "orders expiring soon",
        orders_expiring(state, now).await,
        |d| d.queued,
    );
    report(
        "monthly statements",
        monthly_statements(state, now).await,
        |d| d.queued,
    );
    report(
        "notices of the network's actions",
        network_actions(state).await,
        |d| d.queued,
    );
    report(
        "reminders of the return-to-zero rule",
        return_to_zero(state, now).await,
        |d| d.queued,
    );
}

/// Logs what one of the periodic e-mails queued (when it queued any: `queued` counts them)
/// or why it failed.
fn report<T: std::fmt::Debug>(what: &str, result: StoreResult<T>, queued: fn(&T) -> u64) {
    match result {
        Ok(done) if queued(&done) > 0 => tracing::info!(?done, "{what}: e-mails queued"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "{what}: could not queue the e-mails"),
    }
}

/// What one call of [`payments_received`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digested {
    /// The period digested, `[from, until)` in Unix seconds (both 0 when none was due).
    pub from: i64,
    pub until: i64,
    /// Companies that received payments in it.
    pub members: u64,
    /// E-mails queued.
    pub queued: u64,
}

/// The payments one company received in a period.
#[derive(sqlx::FromRow)]
struct Receipts {
    member_id: i64,
    account_id: i64,
    name: String,
    count: i64,
    total: i64,
}

/// The trades that count as payments received: the principal leg credited to a member by a
/// payment (direct, an accepted request, a paid order) or a captured hold.
const RECEIPTS_SQL: &str = "SELECT m.id AS member_id, m.account_id, m.name, \
     COUNT(*) AS count, CAST(SUM(p.amount) AS BIGINT) AS total \
     FROM transactions t JOIN postings p ON p.tx_id = t.id \
     JOIN members m ON m.account_id = p.account_id \
     WHERE t.time >= $1 AND t.time < $2 AND t.kind IN ('payment', 'hold_capture') \
     AND p.leg = 'principal' AND p.amount > 0 \
     GROUP BY m.id, m.account_id, m.name ORDER BY m.id LIMIT $3";

/// The first payments of one company's digest, with the paying member's name.
const RECEIPT_LINES_SQL: &str = "SELECT p.time, t.reference, p.amount, \
     COALESCE((SELECT m.name FROM postings q JOIN members m ON m.account_id = q.account_id \
               WHERE q.tx_id = p.tx_id AND q.amount < 0 AND q.leg = 'principal' \
               ORDER BY q.n LIMIT 1), '') \
     FROM postings p JOIN transactions t ON t.id = p.tx_id \
     WHERE p.account_id = $1 AND p.time >= $2 AND p.time < $3 \
     AND t.kind IN ('payment', 'hold_capture') AND p.leg = 'principal' AND p.amount > 0 \
     ORDER BY p.time, p.tx_id LIMIT $4";

fn shortened(text: &str) -> String {
    if text.chars().count() <= DIGEST_TEXT_LEN_MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(DIGEST_TEXT_LEN_MAX - 1).collect();
    short.push('…');
    short
}

/// Whether the period `[from, until)` lies within one day (it may end at midnight).
fn within_one_day(from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    from.date_naive() == (until - chrono::Duration::seconds(1)).date_naive()
}

/// The period `[from, until)` in words, times in UTC.
fn period_text(lang: Lang, from: DateTime<Utc>, until: DateTime<Utc>) -> String {
    match (lang, within_one_day(from, until)) {
        (Lang::Fr, true) => format!(
            "le {} de {} à {} (UTC)",
            from.format("%d/%m/%Y"),
            from.format("%H:%M"),
            until.format("%H:%M")
        ),
        (Lang::Fr, false) => format!(
            "du {} au {} (UTC)",
            from.format("%d/%m/%Y %H:%M"),
            until.format("%d/%m/%Y %H:%M")
        ),
        (Lang::En, true) => format!(
            "on {} from {} to {} (UTC)",
            from.format("%Y-%m-%d"),
            from.format("%H:%M"),
            until.format("%H:%M")
        ),
        (Lang::En, false) => format!(
            "from {} to {} (UTC)",
            from.format("%Y-%m-%d %H:%M"),
            until.format("%Y-%m-%d %H:%M")
        ),
    }
}

/// Digests the payments received since the last digest, when a whole hour has passed (and
/// [`DIGEST_GRACE_SECONDS`] more) at `now`: to each company that received any, one e-mail
/// per owner and staff user who gets notices, listing the first [`DIGEST_LINES_MAX`]. Then
/// marks the hours digested. Run by the server's housekeeping; nothing when the server
/// sends no e-mail.
pub async fn payments_received(state: &AppState, now: i64) -> StoreResult<Digested> {
    if state.mail.is_none() {
        return Ok(Digested::default());
    }
    let until =
        (now - DIGEST_GRACE_SECONDS).div_euclid(DIGEST_PERIOD_SECONDS) * DIGEST_PERIOD_SECONDS;
    let Some(period) = Mark::Payments
        .due(state, until, DIGEST_LOOKBACK_SECONDS_MAX)
        .await?
    else {
        return Ok(Digested::default());
    };
    let Period {
        from,
        until,
        from_time,
        until_time,
    } = period;
    assert!((until - from) % DIGEST_PERIOD_SECONDS == 0);
    let receipts: Vec<Receipts> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as(RECEIPTS_SQL)
            .bind(from_time).bind(until_time).bind(DIGEST_MEMBERS_MAX)
            .fetch_all(pool).await?
    });
    if receipts.len() as i64 == DIGEST_MEMBERS_MAX {
        tracing::warn!(
            members_max = DIGEST_MEMBERS_MAX,
            "more companies received payments than a digest covers: the others are skipped"
        );
    }
    let one_day = within_one_day(from_time, until_time);
    let link = format!("{}/history", state.config.base_url());
    let mut digested = Digested {
        from,
        until,
        ..Digested::default()
    };
    for receipt in &receipts {
        let rows: Vec<(DateTime<Utc>, String, i64, String)> = dispatch!(state.store.backend(), pool => {
            sqlx::query_as(RECEIPT_LINES_SQL)
                .bind(receipt.account_id).bind(from_time).bind(until_time)
                .bind(DIGEST_LINES_MAX)
                .fetch_all(pool).await?
        });
        digested.members += 1;
        digested.queued += notify(
            state,
            receipt.member_id,
            &[Role::Owner, Role::Staff],
            MailKind::Receipts,
            &format!("received:{from}-{until}"),
            |lang, to| {
                let time_format = match (lang, one_day) {
                    (_, true) => "%H:%M",
                    (Lang::Fr, false) => "%d/%m %H:%M",
                    (Lang::En, false) => "%m-%d %H:%M",
                };
                let lines: Vec<ReceivedLine> = rows
                    .iter()
                    .map(|(time, reference, amount, payer)| ReceivedLine {
                        time: time.format(time_format).to_string(),
                        payer: shortened(payer),
                        amount: lang.amount(Amount::from_minor(*amount)),
                        reference: shortened(reference),
                    })
                    .collect();
                let period = period_text(lang, from_time, until_time);
                let total = lang.amount(Amount::from_minor(receipt.total));
                crate::mail::payments_received(
                    lang,
                    to,
                    &ReceivedDigest {
                        company: &receipt.name,
                        period: &period,
                        count: receipt.count,
                        total: &total,
                        lines: &lines,
                        link: &link,
                    },
                )
            },
        )
        .await?;
    }
    Mark::Payments.advance(state, until).await?;
    Ok(digested)
}

/// What one call of [`network_actions`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionsNotified {
    /// Action-log entries read (notified or not).
    pub read: u64,
    /// E-mails queued.
    pub queued: u64,
}

/// The notice an action-log entry gives its member's owner, if any: the limits set (by hand
/// or granting a request), a request declined, a freeze, an unfreeze.
fn network_action_of(
    action: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<NetworkAction> {
    let amount = |value: &serde_json::Value| value.as_i64().map(Amount::from_minor);
    match action {
        "limits.set" | "limit_request.grant" => {
            let (before, after) = (&before["account"], &after["account"]);
            let limits = NetworkAction::Limits {
                credit_before: amount(&before["credit_limit"])?,
                credit_after: amount(&after["credit_limit"])?,
                max_before: amount(&before["max_balance"]),
                max_after: amount(&after["max_balance"]),
            };
            // Limits set to what they were: nothing to tell.
            (before["credit_limit"] != after["credit_limit"]
                || before["max_balance"] != after["max_balance"])
                .then_some(limits)
        }
        "limit_request.decline" => Some(NetworkAction::LimitRequestDeclined {
            asked: amount(&before["credit_limit_asked"])?,
        }),
        "member.freeze" => Some(NetworkAction::Frozen),
        "member.unfreeze" => Some(NetworkAction::Unfrozen),
        crate::network::fees::ACTION_FEES_SCHEDULE => Some(NetworkAction::FeesChanged {
            effective: match after["effective_from"].as_str() {
                Some(text) => Some(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc)),
                None => None,
            },
        }),
        _ => None,
    }
}

/// Tells each member company's owner (if it gets notices) what the network's manager did to
/// its account since the last call: its limits set, its request for a limit declined, the
/// account frozen or unfrozen, from the console, the API or an import alike (read from the
/// action log, at most [`ACTIONS_READ_MAX`] entries a call). Run by the server's
/// housekeeping; nothing when the server sends no e-mail.
pub async fn network_actions(state: &AppState) -> StoreResult<ActionsNotified> {
    if state.mail.is_none() {
        return Ok(ActionsNotified::default());
    }
    let mark: i64 = dispatch!(state.store.backend(), pool => {
        sqlx::query_scalar("SELECT action_id FROM notice_marks WHERE id = 1")
            .fetch_one(pool).await?
    });
    type Row = (i64, String, String, Option<i64>, String, String, String);
    let rows: Vec<Row> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as(
            "SELECT id, actor, action, member_id, reason, before, after FROM action_log \
             WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(mark).bind(ACTIONS_READ_MAX).fetch_all(pool).await?
    });
    let Some(last) = rows.last().map(|row| row.0) else {
        return Ok(ActionsNotified::default());
    };
    let mut notified = ActionsNotified {
        read: rows.len() as u64,
        queued: 0,
    };
    for (id, actor, action, member_id, reason, before, after) in &rows {
        // A state this code cannot read is left out of the notices, never fatal.
        let before: serde_json::Value = serde_json::from_str(before).unwrap_or_default();
        let after: serde_json::Value = serde_json::from_str(after).unwrap_or_default();
        let Some(network_action) = network_action_of(action, &before, &after) else {
            continue;
        };
        // A member's action goes to its owner; the network's fees to every company's.
        let (recipients, company) = match (*member_id, &network_action) {
            (Some(member_id), _) => (
                people::notice_recipients(
                    &state.store,
                    member_id,
                    &[Role::Owner],
                    MailKind::Notices,
                    NOTICE_RECIPIENTS_MAX,
                )
                .await?,
                member_name(state, member_id).await?,
            ),
            (None, NetworkAction::FeesChanged { .. }) => (
                people::owners_with_notices(&state.store, FEE_NOTICE_RECIPIENTS_MAX).await?,
                String::new(),
            ),
            (None, _) => continue,
        };
        let page = match &network_action {
            NetworkAction::Frozen | NetworkAction::Unfrozen => "/dashboard",
            NetworkAction::FeesChanged { .. } => "/rules",
            NetworkAction::Limits { .. } | NetworkAction::LimitRequestDeclined { .. } => {
                "/credit-limit"
            }
        };
        let link = format!("{}{page}", state.config.base_url());
        notified.queued += notify_users(state, &recipients, &format!("action:{id}"), |lang, to| {
            crate::mail::network_action(
                lang,
                to,
                &ActionNotice {
                    company: &company,
                    actor,
                    reason,
                    action: &network_action,
                    link: &link,
                },
            )
        })
        .await?;
    }
    dispatch!(state.store.backend(), pool => {
        sqlx::query("UPDATE notice_marks SET action_id = $1 WHERE id = 1 AND action_id < $1")
            .bind(last).execute(pool).await?;
    });
    Ok(notified)
}

/// The Monday 00:00 UTC at or before `t`.
pub fn week_start(t: i64) -> i64 {
    (t - MONDAY_SECONDS).div_euclid(MATCHES_PERIOD_SECONDS) * MATCHES_PERIOD_SECONDS
        + MONDAY_SECONDS
}

/// Once a week (on Mondays, a minute after midnight UTC, or at the first housekeeping after
/// it): to each company whose account is not closed, the listings posted during the past
/// week that `/market/for-you` would suggest it (offers that meet its wants, wants its offers
/// could fill; at most 5 each), one e-mail per owner and staff user who gets notices; none
/// when nothing new matches. Then marks the week sent. A week missed (the server stopped)
/// is not sent late beyond the last one.
pub async fn weekly_matches(state: &AppState, now: i64) -> StoreResult<Digested> {
    if state.mail.is_none() {
        return Ok(Digested::default());
    }
    let until = week_start(now - DIGEST_GRACE_SECONDS);
    let Some(period) = Mark::Matches
        .due(state, until, MATCHES_PERIOD_SECONDS)
        .await?
    else {
        return Ok(Digested::default());
    };
    let Period {
        from,
        until,
        from_time,
        until_time,
    } = period;
    // The companies someone would hear it at: an owner or staff user who chose it.
    let members: Vec<i64> = dispatch!(state.store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT DISTINCT u.member_id FROM users u JOIN members m ON m.id = u.member_id \
             JOIN accounts a ON a.id = m.account_id \
             WHERE u.role IN ('owner', 'staff') AND u.mail_listings = 1 \
             AND a.status <> 'closed' ORDER BY u.member_id LIMIT $1")
            .bind(MATCHES_MEMBERS_MAX).fetch_all(pool).await?
    });
    if members.len() as i64 == MATCHES_MEMBERS_MAX {
        tracing::warn!(
            members_max = MATCHES_MEMBERS_MAX,
            "more companies than the weekly e-mail of new listings covers: the others are skipped"
        );
    }
    let today = until_time.format("%Y-%m-%d").to_string();
    let posted = crate::network::brokering::Posted { from, until };
    let link = format!("{}/market/for-you", state.config.base_url());
    let mut digested = Digested {
        from,
        until,
        ..Digested::default()
    };
    for member_id in members {
        let Some(member) = people::member(&state.store, member_id).await? else {
            continue;
        };
        let (to_buy, to_sell) =
            crate::network::brokering::for_member_posted(&state.store, &member, &today, posted)
                .await?;
        if to_buy.is_empty() && to_sell.is_empty() {
            continue;
        }
        digested.members += 1;
        digested.queued += notify(
            state,
            member.id,
            &[Role::Owner, Role::Staff],
            MailKind::Listings,
            &format!("matches:{from}-{until}"),
            |lang, to| {
                let lines = |matches: &[crate::network::brokering::Match]| -> Vec<MatchLine> {
                    matches
                        .iter()
                        .map(|m| MatchLine {
                            title: shortened(&m.listing.title),
                            company: shortened(&m.counterparty.name),
                            city: shortened(&m.listing.city),
                            price: m
                                .listing
                                .price_minor
                                .filter(|_| m.listing.kind == crate::market::Kind::Offer)
                                .map(|p| lang.amount(Amount::from_minor(p))),
                        })
                        .collect()
                };
                let period = match lang {
                    Lang::Fr => format!(
                        "du {} au {}",
                        from_time.format("%d/%m/%Y"),
                        (until_time - chrono::Duration::days(1)).format("%d/%m/%Y")
                    ),
                    Lang::En => format!(
                        "from {} to {}",
                        from_time.format("%Y-%m-%d"),
                        (until_time - chrono::Duration::days(1)).format("%Y-%m-%d")
                    ),
                };
                crate::mail::matches(
                    lang,
                    to,
                    &MatchesDigest {
                        company: &member.name,
                        period: &period,
                        to_buy: &lines(&to_buy),
                        to_sell: &lines(&to_sell),
                        link: &link,
                    },
                )
            },
        )
        .await?;
    }
    Mark::Matches.advance(state, until).await?;
    Ok(digested)
}

/// The first instant of the month (UTC) of `t`, in Unix seconds.
pub fn month_start(t: i64) -> i64 {
    let date = DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .date_naive();
    let first = date.with_day(1).unwrap_or(date);
    first.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// The month of `first` (its first day) in words: « novembre 2026 », "November 2026".
fn month_text(lang: Lang, first: NaiveDate) -> String {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    match lang {
        Lang::Fr => format!("{} {}", FR[first.month0() as usize], first.year()),
        Lang::En => first.format("%B %Y").to_string(),
    }
}

/// What one call of [`monthly_statements`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementsQueued {
    /// The month, `[from, until)` in Unix seconds (both 0 when none was due).
    pub from: i64,
    pub until: i64,
    /// Companies sent a statement in this call.
    pub members: u64,
    /// E-mails queued.
    pub queued: u64,
    /// The last company looked at when the month's statements go on at the next call;
    /// `None` once they are all queued.
    pub member_after: Option<i64>,
}

/// One company's month: its balance now and the sums of its postings since the month began.
#[derive(sqlx::FromRow)]
struct MonthFigures {
    member_id: i64,
    account_id: i64,
    name: String,
    status: String,
    balance: i64,
    /// The net of its postings after the month.
    since_end: i64,
    /// What came in and went out during the month (both ≥ 0).
    incoming: i64,
    outgoing: i64,
    /// Its transactions during the month.
    operations: i64,
}

/// The month's figures of the next companies (after `$3`, at most `$4`), from their postings
/// since the month began (`$1`; it ended at `$2`), through the postings' index by account
/// and time.
const MONTH_FIGURES_SQL: &str = "SELECT m.id AS member_id, m.account_id, m.name, a.status, \
     a.balance, \
     CAST(COALESCE(SUM(CASE WHEN p.time >= $2 THEN p.amount ELSE 0 END), 0) AS BIGINT) \
         AS since_end, \
     CAST(COALESCE(SUM(CASE WHEN p.time < $2 AND p.amount > 0 THEN p.amount ELSE 0 END), 0) \
         AS BIGINT) AS incoming, \
     CAST(COALESCE(SUM(CASE WHEN p.time < $2 AND p.amount < 0 THEN -p.amount ELSE 0 END), 0) \
         AS BIGINT) AS outgoing, \
     COUNT(DISTINCT CASE WHEN p.time < $2 THEN p.tx_id END) AS operations \
     FROM members m JOIN accounts a ON a.id = m.account_id \
     LEFT JOIN postings p ON p.account_id = m.account_id AND p.time >= $1 \
     WHERE m.id IN (SELECT id FROM members WHERE id > $3 ORDER BY id LIMIT $4) \
     GROUP BY m.id, m.account_id, m.name, a.status, a.balance ORDER BY m.id";

/// Once a month (on the 1st, a minute after midnight UTC, or at the first housekeeping
/// after it): to each company, the statement of its account for the month that ended: its
/// balance at the start and at the end, what came in and went out, how many operations, its
/// limits and available credit, what its balance calls for (as its dashboard says it), and
/// a link to the detailed statement; one e-mail per owner and member accountant who chose
/// it. None to a company with nothing to say (no operation and a zero balance) nor to a
/// closed account without operations in the month. [`STATEMENT_MEMBERS_PER_CALL`]
/// companies a call: the mark (`notice_marks.statements_month` and `_member_after`) keeps
/// the place, and the next calls go on. A month missed (the server stopped) is not sent
/// late beyond the last one.
pub async fn monthly_statements(state: &AppState, now: i64) -> StoreResult<StatementsQueued> {
    if state.mail.is_none() {
        return Ok(StatementsQueued::default());
    }
    let until = month_start(now - DIGEST_GRACE_SECONDS);
    let (month, member_after): (i64, Option<i64>) = dispatch!(state.store.backend(), pool => {
        sqlx::query_as(
            "SELECT statements_month, statements_member_after FROM notice_marks WHERE id = 1")
            .fetch_one(pool).await?
    });
    let after = match (month < until, member_after) {
        (true, _) => 0,
        (false, Some(after)) if month == until => after,
        _ => return Ok(StatementsQueued::default()),
    };
    let from = month_start(until - 1);
    assert!(from < until && until - from <= 31 * 86_400);
    let (Some(from_time), Some(until_time), Some(now_time)) = (
        DateTime::<Utc>::from_timestamp(from, 0),
        DateTime::<Utc>::from_timestamp(until, 0),
        DateTime::<Utc>::from_timestamp(now, 0),
    ) else {
        return Ok(StatementsQueued::default());
    };
    let rows: Vec<MonthFigures> = dispatch!(state.store.backend(), pool => {
        sqlx::query_as(MONTH_FIGURES_SQL)
            .bind(from_time).bind(until_time).bind(after).bind(STATEMENT_MEMBERS_PER_CALL)
            .fetch_all(pool).await?
    });
    let first = from_time.date_naive();
    let month_key = first.format("%Y-%m").to_string();
    let link = format!("{}/statement?month={month_key}", state.config.base_url());
    let rule = crate::zero::rule(&state.store).await?;
    let mut queued = StatementsQueued {
        from,
        until,
        ..StatementsQueued::default()
    };
    // The chunk's accounts (limits, holds, how long negative: what the reminders read) in
    // one read rather than one each.
    let account_id =
        |row: &MonthFigures| ledger::AccountId(u64::try_from(row.account_id).unwrap_or_default());
    let ids: std::collections::BTreeSet<ledger::AccountId> = rows.iter().map(account_id).collect();
    let accounts: std::collections::HashMap<ledger::AccountId, ledger::Account> = state
        .store
        .accounts_of(&ids)
        .await?
        .into_iter()
        .map(|a| (a.id(), a))
        .collect();
    for row in &rows {
        let closing = row.balance - row.since_end;
        let opening = closing - (row.incoming - row.outgoing);
        let closed = row.status == "closed";
        if row.operations == 0 && (closing == 0 || closed) {
            continue;
        }
        let Some(account) = accounts.get(&account_id(row)) else {
            continue;
        };
        queued.members += 1;
        queued.queued += notify(
            state,
            row.member_id,
            &[Role::Owner, Role::MemberAccountant],
            MailKind::Statements,
            &format!("statement:{month_key}"),
            |lang, to| {
                let amount = |minor: i64| lang.amount(Amount::from_minor(minor));
                let reminders = if closed {
                    Vec::new()
                } else {
                    super::money::balance_reminders(
                        super::i18n::Tr { lang },
                        account,
                        rule,
                        now_time,
                    )
                };
                let max_balance = account.max_balance().map(|m| lang.amount(m));
                crate::mail::statement(
                    lang,
                    to,
                    &StatementMail {
                        company: &row.name,
                        month: &month_text(lang, first),
                        opening: &amount(opening),
                        incoming: &amount(row.incoming),
                        outgoing: &amount(row.outgoing),
                        closing: &amount(closing),
                        operations: row.operations,
                        credit_limit: &lang.amount(account.credit_limit()),
                        max_balance: max_balance.as_deref(),
                        available: &lang.amount(account.available().unwrap_or(Amount::ZERO)),
                        reminders: &reminders,
                        link: &link,
                    },
                )
            },
        )
        .await?;
    }
    // The mark only moves forward: another process going through the same month queued
    // the same e-mails (their keys), and the one further on keeps its place.
    if (rows.len() as i64) < STATEMENT_MEMBERS_PER_CALL {
        dispatch!(state.store.backend(), pool => {
            sqlx::query(
                "UPDATE notice_marks SET statements_month = $1, statements_member_after = NULL \
                 WHERE id = 1 AND (statements_month < $1 \
                 OR statements_member_after IS NOT NULL)")
                .bind(until).execute(pool).await?;
        });
    } else {
        let last = rows.last().map(|r| r.member_id).unwrap_or(after);
        dispatch!(state.store.backend(), pool => {
            sqlx::query(
                "UPDATE notice_marks SET statements_month = $1, statements_member_after = $2 \
                 WHERE id = 1 AND (statements_month < $1 \
                 OR (statements_month = $1 AND statements_member_after < $2))")
                .bind(until).bind(last).execute(pool).await?;
        });
        queued.member_after = Some(last);
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_one_day_or_two() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let from = at("2026-12-07T10:00:00Z");
        let until = at("2026-12-07T11:00:00Z");
        assert_eq!(
            period_text(Lang::Fr, from, until),
            "le 07/12/2026 de 10:00 à 11:00 (UTC)"
        );
        assert_eq!(
            period_text(Lang::En, from, until),
            "on 2026-12-07 from 10:00 to 11:00 (UTC)"
        );
        // The last hour of a day ends at midnight: still one day.
        let late = at("2026-12-07T23:00:00Z");
        let midnight = at("2026-12-08T00:00:00Z");
        assert_eq!(
            period_text(Lang::Fr, late, midnight),
            "le 07/12/2026 de 23:00 à 00:00 (UTC)"
        );
        assert_eq!(
            period_text(Lang::En, late, at("2026-12-08T02:00:00Z")),
            "from 2026-12-07 23:00 to 2026-12-08 02:00 (UTC)"
        );
    }

    #[test]
    fn only_changes_of_the_account_are_told() {
        use serde_json::json;
        let state = |limit: i64, max: Option<i64>| json!({ "account": { "status": "active", "credit_limit": limit, "max_balance": max } });
        assert_eq!(
            network_action_of(
                "limits.set",
                &state(100_000, None),
                &state(150_000, Some(500_000))
            ),
            Some(NetworkAction::Limits {
                credit_before: Amount::from_minor(100_000),
                credit_after: Amount::from_minor(150_000),
                max_before: None,
                max_after: Some(Amount::from_minor(500_000)),
            })
        );
        // Set to what they were, or at a member's creation (no account before): nothing.
        let same = state(100_000, Some(5));
        assert_eq!(network_action_of("limit_request.grant", &same, &same), None);
        let created = json!({ "account": null });
        assert_eq!(network_action_of("limits.set", &created, &same), None);
        assert_eq!(
            network_action_of(
                "limit_request.decline",
                &json!({"credit_limit_asked": 80_000}),
                &json!({})
            ),
            Some(NetworkAction::LimitRequestDeclined {
                asked: Amount::from_minor(80_000)
            })
        );
        assert_eq!(
            network_action_of("member.freeze", &same, &same),
            Some(NetworkAction::Frozen)
        );
        assert_eq!(
            network_action_of("member.unfreeze", &same, &same),
            Some(NetworkAction::Unfrozen)
        );
        // The network's fees: when they apply (none: at once); an unreadable date, nothing.
        let at = DateTime::parse_from_rfc3339("2099-01-01T00:00:00+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let scheduled = json!({ "effective_from": "2099-01-01T00:00:00+00:00" });
        assert_eq!(
            network_action_of("fees.schedule", &json!({}), &scheduled),
            Some(NetworkAction::FeesChanged {
                effective: Some(at)
            })
        );
        assert_eq!(
            network_action_of(
                "fees.schedule",
                &json!({}),
                &json!({ "effective_from": null })
            ),
            Some(NetworkAction::FeesChanged { effective: None })
        );
        assert_eq!(
            network_action_of(
                "fees.schedule",
                &json!({}),
                &json!({ "effective_from": "soon" })
            ),
            None
        );
        // Other actions are not told.
        assert_eq!(network_action_of("member.review", &same, &same), None);
        assert_eq!(network_action_of("member.write_off", &same, &same), None);
    }

    #[test]
    fn months_start_on_the_first_at_midnight_and_read_in_words() {
        let t = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().timestamp();
        let december = t("2026-12-01T00:00:00Z");
        assert_eq!(month_start(december), december);
        assert_eq!(month_start(december - 1), t("2026-11-01T00:00:00Z"));
        assert_eq!(month_start(t("2026-12-31T23:59:59Z")), december);
        assert_eq!(
            month_start(t("2024-02-29T12:00:00Z")),
            t("2024-02-01T00:00:00Z")
        );
        let first = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(month_text(Lang::Fr, first), "août 2026");
        assert_eq!(month_text(Lang::En, first), "August 2026");
        let january = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(month_text(Lang::Fr, january), "janvier 2027");
    }

    #[test]
    fn weeks_start_on_monday_at_midnight() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        let monday = at("2026-12-07T00:00:00Z");
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday - 1), at("2026-11-30T00:00:00Z"));
        assert_eq!(week_start(at("2026-12-13T23:59:59Z")), monday);
        assert_eq!(
            week_start(at("1970-01-01T00:00:00Z")),
            at("1969-12-29T00:00:00Z")
        );
    }

    #[test]
    fn long_texts_are_shortened_at_the_limit() {
        let at_limit = "a".repeat(DIGEST_TEXT_LEN_MAX);
        assert_eq!(shortened(&at_limit), at_limit);
        let past = "é".repeat(DIGEST_TEXT_LEN_MAX + 1);
        let short = shortened(&past);
        assert_eq!(short.chars().count(), DIGEST_TEXT_LEN_MAX);
        assert!(short.ends_with('…'));
    }
}
