//! Upgrades of a database an older release filled: the migrations that rebuild or change a
//! table keep its rows. Each story stops the schema at the version before the change
//! (`Store::migrate_to`), writes rows as that release did, upgrades, and reads them back.

use ledger::{Operation, Rejection};
use tests::story;
use web::approvals::{self, ApprovalStatus};
use web::store::Store;

use super::{assert_invariants, network, payment, submit};

async fn raw(store: &Store, sql: &str) {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).execute(pool).await.unwrap();
    });
}

async fn raw_fails(store: &Store, sql: &str) -> bool {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).execute(pool).await.is_err()
    })
}

/// On SQLite, where a rebuild copies rows by hand: no row points to a missing one, and the
/// file is sound. (PostgreSQL enforces both as it goes.)
async fn sqlite_file_checks(store: &Store) {
    if store.kind() != web::store::BackendKind::Sqlite {
        return;
    }
    web::dispatch!(store.backend(), pool => {
        let problems: Vec<(String,)> = sqlx::query_as(
            "SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(pool).await.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(pool).await.unwrap();
        assert_eq!(integrity, "ok");
    });
}

/// A request of member 1 to pay member 2, as release 26 wrote it; `decided` is the
/// `decided_by, decided_at` pair.
fn approval_row(id: i64, status: &str, decided: &str, created_at: i64) -> String {
    format!(
        "INSERT INTO payment_approvals (id, member_id, payee_member_id, amount_minor, \
         reference, memo, requested_by, requested_by_email, status, decided_by, decided_at, \
         note, created_at, form_token) VALUES ({id}, 1, 2, {amount}, 'ref-{id}', 'memo {id}', \
         7, 'staff@one.test', '{status}', {decided}, 'note {id}', {created_at}, 'token-{id}')",
        amount = 10_000 + id,
    )
}

story!(
    migration_27_keeps_the_approvals_and_lets_the_old_waiting_ones_expire,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect_without_migrating(&url).await.unwrap();
            assert!(
                store.migrate_to(10_000).await.is_err(),
                "an unknown version is refused"
            );
            store.migrate_to(26).await.unwrap();
            assert_eq!(store.applied_migrations().await.unwrap().last(), Some(&26));
            // 0027 waits, and whatever came after it.
            assert!(store.pending_migrations().await.unwrap() >= 1);
            // 'expired' is not a status yet.
            let now = chrono::Utc::now().timestamp();
            assert!(
                raw_fails(&store, &approval_row(9, "expired", "NULL, 1", now)).await,
                "release 26 knows no expired status"
            );
            for (id, name) in [(1, "One"), (2, "Two")] {
                raw(
                    &store,
                    &format!(
                        "INSERT INTO members (id, account_id, name, siren, address, city, \
                         postcode, sector, description, contact, created_at) VALUES \
                         ({id}, {account}, '{name}', '00000000{id}', '', '', '', '', '', '', 0)",
                        account = 100 + id
                    ),
                )
                .await;
            }
            let old = now - approvals::APPROVAL_WAIT_SECS_MAX - 60;
            let recent = now - 3600;
            raw(&store, &approval_row(1, "pending", "NULL, NULL", old)).await;
            raw(&store, &approval_row(2, "pending", "NULL, NULL", recent)).await;
            raw(
                &store,
                &approval_row(3, "declined", "'owner@one.test', 5", old),
            )
            .await;
            raw(&store, &approval_row(4, "withdrawn", "NULL, 6", recent)).await;

            store.migrate().await.unwrap();
            assert_eq!(store.pending_migrations().await.unwrap(), 0);

            // Every row came through with its values.
            let first = approvals::approval(&store, 1).await.unwrap().unwrap();
            assert_eq!(
                (first.member_id, first.payee_member_id, first.amount_minor),
                (1, 2, 10_001)
            );
            assert_eq!(
                (first.reference.as_str(), first.memo.as_str()),
                ("ref-1", "memo 1")
            );
            assert_eq!(
                (first.requested_by, first.requested_by_email.as_str()),
                (7, "staff@one.test")
            );
            assert_eq!((first.note.as_str(), first.created_at), ("note 1", old));
            assert_eq!(first.status, ApprovalStatus::Pending);
            let declined = approvals::approval(&store, 3).await.unwrap().unwrap();
            assert_eq!(declined.status, ApprovalStatus::Declined);
            assert_eq!(
                (declined.decided_by.as_deref(), declined.decided_at),
                (Some("owner@one.test"), Some(5))
            );
            let withdrawn = approvals::approval(&store, 4).await.unwrap().unwrap();
            assert_eq!(
                (withdrawn.status, withdrawn.decided_at),
                (ApprovalStatus::Withdrawn, Some(6))
            );

            // The request waiting for more than 30 days expires; the recent one waits on.
            assert_eq!(approvals::expire_overdue(&store).await.unwrap(), 1);
            let expired = approvals::approval(&store, 1).await.unwrap().unwrap();
            assert_eq!(expired.status, ApprovalStatus::Expired);
            assert_eq!(
                expired.decided_at,
                Some(old + approvals::APPROVAL_WAIT_SECS_MAX)
            );
            assert_eq!(expired.decided_by, None);
            let waiting = approvals::approval(&store, 2).await.unwrap().unwrap();
            assert_eq!(waiting.status, ApprovalStatus::Pending);

            // The rebuilt table keeps its constraints: an expired request names no decider,
            // a form token is used once, the payer must exist.
            assert!(
                raw_fails(
                    &store,
                    &approval_row(5, "expired", "'owner@one.test', 1", now)
                )
                .await
            );
            raw(&store, &approval_row(5, "expired", "NULL, 1", now)).await;
            assert!(
                raw_fails(
                    &store,
                    &approval_row(6, "pending", "NULL, NULL", now).replace("token-6", "token-5")
                )
                .await
            );
            assert!(
                raw_fails(
                    &store,
                    &approval_row(7, "pending", "NULL, NULL", now)
                        .replace("(7, 1, 2,", "(7, 99, 2,")
                )
                .await
            );
            sqlite_file_checks(&store).await;
            store.close().await;
        }
    }
);

/// Every column of every transaction, as text (both backends), in id order.
const TRANSACTION_ROWS: &str = "SELECT CAST(id AS TEXT), CAST(seq AS TEXT), kind, \
     CAST(time AS TEXT), reference, memo, idempotency_key, CAST(reverses AS TEXT), \
     CAST(posting_count AS TEXT), hash FROM transactions ORDER BY id";
type TransactionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);
const KEY_ROWS: &str =
    "SELECT key, fingerprint, result, CAST(time AS TEXT) FROM idempotency ORDER BY key";

async fn rows_of(store: &Store) -> (Vec<TransactionRow>, Vec<(String, String, String, String)>) {
    web::dispatch!(store.backend(), pool => {
        let transactions = sqlx::query_as(TRANSACTION_ROWS).fetch_all(pool).await.unwrap();
        let keys = sqlx::query_as(KEY_ROWS).fetch_all(pool).await.unwrap();
        (transactions, keys)
    })
}

story!(
    migration_19_keeps_the_transactions_their_chain_and_their_keys,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // Release 18's schema, filled by the write path as release 18 wrote it (the
            // batch's tables and columns are the same): payments, a refusal whose key stays
            // failed, a reversal.
            let store = Store::connect_without_migrating(&url).await.unwrap();
            store.migrate_to(18).await.unwrap();
            assert_eq!(store.applied_migrations().await.unwrap().last(), Some(&18));
            let (_, members) = network(&store, 3, 100).await;
            let (a, b, c) = (members[0].id(), members[1].id(), members[2].id());
            let first = submit(&store, "p1", payment(a, b, 10)).await.unwrap();
            submit(&store, "p2", payment(b, c, 5)).await.unwrap();
            submit(&store, "p3", payment(c, a, 2)).await.unwrap();
            let refused = submit(&store, "too-much", payment(a, b, 1_000)).await;
            assert!(matches!(refused, Err(Rejection::InsufficientCredit { .. })));
            let reversed = first.tx().expect("a payment posts a transaction");
            let reverse = Operation::Reverse {
                transaction: reversed,
                memo: "entered twice".into(),
            };
            submit(&store, "r1", reverse.clone()).await.unwrap();
            let before = rows_of(&store).await;
            assert_eq!(before.0.len(), 4);
            // (`verify_ledger` reads tables of later releases: the head is read as it is.)
            let head_before: (i64, String) = web::dispatch!(store.backend(), pool => {
                sqlx::query_as("SELECT seq, hash FROM ledger_head WHERE id = 1")
                    .fetch_one(pool).await.unwrap()
            });

            store.migrate().await.unwrap();
            assert_eq!(store.pending_migrations().await.unwrap(), 0);

            // Every row came through as it was: ids, commit order, keys, hashes.
            assert_eq!(rows_of(&store).await, before);
            let chain_after = store
                .verify_ledger()
                .await
                .unwrap()
                .expect("the chain holds");
            assert_eq!(
                (chain_after.transactions as i64, &chain_after.head),
                (head_before.0, &head_before.1)
            );
            assert_invariants(&store).await;

            // The keys answer as before: a replay, a conflict, a key that failed stays failed.
            assert_eq!(
                submit(&store, "p1", payment(a, b, 10)).await.unwrap().tx(),
                Some(reversed)
            );
            assert!(matches!(
                submit(&store, "p1", payment(a, b, 11)).await,
                Err(Rejection::IdempotencyConflict)
            ));
            assert_eq!(
                submit(&store, "too-much", payment(a, b, 1_000)).await,
                Err(Rejection::IdempotencyKeyFailed)
            );
            // The reversal is still found through the rebuilt table: not twice.
            assert!(matches!(
                submit(&store, "r2", reverse).await,
                Err(Rejection::AlreadyReversed { transaction, .. }) if transaction == reversed
            ));
            // New payments extend the same chain.
            submit(&store, "p4", payment(b, a, 3)).await.unwrap();
            let extended = store
                .verify_ledger()
                .await
                .unwrap()
                .expect("the chain holds");
            assert_eq!(extended.transactions, chain_after.transactions + 1);
            assert_eq!(rows_of(&store).await.0[..4], before.0[..]);
            assert_invariants(&store).await;

            // The rebuilt table is append-only again, and its reversal stays unique.
            assert!(raw_fails(&store, "UPDATE transactions SET memo = 'changed'").await);
            assert!(raw_fails(&store, "DELETE FROM transactions").await);
            sqlite_file_checks(&store).await;
            store.close().await;
        }
    }
);

story!(
    migration_28_reads_the_older_limit_requests_as_asking_the_credit_limit_only,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect_without_migrating(&url).await.unwrap();
            store.migrate_to(27).await.unwrap();
            raw(
                &store,
                "INSERT INTO members (id, account_id, name, siren, address, city, postcode, \
                 sector, description, contact, created_at) VALUES \
                 (1, 101, 'One', '000000001', '', '', '', '', '', '', 0)",
            )
            .await;
            // A granted and a waiting request, as release 27 wrote them.
            raw(
                &store,
                "INSERT INTO limit_requests (id, member_id, requested_by, credit_limit_before, \
                 credit_limit_asked, message, status, created_at, decided_at, decided_by, \
                 decision_reason, credit_limit_granted) VALUES \
                 (1, 1, 'owner@one.test', 100000, 300000, 'Saison', 'granted', 10, 20, \
                  'gestion@troc.test', 'Oui', 250000), \
                 (2, 1, 'owner@one.test', 250000, 400000, 'Encore', 'pending', 30, NULL, \
                  NULL, '', NULL)",
            )
            .await;
            store.migrate().await.unwrap();
            assert_eq!(store.pending_migrations().await.unwrap(), 0);
            let requests = web::console::limit_requests::member_requests(&store, 1)
                .await
                .unwrap();
            assert_eq!(requests.len(), 2);
            for request in &requests {
                assert!(request.asks_credit_limit(), "{request:?}");
                assert!(!request.asks_max_balance(), "{request:?}");
                assert_eq!(request.max_balance_before, None);
                assert_eq!(request.max_balance_granted, None);
            }
            let granted = &requests[1];
            assert_eq!(
                granted.credit_limit_granted,
                Some(ledger::Amount::from_minor(250_000))
            );
            // The new columns are checked: a granted upper limit needs one asked.
            assert!(
                raw_fails(
                    &store,
                    "UPDATE limit_requests SET max_balance_granted = 5 WHERE id = 1"
                )
                .await
            );
            assert!(
                raw_fails(
                    &store,
                    "UPDATE limit_requests SET max_balance_asked = -1 WHERE id = 2"
                )
                .await
            );
            sqlite_file_checks(&store).await;
            store.close().await;
        }
    }
);
