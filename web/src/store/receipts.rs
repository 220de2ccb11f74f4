//! API receipts: the remembered answer of an API write carrying an `Idempotency-Key`
//! (table `api_idempotency`, migration 0015), written by the write path **in the batch that
//! decides the operation** — the same database transaction as the payment itself — so that a
//! keyed payment costs no write transaction of its own and its answer is exactly as durable
//! as the payment.
//!
//! A caller attaches an [`ApiReceipt`] to its [`Submission`](super::Submission)
//! (`Submission::receipted`). The receipt names the user, the key, the path, the request's
//! hash, the account whose state the answer reports, and how to render the answer
//! ([`Render`], a plain function supplied by the API: the store knows no HTTP and no JSON
//! shape). Once the operation is decided (accepted **or** rejected: a rejection is an answer
//! a replay must return), the batch calls the renderer with the decision and that account's
//! state right after the operation, and inserts the row with `ON CONFLICT DO NOTHING` on
//! `(user_id, idem_key)`: a concurrent request that stored its answer first keeps it, and the
//! batch never fails over it. Within one batch, the first receipt of a `(user, key)` wins.
//! An operation answered by the ledger's own idempotency (a replay of an earlier decision)
//! writes no receipt: the batch that decided it wrote one.
//!
//! Once the batch has committed, it also hands the stored answer back to the caller
//! ([`ApiReceipt::stored_answer`], shared by the receipt's clones), so that the API need not
//! read back what it just wrote: only when it knows the row went in (every receipt of the
//! batch inserted, no conflict). Otherwise the slot stays empty and the caller reads the
//! stored answer, which is then another request's.

use std::fmt;
use std::sync::{Arc, OnceLock};

use ledger::{Account, AccountId, Outcome, Rejection};

use super::{StoreError, StoreResult};

/// Longest `Idempotency-Key`, in bytes.
pub const RECEIPT_KEY_LEN_MAX: usize = 255;
/// Longest path a receipt records, in bytes.
pub const RECEIPT_ROUTE_LEN_MAX: usize = 512;
/// Longest request hash, in bytes (a SHA-256 in hex is 64).
pub const RECEIPT_HASH_LEN_MAX: usize = 128;
/// Longest rendered answer kept, in bytes; a longer one is not stored by the batch (the
/// caller finds no receipt and falls back to remembering its answer itself).
pub const RECEIPT_RESPONSE_LEN_MAX: usize = 16 * 1024;

/// How a receipt's answer is rendered: `(HTTP status, body)` from the operation's decision and
/// the receipt account's state right after it in the batch (`None` if it is not loaded).
pub type RenderFn = fn(&Result<Outcome, Rejection>, Option<&Account>) -> (u16, String);

/// A [`RenderFn`], comparable and printable (a `Submission` is `PartialEq` and `Debug`).
#[derive(Clone, Copy)]
pub struct Render(pub RenderFn);

impl PartialEq for Render {
    fn eq(&self, other: &Render) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for Render {}

impl fmt::Debug for Render {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Render({:p})", self.0 as *const ())
    }
}

/// Where a committed batch leaves the answer it stored for a receipt: `(status, body)`.
/// Clones share it; two slots are equal when they are the same one.
#[derive(Clone, Default)]
pub(crate) struct Slot(Arc<OnceLock<(u16, String)>>);

impl Slot {
    /// Filled once, after COMMIT.
    pub(crate) fn fill(&self, status: u16, body: String) {
        let filled = self.0.set((status, body));
        debug_assert!(filled.is_ok(), "a receipt's answer is stored once");
    }
}

impl PartialEq for Slot {
    fn eq(&self, other: &Slot) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Slot {}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Slot({})",
            if self.0.get().is_some() {
                "filled"
            } else {
                "empty"
            }
        )
    }
}

/// The answer to remember with an operation, for one user's `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiReceipt {
    user_id: i64,
    key: String,
    route: String,
    request_hash: String,
    account: AccountId,
    render: Render,
    stored: Slot,
}

impl ApiReceipt {
    /// Refused when the key, route or hash is empty or too long.
    pub fn new(
        user_id: i64,
        key: &str,
        route: &str,
        request_hash: &str,
        account: AccountId,
        render: RenderFn,
    ) -> StoreResult<ApiReceipt> {
        let within = |text: &str, max: usize| !text.is_empty() && text.len() <= max;
        if !within(key, RECEIPT_KEY_LEN_MAX)
            || !within(route, RECEIPT_ROUTE_LEN_MAX)
            || !within(request_hash, RECEIPT_HASH_LEN_MAX)
        {
            return Err(StoreError::Invalid(format!(
                "a receipt's key, route and request hash are 1 to {RECEIPT_KEY_LEN_MAX}, \
                 {RECEIPT_ROUTE_LEN_MAX} and {RECEIPT_HASH_LEN_MAX} bytes"
            )));
        }
        Ok(ApiReceipt {
            user_id,
            key: key.to_owned(),
            route: route.to_owned(),
            request_hash: request_hash.to_owned(),
            account,
            render: Render(render),
            stored: Slot::default(),
        })
    }

    /// The answer stored with the operation, once its batch has committed — `None` if no
    /// batch stored this receipt (the operation was a replay, an earlier receipt of the same
    /// key won, or the batch could not tell): the stored answer must then be read.
    pub fn stored_answer(&self) -> Option<(u16, String)> {
        self.stored.0.get().cloned()
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }
    pub fn key(&self) -> &str {
        &self.key
    }
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The row to write for this decision, or `None` when the renderer answers a server
    /// error (never remembered: a retry may succeed) or the answer is too long.
    pub(crate) fn row(
        &self,
        decision: &Result<Outcome, Rejection>,
        account: Option<&Account>,
        created_at: i64,
    ) -> Option<ReceiptRow> {
        let (status, response) = (self.render.0)(decision, account);
        if status >= 500 {
            tracing::warn!(status, "API receipt rendered a server error; not stored");
            return None;
        }
        if response.len() > RECEIPT_RESPONSE_LEN_MAX {
            tracing::warn!(len = response.len(), "API receipt too long; not stored");
            return None;
        }
        Some(ReceiptRow {
            user_id: self.user_id,
            key: self.key.clone(),
            route: self.route.clone(),
            request_hash: self.request_hash.clone(),
            status: i64::from(status),
            response,
            created_at,
            slot: self.stored.clone(),
        })
    }
}

/// A receipt ready to insert.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptRow {
    pub(crate) user_id: i64,
    pub(crate) key: String,
    pub(crate) route: String,
    pub(crate) request_hash: String,
    pub(crate) status: i64,
    pub(crate) response: String,
    /// Unix seconds, as `tokens::remember` writes it.
    pub(crate) created_at: i64,
    /// The receipt's slot, filled after COMMIT if the row went in.
    pub(crate) slot: Slot,
}

/// Rows per multi-row statement on SQLite (7 parameters a row).
const SQLITE_ROWS_PER_STATEMENT: usize = 500;

/// Writes receipts on a SQLite connection (inside the batch's transaction); `true` when
/// every row went in (none met a stored key).
pub(crate) async fn write_sqlite(
    conn: &mut sqlx::SqliteConnection,
    rows: &[ReceiptRow],
) -> StoreResult<bool> {
    let mut inserted = 0u64;
    for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO api_idempotency (user_id, idem_key, route, request_hash, status, \
             response, created_at) ",
        );
        query.push_values(chunk, |mut row, r| {
            row.push_bind(r.user_id)
                .push_bind(r.key.clone())
                .push_bind(r.route.clone())
                .push_bind(r.request_hash.clone())
                .push_bind(r.status)
                .push_bind(r.response.clone())
                .push_bind(r.created_at);
        });
        query.push(" ON CONFLICT (user_id, idem_key) DO NOTHING");
        inserted += query.build().execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted == rows.len() as u64)
}

/// Writes receipts on a PostgreSQL connection (inside the batch's transaction); `true` when
/// every row went in (none met a stored key).
pub(crate) async fn write_postgres(
    conn: &mut sqlx::PgConnection,
    rows: &[ReceiptRow],
) -> StoreResult<bool> {
    if rows.is_empty() {
        return Ok(true);
    }
    let users: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let routes: Vec<&str> = rows.iter().map(|r| r.route.as_str()).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.request_hash.as_str()).collect();
    let statuses: Vec<i64> = rows.iter().map(|r| r.status).collect();
    let responses: Vec<&str> = rows.iter().map(|r| r.response.as_str()).collect();
    let times: Vec<i64> = rows.iter().map(|r| r.created_at).collect();
    let inserted = sqlx::query(
        "INSERT INTO api_idempotency (user_id, idem_key, route, request_hash, status, \
         response, created_at) \
         SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], \
         $6::text[], $7::int8[]) \
         ON CONFLICT (user_id, idem_key) DO NOTHING",
    )
    .bind(users)
    .bind(keys)
    .bind(routes)
    .bind(hashes)
    .bind(statuses)
    .bind(responses)
    .bind(times)
    .execute(&mut *conn)
    .await?;
    Ok(inserted.rows_affected() == rows.len() as u64)
}
