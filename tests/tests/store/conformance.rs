//! Every operation kind through the write path, idempotency, reads and restart.

use chrono::{Duration, Utc};
use ledger::{
    AccountId, AccountStatus, Amount, ChargeKind, HoldId, HoldStatus, Operation, Outcome,
    Rejection, TxKind,
};
use tests::story;
use web::store::{
    Store, StoreError, Submission, ACCOUNTS_READ_MAX, HISTORY_PAGE_SIZE_MAX, NETWORK_NAME_LEN_MAX,
    OPEN_ACCOUNTS_PER_CALL_MAX, SUBMISSIONS_PER_CALL_MAX,
};

use super::{assert_invariants, balance, key, network, payment, submit};

story!(payment_is_committed_and_read_back, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let store = Store::connect(&url).await.unwrap();
        let (_, members) = network(&store, 2, 1_000).await;
        let (a, b) = (members[0].id(), members[1].id());
        let outcome = submit(&store, "pay-1", payment(a, b, 250)).await.unwrap();
        let Outcome::Posted { tx } = outcome else {
            panic!("a payment posts: {outcome:?}")
        };
        assert_eq!(balance(&store, a).await, -25_000);
        assert_eq!(balance(&store, b).await, 25_000);
        let account = store.account(a).await.unwrap().unwrap();
        assert_eq!(account.available(), Some(Amount::from_units(750)));
        let stored = store.transaction(tx).await.unwrap().unwrap();
        assert_eq!(stored.kind(), TxKind::Payment);
        assert_eq!(stored.net_for(b), Amount::from_units(250));
        assert_eq!(stored.idempotency_key().unwrap().as_str(), "pay-1");
        let page = store.history(a, None, 10).await.unwrap();
        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.entries[0].transaction.id(), tx);
        assert_eq!(page.entries[0].net, Amount::from_units(-250));
        assert_eq!(page.next_before, None);
        assert_invariants(&store).await;
        store.close().await;
    }
});

story!(
    a_rejection_changes_nothing_and_others_in_the_batch_pass,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 3, 100).await;
            let (a, b, c) = (members[0].id(), members[1].id(), members[2].id());
            let answers = store
                .submit_batch(vec![
                    Submission::new(key("ok-1"), payment(a, b, 60)),
                    Submission::new(key("too-much"), payment(a, c, 60)),
                    Submission::new(key("ok-2"), payment(c, a, 10)),
                    Submission::new(key("unknown"), payment(a, ledger::AccountId(999_999), 1)),
                ])
                .await
                .unwrap();
            let answers: Vec<_> = answers.into_iter().map(|a| a.unwrap()).collect();
            assert!(matches!(answers[0], Ok(Outcome::Posted { .. })));
            assert_eq!(
                answers[1],
                Err(Rejection::InsufficientCredit {
                    account: a,
                    available: Amount::from_units(40),
                    requested: Amount::from_units(60),
                })
            );
            assert!(matches!(answers[2], Ok(Outcome::Posted { .. })));
            assert!(matches!(answers[3], Err(Rejection::UnknownAccount { .. })));
            assert_eq!(balance(&store, a).await, -5_000);
            assert_eq!(balance(&store, b).await, 6_000);
            assert_eq!(balance(&store, c).await, -1_000);
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(
    submit_batch_accepts_its_limit_and_refuses_one_more,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 1_000_000).await;
            let (a, b) = (members[0].id(), members[1].id());
            let make = |n: usize, prefix: &str| -> Vec<Submission> {
                (0..n)
                    .map(|i| Submission::new(key(&format!("{prefix}-{i}")), payment(a, b, 1)))
                    .collect()
            };
            let too_many = store
                .submit_batch(make(SUBMISSIONS_PER_CALL_MAX + 1, "x"))
                .await;
            assert!(too_many.is_err(), "one past the limit is refused");
            assert_eq!(balance(&store, b).await, 0, "and nothing was applied");
            let answers = store
                .submit_batch(make(SUBMISSIONS_PER_CALL_MAX, "y"))
                .await
                .unwrap();
            assert_eq!(answers.len(), SUBMISSIONS_PER_CALL_MAX);
            assert!(answers.iter().all(|a| matches!(a, Ok(Ok(_)))));
            assert_eq!(
                balance(&store, b).await,
                100 * SUBMISSIONS_PER_CALL_MAX as i64
            );
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(
    idempotency_same_content_replays_other_content_conflicts,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let (a, b) = (members[0].id(), members[1].id());
            let first = submit(&store, "k1", payment(a, b, 10)).await.unwrap();
            let again = submit(&store, "k1", payment(a, b, 10)).await.unwrap();
            assert_eq!(first, again, "same key, same content: the original outcome");
            assert_eq!(balance(&store, b).await, 1_000, "applied once");
            assert_eq!(
                submit(&store, "k1", payment(a, b, 11)).await,
                Err(Rejection::IdempotencyConflict)
            );
            // A key whose operation failed stays failed, even once the payment could pass.
            assert!(matches!(
                submit(&store, "k2", payment(a, b, 500)).await,
                Err(Rejection::InsufficientCredit { .. })
            ));
            assert_eq!(
                submit(&store, "k2", payment(a, b, 500)).await,
                Err(Rejection::IdempotencyKeyFailed)
            );
            // In one batch: the second use of a key replays the first.
            let answers = store
                .submit_batch(vec![
                    Submission::new(key("k3"), payment(a, b, 1)),
                    Submission::new(key("k3"), payment(a, b, 1)),
                    Submission::new(key("k3"), payment(a, b, 2)),
                ])
                .await
                .unwrap();
            let answers: Vec<_> = answers.into_iter().map(|a| a.unwrap()).collect();
            assert!(matches!(answers[0], Ok(Outcome::Posted { .. })));
            assert_eq!(answers[0], answers[1]);
            assert_eq!(answers[2], Err(Rejection::IdempotencyConflict));
            assert_eq!(balance(&store, b).await, 1_100);
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(holds_place_capture_void_and_expire, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let store = Store::connect(&url).await.unwrap();
        let (_, members) = network(&store, 2, 100).await;
        let (a, b) = (members[0].id(), members[1].id());
        let place = |units: i64, minutes: i64| Operation::PlaceHold {
            hold: HoldId(0),
            payer: a,
            payee: b,
            amount: Amount::from_units(units),
            expires_at: Utc::now() + Duration::minutes(minutes),
            reference: "PO-7".into(),
            memo: String::new(),
        };
        let Ok(Outcome::HoldPlaced { hold: h1 }) = submit(&store, "h1", place(60, 10)).await else {
            panic!("the hold is placed")
        };
        assert_ne!(h1, HoldId(0), "the store assigned the hold id");
        let account = store.account(a).await.unwrap().unwrap();
        assert_eq!(account.pending(), Amount::from_units(60));
        assert_eq!(account.available(), Some(Amount::from_units(40)));
        // The reservation counts: a payment beyond what is left is refused.
        assert!(matches!(
            submit(&store, "p1", payment(a, b, 50)).await,
            Err(Rejection::InsufficientCredit { .. })
        ));
        let captured = submit(
            &store,
            "c1",
            Operation::CaptureHold {
                hold: h1,
                amount: Some(Amount::from_units(45)),
            },
        )
        .await
        .unwrap();
        assert!(matches!(captured, Outcome::HoldCaptured { hold, .. } if hold == h1));
        let hold = store.hold(h1).await.unwrap().unwrap();
        assert_eq!(hold.status, HoldStatus::Captured);
        assert_eq!(hold.capture, captured.tx());
        assert_eq!(balance(&store, a).await, -4_500);
        assert_eq!(
            store.account(a).await.unwrap().unwrap().pending(),
            Amount::ZERO
        );
        assert!(matches!(
            submit(
                &store,
                "c1-again",
                Operation::CaptureHold {
                    hold: h1,
                    amount: None
                }
            )
            .await,
            Err(Rejection::HoldAlreadyResolved { .. })
        ));

        let Ok(Outcome::HoldPlaced { hold: h2 }) = submit(&store, "h2", place(10, 10)).await else {
            panic!("the hold is placed")
        };
        assert_ne!(h2, h1);
        assert_eq!(
            submit(&store, "v2", Operation::VoidHold { hold: h2 }).await,
            Ok(Outcome::HoldVoided { hold: h2 })
        );
        assert_eq!(
            store.hold(h2).await.unwrap().unwrap().status,
            HoldStatus::Voided
        );

        let Ok(Outcome::HoldPlaced { hold: h3 }) = submit(&store, "h3", place(5, 1)).await else {
            panic!("the hold is placed")
        };
        assert_eq!(store.expire_due_holds(Utc::now()).await.unwrap(), vec![]);
        let later = Utc::now() + Duration::minutes(2);
        assert_eq!(store.expire_due_holds(later).await.unwrap(), vec![h3]);
        assert_eq!(
            store.hold(h3).await.unwrap().unwrap().status,
            HoldStatus::Expired
        );
        assert_eq!(
            store.account(a).await.unwrap().unwrap().pending(),
            Amount::ZERO
        );
        assert_invariants(&store).await;
        store.close().await;
    }
});

story!(
    reverse_limits_status_and_manager_operations,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (system, members) = network(&store, 3, 100).await;
            let (a, b, c) = (members[0].id(), members[1].id(), members[2].id());
            let Ok(Outcome::Posted { tx }) = submit(&store, "p", payment(a, b, 30)).await else {
                panic!("posted")
            };
            let reverse = Operation::Reverse {
                transaction: tx,
                memo: "refund".into(),
            };
            let Ok(Outcome::Posted { tx: reversal }) = submit(&store, "r", reverse.clone()).await
            else {
                panic!("reversed")
            };
            assert_eq!(balance(&store, a).await, 0);
            assert_eq!(
                store
                    .transaction(reversal)
                    .await
                    .unwrap()
                    .unwrap()
                    .reverses(),
                Some(tx)
            );
            assert_eq!(
                submit(&store, "r-again", reverse).await,
                Err(Rejection::AlreadyReversed {
                    transaction: tx,
                    by: reversal
                })
            );

            let limits = Operation::SetLimits {
                account: a,
                credit_limit: Amount::from_units(10),
                max_balance: Some(Amount::from_units(500)),
                reason: "review".into(),
                actor: "manager@example.org".into(),
            };
            assert_eq!(
                submit(&store, "l", limits).await,
                Ok(Outcome::LimitsChanged { account: a })
            );
            let account = store.account(a).await.unwrap().unwrap();
            assert_eq!(account.credit_limit(), Amount::from_units(10));
            assert_eq!(account.max_balance(), Some(Amount::from_units(500)));
            assert!(matches!(
                submit(&store, "p2", payment(a, b, 11)).await,
                Err(Rejection::InsufficientCredit { .. })
            ));

            let freeze = Operation::SetStatus {
                account: c,
                status: AccountStatus::Frozen,
                reason: "unpaid fees".into(),
                actor: "manager@example.org".into(),
            };
            assert_eq!(
                submit(&store, "f", freeze).await,
                Ok(Outcome::StatusChanged { account: c })
            );
            assert_eq!(
                submit(&store, "p3", payment(c, a, 1)).await,
                Err(Rejection::AccountFrozen { account: c })
            );

            let opening = Operation::OpeningBalance {
                account: b,
                amount: Amount::from_units(-80),
                memo: "from the old system".into(),
            };
            assert!(submit(&store, "o", opening).await.is_ok());
            assert_eq!(balance(&store, b).await, -8_000);
            let charge = Operation::Charge {
                kind: ChargeKind::Fee,
                payer: b,
                amount: Amount::from_units(5),
                reference: "2026".into(),
                memo: "membership".into(),
            };
            assert!(submit(&store, "ch", charge).await.is_ok());
            assert_eq!(balance(&store, system.fees).await, 500);
            let adjustment = Operation::Adjustment {
                from: system.fees,
                to: a,
                amount: Amount::from_units(2),
                reference: String::new(),
                memo: "goodwill".into(),
            };
            assert!(submit(&store, "adj", adjustment).await.is_ok());
            let contribution = Operation::Charge {
                kind: ChargeKind::FundContribution,
                payer: a,
                amount: Amount::from_units(1),
                reference: String::new(),
                memo: "fund".into(),
            };
            assert!(submit(&store, "fc", contribution).await.is_ok());
            assert_eq!(balance(&store, system.fund).await, 100);

            // b owes 85: the fund (1) absorbs what it can, the losses account the rest.
            let write_off = Operation::WriteOff {
                account: b,
                reason: "bankrupt".into(),
                actor: "manager@example.org".into(),
            };
            let Ok(Outcome::WrittenOff { .. }) = submit(&store, "wo", write_off).await else {
                panic!("written off")
            };
            let written_off = store.account(b).await.unwrap().unwrap();
            assert_eq!(written_off.status(), AccountStatus::Closed);
            assert_eq!(written_off.balance(), Amount::ZERO);
            assert_eq!(balance(&store, system.fund).await, 0);
            assert_eq!(balance(&store, system.losses).await, -8_400);
            let recovery = Operation::Recovery {
                account: b,
                amount: Amount::from_units(20),
                memo: "liquidator".into(),
            };
            assert!(submit(&store, "rec", recovery).await.is_ok());
            assert_eq!(balance(&store, system.fund).await, 2_000);
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(
    history_is_keyset_paginated_with_a_page_size_limit,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 1_000).await;
            let (a, b) = (members[0].id(), members[1].id());
            let mut posted = Vec::new();
            for i in 0..5 {
                let Ok(Outcome::Posted { tx }) =
                    submit(&store, &format!("p{i}"), payment(a, b, i + 1)).await
                else {
                    panic!("posted")
                };
                posted.push(tx);
            }
            let mut seen = Vec::new();
            let mut before = None;
            let mut pages = 0;
            loop {
                let page = store.history(b, before, 2).await.unwrap();
                pages += 1;
                seen.extend(page.entries.iter().map(|e| e.transaction.id()));
                match page.next_before {
                    Some(cursor) => before = Some(cursor),
                    None => break,
                }
            }
            assert_eq!(pages, 3);
            posted.reverse();
            assert_eq!(seen, posted, "newest first, each once");
            assert!(store.history(b, None, HISTORY_PAGE_SIZE_MAX).await.is_ok());
            assert!(store
                .history(b, None, HISTORY_PAGE_SIZE_MAX + 1)
                .await
                .is_err());
            assert!(store.history(b, None, 0).await.is_err());
            // The chart's reading: each transaction's net, newest first, with no transaction
            // loaded; the same figures as the history's, bounded the same way.
            let moves = store.balance_moves(b, 10).await.unwrap();
            assert_eq!(
                moves,
                (1..=5).rev().map(Amount::from_units).collect::<Vec<_>>()
            );
            let first_page = store.history(b, None, 2).await.unwrap();
            let nets: Vec<Amount> = first_page.entries.iter().map(|e| e.net).collect();
            assert_eq!(store.balance_moves(b, 2).await.unwrap(), nets);
            assert_eq!(
                store.balance_moves(a, 10).await.unwrap(),
                (1..=5)
                    .rev()
                    .map(|units| Amount::from_units(-units))
                    .collect::<Vec<_>>()
            );
            assert!(store.balance_moves(b, HISTORY_PAGE_SIZE_MAX).await.is_ok());
            assert!(store
                .balance_moves(b, HISTORY_PAGE_SIZE_MAX + 1)
                .await
                .is_err());
            assert!(store.balance_moves(b, 0).await.is_err());
            store.close().await;
        }
    }
);

story!(
    history_is_in_date_order_with_back_dated_transactions,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 1_000).await;
            let (a, b) = (members[0].id(), members[1].id());
            let now = Utc::now();
            // Written in this order; dated now, 10 days ago, now, 20 days ago, and 10 days
            // ago again (the same instant as the second: the later id comes first).
            let ten_days_ago = now - Duration::days(10);
            let dates = [
                None,
                Some(ten_days_ago),
                None,
                Some(now - Duration::days(20)),
                Some(ten_days_ago),
            ];
            let mut posted = Vec::new();
            for (i, date) in dates.into_iter().enumerate() {
                let mut submission =
                    Submission::new(key(&format!("d{i}")), payment(a, b, i as i64 + 1));
                if let Some(date) = date {
                    submission = submission.at(date);
                }
                let Ok(Ok(Outcome::Posted { tx })) = store.submit(submission).await else {
                    panic!("posted")
                };
                posted.push(tx);
            }
            let expected = vec![posted[2], posted[0], posted[4], posted[1], posted[3]];
            let everything = store.history(b, None, 10).await.unwrap();
            let ids: Vec<_> = everything
                .entries
                .iter()
                .map(|e| e.transaction.id())
                .collect();
            assert_eq!(ids, expected, "newest date first, then the higher id");
            // Keyset pages of 2 walk the same order, each line once, across the equal dates.
            let mut seen = Vec::new();
            let mut before = None;
            for _ in 0..10 {
                let page = store.history(b, before, 2).await.unwrap();
                seen.extend(page.entries.iter().map(|e| e.transaction.id()));
                before = page.next_before;
                if before.is_none() {
                    break;
                }
            }
            assert_eq!(seen, expected);
            // The chart's nets and the web history's lines in the same order.
            let units = [3, 1, 5, 2, 4];
            assert_eq!(
                store.balance_moves(b, 10).await.unwrap(),
                units.map(Amount::from_units).to_vec()
            );
            let filter = web::activity::Filter::default();
            let lines = web::activity::history(&store, b, &filter, None, 10)
                .await
                .unwrap();
            let ids: Vec<_> = lines.lines.iter().map(|l| l.transaction.id()).collect();
            assert_eq!(ids, expected);
            let second = web::activity::history(&store, b, &filter, Some(posted[0]), 2)
                .await
                .unwrap();
            let ids: Vec<_> = second.lines.iter().map(|l| l.transaction.id()).collect();
            assert_eq!(ids, vec![posted[4], posted[1]]);
            assert_eq!(second.next_before, Some(posted[1]));
            // A period is a range of dates: only the two lines of ten days ago.
            let period = web::activity::Filter {
                from: Some(ten_days_ago - Duration::days(1)),
                to: Some(ten_days_ago + Duration::days(1)),
                ..Default::default()
            };
            let lines = web::activity::history(&store, b, &period, None, 10)
                .await
                .unwrap();
            let ids: Vec<_> = lines.lines.iter().map(|l| l.transaction.id()).collect();
            assert_eq!(ids, vec![posted[4], posted[1]]);
            // A cursor naming no transaction gives an empty page, not the first one.
            let nowhere = ledger::TxId(999_999);
            let page = store.history(b, Some(nowhere), 10).await.unwrap();
            assert!(page.entries.is_empty() && page.next_before.is_none());
            let page = web::activity::history(&store, b, &filter, Some(nowhere), 10)
                .await
                .unwrap();
            assert!(page.lines.is_empty());
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(restart_changes_nothing, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let store = Store::connect(&url).await.unwrap();
        let (system, members) = network(&store, 3, 100).await;
        for i in 0..20 {
            let payer = members[i % 3].id();
            let payee = members[(i + 1) % 3].id();
            let _ = submit(&store, &format!("p{i}"), payment(payer, payee, 7)).await;
        }
        let before = store.accounts().await.unwrap();
        let history = store.history(members[0].id(), None, 50).await.unwrap();
        store.close().await;

        let store = Store::connect(&url).await.unwrap();
        assert_eq!(store.accounts().await.unwrap(), before);
        assert_eq!(
            store.history(members[0].id(), None, 50).await.unwrap(),
            history
        );
        assert_eq!(store.system_accounts().await.unwrap(), system);
        assert!(matches!(
            store
                .create_network("again", ledger::Policy::default())
                .await,
            Err(web::store::StoreError::NetworkExists)
        ));
        // A replay after the restart still answers from the stored result.
        assert!(
            submit(&store, "p0", payment(members[0].id(), members[1].id(), 7))
                .await
                .is_ok()
        );
        assert_eq!(store.accounts().await.unwrap(), before);
        assert_invariants(&store).await;
        store.close().await;
    }
});

story!(
    accounts_open_at_zero_within_the_per_call_limit,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store, 0, 0).await;
            let one = store
                .open_account(Amount::from_units(100), Some(Amount::from_units(1_000)))
                .await
                .unwrap();
            let read = store.account(one.id()).await.unwrap().unwrap();
            assert_eq!(read, one);
            assert_eq!(read.balance(), Amount::ZERO);
            assert!(store
                .open_account(Amount::from_minor(-1), None)
                .await
                .is_err());
            let too_many = store
                .open_accounts(OPEN_ACCOUNTS_PER_CALL_MAX + 1, Amount::ZERO, None)
                .await;
            assert!(too_many.is_err());
            let many = store
                .open_accounts(OPEN_ACCOUNTS_PER_CALL_MAX, Amount::ZERO, None)
                .await
                .unwrap();
            assert_eq!(many.len(), OPEN_ACCOUNTS_PER_CALL_MAX);
            // 4 system accounts, the one above and the batch.
            assert_eq!(
                store.accounts().await.unwrap().len(),
                5 + OPEN_ACCOUNTS_PER_CALL_MAX
            );
            assert!(store
                .create_network("", ledger::Policy::default())
                .await
                .is_err());
            store.close().await;
        }
    }
);

story!(
    network_name_is_limited_and_created_once,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let too_long = "n".repeat(NETWORK_NAME_LEN_MAX + 1);
            assert!(store
                .create_network(&too_long, ledger::Policy::default())
                .await
                .is_err());
            assert!(store
                .create_network("   ", ledger::Policy::default())
                .await
                .is_err());
            assert_eq!(store.network_name().await.unwrap(), None);
            assert!(matches!(
                store.system_accounts().await,
                Err(web::store::StoreError::NoNetwork)
            ));
            // Without a network, the write path answers with the store's error, not a decision.
            let answer = store
                .submit(Submission::new(
                    key("early"),
                    payment(ledger::AccountId(1), ledger::AccountId(2), 1),
                ))
                .await;
            assert!(answer.is_err());
            let at_limit = "é".repeat(NETWORK_NAME_LEN_MAX);
            store
                .create_network(&at_limit, ledger::Policy::default())
                .await
                .unwrap();
            assert_eq!(store.network_name().await.unwrap(), Some(at_limit));
            assert!(matches!(
                store
                    .create_network("second", ledger::Policy::default())
                    .await,
                Err(web::store::StoreError::NetworkExists)
            ));
            store.close().await;
        }
    }
);

/// SQLite: the writer's commits only append to the WAL; the background WAL checkpointer
/// copies committed pages into the database file soon after, without anyone asking. Shown
/// by reading the database file alone (`immutable=1` makes SQLite ignore the WAL): the
/// payments are there within a few checkpoint intervals, long before the writer's own
/// fallback threshold could have been reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_is_checkpointed_in_the_background() {
    let db = tests::TestDb::sqlite().await;
    let store = Store::connect(db.url()).await.unwrap();
    let (_, members) = network(&store, 2, 1_000).await;
    let (a, b) = (members[0].id(), members[1].id());
    for n in 0..20 {
        submit(&store, &format!("wal-{n}"), payment(a, b, 1))
            .await
            .unwrap();
    }
    let path = web::store::sqlite_path(db.url()).unwrap();
    let url = format!("sqlite://{}?mode=ro&immutable=1", path.display());
    let mut in_file = 0;
    // Bounded wait: 50 intervals.
    for _ in 0..50 {
        tokio::time::sleep(web::store::SQLITE_CHECKPOINT_INTERVAL).await;
        let reader = sqlx::SqlitePool::connect(&url).await.unwrap();
        in_file = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM transactions")
            .fetch_one(&reader)
            .await
            .unwrap();
        reader.close().await;
        if in_file == 20 {
            break;
        }
    }
    assert_eq!(
        in_file, 20,
        "the database file holds every committed payment"
    );
    store.close().await;
}

story!(
    several_accounts_are_read_at_once_within_a_bound,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (system, members) = network(&store, 3, 100).await;
            let (a, b, c) = (members[0].id(), members[1].id(), members[2].id());
            assert!(submit(&store, "p", payment(a, b, 7)).await.is_ok());
            // By id, with their current state; an id of no account is left out.
            let ids: std::collections::BTreeSet<AccountId> =
                [b, a, AccountId(999_999)].into_iter().collect();
            let read = store.accounts_of(&ids).await.unwrap();
            assert_eq!(read.iter().map(|x| x.id()).collect::<Vec<_>>(), vec![a, b]);
            assert_eq!(read[0].balance().minor(), balance(&store, a).await);
            assert_eq!(read[1].balance().minor(), balance(&store, b).await);
            assert_eq!(read[0], store.account(a).await.unwrap().unwrap());
            assert!(store
                .accounts_of(&Default::default())
                .await
                .unwrap()
                .is_empty());
            // The bound: ACCOUNTS_READ_MAX ids are read, one more is refused.
            let mut many: std::collections::BTreeSet<AccountId> = (1..=ACCOUNTS_READ_MAX as u64)
                .map(|n| AccountId(1_000_000 + n))
                .collect();
            many.insert(system.fund);
            many.remove(&AccountId(1_000_000 + 1));
            assert_eq!(many.len(), ACCOUNTS_READ_MAX);
            let read = store.accounts_of(&many).await.unwrap();
            assert_eq!(
                read.iter().map(|x| x.id()).collect::<Vec<_>>(),
                vec![system.fund]
            );
            many.insert(c);
            assert!(matches!(
                store.accounts_of(&many).await,
                Err(StoreError::Invalid(_))
            ));
            store.close().await;
        }
    }
);
