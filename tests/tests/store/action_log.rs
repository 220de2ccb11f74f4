//! The action log: ledger actions recorded in the batch that decided them (only when
//! accepted, once per key), plain actions, filters and pages, and the database refusing to
//! change a record.

use ledger::{AccountStatus, Amount, Operation, Outcome, Rejection};
use tests::story;
use web::store::{ActionFilter, ActionNote, Store, Submission, ACTIONS_PAGE_SIZE_MAX};

use super::{key, network};

fn set_limit(account: ledger::AccountId, units: i64) -> Operation {
    Operation::SetLimits {
        account,
        credit_limit: Amount::from_units(units),
        max_balance: None,
        reason: "annual review".into(),
        actor: "gestion@example.fr".into(),
    }
}

fn note(action: &str, account: ledger::AccountId) -> ActionNote {
    ActionNote::new(None, "gestion@example.fr", action, "annual review")
        .unwrap()
        .account(account.0)
}

story!(
    a_noted_ledger_action_is_logged_with_before_and_after,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 1_000).await;
            let a = members[0].id();
            let submission =
                Submission::new(key("limit-1"), set_limit(a, 2_500)).noted(note("limits.set", a));
            let answer = store.submit(submission.clone()).await.unwrap();
            assert_eq!(answer, Ok(Outcome::LimitsChanged { account: a }));
            // A replay under the same key answers the same and logs nothing more.
            assert_eq!(store.submit(submission).await.unwrap(), answer);
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 1, "one record per decided key: {entries:?}");
            let entry = &entries[0];
            assert_eq!(entry.action, "limits.set");
            assert_eq!(entry.actor, "gestion@example.fr");
            assert_eq!(entry.reason, "annual review");
            assert_eq!(entry.account_id, Some(a.0 as i64));
            assert_eq!(entry.idempotency_key.as_deref(), Some("limit-1"));
            assert_eq!(entry.before["account"]["credit_limit"], 100_000);
            assert_eq!(entry.after["account"]["credit_limit"], 250_000);
            assert_eq!(entry.after["outcome"]["outcome"], "limits_changed");
            store.close().await;
        }
    }
);

story!(
    a_rejected_noted_action_leaves_no_record,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 1, 1_000).await;
            let a = members[0].id();
            // Closing an account at a zero balance works; closing it again is refused.
            let close = |k: &str| {
                Submission::new(
                    key(k),
                    Operation::SetStatus {
                        account: a,
                        status: AccountStatus::Closed,
                        reason: "left the network".into(),
                        actor: "gestion@example.fr".into(),
                    },
                )
                .noted(note("member.close", a))
            };
            let first = store.submit(close("close-1")).await.unwrap();
            assert_eq!(first, Ok(Outcome::StatusChanged { account: a }));
            let second = store.submit(close("close-2")).await.unwrap();
            assert_eq!(second, Err(Rejection::StatusUnchanged));
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 1, "{entries:?}");
            assert_eq!(entries[0].before["account"]["status"], "active");
            assert_eq!(entries[0].after["account"]["status"], "closed");
            store.close().await;
        }
    }
);

story!(
    plain_actions_filter_and_page_newest_first,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store, 1, 100).await;
            for n in 0..5 {
                let action = if n % 2 == 0 {
                    "fees.change"
                } else {
                    "member.approve"
                };
                let actor = if n < 3 {
                    "a@example.fr"
                } else {
                    "b@example.fr"
                };
                let note = ActionNote::new(None, actor, action, "").unwrap().states(
                    serde_json::json!({ "n": n }),
                    serde_json::json!({ "n": n + 1 }),
                );
                store.record_action(note).await.unwrap();
            }
            let all = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(all.len(), 5);
            assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
            assert_eq!(all[0].before["n"], 4);
            assert_eq!(all[0].after["n"], 5);
            let fees = ActionFilter {
                action: Some("fees.change".into()),
                ..ActionFilter::default()
            };
            assert_eq!(store.actions(&fees, 10).await.unwrap().len(), 3);
            let by_b = ActionFilter {
                actor: Some("b@example.fr".into()),
                ..ActionFilter::default()
            };
            assert_eq!(store.actions(&by_b, 10).await.unwrap().len(), 2);
            // Keyset pages: two, then the rest, without overlap.
            let page1 = store.actions(&ActionFilter::default(), 2).await.unwrap();
            let next = ActionFilter {
                before_id: Some(page1[1].id),
                ..ActionFilter::default()
            };
            let page2 = store.actions(&next, 10).await.unwrap();
            assert_eq!(page2.len(), 3);
            assert!(page2[0].id < page1[1].id);
            // Time window: everything was recorded now.
            let now = chrono::Utc::now().timestamp();
            let window = ActionFilter {
                from: Some(now - 60),
                to: Some(now + 60),
                ..ActionFilter::default()
            };
            assert_eq!(store.actions(&window, 10).await.unwrap().len(), 5);
            let past = ActionFilter {
                to: Some(now - 60),
                ..ActionFilter::default()
            };
            assert!(store.actions(&past, 10).await.unwrap().is_empty());
            // The page size at its limit and one past it.
            assert_eq!(
                store
                    .actions(&ActionFilter::default(), ACTIONS_PAGE_SIZE_MAX)
                    .await
                    .unwrap()
                    .len(),
                5
            );
            assert!(store
                .actions(&ActionFilter::default(), ACTIONS_PAGE_SIZE_MAX + 1)
                .await
                .is_err());
            assert!(store.actions(&ActionFilter::default(), 0).await.is_err());
            store.close().await;
        }
    }
);

story!(
    the_database_refuses_to_change_the_action_log,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store, 1, 100).await;
            store
                .record_action(ActionNote::new(None, "cli", "network.create", "").unwrap())
                .await
                .unwrap();
            let update = web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE action_log SET actor = 'someone else'")
                    .execute(pool)
                    .await
                    .map(|_| ())
            });
            assert!(update.is_err(), "UPDATE must be refused");
            let delete = web::dispatch!(store.backend(), pool => {
                sqlx::query("DELETE FROM action_log").execute(pool).await.map(|_| ())
            });
            assert!(delete.is_err(), "DELETE must be refused");
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].actor, "cli");
            store.close().await;
        }
    }
);

#[test]
fn notes_are_validated_at_their_limits() {
    let reason_max = "r".repeat(web::store::ACTION_REASON_LEN_MAX);
    assert!(ActionNote::new(None, "cli", "limits.set", &reason_max).is_ok());
    let reason_over = "r".repeat(web::store::ACTION_REASON_LEN_MAX + 1);
    assert!(ActionNote::new(None, "cli", "limits.set", &reason_over).is_err());
    assert!(ActionNote::new(None, "", "limits.set", "").is_err());
    assert!(ActionNote::new(None, "cli", "", "").is_err());
    assert!(ActionNote::new(None, "cli", "Limits Set", "").is_err());
    let code_max = "a".repeat(64);
    assert!(ActionNote::new(None, "cli", &code_max, "").is_ok());
    let code_over = "a".repeat(65);
    assert!(ActionNote::new(None, "cli", &code_over, "").is_err());
}
