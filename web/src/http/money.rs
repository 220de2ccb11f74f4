//! Balances and payments: the dashboard, paying a member (form → confirmation → payment),
//! history with filters, the monthly statement, the CSV export and the rules page.
//!
//! A payment form carries a random token from the moment it is drawn; the token is the
//! idempotency key of the payment (`web-pay-MEMBER-TOKEN`), so a double click, a refresh or
//! a replayed POST gets the first payment's answer and never pays twice.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ledger::{
    validate_text, Account, AccountId, Amount, FundPayer, IdempotencyKey, Leg, Outcome, Rejection,
    TxId, TxKind,
};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Lang, Tr};
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::trades as trade;
use super::AppState;
use crate::activity::{self, Filter, Line};
use crate::people::{self, now_unix, Member};
use crate::spending;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/pay", get(pay_page).post(pay))
        .route("/pay/confirm", post(pay_confirm))
        .route("/history", get(history))
        .route("/history.csv", get(history_csv))
        .route("/statement", get(statement))
        .route("/rules", get(rules))
}

/// Members shown in a payee list at most.
pub const MEMBERS_LISTED_MAX: i64 = 1_000;
/// Points of the balance chart at most.
pub const CHART_POINTS_MAX: usize = 200;
/// Transactions listed on the dashboard.
pub const RECENT_LINES: usize = 10;

pub async fn account_of(state: &AppState, member: &Member) -> AppResult<Account> {
    state
        .store
        .account(member.account())
        .await?
        .ok_or_else(|| AppError::Internal(format!("member {} has no account", member.id)))
}

/// The names of the counterparties of these lines, the ones the page shows: one read,
/// bounded by the number of lines, whatever the size of the network.
async fn counterparty_names(
    state: &AppState,
    me: AccountId,
    lines: &[Line],
) -> AppResult<HashMap<AccountId, String>> {
    let shown: BTreeSet<AccountId> = lines.iter().filter_map(|l| l.counterparty(me)).collect();
    Ok(people::names_of_accounts(&state.store, &shown).await?)
}

/// Form tokens are 64 hex characters (see `people::random_token`).
pub fn token_is_valid(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A history line as the pages show it.
pub struct LineView {
    pub id: String,
    pub date: String,
    pub kind: &'static str,
    pub counterparty: String,
    pub reference: String,
    pub memo: String,
    pub amount: String,
    pub negative: bool,
    /// The payer signed the payment order with a registered key (docs/audit.md).
    pub signed: bool,
    /// A payment the member received (a `payment` or `hold_capture` crediting it): its
    /// owner and staff may refund it (`/payments/{id}/refund`).
    pub received: bool,
    /// A payment the member made to another (the principal leg debits it): its owner and
    /// staff may dispute it (`/payments/{id}/dispute`) until it is reversed.
    pub paid: bool,
    /// Reversed since (refunded by the payee, or by a manager): no refund link then.
    pub reversed: bool,
    /// The invoice of a payment, or the credit note of a refund: its id and number
    /// (`crate::invoices`), for both companies.
    pub invoice: Option<(i64, String)>,
    /// Who in the member's own company entered it (`transaction_authors`); never the other
    /// company's user.
    pub author: Option<String>,
}

fn line_view(t: Tr, me: AccountId, line: &Line, names: &HashMap<AccountId, String>) -> LineView {
    let tx = &line.transaction;
    let legs = crate::trade::principal_legs(tx);
    LineView {
        id: tx.id().to_string(),
        date: tx.time().format("%d/%m/%Y %H:%M").to_string(),
        kind: t.tx_kind(tx.kind()),
        counterparty: line
            .counterparty(me)
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_default(),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        amount: t.lang.amount(line.net),
        negative: line.net.is_negative(),
        signed: false,
        reversed: false,
        invoice: None,
        author: None,
        received: legs.is_some_and(|(_, payee)| payee.account == me),
        paid: legs.is_some_and(|(payer, _)| payer.account == me),
    }
}

/// Marks the lines whose payment order the payer signed, those reversed since, their
/// invoices or credit notes, and who of `member_id`'s users entered them: two reads
/// (`Store::line_marks`, `invoices::numbers_of`), bounded by the number of lines.
async fn mark_lines(state: &AppState, member_id: i64, lines: &mut [LineView]) -> AppResult<()> {
    let ids: Vec<ledger::TxId> = lines
        .iter()
        .filter_map(|l| l.id.parse().ok().map(ledger::TxId))
        .collect();
    let marks = state.store.line_marks(&ids).await?;
    for line in lines.iter_mut() {
        let Ok(id) = line.id.parse().map(ledger::TxId) else {
            continue;
        };
        line.signed = marks.signed.contains(&id);
        line.reversed = marks.reversed.contains_key(&id);
        line.author = marks
            .authors
            .get(&id)
            .filter(|a| a.member_id() == member_id)
            .map(|a| a.author().to_owned());
    }
    let numbered: Vec<i64> = lines.iter().filter_map(|l| l.id.parse().ok()).collect();
    let invoiced = crate::invoices::numbers_of(&state.store, &numbered)
        .await
        .map_err(super::console::page_error)?;
    for line in lines.iter_mut() {
        if let Ok(id) = line.id.parse::<i64>() {
            line.invoice = invoiced.get(&id).cloned();
        }
    }
    Ok(())
}

/// The figures at the top of the dashboard and the confirmation page.
pub struct Figures {
    pub balance: String,
    pub credit_limit: String,
    pub available: String,
    pub pending: String,
    pub negative: bool,
    /// The upper limit, when the member has one (the largest balance it may hold).
    pub max_balance: Option<String>,
}

pub(super) fn figures(lang: Lang, account: &Account) -> Figures {
    Figures {
        balance: lang.amount(account.balance()),
        credit_limit: lang.amount(account.credit_limit()),
        available: lang.amount(account.available().unwrap_or(Amount::ZERO)),
        pending: lang.amount(account.pending()),
        negative: account.balance().is_negative(),
        max_balance: account.max_balance().map(|max| lang.amount(max)),
    }
}

/// A balance-over-time line drawn on the server as SVG coordinates.
pub struct Chart {
    pub points: String,
    pub zero_y: i64,
    pub width: i64,
    pub height: i64,
    pub low: String,
    pub high: String,
}

/// Balances oldest first → an SVG polyline in a `width`×`height` box.
fn chart(lang: Lang, balances: &[i64]) -> Option<Chart> {
    if balances.len() < 2 {
        return None;
    }
    let (width, height, pad) = (600i64, 200i64, 10i64);
    let low = balances.iter().copied().min().unwrap_or(0).min(0);
    let high = balances.iter().copied().max().unwrap_or(0).max(0);
    let span = i128::from((high - low).max(1));
    let y = |b: i64| -> i64 {
        let from_top = i128::from(high - b) * i128::from(height - 2 * pad) / span;
        pad + from_top as i64
    };
    let step = (width - 2 * pad) / (balances.len() as i64 - 1).max(1);
    let points = balances
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{},{}", pad + i as i64 * step, y(*b)))
        .collect::<Vec<_>>()
        .join(" ");
    Some(Chart {
        points,
        zero_y: y(0),
        width,
        height,
        low: lang.amount(Amount::from_minor(low)),
        high: lang.amount(Amount::from_minor(high)),
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTemplate {
    c: Chrome,
    member_name: String,
    figures: Figures,
    chart: Option<Chart>,
    recent: Vec<LineView>,
    requests: Vec<trade::RequestView>,
    reminders: Vec<String>,
    /// Staff payments waiting for the owner's approval (read for the owner only).
    approvals_waiting: i64,
    /// Open disputes of payments the company received (`console::disputes`).
    disputes_waiting: i64,
    /// Outside invoices declared on the company, waiting for its answer (`crate::setoff`).
    outside_invoices_waiting: i64,
    /// The network's announcements shown today (read only when there are some).
    news: Vec<super::news::NewsView>,
}

/// How long the dashboard shows the answer to a credit-limit request (and a staff user the
/// answer to a payment it asked its owner to approve), in days.
pub const LIMIT_ANSWER_DAYS: i64 = 14;

/// How long the dashboard reminds a payer of a refused standing-order payment, in days.
pub const STANDING_REFUSED_DAYS: i64 = 35;

async fn dashboard(State(state): State<AppState>, auth: MemberReader) -> AppResult<Response> {
    let t = auth.tr();
    let account = account_of(&state, &auth.member).await?;
    let me = account.id();
    // The chart needs only each transaction's net effect; the recent list, the transactions
    // themselves and the names of their counterparties.
    let moves = state.store.balance_moves(me, CHART_POINTS_MAX).await?;
    let mut balances = Vec::with_capacity(moves.len() + 1);
    let mut balance = account.balance().minor();
    balances.push(balance);
    for net in &moves {
        balance -= net.minor();
        balances.push(balance);
    }
    balances.reverse();
    let page_data = state.store.history(me, None, RECENT_LINES).await?;
    let lines: Vec<Line> = page_data
        .entries
        .iter()
        .map(|e| Line {
            transaction: e.transaction.clone(),
            net: e.net,
        })
        .collect();
    let names = counterparty_names(&state, me, &lines).await?;
    let mut recent: Vec<LineView> = lines
        .iter()
        .map(|line| line_view(t, me, line, &names))
        .collect();
    mark_lines(&state, auth.member.id, &mut recent).await?;
    let requests = trade::requests_to_pay(&state, &auth.member, t, 5).await?;
    let now = Utc::now();
    let rule = return_to_zero_rule(&state, &account, now).await?;
    let mut reminders = balance_reminders(t, &account, rule, now);
    // Orders to deliver and, for the owner, its staff's payments to approve: one read.
    let waiting = crate::trade::waiting(&state.store, auth.member.id).await?;
    if waiting.deliveries > 0 {
        reminders.push(t.reminder_deliveries().to_owned());
    }
    if waiting.departure {
        reminders.push(t.dep_reminder().to_owned());
    }
    // Its disputes closed lately by someone else: read only when the count says so.
    if waiting.disputes_closed > 0 {
        let since = Utc::now().timestamp() - crate::trade::DISPUTES_RECALLED_SECS;
        let closed = crate::console::disputes::closed_since(&state.store, auth.member.id, since)
            .await
            .map_err(super::console::page_error)?;
        for dispute in &closed {
            reminders.push(t.reminder_dispute_closed(dispute, auth.member.id));
        }
    }
    // The network's answers to the member's credit-limit requests, lately.
    let since = (Utc::now() - chrono::Duration::days(LIMIT_ANSWER_DAYS)).timestamp();
    let answered =
        crate::console::limit_requests::decided_since(&state.store, auth.member.id, since)
            .await
            .map_err(super::console::page_error)?;
    for request in &answered {
        reminders.push(t.reminder_limit_answer(request));
    }
    // Standing orders whose due date the ledger refused lately: both companies must know.
    let since = (Utc::now() - chrono::Duration::days(STANDING_REFUSED_DAYS)).timestamp();
    let refused = crate::standing::refused_since(&state.store, auth.member.id, since)
        .await
        .map_err(super::console::page_error)?;
    if !refused.is_empty() {
        let others: std::collections::BTreeSet<i64> = refused
            .iter()
            .flat_map(|r| [r.payer_member_id, r.payee_member_id])
            .filter(|id| *id != auth.member.id)
            .collect();
        let names = people::names_of_members(&state.store, &others).await?;
        for run in &refused {
            let reminder = if run.payer_member_id == auth.member.id {
                let payee = names.get(&run.payee_member_id).map_or("", String::as_str);
                t.reminder_standing_refused(run, payee)
            } else {
                let payer = names.get(&run.payer_member_id).map_or("", String::as_str);
                t.reminder_standing_unpaid(run, payer)
            };
            reminders.push(reminder);
        }
    }
    let user = &auth.auth.user;
    let approvals_waiting = match user.role {
        people::Role::Owner => waiting.approvals,
        // A staff user reads the owner's answers to its requests, lately.
        people::Role::Staff => {
            let since = (Utc::now() - chrono::Duration::days(LIMIT_ANSWER_DAYS)).timestamp();
            let decided =
                crate::approvals::decided_since(&state.store, auth.member.id, user.id, since)
                    .await?;
            let payees: std::collections::BTreeSet<i64> =
                decided.iter().map(|a| a.payee_member_id).collect();
            let names = people::names_of_members(&state.store, &payees).await?;
            for approval in &decided {
                let payee = names
                    .get(&approval.payee_member_id)
                    .map_or("", String::as_str);
                reminders.push(t.reminder_approval_decided(approval, payee));
            }
            0
        }
        _ => 0,
    };
    let news = if waiting.news > 0 {
        super::news::views(&state, t).await?
    } else {
        Vec::new()
    };
    page(DashboardTemplate {
        news,
        c: auth.chrome(),
        member_name: auth.member.name.clone(),
        approvals_waiting,
        disputes_waiting: waiting.disputes,
        outside_invoices_waiting: waiting.outside_invoices,
        figures: figures(t.lang, &account),
        chart: chart(t.lang, &balances),
        recent,
        requests,
        reminders,
    })
}

/// What the payment form holds, echoed back on every error so nothing typed is lost.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PayValues {
    #[serde(default)]
    pub payee: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub memo: String,
    #[serde(default)]
    pub token: String,
}

#[derive(Default)]
pub struct PayErrors {
    pub payee: Option<String>,
    pub amount: Option<String>,
    pub reference: Option<String>,
    pub memo: Option<String>,
    /// The amount is over the staff user's payment limit (the message is `amount`): it may
    /// ask the owner to approve the payment (`/pay/approval`).
    pub over_limit: bool,
}

impl PayErrors {
    fn any(&self) -> bool {
        self.payee.is_some()
            || self.amount.is_some()
            || self.reference.is_some()
            || self.memo.is_some()
    }

    /// The form is right but for the staff user's limit: the page offers to ask the owner.
    pub fn may_ask_approval(&self) -> bool {
        self.over_limit && self.payee.is_none() && self.reference.is_none() && self.memo.is_none()
    }
}

/// What a checked pay form is for: a payment commits the company's credit now, so a staff
/// user's limit holds; a payment request (the member is paid) and a payment waiting for
/// the owner's approval commit nothing yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayPurpose {
    Payment,
    Request,
    Approval,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayTemplate {
    c: Chrome,
    payees: Vec<(String, String)>,
    values: PayValues,
    errors: PayErrors,
    rejection: Option<String>,
    figures: Figures,
    /// A staff user's own limit per operation, said before it types an amount.
    payment_max: Option<String>,
    /// A staff user's limit per month and what it committed this month.
    payment_month_max: Option<String>,
}

/// A staff user's limit per month and what is used of it, in words; `None` without one.
async fn month_note(state: &AppState, auth: &MemberAuth) -> AppResult<Option<String>> {
    let user = &auth.auth.user;
    match (user.role, user.payment_month_max) {
        (people::Role::Staff, Some(max)) => {
            let used = spending::used(&state.store, user.id, now_unix()).await?;
            Ok(Some(
                auth.tr()
                    .your_payment_month_max(Amount::from_minor(max), used),
            ))
        }
        _ => Ok(None),
    }
}

/// The payee drop-down: every other member, by name (at most [`MEMBERS_LISTED_MAX`]).
pub(super) async fn payees(state: &AppState, me: &Member) -> AppResult<Vec<(String, String)>> {
    Ok(people::members(&state.store, MEMBERS_LISTED_MAX)
        .await?
        .into_iter()
        .filter(|m| m.id != me.id)
        .map(|m| (m.id.to_string(), m.name))
        .collect())
}

pub(super) async fn pay_form(
    state: &AppState,
    auth: &MemberAuth,
    values: PayValues,
    errors: PayErrors,
    rejection: Option<String>,
) -> AppResult<Response> {
    let account = account_of(state, &auth.member).await?;
    let status = if errors.any() || rejection.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut response = page(PayTemplate {
        c: auth.chrome(),
        payees: payees(state, &auth.member).await?,
        values,
        errors,
        rejection,
        figures: figures(auth.tr().lang, &account),
        payment_max: auth
            .auth
            .user
            .payment_max
            .map(|max| auth.tr().your_payment_max(Amount::from_minor(max))),
        payment_month_max: month_note(state, auth).await?,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn pay_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    Query(mut values): Query<PayValues>,
) -> AppResult<Response> {
    // A fresh token per drawn form: the form's identity, hence the payment's.
    values.token = people::random_token();
    pay_form(&state, &auth, values, PayErrors::default(), None).await
}

/// A payment that passed the form checks.
pub struct ValidPay {
    pub payee: Member,
    pub amount: Amount,
    pub reference: String,
    pub memo: String,
}

/// Checks a payment or request form: counterparty, amount, reference and memo; for a
/// payment, the staff user's limit too.
pub async fn validate_pay(
    state: &AppState,
    auth: &MemberAuth,
    values: &PayValues,
    purpose: PayPurpose,
) -> AppResult<Result<ValidPay, PayErrors>> {
    let t = auth.tr();
    let mut errors = PayErrors::default();
    let payee = match values.payee.trim().parse::<i64>() {
        Ok(id) if id != auth.member.id => people::member(&state.store, id).await?,
        _ => None,
    };
    if payee.is_none() {
        errors.payee = Some(t.field_error(FieldError::UnknownMember));
    }
    let amount = Amount::parse_positive(&values.amount).ok();
    let commits = purpose == PayPurpose::Payment;
    match amount.map(|a| auth.auth.user.may_commit(a)) {
        None => errors.amount = Some(t.field_error(FieldError::InvalidAmount)),
        // A staff user's payment above the limit its owner set.
        Some(Err(over)) if commits => {
            errors.amount = Some(t.over_payment_max(over.max));
            errors.over_limit = true;
        }
        Some(Ok(())) if commits => {
            // Said before confirmation; the payment holds its place in the month again
            // (`spending::hold`), which is what counts.
            let amount = amount.expect("parsed");
            let room = spending::room(&state.store, &auth.auth.user, amount, now_unix()).await?;
            if let Err(over) = room {
                errors.amount = Some(t.over_payment_month_max(&over));
                errors.over_limit = true;
            }
        }
        Some(_) => {}
    }
    match validate_text(&values.reference, &values.memo) {
        Err(rejection @ Rejection::ReferenceTooLong { .. }) => {
            errors.reference = Some(t.rejection(&rejection))
        }
        Err(rejection) => errors.memo = Some(t.rejection(&rejection)),
        Ok(()) => {}
    }
    if ledger::char_len(&values.memo) > ledger::MEMO_LEN_MAX && errors.memo.is_none() {
        errors.memo = Some(t.field_error(FieldError::TooLong {
            max: ledger::MEMO_LEN_MAX,
        }));
    }
    match (payee, amount, errors.any()) {
        (Some(payee), Some(amount), false) => Ok(Ok(ValidPay {
            payee,
            amount,
            reference: values.reference.trim().to_owned(),
            memo: values.memo.trim().to_owned(),
        })),
        _ => Ok(Err(errors)),
    }
}

#[derive(Template)]
#[template(path = "pay_confirm.html")]
struct PayConfirmTemplate {
    c: Chrome,
    values: PayValues,
    payee_name: String,
    amount: String,
    commission: String,
    commission_payer: &'static str,
    fund: String,
    fund_payer: &'static str,
    total_debited: String,
    payee_receives: String,
    resulting_balance: String,
    resulting_available: String,
}

async fn pay_confirm(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(values): Form<PayValues>,
) -> AppResult<Response> {
    if !token_is_valid(&values.token) {
        return Err(AppError::BadRequest);
    }
    let valid = match validate_pay(&state, &auth, &values, PayPurpose::Payment).await? {
        Ok(valid) => valid,
        Err(errors) => return pay_form(&state, &auth, values, errors, None).await,
    };
    let t = auth.tr();
    let account = account_of(&state, &auth.member).await?;
    let policy = state.store.policy().await?;
    let fees = policy.fees.fees_for(valid.amount);
    let total = valid
        .amount
        .checked_add(fees.buyer_extra())
        .ok_or(AppError::BadRequest)?;
    let available = account.available().unwrap_or(Amount::ZERO);
    if total > available {
        // Shown now rather than after the click; the ledger decides again on submit.
        let rejection = Rejection::InsufficientCredit {
            account: account.id(),
            available,
            requested: total,
        };
        let message = t.rejection(&rejection);
        return pay_form(&state, &auth, values, PayErrors::default(), Some(message)).await;
    }
    let payer_label = |payer: FundPayer| match payer {
        FundPayer::Buyer => t.paid_by_buyer(),
        FundPayer::Seller => t.paid_by_seller(),
    };
    let lang = t.lang;
    page(PayConfirmTemplate {
        c: auth.chrome(),
        payee_name: valid.payee.name.clone(),
        amount: lang.amount(valid.amount),
        commission: lang.amount(fees.commission),
        commission_payer: payer_label(FundPayer::Seller),
        fund: lang.amount(fees.fund_contribution),
        fund_payer: payer_label(fees.fund_payer),
        total_debited: lang.amount(total),
        payee_receives: lang.amount(Amount::from_minor(
            valid.amount.minor() - fees.seller_deduction().minor(),
        )),
        resulting_balance: lang.amount(Amount::from_minor(
            account.balance().minor() - total.minor(),
        )),
        resulting_available: lang.amount(Amount::from_minor(available.minor() - total.minor())),
        values: PayValues {
            payee: valid.payee.id.to_string(),
            amount: values.amount.clone(),
            reference: valid.reference,
            memo: valid.memo,
            token: values.token.clone(),
        },
    })
}

#[derive(Template)]
#[template(path = "pay_done.html")]
struct PayDoneTemplate {
    c: Chrome,
    tx: String,
    payee_name: String,
    amount: String,
    figures: Figures,
}

async fn pay(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(values): Form<PayValues>,
) -> AppResult<Response> {
    if !token_is_valid(&values.token) {
        return Err(AppError::BadRequest);
    }
    let valid = match validate_pay(&state, &auth, &values, PayPurpose::Payment).await? {
        Ok(valid) => valid,
        Err(errors) => return pay_form(&state, &auth, values, errors, None).await,
    };
    let key = IdempotencyKey::new(format!("web-pay-{}-{}", auth.member.id, values.token))
        .map_err(|_| AppError::BadRequest)?;
    let order = crate::trade::PaymentOrder {
        amount: valid.amount,
        reference: valid.reference.clone(),
        memo: valid.memo.clone(),
    };
    let author = auth.auth.user.author();
    let held = spending::hold(
        &state.store,
        &auth.auth.user,
        key.as_str(),
        valid.amount,
        now_unix(),
    )
    .await?;
    let held = match held {
        Ok(held) => held,
        Err(over) => {
            let errors = PayErrors {
                amount: Some(auth.tr().over_payment_month_max(&over)),
                over_limit: true,
                ..PayErrors::default()
            };
            return pay_form(&state, &auth, values, errors, None).await;
        }
    };
    let decision =
        crate::trade::pay(&state.store, key, &auth.member, &valid.payee, order, author).await?;
    held.after(&state.store, &decision).await?;
    match decision {
        Ok(outcome) => {
            let tx = outcome.tx().map(|t| t.to_string()).unwrap_or_default();
            let account = account_of(&state, &auth.member).await?;
            let lang = auth.tr().lang;
            page(PayDoneTemplate {
                c: auth.chrome(),
                tx,
                payee_name: valid.payee.name,
                amount: lang.amount(valid.amount),
                figures: figures(lang, &account),
            })
        }
        Err(rejection) => {
            let message = auth.tr().rejection(&rejection);
            let mut values = values;
            // A refused payment consumed its key; the corrected form gets a new token.
            values.token = people::random_token();
            pay_form(&state, &auth, values, PayErrors::default(), Some(message)).await
        }
    }
}

/// The history filters as they arrive in the query string (all optional text).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub counterparty: String,
    #[serde(default)]
    pub before: String,
    #[serde(default)]
    pub size: String,
}

fn parse_day(text: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let day =
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| AppError::BadRequest)?;
    Ok(Some(Utc.from_utc_datetime(
        &day.and_hms_opt(0, 0, 0).expect("midnight"),
    )))
}

impl HistoryQuery {
    /// The member whose account the `counterparty` filter names (`None` without the filter),
    /// or `BadRequest`: only members are counterparties; system accounts are not listed. One
    /// read by account, whether or not the member is in the filter's drop-down list.
    async fn counterparty(&self, state: &AppState) -> AppResult<Option<Member>> {
        match self.counterparty.as_str() {
            "" => Ok(None),
            text => {
                let account: i64 = text.parse().map_err(|_| AppError::BadRequest)?;
                match people::member_by_account(&state.store, account).await? {
                    Some(member) => Ok(Some(member)),
                    None => Err(AppError::BadRequest),
                }
            }
        }
    }

    /// The filter, or `BadRequest` for malformed values. `to` is inclusive for people (the
    /// whole day), exclusive for the query. `counterparty` is what [`Self::counterparty`]
    /// found.
    fn filter(&self, counterparty: Option<&Member>) -> Result<Filter, AppError> {
        let from = parse_day(&self.from)?;
        let to = parse_day(&self.to)?.map(|d| d + chrono::Duration::days(1));
        let kind = match self.kind.as_str() {
            "" => None,
            text => Some(TxKind::parse(text).ok_or(AppError::BadRequest)?),
        };
        Ok(Filter {
            from,
            to,
            kind,
            counterparty: counterparty.map(Member::account),
        })
    }

    fn page_size(&self) -> Result<usize, AppError> {
        match self.size.as_str() {
            "" => Ok(activity::HISTORY_PAGE_SIZE_DEFAULT),
            text => match text.parse::<usize>() {
                Ok(size) if (1..=activity::HISTORY_PAGE_SIZE_MAX).contains(&size) => Ok(size),
                _ => Err(AppError::BadRequest),
            },
        }
    }

    fn before(&self) -> Result<Option<TxId>, AppError> {
        match self.before.as_str() {
            "" => Ok(None),
            text => Ok(Some(TxId(text.parse().map_err(|_| AppError::BadRequest)?))),
        }
    }

    fn url(&self, path: &str, before: Option<TxId>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("kind", &self.kind),
            ("counterparty", &self.counterparty),
            ("size", &self.size),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        if let Some(before) = before {
            query.append_pair("before", &before.to_string());
        }
        format!("{path}?{}", query.finish())
    }
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryTemplate {
    c: Chrome,
    query: HistoryQuery,
    kinds: Vec<(&'static str, &'static str)>,
    counterparties: Vec<(String, String)>,
    lines: Vec<LineView>,
    next_url: Option<String>,
    csv_url: String,
}

async fn history(
    State(state): State<AppState>,
    auth: MemberReader,
    Query(query): Query<HistoryQuery>,
) -> AppResult<Response> {
    let t = auth.tr();
    let chosen = query.counterparty(&state).await?;
    let filter = query.filter(chosen.as_ref())?;
    let me = auth.member.account();
    let result = activity::history(
        &state.store,
        me,
        &filter,
        query.before()?,
        query.page_size()?,
    )
    .await?;
    // The filter's drop-down lists members (bounded, like the payee list), and keeps the
    // chosen one even past the bound; the lines' names do not come from it.
    let mut listed = people::members(&state.store, MEMBERS_LISTED_MAX).await?;
    if let Some(chosen) = chosen {
        if !listed.iter().any(|m| m.id == chosen.id) {
            listed.push(chosen);
        }
    }
    let mut counterparties: Vec<(String, String)> = listed
        .into_iter()
        .filter(|m| m.id != auth.member.id)
        .map(|m| (m.account_id.to_string(), m.name))
        .collect();
    counterparties.sort_by(|a, b| a.1.cmp(&b.1));
    let names = counterparty_names(&state, me, &result.lines).await?;
    let mut lines: Vec<LineView> = result
        .lines
        .iter()
        .map(|l| line_view(t, me, l, &names))
        .collect();
    mark_lines(&state, auth.member.id, &mut lines).await?;
    page(HistoryTemplate {
        c: auth.chrome(),
        kinds: TxKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.tx_kind(*k)))
            .collect(),
        counterparties,
        lines,
        next_url: result.next_before.map(|b| query.url("/history", Some(b))),
        csv_url: query.url("/history.csv", None),
        query,
    })
}

/// Quotes a CSV field; text that a spreadsheet would run as a formula is prefixed with `'`.
pub(crate) fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

async fn history_csv(
    State(state): State<AppState>,
    auth: MemberReader,
    Query(query): Query<HistoryQuery>,
) -> AppResult<Response> {
    let chosen = query.counterparty(&state).await?;
    let filter = query.filter(chosen.as_ref())?;
    let me = auth.member.account();
    let result =
        activity::history(&state.store, me, &filter, None, activity::EXPORT_ROWS_MAX).await?;
    if result.next_before.is_some() {
        // Never a silently shortened file: the member narrows the period instead.
        let message = auth.tr().export_too_long(activity::EXPORT_ROWS_MAX);
        return too_long(&auth, &message);
    }
    let names = counterparty_names(&state, me, &result.lines).await?;
    let mut csv = String::from(
        "date,transaction,kind,counterparty,reference,memo,amount,commission,fund_contribution\r\n",
    );
    for line in &result.lines {
        let tx = &line.transaction;
        let counterparty = line
            .counterparty(me)
            .and_then(|a| names.get(&a).cloned())
            .unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\r\n",
            tx.time().to_rfc3339(),
            tx.id(),
            tx.kind().as_str(),
            csv_field(&counterparty),
            csv_field(tx.reference()),
            csv_field(tx.memo()),
            line.net.to_plain(),
            line.leg(me, Leg::Commission).to_plain(),
            line.leg(me, Leg::FundContribution).to_plain(),
        ));
    }
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"troc-{}.csv\"", auth.member.siren),
            ),
        ],
        csv,
    )
        .into_response())
}

/// What a company's balance calls for, in words (its dashboard and its monthly statement
/// by e-mail say the same): negative long enough to reach a step of the network's
/// return-to-zero rule (`crate::zero`: from a quarter of it; sell to get back to zero), more
/// than 80 % of its credit limit used, a balance above 80 % of its upper limit (buy, or ask
/// for another: beyond it, nobody can pay it).
pub(crate) fn balance_reminders(
    t: Tr,
    account: &ledger::Account,
    rule: crate::zero::Rule,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut reminders = Vec::new();
    if let Some(spell) = crate::zero::spell(rule, account, now).filter(|s| s.step > 0) {
        reminders.push(t.reminder_return_to_zero(&spell, rule));
    }
    let limit = account.credit_limit().minor();
    if limit > 0 && -account.balance().minor() * 10 > limit * 8 {
        reminders.push(t.reminder_near_limit().to_owned());
    }
    // A creditor near its upper limit soon cannot be paid: it should buy, or ask for more.
    if let Some(max) = account.max_balance().map(Amount::minor) {
        if max > 0 && account.balance().minor() * 10 > max * 8 {
            reminders.push(t.reminder_near_max().to_owned());
        }
    }
    reminders
}

/// The network's return-to-zero rule for `account`'s reminders, read only when its balance
/// has been below zero for a day or more: no step of any rule falls earlier (a quarter of
/// the shortest rule, one day, rounded up), so a younger spell is reminded of nothing
/// whatever the rule.
async fn return_to_zero_rule(
    state: &AppState,
    account: &ledger::Account,
    now: DateTime<Utc>,
) -> AppResult<crate::zero::Rule> {
    let old = account
        .negative_since()
        .is_some_and(|since| now - since >= chrono::Duration::days(1));
    if old && account.balance().is_negative() {
        Ok(crate::zero::rule(&state.store).await?)
    } else {
        Ok(crate::zero::Rule::default())
    }
}

#[derive(Deserialize)]
struct StatementQuery {
    #[serde(default)]
    month: String,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementTemplate {
    c: Chrome,
    member: Member,
    month: String,
    opening: String,
    closing: String,
    lines: Vec<LineView>,
}

async fn statement(
    State(state): State<AppState>,
    auth: MemberReader,
    Query(query): Query<StatementQuery>,
) -> AppResult<Response> {
    let t = auth.tr();
    let today = Utc::now().date_naive();
    let first = if query.month.is_empty() {
        NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("first of month")
    } else {
        NaiveDate::parse_from_str(&format!("{}-01", query.month), "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest)?
    };
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or(AppError::BadRequest)?;
    let start = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight"));
    let end = Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"));
    let me = auth.member.account();
    let account = account_of(&state, &auth.member).await?;
    let opening =
        account.balance().minor() - activity::net_since(&state.store, me, start).await?.minor();
    let closing =
        account.balance().minor() - activity::net_since(&state.store, me, end).await?.minor();
    let filter = Filter {
        from: Some(start),
        to: Some(end),
        ..Filter::default()
    };
    let result =
        activity::history(&state.store, me, &filter, None, activity::EXPORT_ROWS_MAX).await?;
    if result.next_before.is_some() {
        let message = t.statement_rows_too_many(activity::EXPORT_ROWS_MAX);
        return too_long(&auth, &message);
    }
    let names = counterparty_names(&state, me, &result.lines).await?;
    let mut lines: Vec<LineView> = result
        .lines
        .iter()
        .map(|l| line_view(t, me, l, &names))
        .collect();
    lines.reverse();
    mark_lines(&state, auth.member.id, &mut lines).await?;
    page(StatementTemplate {
        c: auth.chrome(),
        member: auth.member.clone(),
        month: first.format("%Y-%m").to_string(),
        opening: t.lang.amount(Amount::from_minor(opening)),
        closing: t.lang.amount(Amount::from_minor(closing)),
        lines,
    })
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesTemplate {
    c: Chrome,
    commission_rate: String,
    commission_min: String,
    fund_rate: String,
    fund_payer: &'static str,
    amount_per_tx_max: String,
    /// Since when these rules are in force (`None`: since the beginning).
    in_force_since: Option<String>,
    /// Announced changes, earliest first (the fee schedule, docs/console.md).
    upcoming: Vec<super::network::VersionView>,
    /// Who the network requires two-step login of.
    two_step: &'static str,
    /// The return-to-zero rule, in words.
    return_to_zero: String,
}

/// Basis points as a percentage: 250 → « 2,50 % ».
pub(crate) fn percent(lang: Lang, bp: u32) -> String {
    format!("{} %", lang.amount(Amount::from_minor(i64::from(bp))))
}

async fn rules(State(state): State<AppState>, ctx: super::session::Ctx) -> AppResult<Response> {
    let t = ctx.tr();
    let schedule = crate::network::fees::rules(&state.store, Utc::now())
        .await
        .map_err(super::network::page_error)?;
    let policy = schedule.in_force.record.version.policy;
    let fees = policy.fees;
    let two_step = crate::totp::rule(&state.store).await?;
    let zero = crate::zero::rule(&state.store).await?;
    page(RulesTemplate {
        return_to_zero: t.zero_rule(zero),
        two_step: super::console::two_step::rule_text(t, two_step),
        in_force_since: schedule
            .in_force
            .record
            .version
            .effective_from
            .map(|time| t.net_time(time)),
        upcoming: schedule
            .upcoming
            .iter()
            .map(|v| super::network::version_view(t, v))
            .collect(),
        c: ctx.chrome(),
        commission_rate: percent(t.lang, fees.commission_bp()),
        commission_min: t.lang.amount(fees.commission_min()),
        fund_rate: percent(t.lang, fees.fund_bp()),
        fund_payer: match fees.fund_payer() {
            FundPayer::Buyer => t.paid_by_buyer(),
            FundPayer::Seller => t.paid_by_seller(),
        },
        amount_per_tx_max: t.lang.amount(policy.amount_per_tx_max),
    })
}

/// A 422 page saying that an export or a statement would pass its line limit.
pub(super) fn too_long(auth: &MemberReader, message: &str) -> AppResult<Response> {
    let mut response = page(super::templates::ErrorTemplate {
        c: auth.chrome(),
        message,
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

impl Tr {
    /// 10 000 / 10,000.
    fn count(&self, n: usize) -> String {
        let digits = n.to_string();
        // Grouped like amounts (`Amount::to_french`).
        let separator = match self.lang {
            Lang::Fr => ' ',
            Lang::En => ',',
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            match (digits.len() - i) % 3 {
                0 if i > 0 => out.push(separator),
                _ => {}
            }
            out.push(c);
        }
        out
    }

    pub fn export_too_long(&self, max: usize) -> String {
        let max = self.count(max);
        match self.lang {
            Lang::Fr => {
                format!("Cet export dépasserait {max} lignes : choisissez une période plus courte.")
            }
            Lang::En => format!("This export would exceed {max} lines: choose a shorter period."),
        }
    }

    pub fn statement_rows_too_many(&self, max: usize) -> String {
        let max = self.count(max);
        match self.lang {
            Lang::Fr => format!(
                "Ce relevé dépasserait {max} lignes : exportez le mois en CSV par périodes plus courtes."
            ),
            Lang::En => format!(
                "This statement would exceed {max} lines: export the month as CSV in shorter periods."
            ),
        }
    }
}

/// Renders an outcome id for messages.
pub fn outcome_tx(outcome: &Outcome) -> String {
    outcome.tx().map(|t| t.to_string()).unwrap_or_default()
}
