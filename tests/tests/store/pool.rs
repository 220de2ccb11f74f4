//! The PostgreSQL pool hands out a connection used moments ago without a check (a round trip
//! saved per query), and checks one that sat idle: a connection the server closed meanwhile
//! (a restart, an idle timeout) is replaced, not handed out to fail (docs/storage.md,
//! "Settings", connections).

use std::time::Duration;

use web::store::{Store, PG_POOL_PING_IDLE_AFTER};

use super::{end_other_backends, postgres_with_admin};

/// Concurrent reads: enough for the pool to open (or reuse) this many connections.
const READS_CONCURRENT: usize = 8;

/// Runs `READS_CONCURRENT` reads at once through the store's pool; the errors, if any.
async fn concurrent_reads(store: &Store) -> Vec<String> {
    let web::store::Backend::Postgres(pool) = store.backend() else {
        panic!("a PostgreSQL store")
    };
    let reads = (0..READS_CONCURRENT).map(|_| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_sleep(0.05)")
                .fetch_one(&pool)
                .await
        }
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .filter_map(|read| read.err().map(|e| e.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_connection_the_server_closed_is_replaced_on_postgres() {
    let Some((db, admin)) = postgres_with_admin().await else {
        return;
    };
    let store = db.store().await;
    assert_eq!(concurrent_reads(&store).await, Vec::<String>::new());
    // The server ends every connection of the store (the writer's too) while they sit idle.
    end_other_backends(&admin).await;
    tokio::time::sleep(PG_POOL_PING_IDLE_AFTER + Duration::from_millis(200)).await;
    // Each read gets a live connection: the dead ones are found out and replaced.
    assert_eq!(concurrent_reads(&store).await, Vec::<String>::new());
    // Hot connections are handed out without the check, and work.
    assert_eq!(concurrent_reads(&store).await, Vec::<String>::new());
    store.close().await;
    admin.close().await;
    db.cleanup().await;
}
