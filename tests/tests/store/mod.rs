//! The store's stories: the write path, idempotency, reads, the database's own defenses,
//! concurrency. Each runs on SQLite and on PostgreSQL.

mod action_log;
mod authors;
mod concurrency;
mod conformance;
mod defenses;
mod plans;
mod pool;
mod receipts;
mod upgrades;

use ledger::{
    Account, AccountId, Amount, IdempotencyKey, Operation, Outcome, Policy, Rejection,
    SystemAccounts,
};
use web::store::{Store, Submission};

/// A fresh network with `members` member accounts, each with `limit` units of credit.
pub async fn network(store: &Store, members: usize, limit: i64) -> (SystemAccounts, Vec<Account>) {
    let system = store
        .create_network("Test network", Policy::default())
        .await
        .unwrap();
    let accounts = store
        .open_accounts(members, Amount::from_units(limit), None)
        .await
        .unwrap();
    (system, accounts)
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

pub fn payment(payer: AccountId, payee: AccountId, units: i64) -> Operation {
    Operation::Payment {
        payer,
        payee,
        amount: Amount::from_units(units),
        reference: "INV-1".into(),
        memo: "test".into(),
    }
}

/// Submits and unwraps the store's own error (the test database is always reachable).
pub async fn submit(store: &Store, key_text: &str, op: Operation) -> Result<Outcome, Rejection> {
    store
        .submit(Submission::new(key(key_text), op))
        .await
        .expect("the store answers")
}

pub async fn balance(store: &Store, id: AccountId) -> i64 {
    store
        .account(id)
        .await
        .unwrap()
        .expect("the account exists")
        .balance()
        .minor()
}

pub async fn assert_invariants(store: &Store) {
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the invariants hold");
}

/// Ends every other connection to this database and waits until they are gone: a backend
/// reports its table counters as it ends. (`Store::close` returns once the pool is closed,
/// but a connection handed back at that moment may linger idle for a while.)
pub async fn end_other_backends(admin: &sqlx::PgPool) {
    let others = "FROM pg_stat_activity \
                  WHERE datname = current_database() AND pid <> pg_backend_pid()";
    for _ in 0..200 {
        let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {others}"))
            .fetch_one(admin)
            .await
            .unwrap();
        if left == 0 {
            return;
        }
        sqlx::query(&format!("SELECT pg_terminate_backend(pid) {others}"))
            .execute(admin)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the store's connections did not end");
}

/// A fresh PostgreSQL database for a PostgreSQL-only story, and a one-connection pool on it
/// for the story's own SQL; `None` (and a line saying so) without TROC_TEST_POSTGRES_URL.
pub async fn postgres_with_admin() -> Option<(tests::TestDb, sqlx::PgPool)> {
    let Some(db) = tests::TestDb::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL story skipped");
        return None;
    };
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(db.url())
        .await
        .unwrap();
    Some((db, admin))
}
