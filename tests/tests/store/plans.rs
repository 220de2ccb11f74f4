//! PostgreSQL keeps a plan per prepared statement; the writer's lookups must stay index
//! probes after its tables grow. Before the fix, the plan made while `idempotency` was
//! nearly empty was a sequential scan, kept until autovacuum's next ANALYZE: reading 1,024
//! keys among 100,000 records took 250-350 ms instead of a few (docs/performance.md).

use ledger::AccountId;

use super::{end_other_backends, network, payment, postgres_with_admin, submit};

/// Payments submitted one at a time while the tables are small: more than the five custom
/// plans after which PostgreSQL may switch to a cached generic plan.
const PAYMENTS_EARLY: usize = 12;
const PAYMENTS_LATE: usize = 20;

/// Adds `count` idempotency records behind the store's back (no ANALYZE).
async fn bulk_records(admin: &sqlx::PgPool, prefix: &str, count: i64) {
    sqlx::query(
        "INSERT INTO idempotency (key, fingerprint, result, time) \
         SELECT $1 || '-' || n, repeat('f', 64), '{\"Ok\":{\"outcome\":\"posted\",\"tx\":1}}', \
         now() FROM generate_series(1, $2) AS n",
    )
    .bind(prefix)
    .bind(count)
    .execute(admin)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writer_lookups_stay_index_probes_as_tables_grow_on_postgres() {
    let Some((db, admin)) = postgres_with_admin().await else {
        return;
    };
    // Set up (the migrations read the table once), then count from zero.
    let setup = db.store().await;
    let (_, members) = network(&setup, 4, 1_000).await;
    let ids: Vec<AccountId> = members.iter().map(|a| a.id()).collect();
    setup.close().await;
    end_other_backends(&admin).await;
    sqlx::query("SELECT pg_stat_reset_single_table_counters('idempotency'::regclass)")
        .execute(&admin)
        .await
        .unwrap();

    // A few pages of records: the size at which PostgreSQL's plan for a lookup by a list of
    // keys is a sequential scan.
    bulk_records(&admin, "small", 300).await;
    let store = db.store().await;
    for i in 0..PAYMENTS_EARLY {
        let op = payment(ids[i % 4], ids[(i + 1) % 4], 1);
        let outcome = submit(&store, &format!("early-{i}"), op).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    // The table grows behind the cached plans' back (no ANALYZE).
    bulk_records(&admin, "bulk", 50_000).await;
    for i in 0..PAYMENTS_LATE {
        let op = payment(ids[i % 4], ids[(i + 3) % 4], 1);
        let outcome = submit(&store, &format!("late-{i}"), op).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    store.close().await;
    end_other_backends(&admin).await;
    let batches = (PAYMENTS_EARLY + PAYMENTS_LATE) as i64;
    let (seq_scans, index_scans): (i64, i64) = sqlx::query_as(
        "SELECT seq_scan, COALESCE(idx_scan, 0) FROM pg_stat_user_tables \
         WHERE relname = 'idempotency'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(
        seq_scans, 0,
        "the writer scanned the whole idempotency table"
    );
    assert!(
        index_scans >= batches,
        "{index_scans} index lookups for {batches} batches"
    );
    admin.close().await;
    db.cleanup().await;
}
