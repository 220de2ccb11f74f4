//! Upgrades of a database an older release filled: the migrations that rebuild or change a
//! table keep its rows. Each story stops the schema at the version before the change
//! (`Store::migrate_to`), writes rows as that release did, upgrades, and reads them back.

use tests::story;
use web::approvals::{self, ApprovalStatus};
use web::store::Store;

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
            assert_eq!(store.pending_migrations().await.unwrap(), 1);
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
            if store.kind() == web::store::BackendKind::Sqlite {
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
            store.close().await;
        }
    }
);
