//! The store: one small interface over SQLite (the embedded default) and PostgreSQL.
//!
//! The backend is chosen once, from the database URL's scheme, in [`Store::connect`].
//! Queries are runtime queries (`sqlx::query`) whose SQL text is shared by both backends
//! wherever the dialects agree (`$1` placeholders work on both); the [`dispatch!`] macro
//! expands one body once per backend, so each arm is monomorphised on a concrete pool and no
//! generic `DB: Database` bounds are needed.
//!
//! What the store does *not* do: decide anything about money. Every ledger operation is
//! decided by `ledger::decide` on the rows the store loaded and locked.

pub mod action_log;
mod audit;
pub mod authors;
mod batch;
pub mod bench;
mod chain;
mod export;
mod ledger_store;
pub mod load;
mod mapping;
mod policies;
pub mod receipts;
mod rows;
mod writer;

pub use action_log::{
    ActionEntry, ActionFilter, ActionNote, ACTIONS_PAGE_SIZE_MAX, ACTION_REASON_LEN_MAX,
};
pub use audit::{
    check_checkpoint, check_payer_signature, genesis_hex, is_order_key, parse_member_key,
    AuditBreak, AuditSummary, ChainEntry, CheckedOrder, KeyError, MemberKey, NetworkKey,
    OrderError, SignedCheckpoint, CHECKPOINTS_PAGE_SIZE_MAX, MEMBER_KEYS_EVER_MAX,
    MEMBER_KEYS_PER_ACCOUNT_MAX, ORDER_KEY_PREFIX, ORDER_LIFETIME_MAX,
};
pub use authors::Author;
pub(crate) use chain::parse_hash;
pub use export::{ExportFailure, ExportProgress, EXPORT_PAGE_SIZE, LOCK_ACTION, SIREN_ACTION};
pub use ledger_store::{
    HistoryEntry, HistoryPage, LineMarks, ACCOUNTS_READ_MAX, HISTORY_PAGE_SIZE_MAX,
    NETWORK_NAME_LEN_MAX, OPEN_ACCOUNTS_PER_CALL_MAX,
};
pub use mapping::{MAPPING_ACTION, MEMBER_MAPPING_ACTION};
pub use policies::{Effective, PolicyRecord};
pub use receipts::{ApiReceipt, RenderFn};
pub use rows::time_last;
pub(crate) use rows::{id_list, in_id_list, unsigned as unsigned_id};
pub use writer::{
    AllOrNone, StoreOptions, Submission, BATCH_OPS_MAX_LIMIT, BATCH_WAIT_MAX_LIMIT,
    SUBMISSIONS_PER_CALL_MAX,
};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The default database: a SQLite file created on first run.
pub const DATABASE_URL_DEFAULT: &str = "sqlite://data/troc.db";
/// How long a SQLite connection waits for the write lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The SQLite writer's page cache, in KiB (written negative in the pragma: a size, not a
/// page count). The writer keeps its connection, and its cache stays warm across batches.
pub const SQLITE_WRITER_CACHE_KIB: i64 = 65_536;
/// A SQLite reader connection's page cache, in KiB. Small on purpose: every commit by the
/// writer empties the cache of each reader connection at its next read (SQLite does not
/// know which pages changed), and emptying frees every cached page and walks the cache's
/// hash table, which never shrinks from the most pages the connection ever held. The pages
/// come back from the operating system's file cache (docs/performance.md, "Eleventh HTTP
/// run").
pub const SQLITE_READER_CACHE_KIB: i64 = 2_048;
/// WAL pages before SQLite checkpoints (about 40 MB with 4 KiB pages).
pub const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;
/// WAL pages after which the writer checkpoints on its own (a fallback: the background
/// checkpointer normally keeps the WAL far below).
pub const SQLITE_WAL_WRITER_CHECKPOINT_PAGES: u32 = 4 * SQLITE_WAL_AUTOCHECKPOINT_PAGES;
/// How often the background checkpointer copies the WAL into the database (SQLite).
pub const SQLITE_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
/// Connections per pool.
pub const POOL_CONNECTIONS_MAX: u32 = 16;
/// A pooled PostgreSQL connection idle for longer than this is checked (a round trip)
/// before it is handed out; one used more recently is handed out as it is. See
/// [`postgres_pool_options`].
pub const PG_POOL_PING_IDLE_AFTER: Duration = Duration::from_secs(1);

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not create the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the network is not created yet")]
    NoNetwork,
    #[error("the network already exists")]
    NetworkExists,
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("invalid account: {0}")]
    Account(#[from] ledger::AccountError),
    #[error("the database refused the operation (a defense-in-depth check fired): {0}")]
    Refused(String),
    #[error("the write path is unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The file behind a `sqlite://PATH` (or `sqlite:PATH`) URL, without its `?options`; `None`
/// for other schemes or an empty path. Used by backups and to place the network key file.
pub fn sqlite_path(database_url: &str) -> Option<std::path::PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| std::path::PathBuf::from(path))
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn from_url(url: &str) -> StoreResult<BackendKind> {
        if url.starts_with("sqlite:") {
            Ok(BackendKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(BackendKind::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever pool the store holds. Inside the body, `$pool` is a
/// `&SqlitePool` or a `&PgPool`.
#[macro_export]
macro_rules! dispatch {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}

/// The handle the application shares (cheap to clone). All clones feed the same
/// group-commit writer task; it stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    writer: writer::WriterHandle,
}

impl Store {
    /// Connects to `url` (the scheme picks the backend) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let store = Store::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Like [`Store::connect`], with group-commit settings.
    pub async fn connect_with(url: &str, options: StoreOptions) -> StoreResult<Store> {
        let store = Store::connect_without_migrating_with(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> StoreResult<Store> {
        Store::connect_without_migrating_with(url, StoreOptions::default()).await
    }

    async fn connect_without_migrating_with(
        url: &str,
        options: StoreOptions,
    ) -> StoreResult<Store> {
        options.validate()?;
        let backend = match BackendKind::from_url(url)? {
            BackendKind::Sqlite => Backend::Sqlite(connect_sqlite(url).await?),
            BackendKind::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = postgres_pool_options().connect_with(options).await?;
                Backend::Postgres(pool)
            }
        };
        let writer = writer::WriterHandle::spawn(backend.clone(), options)?;
        Ok(Store { backend, writer })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// Applies this binary's migrations up to `version` included, and none after it: for
    /// an upgrade made in steps, and for the tests that fill a database as an older release
    /// left it before upgrading it (`tests/tests/store/upgrades.rs`). A version this binary
    /// does not have is refused.
    pub async fn migrate_to(&self, version: i64) -> StoreResult<()> {
        let upto = |migrator: &sqlx::migrate::Migrator| -> StoreResult<sqlx::migrate::Migrator> {
            if !migrator.iter().any(|m| m.version == version) {
                return Err(StoreError::Invalid(format!("no migration {version}")));
            }
            let migrations: Vec<_> = migrator
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect();
            Ok(sqlx::migrate::Migrator {
                migrations: std::borrow::Cow::Owned(migrations),
                ..sqlx::migrate::Migrator::DEFAULT
            })
        };
        match &self.backend {
            Backend::Sqlite(pool) => upto(&SQLITE_MIGRATOR)?.run(pool).await?,
            Backend::Postgres(pool) => upto(&POSTGRES_MIGRATOR)?.run(pool).await?,
        }
        Ok(())
    }

    /// How many of this binary's migrations the database has not applied (0 when ready).
    pub async fn pending_migrations(&self) -> StoreResult<usize> {
        let (migrator, applied): (&sqlx::migrate::Migrator, Vec<i64>) = match &self.backend {
            Backend::Sqlite(pool) => (
                &SQLITE_MIGRATOR,
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
            Backend::Postgres(pool) => (
                &POSTGRES_MIGRATOR,
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
        };
        Ok(migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count())
    }

    /// The versions of the migrations applied to this database, in order.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        Ok(dispatch!(&self.backend, pool => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(pool)
                .await?
        }))
    }

    /// The connection pool's state, for the metrics.
    pub fn pool_usage(&self) -> crate::metrics::PoolUsage {
        crate::dispatch!(&self.backend, pool => crate::metrics::PoolUsage {
            size: pool.size(),
            idle: pool.num_idle() as u32,
            max: pool.options().get_max_connections(),
        })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The statement that opens a write transaction: SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that two writers never deadlock upgrading a read lock.
    pub fn begin_write_sql(&self) -> &'static str {
        begin_write_sql(self.kind())
    }

    /// Closes the pool (after the writer gave its connection back). Submissions after
    /// this fail with `StoreError::Unavailable`.
    pub async fn close(&self) {
        self.writer.release().await;
        dispatch!(&self.backend, pool => pool.close().await)
    }
}

/// The versions of the migrations this binary carries for a backend, in order.
pub fn migration_versions(kind: BackendKind) -> Vec<i64> {
    let migrator = match kind {
        BackendKind::Sqlite => &SQLITE_MIGRATOR,
        BackendKind::Postgres => &POSTGRES_MIGRATOR,
    };
    migrator.iter().map(|m| m.version).collect()
}

pub(crate) fn begin_write_sql(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => "BEGIN IMMEDIATE",
        BackendKind::Postgres => "BEGIN",
    }
}

impl Backend {
    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }
}

/// SQLite with durability set explicitly: WAL, `synchronous=FULL`, foreign keys on, and a
/// busy timeout. The file (and its directory) is created on first run.
async fn connect_sqlite(url: &str) -> StoreResult<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // A small page cache for readers (the writer sets its own, larger: see
        // `SQLITE_READER_CACHE_KIB`) and fewer, larger checkpoints: the postings indexes are
        // written at random places.
        .pragma("cache_size", format!("-{SQLITE_READER_CACHE_KIB}"))
        .pragma(
            "wal_autocheckpoint",
            SQLITE_WAL_AUTOCHECKPOINT_PAGES.to_string(),
        );
    let path = options.get_filename().to_path_buf();
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(POOL_CONNECTIONS_MAX)
        .acquire_timeout(Duration::from_secs(30))
        // sqlx pings every connection it takes from the pool by default. A SQLite connection
        // lives in this process (its own thread): the ping can only cost a round trip to that
        // thread — one per statement, as much as the statement itself.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// The PostgreSQL pool. sqlx's default pings each connection it takes from the pool: one
/// network round trip per query on top of the query's own. A connection used within the last
/// [`PG_POOL_PING_IDLE_AFTER`] is handed out as it is (under load, every one); one idle for
/// longer is pinged first, and replaced if the server has closed it (a restart, an idle
/// timeout), so that a quiet server's first request does not fail on a dead connection.
fn postgres_pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS_MAX)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PG_POOL_PING_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn finds_the_sqlite_file_in_a_url() {
        assert_eq!(
            sqlite_path("sqlite://data/troc.db"),
            Some(PathBuf::from("data/troc.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_path("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_path("postgres://h/db"), None);
        assert_eq!(sqlite_path("sqlite://"), None);
    }
}
