//! The default workflow: the preview shows exactly what the write-off posts (the fund first,
//! then the losses account), the write-off closes the account and is in the action log, the
//! ledger's refusals come back typed, and recoveries replenish the fund.

use chrono::{Duration, Utc};
use ledger::fund::Absorption;
use ledger::{AccountStatus, Amount, HoldId, Operation, Rejection};
use tests::story;
use web::network::fund::{self, ACTION_RECOVERY, ACTION_WRITE_OFF};
use web::network::{Memo, NetworkError, Reason};
use web::store::{ActionFilter, Store, Submission};

use super::{accountant, balance, company, key, manager, network, pay};

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

async fn fund_balance(store: &Store) -> i64 {
    let system = store.system_accounts().await.unwrap();
    store
        .account(system.fund)
        .await
        .unwrap()
        .unwrap()
        .balance()
        .minor()
}

async fn losses_balance(store: &Store) -> i64 {
    let system = store.system_accounts().await.unwrap();
    store
        .account(system.losses)
        .await
        .unwrap()
        .unwrap()
        .balance()
        .minor()
}

story!(
    a_default_larger_than_the_fund_takes_the_fund_first_then_the_losses_account,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let defaulter = company(&store, 1, "defaillante", "btp", "Lyon", 10_000).await;
            let seller = company(&store, 2, "vendeur", "btp", "Lyon", 10_000).await;
            // 5 000,00 bought: 1 % (50,00) to the fund paid by the buyer, so the buyer owes
            // 5 050,00 and the fund holds 50,00.
            pay(&store, "buy", &defaulter, &seller, 500_000, None).await;
            assert_eq!(balance(&store, &defaulter).await, -505_000);
            assert_eq!(fund_balance(&store).await, 5_000);

            let preview = fund::default_preview(&store, &manager(), defaulter.id)
                .await
                .unwrap();
            let expected = Absorption {
                loss: Amount::from_minor(505_000),
                from_fund: Amount::from_minor(5_000),
                from_losses: Amount::from_minor(500_000),
            };
            assert_eq!(preview.absorption, Ok(expected));
            assert_eq!(preview.fund_balance, Amount::from_minor(5_000));
            assert!(preview.written_off.is_none());
            // The preview changed nothing.
            assert_eq!(balance(&store, &defaulter).await, -505_000);

            let done = fund::write_off(
                &store,
                &manager(),
                defaulter.id,
                &reason("Liquidation judiciaire"),
                key("writeoff-1"),
            )
            .await
            .unwrap();
            assert_eq!(
                done.absorption, expected,
                "what was posted is what was shown"
            );
            assert_eq!(balance(&store, &defaulter).await, 0);
            assert_eq!(fund_balance(&store).await, 0);
            assert_eq!(losses_balance(&store).await, -500_000);
            let account = store
                .account(crate::console_fund::account(&defaulter))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(account.status(), AccountStatus::Closed);
            // The transaction: member +5 050,00, fund −50,00, losses −5 000,00.
            let tx = store.transaction(done.tx).await.unwrap().unwrap();
            let system = store.system_accounts().await.unwrap();
            let amounts: Vec<(ledger::AccountId, i64)> = tx
                .postings()
                .iter()
                .map(|p| (p.account, p.amount.minor()))
                .collect();
            assert_eq!(
                amounts,
                [
                    (crate::console_fund::account(&defaulter), 505_000),
                    (system.fund, -5_000),
                    (system.losses, -500_000)
                ]
            );

            // The action log: who, why, the account before and after, and the preview.
            let filter = ActionFilter {
                action: Some(ACTION_WRITE_OFF.into()),
                ..ActionFilter::default()
            };
            let entries = store.actions(&filter, 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            let entry = &entries[0];
            assert_eq!(entry.actor, "gestion@reseau.fr");
            assert_eq!(entry.reason, "Liquidation judiciaire");
            assert_eq!(entry.member_id, Some(defaulter.id));
            assert_eq!(entry.before["account"]["balance"], -505_000);
            assert_eq!(entry.before["account"]["status"], "active");
            assert_eq!(entry.after["account"]["status"], "closed");
            assert_eq!(entry.after["account"]["balance"], 0);
            assert_eq!(entry.before["detail"]["preview"]["from_fund"], 5_000);
            assert_eq!(entry.before["detail"]["preview"]["from_losses"], 500_000);
            assert_eq!(entry.after["outcome"]["outcome"], "written_off");

            // A second write-off is refused: the account is closed. The page then shows the
            // write-off that was made.
            let again = fund::write_off(
                &store,
                &manager(),
                defaulter.id,
                &reason("again"),
                key("writeoff-2"),
            )
            .await;
            assert!(matches!(
                again,
                Err(NetworkError::Rejected(Rejection::AccountClosed { .. }))
            ));
            let preview = fund::default_preview(&store, &manager(), defaulter.id)
                .await
                .unwrap();
            assert!(matches!(
                preview.absorption,
                Err(Rejection::AccountClosed { .. })
            ));
            let written = preview.written_off.unwrap();
            assert_eq!(written.tx, done.tx);
            assert_eq!(written.absorption, expected);
            assert_eq!(written.recovered, Amount::ZERO);
            store
                .check_invariants()
                .await
                .unwrap()
                .expect("invariants hold");
            store.close().await;
        }
    }
);

story!(
    a_default_smaller_than_the_fund_is_covered_by_the_fund_alone,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let small = company(&store, 1, "petite", "btp", "Lyon", 10_000).await;
            let big = company(&store, 2, "grande", "btp", "Lyon", 100_000).await;
            let seller = company(&store, 3, "vendeur", "btp", "Lyon", 10_000).await;
            // The big buyer feeds the fund with 500,00; the small one owes 101,00.
            pay(&store, "big", &big, &seller, 5_000_000, None).await;
            pay(&store, "small", &small, &seller, 10_000, None).await;
            assert_eq!(fund_balance(&store).await, 50_100);
            let done = fund::write_off(
                &store,
                &manager(),
                small.id,
                &reason("Cessation d'activité"),
                key("writeoff-small"),
            )
            .await
            .unwrap();
            assert_eq!(
                done.absorption,
                Absorption {
                    loss: Amount::from_minor(10_100),
                    from_fund: Amount::from_minor(10_100),
                    from_losses: Amount::ZERO,
                }
            );
            assert_eq!(fund_balance(&store).await, 40_000);
            assert_eq!(losses_balance(&store).await, 0);
            store.close().await;
        }
    }
);

story!(
    the_ledger_refusals_of_a_write_off_come_back_typed,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let buyer = company(&store, 1, "acheteur", "btp", "Lyon", 10_000).await;
            let seller = company(&store, 2, "vendeur", "btp", "Lyon", 10_000).await;
            pay(&store, "buy", &buyer, &seller, 10_000, None).await;
            // A member in credit has nothing to write off.
            let preview = fund::default_preview(&store, &manager(), seller.id)
                .await
                .unwrap();
            assert!(matches!(
                preview.absorption,
                Err(Rejection::NothingToWriteOff { .. })
            ));
            let refused =
                fund::write_off(&store, &manager(), seller.id, &reason("x"), key("w-seller")).await;
            assert!(matches!(
                refused,
                Err(NetworkError::Rejected(Rejection::NothingToWriteOff { .. }))
            ));
            // Open holds must be released first.
            let hold = Operation::PlaceHold {
                hold: HoldId(0),
                payer: crate::console_fund::account(&buyer),
                payee: crate::console_fund::account(&seller),
                amount: Amount::from_units(10),
                expires_at: Utc::now() + Duration::days(3),
                reference: String::new(),
                memo: "commande".into(),
            };
            store
                .submit(Submission::new(key("hold"), hold))
                .await
                .unwrap()
                .unwrap();
            let preview = fund::default_preview(&store, &manager(), buyer.id)
                .await
                .unwrap();
            assert!(matches!(
                preview.absorption,
                Err(Rejection::OpenHolds { .. })
            ));
            let refused =
                fund::write_off(&store, &manager(), buyer.id, &reason("x"), key("w-buyer")).await;
            assert!(matches!(
                refused,
                Err(NetworkError::Rejected(Rejection::OpenHolds { .. }))
            ));
            // Nothing was written, nothing logged.
            assert_eq!(balance(&store, &buyer).await, -10_100);
            assert!(store
                .actions(&ActionFilter::default(), 10)
                .await
                .unwrap()
                .is_empty());
            // The reason becomes the transaction's memo: at most 280 characters.
            let long = Reason::parse(&"r".repeat(fund::WRITE_OFF_REASON_LEN_MAX + 1)).unwrap();
            assert!(matches!(
                fund::write_off(&store, &manager(), buyer.id, &long, key("w-long")).await,
                Err(NetworkError::Invalid(
                    web::network::InvalidInput::ReasonTooLong { max: 280 }
                ))
            ));
            // Unknown members, and who may act.
            assert!(matches!(
                fund::default_preview(&store, &manager(), 9_999).await,
                Err(NetworkError::UnknownMember)
            ));
            assert!(matches!(
                fund::default_preview(&store, &accountant(), buyer.id).await,
                Err(NetworkError::Forbidden)
            ));
            assert!(matches!(
                fund::write_off(&store, &accountant(), buyer.id, &reason("x"), key("w-acc")).await,
                Err(NetworkError::Forbidden)
            ));
            store.close().await;
        }
    }
);

story!(
    recoveries_replenish_the_fund_and_are_logged,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let defaulter = company(&store, 1, "defaillante", "btp", "Lyon", 10_000).await;
            let seller = company(&store, 2, "vendeur", "btp", "Lyon", 10_000).await;
            pay(&store, "buy", &defaulter, &seller, 100_000, None).await;
            // Not written off yet: a recovery is refused.
            let memo = Memo::parse("Dividende du liquidateur").unwrap();
            let early = fund::record_recovery(
                &store,
                &manager(),
                defaulter.id,
                Amount::from_units(300),
                &memo,
                key("rec-early"),
            )
            .await;
            assert!(matches!(
                early,
                Err(NetworkError::Rejected(Rejection::NotWrittenOff { .. }))
            ));
            fund::write_off(
                &store,
                &manager(),
                defaulter.id,
                &reason("Liquidation"),
                key("writeoff"),
            )
            .await
            .unwrap();
            assert_eq!(fund_balance(&store).await, 0);
            let done = fund::record_recovery(
                &store,
                &manager(),
                defaulter.id,
                Amount::from_units(300),
                &memo,
                key("rec-1"),
            )
            .await
            .unwrap();
            assert_eq!(done.fund_balance, Amount::from_units(300));
            assert_eq!(fund_balance(&store).await, 30_000);
            let system = store.system_accounts().await.unwrap();
            let migration = store.account(system.migration).await.unwrap().unwrap();
            assert_eq!(migration.balance().minor(), -30_000);
            // A zero amount is the ledger's refusal.
            let zero = fund::record_recovery(
                &store,
                &manager(),
                defaulter.id,
                Amount::ZERO,
                &memo,
                key("rec-zero"),
            )
            .await;
            assert!(matches!(
                zero,
                Err(NetworkError::Rejected(Rejection::ZeroAmount))
            ));
            fund::record_recovery(
                &store,
                &manager(),
                defaulter.id,
                Amount::from_minor(5_050),
                &memo,
                key("rec-2"),
            )
            .await
            .unwrap();
            let listed = fund::written_off_members(&store, &accountant())
                .await
                .unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].member.id, defaulter.id);
            assert_eq!(listed[0].recovered, Amount::from_minor(35_050));
            let filter = ActionFilter {
                action: Some(ACTION_RECOVERY.into()),
                ..ActionFilter::default()
            };
            let entries = store.actions(&filter, 10).await.unwrap();
            assert_eq!(entries.len(), 2);
            assert_eq!(entries[1].reason, "Dividende du liquidateur");
            assert_eq!(entries[1].member_id, Some(defaulter.id));
            assert_eq!(entries[1].before["detail"]["fund_balance"], 0);
            assert!(matches!(
                fund::record_recovery(
                    &store,
                    &accountant(),
                    defaulter.id,
                    Amount::from_units(1),
                    &memo,
                    key("rec-acc"),
                )
                .await,
                Err(NetworkError::Forbidden)
            ));
            store
                .check_invariants()
                .await
                .unwrap()
                .expect("invariants hold");
            store.close().await;
        }
    }
);
