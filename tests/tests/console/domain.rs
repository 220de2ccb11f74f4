//! The console's domain functions, as the pages and the API call them.

use ledger::{AccountStatus, Amount, IdempotencyKey, Operation, Rejection};
use tests::story;
use web::console::categories::{self, CategoryInput};
use web::console::history::limit_history;
use web::console::members::{self, LimitsChange};
use web::console::{
    finish_batch, unfinished_batches, write_interrupted_for_tests, Conflict, ConsoleError, Field,
    Problem, RequestKey, Target, LIMIT_MAX,
};
use web::people;
use web::store::{ActionFilter, Store, Submission};

use super::{network, new_member, staff};

fn units(n: i64) -> Amount {
    Amount::from_units(n)
}

fn problems(error: ConsoleError) -> Vec<(Field, Problem)> {
    match error {
        ConsoleError::Invalid(issues) => issues.into_iter().map(|i| (i.field, i.problem)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn actions_of(store: &Store, member_id: i64) -> Vec<String> {
    let filter = ActionFilter {
        member_id: Some(member_id),
        ..ActionFilter::default()
    };
    let mut codes: Vec<String> = store
        .actions(&filter, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    codes.reverse();
    codes
}

story!(
    a_new_member_gets_its_category_defaults_an_invitation_and_a_record,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, accountant) = staff(&store).await;
            let pme = CategoryInput {
                code: "pme".into(),
                name: "PME".into(),
                credit_limit: units(5_000),
                max_balance: Some(units(20_000)),
            };
            assert!(matches!(
                categories::create(&store, &accountant, &pme).await,
                Err(ConsoleError::Forbidden)
            ));
            categories::create(&store, &manager, &pme).await.unwrap();
            let mut new = new_member(1, "Alpha SARL");
            new.category = Some("pme".into());
            assert!(matches!(
                members::create_member(&store, &accountant, new.clone()).await,
                Err(ConsoleError::Forbidden)
            ));
            let created = members::create_member(&store, &manager, new.clone())
                .await
                .unwrap();
            let account = store.account(created.account_id).await.unwrap().unwrap();
            assert_eq!(account.credit_limit(), units(5_000));
            assert_eq!(account.max_balance(), Some(units(20_000)));
            let invitation = people::find_invitation(&store, &created.invitation.token)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(invitation.member_id, Some(created.member_id));
            assert_eq!(invitation.email, "owner1@member.fr");
            assert_eq!(
                actions_of(&store, created.member_id).await,
                ["limits.set", "member.create"]
            );
            let history = limit_history(&store, &accountant, created.member_id)
                .await
                .unwrap();
            assert_eq!(history.len(), 1);
            assert_eq!(history[0].actor, "gestion@troc.test");
            assert_eq!(history[0].credit_limit_after, units(5_000));

            // The same SIREN and email again, and limits one past the maximum.
            let mut again = new.clone();
            again.credit_limit = Some(Amount::from_minor(LIMIT_MAX.minor() + 1));
            again.category = Some("nope".into());
            let found = problems(
                members::create_member(&store, &manager, again)
                    .await
                    .unwrap_err(),
            );
            assert_eq!(
                found,
                vec![
                    (Field::Siren, Problem::SirenTaken),
                    (Field::Email, Problem::EmailTaken),
                    (Field::Category, Problem::UnknownCategory),
                    (
                        Field::CreditLimit,
                        Problem::AmountAboveMax { max: LIMIT_MAX }
                    ),
                ]
            );
            // At the maximum, with the default category.
            let mut at_max = new_member(2, "Beta");
            at_max.credit_limit = Some(LIMIT_MAX);
            let beta = members::create_member(&store, &manager, at_max)
                .await
                .unwrap();
            let account = store.account(beta.account_id).await.unwrap().unwrap();
            assert_eq!(account.credit_limit(), LIMIT_MAX);
            assert_eq!(account.max_balance(), None);
            assert!(store.check_invariants().await.unwrap().is_ok());
            store.close().await;
        }
    }
);

story!(
    limit_history_holds_every_change_in_order_with_author_and_reason,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, accountant) = staff(&store).await;
            let created = members::create_member(&store, &manager, new_member(3, "Gamma"))
                .await
                .unwrap();
            let changes = [
                (2_000, None, "annual review"),
                (500, Some(10_000), "late payments"),
                (3_000, None, "back on track"),
            ];
            for (limit, max, reason) in changes {
                let change = LimitsChange {
                    credit_limit: units(limit),
                    max_balance: max.map(units),
                    reason: reason.into(),
                };
                members::set_limits(
                    &store,
                    &manager,
                    Target::Member(created.member_id),
                    change,
                    &RequestKey::random(),
                )
                .await
                .unwrap();
            }
            // A retried request (same key) changes nothing more.
            let key = RequestKey::new("retry-1").unwrap();
            let change = LimitsChange {
                credit_limit: units(3_500),
                max_balance: None,
                reason: "retry".into(),
            };
            let target = Target::Account(created.account_id);
            members::set_limits(&store, &manager, target, change.clone(), &key)
                .await
                .unwrap();
            let set = members::set_limits(&store, &manager, target, change.clone(), &key)
                .await
                .unwrap();
            assert_eq!(set.after.credit_limit, units(3_500));
            // An accountant cannot; a reason is required and bounded.
            assert!(matches!(
                members::set_limits(&store, &accountant, target, change.clone(), &key).await,
                Err(ConsoleError::Forbidden)
            ));
            let mut no_reason = change.clone();
            no_reason.reason = "  ".into();
            assert_eq!(
                problems(
                    members::set_limits(&store, &manager, target, no_reason, &RequestKey::random())
                        .await
                        .unwrap_err()
                ),
                vec![(Field::Reason, Problem::Required)]
            );
            let mut long = change.clone();
            long.reason = "r".repeat(web::console::REASON_LEN_MAX + 1);
            assert!(
                members::set_limits(&store, &manager, target, long, &RequestKey::random())
                    .await
                    .is_err()
            );
            long = change.clone();
            long.reason = "r".repeat(web::console::REASON_LEN_MAX);
            members::set_limits(&store, &manager, target, long, &RequestKey::random())
                .await
                .unwrap();

            let history = limit_history(&store, &accountant, created.member_id)
                .await
                .unwrap();
            let seen: Vec<(i64, Option<i64>, String)> = history
                .iter()
                .map(|r| {
                    (
                        r.credit_limit_after.minor() / 100,
                        r.max_balance_after.map(|m| m.minor() / 100),
                        r.reason.clone(),
                    )
                })
                .collect();
            let initial = history[0].reason.clone();
            assert!(initial.starts_with("Limites initiales"), "{initial}");
            assert_eq!(
                seen,
                vec![
                    (1_000, None, initial),
                    (2_000, None, "annual review".into()),
                    (500, Some(10_000), "late payments".into()),
                    (3_000, None, "back on track".into()),
                    (3_500, None, "retry".into()),
                    (3_500, None, "r".repeat(web::console::REASON_LEN_MAX)),
                ]
            );
            assert!(history.iter().all(|r| r.actor == "gestion@troc.test"));
            assert!(history.windows(2).all(|w| w[0].time <= w[1].time));
            // Each change's "before" is the previous one's "after".
            assert!(history
                .windows(2)
                .all(|w| w[1].credit_limit_before == w[0].credit_limit_after));
            let logged = actions_of(&store, created.member_id).await;
            assert_eq!(
                logged.iter().filter(|a| *a == "limits.set").count(),
                history.len()
            );
            store.close().await;
        }
    }
);

story!(
    freeze_unfreeze_and_close_through_the_ledger,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, _) = staff(&store).await;
            let a = members::create_member(&store, &manager, new_member(4, "Delta"))
                .await
                .unwrap();
            let b = members::create_member(&store, &manager, new_member(5, "Epsilon"))
                .await
                .unwrap();
            let target = Target::Member(a.member_id);
            let key = RequestKey::random;
            members::freeze(&store, &manager, target, "unpaid fees", &key())
                .await
                .unwrap();
            let pay = |from, to, n: &str| {
                Submission::new(
                    IdempotencyKey::new(format!("pay-{n}")).unwrap(),
                    Operation::Payment {
                        payer: from,
                        payee: to,
                        amount: units(100),
                        reference: String::new(),
                        memo: String::new(),
                    },
                )
            };
            // Frozen: may receive, may not pay.
            assert_eq!(
                store
                    .submit(pay(a.account_id, b.account_id, "1"))
                    .await
                    .unwrap(),
                Err(Rejection::AccountFrozen {
                    account: a.account_id
                })
            );
            assert!(store
                .submit(pay(b.account_id, a.account_id, "2"))
                .await
                .unwrap()
                .is_ok());
            let again = members::freeze(&store, &manager, target, "twice", &key()).await;
            assert!(matches!(
                again,
                Err(ConsoleError::Rejected(Rejection::StatusUnchanged))
            ));
            members::unfreeze(&store, &manager, target, "paid", &key())
                .await
                .unwrap();
            // Closing is for a zero balance only: the ledger says why not.
            let refused = members::close(&store, &manager, target, "leaves", &key()).await;
            assert!(
                matches!(
                    refused,
                    Err(ConsoleError::Rejected(Rejection::NonZeroBalance { .. }))
                ),
                "{refused:?}"
            );
            // Back to zero (a correction without fees), then it may close.
            let balance = store
                .account(a.account_id)
                .await
                .unwrap()
                .unwrap()
                .balance();
            assert_eq!(
                balance.minor(),
                9_800,
                "100 received less the 2 % commission"
            );
            let settle = Submission::new(
                IdempotencyKey::new("settle").unwrap(),
                Operation::Adjustment {
                    from: a.account_id,
                    to: b.account_id,
                    amount: balance,
                    reference: String::new(),
                    memo: String::new(),
                },
            );
            assert!(store.submit(settle).await.unwrap().is_ok());
            members::close(&store, &manager, target, "leaves", &key())
                .await
                .unwrap();
            let account = store.account(a.account_id).await.unwrap().unwrap();
            assert_eq!(account.status(), AccountStatus::Closed);
            assert_eq!(
                actions_of(&store, a.member_id).await,
                [
                    "limits.set",
                    "member.create",
                    "member.freeze",
                    "member.unfreeze",
                    "member.close"
                ]
            );
            // A member id that does not exist, and an account that is not a member's.
            let system = store.system_accounts().await.unwrap();
            for target in [Target::Member(999_999), Target::Account(system.fund)] {
                assert!(matches!(
                    members::freeze(&store, &manager, target, "x", &key()).await,
                    Err(ConsoleError::NotFound)
                ));
            }
            store.close().await;
        }
    }
);

story!(
    an_interrupted_creation_is_finished_from_its_plan,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, accountant) = staff(&store).await;
            let batch = write_interrupted_for_tests(&store, &manager, new_member(6, "Zeta"))
                .await
                .unwrap();
            let unfinished = unfinished_batches(&store, &accountant).await.unwrap();
            assert_eq!(unfinished.len(), 1);
            assert_eq!(unfinished[0].id, batch);
            let member = people::members(&store, 10).await.unwrap().pop().unwrap();
            let account = store
                .account(ledger::AccountId(member.account_id as u64))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                account.credit_limit(),
                Amount::ZERO,
                "no credit before it is finished"
            );
            assert!(matches!(
                finish_batch(&store, &accountant, batch).await,
                Err(ConsoleError::Forbidden)
            ));
            let created = finish_batch(&store, &manager, batch).await.unwrap();
            assert_eq!(created.len(), 1);
            assert!(
                people::find_invitation(&store, &created[0].invitation.token)
                    .await
                    .unwrap()
                    .is_some()
            );
            let account = store.account(created[0].account_id).await.unwrap().unwrap();
            assert_eq!(account.credit_limit(), units(1_000));
            assert!(matches!(
                finish_batch(&store, &manager, batch).await,
                Err(ConsoleError::Conflict(Conflict::BatchNotUnfinished))
            ));
            assert!(unfinished_batches(&store, &manager)
                .await
                .unwrap()
                .is_empty());
            store.close().await;
        }
    }
);
