//! Payment requests (a seller invoices a buyer) and orders (a hold on the buyer's credit
//! until the seller confirms delivery). Rows only; the money moves through the store's
//! write path, and every status change here follows a ledger outcome.

use ledger::{Amount, HoldId, HoldStatus, IdempotencyKey, Operation, Outcome, Rejection};
use sqlx::Row;

use crate::dispatch;
use crate::market::Listing;
use crate::people::{self, now_unix, Member};
use crate::store::{Store, StoreError, StoreResult, Submission};

/// How long an unpaid request stays payable after its due date.
pub const REQUEST_GRACE_SECONDS: i64 = 30 * 24 * 3600;
/// How long an order's hold lasts before it is released.
pub const ORDER_HOLD_SECONDS: i64 = 14 * 24 * 3600;
/// Rows one list shows at most.
pub const LIST_ROWS_MAX: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Open,
    Paid,
    Declined,
    Expired,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Paid => "paid",
            RequestStatus::Declined => "declined",
            RequestStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Open,
            RequestStatus::Paid,
            RequestStatus::Declined,
            RequestStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub id: i64,
    pub seller_member_id: i64,
    pub buyer_member_id: i64,
    pub amount_minor: i64,
    pub reference: String,
    pub memo: String,
    pub due_date: String,
    pub status: RequestStatus,
    pub tx_id: Option<i64>,
    pub attempts: i64,
    pub created_at: i64,
}

pub struct NewRequest<'a> {
    pub seller_member_id: i64,
    pub buyer_member_id: i64,
    pub amount_minor: i64,
    pub reference: &'a str,
    pub memo: &'a str,
    pub due_date: &'a str,
    pub expires_at: i64,
    pub form_token: &'a str,
}

const REQUEST_COLUMNS: &str = "id, seller_member_id, buyer_member_id, amount_minor, reference, \
     memo, due_date, status, tx_id, attempts, created_at";

fn request_from_row<R>(row: &R) -> StoreResult<PaymentRequest>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    Ok(PaymentRequest {
        id: row.try_get("id")?,
        seller_member_id: row.try_get("seller_member_id")?,
        buyer_member_id: row.try_get("buyer_member_id")?,
        amount_minor: row.try_get("amount_minor")?,
        reference: row.try_get("reference")?,
        memo: row.try_get("memo")?,
        due_date: row.try_get("due_date")?,
        status: RequestStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("request status {status:?}")))?,
        tx_id: row.try_get("tx_id")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Records a request once per form token; returns its id (the first one on a replay).
pub async fn create_request(store: &Store, new: &NewRequest<'_>) -> StoreResult<i64> {
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        sqlx::query("INSERT INTO payment_requests (seller_member_id, buyer_member_id, \
                     amount_minor, reference, memo, due_date, status, created_at, expires_at, \
                     form_token) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) \
                     ON CONFLICT (form_token) DO NOTHING")
            .bind(new.seller_member_id).bind(new.buyer_member_id).bind(new.amount_minor)
            .bind(new.reference).bind(new.memo).bind(new.due_date).bind(now)
            .bind(new.expires_at).bind(new.form_token)
            .execute(pool).await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM payment_requests WHERE form_token = $1")
            .bind(new.form_token).fetch_one(pool).await?;
        Ok(id)
    })
}

/// How long after its moment a follow-up of a request or an order is still sent (the buyer
/// told that its due date passed, the seller that it expired; both parties that an order
/// expired): a server without e-mail for longer does not send the older ones when e-mail
/// is turned on.
pub const FOLLOW_UP_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

/// A follow-up of a payment request, sent once (`payment_requests.overdue_noticed_at`,
/// `expiry_noticed_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// To the buyer: the due date passed and the request is still open.
    Overdue,
    /// To the seller: the request expired unpaid.
    Expired,
}

impl FollowUp {
    /// The column that records it was sent: a constant, never input.
    fn column(self) -> &'static str {
        match self {
            FollowUp::Overdue => "overdue_noticed_at",
            FollowUp::Expired => "expiry_noticed_at",
        }
    }
}

/// The requests whose `follow_up` is due at `now` and not sent yet, oldest moment first,
/// at most `max`: open requests whose due date passed less than
/// [`FOLLOW_UP_WINDOW_SECONDS`] ago, or expired ones that expired less than that ago.
pub async fn follow_ups_due(
    store: &Store,
    follow_up: FollowUp,
    now: i64,
    max: i64,
) -> StoreResult<Vec<PaymentRequest>> {
    // The due date's end is the expiry less the grace: [expires_at - grace, now) holds it.
    let (status, shift) = match follow_up {
        FollowUp::Overdue => ("open", REQUEST_GRACE_SECONDS),
        FollowUp::Expired => ("expired", 0),
    };
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM payment_requests WHERE status = '{status}' \
         AND {} IS NULL AND expires_at < $1 AND expires_at >= $2 \
         ORDER BY expires_at, id LIMIT $3",
        follow_up.column()
    );
    let until = now + shift;
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(until).bind(until - FOLLOW_UP_WINDOW_SECONDS).bind(max.clamp(0, 1_000))
            .fetch_all(pool).await?;
        rows.iter().map(request_from_row).collect()
    })
}

/// Records that `follow_up` of request `id` was sent at `now`.
pub async fn follow_up_sent(
    store: &Store,
    follow_up: FollowUp,
    id: i64,
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE payment_requests SET {column} = $1 WHERE id = $2 AND {column} IS NULL",
        column = follow_up.column()
    );
    dispatch!(store.backend(), pool => {
        sqlx::query(&sql).bind(now).bind(id).execute(pool).await?;
    });
    Ok(())
}

/// Marks open requests past their expiry as expired.
pub async fn expire_requests(store: &Store) -> StoreResult<u64> {
    let now = now_unix();
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_requests SET status = 'expired' \
                     WHERE status = 'open' AND expires_at <= $1")
            .bind(now).execute(pool).await?.rows_affected()
    });
    Ok(done)
}

pub async fn request(store: &Store, id: i64) -> StoreResult<Option<PaymentRequest>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM payment_requests WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(request_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Open,
    All,
}

/// Requests where the member is on `side`, newest first.
pub async fn requests_of(
    store: &Store,
    member_id: i64,
    side: Side,
    scope: Scope,
    limit: i64,
) -> StoreResult<Vec<PaymentRequest>> {
    let column = side.column();
    let open = match scope {
        Scope::Open => " AND status = 'open'",
        Scope::All => "",
    };
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM payment_requests WHERE {column} = $1{open} \
         ORDER BY id DESC LIMIT $2"
    );
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(request_from_row).collect()
    })
}

/// A page of a member's payment requests, as buyer and as seller, newest first, strictly
/// older than `before` (keyset pagination on the requests' ids: no OFFSET). Reads at most
/// `limit + 1` per side; the page holds at most `limit`, and `next` is the cursor of the
/// following page (the last id listed) when there is one.
pub async fn requests_page(
    store: &Store,
    member_id: i64,
    scope: Scope,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<PaymentRequest>, Option<i64>)> {
    let before = before.unwrap_or(i64::MAX);
    let open = match scope {
        Scope::Open => " AND status = 'open'",
        Scope::All => "",
    };
    let mut requests = Vec::new();
    for side in [Side::Buyer, Side::Seller] {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM payment_requests WHERE {} = $1{open} AND id < $2 \
             ORDER BY id DESC LIMIT $3",
            side.column()
        );
        let rows: Vec<PaymentRequest> = dispatch!(store.backend(), pool => {
            let rows = sqlx::query(&sql)
                .bind(member_id)
                .bind(before)
                .bind(limit + 1)
                .fetch_all(pool)
                .await?;
            rows.iter().map(request_from_row).collect::<StoreResult<Vec<_>>>()?
        });
        requests.extend(rows);
    }
    // A member is never on both sides of one request: the two lists are disjoint.
    Ok(newest_page(requests, |r| r.id, limit))
}

/// The page of `rows` (read as up to `limit + 1` per side, disjoint): the `limit` newest by
/// id, and the cursor of the next page (the last id kept) when more were read.
fn newest_page<T>(mut rows: Vec<T>, id: impl Fn(&T) -> i64, limit: i64) -> (Vec<T>, Option<i64>) {
    rows.sort_by_key(|row| std::cmp::Reverse(id(row)));
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next = if more { rows.last().map(&id) } else { None };
    (rows, next)
}

/// Which side of a trade a member is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buyer,
    Seller,
}

impl Side {
    fn column(self) -> &'static str {
        match self {
            Side::Buyer => "buyer_member_id",
            Side::Seller => "seller_member_id",
        }
    }
}

/// What a payment says beyond the two members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub amount: Amount,
    pub reference: String,
    pub memo: String,
}

/// Pays `payee` from `payer` through the write path under `key` (the pay form and
/// `POST /api/v1/payments`), recording `author` as who entered it. The ledger decides; a
/// refusal consumes the key.
pub async fn pay(
    store: &Store,
    key: IdempotencyKey,
    payer: &Member,
    payee: &Member,
    order: PaymentOrder,
    author: Option<crate::store::Author>,
) -> StoreResult<Result<Outcome, Rejection>> {
    pay_receipted(store, key, payer, payee, order, author, None).await
}

/// [`pay`], storing `receipt`'s API answer in the payment's own database transaction.
pub async fn pay_receipted(
    store: &Store,
    key: IdempotencyKey,
    payer: &Member,
    payee: &Member,
    order: PaymentOrder,
    author: Option<crate::store::Author>,
    receipt: Option<crate::store::ApiReceipt>,
) -> StoreResult<Result<Outcome, Rejection>> {
    let op = Operation::Payment {
        payer: payer.account(),
        payee: payee.account(),
        amount: order.amount,
        reference: order.reference,
        memo: order.memo,
    };
    let submission = Submission::new(key, op).authored(author);
    let submission = match receipt {
        Some(receipt) => submission.receipted(receipt),
        None => submission,
    };
    store.submit(submission).await
}

/// A payment a member received and may refund: a `payment` or `hold_capture` whose traded
/// amount (the principal leg) was credited to the member's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refundable {
    pub transaction: ledger::Transaction,
    /// Who paid it, and gets it back.
    pub payer: ledger::AccountId,
    /// The traded amount (the fees are given back too: see [`refund`]).
    pub amount: Amount,
    /// The reversal that already refunded it.
    pub refunded_by: Option<ledger::TxId>,
}

/// The principal legs of a payment or a capture: the payer's debit and the payee's
/// credit of the traded amount. `None` for any other kind of transaction.
pub fn principal_legs(
    transaction: &ledger::Transaction,
) -> Option<(ledger::Posting, ledger::Posting)> {
    if !matches!(
        transaction.kind(),
        ledger::TxKind::Payment | ledger::TxKind::HoldCapture
    ) {
        return None;
    }
    let principal = |credit: bool| {
        transaction
            .postings()
            .iter()
            .find(|p| p.leg == ledger::Leg::Principal && p.amount.is_positive() == credit)
            .copied()
    };
    Some((principal(false)?, principal(true)?))
}

/// The payment `tx` if `member` received it; `None` for any other transaction, another
/// member's payment or an unknown id, alike (the caller answers 404).
pub async fn refundable(
    store: &Store,
    member: &Member,
    tx: ledger::TxId,
) -> StoreResult<Option<Refundable>> {
    let Some(transaction) = store.transaction(tx).await? else {
        return Ok(None);
    };
    let Some((paid, received)) = principal_legs(&transaction) else {
        return Ok(None);
    };
    if received.account != member.account() {
        return Ok(None);
    }
    let refunded_by = store.reversed_by(tx).await?;
    Ok(Some(Refundable {
        payer: paid.account,
        amount: received.amount,
        refunded_by,
        transaction,
    }))
}

/// The payee refunds a payment it received, in full: the ledger reverses it (every posting
/// negated, so the payer gets back what it paid, fees included, and the network gives back
/// its commission and the fund its contribution). At most once per payment (the ledger
/// refuses a second reversal: `already_reversed`); the payee needs the credit to give the
/// amount back, like any debit. `payment` comes from [`refundable`], which checked that the
/// member received it; the caller checked that the member acts through its owner or staff.
/// A partial refund is a payment. The refund closes the payment's open dispute as
/// `refunded` (`console::disputes::after_reversal`).
pub async fn refund(
    store: &Store,
    key: IdempotencyKey,
    payment: &Refundable,
    memo: String,
    author: Option<crate::store::Author>,
) -> StoreResult<Result<Outcome, Rejection>> {
    let op = Operation::Reverse {
        transaction: payment.transaction.id(),
        memo,
    };
    let by = author.as_ref().map(|a| a.author().to_owned());
    let result = store
        .submit(Submission::new(key, op).authored(author))
        .await?;
    if result.is_ok() {
        // The payment's open dispute, if any, is settled by the refund.
        crate::console::disputes::after_reversal(
            store,
            payment.transaction.id(),
            crate::console::disputes::DisputeStatus::Refunded,
            by.as_deref(),
            None,
        )
        .await?;
    }
    Ok(result)
}

/// The idempotency key of an attempt to pay `request`: what [`accept_request`] submits
/// under, and what a staff user's month counts it under (`spending::hold`).
pub fn accept_key(request: &PaymentRequest) -> String {
    format!("web-request-{}-{}", request.id, request.attempts)
}

/// The buyer pays an open request (the request page's button and
/// `POST /api/v1/payment-requests/{id}/accept`). Concurrent acceptances read the same
/// attempt count, hence share one key (`web-request-ID-ATTEMPTS`): one payment. A refusal
/// bumps the count so the next attempt gets a new key. The caller has checked that `buyer`
/// is the request's buyer and that the request is open.
pub async fn accept_request(
    store: &Store,
    buyer: &Member,
    seller: &Member,
    request: &PaymentRequest,
    author: Option<crate::store::Author>,
) -> StoreResult<Result<Outcome, Rejection>> {
    let key =
        IdempotencyKey::new(accept_key(request)).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let order = PaymentOrder {
        amount: Amount::from_minor(request.amount_minor),
        reference: request.reference.clone(),
        memo: request.memo.clone(),
    };
    match pay(store, key, buyer, seller, order, author).await? {
        Ok(outcome) => {
            let tx = outcome.tx().map(|t| t.0 as i64).unwrap_or_default();
            mark_request_paid(store, request.id, tx).await?;
            Ok(Ok(outcome))
        }
        Err(rejection) => {
            bump_attempts(store, request.id, request.attempts).await?;
            Ok(Err(rejection))
        }
    }
}

/// Settles an open request; false when it was no longer open.
pub async fn mark_request_paid(store: &Store, id: i64, tx_id: i64) -> StoreResult<bool> {
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_requests SET status = 'paid', tx_id = $1 \
                     WHERE id = $2 AND status IN ('open', 'expired')")
            .bind(tx_id).bind(id).execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

pub async fn decline_request(store: &Store, id: i64) -> StoreResult<bool> {
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_requests SET status = 'declined' \
                     WHERE id = $1 AND status = 'open'")
            .bind(id).execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

/// After a refused attempt: the next attempt gets a new idempotency key.
pub async fn bump_attempts(store: &Store, id: i64, seen: i64) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_requests SET attempts = attempts + 1 \
                     WHERE id = $1 AND attempts = $2")
            .bind(id).bind(seen).execute(pool).await?;
    });
    Ok(())
}

/// What waits for a member company's decision, for its dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Orders it sold that hold the buyer's credit until it confirms delivery.
    pub deliveries: i64,
    /// Its staff's payments waiting for its owner's approval (`crate::approvals`).
    pub approvals: i64,
    /// Whether it gave notice that it leaves the network (`console::departures`).
    pub departure: bool,
    /// Open disputes about payments it received, waiting for its answer or refund
    /// (`console::disputes`).
    pub disputes: i64,
    /// Its disputes, either side, closed by someone else in the last
    /// [`DISPUTES_RECALLED_SECS`] seconds (`console::disputes::recalled_where`): the
    /// dashboard then reads them (`console::disputes::closed_since`).
    pub disputes_closed: i64,
    /// The network's announcements shown today (`crate::news`): the dashboard then reads
    /// them.
    pub news: i64,
    /// Outside invoices declared on it, waiting for it to confirm or reject them
    /// (`crate::setoff`).
    pub outside_invoices: i64,
}

/// How long the dashboard recalls a closed dispute, in seconds (14 days).
pub const DISPUTES_RECALLED_SECS: i64 = 14 * 86_400;

/// Counts what waits for `member_id` in one read, through the indexes on
/// `orders (seller_member_id, status)`, `payment_approvals (member_id, status, id)` and the
/// one waiting notice of departure (`departures_one_pending`), and `disputes (payee_member_id,
/// id)` and `(payer_member_id, id)`, and the announcements shown today
/// (`announcements_current`), and the outside invoices it has to answer
/// (`outside_invoices_to_answer`). A payment approval past its wait is not counted, swept or not
/// (`approvals::APPROVAL_WAIT_DAYS_MAX`).
pub async fn waiting(store: &Store, member_id: i64) -> StoreResult<Waiting> {
    let cutoff = now_unix() - crate::approvals::APPROVAL_WAIT_SECS_MAX;
    let recalled = now_unix() - DISPUTES_RECALLED_SECS;
    let today = chrono::Utc::now().date_naive().to_string();
    let (deliveries, approvals, departures, disputes, disputes_closed, news, outside_invoices): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = dispatch!(store.backend(), pool => {
        sqlx::query_as(concat!(
                "SELECT (SELECT COUNT(*) FROM orders WHERE seller_member_id = $1 \
                 AND status = 'held'), (SELECT COUNT(*) FROM payment_approvals \
                 WHERE member_id = $1 AND status = 'pending' AND created_at > $2), \
                 (SELECT COUNT(*) FROM departures WHERE member_id = $1 AND status = 'pending'), \
                 (SELECT COUNT(*) FROM disputes WHERE payee_member_id = $1 AND status = 'open'), \
                 (SELECT COUNT(*) FROM disputes WHERE ",
                crate::console::disputes::recalled_where!(), "), \
                 (SELECT COUNT(*) FROM announcements WHERE withdrawn_at IS NULL \
                 AND ends_on >= $4), \
                 (SELECT COUNT(*) FROM outside_invoices WHERE debtor_member_id = $1 \
                 AND status = 'declared')"))
            .bind(member_id).bind(cutoff).bind(recalled).bind(&today).fetch_one(pool).await?
    });
    Ok(Waiting {
        deliveries,
        approvals,
        departure: departures > 0,
        disputes,
        disputes_closed,
        news,
        outside_invoices,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Held,
    Delivered,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Held => "held",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Held,
            OrderStatus::Delivered,
            OrderStatus::Cancelled,
            OrderStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub listing_id: i64,
    pub buyer_member_id: i64,
    pub seller_member_id: i64,
    pub amount_minor: i64,
    pub hold_id: Option<i64>,
    pub tx_id: Option<i64>,
    pub status: OrderStatus,
    pub created_at: i64,
    pub expires_at: i64,
}

const ORDER_COLUMNS: &str = "id, listing_id, buyer_member_id, seller_member_id, amount_minor, \
     hold_id, tx_id, status, created_at, expires_at";

fn order_from_row<R>(row: &R) -> StoreResult<Order>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        listing_id: row.try_get("listing_id")?,
        buyer_member_id: row.try_get("buyer_member_id")?,
        seller_member_id: row.try_get("seller_member_id")?,
        amount_minor: row.try_get("amount_minor")?,
        hold_id: row.try_get("hold_id")?,
        tx_id: row.try_get("tx_id")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub struct NewOrder<'a> {
    pub listing_id: i64,
    pub buyer_member_id: i64,
    pub seller_member_id: i64,
    pub amount_minor: i64,
    pub hold_id: i64,
    pub expires_at: i64,
    pub form_token: &'a str,
}

/// Records an order once per form token; returns its id (the first one on a replay).
pub async fn create_order(store: &Store, new: &NewOrder<'_>) -> StoreResult<i64> {
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        sqlx::query("INSERT INTO orders (listing_id, buyer_member_id, seller_member_id, \
                     amount_minor, hold_id, status, created_at, expires_at, form_token) \
                     VALUES ($1, $2, $3, $4, $5, 'held', $6, $7, $8) \
                     ON CONFLICT (form_token) DO NOTHING")
            .bind(new.listing_id).bind(new.buyer_member_id).bind(new.seller_member_id)
            .bind(new.amount_minor).bind(new.hold_id).bind(now).bind(new.expires_at)
            .bind(new.form_token)
            .execute(pool).await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM orders WHERE form_token = $1")
            .bind(new.form_token).fetch_one(pool).await?;
        Ok(id)
    })
}

pub async fn order_by_token(store: &Store, form_token: &str) -> StoreResult<Option<i64>> {
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT id FROM orders WHERE form_token = $1")
            .bind(form_token).fetch_optional(pool).await?
    });
    Ok(id)
}

pub async fn order(store: &Store, id: i64) -> StoreResult<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(order_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// The order a capture settled, if `tx_id` is one (the index `orders_tx`, migration 0024).
pub async fn order_of_transaction(store: &Store, tx_id: i64) -> StoreResult<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tx_id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(tx_id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(order_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

pub async fn orders_of(
    store: &Store,
    member_id: i64,
    side: Side,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let column = side.column();
    let sql =
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {column} = $1 ORDER BY id DESC LIMIT $2");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(limit).fetch_all(pool).await?;
        rows.iter().map(order_from_row).collect()
    })
}

/// A page of a member's orders, as buyer and as seller, newest first, strictly older than
/// `before` (keyset pagination, like [`requests_page`]).
pub async fn orders_page(
    store: &Store,
    member_id: i64,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Order>, Option<i64>)> {
    let before = before.unwrap_or(i64::MAX);
    let mut orders = Vec::new();
    for side in [Side::Buyer, Side::Seller] {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE {} = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3",
            side.column()
        );
        let rows: Vec<Order> = dispatch!(store.backend(), pool => {
            let rows = sqlx::query(&sql)
                .bind(member_id)
                .bind(before)
                .bind(limit + 1)
                .fetch_all(pool)
                .await?;
            rows.iter().map(order_from_row).collect::<StoreResult<Vec<_>>>()?
        });
        orders.extend(rows);
    }
    // A member cannot order its own offer: the two lists are disjoint.
    Ok(newest_page(orders, |o| o.id, limit))
}

/// Why an order was not placed.
#[derive(Debug)]
pub enum OrderRefusal {
    /// The listing is not an open, still active offer with a price (or its member is gone).
    NotOrderable,
    /// A member does not order its own offer.
    OwnOffer,
    /// A staff user's order above the payment limit its owner set.
    OverPaymentMax(people::OverPaymentMax),
    /// Over what is left of the staff user's limit per month.
    OverMonthMax(crate::spending::OverMonthMax),
    /// The ledger refused the hold (credit, frozen account...).
    Rejected(Rejection),
}

/// The buyer orders an open, priced offer (the listing page's button and
/// `POST /api/v1/offers/{id}/order`): a hold on the buyer's credit for the price, until the
/// end of the day [`ORDER_HOLD_SECONDS`] from now; the seller's delivery captures it, a
/// cancellation voids it. `token` names the request (the web form's token, the API's
/// Idempotency-Key): a replay returns the first order, and one hold is placed at most.
/// Returns the order's id.
pub async fn place_order(
    store: &Store,
    buyer: &Member,
    user: &people::User,
    listing: &Listing,
    token: &str,
) -> StoreResult<Result<i64, OrderRefusal>> {
    let Some(price) = listing.order_price(&crate::market::today()) else {
        return Ok(Err(OrderRefusal::NotOrderable));
    };
    if listing.member_id == buyer.id {
        return Ok(Err(OrderRefusal::OwnOffer));
    }
    let Some(seller) = people::member(store, listing.member_id).await? else {
        return Ok(Err(OrderRefusal::NotOrderable));
    };
    let form_token = format!("{}-{token}", buyer.id);
    if let Some(existing) = order_by_token(store, &form_token).await? {
        return Ok(Ok(existing));
    }
    if let Err(over) = user.may_commit(Amount::from_minor(price)) {
        return Ok(Err(OrderRefusal::OverPaymentMax(over)));
    }
    if let Some(refused) = over_seller_max(store, &seller, price).await? {
        return Ok(Err(OrderRefusal::Rejected(refused)));
    }
    // The expiry is part of the operation's content, so it must not change between two
    // submissions of one request: it is the end of the day, ORDER_HOLD_SECONDS from now.
    let expires_at = (chrono::Utc::now() + chrono::Duration::seconds(ORDER_HOLD_SECONDS))
        .date_naive()
        .and_hms_opt(23, 59, 59)
        .expect("end of day")
        .and_utc();
    let key = IdempotencyKey::new(format!("{ORDER_KEY_PREFIX}{form_token}"))
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    // Counted in a staff user's month until it is cancelled or expires (`resolve_order`).
    let held = match crate::spending::hold(
        store,
        user,
        key.as_str(),
        Amount::from_minor(price),
        people::now_unix(),
    )
    .await?
    {
        Ok(held) => held,
        Err(over) => return Ok(Err(OrderRefusal::OverMonthMax(over))),
    };
    let op = Operation::PlaceHold {
        hold: HoldId(0),
        payer: buyer.account(),
        payee: seller.account(),
        amount: Amount::from_minor(price),
        expires_at,
        reference: format!("annonce-{}", listing.id),
        memo: listing.title.chars().take(ledger::MEMO_LEN_MAX).collect(),
    };
    let decision = store.submit(Submission::new(key, op)).await?;
    held.after(store, &decision).await?;
    match decision {
        Ok(Outcome::HoldPlaced { hold }) => {
            let id = create_order(
                store,
                &NewOrder {
                    listing_id: listing.id,
                    buyer_member_id: buyer.id,
                    seller_member_id: seller.id,
                    amount_minor: price,
                    hold_id: hold.0 as i64,
                    expires_at: expires_at.timestamp(),
                    form_token: &form_token,
                },
            )
            .await?;
            Ok(Ok(id))
        }
        Ok(other) => Err(StoreError::Corrupt(format!(
            "a hold was answered {other:?}"
        ))),
        Err(rejection) => Ok(Err(OrderRefusal::Rejected(rejection))),
    }
}

/// Whether an order of `price` would take `seller` past its upper limit once delivered,
/// counting the orders it already has to deliver (at their price, before the commission: a
/// little stricter than the ledger's own check at delivery, which counts what the seller
/// nets). The ledger holds only the buyer's credit and checks the seller's upper limit when
/// the order is delivered; without this, an order the seller cannot be paid for would wait
/// until it expires, or be delivered for nothing. `None`: the order may be placed (always,
/// for a seller without an upper limit). Read before the hold is placed, so two orders at
/// once may both pass: the ledger's check at delivery stays the guarantee.
async fn over_seller_max(
    store: &Store,
    seller: &Member,
    price: i64,
) -> StoreResult<Option<Rejection>> {
    let account = store
        .account(seller.account())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("member {} has no account", seller.id)))?;
    let Some(max) = account.max_balance() else {
        return Ok(None);
    };
    let incoming: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM orders \
             WHERE seller_member_id = $1 AND status = 'held'")
            .bind(seller.id).fetch_one(pool).await?
    });
    let resulting = account
        .balance()
        .minor()
        .saturating_add(incoming)
        .saturating_add(price);
    Ok(
        (resulting > max.minor()).then(|| Rejection::OverUpperLimit {
            account: seller.account(),
            max_balance: max,
            resulting: Amount::from_minor(resulting),
        }),
    )
}

/// What ends a held order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The seller delivered: the hold is captured (the payment).
    Deliver,
    /// The buyer or the seller called it off: the hold is voided.
    Cancel,
}

/// Captures or voids a held order's hold through the ledger and records the outcome on the
/// order (the order page's buttons and `POST /api/v1/orders/{id}/deliver|cancel`). The key
/// is the order's own: a repeated or concurrent settlement is one ledger operation. The
/// caller has checked who may do it (only the seller delivers).
pub async fn settle_order(
    store: &Store,
    order: &Order,
    settlement: Settlement,
    author: Option<crate::store::Author>,
) -> StoreResult<Result<(), Rejection>> {
    let hold = HoldId(
        order
            .hold_id
            .ok_or_else(|| StoreError::Corrupt(format!("order {} has no hold", order.id)))?
            as u64,
    );
    let (key, op) = match settlement {
        Settlement::Deliver => (
            format!("web-order-capture-{}", order.id),
            Operation::CaptureHold { hold, amount: None },
        ),
        Settlement::Cancel => (
            format!("web-order-void-{}", order.id),
            Operation::VoidHold { hold },
        ),
    };
    let key = IdempotencyKey::new(key).map_err(|e| StoreError::Invalid(e.to_string()))?;
    match store
        .submit(Submission::new(key, op).authored(author))
        .await?
    {
        Ok(Outcome::HoldCaptured { tx, .. }) => {
            resolve_order(store, order.id, OrderStatus::Delivered, Some(tx.0 as i64)).await?;
            Ok(Ok(()))
        }
        Ok(_) => {
            resolve_order(store, order.id, OrderStatus::Cancelled, None).await?;
            Ok(Ok(()))
        }
        Err(rejection) => {
            if let Rejection::HoldExpired { .. } = rejection {
                sweep_orders(store).await?;
            }
            Ok(Err(rejection))
        }
    }
}

/// Releases holds past their expiry through the ledger, then records it on the orders.
pub async fn sweep_orders(store: &Store) -> StoreResult<()> {
    let due = held_orders_due(store).await?;
    if due.is_empty() {
        return Ok(());
    }
    store.expire_due_holds(chrono::Utc::now()).await?;
    for order in due {
        let Some(hold_id) = order.hold_id else {
            continue;
        };
        if let Some(hold) = store.hold(HoldId(hold_id as u64)).await? {
            if hold.status == HoldStatus::Expired {
                resolve_order(store, order.id, OrderStatus::Expired, None).await?;
            }
        }
    }
    Ok(())
}

/// What an order's hold is submitted under, before its form token (`{buyer}-{token}`): also
/// the key a staff user's month counts the order under (`spending::hold`).
const ORDER_KEY_PREFIX: &str = "web-order-";

/// Moves a held order to its final status (following the ledger's outcome). An order
/// cancelled or expired gives back what it held in the month of the staff user who placed
/// it (`staff_commitments`), in the same database transaction.
pub async fn resolve_order(
    store: &Store,
    id: i64,
    status: OrderStatus,
    tx_id: Option<i64>,
) -> StoreResult<bool> {
    let release = status != OrderStatus::Delivered;
    let begin = store.begin_write_sql();
    let done = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        let done = sqlx::query(
            "UPDATE orders SET status = $1, tx_id = $2 WHERE id = $3 AND status = 'held'")
            .bind(status.as_str()).bind(tx_id).bind(id).execute(&mut *tx).await?.rows_affected();
        if done == 1 && release {
            sqlx::query(
                "DELETE FROM staff_commitments WHERE op_key = \
                 (SELECT CAST($1 AS TEXT) || form_token FROM orders WHERE id = $2)")
                .bind(ORDER_KEY_PREFIX).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        done
    });
    Ok(done == 1)
}

/// How long before an undelivered order expires its seller is reminded.
pub const ORDER_REMINDER_SECONDS: i64 = 2 * 24 * 3600;

/// A notice of an order that the housekeeping finds from the order's expiry, sent once
/// (`orders.reminder_noticed_at`, `expiry_noticed_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFollowUp {
    /// To the seller: still held, it expires within [`ORDER_REMINDER_SECONDS`].
    Expiring,
    /// To both parties: it expired less than [`FOLLOW_UP_WINDOW_SECONDS`] ago.
    Expired,
}

impl OrderFollowUp {
    /// The column that records it was sent: a constant, never input.
    fn column(self) -> &'static str {
        match self {
            OrderFollowUp::Expiring => "reminder_noticed_at",
            OrderFollowUp::Expired => "expiry_noticed_at",
        }
    }
}

/// The orders whose `follow_up` is due at `now` and not sent yet, soonest expiry first, at
/// most `max` (held ones through `orders_held_expiry`, expired ones through
/// `orders_expired_untold`).
pub async fn order_follow_ups_due(
    store: &Store,
    follow_up: OrderFollowUp,
    now: i64,
    max: i64,
) -> StoreResult<Vec<Order>> {
    // `expires_at` in `(from, until]`.
    let (status, from, until) = match follow_up {
        OrderFollowUp::Expiring => ("held", now, now + ORDER_REMINDER_SECONDS),
        OrderFollowUp::Expired => ("expired", now - FOLLOW_UP_WINDOW_SECONDS - 1, now),
    };
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE status = '{status}' \
         AND {} IS NULL AND expires_at > $1 AND expires_at <= $2 \
         ORDER BY expires_at, id LIMIT $3",
        follow_up.column()
    );
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(from).bind(until).bind(max.clamp(0, 1_000))
            .fetch_all(pool).await?;
        rows.iter().map(order_from_row).collect()
    })
}

/// Records that `follow_up` of order `id` was sent at `now`.
pub async fn order_follow_up_sent(
    store: &Store,
    follow_up: OrderFollowUp,
    id: i64,
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE orders SET {column} = $1 WHERE id = $2 AND {column} IS NULL",
        column = follow_up.column()
    );
    dispatch!(store.backend(), pool => {
        sqlx::query(&sql).bind(now).bind(id).execute(pool).await?;
    });
    Ok(())
}

/// Held orders whose hold has passed its expiry, the oldest expiry first (through the
/// partial index `orders_held_expiry`).
pub async fn held_orders_due(store: &Store) -> StoreResult<Vec<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'held' AND expires_at <= $1 \
         ORDER BY expires_at, id LIMIT $2"
    );
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(now_unix()).bind(LIST_ROWS_MAX)
            .fetch_all(pool).await?;
        rows.iter().map(order_from_row).collect()
    })
}
