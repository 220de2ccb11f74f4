//! Defense in depth: raw SQL that bypasses the application is refused by the database
//! itself. Each check is shown on both backends, with a control that the same kind of
//! statement passes when it is legitimate.

use ledger::Outcome;
use tests::story;
use web::store::{BackendKind, Store};

use super::{balance, network, payment, submit};

/// Runs one raw statement in its own transaction; `Err` carries the database's message.
async fn raw(store: &Store, sql: &str) -> Result<u64, String> {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    })
}

/// Runs statements in one transaction and tries to COMMIT; `Err` if any step fails.
async fn raw_transaction(store: &Store, statements: &[String]) -> Result<(), String> {
    web::dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        for sql in statements {
            sqlx::query(sql).execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())
    })
}

async fn count(store: &Store, sql: &str) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    })
}

/// When every raw row here is dated.
const RAW_TIME: &str = "'2026-01-01T00:00:00+00:00'";

/// A raw transaction row of two postings, with a well-formed (if false) chain hash: what
/// these stories test is the database's own rules.
fn raw_tx_row(id: i64, seq: i64) -> String {
    format!(
        "INSERT INTO transactions (id, seq, kind, time, reference, memo, posting_count, \
         hash) VALUES ({id}, {seq}, 'adjustment', {RAW_TIME}, '', 'raw', 2, '{}')",
        "0".repeat(64)
    )
}

/// A raw posting `n` of transaction `tx`, in the backend's columns (PostgreSQL's carry the
/// transaction's posting count, here 2).
fn raw_posting(kind: BackendKind, tx: i64, n: i64, account: u64, amount: i64) -> String {
    match kind {
        BackendKind::Sqlite => format!(
            "INSERT INTO postings (tx_id, n, account_id, amount, leg, time) \
             VALUES ({tx}, {n}, {account}, {amount}, 'principal', {RAW_TIME})"
        ),
        BackendKind::Postgres => format!(
            "INSERT INTO postings (tx_id, n, posting_count, account_id, amount, leg, time) \
             VALUES ({tx}, {n}, 2, {account}, {amount}, 'principal', {RAW_TIME})"
        ),
    }
}

/// A raw two-posting transaction (`(account, amount)` each) in each backend's write order:
/// PostgreSQL the transaction row first (checked at COMMIT), SQLite the postings first,
/// sealed by the transaction row.
fn raw_pair(
    kind: BackendKind,
    (tx, seq): (i64, i64),
    first: (u64, i64),
    second: (u64, i64),
) -> Vec<String> {
    let postings = [
        raw_posting(kind, tx, 0, first.0, first.1),
        raw_posting(kind, tx, 1, second.0, second.1),
    ];
    match kind {
        BackendKind::Sqlite => postings.into_iter().chain([raw_tx_row(tx, seq)]).collect(),
        BackendKind::Postgres => [raw_tx_row(tx, seq)].into_iter().chain(postings).collect(),
    }
}

story!(
    postings_and_transactions_are_append_only,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let Ok(Outcome::Posted { tx }) =
                submit(&store, "p", payment(members[0].id(), members[1].id(), 10)).await
            else {
                panic!("posted")
            };
            for sql in [
                format!("UPDATE postings SET amount = amount * 2 WHERE tx_id = {tx}"),
                format!("DELETE FROM postings WHERE tx_id = {tx}"),
                format!("UPDATE transactions SET memo = 'forged' WHERE id = {tx}"),
                format!("DELETE FROM transactions WHERE id = {tx}"),
            ] {
                let refused = raw(&store, &sql).await.expect_err(&sql);
                assert!(refused.contains("append-only"), "{sql}: {refused}");
            }
            if store.kind() == BackendKind::Postgres {
                let refused = raw(&store, "TRUNCATE postings, transactions CASCADE").await;
                assert!(refused.unwrap_err().contains("append-only"));
            }
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 2);
            let memo: String = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT memo FROM transactions").fetch_one(pool).await.unwrap()
            });
            assert_eq!(memo, "test");
            // Control: other tables still accept updates.
            assert_eq!(
                raw(&store, "UPDATE network SET name = 'Renamed'").await,
                Ok(1)
            );
            store.close().await;
        }
    }
);

story!(
    a_debit_below_the_credit_limit_is_refused,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (system, members) = network(&store, 1, 100).await;
            let a = members[0].id();
            // Limit 100 units = 10,000 cents: one cent past it is refused.
            let refused = raw(
                &store,
                &format!("UPDATE accounts SET balance = -10001 WHERE id = {a}"),
            )
            .await
            .unwrap_err();
            assert!(refused.contains("credit limit"), "{refused}");
            assert_eq!(balance(&store, a).await, 0);
            // The fund and the fees account have a zero limit.
            for id in [system.fund, system.fees] {
                assert!(raw(
                    &store,
                    &format!("UPDATE accounts SET balance = -1 WHERE id = {id}")
                )
                .await
                .is_err());
            }
            // Controls (rolled back, they would break the sum): exactly at the limit passes, and
            // the losses account is unbounded.
            let at_limit = [
                format!("UPDATE accounts SET balance = -10000 WHERE id = {a}"),
                format!(
                    "UPDATE accounts SET balance = -99999999 WHERE id = {}",
                    system.losses
                ),
            ];
            web::dispatch!(store.backend(), pool => {
                let mut tx = pool.begin().await.unwrap();
                for sql in &at_limit {
                    sqlx::query(sql).execute(&mut *tx).await.unwrap();
                }
                tx.rollback().await.unwrap();
            });
            // Lowering the limit below the debt is a manager's right (no balance decrease).
            assert_eq!(
                raw(
                    &store,
                    &format!("UPDATE accounts SET credit_limit = 0 WHERE id = {a}")
                )
                .await,
                Ok(1)
            );
            store.close().await;
        }
    }
);

story!(
    an_unbalanced_transaction_cannot_commit,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let (a, b) = (members[0].id(), members[1].id());
            let kind = store.kind();
            let in_order = |tx: i64, seq: i64, first: i64, second: i64| {
                raw_pair(kind, (tx, seq), (a.0, first), (b.0, second))
            };
            let refused = raw_transaction(&store, &in_order(900_001, 900_001, -100, 99)).await;
            assert!(refused.unwrap_err().contains("balance"));
            assert_eq!(count(&store, "SELECT COUNT(*) FROM transactions").await, 0);
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 0);

            // A transaction with a missing posting cannot commit either.
            let mut missing = in_order(900_002, 900_002, -100, 100);
            missing.remove(match store.kind() {
                BackendKind::Sqlite => 1,
                BackendKind::Postgres => 2,
            });
            assert!(raw_transaction(&store, &missing).await.is_err());
            // Postings whose transaction row never comes cannot commit.
            let orphan = vec![
                raw_posting(kind, 900_003, 0, a.0, -5),
                raw_posting(kind, 900_003, 1, b.0, 5),
            ];
            assert!(raw_transaction(&store, &orphan).await.is_err());
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 0);

            // Control: a balanced one commits (this raw transaction does not touch balances;
            // only the append-only and balance rules are under test here).
            raw_transaction(&store, &in_order(900_004, 900_004, -100, 100))
                .await
                .unwrap();
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 2);
            // And nothing can be slipped into it afterwards, even balanced.
            let slipped = match kind {
                BackendKind::Sqlite => vec![
                    raw_posting(kind, 900_004, 2, a.0, -1),
                    raw_posting(kind, 900_004, 3, b.0, 1),
                ],
                BackendKind::Postgres => vec![
                    raw_posting(kind, 900_004, 2, a.0, -1).replace("2, 2,", "2, 4,"),
                    raw_posting(kind, 900_004, 3, b.0, 1).replace("3, 2,", "3, 4,"),
                ],
            };
            assert!(raw_transaction(&store, &slipped).await.is_err());
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 2);
            store.close().await;
        }
    }
);

story!(
    postings_name_real_accounts_and_accounts_are_never_deleted,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // What the postings' foreign keys guarded (on PostgreSQL a per-statement check
            // since migration 0017), and the accounts' side of it: an account is closed,
            // never deleted nor renumbered.
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let (a, b) = (members[0].id(), members[1].id());
            let Ok(Outcome::Posted { .. }) = submit(&store, "p", payment(a, b, 10)).await else {
                panic!("posted")
            };
            let in_order =
                |second: u64| raw_pair(store.kind(), (900_001, 900_001), (a.0, -5), (second, 5));
            // A balanced transaction whose second posting names no account.
            let refused = raw_transaction(&store, &in_order(999_999)).await;
            assert!(refused.is_err(), "a posting on no account was accepted");
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 2);
            assert_eq!(count(&store, "SELECT COUNT(*) FROM transactions").await, 1);

            for sql in [
                format!("DELETE FROM accounts WHERE id = {a}"),
                format!("UPDATE accounts SET id = 999999 WHERE id = {b}"),
            ] {
                let refused = raw(&store, &sql).await.expect_err(&sql);
                assert!(
                    refused.contains("never deleted nor renumbered"),
                    "{sql}: {refused}"
                );
            }
            if store.kind() == BackendKind::Postgres {
                let refused = raw(&store, "TRUNCATE accounts CASCADE").await.unwrap_err();
                assert!(
                    refused.contains("never deleted") || refused.contains("append-only"),
                    "{refused}"
                );
            }
            assert_eq!(count(&store, "SELECT COUNT(*) FROM accounts").await, 6);
            assert_eq!(balance(&store, a).await, -1_000);
            // Controls: the same transaction on real accounts commits, and the account rows
            // still take updates that keep their id.
            raw_transaction(&store, &in_order(b.0)).await.unwrap();
            assert_eq!(count(&store, "SELECT COUNT(*) FROM postings").await, 4);
            assert_eq!(
                raw(
                    &store,
                    &format!("UPDATE accounts SET id = id, credit_limit = 20000 WHERE id = {a}")
                )
                .await,
                Ok(1)
            );
            store.close().await;
        }
    }
);

story!(
    an_idempotency_key_is_unique_in_the_database,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // The `idempotency` table's primary key is what makes a key unique (migration
            // 0019 dropped the UNIQUE of `transactions.idempotency_key`, which repeated it):
            // a second row for a used key is refused, even by raw SQL.
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let posted = submit(
                &store,
                "used",
                payment(members[0].id(), members[1].id(), 10),
            )
            .await
            .unwrap();
            let again = raw(
                &store,
                "INSERT INTO idempotency (key, fingerprint, result, time) \
                 SELECT key, 'other', result, time FROM idempotency WHERE key = 'used'",
            )
            .await;
            let refused = again.expect_err("a second row for a used key");
            assert!(
                refused.to_lowercase().contains("unique") || refused.contains("duplicate key"),
                "{refused}"
            );
            // Control: a new key is accepted.
            assert_eq!(
                raw(
                    &store,
                    "INSERT INTO idempotency (key, fingerprint, result, time) \
                     SELECT 'fresh', fingerprint, result, time FROM idempotency \
                     WHERE key = 'used'",
                )
                .await,
                Ok(1)
            );
            // The stored decision still answers the key.
            let replay = submit(
                &store,
                "used",
                payment(members[0].id(), members[1].id(), 10),
            )
            .await
            .unwrap();
            assert_eq!(replay, posted);
            assert_eq!(count(&store, "SELECT COUNT(*) FROM transactions").await, 1);
            store.close().await;
        }
    }
);
