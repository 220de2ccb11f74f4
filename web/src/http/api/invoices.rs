//! Invoices (`crate::invoices`, the pages `/invoices`): the seller of a payment received
//! issues its invoice (net, VAT, total, marked as settled by compensation), and once the
//! payment is refunded, the credit note that cancels it. Both companies' users read them;
//! the network's staff read any one, and a member's list with `member`. Each one is also a
//! structured e-invoice (`GET /api/v1/invoices/{id}/cii`, `crate::einvoice`).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use ledger::TxId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, FieldProblem, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, unix_time};
use crate::http::AppState;
use crate::invoices::{self, Invoice, NewInvoice, NewLine, Party, PeriodRefusal, Side, Supply};

/// One party as the invoice names it, as it was when the invoice was issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceParty {
    pub member_id: i64,
    pub name: String,
    pub siren: String,
    /// Street, postcode and town.
    pub address: String,
}

fn party(p: &Party) -> InvoiceParty {
    InvoiceParty {
        member_id: p.member_id,
        name: p.name.clone(),
        siren: p.siren.clone(),
        address: p.address.clone(),
    }
}

/// One line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineItem {
    pub description: String,
    /// Basis points: 2000 = 20 %.
    pub vat_bp: i64,
    #[schema(example = "100.00")]
    pub net: String,
    #[schema(example = "20.00")]
    pub vat: String,
    /// Tax included.
    #[schema(example = "120.00")]
    pub total: String,
}

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceItem {
    pub id: i64,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// The invoice a credit note cancels.
    pub credits: Option<i64>,
    /// The seller's series for the year, unbroken: `FA-2026-00001`, `AV-2026-00001` for
    /// credit notes.
    #[schema(example = "FA-2026-00001")]
    pub number: String,
    pub seller: InvoiceParty,
    pub buyer: InvoiceParty,
    /// The payment it invoices (a credit note: the refund).
    pub transaction_id: i64,
    #[schema(format = Date, example = "2026-12-04")]
    pub issued_on: String,
    /// When that transaction was made.
    pub paid_at: String,
    /// The first line's description.
    pub description: String,
    /// `goods`, `services` or `mixed`; none for invoices issued before it was asked.
    #[schema(value_type = Option<crate::http::api::types::InvoiceSupply>)]
    pub supply: Option<String>,
    /// The first line's rate, in basis points: 2000 = 20 %.
    pub vat_bp: i64,
    /// The lines' sum.
    #[schema(example = "100.00")]
    pub net: String,
    /// The lines' sum.
    #[schema(example = "20.00")]
    pub vat: String,
    /// Tax included: what the seller received, the lines' sum.
    #[schema(example = "120.00")]
    pub total: String,
    pub created_by: String,
    pub created_at: String,
    /// One or more, in order.
    pub lines: Vec<InvoiceLineItem>,
    /// The seller's legal mentions as they were when it was issued (empty: none).
    pub seller_mentions: String,
}

pub(crate) fn item(i: &Invoice) -> InvoiceItem {
    InvoiceItem {
        id: i.id,
        kind: i.kind.as_str().to_owned(),
        credits: i.credits,
        number: i.number.clone(),
        seller: party(&i.seller),
        buyer: party(&i.buyer),
        transaction_id: i.tx_id,
        issued_on: i.issued_on.format("%Y-%m-%d").to_string(),
        paid_at: unix_time(i.paid_at),
        description: i.description.clone(),
        supply: i.supply.map(|s| s.as_str().to_owned()),
        vat_bp: i.vat_bp,
        net: money(i.net),
        vat: money(i.vat),
        total: money(i.total),
        created_by: i.created_by.clone(),
        created_at: unix_time(i.created_at),
        lines: i
            .lines
            .iter()
            .map(|l| InvoiceLineItem {
                description: l.description.clone(),
                vat_bp: l.vat_bp,
                net: money(l.net),
                vat: money(l.vat),
                total: money(l.total),
            })
            .collect(),
        seller_mentions: i.seller_mentions.clone(),
    }
}

/// A page of invoices, newest first; pass `next` as `after` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<InvoiceItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// A company's invoices: issued (its sales, by default) or received (its purchases). A
/// member's users read their company's; the network's staff name the member.
#[utoipa::path(get, path = "/api/v1/invoices", operation_id = "list_invoices", tag = "payments",
    params(
        ("side" = Option<crate::http::api::types::InvoiceSide>, Query, description = "`issued` (default) or `received`"),
        ("member" = Option<i64>, Query, description = "The member's id (the network's staff only, who must give it)"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Newest first", body = InvoicePage),
        (status = 403, description = "Neither a member's user nor the network's staff with a manage token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<InvoicePage>> {
    let params = types::query(raw.as_deref());
    let side = match types::param(&params, "side") {
        None => Side::Issued,
        Some(text) => Side::parse(text)
            .ok_or_else(|| ApiError::invalid("side", "side must be issued or received."))?,
    };
    let limit = types::limit(&params)? as i64;
    let after = types::cursor(&params, "after")?;
    let member_id = member_of(&auth, &params)?;
    let mut found = invoices::page(&state.store, member_id, side, after, limit + 1).await?;
    let more = found.len() as i64 > limit;
    found.truncate(limit as usize);
    let next = match found.last() {
        Some(last) if more => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Json(InvoicePage {
        items: found.iter().map(item).collect(),
        next,
    }))
}

/// The invoice `id` if the caller may read it: the seller's or the buyer's users, or the
/// network's staff; `NotFound` for any other.
async fn readable(state: &AppState, auth: &ApiAuth, id: &str) -> ApiResult<Invoice> {
    let id = types::path_id(id)?;
    let invoice = if auth.is_network() {
        invoices::get(&state.store, id).await?
    } else {
        let member = auth.member.as_ref().ok_or(ApiError::NotFound)?;
        invoices::of_member(&state.store, member.id, id).await?
    };
    Ok(invoice)
}

/// One invoice (the seller's or the buyer's users, or the network's staff); any other is 404.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", operation_id = "show_invoice", tag = "payments",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceItem),
        (status = 404, description = "No such invoice the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceItem>> {
    let invoice = readable(&state, &auth, &id).await?;
    Ok(Json(item(&invoice)))
}

/// The invoice as a structured e-invoice: a Cross Industry Invoice (UN/CEFACT CII), the XML
/// of the Factur-X profile EN 16931 that the French e-invoicing platforms accept, settled by
/// clearing through the network. Read as `show_invoice` is (read scope suffices).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/cii", operation_id = "show_einvoice", tag = "payments",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The CII document (UTF-8), as a download named after the invoice's number", body = String, content_type = "application/xml"),
        (status = 404, description = "No such invoice the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn einvoice(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let invoice = readable(&state, &auth, &id).await?;
    let body = invoices::einvoice(&state.store, &invoice).await?;
    Ok(crate::http::invoices::xml_download(&invoice, body))
}

/// A line of a new invoice of several.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoiceLineBody {
    /// What was sold: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// The VAT rate in basis points, 0 to 10000 (2000 = 20 %).
    #[schema(minimum = 0, maximum = 10000, example = 1000)]
    pub vat_bp: i64,
    /// Its amount tax included; the lines add up to the payment.
    #[schema(
        example = "66.00",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub total: String,
}

/// The e-invoices of a company's invoices dated in a period, in one ZIP file (each named
/// after its number, as `show_einvoice` gives it): for a platform's bulk upload or an
/// accountant. A member's users read their company's; the network's staff name the member.
#[utoipa::path(get, path = "/api/v1/invoices/cii.zip", operation_id = "einvoices_archive", tag = "payments",
    params(
        ("from" = Option<String>, Query, description = "The first day, `YYYY-MM-DD`; by default the first day of last month", format = Date),
        ("to" = Option<String>, Query, description = "The last day, `YYYY-MM-DD`, at most 365 days after `from`; by default today", format = Date),
        ("side" = Option<crate::http::api::types::InvoiceSide>, Query, description = "`issued` (default) or `received`"),
        ("member" = Option<i64>, Query, description = "The member's id (the network's staff only, who must give it)"),
    ),
    responses(
        (status = 200, description = "A ZIP file of at most 500 CII documents, oldest first", body = Vec<u8>, content_type = "application/zip"),
        (status = 403, description = "Neither a member's user nor the network's staff with a manage token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter: a date, a period reversed or longer than 366 days, more than 500 invoices (`to`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn archive(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let params = types::query(raw.as_deref());
    let side = match types::param(&params, "side") {
        None => Side::Issued,
        Some(text) => Side::parse(text)
            .ok_or_else(|| ApiError::invalid("side", "side must be issued or received."))?,
    };
    let today = chrono::Utc::now().date_naive();
    let date = |name: &str, default: chrono::NaiveDate| match types::param(&params, name) {
        None => Ok(default),
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid(name, format!("{name} must be a date, YYYY-MM-DD."))),
    };
    let from = date("from", invoices::last_month(today).0)?;
    let to = date("to", today)?;
    let member_id = member_of(&auth, &params)?;
    let zip = invoices::einvoice_archive(&state.store, member_id, side, from, to)
        .await?
        .map_err(|refusal| {
            ApiError::invalid(
                "to",
                match refusal {
                    PeriodRefusal::Reversed => "to must not be before from.",
                    PeriodRefusal::TooLong => "the period spans 366 days at most.",
                    PeriodRefusal::TooManyInvoices => {
                        "more than 500 invoices in the period: ask for a shorter one."
                    }
                },
            )
        })?;
    let who = member_id.to_string();
    Ok(crate::http::invoices::zip_download(
        &who,
        side,
        (from, to),
        zip,
    ))
}

/// The member whose invoices a list or archive reads: the caller's company, or for the
/// network's staff the `member` they must give.
fn member_of(auth: &ApiAuth, params: &[(String, String)]) -> ApiResult<i64> {
    if auth.is_network() {
        types::param(params, "member")
            .and_then(|m| m.parse::<i64>().ok())
            .filter(|m| *m > 0)
            .ok_or_else(|| ApiError::invalid("member", "member must be a member's id."))
    } else {
        if types::param(params, "member").is_some() {
            return Err(ApiError::invalid(
                "member",
                "member is for the network's staff: a member's users read their own company's.",
            ));
        }
        Ok(auth.member()?.id)
    }
}

/// The legal mentions a company's invoices carry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MentionsBody {
    /// Legal form and capital, registration, a VAT exemption's mention...: 0 to 500
    /// characters; empty removes them.
    #[schema(
        max_length = 500,
        example = "SARL au capital de 10 000 €, RCS Lyon 732 829 320"
    )]
    pub mentions: String,
}

/// The legal mentions the caller's company's invoices carry now (any of its users).
#[utoipa::path(get, path = "/api/v1/company/invoice-mentions", operation_id = "show_invoice_mentions", tag = "payments",
    responses(
        (status = 200, description = "The mentions", body = MentionsBody),
        (status = 403, description = "Not a member's user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show_mentions(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<MentionsBody>> {
    let member = auth.member()?;
    let mentions = invoices::mentions_of(&state.store, member.id).await?;
    Ok(Json(MentionsBody { mentions }))
}

/// The owner sets the legal mentions its company's invoices carry from now on (pay
/// scope); invoices issued before keep theirs.
#[utoipa::path(put, path = "/api/v1/company/invoice-mentions", operation_id = "set_invoice_mentions", tag = "payments",
    request_body = MentionsBody,
    responses(
        (status = 200, description = "Saved, as saved (trimmed)", body = MentionsBody),
        (status = 403, description = "Not a pay token of the company's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Longer than 500 characters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_mentions(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let member = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: MentionsBody = types::json(&request.body)?;
        let mentions =
            invoices::set_mentions(&state.store, &auth.user, &member, &input.mentions).await?;
        Written::ok(MentionsBody { mentions })
    })
    .await)
}

/// A new invoice: one line (`description` and `vat_bp`, the whole payment) or several
/// (`lines`), not both.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoiceBody {
    /// A payment the caller's company received (a `payment` or `hold_capture`).
    pub transaction_id: i64,
    /// What was sold, on an invoice of one line: 1 to 500 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub description: Option<String>,
    /// The VAT rate of an invoice of one line, in basis points, 0 to 10000 (2000 = 20 %).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000, example = 2000)]
    pub vat_bp: Option<i64>,
    /// The lines of an invoice of several (different rates, say): 1 to 20, each with its
    /// amount tax included, adding up to the payment (`lines_do_not_add_up`).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub lines: Option<Vec<InvoiceLineBody>>,
    /// What was sold: `goods`, `services` or `mixed`. It sets the e-invoice's billing frame
    /// (`B2`, `S2`, `M2`); left out, the invoice does not say it and its e-invoice says `M2`.
    #[serde(default)]
    #[schema(example = "services", value_type = Option<crate::http::api::types::InvoiceSupply>)]
    pub supply: Option<String>,
}

/// Issues the invoice of a payment the caller's company received (pay scope, owner or
/// staff), dated today and numbered next in the company's series for the year.
#[utoipa::path(post, path = "/api/v1/invoices", operation_id = "create_invoice", tag = "payments",
    request_body = InvoiceBody,
    responses(
        (status = 201, description = "Issued", body = InvoiceItem, links(("show" = (operation_id = "show_invoice", parameters(("id" = "$response.body#/id")))), ("credit_note" = (operation_id = "credit", parameters(("id" = "$response.body#/id")))))),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No payment the caller's company received with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Invoiced already (`already_invoiced`), refunded (`payment_refunded`), the year's numbers used up (`too_many_invoices`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let seller = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: InvoiceBody = types::json(&request.body)?;
        let tx = u64::try_from(input.transaction_id)
            .ok()
            .filter(|t| *t > 0)
            .ok_or(ApiError::NotFound)?;
        let supply = match input.supply.as_deref() {
            None => None,
            Some(text) => Some(Supply::parse(text).ok_or_else(|| {
                ApiError::invalid("supply", "supply must be goods, services or mixed.")
            })?),
        };
        let lines = match (input.lines, input.description, input.vat_bp) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ApiError::invalid(
                    "lines",
                    "give description and vat_bp (one line), or lines, not both.",
                ))
            }
            (Some(lines), None, None) => {
                // Bounded before anything is read: the domain refuses more than 20 too.
                if lines.len() > invoices::LINES_MAX {
                    return Err(ApiError::invalid(
                        "lines",
                        format!("at most {} lines.", invoices::LINES_MAX),
                    ));
                }
                let mut asked = Vec::with_capacity(lines.len());
                for (index, line) in lines.into_iter().enumerate() {
                    let total = types::positive_amount("total", &line.total).map_err(|_| {
                        ApiError::Invalid {
                            field: "total".into(),
                            detail: format!(
                                "line {}: total must be a positive decimal string such as \"12.50\".",
                                index + 1
                            ),
                            errors: vec![FieldProblem {
                                field: "total".into(),
                                code: "invalid_amount".into(),
                                line: Some(index as u64 + 1),
                            }],
                        }
                    })?;
                    asked.push(NewLine {
                        description: line.description,
                        vat_bp: line.vat_bp,
                        total: Some(total),
                    });
                }
                asked
            }
            (None, description, vat_bp) => {
                let vat_bp = vat_bp.ok_or_else(|| {
                    ApiError::invalid("vat_bp", "vat_bp is required (or give lines).")
                })?;
                vec![NewLine {
                    description: description.unwrap_or_default(),
                    vat_bp,
                    total: None,
                }]
            }
        };
        let new = NewInvoice {
            tx: TxId(tx),
            supply,
            lines,
        };
        let today = chrono::Utc::now().date_naive();
        let invoice = invoices::issue(&state.store, &auth.user, &seller, &new, today).await?;
        Written::created(item(&invoice))
    })
    .await)
}

/// Issues the credit note that cancels one of the caller's company's invoices whose payment
/// was refunded (pay scope, the seller's owner or staff): the invoice's figures, numbered
/// next in the company's credit notes (`AV-2026-00001`), dated today.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/credit-note", tag = "payments",
    params(
        ("id" = i64, Path, description = "Invoice id"),
    ),
    responses(
        (status = 201, description = "Issued", body = InvoiceItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No invoice the caller's company issued with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Credited already (`already_credited`), a credit note (`not_creditable`), the payment not refunded (`payment_not_refunded`), the year's numbers used up (`too_many_invoices`), or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn credit(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let seller = auth.payer()?.clone();
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let id = types::path_id(&id)?;
        let today = chrono::Utc::now().date_naive();
        let note = invoices::credit(&state.store, &auth.user, &seller, id, today).await?;
        Written::created(item(&note))
    })
    .await)
}
