//! Consistent online backups of a live SQLite database, and restores.
//!
//! A backup is taken with `VACUUM INTO`, which reads one consistent snapshot of the database
//! (a read transaction in WAL mode) while writers keep committing: payments keep flowing and
//! the copy holds exactly the transactions committed before the snapshot, each in full.

use std::path::{Path, PathBuf};

use crate::store::{sqlite_path, Backend, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("online backups are for SQLite; for PostgreSQL use pg_dump or a base backup (docs/operations.md)")]
    NotSqlite,
    #[error("{0} already exists; choose a new file")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("the backup in {path} is not a sound Troc ledger: {reason}")]
    Unsound { path: PathBuf, reason: String },
    #[error("the target database {0} exists; pass --force to replace it (stop the server first)")]
    TargetExists(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a backup holds, for the operator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub transactions: i64,
}

/// Whether a restore may replace an existing database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    Refuse,
    Replace,
}

/// Writes a consistent copy of the live SQLite database behind `store` to `out`.
pub async fn backup(store: &Store, out: &Path) -> Result<BackupReport, BackupError> {
    let Backend::Sqlite(pool) = store.backend() else {
        return Err(BackupError::NotSqlite);
    };
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    sqlx::query("VACUUM INTO $1")
        .bind(out.to_string_lossy().into_owned())
        .execute(pool)
        .await
        .map_err(StoreError::from)?;
    let report = inspect(out).await?;
    Ok(report)
}

/// Opens a backup file read-only and checks that it is a sound ledger: migrations applied
/// and every invariant holding.
pub async fn inspect(path: &Path) -> Result<BackupReport, BackupError> {
    if !path.exists() {
        return Err(BackupError::Missing(path.to_path_buf()));
    }
    // Opened read-write: SQLite needs to set up the WAL, which changes no data.
    let url = format!("sqlite://{}", path.display());
    let unsound = |reason: String| BackupError::Unsound {
        path: path.to_path_buf(),
        reason,
    };
    let store = Store::connect_without_migrating(&url)
        .await
        .map_err(|e| unsound(e.to_string()))?;
    let checked = store.check_invariants().await;
    let transactions: Result<i64, StoreError> = crate::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM transactions")
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    });
    store.close().await;
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(violation)) => return Err(unsound(violation.to_string())),
        Err(error) => return Err(unsound(error.to_string())),
    }
    let transactions = transactions.map_err(|e| unsound(e.to_string()))?;
    Ok(BackupReport {
        path: path.to_path_buf(),
        bytes: std::fs::metadata(path)?.len(),
        transactions,
    })
}

/// Restores the backup `from` as the SQLite database of `database_url`. The backup is
/// checked first; the copy is written beside the target and renamed over it, so a crash
/// leaves either the old database or the new one. The server must be stopped.
pub async fn restore(
    from: &Path,
    database_url: &str,
    overwrite: Overwrite,
) -> Result<BackupReport, BackupError> {
    let target = sqlite_path(database_url).ok_or(BackupError::NotSqlite)?;
    let report = inspect(from).await?;
    if target.exists() && overwrite == Overwrite::Refuse {
        return Err(BackupError::TargetExists(target));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let staging = target.with_extension("restore-tmp");
    std::fs::copy(from, &staging)?;
    std::fs::File::open(&staging)?.sync_all()?;
    // The old database's WAL and shared-memory files belong to the old file.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(side)?;
        }
    }
    std::fs::rename(&staging, &target)?;
    Ok(BackupReport {
        path: target,
        ..report
    })
}
