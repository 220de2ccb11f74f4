//! Operations: online backup under load and restore.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ledger::AccountId;
use web::ops::backup::{self, BackupError, Overwrite};
use web::store::{Store, Submission};

use crate::store::{key, network, payment};

/// Payments flow from 8 tasks while a backup is taken; the backup restores to a ledger that
/// holds every payment acknowledged before the backup began, and passes the invariants.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_a_sound_ledger() {
    let db = tests::TestDb::sqlite().await;
    let store = db.store().await;
    let (_, accounts) = network(&store, 20, 1_000).await;
    let ids: Vec<AccountId> = accounts.iter().map(|a| a.id()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for task in 0..8u64 {
        let (store, stop, acknowledged, ids) = (
            store.clone(),
            stop.clone(),
            acknowledged.clone(),
            ids.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && n < 5_000 {
                let payer = ids[((task + n) % 20) as usize];
                let payee = ids[((task + n + 1) % 20) as usize];
                let k = format!("load-{task}-{n}");
                let answer = store
                    .submit(Submission::new(key(&k), payment(payer, payee, 1)))
                    .await
                    .expect("the store answers");
                if answer.is_ok() {
                    acknowledged.lock().unwrap().push(k);
                }
                n += 1;
            }
        }));
    }
    // Let payments flow, then back up while they keep flowing.
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let report = backup::backup(&store, &file).await.unwrap();
    let after_backup = acknowledged.lock().unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let total = acknowledged.lock().unwrap().len();
    assert!(report.transactions as usize >= before.len());
    assert!(report.transactions as usize <= after_backup);
    assert!(
        total > after_backup,
        "payments kept flowing during the backup"
    );
    // A backup never overwrites a file.
    assert!(matches!(
        backup::backup(&store, &file).await,
        Err(BackupError::Exists(_))
    ));

    let restored_url = format!("sqlite://{}", dir.path().join("restored.db").display());
    backup::restore(&file, &restored_url, Overwrite::Refuse)
        .await
        .unwrap();
    assert!(matches!(
        backup::restore(&file, &restored_url, Overwrite::Refuse).await,
        Err(BackupError::TargetExists(_))
    ));
    backup::restore(&file, &restored_url, Overwrite::Replace)
        .await
        .unwrap();
    let restored = Store::connect(&restored_url).await.unwrap();
    restored.check_invariants().await.unwrap().unwrap();
    for k in &before {
        let found: i64 = web::dispatch!(restored.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE idempotency_key = $1")
                .bind(k)
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(
            found, 1,
            "payment {k} acknowledged before the backup is in it, once"
        );
    }
    restored.close().await;
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_corrupt_backup_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, b"not a database").unwrap();
    let target_url = format!("sqlite://{}", dir.path().join("target.db").display());
    assert!(matches!(
        backup::restore(&bad, &target_url, Overwrite::Replace).await,
        Err(BackupError::Unsound { .. })
    ));
    assert!(!dir.path().join("target.db").exists());
    assert!(matches!(
        backup::restore(
            &dir.path().join("missing.db"),
            &target_url,
            Overwrite::Replace
        )
        .await,
        Err(BackupError::Missing(_))
    ));
}

#[tokio::test]
async fn postgres_backups_point_to_pg_dump() {
    let Some(db) = tests::TestDb::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return;
    };
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        backup::backup(&store, &dir.path().join("x.db")).await,
        Err(BackupError::NotSqlite)
    ));
    store.close().await;
    db.cleanup().await;
}
