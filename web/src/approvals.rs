//! Payments waiting for the owner's approval: a staff user whose payment is over the limit
//! its owner set (`users.payment_max`, docs/web.md "Staff payment limits") asks the owner to
//! approve it. Rows only: nothing moves while a request waits, and the approved payment goes
//! through the store's write path like any other, entered by the staff user.
//!
//! Not here: who may act on a request (the owner approves and declines, the staff user who
//! asked withdraws) is the routes' check; this module trusts its callers.

use ledger::{Amount, IdempotencyKey, Outcome, Rejection};
use sqlx::Row;

use crate::dispatch;
use crate::people::{now_unix, Member, Role, User};
use crate::store::{Author, Store, StoreError, StoreResult};
use crate::trade::{self, PaymentOrder};

/// Most requests one company may have waiting at once.
pub const APPROVALS_PENDING_MAX: i64 = 100;
/// Longest note the owner may give with a refusal, in characters.
pub const APPROVAL_NOTE_LEN_MAX: usize = 280;
/// Most requests one page lists.
pub const APPROVALS_PAGE_MAX: i64 = 200;
/// Days a request waits for the owner: after that it expires (nothing moves), as a payment
/// request does when it falls due, and the staff user asks again if it still matters.
pub const APPROVAL_WAIT_DAYS_MAX: i64 = 30;
/// [`APPROVAL_WAIT_DAYS_MAX`] in seconds.
pub const APPROVAL_WAIT_SECS_MAX: i64 = APPROVAL_WAIT_DAYS_MAX * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Declined,
    Withdrawn,
    /// Nobody decided within [`APPROVAL_WAIT_DAYS_MAX`] days.
    Expired,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 5] = [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Declined,
        ApprovalStatus::Withdrawn,
        ApprovalStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Declined => "declined",
            ApprovalStatus::Withdrawn => "withdrawn",
            ApprovalStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<ApprovalStatus> {
        ApprovalStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A staff user's payment waiting for (or decided by) its company's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: i64,
    /// The paying company.
    pub member_id: i64,
    pub payee_member_id: i64,
    pub amount_minor: i64,
    pub reference: String,
    pub memo: String,
    /// The staff user who asked (its id; the user may since have been removed).
    pub requested_by: i64,
    pub requested_by_email: String,
    pub status: ApprovalStatus,
    /// Approvals the ledger refused so far.
    pub attempts: i64,
    /// The payment, once approved.
    pub tx_id: Option<i64>,
    /// Who decided (the owner's email, or the staff user's for a withdrawal; none when the
    /// request expired).
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The owner's note with a refusal.
    pub note: String,
    pub created_at: i64,
}

impl Approval {
    pub fn amount(&self) -> Amount {
        Amount::from_minor(self.amount_minor)
    }

    pub fn is_pending(&self) -> bool {
        self.status == ApprovalStatus::Pending
    }

    /// When the request stops waiting if nobody decides (unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.created_at + APPROVAL_WAIT_SECS_MAX
    }

    /// Whether `user` may see this request: its company's owner sees every one, a staff user
    /// those it asked; nobody else (the routes answer 404).
    pub fn visible_to(&self, user: &User) -> bool {
        user.member_id == Some(self.member_id)
            && match user.role {
                Role::Owner => true,
                Role::Staff => self.requested_by == user.id,
                _ => false,
            }
    }
}

const COLUMNS: &str = "id, member_id, payee_member_id, amount_minor, reference, memo, \
     requested_by, requested_by_email, status, attempts, tx_id, decided_by, decided_at, note, \
     created_at";

fn from_row<R>(row: &R) -> StoreResult<Approval>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    Ok(Approval {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        payee_member_id: row.try_get("payee_member_id")?,
        amount_minor: row.try_get("amount_minor")?,
        reference: row.try_get("reference")?,
        memo: row.try_get("memo")?,
        requested_by: row.try_get("requested_by")?,
        requested_by_email: row.try_get("requested_by_email")?,
        status: ApprovalStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("approval status {status:?}")))?,
        attempts: row.try_get("attempts")?,
        tx_id: row.try_get("tx_id")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What a staff user asks its owner to pay. The caller validated the payee (another
/// member), the amount (positive) and the texts (the ledger's bounds).
pub struct NewApproval<'a> {
    pub payer: &'a Member,
    pub payee: &'a Member,
    pub order: &'a PaymentOrder,
    pub requested_by: &'a User,
    /// The form's or the API request's identity: a replay returns the first request.
    pub form_token: &'a str,
}

/// The company already has [`APPROVALS_PENDING_MAX`] requests waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyPending;

/// Records a request once per form token; returns its id (the first one on a replay).
pub async fn create(
    store: &Store,
    new: &NewApproval<'_>,
) -> StoreResult<Result<i64, TooManyPending>> {
    debug_assert_eq!(new.requested_by.member_id, Some(new.payer.id));
    debug_assert_ne!(new.payer.id, new.payee.id);
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let known: Option<i64> =
            sqlx::query_scalar("SELECT id FROM payment_approvals WHERE form_token = $1")
                .bind(new.form_token).fetch_optional(&mut *tx).await?;
        if let Some(id) = known {
            return Ok(Ok(id));
        }
        // Expired requests do not count against the cap.
        sqlx::query(EXPIRE_SQL).bind(now - APPROVAL_WAIT_SECS_MAX).bind(APPROVAL_WAIT_SECS_MAX)
            .execute(&mut *tx).await?;
        let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM payment_approvals WHERE member_id = $1 \
                 AND status = 'pending'")
            .bind(new.payer.id).fetch_one(&mut *tx).await?;
        if pending >= APPROVALS_PENDING_MAX {
            return Ok(Err(TooManyPending));
        }
        let id: i64 = sqlx::query_scalar(
                "INSERT INTO payment_approvals (member_id, payee_member_id, amount_minor, \
                 reference, memo, requested_by, requested_by_email, status, created_at, \
                 form_token) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) \
                 RETURNING id")
            .bind(new.payer.id).bind(new.payee.id).bind(new.order.amount.minor())
            .bind(&new.order.reference).bind(&new.order.memo).bind(new.requested_by.id)
            .bind(&new.requested_by.email).bind(now).bind(new.form_token)
            .fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Ok(id))
    })
}

/// Sets every request pending for [`APPROVAL_WAIT_DAYS_MAX`] days or more to `expired`,
/// `decided_at` being the moment it expired (`$1`: the cutoff, `$2`: the wait in seconds).
/// Through the partial index on the waiting requests' `created_at`.
const EXPIRE_SQL: &str = "UPDATE payment_approvals SET status = 'expired', \
     decided_at = created_at + $2 WHERE status = 'pending' AND created_at <= $1";

/// Expires the requests nobody decided in time (see [`APPROVAL_WAIT_DAYS_MAX`]); the routes
/// call it before they read or decide requests, as they do for payment requests
/// (`trade::expire_requests`). Returns how many expired.
pub async fn expire_overdue(store: &Store) -> StoreResult<u64> {
    let cutoff = now_unix() - APPROVAL_WAIT_SECS_MAX;
    let done = dispatch!(store.backend(), pool => {
        sqlx::query(EXPIRE_SQL).bind(cutoff).bind(APPROVAL_WAIT_SECS_MAX)
            .execute(pool).await?.rows_affected()
    });
    Ok(done)
}

/// One request, of any company (the caller checks it is the user's company's).
pub async fn approval(store: &Store, id: i64) -> StoreResult<Option<Approval>> {
    let sql = format!("SELECT {COLUMNS} FROM payment_approvals WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// Which requests a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Pending,
    All,
}

/// A page of a company's requests, newest first, strictly older than `before` (keyset on
/// the ids), only those `requested_by` asked when given (a staff user sees its own); at
/// most `limit` (1 to [`APPROVALS_PAGE_MAX`]) and the cursor of the next page.
pub async fn page(
    store: &Store,
    member_id: i64,
    requested_by: Option<i64>,
    filter: Filter,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Approval>, Option<i64>)> {
    if !(1..=APPROVALS_PAGE_MAX).contains(&limit) {
        return Err(StoreError::Invalid(format!(
            "an approvals page holds 1 to {APPROVALS_PAGE_MAX} requests"
        )));
    }
    let status = match filter {
        Filter::Pending => Some(ApprovalStatus::Pending.as_str()),
        Filter::All => None,
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_approvals WHERE member_id = $1 \
         AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR requested_by = $3) AND id < $4 \
         ORDER BY id DESC LIMIT $5"
    );
    let mut rows: Vec<Approval> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(member_id).bind(status).bind(requested_by)
            .bind(before.unwrap_or(i64::MAX)).bind(limit + 1)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?
    });
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|a| a.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// Most decisions [`decided_since`] returns.
pub const DECIDED_LISTED_MAX: i64 = 20;

/// The requests `requested_by` made for `member_id` that the owner approved or declined, or
/// that expired, at or after `since` (unix seconds), newest first, at most
/// [`DECIDED_LISTED_MAX`]: the staff user's dashboard tells it the answers.
pub async fn decided_since(
    store: &Store,
    member_id: i64,
    requested_by: i64,
    since: i64,
) -> StoreResult<Vec<Approval>> {
    // A request past its wait that no route has swept yet is read as the expired request
    // it is (the dashboard only reads; `expire_overdue` writes the same values).
    let cutoff = now_unix() - APPROVAL_WAIT_SECS_MAX;
    let sql = format!(
        "SELECT {COLUMNS} FROM payment_approvals WHERE member_id = $1 AND requested_by = $2 \
         AND ((status IN ('approved', 'declined', 'expired') AND decided_at >= $3) \
         OR (status = 'pending' AND created_at <= $5 AND created_at >= $3 - $6)) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows: Vec<Approval> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(member_id).bind(requested_by).bind(since).bind(DECIDED_LISTED_MAX)
            .bind(cutoff).bind(APPROVAL_WAIT_SECS_MAX)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<StoreResult<_>>()?
    });
    Ok(rows
        .into_iter()
        .map(|mut a| {
            if a.is_pending() {
                a.status = ApprovalStatus::Expired;
                a.decided_at = Some(a.expires_at());
            }
            a
        })
        .collect())
}

/// The owner approves a waiting request: the company pays it through the write path,
/// recorded as entered by the staff user who asked. Concurrent approvals read the same
/// attempt count, hence share one key (`web-approval-ID-ATTEMPTS`): one payment. A refusal
/// (insufficient credit, a frozen account...) bumps the count, so the next attempt gets a
/// new key, and leaves the request waiting. The caller checked that `owner` is the owner
/// of `payer`, the request's company, and that the request is pending.
pub async fn approve(
    store: &Store,
    request: &Approval,
    owner: &User,
    payer: &Member,
    payee: &Member,
) -> StoreResult<Result<Outcome, Rejection>> {
    debug_assert_eq!(request.member_id, payer.id);
    debug_assert_eq!(request.payee_member_id, payee.id);
    let key = IdempotencyKey::new(format!("web-approval-{}-{}", request.id, request.attempts))
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let order = PaymentOrder {
        amount: request.amount(),
        reference: request.reference.clone(),
        memo: request.memo.clone(),
    };
    let author = Author::new(payer.id, &request.requested_by_email);
    let outcome = trade::pay(store, key, payer, payee, order, Some(author)).await?;
    let now = now_unix();
    match &outcome {
        Ok(done) => {
            let tx = done.tx().map(|t| t.0 as i64);
            // The payment is what happened: a withdrawal or refusal that raced it loses.
            dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE payment_approvals SET status = 'approved', tx_id = $1, \
                             decided_by = $2, decided_at = $3, note = '' \
                             WHERE id = $4 AND tx_id IS NULL")
                    .bind(tx).bind(&owner.email).bind(now).bind(request.id)
                    .execute(pool).await?;
            });
        }
        Err(_) => {
            dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE payment_approvals SET attempts = attempts + 1 \
                             WHERE id = $1 AND attempts = $2")
                    .bind(request.id).bind(request.attempts).execute(pool).await?;
            });
        }
    }
    Ok(outcome)
}

/// The owner refuses a waiting request, with an optional note (at most
/// [`APPROVAL_NOTE_LEN_MAX`] characters, checked by the caller); `false` when it was no
/// longer waiting.
pub async fn decline(store: &Store, id: i64, owner: &User, note: &str) -> StoreResult<bool> {
    debug_assert!(ledger::char_len(note) <= APPROVAL_NOTE_LEN_MAX);
    decide(
        store,
        id,
        None,
        &owner.email,
        ApprovalStatus::Declined,
        note,
    )
    .await
}

/// The staff user who asked takes its request back; `false` when it was no longer
/// waiting or is not the user's.
pub async fn withdraw(store: &Store, id: i64, user: &User) -> StoreResult<bool> {
    decide(
        store,
        id,
        Some(user.id),
        &user.email,
        ApprovalStatus::Withdrawn,
        "",
    )
    .await
}

async fn decide(
    store: &Store,
    id: i64,
    requested_by: Option<i64>,
    by: &str,
    status: ApprovalStatus,
    note: &str,
) -> StoreResult<bool> {
    debug_assert!(matches!(
        status,
        ApprovalStatus::Declined | ApprovalStatus::Withdrawn
    ));
    let now = now_unix();
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_approvals SET status = $1, decided_by = $2, \
                     decided_at = $3, note = $4 WHERE id = $5 AND status = 'pending' \
                     AND ($6 IS NULL OR requested_by = $6)")
            .bind(status.as_str()).bind(by).bind(now).bind(note).bind(id).bind(requested_by)
            .execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

/// Withdraws the waiting requests of a user being removed from its company, inside the
/// removal's own database transaction (`people::remove_member_user`).
pub(crate) const WITHDRAW_ALL_OF_SQL: &str = "UPDATE payment_approvals SET \
     status = 'withdrawn', decided_by = $1, decided_at = $2 WHERE requested_by = $3 \
     AND status = 'pending'";
