//! The one write path: callers submit operations to a group-commit writer task, which
//! decides and commits them in batches (one database transaction per batch) and answers each
//! caller after COMMIT.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ledger::audit::PayerSignature;
use ledger::{IdempotencyKey, Operation, Outcome, Rejection};
use tokio::sync::{mpsc, oneshot};

use super::{batch, Backend, Store, StoreError, StoreResult};

/// Most submissions one [`Store::submit_batch`] call may carry.
pub const SUBMISSIONS_PER_CALL_MAX: usize = 1024;
/// Most operations in one batch the settings accept.
pub const BATCH_OPS_MAX_LIMIT: usize = 8192;
/// Longest batch window the settings accept.
pub const BATCH_WAIT_MAX_LIMIT: Duration = Duration::from_secs(1);
/// How many times a batch is retried after a serialization failure or a deadlock.
const RETRIES_MAX: u32 = 8;
/// The first backoff; it doubles up to [`RETRY_BACKOFF_MAX`].
const RETRY_BACKOFF_FIRST: Duration = Duration::from_millis(2);
const RETRY_BACKOFF_MAX: Duration = Duration::from_millis(200);

/// Group-commit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// A batch closes when it holds this many operations...
    pub batch_ops_max: usize,
    /// ...or when this long has passed since its first operation, or as soon as no other
    /// operation is waiting (a lone caller is not made to wait for company: at most a
    /// moment of scheduling, see `Pause`).
    pub batch_wait_max: Duration,
    /// Submissions that may wait for the writer; callers beyond it wait to enqueue.
    pub queue_capacity: usize,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            batch_ops_max: 1024,
            batch_wait_max: Duration::from_millis(2),
            queue_capacity: 16_384,
        }
    }
}

impl StoreOptions {
    pub fn validate(&self) -> StoreResult<()> {
        if self.batch_ops_max == 0 || self.batch_ops_max > BATCH_OPS_MAX_LIMIT {
            return Err(StoreError::Invalid(format!(
                "batch_ops_max must be between 1 and {BATCH_OPS_MAX_LIMIT}"
            )));
        }
        if self.batch_wait_max > BATCH_WAIT_MAX_LIMIT {
            return Err(StoreError::Invalid(format!(
                "batch_wait_max must be at most {} ms",
                BATCH_WAIT_MAX_LIMIT.as_millis()
            )));
        }
        if self.queue_capacity == 0 {
            return Err(StoreError::Invalid(
                "queue_capacity must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One operation as a caller submits it: its idempotency key and the operation. The store
/// gives it its time, its transaction id and, for a hold placed with `HoldId(0)`, its hold
/// id (see `docs/storage.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    key: IdempotencyKey,
    op: Operation,
    time: Option<DateTime<Utc>>,
    /// The payer's signature over the order (audit: set only by `Store::submit_signed_order`,
    /// after it verified the signature).
    signature: Option<PayerSignature>,
    /// The action-log record to write with the operation if it is accepted (manager
    /// actions; see `action_log`).
    note: Option<Box<super::action_log::ActionNote>>,
    /// The API answer to remember with the operation, in its batch (see `receipts`).
    receipt: Option<Box<super::receipts::ApiReceipt>>,
    /// Who entered the operation for its member company, recorded with its transaction if it
    /// is accepted (see `authors`).
    author: Option<Box<super::authors::Author>>,
}

impl Submission {
    pub fn new(key: IdempotencyKey, op: Operation) -> Submission {
        Submission {
            key,
            op,
            time: None,
            signature: None,
            note: None,
            receipt: None,
            author: None,
        }
    }

    /// Records `author` as the user who entered the operation (`transaction_authors`), with
    /// its transaction, in the same database transaction, if the ledger accepts it and it
    /// posts one. `None` changes nothing (the network's staff act for no member).
    pub fn authored(mut self, author: Option<super::authors::Author>) -> Submission {
        self.author = author.map(Box::new);
        self
    }

    /// Records `note` in the action log in the same database transaction as the operation,
    /// if the ledger accepts it, with the noted account's state before and after.
    pub fn noted(mut self, note: super::action_log::ActionNote) -> Submission {
        self.note = Some(Box::new(note));
        self
    }

    /// Stores `receipt`'s answer (rendered from the decision, accepted or rejected) in
    /// `api_idempotency` in the same database transaction as the operation (see `receipts`).
    pub fn receipted(mut self, receipt: super::receipts::ApiReceipt) -> Submission {
        self.receipt = Some(Box::new(receipt));
        self
    }

    /// Attaches the payer's (already verified) signature: it is stored with the transaction
    /// and hashed into the chain.
    pub(crate) fn signed(mut self, signature: PayerSignature) -> Submission {
        self.signature = Some(signature);
        self
    }

    /// Decides the operation as of `time` instead of the batch's clock: for imports, for
    /// the hold-expiry sweep and for tests. The commit order (`seq`) is unaffected.
    pub fn at(mut self, time: DateTime<Utc>) -> Submission {
        self.time = Some(time);
        self
    }

    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }
    pub fn op(&self) -> &Operation {
        &self.op
    }
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.time
    }
    pub fn author(&self) -> Option<&super::authors::Author> {
        self.author.as_deref()
    }
    pub fn signature(&self) -> Option<&PayerSignature> {
        self.signature.as_ref()
    }
    pub fn note(&self) -> Option<&super::action_log::ActionNote> {
        self.note.as_deref()
    }
    pub fn receipt(&self) -> Option<&super::receipts::ApiReceipt> {
        self.receipt.as_deref()
    }
}

pub(crate) type Answer = StoreResult<Result<Outcome, Rejection>>;

/// The answer of [`Store::submit_all_or_none`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllOrNone {
    /// Every operation was accepted (or replayed an accepted decision) and committed, in
    /// one database transaction; one outcome per submission, in order.
    Committed(Vec<Outcome>),
    /// At least one operation was rejected: nothing was written, not even the idempotency
    /// records (every key is still unused). The rejections, with their submission's index.
    Refused(Vec<(usize, Rejection)>),
}

pub(crate) struct GroupJob {
    submissions: Vec<Submission>,
    reply: oneshot::Sender<StoreResult<AllOrNone>>,
}

pub(crate) struct Job {
    pub(crate) submission: Submission,
    reply: oneshot::Sender<Answer>,
}

/// What the writer task receives. `Release` is rare and small; boxing the job instead would
/// cost an allocation per operation on the write path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Message {
    Job(Job),
    /// Operations that commit together or not at all, in a batch of their own.
    Group(GroupJob),
    /// Give the connection back to the pool (before the pool is closed), then acknowledge.
    Release(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    queue: mpsc::Sender<Message>,
}

impl WriterHandle {
    /// Starts the writer. On SQLite it gets a thread of its own, with a single-threaded
    /// runtime: every statement of a batch is a round trip to SQLite's worker thread, and
    /// each await is then resumed at once instead of queueing behind the request handlers
    /// on the server's runtime (15 % more API payments per second on average: see
    /// docs/performance.md, "Ninth HTTP run"). On PostgreSQL it stays a task of the
    /// server's runtime: the database server's CPU bounds the batch there, and a
    /// connection's socket belongs to the runtime that opened it. The writer ends when the
    /// last handle is dropped.
    pub(crate) fn spawn(backend: Backend, options: StoreOptions) -> StoreResult<WriterHandle> {
        let (queue, jobs) = mpsc::channel(options.queue_capacity);
        match &backend {
            Backend::Sqlite(pool) => {
                tokio::spawn(wal_checkpointer(pool.clone()));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|error| StoreError::Unavailable(format!("writer runtime: {error}")))?;
                std::thread::Builder::new()
                    .name("troc-writer".into())
                    .spawn(move || runtime.block_on(run(backend, jobs, options, Pause::Thread)))
                    .map_err(|error| StoreError::Unavailable(format!("writer thread: {error}")))?;
            }
            Backend::Postgres(_) => {
                tokio::spawn(run(backend, jobs, options, Pause::Task));
            }
        }
        Ok(WriterHandle { queue })
    }

    /// Makes the writer give its connection back, so that the pool can close.
    pub(crate) async fn release(&self) {
        let (done, released) = oneshot::channel();
        if self.queue.send(Message::Release(done)).await.is_ok() {
            let _ = released.await;
        }
    }
}

impl Store {
    /// Submits one operation and waits until it is committed (or rejected). The outer
    /// error is the store's (database unreachable...): the operation may or may not have
    /// been applied, and resubmitting it under the same key is safe. The inner result is
    /// the ledger's decision.
    pub async fn submit(&self, submission: Submission) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.writer
            .queue
            .send(Message::Job(Job { submission, reply }))
            .await
            .map_err(|_| StoreError::Unavailable("the writer task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer task dropped the operation".into()))?
    }

    /// Submits operations that must all happen or none (at most
    /// [`SUBMISSIONS_PER_CALL_MAX`]): the writer decides them in order in a batch of their
    /// own, ONE database transaction, and commits it only if the ledger accepts every one
    /// (a replay of an accepted decision counts as accepted, so a group resubmitted after a
    /// lost answer is answered `Committed` again). Used where a manager action spans
    /// several operations (a member import's limits and opening balances). The outer error
    /// is the store's, as for [`Store::submit`]: the group may or may not have committed,
    /// and resubmitting it under the same keys is safe.
    pub async fn submit_all_or_none(&self, submissions: Vec<Submission>) -> StoreResult<AllOrNone> {
        if submissions.is_empty() || submissions.len() > SUBMISSIONS_PER_CALL_MAX {
            return Err(StoreError::Invalid(format!(
                "a group holds 1 to {SUBMISSIONS_PER_CALL_MAX} operations, got {}",
                submissions.len()
            )));
        }
        let (reply, answer) = oneshot::channel();
        self.writer
            .queue
            .send(Message::Group(GroupJob { submissions, reply }))
            .await
            .map_err(|_| StoreError::Unavailable("the writer task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer task dropped the group".into()))?
    }

    /// Submits several operations at once (at most [`SUBMISSIONS_PER_CALL_MAX`]); they are
    /// decided in order, each with its own result.
    pub async fn submit_batch(&self, submissions: Vec<Submission>) -> StoreResult<Vec<Answer>> {
        if submissions.len() > SUBMISSIONS_PER_CALL_MAX {
            return Err(StoreError::Invalid(format!(
                "at most {SUBMISSIONS_PER_CALL_MAX} operations per call, got {}",
                submissions.len()
            )));
        }
        let mut answers = Vec::with_capacity(submissions.len());
        for submission in submissions {
            let (reply, answer) = oneshot::channel();
            self.writer
                .queue
                .send(Message::Job(Job { submission, reply }))
                .await
                .map_err(|_| StoreError::Unavailable("the writer task has stopped".into()))?;
            answers.push(answer);
        }
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            results.push(answer.await.unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the writer task dropped the operation".into(),
                ))
            }));
        }
        Ok(results)
    }
}

/// SQLite: copies the WAL into the database in the background (PASSIVE: it never blocks
/// the writer or readers), so that the writer's commits only append to the WAL and fsync it.
/// Ends when the pool is closed.
async fn wal_checkpointer(pool: sqlx::SqlitePool) {
    let mut tick = tokio::time::interval(super::SQLITE_CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => tracing::debug!(%error, "background checkpoint failed"),
        }
    }
}

/// How the writer lets the callers it just answered run before it closes a batch for want
/// of company.
#[derive(Debug, Clone, Copy)]
enum Pause {
    /// The writer has a thread of its own: the callers run on the other threads, and need a
    /// few microseconds to take their answer and submit again; the writer yields its core
    /// and looks again until [`THREAD_IDLE_MAX`] has passed with nothing queued.
    Thread,
    /// The writer is a task of the server's runtime: yielding twice lets the tasks it woke
    /// run first.
    Task,
}

/// How long the writer on a thread of its own looks for company before closing a batch.
const THREAD_IDLE_MAX: Duration = Duration::from_micros(100);
/// How many times the writer task yields before closing a batch.
const TASK_IDLE_ROUNDS_MAX: u32 = 2;

/// The time a batch has spent waiting for company since its last submission.
struct Idle {
    rounds: u32,
    since: Option<std::time::Instant>,
}

impl Pause {
    /// Whether to wait once more for company; `false` closes the batch.
    async fn wait(self, idle: &mut Idle) -> bool {
        match self {
            Pause::Thread => {
                let since = *idle.since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() >= THREAD_IDLE_MAX {
                    return false;
                }
                std::thread::yield_now();
            }
            Pause::Task => {
                if idle.rounds >= TASK_IDLE_ROUNDS_MAX {
                    return false;
                }
                tokio::task::yield_now().await;
            }
        }
        idle.rounds += 1;
        true
    }
}

impl Idle {
    fn new() -> Idle {
        Idle {
            rounds: 0,
            since: None,
        }
    }
}

async fn run(
    backend: Backend,
    mut queue: mpsc::Receiver<Message>,
    options: StoreOptions,
    pause: Pause,
) {
    let mut connection = None;
    let mut releases = Vec::new();
    while let Some(message) = queue.recv().await {
        let first = match message {
            Message::Job(job) => job,
            Message::Group(group) => {
                run_group(&backend, &mut connection, group).await;
                continue;
            }
            Message::Release(done) => {
                connection = None;
                let _ = done.send(());
                continue;
            }
        };
        let started = tokio::time::Instant::now();
        let mut jobs = vec![first];
        let mut idle = Idle::new();
        // A group met while filling the batch closes it and runs right after it.
        let mut group = None;
        while jobs.len() < options.batch_ops_max && started.elapsed() < options.batch_wait_max {
            match queue.try_recv() {
                Ok(Message::Job(job)) => {
                    jobs.push(job);
                    idle = Idle::new();
                }
                Ok(Message::Group(next)) => {
                    group = Some(next);
                    break;
                }
                Ok(Message::Release(done)) => releases.push(done),
                Err(mpsc::error::TryRecvError::Empty) => {
                    // Callers woken by the previous batch's answers may be about to submit:
                    // give them a moment (see `Pause`).
                    if !pause.wait(&mut idle).await {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let submissions: Vec<&Submission> = jobs.iter().map(|j| &j.submission).collect();
        let answers = process(&backend, &mut connection, &submissions).await;
        crate::metrics::global().record_batch(
            answers.len(),
            answers.iter().map(|answer| match answer {
                Ok(Ok(_)) => "ok",
                Ok(Err(rejection)) => rejection.code(),
                Err(_) => "error",
            }),
        );
        for (job, answer) in jobs.into_iter().zip(answers) {
            // A caller that went away no longer needs its answer; the operation stands.
            let _ = job.reply.send(answer);
        }
        if let Some(group) = group {
            run_group(&backend, &mut connection, group).await;
        }
        if !releases.is_empty() {
            connection = None;
            for done in releases.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// Runs one batch: retried on serialization failures and deadlocks; if the database itself
/// refuses it (a defense-in-depth trigger or constraint fired), each operation is run alone
/// so that only the offending one fails.
pub(crate) async fn process(
    backend: &Backend,
    connection: &mut Option<batch::WriterConn>,
    submissions: &[&Submission],
) -> Vec<Answer> {
    let mut backoff = RETRY_BACKOFF_FIRST;
    let mut attempt = 0;
    loop {
        let attempt_result = match connection {
            Some(writer) => batch::execute(writer, submissions).await,
            None => match batch::WriterConn::acquire(backend).await {
                Ok(writer) => batch::execute(connection.insert(writer), submissions).await,
                Err(error) => Err(error),
            },
        };
        match attempt_result {
            Ok(results) => return results.into_iter().map(Ok).collect(),
            Err(error) => match classify(&error) {
                Failure::Retry if attempt < RETRIES_MAX => {
                    attempt += 1;
                    tracing::debug!(%error, attempt, "batch retried");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
                }
                Failure::Refused if submissions.len() > 1 => {
                    tracing::warn!(%error, "batch refused by the database; deciding one by one");
                    let mut answers = Vec::with_capacity(submissions.len());
                    for submission in submissions {
                        let mut one = Box::pin(process(backend, connection, &[*submission])).await;
                        answers.push(one.pop().expect("one answer per submission"));
                    }
                    return answers;
                }
                Failure::Refused => {
                    tracing::error!(%error, "operation refused by the database");
                    return vec![Err(StoreError::Refused(error.to_string()))];
                }
                Failure::Retry | Failure::Other => {
                    tracing::error!(%error, "batch failed");
                    // The connection may be broken: take a fresh one next time.
                    *connection = None;
                    let message = error.to_string();
                    return submissions
                        .iter()
                        .map(|_| Err(StoreError::Unavailable(message.clone())))
                        .collect();
                }
            },
        }
    }
}

/// Runs a group alone, committed only if every operation is accepted; retried like a batch
/// on serialization failures and deadlocks. A group the database itself refuses fails
/// whole (there is no one-by-one fallback: its operations belong together).
async fn run_group(backend: &Backend, connection: &mut Option<batch::WriterConn>, group: GroupJob) {
    let submissions: Vec<&Submission> = group.submissions.iter().collect();
    let mut backoff = RETRY_BACKOFF_FIRST;
    let mut attempt = 0;
    let answer = loop {
        let attempt_result = match connection {
            Some(writer) => {
                batch::execute_with(writer, &submissions, batch::Commit::IfAllAccepted).await
            }
            None => match batch::WriterConn::acquire(backend).await {
                Ok(writer) => {
                    batch::execute_with(
                        connection.insert(writer),
                        &submissions,
                        batch::Commit::IfAllAccepted,
                    )
                    .await
                }
                Err(error) => Err(error),
            },
        };
        match attempt_result {
            Ok(decisions) => break Ok(group_answer(decisions)),
            Err(error) => match classify(&error) {
                Failure::Retry if attempt < RETRIES_MAX => {
                    attempt += 1;
                    tracing::debug!(%error, attempt, "group retried");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
                }
                Failure::Refused => {
                    tracing::error!(%error, "group refused by the database");
                    break Err(StoreError::Refused(error.to_string()));
                }
                Failure::Retry | Failure::Other => {
                    tracing::error!(%error, "group failed");
                    *connection = None;
                    break Err(StoreError::Unavailable(error.to_string()));
                }
            },
        }
    };
    crate::metrics::global().record_batch(
        submissions.len(),
        submissions.iter().map(|_| match &answer {
            Ok(AllOrNone::Committed(_)) => "ok",
            Ok(AllOrNone::Refused(_)) => "group_refused",
            Err(_) => "error",
        }),
    );
    let _ = group.reply.send(answer);
}

fn group_answer(decisions: Vec<Result<Outcome, Rejection>>) -> AllOrNone {
    let refused: Vec<(usize, Rejection)> = decisions
        .iter()
        .enumerate()
        .filter_map(|(index, d)| d.as_ref().err().map(|r| (index, r.clone())))
        .collect();
    if refused.is_empty() {
        AllOrNone::Committed(decisions.into_iter().filter_map(Result::ok).collect())
    } else {
        AllOrNone::Refused(refused)
    }
}

enum Failure {
    Retry,
    Refused,
    Other,
}

fn classify(error: &StoreError) -> Failure {
    let StoreError::Database(sqlx::Error::Database(db)) = error else {
        return Failure::Other;
    };
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    // PostgreSQL: SQLSTATE. 40001 serialization failure, 40P01 deadlock; class 23 integrity
    // violations and P0001 (RAISE EXCEPTION) are refusals.
    if code == "40001" || code == "40P01" {
        return Failure::Retry;
    }
    if code.starts_with("23") || code == "P0001" {
        return Failure::Refused;
    }
    // SQLite: extended result codes; the primary code is the low byte. 5 BUSY, 6 LOCKED,
    // 19 CONSTRAINT (triggers, checks, keys).
    if let Ok(number) = code.parse::<i64>() {
        match number & 0xff {
            5 | 6 => return Failure::Retry,
            19 => return Failure::Refused,
            _ => {}
        }
    }
    Failure::Other
}
