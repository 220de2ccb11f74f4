//! One batch of the write path, in ONE database transaction:
//!
//! 1. open it (SQLite `BEGIN IMMEDIATE` takes the write lock at once);
//! 2. read the network's system accounts and policy, the batch's idempotency records, and
//!    the holds and original transactions its operations name;
//! 3. lock the touched accounts (PostgreSQL: `SELECT ... FOR UPDATE` in sorted id order, so
//!    two processes never deadlock; then re-read the holds and reversals, which only change
//!    under those locks) and load them into a [`ledger::Snapshot`];
//! 4. decide every operation in order with [`ledger::decide`], applying each accepted effect
//!    to the snapshot so that later operations see earlier ones; rejections are recorded too
//!    (a failed key stays failed);
//! 5. write everything with multi-row statements and ONE update per touched account (the
//!    netting that makes a hot account cheap), and COMMIT.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use ledger::{
    accounts_touched, decide, replay, Account, AccountId, ChangeRecord, Command, Hold, HoldId,
    Operation, Outcome, PolicySchedule, Rejection, Snapshot, SystemAccounts, Transaction, TxId,
    View,
};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder, Sqlite, SqliteConnection};

use super::rows::{
    account_from_row, db_id, hold_from_row, id_list, in_id_list, micros, transaction_from_rows,
    AccountRow, HoldRow, PostingRow, TransactionRow, ACCOUNT_COLUMNS, HOLD_COLUMNS,
    TRANSACTION_COLUMNS,
};
use super::writer::Submission;
use super::{begin_write_sql, Backend, BackendKind, StoreError, StoreResult};

pub(crate) type Decision = Result<Outcome, Rejection>;

/// What a batch writes, once every operation is decided.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) results: Vec<Decision>,
    /// In decision order, which is also commit (`seq`) order.
    pub(crate) transactions: Vec<Transaction>,
    /// Audit: the payer's signature of each transaction, if any (parallel to `transactions`).
    pub(crate) signatures: Vec<Option<ledger::audit::PayerSignature>>,
    pub(crate) holds_new: Vec<Hold>,
    pub(crate) holds_changed: Vec<Hold>,
    /// Final state of every account the batch changed.
    pub(crate) accounts: Vec<Account>,
    pub(crate) keys: Vec<KeyRow>,
    pub(crate) changes: Vec<ChangeRecord>,
    /// Action-log records of accepted noted operations.
    pub(crate) actions: Vec<super::action_log::ActionRow>,
    /// API receipts of the operations decided here (the first per user and key).
    pub(crate) receipts: Vec<super::receipts::ReceiptRow>,
    /// Who entered the accepted transactions that name an author.
    pub(crate) authors: Vec<super::authors::AuthorRow>,
}

#[derive(Debug)]
pub(crate) struct KeyRow {
    pub(crate) key: String,
    pub(crate) fingerprint: String,
    pub(crate) result: String,
    pub(crate) time: DateTime<Utc>,
}

/// Everything the decisions need, loaded under the batch's locks.
pub(crate) struct Loaded {
    pub(crate) system: SystemAccounts,
    /// The policy versions in force over the batch's operation times (migration 0013).
    pub(crate) policies: PolicySchedule,
    /// Idempotency records already committed: key → (fingerprint, result).
    pub(crate) stored: HashMap<String, (String, Decision)>,
    pub(crate) snapshot: Snapshot,
    /// Holds that exist in the database (updated, not inserted, when they change).
    pub(crate) existing_holds: HashSet<HoldId>,
    pub(crate) tx_ids: Vec<TxId>,
    pub(crate) hold_ids: Vec<HoldId>,
}

/// Whether an accepted `op` posts a transaction (and so needs a transaction id).
pub(crate) fn posts(op: &Operation) -> bool {
    op.posts_transaction()
}

fn assigns_hold_id(op: &Operation) -> bool {
    matches!(op, Operation::PlaceHold { hold, .. } if hold.0 == 0)
}

/// Decides every submission in order against `loaded`, which it updates.
pub(crate) fn decide_batch(
    submissions: &[&Submission],
    loaded: &mut Loaded,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan::default();
    let mut tx_ids = loaded.tx_ids.iter().copied();
    let mut hold_ids = loaded.hold_ids.iter().copied();
    let mut changed_accounts = BTreeSet::new();
    let mut holds: BTreeMap<HoldId, Hold> = BTreeMap::new();
    let mut receipted: HashSet<(i64, &str)> = HashSet::new();
    for submission in submissions {
        let key = submission.key().as_str();
        let fingerprint = submission.op().fingerprint();
        if let Some((stored_fingerprint, original)) = loaded.stored.get(key) {
            plan.results
                .push(replay(*stored_fingerprint == fingerprint, original));
            continue;
        }
        let mut op = submission.op().clone();
        if let Operation::PlaceHold { hold, .. } = &mut op {
            if hold.0 == 0 {
                *hold = hold_ids.next().expect("a hold id was allocated per hold");
            }
        }
        let tx_id = if posts(&op) {
            tx_ids
                .next()
                .expect("a transaction id was allocated per operation")
        } else {
            TxId(0)
        };
        let time = submission.time().map(micros).unwrap_or(now);
        let command = Command {
            key: submission.key().clone(),
            tx_id,
            time,
            op,
        };
        let noted_before = submission
            .note()
            .and_then(|note| note.account_id())
            .and_then(|id| loaded.snapshot.account(AccountId(id.max(0) as u64)))
            .map(account_state);
        // The fees of the version in force at the operation's time: never retroactive.
        let policy = super::policies::policy_for(&loaded.policies, time);
        let result = match decide(&loaded.snapshot, &loaded.system, &policy, &command) {
            Ok(effect) => {
                loaded.snapshot.apply(&effect);
                if let Some(note) = submission.note() {
                    plan.actions.push(noted_action(
                        note,
                        noted_before,
                        &loaded.snapshot,
                        &effect,
                        &command,
                    ));
                }
                changed_accounts.extend(effect.accounts.iter().map(Account::id));
                if let Some(hold) = effect.hold {
                    holds.insert(hold.id, hold);
                }
                if let Some(tx) = effect.transaction {
                    if let Some(author) = submission.author() {
                        plan.authors.push(super::authors::AuthorRow {
                            tx: tx.id(),
                            author: author.clone(),
                        });
                    }
                    plan.transactions.push(tx);
                    plan.signatures.push(submission.signature().cloned());
                }
                if let Some(change) = effect.change {
                    plan.changes.push(change);
                }
                Ok(effect.outcome)
            }
            Err(rejection) => Err(rejection),
        };
        // The API's answer, rendered with the account's state right after the operation.
        if let Some(receipt) = submission.receipt() {
            if receipted.insert((receipt.user_id(), receipt.key())) {
                let account = loaded.snapshot.account(receipt.account());
                plan.receipts
                    .extend(receipt.row(&result, account, now.timestamp()));
            }
        }
        plan.keys.push(KeyRow {
            key: key.to_owned(),
            fingerprint: fingerprint.clone(),
            result: serde_json::to_string(&result).expect("results serialise"),
            time: now,
        });
        loaded
            .stored
            .insert(key.to_owned(), (fingerprint, result.clone()));
        plan.results.push(result);
    }
    plan.accounts = changed_accounts
        .into_iter()
        .map(|id| {
            loaded
                .snapshot
                .account(id)
                .expect("a changed account is in the snapshot")
                .clone()
        })
        .collect();
    for (id, hold) in holds {
        if loaded.existing_holds.contains(&id) {
            plan.holds_changed.push(hold);
        } else {
            plan.holds_new.push(hold);
        }
    }
    plan
}

/// An account's state as the action log records it (amounts in minor units).
fn account_state(account: &Account) -> serde_json::Value {
    serde_json::json!({
        "status": account.status().as_str(),
        "balance": account.balance().minor(),
        "pending": account.pending().minor(),
        "credit_limit": account.credit_limit().minor(),
        "max_balance": account.max_balance().map(|a| a.minor()),
    })
}

/// The action-log row of an accepted noted operation: the account's state before and after,
/// the outcome, and whatever detail the caller gave.
fn noted_action(
    note: &super::action_log::ActionNote,
    before: Option<serde_json::Value>,
    snapshot: &Snapshot,
    effect: &ledger::Effect,
    command: &Command,
) -> super::action_log::ActionRow {
    let after = note
        .account_id()
        .and_then(|id| snapshot.account(AccountId(id.max(0) as u64)))
        .map(account_state);
    let (detail_before, detail_after) = note.detail();
    let mut note = note.clone();
    let before = serde_json::json!({ "account": before, "detail": detail_before });
    let after = serde_json::json!({
        "account": after,
        "outcome": serde_json::to_value(&effect.outcome).expect("an outcome serialises"),
        "detail": detail_after,
    });
    note = note.states(before, after);
    super::action_log::ActionRow {
        note,
        time: command.time.timestamp(),
        idempotency_key: Some(command.key.as_str().to_owned()),
    }
}

/// One row per policy version in force over `[$1, $2]` (see `policies::COVERING_SQL`), each
/// with the system accounts and the latest period lock, if any.
const BATCH_CONTEXT_SQL: &str = concat!(
    "SELECT p.version, p.policy, p.effective_from, \
     s.fund_account, s.fees_account, s.losses_account, s.migration_account, \
     l.through, l.ends_at \
     FROM ledger_settings s JOIN policies p ON ",
    super::policies::covering_versions!(),
    " LEFT JOIN (SELECT through, ends_at FROM period_locks ORDER BY through DESC LIMIT 1) l \
     ON TRUE \
     WHERE s.id = 1 \
     ORDER BY p.version LIMIT $3"
);

type BatchContextRow = (
    i64,
    String,
    Option<DateTime<Utc>>,
    i64,
    i64,
    i64,
    i64,
    Option<chrono::NaiveDate>,
    Option<DateTime<Utc>>,
);

/// The system accounts, the policy schedule and the period lock in force, from the rows of
/// [`BATCH_CONTEXT_SQL`] (none: no network yet).
#[allow(clippy::type_complexity)]
fn batch_context(
    rows: Vec<BatchContextRow>,
) -> StoreResult<(SystemAccounts, PolicySchedule, Option<ledger::LockedPeriod>)> {
    let first = rows.first().ok_or(StoreError::NoNetwork)?;
    let account = super::rows::account_id;
    let system = SystemAccounts {
        fund: account(first.3)?,
        fees: account(first.4)?,
        losses: account(first.5)?,
        migration: account(first.6)?,
    };
    let locked = match first.7 {
        Some(through) => Some(super::export::lock_in_force(through, first.8)?),
        None => None,
    };
    let policies = super::policies::covering_schedule(
        rows.into_iter().map(|row| (row.0, row.1, row.2)).collect(),
    )?;
    Ok((system, policies, locked))
}

fn in_text_list(kind: BackendKind, column: &str, param: u32) -> String {
    match kind {
        BackendKind::Sqlite => format!("{column} IN (SELECT value FROM json_each(${param}))"),
        BackendKind::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${param}::jsonb)))")
        }
    }
}

/// Runs the same body on whichever connection the writer holds.
macro_rules! on_writer {
    ($writer:expr, $conn:ident => $body:expr) => {
        match $writer {
            WriterConn::Sqlite($conn) => $body,
            WriterConn::Postgres($conn) => $body,
        }
    };
}

/// Loads holds and original transactions (with their reversals) into `snapshot`.
macro_rules! load_refs {
    ($conn:expr, $kind:expr, $hold_ids:expr, $tx_ids:expr, $snapshot:expr, $existing:expr) => {{
        if !$hold_ids.is_empty() {
            let sql = format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE {}",
                in_id_list($kind, "id", 1)
            );
            let rows: Vec<HoldRow> = sqlx::query_as(&sql)
                .bind(id_list($hold_ids.iter().map(|h: &HoldId| h.0)))
                .fetch_all(&mut *$conn)
                .await?;
            for row in rows {
                let hold = hold_from_row(row)?;
                $existing.insert(hold.id);
                $snapshot.insert_hold(hold);
            }
        }
        if !$tx_ids.is_empty() {
            let list = id_list($tx_ids.iter().map(|t: &TxId| t.0));
            let sql = format!(
                "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE {}",
                in_id_list($kind, "id", 1)
            );
            let rows: Vec<TransactionRow> = sqlx::query_as(&sql)
                .bind(&list)
                .fetch_all(&mut *$conn)
                .await?;
            let sql = format!(
                "SELECT tx_id, account_id, amount, leg FROM postings WHERE {} ORDER BY tx_id, n",
                in_id_list($kind, "tx_id", 1)
            );
            let postings: Vec<PostingRow> = sqlx::query_as(&sql)
                .bind(&list)
                .fetch_all(&mut *$conn)
                .await?;
            let sql = format!(
                "SELECT reverses, id FROM transactions WHERE {}",
                in_id_list($kind, "reverses", 1)
            );
            let reversals: Vec<(i64, i64)> = sqlx::query_as(&sql)
                .bind(&list)
                .fetch_all(&mut *$conn)
                .await?;
            let reversed_by: HashMap<i64, i64> = reversals.into_iter().collect();
            for row in rows {
                let id = row.0;
                let own: Vec<PostingRow> =
                    postings.iter().filter(|p| p.0 == id).cloned().collect();
                let tx = transaction_from_rows(row, own)?;
                let by = reversed_by
                    .get(&id)
                    .map(|b| super::rows::unsigned(*b).map(TxId))
                    .transpose()?;
                $snapshot.insert_transaction(tx, by);
            }
        }
    }};
}

/// The statement that opens a batch. On PostgreSQL every statement of a batch is a lookup by
/// key or id, and sqlx prepares them once per connection: PostgreSQL then keeps a generic
/// plan, made with the statistics of the moment. A plan made while a table was still empty
/// (a new network) is a sequential scan, which stays until autovacuum's next ANALYZE and
/// grows with the table (measured: 0.1 ms became 250-350 ms for 1,024 keys among 100,000).
/// Turning sequential scans off for the batch's transaction makes every plan an index
/// probe whatever the statistics say.
fn begin_batch_sql(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => begin_write_sql(kind),
        BackendKind::Postgres => "BEGIN; SET LOCAL enable_seqscan = off",
    }
}

/// The writer's own connection, kept across batches so that its page cache (SQLite) and
/// prepared statements stay warm.
pub(crate) enum WriterConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl WriterConn {
    pub(crate) async fn acquire(backend: &Backend) -> StoreResult<WriterConn> {
        Ok(match backend {
            Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                // The background WAL checkpointer (`writer::wal_checkpointer`) keeps the WAL short;
                // the writer checkpoints itself only if the WAL grows far past its usual
                // size, so that its commits do not wait for the copy into the database.
                sqlx::query(&format!(
                    "PRAGMA wal_autocheckpoint = {}",
                    super::SQLITE_WAL_WRITER_CHECKPOINT_PAGES
                ))
                .execute(&mut *conn)
                .await?;
                // Statement journals in memory: every multi-row statement of a batch may
                // abort (constraints, the append-only triggers), so SQLite copies each page
                // it changes into a statement journal, which spills to a temporary file past
                // 64 KiB: a write system call per page, for a journal never read unless a
                // statement fails. The journal needs no durability (the batch's own
                // transaction is what COMMIT makes durable). Only the writer's connection:
                // readers' large sorts keep spilling to disk (docs/performance.md, "Eleventh
                // HTTP run").
                sqlx::query("PRAGMA temp_store = MEMORY")
                    .execute(&mut *conn)
                    .await?;
                // A page cache of its own size: the writer's connection stays warm across
                // batches, where a reader's is emptied by every commit.
                sqlx::query(&format!(
                    "PRAGMA cache_size = -{}",
                    super::SQLITE_WRITER_CACHE_KIB
                ))
                .execute(&mut *conn)
                .await?;
                WriterConn::Sqlite(conn)
            }
            Backend::Postgres(pool) => WriterConn::Postgres(pool.acquire().await?),
        })
    }

    fn kind(&self) -> BackendKind {
        match self {
            WriterConn::Sqlite(_) => BackendKind::Sqlite,
            WriterConn::Postgres(_) => BackendKind::Postgres,
        }
    }
}

/// When a batch commits: always (the write path: rejections are decisions like any other),
/// or only if every operation is accepted (`Store::submit_all_or_none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    Always,
    IfAllAccepted,
}

/// Runs one attempt of a batch. An `Err` means nothing was committed.
pub(crate) async fn execute(
    writer: &mut WriterConn,
    submissions: &[&Submission],
) -> StoreResult<Vec<Decision>> {
    execute_with(writer, submissions, Commit::Always).await
}

/// Like [`execute`]; with [`Commit::IfAllAccepted`], a batch in which any operation is
/// rejected is rolled back whole (no idempotency record either: the keys stay unused) and
/// its decisions are returned.
pub(crate) async fn execute_with(
    writer: &mut WriterConn,
    submissions: &[&Submission],
    commit: Commit,
) -> StoreResult<Vec<Decision>> {
    let kind = writer.kind();
    let now = micros(Utc::now());
    let keys: Vec<&str> = submissions.iter().map(|s| s.key().as_str()).collect();
    let keys_json = serde_json::to_string(&keys).expect("keys serialise");
    let hold_refs: Vec<HoldId> = submissions
        .iter()
        .filter_map(|s| s.op().hold_id())
        .filter(|h| h.0 != 0)
        .collect();
    let tx_refs: Vec<TxId> = submissions
        .iter()
        .filter_map(|s| s.op().transaction_id())
        .collect();
    // The span of the operations' times, for the policy versions that cover them.
    let times = submissions
        .iter()
        .map(|s| s.time().map(micros).unwrap_or(now));
    let first_time = times.clone().min().unwrap_or(now);
    let last_time = times.max().unwrap_or(now);
    on_writer!(writer, connection => {
        let started = std::time::Instant::now();
        let mut tx = (**connection).begin_with(begin_batch_sql(kind)).await?;
        let conn = &mut *tx;
        let begun = started.elapsed();

        // The network's system accounts, the policy versions over the batch's times and the
        // period lock, in ONE statement (one row per version): each statement is a round
        // trip, and this is every batch's first read.
        let rows: Vec<BatchContextRow> = sqlx::query_as(BATCH_CONTEXT_SQL)
            .bind(first_time)
            .bind(last_time)
            .bind(ledger::POLICY_VERSIONS_MAX as i64)
            .fetch_all(&mut *conn)
            .await?;
        let (system, policies, locked) = batch_context(rows)?;
        let sql = format!(
            "SELECT key, fingerprint, result FROM idempotency WHERE {}",
            in_text_list(kind, "key", 1)
        );
        let records: Vec<(String, String, String)> =
            sqlx::query_as(&sql).bind(&keys_json).fetch_all(&mut *conn).await?;
        let mut stored = HashMap::with_capacity(records.len());
        for (key, fingerprint, result) in records {
            let result: Decision = serde_json::from_str(&result)
                .map_err(|e| StoreError::Corrupt(format!("idempotency record {key}: {e}")))?;
            stored.insert(key, (fingerprint, result));
        }

        // Which accounts: from the operations and the holds/transactions they name.
        let mut refs = Snapshot::default();
        let mut existing_holds = HashSet::new();
        load_refs!(conn, kind, hold_refs, tx_refs, refs, existing_holds);
        let mut touched = BTreeSet::new();
        let mut seen = HashSet::new();
        let (mut tx_needed, mut holds_needed) = (0i64, 0i64);
        for submission in submissions {
            let key = submission.key().as_str();
            if stored.contains_key(key) || !seen.insert(key) {
                continue;
            }
            let op = submission.op();
            let hold = op.hold_id().and_then(|h| refs.hold(h));
            let original = op.transaction_id().and_then(|t| refs.transaction(t));
            touched.extend(accounts_touched(op, &system, hold, original));
            tx_needed += i64::from(posts(op));
            holds_needed += i64::from(assigns_hold_id(op));
        }

        let mut snapshot = Snapshot::default();
        // The period lock, read above inside this transaction: the ledger refuses what would
        // be dated inside it (`Rejection::PeriodLocked`). On SQLite `lock_period` also runs
        // under the write lock, so this is exact; on PostgreSQL a lock committed after this
        // read is still enforced by the `transactions_not_in_locked_period` trigger.
        snapshot.set_locked_period(locked);
        if !touched.is_empty() {
            let ids = id_list(touched.iter().map(|a: &AccountId| a.0));
            let rows: Vec<AccountRow> = match kind {
                // Locked in id order: two processes never deadlock.
                BackendKind::Postgres => {
                    let sql = format!(
                        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {} ORDER BY id FOR UPDATE",
                        in_id_list(kind, "id", 1)
                    );
                    sqlx::query_as(&sql).bind(ids).fetch_all(&mut *conn).await?
                }
                // One JSON row for the batch's hundreds of accounts (one thread hand-off).
                BackendKind::Sqlite => {
                    let json: String = sqlx::query_scalar(&super::rows::sqlite_accounts_json_sql())
                        .bind(ids)
                        .fetch_one(&mut *conn)
                        .await?;
                    super::rows::account_rows_from_json(&json)?
                }
            };
            for row in rows {
                snapshot.insert_account(account_from_row(row)?);
            }
        }
        match kind {
            // Under the account locks, holds and reversals are current: read them again.
            BackendKind::Postgres => {
                existing_holds.clear();
                load_refs!(conn, kind, hold_refs, tx_refs, snapshot, existing_holds);
            }
            // BEGIN IMMEDIATE: nothing changed since the first read.
            BackendKind::Sqlite => {
                for hold in refs.holds() {
                    snapshot.insert_hold(hold.clone());
                }
                for id in &tx_refs {
                    if let Some(original) = refs.transaction(*id) {
                        snapshot.insert_transaction(original.clone(), refs.reversed_by(*id));
                    }
                }
            }
        }

        let tx_ids = conn.allocate(IdKind::Transaction, tx_needed).await?;
        let hold_ids = conn.allocate(IdKind::Hold, holds_needed).await?;
        let mut loaded = Loaded {
            system,
            policies,
            stored,
            snapshot,
            existing_holds,
            tx_ids: tx_ids.into_iter().map(TxId).collect(),
            hold_ids: hold_ids.into_iter().map(HoldId).collect(),
        };
        let loaded_at = started.elapsed();
        let mut plan = decide_batch(submissions, &mut loaded, now);
        let decided_at = started.elapsed();
        if commit == Commit::IfAllAccepted && plan.results.iter().any(Result::is_err) {
            tx.rollback().await?;
            return Ok(plan.results);
        }

        // The commit order: this row stays locked until COMMIT, and with it the chain's head
        // (audit: the hash chain adds no lock of its own).
        let (first_seq, hashes) = if plan.transactions.is_empty() {
            (0, Vec::new())
        } else {
            let (last, head): (i64, String) = sqlx::query_as(
                "UPDATE ledger_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
            )
            .bind(plan.transactions.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
            let first = last - plan.transactions.len() as i64 + 1;
            // Audit: link each transaction to the previous one.
            let hashes = super::chain::link(first, &head, &plan.transactions, &plan.signatures)?;
            (first, hashes)
        };
        conn.write_ledger(LedgerRows {
            transactions: &plan.transactions,
            first_seq,
            hashes: &hashes,
            accounts: &plan.accounts,
            keys: &plan.keys,
        })
        .await?;
        super::chain::WriteSignatures::write_signatures(
            &mut *conn,
            &plan.transactions,
            &plan.signatures,
        )
        .await?;
        for hold in &plan.holds_new {
            sqlx::query(
                "INSERT INTO holds (id, payer, payee, amount, reserved, created_at, expires_at, \
                 status, reference, memo, capture_tx) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(db_id(hold.id.0))
            .bind(db_id(hold.payer.0))
            .bind(db_id(hold.payee.0))
            .bind(hold.amount.minor())
            .bind(hold.reserved.minor())
            .bind(hold.created_at)
            // PostgreSQL keeps microseconds; SQLite keeps the same, so that both backends
            // store one value and a move between them loses nothing.
            .bind(micros(hold.expires_at))
            .bind(hold.status.as_str())
            .bind(&hold.reference)
            .bind(&hold.memo)
            .bind(hold.capture.map(|t| db_id(t.0)))
            .execute(&mut *conn)
            .await?;
        }
        for hold in &plan.holds_changed {
            sqlx::query("UPDATE holds SET status = $2, capture_tx = $3 WHERE id = $1")
                .bind(db_id(hold.id.0))
                .bind(hold.status.as_str())
                .bind(hold.capture.map(|t| db_id(t.0)))
                .execute(&mut *conn)
                .await?;
        }
        for change in &plan.changes {
            match change {
                ChangeRecord::Limits(c) => {
                    sqlx::query(
                        "INSERT INTO limit_changes (account_id, time, actor, reason, \
                         credit_limit_before, credit_limit_after, max_balance_before, \
                         max_balance_after, below_current_debt, above_new_max) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(db_id(c.account.0))
                    .bind(c.time)
                    .bind(&c.actor)
                    .bind(&c.reason)
                    .bind(c.credit_limit_before.minor())
                    .bind(c.credit_limit_after.minor())
                    .bind(c.max_balance_before.map(|a| a.minor()))
                    .bind(c.max_balance_after.map(|a| a.minor()))
                    .bind(c.below_current_debt)
                    .bind(c.above_new_max)
                    .execute(&mut *conn)
                    .await?;
                }
                ChangeRecord::Status(c) => {
                    sqlx::query(
                        "INSERT INTO status_changes (account_id, time, actor, reason, \
                         status_before, status_after) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(db_id(c.account.0))
                    .bind(c.time)
                    .bind(&c.actor)
                    .bind(&c.reason)
                    .bind(c.before.as_str())
                    .bind(c.after.as_str())
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        if !plan.actions.is_empty() {
            conn.write_actions(&plan.actions).await?;
        }
        if !plan.authors.is_empty() {
            conn.write_authors(&plan.authors).await?;
        }
        let receipts_all_stored =
            plan.receipts.is_empty() || conn.write_receipts(&plan.receipts).await?;
        let written_at = started.elapsed();
        tx.commit().await?;
        // Committed: hand each stored answer to its caller (see `receipts`). If some receipt
        // met a stored key, which ones is not known here: the callers read theirs back.
        if receipts_all_stored {
            for row in std::mem::take(&mut plan.receipts) {
                row.slot.fill(row.status as u16, row.response);
            }
        }
        tracing::debug!(
            operations = submissions.len(),
            begin_us = begun.as_micros() as u64,
            load_us = (loaded_at - begun).as_micros() as u64,
            decide_us = (decided_at - loaded_at).as_micros() as u64,
            write_us = (written_at - decided_at).as_micros() as u64,
            commit_us = (started.elapsed() - written_at).as_micros() as u64,
            "batch committed"
        );
        Ok(plan.results)
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum IdKind {
    Transaction,
    Hold,
}

/// Takes `count` fresh ids: a block from a PostgreSQL sequence (shared by every process),
/// or from SQLite's counter row under the write lock.
pub(crate) trait AllocateIds {
    async fn allocate(&mut self, kind: IdKind, count: i64) -> StoreResult<Vec<u64>>;
}

impl AllocateIds for SqliteConnection {
    async fn allocate(&mut self, kind: IdKind, count: i64) -> StoreResult<Vec<u64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let name = match kind {
            IdKind::Transaction => "tx",
            IdKind::Hold => "hold",
        };
        let last: i64 = sqlx::query_scalar(
            "UPDATE id_counters SET value = value + $1 WHERE name = $2 RETURNING value",
        )
        .bind(count)
        .bind(name)
        .fetch_one(&mut *self)
        .await?;
        (last - count + 1..=last)
            .map(super::rows::unsigned)
            .collect()
    }
}

impl AllocateIds for PgConnection {
    async fn allocate(&mut self, kind: IdKind, count: i64) -> StoreResult<Vec<u64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let sql = match kind {
            IdKind::Transaction => "SELECT nextval('tx_id_seq') FROM generate_series(1, $1)",
            IdKind::Hold => "SELECT nextval('hold_id_seq') FROM generate_series(1, $1)",
        };
        let ids: Vec<i64> = sqlx::query_scalar(sql)
            .bind(count)
            .fetch_all(&mut *self)
            .await?;
        ids.into_iter().map(super::rows::unsigned).collect()
    }
}

/// A batch's ledger rows, written together by [`WriteBatch::write_ledger`].
pub(crate) struct LedgerRows<'a> {
    /// In commit order, numbered from `first_seq`, each with its chain hash (the last one is
    /// the chain's new head). Empty: no transaction, and the head is left alone.
    pub(crate) transactions: &'a [Transaction],
    pub(crate) first_seq: i64,
    pub(crate) hashes: &'a [String],
    /// The final state of every account the batch changed.
    pub(crate) accounts: &'a [Account],
    pub(crate) keys: &'a [KeyRow],
}

/// The bulk writes, in each backend's best form: multi-row `VALUES` on SQLite, `UNNEST` of
/// arrays on PostgreSQL (one statement text whatever the batch size).
pub(crate) trait WriteBatch {
    /// Transactions, postings, the chain's head, the accounts' new state and the
    /// idempotency records.
    async fn write_ledger(&mut self, rows: LedgerRows<'_>) -> StoreResult<()>;
    async fn write_actions(&mut self, rows: &[super::action_log::ActionRow]) -> StoreResult<()>;
    /// `true` when every receipt went in (none met a stored key).
    async fn write_receipts(&mut self, rows: &[super::receipts::ReceiptRow]) -> StoreResult<bool>;

    async fn write_authors(&mut self, rows: &[super::authors::AuthorRow]) -> StoreResult<()>;
}

/// Rows per multi-row statement on SQLite (well under its 32,766 bound parameters).
const SQLITE_ROWS_PER_STATEMENT: usize = 500;

impl WriteBatch for SqliteConnection {
    /// One multi-row statement per table and chunk: each statement is a round trip to the
    /// connection's thread, each row of a statement is not.
    async fn write_ledger(&mut self, rows: LedgerRows<'_>) -> StoreResult<()> {
        if let Some(head) = rows.hashes.last() {
            sqlite_write_transactions(self, rows.transactions, rows.first_seq, rows.hashes).await?;
            sqlx::query("UPDATE ledger_head SET hash = $1 WHERE id = 1")
                .bind(head)
                .execute(&mut *self)
                .await?;
        }
        sqlite_write_accounts(self, rows.accounts).await?;
        sqlite_write_keys(self, rows.keys).await
    }

    async fn write_actions(&mut self, rows: &[super::action_log::ActionRow]) -> StoreResult<()> {
        super::action_log::write_sqlite(self, rows).await
    }

    async fn write_receipts(&mut self, rows: &[super::receipts::ReceiptRow]) -> StoreResult<bool> {
        super::receipts::write_sqlite(self, rows).await
    }

    async fn write_authors(&mut self, rows: &[super::authors::AuthorRow]) -> StoreResult<()> {
        super::authors::write_sqlite(self, rows).await
    }
}

/// Postings first, then the transaction rows that seal them (see the 0002 migration).
async fn sqlite_write_transactions(
    conn: &mut SqliteConnection,
    txs: &[Transaction],
    first_seq: i64,
    hashes: &[String],
) -> StoreResult<()> {
    let postings: Vec<(&Transaction, usize)> = txs
        .iter()
        .flat_map(|tx| (0..tx.postings().len()).map(move |n| (tx, n)))
        .collect();
    for chunk in postings.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut query =
            QueryBuilder::new("INSERT INTO postings (tx_id, n, account_id, amount, leg, time) ");
        query.push_values(chunk, |mut row, (tx, n)| {
            let posting = &tx.postings()[*n];
            row.push_bind(db_id(tx.id().0))
                .push_bind(*n as i64)
                .push_bind(db_id(posting.account.0))
                .push_bind(posting.amount.minor())
                .push_bind(posting.leg.as_str())
                .push_bind(tx.time());
        });
        query.build().execute(&mut *conn).await?;
    }
    let numbered: Vec<(i64, &Transaction, &String)> = txs
        .iter()
        .zip(hashes)
        .enumerate()
        .map(|(i, (tx, hash))| (first_seq + i as i64, tx, hash))
        .collect();
    for chunk in numbered.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::new(
            "INSERT INTO transactions (id, seq, kind, time, reference, memo, \
             idempotency_key, reverses, posting_count, hash) ",
        );
        query.push_values(chunk, |mut row, (seq, tx, hash)| {
            row.push_bind(db_id(tx.id().0))
                .push_bind(*seq)
                .push_bind(tx.kind().as_str())
                .push_bind(tx.time())
                .push_bind(tx.reference().to_owned())
                .push_bind(tx.memo().to_owned())
                .push_bind(tx.idempotency_key().map(|k| k.as_str().to_owned()))
                .push_bind(tx.reverses().map(|r| db_id(r.0)))
                .push_bind(tx.postings().len() as i64)
                .push_bind((*hash).clone());
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn sqlite_write_accounts(
    conn: &mut SqliteConnection,
    accounts: &[Account],
) -> StoreResult<()> {
    for chunk in accounts.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::new(
            "UPDATE accounts SET status = v.column2, balance = v.column3, \
             pending = v.column4, credit_limit = v.column5, max_balance = v.column6, \
             negative_since = v.column7 FROM (",
        );
        query.push_values(chunk, |mut row, account| {
            row.push_bind(db_id(account.id().0))
                .push_bind(account.status().as_str())
                .push_bind(account.balance().minor())
                .push_bind(account.pending().minor())
                .push_bind(account.credit_limit().minor())
                .push_bind(account.max_balance().map(|a| a.minor()))
                .push_bind(account.negative_since());
        });
        query.push(") AS v WHERE accounts.id = v.column1");
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn sqlite_write_keys(conn: &mut SqliteConnection, keys: &[KeyRow]) -> StoreResult<()> {
    for chunk in keys.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut query =
            QueryBuilder::new("INSERT INTO idempotency (key, fingerprint, result, time) ");
        query.push_values(chunk, |mut row, key| {
            row.push_bind(key.key.clone())
                .push_bind(key.fingerprint.clone())
                .push_bind(key.result.clone())
                .push_bind(key.time);
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The PostgreSQL write of a batch's ledger rows: ONE statement of data-modifying CTEs, so
/// one round trip whatever the batch holds. Transaction rows before postings is not needed
/// inside one statement: the postings' check (`postings_belong`, migration 0017) runs at the
/// statement's end, and the balance check at COMMIT. Arrays may be empty (no transaction,
/// no account changed); the head is moved only with transactions (`$18` NULL otherwise).
const PG_WRITE_LEDGER_SQL: &str = "\
    WITH t AS (\
        INSERT INTO transactions (id, seq, kind, time, reference, memo, idempotency_key, \
        reverses, posting_count, hash) \
        SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::timestamptz[], \
        $5::text[], $6::text[], $7::text[], $8::int8[], $9::int2[], $10::text[])), \
    p AS (\
        INSERT INTO postings (tx_id, n, posting_count, account_id, amount, leg, time) \
        SELECT * FROM UNNEST($11::int8[], $12::int2[], $13::int2[], $14::int8[], \
        $15::int8[], $16::text[], $17::timestamptz[])), \
    h AS (\
        UPDATE ledger_head SET hash = $18::text WHERE id = 1 AND $18::text IS NOT NULL), \
    a AS (\
        UPDATE accounts AS a SET status = v.status, balance = v.balance, \
        pending = v.pending, credit_limit = v.credit_limit, max_balance = v.max_balance, \
        negative_since = v.negative_since \
        FROM UNNEST($19::int8[], $20::text[], $21::int8[], $22::int8[], $23::int8[], \
        $24::int8[], $25::timestamptz[]) \
        AS v(id, status, balance, pending, credit_limit, max_balance, negative_since) \
        WHERE a.id = v.id) \
    INSERT INTO idempotency (key, fingerprint, result, time) \
    SELECT * FROM UNNEST($26::text[], $27::text[], $28::text[], $29::timestamptz[])";

impl WriteBatch for PgConnection {
    async fn write_ledger(&mut self, rows: LedgerRows<'_>) -> StoreResult<()> {
        let txs = rows.transactions;
        let mut ids = Vec::with_capacity(txs.len());
        let mut seqs = Vec::with_capacity(txs.len());
        let mut kinds = Vec::with_capacity(txs.len());
        let mut times = Vec::with_capacity(txs.len());
        let mut references = Vec::with_capacity(txs.len());
        let mut memos = Vec::with_capacity(txs.len());
        let mut tx_keys = Vec::with_capacity(txs.len());
        let mut reverses = Vec::with_capacity(txs.len());
        let mut counts = Vec::with_capacity(txs.len());
        let postings_len: usize = txs.iter().map(|t| t.postings().len()).sum();
        let mut p_tx = Vec::with_capacity(postings_len);
        let mut p_n = Vec::with_capacity(postings_len);
        let mut p_count = Vec::with_capacity(postings_len);
        let mut p_account = Vec::with_capacity(postings_len);
        let mut p_amount = Vec::with_capacity(postings_len);
        let mut p_leg = Vec::with_capacity(postings_len);
        let mut p_time = Vec::with_capacity(postings_len);
        for (i, tx) in txs.iter().enumerate() {
            ids.push(db_id(tx.id().0));
            seqs.push(rows.first_seq + i as i64);
            kinds.push(tx.kind().as_str());
            times.push(tx.time());
            references.push(tx.reference());
            memos.push(tx.memo());
            tx_keys.push(tx.idempotency_key().map(|k| k.as_str()));
            reverses.push(tx.reverses().map(|r| db_id(r.0)));
            let count = tx.postings().len() as i16;
            counts.push(count);
            for (n, posting) in tx.postings().iter().enumerate() {
                p_tx.push(db_id(tx.id().0));
                p_n.push(n as i16);
                p_count.push(count);
                p_account.push(db_id(posting.account.0));
                p_amount.push(posting.amount.minor());
                p_leg.push(posting.leg.as_str());
                p_time.push(tx.time());
            }
        }
        let accounts = rows.accounts;
        let a_ids: Vec<i64> = accounts.iter().map(|a| db_id(a.id().0)).collect();
        let statuses: Vec<&str> = accounts.iter().map(|a| a.status().as_str()).collect();
        let balances: Vec<i64> = accounts.iter().map(|a| a.balance().minor()).collect();
        let pendings: Vec<i64> = accounts.iter().map(|a| a.pending().minor()).collect();
        let limits: Vec<i64> = accounts.iter().map(|a| a.credit_limit().minor()).collect();
        let maxes: Vec<Option<i64>> = accounts
            .iter()
            .map(|a| a.max_balance().map(|m| m.minor()))
            .collect();
        let since: Vec<Option<DateTime<Utc>>> =
            accounts.iter().map(|a| a.negative_since()).collect();
        let keys = rows.keys;
        let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        let fingerprints: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
        let results: Vec<&str> = keys.iter().map(|k| k.result.as_str()).collect();
        let key_times: Vec<DateTime<Utc>> = keys.iter().map(|k| k.time).collect();
        sqlx::query(PG_WRITE_LEDGER_SQL)
            .bind(ids)
            .bind(seqs)
            .bind(kinds)
            .bind(times)
            .bind(references)
            .bind(memos)
            .bind(tx_keys)
            .bind(reverses)
            .bind(counts)
            .bind(rows.hashes)
            .bind(p_tx)
            .bind(p_n)
            .bind(p_count)
            .bind(p_account)
            .bind(p_amount)
            .bind(p_leg)
            .bind(p_time)
            .bind(rows.hashes.last())
            .bind(a_ids)
            .bind(statuses)
            .bind(balances)
            .bind(pendings)
            .bind(limits)
            .bind(maxes)
            .bind(since)
            .bind(names)
            .bind(fingerprints)
            .bind(results)
            .bind(key_times)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn write_actions(&mut self, rows: &[super::action_log::ActionRow]) -> StoreResult<()> {
        super::action_log::write_postgres(self, rows).await
    }

    async fn write_receipts(&mut self, rows: &[super::receipts::ReceiptRow]) -> StoreResult<bool> {
        super::receipts::write_postgres(self, rows).await
    }

    async fn write_authors(&mut self, rows: &[super::authors::AuthorRow]) -> StoreResult<()> {
        super::authors::write_postgres(self, rows).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_writer_has_its_own_cache_and_keeps_statement_journals_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("troc.db").display());
        let store = super::super::Store::connect(&url).await.unwrap();
        let Backend::Sqlite(pool) = &store.backend else {
            panic!("a SQLite store");
        };
        let mut writer = WriterConn::acquire(&store.backend).await.unwrap();
        let WriterConn::Sqlite(conn) = &mut writer else {
            panic!("a SQLite writer");
        };
        let mut reader = pool.acquire().await.unwrap();
        // (temp_store, cache_size): 2 is MEMORY, 0 the default (files); a negative cache
        // size is in KiB.
        const SETTINGS: &str = "SELECT temp_store, cache_size \
                                FROM pragma_temp_store, pragma_cache_size";
        let of_writer: (i64, i64) = sqlx::query_as(SETTINGS)
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let of_reader: (i64, i64) = sqlx::query_as(SETTINGS)
            .fetch_one(&mut *reader)
            .await
            .unwrap();
        assert_eq!(of_writer, (2, -super::super::SQLITE_WRITER_CACHE_KIB));
        assert_eq!(of_reader, (0, -super::super::SQLITE_READER_CACHE_KIB));
        drop(reader);
        drop(writer);
        store.close().await;
    }
}
