//! `/invoices`: a member company's invoices (`crate::invoices`), those it issued for its
//! sales and those it received for its purchases, 50 to a page; `/invoices/new?tx=ID`: the
//! seller's owner or staff invoices a payment received (linked from the history's lines);
//! `/invoices/{id}`: the invoice, printable, for both companies' users and the network's
//! staff; once its payment is refunded, the seller's owner or staff issue its credit note
//! there (`POST /invoices/{id}/credit-note`); `/invoices/{id}/cii.xml`: the same as a
//! structured e-invoice (`crate::einvoice`), for the same users. Anyone else, and any
//! unknown id, gets 404.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use ledger::{Amount, TxId};
use serde::Deserialize;

use super::console::{form_messages, page_error};
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Tr};
use super::session::{Auth, MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::ConsoleError;
use crate::invoices::{
    self, Invoice, Invoiceable, Kind, NewInvoice, NewLine, PeriodRefusal, Side, Supply,
    DESCRIPTION_LEN_MAX, INVOICES_PAGE_DEFAULT,
};
use crate::people::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/invoices", get(list_page).post(issue))
        .route("/invoices/new", get(new_page))
        .route("/invoices/einvoices.zip", get(archive_download))
        .route("/invoices/mentions", post(save_mentions))
        .route("/invoices/{id}", get(invoice_page))
        .route("/invoices/{id}/cii.xml", get(einvoice_download))
        .route("/invoices/{id}/credit-note", post(credit))
}

fn date_of(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// What the seller said it sold, in words; `None` for invoices issued before it was asked.
fn supply_text(t: Tr, supply: Option<Supply>) -> Option<&'static str> {
    supply.map(|s| match s {
        Supply::Goods => t.inv_supply_goods(),
        Supply::Services => t.inv_supply_services(),
        Supply::Mixed => t.inv_supply_mixed(),
    })
}

/// A file to download, kept out of shared caches: an e-invoice or an archive of them,
/// for the pages and for the API.
pub(crate) fn download(
    content_type: &'static str,
    file_name: &str,
    body: impl Into<axum::body::Body>,
) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body.into(),
    )
        .into_response()
}

/// An e-invoice as a download (`crate::einvoice`).
pub(crate) fn xml_download(invoice: &Invoice, body: String) -> Response {
    download(
        "application/xml; charset=utf-8",
        &crate::einvoice::file_name(invoice),
        body,
    )
}

/// A period's e-invoices as a download: `factures-{who}-{side}-{from}-{to}.zip`.
pub(crate) fn zip_download(
    who: &str,
    side: Side,
    period: (NaiveDate, NaiveDate),
    body: Vec<u8>,
) -> Response {
    let (from, to) = period;
    let name = format!("factures-{who}-{}-{from}-{to}.zip", side.as_str());
    download("application/zip", &name, body)
}

fn rate_text(t: Tr, vat_bp: i64) -> String {
    format!("{} %", t.lang.amount(Amount::from_minor(vat_bp)))
}

/// One invoice in a list.
pub struct InvoiceLine {
    id: i64,
    number: String,
    credit_note: bool,
    issued_on: String,
    /// The buyer on the issued side, the seller on the received side.
    other: String,
    /// The first line's description, and how many lines follow it.
    description: String,
    more_lines: usize,
    net: String,
    vat: String,
    total: String,
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct ListTemplate {
    c: Chrome,
    issued: bool,
    lines: Vec<InvoiceLine>,
    next: Option<String>,
    /// The archive form's period, as typed or proposed (the last month).
    from: String,
    to: String,
    messages: Vec<String>,
    /// The legal mentions the company's invoices carry, as saved or as typed; the owner
    /// edits them here.
    mentions: String,
    can_edit_mentions: bool,
    mentions_messages: Vec<String>,
    mentions_len_max: usize,
}

/// What the list page shows besides the invoices: the forms' values and messages.
#[derive(Default)]
struct ListForms {
    /// The archive's period, as typed or proposed.
    period: (String, String),
    messages: Vec<String>,
    /// The mentions as typed, when the form comes back refused.
    mentions: Option<String>,
    mentions_messages: Vec<String>,
    /// The mentions were saved.
    saved: bool,
}

/// The raw value of `name` in a query string (not percent-decoded: for ids and codes).
pub(super) fn query_value<'a>(raw: Option<&'a str>, name: &str) -> Option<&'a str> {
    raw?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The archive form's proposal: the last calendar month, as `YYYY-MM-DD` texts.
fn last_month() -> (String, String) {
    let (start, end) = invoices::last_month(chrono::Utc::now().date_naive());
    (
        start.format("%Y-%m-%d").to_string(),
        end.format("%Y-%m-%d").to_string(),
    )
}

fn side_of(raw: Option<&str>) -> AppResult<Side> {
    match query_value(raw, "side") {
        None => Ok(Side::Issued),
        Some(text) => Side::parse(text).ok_or(AppError::NotFound),
    }
}

async fn list_page(
    State(state): State<AppState>,
    reader: MemberReader,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let side = side_of(raw.as_deref())?;
    let before = match query_value(raw.as_deref(), "before") {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let period = last_month();
    let forms = ListForms {
        period,
        ..ListForms::default()
    };
    draw_list(&state, &reader, side, before, forms).await
}

async fn draw_list(
    state: &AppState,
    reader: &MemberReader,
    side: Side,
    before: Option<i64>,
    forms: ListForms,
) -> AppResult<Response> {
    let t = reader.tr();
    let (from, to) = forms.period;
    let messages = forms.messages;
    let refused = !messages.is_empty() || !forms.mentions_messages.is_empty();
    let mentions = match forms.mentions {
        Some(typed) => typed,
        None => invoices::mentions_of(&state.store, reader.member.id)
            .await
            .map_err(page_error)?,
    };
    let mut mentions_messages = forms.mentions_messages;
    if forms.saved {
        mentions_messages.push(t.saved().to_owned());
    }
    let found = invoices::page(
        &state.store,
        reader.member.id,
        side,
        before,
        INVOICES_PAGE_DEFAULT + 1,
    )
    .await
    .map_err(page_error)?;
    let more = found.len() as i64 > INVOICES_PAGE_DEFAULT;
    let shown = &found[..found.len().min(INVOICES_PAGE_DEFAULT as usize)];
    let next = match shown.last() {
        Some(last) if more => Some(format!(
            "/invoices?side={}&before={}",
            side.as_str(),
            last.id
        )),
        _ => None,
    };
    let lines = shown
        .iter()
        .map(|i| InvoiceLine {
            id: i.id,
            number: i.number.clone(),
            credit_note: i.kind == Kind::CreditNote,
            issued_on: i.issued_on.format("%d/%m/%Y").to_string(),
            other: match side {
                Side::Issued => i.buyer.name.clone(),
                Side::Received => i.seller.name.clone(),
            },
            description: i.description.clone(),
            more_lines: i.lines.len().saturating_sub(1),
            net: t.lang.amount(i.net),
            vat: t.lang.amount(i.vat),
            total: t.lang.amount(i.total),
        })
        .collect();
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut response = page(ListTemplate {
        c: reader.chrome(),
        issued: side == Side::Issued,
        lines,
        next,
        from,
        to,
        messages,
        mentions,
        can_edit_mentions: reader.auth.user.role == Role::Owner,
        mentions_messages,
        mentions_len_max: invoices::MENTIONS_LEN_MAX,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// The e-invoices of a period (`from`, `to`: `YYYY-MM-DD`, both included) of the invoices
/// the company issued or received, in one ZIP file; a bad period is worded on the list.
async fn archive_download(
    State(state): State<AppState>,
    reader: MemberReader,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let t = reader.tr();
    let side = side_of(raw.as_deref())?;
    let typed = |name: &str| {
        query_value(raw.as_deref(), name)
            .unwrap_or_default()
            .to_owned()
    };
    let (from_text, to_text) = (typed("from"), typed("to"));
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let refusal = match (date(&from_text), date(&to_text)) {
        (Some(from), Some(to)) => {
            match invoices::einvoice_archive(&state.store, reader.member.id, side, from, to)
                .await
                .map_err(page_error)?
            {
                Ok(zip) => {
                    let who = &reader.member.siren;
                    return Ok(zip_download(who, side, (from, to), zip));
                }
                Err(refusal) => Some(refusal),
            }
        }
        _ => None,
    };
    let message = match refusal {
        None => t.inv_archive_dates(),
        Some(PeriodRefusal::Reversed) => t.inv_archive_reversed(),
        Some(PeriodRefusal::TooLong) => t.inv_archive_too_long(),
        Some(PeriodRefusal::TooManyInvoices) => t.inv_archive_too_many(),
    };
    let forms = ListForms {
        period: (from_text, to_text),
        messages: vec![message.to_owned()],
        ..ListForms::default()
    };
    draw_list(&state, &reader, side, None, forms).await
}

#[derive(Debug, Deserialize)]
struct MentionsForm {
    #[serde(default)]
    mentions: String,
}

/// The owner saves the legal mentions its invoices carry from now on.
async fn save_mentions(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<MentionsForm>,
) -> AppResult<Response> {
    let t = auth.tr();
    let saved =
        invoices::set_mentions(&state.store, &auth.auth.user, &auth.member, &form.mentions).await;
    let forms = match saved {
        Ok(_) => ListForms {
            period: last_month(),
            saved: true,
            ..ListForms::default()
        },
        Err(ConsoleError::Forbidden) => return Err(AppError::Forbidden),
        Err(error) => ListForms {
            period: last_month(),
            mentions: Some(form.mentions),
            mentions_messages: form_messages(t, error)?,
            ..ListForms::default()
        },
    };
    draw_list(&state, &auth.into(), Side::Issued, None, forms).await
}

#[derive(Template)]
#[template(path = "invoice_new.html")]
struct NewTemplate {
    c: Chrome,
    tx: u64,
    paid_on: String,
    buyer: String,
    total: String,
    reference: String,
    memo: String,
    refunded: bool,
    messages: Vec<String>,
    /// The form's lines, [`FORM_LINES`] of them, as typed.
    rows: Vec<RowView>,
    /// The choice kept when the form comes back: `goods`, `services`, `mixed` or empty.
    supply: String,
    description_len_max: usize,
}

/// Lines the web form offers (the API takes up to `invoices::LINES_MAX`).
pub const FORM_LINES: usize = 6;

/// One line of the form as typed: its description, rate and amount tax included.
#[derive(Debug, Clone, Default)]
struct Row {
    description: String,
    vat: String,
    amount: String,
}

/// A line of the form as drawn: its number (from 1), its fields' names and values.
struct RowView {
    n: usize,
    suffix: String,
    row: Row,
}

#[derive(Debug, Default)]
struct InvoiceForm {
    tx: String,
    supply: String,
    /// [`FORM_LINES`] rows: the first named `description`, `vat`, `amount`; the others
    /// `description_2`, `vat_2`, `amount_2`...
    rows: Vec<Row>,
}

impl InvoiceForm {
    fn suffix(index: usize) -> String {
        if index == 0 {
            String::new()
        } else {
            format!("_{}", index + 1)
        }
    }

    /// The form's fields, read by name; unknown names are ignored.
    fn of(fields: Vec<(String, String)>) -> InvoiceForm {
        let mut form = InvoiceForm {
            rows: vec![Row::default(); FORM_LINES],
            ..InvoiceForm::default()
        };
        for (name, value) in fields {
            match name.as_str() {
                "tx" => form.tx = value,
                "supply" => form.supply = value,
                _ => {
                    for (index, row) in form.rows.iter_mut().enumerate() {
                        let suffix = InvoiceForm::suffix(index);
                        if name == format!("description{suffix}") {
                            row.description = value.clone();
                        } else if name == format!("vat{suffix}") {
                            row.vat = value.clone();
                        } else if name == format!("amount{suffix}") {
                            row.amount = value.clone();
                        }
                    }
                }
            }
        }
        form
    }

    /// The first row with `description` and `vat`; the others empty.
    fn single(description: String, vat: String) -> InvoiceForm {
        let mut rows = vec![Row::default(); FORM_LINES];
        rows[0] = Row {
            description,
            vat,
            amount: String::new(),
        };
        InvoiceForm {
            tx: String::new(),
            supply: String::new(),
            rows,
        }
    }
}

async fn draw_new(
    auth: &MemberAuth,
    found: &Invoiceable,
    status: StatusCode,
    messages: Vec<String>,
    form: InvoiceForm,
) -> AppResult<Response> {
    let t = auth.tr();
    let tx = &found.payment.transaction;
    let mut response = page(NewTemplate {
        c: auth.chrome(),
        tx: tx.id().0,
        paid_on: tx.time().format("%d/%m/%Y").to_string(),
        buyer: found.buyer.name.clone(),
        total: t.lang.amount(found.payment.amount),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        refunded: found.payment.refunded_by.is_some(),
        messages,
        rows: form
            .rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| RowView {
                n: index + 1,
                suffix: InvoiceForm::suffix(index),
                row,
            })
            .collect(),
        supply: form.supply,
        description_len_max: DESCRIPTION_LEN_MAX,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

fn tx_of(text: &str) -> AppResult<TxId> {
    text.trim()
        .parse::<u64>()
        .map(TxId)
        .map_err(|_| AppError::NotFound)
}

/// The form, filled with the ordered listing's title and VAT rate, or else the payment's
/// reference and memo and 20 %; a payment invoiced already goes to its invoice.
async fn new_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let tx = tx_of(query_value(raw.as_deref(), "tx").unwrap_or_default())?;
    let found = invoices::invoiceable(&state.store, &auth.member, tx)
        .await
        .map_err(page_error)?;
    if let Some(invoice) = &found.invoice {
        return Ok(Redirect::to(&format!("/invoices/{}", invoice.id)).into_response());
    }
    // An order's capture: the listing's title and VAT rate; any other payment: its
    // reference and memo, and 20 %.
    let tx = &found.payment.transaction;
    let order = match i64::try_from(tx.id().0) {
        Ok(id) => crate::trade::order_of_transaction(&state.store, id).await?,
        Err(_) => None,
    };
    let listing = match order {
        Some(order) => crate::market::get(&state.store, order.listing_id).await?,
        None => None,
    };
    let form = match listing {
        Some(listing) => {
            InvoiceForm::single(listing.title, Amount::from_minor(listing.vat_bp).to_plain())
        }
        None => InvoiceForm::single(
            [tx.reference(), tx.memo()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" — "),
            "20".into(),
        ),
    };
    draw_new(&auth, &found, StatusCode::OK, Vec::new(), form).await
}

/// The rate typed in percent (`20`, `5,5`, `2.1`) in basis points, if it is one from 0 to
/// 100 %.
fn vat_bp(text: &str) -> Option<i64> {
    let text = if text.trim().is_empty() { "0" } else { text };
    Amount::parse_signed(text)
        .ok()
        .map(|a| a.minor())
        .filter(|bp| (0..=invoices::VAT_BP_MAX).contains(bp))
}

/// The lines typed: the first always, the others when they have a description or an
/// amount. Rates typed in percent and amounts that do not read are worded here (the domain
/// checks the rest: descriptions, bounds, the sum).
fn typed_lines(t: Tr, rows: &[Row]) -> Result<Vec<NewLine>, Vec<String>> {
    let used: Vec<(usize, &Row)> = rows
        .iter()
        .enumerate()
        .filter(|(index, row)| {
            *index == 0 || !row.description.trim().is_empty() || !row.amount.trim().is_empty()
        })
        .collect();
    let several = used.len() > 1;
    let mut lines = Vec::with_capacity(used.len());
    let mut messages = Vec::new();
    for (index, row) in used {
        let place = if several {
            format!("{} {} — ", t.inv_line(), index + 1)
        } else {
            String::new()
        };
        let vat_bp = vat_bp(&row.vat);
        let total = crate::console::parse_amount(&row.amount);
        if vat_bp.is_none() {
            messages.push(format!("{place}{}", t.inv_rate_invalid()));
        }
        if total.is_err() {
            messages.push(format!("{place}{}", t.inv_amount_invalid()));
        }
        if let (Some(vat_bp), Ok(total)) = (vat_bp, total) {
            lines.push(NewLine {
                description: row.description.clone(),
                vat_bp,
                total,
            });
        }
    }
    if messages.is_empty() {
        Ok(lines)
    } else {
        Err(messages)
    }
}

async fn issue(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = InvoiceForm::of(fields);
    let tx = tx_of(&form.tx)?;
    let t = auth.tr();
    // The rates are typed in percent here: their own message rather than the API's bounds.
    // What was sold is asked here (the API takes it when given).
    let messages = match (typed_lines(t, &form.rows), Supply::parse(&form.supply)) {
        (Err(messages), _) => messages,
        (Ok(_), None) => vec![t.inv_supply_required().to_owned()],
        (Ok(lines), Some(supply)) => {
            let new = NewInvoice {
                tx,
                supply: Some(supply),
                lines,
            };
            let today = chrono::Utc::now().date_naive();
            match invoices::issue(&state.store, &auth.auth.user, &auth.member, &new, today).await {
                Ok(invoice) => {
                    return Ok(Redirect::to(&format!("/invoices/{}", invoice.id)).into_response())
                }
                Err(error) => form_messages(t, error)?,
            }
        }
    };
    // Refused: the form again, with the payment (read only now; another company's is 404).
    let found = invoices::invoiceable(&state.store, &auth.member, tx)
        .await
        .map_err(page_error)?;
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    draw_new(&auth, &found, status, messages, form).await
}

/// One line of an invoice, worded.
struct LineView {
    description: String,
    net: String,
    rate: String,
    vat: String,
    total: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoiceTemplate {
    c: Chrome,
    invoice: Invoice,
    credit_note: bool,
    issued_on: String,
    paid_on: String,
    rate: String,
    net: String,
    vat: String,
    total: String,
    supply: Option<&'static str>,
    lines: Vec<LineView>,
    /// The VAT by rate: the rate, the net basis and the VAT, worded.
    by_rate: Vec<(String, String, String)>,
    /// The seller's French VAT number, from its SIREN (`crate::einvoice::vat_number`).
    seller_vat: Option<String>,
    network: String,
    /// The reversal that refunded the payment after the invoice was issued.
    refunded_by: Option<u64>,
    /// The credit note that cancels this invoice, or the invoice this credit note cancels:
    /// its id and number.
    other: Option<(i64, String)>,
    /// The seller's owner or staff may issue the credit note now.
    can_credit: bool,
    messages: Vec<String>,
}

async fn draw_invoice(
    state: &AppState,
    auth: &Auth,
    invoice: Invoice,
    status: StatusCode,
    messages: Vec<String>,
) -> AppResult<Response> {
    let t = auth.tr();
    let credit_note = invoice.kind == Kind::CreditNote;
    let (refunded_by, other) = if credit_note {
        let cancelled = match invoice.credits {
            Some(id) => Some(invoices::get(&state.store, id).await.map_err(page_error)?),
            None => None,
        };
        (None, cancelled.map(|i| (i.id, i.number)))
    } else {
        let paid = TxId(u64::try_from(invoice.tx_id).unwrap_or_default());
        let refunded_by = state.store.reversed_by(paid).await?.map(|r| r.0);
        let note = invoices::credit_note_of(&state.store, invoice.id)
            .await
            .map_err(page_error)?;
        (refunded_by, note.map(|n| (n.id, n.number)))
    };
    let can_credit = !credit_note
        && refunded_by.is_some()
        && other.is_none()
        && auth.user.member_id == Some(invoice.seller.member_id)
        && matches!(auth.user.role, Role::Owner | Role::Staff);
    let network = state.store.network_name().await?.unwrap_or_default();
    let mut response = page(InvoiceTemplate {
        c: auth.chrome(),
        credit_note,
        issued_on: invoice.issued_on.format("%d/%m/%Y").to_string(),
        paid_on: date_of(invoice.paid_at),
        rate: rate_text(t, invoice.vat_bp),
        net: t.lang.amount(invoice.net),
        vat: t.lang.amount(invoice.vat),
        total: t.lang.amount(invoice.total),
        supply: supply_text(t, invoice.supply),
        lines: invoice
            .lines
            .iter()
            .map(|l| LineView {
                description: l.description.clone(),
                net: t.lang.amount(l.net),
                rate: rate_text(t, l.vat_bp),
                vat: t.lang.amount(l.vat),
                total: t.lang.amount(l.total),
            })
            .collect(),
        by_rate: invoice
            .vat_by_rate()
            .into_iter()
            .map(|(rate, net, vat)| (rate_text(t, rate), t.lang.amount(net), t.lang.amount(vat)))
            .collect(),
        seller_vat: crate::einvoice::vat_number(&invoice.seller.siren),
        network,
        refunded_by,
        other,
        can_credit,
        messages,
        invoice,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// The invoice `id` if the user may read it: both companies' users, and the network's
/// staff; `NotFound` for anyone else.
async fn readable(state: &AppState, auth: &Auth, id: &str) -> AppResult<Invoice> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    match (auth.user.member_id, auth.user.role) {
        (Some(member_id), _) => invoices::of_member(&state.store, member_id, id).await,
        (None, Role::Manager | Role::Accountant) => invoices::get(&state.store, id).await,
        (None, _) => Err(ConsoleError::NotFound),
    }
    .map_err(page_error)
}

async fn invoice_page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let invoice = readable(&state, &auth, &id).await?;
    draw_invoice(&state, &auth, invoice, StatusCode::OK, Vec::new()).await
}

/// The invoice as a structured e-invoice (CII, Factur-X EN 16931), for whoever may read it.
async fn einvoice_download(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let invoice = readable(&state, &auth, &id).await?;
    let body = invoices::einvoice(&state.store, &invoice)
        .await
        .map_err(page_error)?;
    Ok(xml_download(&invoice, body))
}

/// The seller's owner or staff issue the credit note of an invoice whose payment was
/// refunded; refusals are shown on the invoice's page.
async fn credit(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let invoice_id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let today = chrono::Utc::now().date_naive();
    let user = &auth.auth.user;
    let messages = match invoices::credit(&state.store, user, &auth.member, invoice_id, today).await
    {
        Ok(note) => return Ok(Redirect::to(&format!("/invoices/{}", note.id)).into_response()),
        Err(error) => form_messages(auth.tr(), error)?,
    };
    // Refused: the invoice's page again, with the reason (read only now).
    let invoice = readable(&state, &auth.auth, &id).await?;
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    draw_invoice(&state, &auth.auth, invoice, status, messages).await
}

catalogue! {
    inv_title => "Factures", "Invoices";
    inv_intro => "Chaque vente réglée par le réseau se facture comme une vente ordinaire : hors taxes, taux et montant de TVA, TTC, avec la mention du règlement par compensation. Établissez la facture d'un paiement reçu depuis l'historique (« Facturer ») ; la TVA collectée se déclare et se paie en euros. Un paiement remboursé s'annule par un avoir, depuis la page de sa facture.", "Each sale settled through the network is invoiced like any other: net, VAT rate and amount, total, marked as settled by compensation. Invoice a payment received from the history (“Invoice”); the VAT collected is declared and paid in euros. A refunded payment is cancelled by a credit note, from its invoice's page.";
    inv_credit_note_short => "avoir", "credit note";
    inv_issued => "Factures émises", "Invoices issued";
    inv_received => "Factures reçues", "Invoices received";
    inv_number => "Numéro", "Number";
    inv_issued_on => "Date d'émission", "Date of issue";
    inv_customer => "Client", "Customer";
    inv_supplier => "Fournisseur", "Supplier";
    inv_seller => "Vendeur", "Seller";
    inv_description => "Désignation", "Description";
    inv_net => "Montant HT", "Net amount";
    inv_rate => "Taux de TVA", "VAT rate";
    inv_vat => "TVA", "VAT";
    inv_total => "Total TTC", "Total";
    inv_link => "Facturer", "Invoice";
    inv_new_title => "Facturer un paiement reçu", "Invoice a payment received";
    inv_new_intro => "Le montant reçu est le total TTC de la facture ; le montant HT et la TVA s'en déduisent au taux choisi. Une facture émise ne se modifie plus : une erreur se corrige par un avoir.", "The amount received is the invoice's total; the net amount and the VAT follow from the rate chosen. An invoice issued can no longer be changed: a mistake is corrected by a credit note.";
    inv_paid_on => "Payé le", "Paid on";
    inv_amount_received => "Montant reçu (TTC)", "Amount received (total)";
    inv_rate_hint => "En pour cent : 20, 10, 5,5, 2,1 ou 0.", "In percent: 20, 10, 5.5, 2.1 or 0.";
    inv_rate_invalid => "Taux de TVA : un pourcentage de 0 à 100, par exemple 20 ou 5,5.", "VAT rate: a percentage from 0 to 100, for example 20 or 5.5.";
    inv_submit => "Émettre la facture", "Issue the invoice";
    inv_refunded => "Ce paiement a été remboursé : il n'y a pas de vente à facturer.", "This payment was refunded: there is no sale to invoice.";
    inv_invoice => "Facture", "Invoice";
    inv_transaction => "Transaction", "Transaction";
    inv_settled => "Facture acquittée par compensation via le réseau d'échange", "Invoice settled by compensation through the barter network";
    inv_settled_tail => "Aucune somme n'est due en euros au titre de cette facture, hors la TVA que le vendeur reverse au Trésor.", "Nothing is owed in euros under this invoice, except the VAT that the seller pays to the Treasury.";
    inv_refunded_after => "Le paiement de cette facture a été remboursé depuis (transaction", "The payment of this invoice was refunded since (transaction";
    inv_credit_note_title => "Avoir", "Credit note";
    inv_cancels => "Cet avoir annule la facture", "This credit note cancels invoice";
    inv_refund_of => "à la suite du remboursement du paiement, transaction", "after the payment was refunded, transaction";
    inv_credited_by => "Cette facture est annulée par l'avoir", "This invoice is cancelled by credit note";
    inv_credit_submit => "Émettre l'avoir", "Issue the credit note";
    inv_credit_intro => "Le paiement a été remboursé : émettez l'avoir qui annule cette facture (mêmes montants, numéroté dans la série des avoirs).", "The payment was refunded: issue the credit note that cancels this invoice (the same amounts, numbered in the credit notes' series).";
    inv_print => "Imprimer ou enregistrer en PDF : utilisez la fonction d'impression du navigateur.", "To print or save as PDF, use the browser's print function.";
    inv_siren => "SIREN", "SIREN";
    inv_supply => "Nature de la vente", "What was sold";
    inv_line => "Ligne", "Line";
    inv_more_lines => "ligne(s) de plus", "more line(s)";
    inv_mentions => "Mentions légales de vos factures", "Your invoices' legal mentions";
    inv_mentions_intro => "Ce que chaque facture doit porter et que le réseau ne connaît pas : forme juridique et capital social, immatriculation (RCS et ville), mention d'exonération de TVA (« TVA non applicable, art. 293 B du CGI »)… Chaque facture émise ensuite les reprend ; celles déjà émises gardent les leurs.", "What every invoice must carry and the network does not know: legal form and share capital, registration (RCS and town), a VAT exemption's mention (“TVA non applicable, art. 293 B du CGI”)… Each invoice issued from now on copies them; those issued before keep theirs.";
    inv_mentions_save => "Enregistrer les mentions", "Save the mentions";
    inv_archive => "Factures électroniques d'une période (ZIP)", "E-invoices of a period (ZIP)";
    inv_archive_intro => "Les factures électroniques (XML CII) de la période, dans un fichier ZIP : pour le dépôt groupé sur votre plateforme ou pour votre comptable. Jusqu'à 500 factures et 366 jours.", "The period's e-invoices (CII XML) in one ZIP file: for a bulk upload to your platform or for your accountant. Up to 500 invoices and 366 days.";
    inv_archive_from => "Du", "From";
    inv_archive_to => "au", "to";
    inv_archive_submit => "Télécharger", "Download";
    inv_archive_dates => "Période : deux dates au format AAAA-MM-JJ.", "Period: two dates as YYYY-MM-DD.";
    inv_archive_reversed => "Période : la date de fin précède la date de début.", "Period: the end comes before the start.";
    inv_archive_too_long => "Période : 366 jours au plus.", "Period: 366 days at most.";
    inv_archive_too_many => "Plus de 500 factures sur cette période : choisissez une période plus courte.", "More than 500 invoices in this period: choose a shorter one.";
    inv_amount_ttc => "Montant TTC", "Amount (total)";
    inv_amount_invalid => "Montant TTC : un montant positif, par exemple 66 ou 24,50.", "Amount: a positive amount, for example 66 or 24.50.";
    inv_lines_hint => "Une seule ligne : laissez son montant vide, c'est le montant reçu. Plusieurs lignes (des taux de TVA différents, par exemple un repas à 10 % et le vin à 20 %) : donnez à chacune son montant TTC ; ensemble, ils font le montant reçu.", "One line: leave its amount empty, it is the amount received. Several lines (different VAT rates, say a meal at 10 % and the wine at 20 %): give each its amount, tax included; together they make the amount received.";
    inv_vat_by_rate => "Récapitulatif de la TVA", "VAT by rate";
    inv_basis => "Base HT", "Net basis";
    inv_totals => "Totaux", "Totals";
    inv_supply_goods => "Livraison de biens", "Goods";
    inv_supply_services => "Prestation de services", "Services";
    inv_supply_mixed => "Biens et services", "Goods and services";
    inv_supply_required => "Nature de la vente : choisissez biens, services ou les deux.", "What was sold: choose goods, services or both.";
    inv_vat_number => "N° TVA", "VAT no.";
    inv_terms => "Pas d'escompte pour paiement anticipé. Pénalités de retard (trois fois le taux d'intérêt légal) et indemnité forfaitaire pour frais de recouvrement (40 €) : sans objet, la facture étant réglée.", "No discount for early payment. Late-payment penalties (three times the legal interest rate) and the fixed recovery indemnity (€40): without object, the invoice being settled.";
    inv_einvoice => "Facture électronique (XML CII, Factur-X EN 16931)", "E-invoice (CII XML, Factur-X EN 16931)";
    inv_einvoice_hint => "Le format structuré de la réforme de la facturation électronique, à déposer sur votre plateforme agréée ou à remettre à votre comptable.", "The structured format of the French e-invoicing reform, to upload to your approved platform or give to your accountant.";
}
