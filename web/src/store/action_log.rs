//! The action log: an append-only record of every action a network manager or accountant
//! takes (limits, freezes, fee changes, write-offs, imports, approvals...), with its actor,
//! time, reason and the state before and after (JSON).
//!
//! Two ways in, so that an action and its record always commit together:
//! - a **ledger** action (limit change, freeze, write-off...) carries an [`ActionNote`] on its
//!   [`Submission`](super::Submission) (`Submission::noted`); the write path writes the
//!   record inside the batch that decided the operation, only if it was accepted, with the
//!   touched account's state before and after the decision filled in by the batch itself;
//! - any **other** action (approving an application, changing the fee policy, an import)
//!   writes its record with [`Store::record_action`], or with [`insert_action`] inside the
//!   caller's own database transaction.
//!
//! Rows are never updated or deleted (database triggers refuse it, migration 0011).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Store, StoreError, StoreResult};

/// Longest reason kept with an action, in characters.
pub const ACTION_REASON_LEN_MAX: usize = 500;
/// Longest actor name (an email, or `cli` for the command line), in characters.
pub const ACTION_ACTOR_LEN_MAX: usize = 254;
/// Longest action code, in characters.
pub const ACTION_CODE_LEN_MAX: usize = 64;
/// Most entries one page of [`Store::actions`] returns.
pub const ACTIONS_PAGE_SIZE_MAX: i64 = 500;

/// Who did what, to whom and why. `before` and `after` are filled in by the write path for
/// ledger actions; plain actions give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionNote {
    actor_user_id: Option<i64>,
    actor: String,
    action: String,
    member_id: Option<i64>,
    account_id: Option<i64>,
    reason: String,
    before: Value,
    after: Value,
}

impl ActionNote {
    /// `action` is a stable dotted code (`limits.set`, `member.freeze`, `fees.change`...);
    /// `actor` the user's email (or `cli`). Refused when a text is empty or too long.
    pub fn new(
        actor_user_id: Option<i64>,
        actor: &str,
        action: &str,
        reason: &str,
    ) -> StoreResult<ActionNote> {
        let actor = actor.trim();
        let action = action.trim();
        let reason = reason.trim();
        if actor.is_empty() || actor.chars().count() > ACTION_ACTOR_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "an action's actor must be 1 to {ACTION_ACTOR_LEN_MAX} characters"
            )));
        }
        let code_ok = action
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
        if action.is_empty() || action.len() > ACTION_CODE_LEN_MAX || !code_ok {
            return Err(StoreError::Invalid(format!(
                "an action code is 1 to {ACTION_CODE_LEN_MAX} characters of a-z, 0-9, '.', '_'"
            )));
        }
        if reason.chars().count() > ACTION_REASON_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "an action's reason is at most {ACTION_REASON_LEN_MAX} characters"
            )));
        }
        Ok(ActionNote {
            actor_user_id,
            actor: actor.to_owned(),
            action: action.to_owned(),
            member_id: None,
            account_id: None,
            reason: reason.to_owned(),
            before: Value::Null,
            after: Value::Null,
        })
    }

    /// The member company the action is about.
    pub fn member(mut self, member_id: i64) -> ActionNote {
        self.member_id = Some(member_id);
        self
    }

    /// The ledger account the action is about. For a ledger action, the write path records
    /// this account's state before and after the decision.
    pub fn account(mut self, account_id: u64) -> ActionNote {
        self.account_id = Some(super::rows::db_id(account_id));
        self
    }

    /// The state before and after, for plain actions (ledger actions get them from the
    /// write path; values given here are kept under `"detail"`).
    pub fn states(mut self, before: Value, after: Value) -> ActionNote {
        self.before = before;
        self.after = after;
        self
    }

    /// The caller's own before/after values (kept under `"detail"` for ledger actions).
    pub(crate) fn detail(&self) -> (Value, Value) {
        (self.before.clone(), self.after.clone())
    }

    pub fn action(&self) -> &str {
        &self.action
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
    pub fn account_id(&self) -> Option<i64> {
        self.account_id
    }
}

/// One recorded action, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    pub id: i64,
    pub time: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub member_id: Option<i64>,
    pub account_id: Option<i64>,
    pub reason: String,
    pub before: Value,
    pub after: Value,
    /// The ledger operation's idempotency key, for ledger actions.
    pub idempotency_key: Option<String>,
}

/// Which entries to read; every field narrows the list. Newest first, keyset-paginated on
/// the id (`before_id`: entries older than this one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub member_id: Option<i64>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub before_id: Option<i64>,
}

/// A row ready to insert: a note with the time and, for ledger actions, the key.
#[derive(Debug, Clone)]
pub(crate) struct ActionRow {
    pub(crate) note: ActionNote,
    pub(crate) time: i64,
    pub(crate) idempotency_key: Option<String>,
}

const INSERT_SQL: &str = "INSERT INTO action_log (time, actor_user_id, actor, action, \
     member_id, account_id, reason, before, after, idempotency_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

macro_rules! bind_row {
    ($row:expr) => {
        sqlx::query(INSERT_SQL)
            .bind($row.time)
            .bind($row.note.actor_user_id)
            .bind(&$row.note.actor)
            .bind(&$row.note.action)
            .bind($row.note.member_id)
            .bind($row.note.account_id)
            .bind(&$row.note.reason)
            .bind($row.note.before.to_string())
            .bind($row.note.after.to_string())
            .bind(&$row.idempotency_key)
    };
}

/// Writes action rows on a SQLite connection (inside the caller's transaction).
pub(crate) async fn write_sqlite(
    conn: &mut sqlx::SqliteConnection,
    rows: &[ActionRow],
) -> StoreResult<()> {
    for row in rows {
        bind_row!(row).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes action rows on a PostgreSQL connection (inside the caller's transaction).
pub(crate) async fn write_postgres(
    conn: &mut sqlx::PgConnection,
    rows: &[ActionRow],
) -> StoreResult<()> {
    for row in rows {
        bind_row!(row).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A connection of either backend inside the caller's own transaction, for
/// [`insert_action`].
pub enum Conn<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl<'c> From<&'c mut sqlx::SqliteConnection> for Conn<'c> {
    fn from(conn: &'c mut sqlx::SqliteConnection) -> Conn<'c> {
        Conn::Sqlite(conn)
    }
}

impl<'c> From<&'c mut sqlx::PgConnection> for Conn<'c> {
    fn from(conn: &'c mut sqlx::PgConnection) -> Conn<'c> {
        Conn::Postgres(conn)
    }
}

/// Records a plain action inside the caller's database transaction, so that it commits (or
/// not) with the rest of the caller's writes.
pub async fn insert_action(
    conn: Conn<'_>,
    note: ActionNote,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = [ActionRow {
        note,
        time: now.timestamp(),
        idempotency_key: None,
    }];
    match conn {
        Conn::Sqlite(conn) => write_sqlite(conn, &rows).await,
        Conn::Postgres(conn) => write_postgres(conn, &rows).await,
    }
}

type EntryRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
);

fn entry_from_row(row: EntryRow) -> StoreResult<ActionEntry> {
    let (id, time, actor_user_id, actor, action, member_id, account_id, reason, before, after, key) =
        row;
    let json = |text: &str| {
        serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("action {id}: not JSON: {e}")))
    };
    Ok(ActionEntry {
        id,
        time: DateTime::from_timestamp(time, 0)
            .ok_or_else(|| StoreError::Corrupt(format!("action {id}: time {time}")))?,
        actor_user_id,
        actor,
        action,
        member_id,
        account_id,
        reason,
        before: json(&before)?,
        after: json(&after)?,
        idempotency_key: key,
    })
}

impl Store {
    /// Records a plain (non-ledger) action now.
    pub async fn record_action(&self, note: ActionNote) -> StoreResult<()> {
        let now = Utc::now();
        let rows = [ActionRow {
            note,
            time: now.timestamp(),
            idempotency_key: None,
        }];
        crate::dispatch!(self.backend(), pool => {
            let mut conn = pool.acquire().await?;
            for row in &rows {
                bind_row!(row).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// One page of the log, newest first: at most `limit` entries (1 to
    /// [`ACTIONS_PAGE_SIZE_MAX`]) matching `filter`.
    pub async fn actions(
        &self,
        filter: &ActionFilter,
        limit: i64,
    ) -> StoreResult<Vec<ActionEntry>> {
        if !(1..=ACTIONS_PAGE_SIZE_MAX).contains(&limit) {
            return Err(StoreError::Invalid(format!(
                "an action page holds 1 to {ACTIONS_PAGE_SIZE_MAX} entries"
            )));
        }
        // Every condition is always present and switched off by a NULL parameter, so one
        // statement text serves every filter.
        let sql = "SELECT id, time, actor_user_id, actor, action, member_id, account_id, \
                   reason, before, after, idempotency_key FROM action_log \
                   WHERE ($1 IS NULL OR action = $1) \
                   AND ($2 IS NULL OR actor = $2) \
                   AND ($3 IS NULL OR member_id = $3) \
                   AND ($4 IS NULL OR time >= $4) \
                   AND ($5 IS NULL OR time < $5) \
                   AND ($6 IS NULL OR id < $6) \
                   ORDER BY id DESC LIMIT $7";
        let sql = match self.kind() {
            super::BackendKind::Sqlite => sql.to_owned(),
            // PostgreSQL must know the parameters' types when they are only compared to NULL.
            super::BackendKind::Postgres => sql
                .replace("$1 IS NULL", "$1::text IS NULL")
                .replace("$2 IS NULL", "$2::text IS NULL")
                .replace("$3 IS NULL", "$3::bigint IS NULL")
                .replace("$4 IS NULL", "$4::bigint IS NULL")
                .replace("$5 IS NULL", "$5::bigint IS NULL")
                .replace("$6 IS NULL", "$6::bigint IS NULL"),
        };
        let rows: Vec<EntryRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
                .bind(&filter.action)
                .bind(&filter.actor)
                .bind(filter.member_id)
                .bind(filter.from)
                .bind(filter.to)
                .bind(filter.before_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(entry_from_row).collect()
    }
}
