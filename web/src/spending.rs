//! What a company's staff users committed it to in a month, against the limit per month its
//! owner set (`users.payment_month_max`, docs/web.md "Staff payment limits", migration 0038).
//!
//! Each capped operation of a staff user with such a limit (a payment, a request accepted,
//! an order, a refund, a signed payment order of its key, a run of a standing order it set
//! up) is first *held* here: one write transaction reads what the user committed this
//! calendar month (UTC) and, if the operation fits, records it under the operation's
//! idempotency key. Then the operation goes to the write path; a refusal gives the hold
//! back ([`Held::after`]). Two operations racing for the last room cannot both pass: the
//! holds are serialized by the write transaction (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
//! lock on the user's row). A replay of an operation (the same key) is counted once.
//!
//! What an interrupted operation held (a server error between the hold and the ledger's
//! answer) stays counted: the limit errs on the company's side.
//!
//! Not here: the limit per operation (`people::User::may_commit`, no database read) and who
//! may set the limits (the routes' check).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use ledger::Amount;

use crate::dispatch;
use crate::people::{Role, User, PAYMENT_MAX_MAX};
use crate::store::{BackendKind, Store, StoreResult};

/// What a user committed in a month: bound to the user's id and the month
/// (`staff_commitments_month_user`).
const MONTH_USED_SQL: &str = "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) \
                              FROM staff_commitments WHERE user_id = $1 AND month = $2";

/// A staff user's operation that would take its month over its limit per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverMonthMax {
    /// The limit per month.
    pub max: Amount,
    /// What the user already committed the company to this month.
    pub used: Amount,
}

impl OverMonthMax {
    /// What is left of the month's limit (zero or more).
    pub fn left(&self) -> Amount {
        Amount::from_minor((self.max.minor() - self.used.minor()).max(0))
    }
}

/// The calendar month (UTC) of `unix` seconds, as the rows keep it: `2026-12`.
pub fn month_of(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m")
        .to_string()
}

/// An operation's place in its user's month, held until the ledger answers.
#[must_use = "a hold is given back with `after` when the operation is refused"]
#[derive(Debug)]
pub struct Held {
    /// The operation's key when this call counted it; `None` when nothing was counted (no
    /// limit per month, or a replay that an earlier call counted).
    counted: Option<String>,
}

impl Held {
    /// Nothing held: the operation is not counted against a month.
    pub fn nothing() -> Held {
        Held { counted: None }
    }

    /// Gives the hold back when the operation was refused (`Err`); keeps it otherwise.
    pub async fn after<T, E>(self, store: &Store, decision: &Result<T, E>) -> StoreResult<()> {
        match (&self.counted, decision) {
            (Some(key), Err(_)) => release(store, key).await,
            _ => Ok(()),
        }
    }
}

/// Holds `amount` in `user`'s month (of `now`, Unix seconds) for the operation `op_key`.
/// `Ok(Err(_))` when it would take the month over the user's limit: nothing is recorded.
/// Users other than staff, and staff without a limit per month, hold nothing. The limit is
/// read again inside the transaction, so an owner's change applies at once.
pub async fn hold(
    store: &Store,
    user: &User,
    op_key: &str,
    amount: Amount,
    now: i64,
) -> StoreResult<Result<Held, OverMonthMax>> {
    if user.role != Role::Staff || user.payment_month_max.is_none() {
        return Ok(Ok(Held::nothing()));
    }
    debug_assert!(amount.minor() > 0);
    debug_assert!(!op_key.is_empty() && op_key.len() <= ledger::IDEMPOTENCY_KEY_LEN_MAX);
    let month = month_of(now);
    let lock = match store.kind() {
        BackendKind::Sqlite => "",
        BackendKind::Postgres => " FOR UPDATE",
    };
    let read_max =
        format!("SELECT payment_month_max FROM users WHERE id = $1 AND role = 'staff'{lock}");
    let begin = store.begin_write_sql();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        let max: Option<Option<i64>> = sqlx::query_scalar(&read_max)
            .bind(user.id).fetch_optional(&mut *tx).await?;
        let Some(Some(max)) = max else {
            tx.rollback().await?;
            return Ok(Ok(Held::nothing()));
        };
        debug_assert!((1..=PAYMENT_MAX_MAX).contains(&max));
        let known: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_commitments WHERE op_key = $1")
            .bind(op_key).fetch_one(&mut *tx).await?;
        if known > 0 {
            // A replay of an operation already counted.
            tx.rollback().await?;
            return Ok(Ok(Held::nothing()));
        }
        let used: i64 = sqlx::query_scalar(MONTH_USED_SQL)
            .bind(user.id).bind(&month).fetch_one(&mut *tx).await?;
        if used.saturating_add(amount.minor()) > max {
            tx.rollback().await?;
            return Ok(Err(OverMonthMax {
                max: Amount::from_minor(max),
                used: Amount::from_minor(used),
            }));
        }
        sqlx::query(
            "INSERT INTO staff_commitments (op_key, user_id, month, amount_minor, created_at) \
             VALUES ($1, $2, $3, $4, $5)")
            .bind(op_key).bind(user.id).bind(&month).bind(amount.minor()).bind(now)
            .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Ok(Held { counted: Some(op_key.to_owned()) }))
    })
}

/// Whether `amount` fits in what is left of `user`'s month now, without holding anything:
/// what a form says before confirmation. [`hold`] decides.
pub async fn room(
    store: &Store,
    user: &User,
    amount: Amount,
    now: i64,
) -> StoreResult<Result<(), OverMonthMax>> {
    let (Role::Staff, Some(max)) = (user.role, user.payment_month_max) else {
        return Ok(Ok(()));
    };
    let used = used(store, user.id, now).await?;
    if used.minor().saturating_add(amount.minor()) > max {
        return Ok(Err(OverMonthMax {
            max: Amount::from_minor(max),
            used,
        }));
    }
    Ok(Ok(()))
}

/// Whether `user` may commit its company to `amount` now on its own: within its limit per
/// operation and what is left of its month. What decides whether a staff user's payment
/// needs the owner's approval.
pub async fn within_limits(
    store: &Store,
    user: &User,
    amount: Amount,
    now: i64,
) -> StoreResult<bool> {
    Ok(user.may_commit(amount).is_ok() && room(store, user, amount, now).await?.is_ok())
}

/// Which of a staff user's limits an operation would take it past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    Operation(crate::people::OverPaymentMax),
    Month(OverMonthMax),
}

/// A signed payment order's limits: the order commits the company as the user who
/// registered its key (`people::key_signer`), so that user's limit per operation holds, and
/// its month [`hold`]s the amount under the order's idempotency key. A key that names no
/// user of its company is held to nothing. The page and the API call this alike.
pub async fn hold_for_signer(
    store: &Store,
    key: &crate::store::MemberKey,
    order: &ledger::audit::PaymentOrder,
    now: i64,
) -> StoreResult<Result<Held, OverLimit>> {
    let Some(signer) = crate::people::key_signer(store, key).await? else {
        return Ok(Ok(Held::nothing()));
    };
    if let Err(over) = signer.may_commit(order.amount) {
        return Ok(Err(OverLimit::Operation(over)));
    }
    let key = order.idempotency_key.as_str();
    Ok(hold(store, &signer, key, order.amount, now)
        .await?
        .map_err(OverLimit::Month))
}

/// Gives back what the operation `op_key` held (its refusal, or an order cancelled or
/// expired before it was paid). Nothing when it held nothing.
pub async fn release(store: &Store, op_key: &str) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM staff_commitments WHERE op_key = $1")
            .bind(op_key).execute(pool).await?;
    });
    Ok(())
}

/// What `user_id` committed its company to in the month of `now`.
pub async fn used(store: &Store, user_id: i64, now: i64) -> StoreResult<Amount> {
    let month = month_of(now);
    let used: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(MONTH_USED_SQL)
            .bind(user_id).bind(&month).fetch_one(pool).await?
    });
    Ok(Amount::from_minor(used))
}

/// What each user of `member_id` with commitments committed the company to in the month of
/// `now` (users without any are not in the map): one read, for the company's and the
/// manager's lists of users.
pub async fn used_of_member(
    store: &Store,
    member_id: i64,
    now: i64,
) -> StoreResult<HashMap<i64, Amount>> {
    let month = month_of(now);
    let rows: Vec<(i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT c.user_id, CAST(SUM(c.amount_minor) AS BIGINT) FROM staff_commitments c \
             JOIN users u ON u.id = c.user_id \
             WHERE u.member_id = $1 AND c.month = $2 GROUP BY c.user_id")
            .bind(member_id).bind(&month).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(user, used)| (user, Amount::from_minor(used)))
        .collect())
}

/// Most rows one call of [`prune`] deletes.
pub const PRUNE_ROWS_MAX: i64 = 5_000;

/// Deletes the rows of the months before the last one (of `now`): what they held counts in
/// no limit any more (who entered each payment stays in `transaction_authors`). At most
/// [`PRUNE_ROWS_MAX`] a call, through `staff_commitments_month_user`; the number deleted.
pub async fn prune(store: &Store, now: i64) -> StoreResult<u64> {
    let this_month = DateTime::<Utc>::from_timestamp(now, 0).unwrap_or_default();
    let last_month = this_month
        .date_naive()
        .with_day(1)
        .and_then(|first| first.pred_opt())
        .map(|day| day.format("%Y-%m").to_string())
        .unwrap_or_default();
    let done = dispatch!(store.backend(), pool => {
        sqlx::query(
            "DELETE FROM staff_commitments WHERE op_key IN \
             (SELECT op_key FROM staff_commitments WHERE month < $1 LIMIT $2)")
            .bind(&last_month).bind(PRUNE_ROWS_MAX).execute(pool).await?.rows_affected()
    });
    Ok(done)
}

/// The owner sets (or, with `None`, lifts) a staff user's limit per month. `false` when
/// `user_id` is not a staff user of `member_id` (nothing changes then). The caller checked
/// that `max` is within 1 ..= [`PAYMENT_MAX_MAX`]. What the user committed this month
/// stays counted: a lower limit leaves it no room until the month ends.
pub async fn set_month_max(
    store: &Store,
    member_id: i64,
    user_id: i64,
    max: Option<i64>,
) -> StoreResult<bool> {
    let change = crate::people::LimitsChange {
        per_operation: None,
        per_month: Some(max),
    };
    crate::people::set_payment_limits(store, member_id, user_id, change).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months_in_utc() {
        // 2026-11-30 23:59:59 UTC and the next second.
        assert_eq!(month_of(1_796_083_199), "2026-11");
        assert_eq!(month_of(1_796_083_200), "2026-12");
        assert_eq!(month_of(0), "1970-01");
    }

    #[test]
    fn what_is_left_is_never_negative() {
        let over = OverMonthMax {
            max: Amount::from_minor(1_000),
            used: Amount::from_minor(1_200),
        };
        assert_eq!(over.left(), Amount::from_minor(0));
        let over = OverMonthMax {
            max: Amount::from_minor(1_000),
            used: Amount::from_minor(250),
        };
        assert_eq!(over.left(), Amount::from_minor(750));
    }
}
