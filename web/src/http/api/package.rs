//! A member company's data package: everything the network holds about it, in one JSON
//! Lines file it can take elsewhere (`GET /api/v1/company/data`, and `/company/data.jsonl`
//! on the company page). The books themselves also come in the accountants' formats (FEC,
//! hledger, Beancount, CSV, OFX: `exports`); this file adds what those leave out.
//!
//! One JSON object per line, `{"record": KIND, "data": {...}}`, each `data` shaped as the
//! API's item of that kind (docs/api.md): `header` (format `troc-member-data`, version 1,
//! time, network, member id), `company`, `account`, `user`s, `listing`s (offers and wants,
//! closed ones too), `payment_request`s (both sides), `payment_approval`s (the payments its
//! staff asked its owner to approve, every user's), `order`s (both sides), `standing_order`s
//! (both sides, with every run), `limit_request`s, `limit_change`s (the network's changes
//! to its limits, oldest first), `departure`s (its notices of departure, newest first),
//! `dispute`s (those it opened and those of payments it received, newest first),
//! `outside_invoice`s (the euro invoices it declared or owes, newest first) and the
//! `setoff_line`s on them (what each set-off cancelled, newest first),
//! `invoice`s (issued, then received), `invoice_mentions`, `webhook`s (at most 5),
//! `transaction`s (every one, newest first, as the account's history shows them), and last
//! `end` with the number of records before it: a file without its `end` line is incomplete.
//!
//! Everything but the transactions is read before the response starts: a kind with more
//! than [`PACKAGE_ROWS_PER_KIND_MAX`] rows refuses the package (never a short file). The
//! transactions are then streamed page by page, so memory stays bounded whatever the size of
//! the books; a failure in the middle aborts the body. The package counts as one of the
//! downloads that may run at once (`export::download::DownloadLimiter`).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ledger::{AccountId, TxId};
use serde::Serialize;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use crate::approvals::{self, Approval, Filter as ApprovalFilter, APPROVALS_PAGE_MAX};
use crate::console::history::Order;
use crate::console::limit_requests;
use crate::http::AppState;
use crate::invoices::Side as InvoiceSide;
use crate::people::Member;
use crate::standing;
use crate::store::StoreError;
use crate::trade::{self, Scope, Side};

/// Rows of one kind (listings, requests, payment approvals, orders, standing orders and
/// their runs, limit requests, invoices) a package holds at most.
pub const PACKAGE_ROWS_PER_KIND_MAX: i64 = 10_000;
/// Transactions read per page while streaming.
pub const PACKAGE_TRANSACTIONS_PAGE: usize = 100;
/// The format's name and version, in the header record.
pub const PACKAGE_FORMAT: &str = "troc-member-data";
pub const PACKAGE_VERSION: u32 = 1;

/// Why a package was not started.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("too many downloads at once (at most {max})")]
    Busy { max: usize },
    #[error("more than {max} {kind}: too many for one package")]
    TooLarge { kind: &'static str, max: i64 },
    #[error("{0:?}")]
    Api(ApiError),
}

impl From<ApiError> for PackageError {
    fn from(error: ApiError) -> PackageError {
        PackageError::Api(error)
    }
}

impl From<StoreError> for PackageError {
    fn from(error: StoreError) -> PackageError {
        PackageError::Api(error.into())
    }
}

impl From<crate::console::ConsoleError> for PackageError {
    fn from(error: crate::console::ConsoleError) -> PackageError {
        PackageError::Api(error.into())
    }
}

impl PackageError {
    /// A stable code: `busy`, `package_too_large`, or the API error's own.
    pub fn code(&self) -> &'static str {
        match self {
            PackageError::Busy { .. } => "busy",
            PackageError::TooLarge { .. } => "package_too_large",
            PackageError::Api(_) => "internal",
        }
    }
}

impl From<PackageError> for ApiError {
    fn from(error: PackageError) -> ApiError {
        match error {
            PackageError::Busy { .. } => ApiError::coded(
                StatusCode::SERVICE_UNAVAILABLE,
                error.code(),
                error.to_string(),
            ),
            PackageError::TooLarge { .. } => ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.code(),
                error.to_string(),
            ),
            PackageError::Api(error) => error,
        }
    }
}

/// The caller's company's data package (any of its users): a JSON Lines file, one record
/// per line, ending with an `end` record (docs/api.md, "The data package").
#[utoipa::path(get, path = "/api/v1/company/data", tag = "directory",
    responses(
        (status = 200, description = "The package: JSON Lines, streamed", body = String, content_type = "application/x-ndjson"),
        (status = 403, description = "Not a member company's user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More rows of one kind than a package holds (`package_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many downloads at once (`busy`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn data(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Response> {
    let member = auth.member()?.clone();
    Ok(package(&state, &member).await?)
}

/// The lines written so far and their count.
struct Lines {
    bytes: Vec<u8>,
    records: u64,
}

impl Lines {
    fn push<T: Serialize>(&mut self, kind: &str, data: &T) -> Result<(), PackageError> {
        let line = json!({ "record": kind, "data": data });
        serde_json::to_writer(&mut self.bytes, &line)
            .map_err(|e| ApiError::Internal(format!("package line: {e}")))?;
        self.bytes.push(b'\n');
        self.records += 1;
        Ok(())
    }
}

/// Refuses a kind with more rows than a package holds.
fn bounded<T>(kind: &'static str, rows: Vec<T>) -> Result<Vec<T>, PackageError> {
    if rows.len() as i64 > PACKAGE_ROWS_PER_KIND_MAX {
        return Err(PackageError::TooLarge {
            kind,
            max: PACKAGE_ROWS_PER_KIND_MAX,
        });
    }
    Ok(rows)
}

/// Everything but the transactions, as lines.
async fn head(state: &AppState, member: &Member) -> Result<Lines, PackageError> {
    let store = &state.store;
    let over = PACKAGE_ROWS_PER_KIND_MAX + 1;
    let mut lines = Lines {
        bytes: Vec::new(),
        records: 0,
    };
    let network = store.network_name().await?.unwrap_or_default();
    lines.push(
        "header",
        &json!({
            "format": PACKAGE_FORMAT,
            "version": PACKAGE_VERSION,
            "exported_at": super::types::time(Utc::now()),
            "network": network,
            "member_id": member.id,
        }),
    )?;
    lines.push("company", &super::directory::company_body(member))?;
    let account = store
        .account(member.account())
        .await?
        .ok_or(ApiError::NotFound)?;
    lines.push(
        "account",
        &super::accounts::account_body(&account, Some(member.id)),
    )?;
    for user in super::directory::company_users(state, member.id)
        .await?
        .items
    {
        lines.push("user", &user)?;
    }
    let listings = bounded(
        "listings",
        crate::market::of_member(store, member.id, over).await?,
    )?;
    for listing in &listings {
        lines.push("listing", &super::offers::listing_item(listing))?;
    }
    for side in [Side::Seller, Side::Buyer] {
        let requests = trade::requests_of(store, member.id, side, Scope::All, over).await?;
        for request in &bounded("payment requests", requests)? {
            lines.push("payment_request", &super::payments::request_item(request))?;
        }
    }
    for approval in &bounded(
        "payment approvals",
        approvals_upto(store, member.id, over).await?,
    )? {
        lines.push("payment_approval", &super::approvals::item(approval))?;
    }
    for side in [Side::Buyer, Side::Seller] {
        let orders = bounded(
            "orders",
            trade::orders_of(store, member.id, side, over).await?,
        )?;
        for order in &orders {
            lines.push("order", &super::orders::order_item(order))?;
        }
    }
    let (paid, received) = standing::member_orders_upto(store, member.id, over).await?;
    for order in bounded("standing orders", paid)?
        .iter()
        .chain(bounded("standing orders", received)?.iter())
    {
        let runs = bounded(
            "standing-order runs",
            standing::runs_upto(store, order.id, over).await?,
        )?;
        lines.push("standing_order", &super::standing::item(order, &runs))?;
    }
    let requests = limit_requests::member_requests_upto(store, member.id, over).await?;
    for request in &bounded("limit requests", requests)? {
        lines.push("limit_request", &super::limit_requests::item(request))?;
    }
    let changes =
        crate::console::history::own_limit_history_upto(store, member.id, Order::OldestFirst, over)
            .await?;
    for change in bounded("limit changes", changes)? {
        lines.push("limit_change", &super::manage::limit_change_item(change))?;
    }
    let actions = crate::console::history::own_actions_upto(store, member.id, over).await?;
    for action in bounded("network actions", actions)? {
        lines.push("network_action", &super::manage::action_item(action))?;
    }
    let notices =
        crate::console::departures::member_departures_upto(store, member.id, over).await?;
    for notice in &bounded("departures", notices)? {
        lines.push("departure", &super::departures::item(notice))?;
    }
    let disputes = crate::console::disputes::of_member(store, member.id, over).await?;
    for dispute in &bounded("disputes", disputes)? {
        lines.push("dispute", &super::disputes::item(dispute))?;
    }
    let outside = crate::setoff::of_member(store, member.id, over).await?;
    for invoice in &bounded("outside invoices", outside)? {
        lines.push("outside_invoice", &super::setoff::item(invoice))?;
    }
    let set_offs = crate::setoff::lines_of_member(store, member.id, over).await?;
    for line in &bounded("set-off lines", set_offs)? {
        lines.push("setoff_line", &super::setoff::line(line))?;
    }
    for side in [InvoiceSide::Issued, InvoiceSide::Received] {
        let found = crate::invoices::member_invoices_upto(store, member.id, side, over).await?;
        for invoice in &bounded("invoices", found)? {
            lines.push("invoice", &super::invoices::item(invoice))?;
        }
    }
    let mentions = crate::invoices::mentions_of(store, member.id).await?;
    lines.push(
        "invoice_mentions",
        &super::invoices::MentionsBody { mentions },
    )?;
    for hook in &crate::webhooks::list(store, member.id).await? {
        lines.push("webhook", &super::webhooks::item(hook))?;
    }
    Ok(lines)
}

/// The company's payments waiting for approval or decided, every user's, newest first: at
/// most `upto`, read a page at a time.
async fn approvals_upto(
    store: &crate::store::Store,
    member_id: i64,
    upto: i64,
) -> Result<Vec<Approval>, PackageError> {
    approvals::expire_overdue(store).await?;
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let (page, next) = approvals::page(
            store,
            member_id,
            None,
            ApprovalFilter::All,
            before,
            APPROVALS_PAGE_MAX,
        )
        .await?;
        rows.extend(page);
        match next {
            Some(next) if (rows.len() as i64) < upto => before = Some(next),
            _ => break,
        }
    }
    rows.truncate(usize::try_from(upto).unwrap_or(usize::MAX));
    Ok(rows)
}

/// Where the stream is.
enum Step {
    /// The lines read before the response, then the transactions from the newest.
    Head(Lines),
    /// The transactions before this one (the next page), and the records so far.
    Transactions(Option<TxId>, u64),
    /// The `end` record.
    End(u64),
    Done,
}

/// The package as a streamed response, or why it was not started.
pub async fn package(state: &AppState, member: &Member) -> Result<Response, PackageError> {
    let limiter = &state.downloads;
    let permit = limiter
        .try_permit()
        .ok_or(PackageError::Busy { max: limiter.max() })?;
    let lines = head(state, member).await?;
    let account = member.account();
    let state = state.clone();
    let stream = futures_util::stream::unfold(
        (Step::Head(lines), state, account, permit),
        |(step, state, account, permit): (Step, AppState, AccountId, OwnedSemaphorePermit)| async move {
            let (chunk, next) = match step {
                Step::Done => return None,
                Step::Head(lines) => (
                    Ok(Bytes::from(lines.bytes)),
                    Step::Transactions(None, lines.records),
                ),
                Step::Transactions(before, records) => {
                    match transactions(&state, account, before, records).await {
                        Ok((bytes, records, Some(next))) => {
                            (Ok(bytes), Step::Transactions(Some(next), records))
                        }
                        Ok((bytes, records, None)) => (Ok(bytes), Step::End(records)),
                        Err(error) => {
                            tracing::warn!(%error, "data package failed");
                            // Aborts the body: the client sees a failed transfer.
                            (Err(std::io::Error::other("the package failed")), Step::Done)
                        }
                    }
                }
                Step::End(records) => {
                    let mut end = Lines {
                        bytes: Vec::new(),
                        records,
                    };
                    match end.push("end", &json!({ "records": records })) {
                        Ok(()) => (Ok(Bytes::from(end.bytes)), Step::Done),
                        Err(_) => (Err(std::io::Error::other("the package failed")), Step::Done),
                    }
                }
            };
            Some((chunk, (next, state, account, permit)))
        },
    );
    let file_name = format!(
        "troc-{}-{}.jsonl",
        member.siren,
        Utc::now().format("%Y%m%d")
    );
    Ok((
        [
            (
                CONTENT_TYPE,
                "application/x-ndjson; charset=utf-8".to_owned(),
            ),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// One page of transaction records before `before`; the cursor of the next page, if any.
async fn transactions(
    state: &AppState,
    account: AccountId,
    before: Option<TxId>,
    records: u64,
) -> Result<(Bytes, u64, Option<TxId>), PackageError> {
    let (items, next) =
        super::accounts::transaction_items(state, account, before, PACKAGE_TRANSACTIONS_PAGE)
            .await?;
    let mut lines = Lines {
        bytes: Vec::new(),
        records,
    };
    for item in &items {
        lines.push("transaction", item)?;
    }
    Ok((Bytes::from(lines.bytes), lines.records, next))
}
