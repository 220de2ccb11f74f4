//! The guarantee fund's figures on a seeded network: balance, exposure, coverage, the stress
//! test at its bounds, and the history at month ends.

use chrono::{TimeZone, Utc};
use ledger::{Amount, ChargeKind, Operation};
use rust_decimal::Decimal;
use tests::story;
use web::network::fund::{self, STRESS_K_MAX};
use web::network::{InvalidInput, NetworkError};
use web::store::{Store, Submission};

use super::{accountant, company, free_network, key, manager, pay, Actor};

story!(
    fund_metrics_and_the_stress_test_on_a_seeded_network,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            free_network(&store).await;
            let m: Vec<_> = futures_members(&store).await;
            // Debts 3 000, 1 000 and 500; the seller gives 1 200,00 to the fund.
            pay(&store, "p1", &m[0], &m[4], 300_000, None).await;
            pay(&store, "p2", &m[1], &m[4], 100_000, None).await;
            pay(&store, "p3", &m[2], &m[4], 50_000, None).await;
            let charge = Operation::Charge {
                kind: ChargeKind::FundContribution,
                payer: crate::console_fund::account(&m[4]),
                amount: Amount::from_units(1_200),
                reference: "FG-1".into(),
                memo: "Apport au fonds".into(),
            };
            store
                .submit(Submission::new(key("charge"), charge))
                .await
                .unwrap()
                .unwrap();

            let overview = fund::overview(&store, &accountant()).await.unwrap();
            assert_eq!(overview.metrics.fund_balance, Amount::from_units(1_200));
            assert_eq!(overview.metrics.exposure, Amount::from_units(4_500));
            // 1 200 ÷ 4 500 = 0,26666… → 0,2667.
            assert_eq!(
                overview.metrics.coverage_ratio,
                Some(Decimal::new(2_667, 4))
            );
            assert_eq!(overview.debtors, 3);
            assert_eq!(overview.losses, Amount::ZERO);

            let one = fund::stress(&store, &manager(), 1).await.unwrap();
            assert_eq!(one.test.k, 1);
            assert_eq!(one.test.debt, Amount::from_units(3_000));
            assert_eq!(one.test.absorbed_by_fund, Amount::from_units(1_200));
            assert_eq!(one.test.uncovered, Amount::from_units(1_800));
            assert_eq!(one.test.share_of_fund, Some(Decimal::new(25_000, 4)));
            assert_eq!(one.debtors.len(), 1);
            assert_eq!(one.debtors[0].member.as_ref().unwrap().id, m[0].id);
            let two = fund::stress(&store, &manager(), 2).await.unwrap();
            assert_eq!(two.test.debt, Amount::from_units(4_000));
            assert_eq!(two.test.uncovered, Amount::from_units(2_800));
            assert_eq!(two.test.share_of_fund, Some(Decimal::new(33_333, 4)));
            let names: Vec<i64> = two
                .debtors
                .iter()
                .map(|d| d.member.as_ref().unwrap().id)
                .collect();
            assert_eq!(names, [m[0].id, m[1].id]);
            // More debtors than there are: all three.
            let all = fund::stress(&store, &manager(), STRESS_K_MAX)
                .await
                .unwrap();
            assert_eq!(all.test.k, 3);
            assert_eq!(all.test.debt, Amount::from_units(4_500));
            assert_eq!(all.test.share_of_fund, Some(Decimal::new(37_500, 4)));
            for k in [0, STRESS_K_MAX + 1] {
                assert!(matches!(
                    fund::stress(&store, &manager(), k).await,
                    Err(NetworkError::Invalid(
                        InvalidInput::StressCountOutOfRange { .. }
                    ))
                ));
            }
            let owner = Actor::new(Some(1), "owner@m0.fr", web::people::Role::Owner);
            assert!(matches!(
                fund::overview(&store, &owner).await,
                Err(NetworkError::Forbidden)
            ));
            store.close().await;
        }
    }
);

async fn futures_members(store: &Store) -> Vec<web::people::Member> {
    let mut members = Vec::new();
    for n in 0..5u32 {
        members.push(company(store, n + 1, &format!("m{n}"), "btp", "Lyon", 10_000).await);
    }
    members
}

story!(
    the_fund_history_is_rebuilt_at_month_ends,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            free_network(&store).await;
            let m = futures_members(&store).await;
            let at = |y, mo, d| Utc.with_ymd_and_hms(y, mo, d, 10, 0, 0).unwrap();
            // March: m0 owes 1 000; April: m4 gives 200 to the fund, m1 owes 400 more.
            pay(&store, "mar", &m[0], &m[4], 100_000, Some(at(2026, 3, 5))).await;
            let charge = Operation::Charge {
                kind: ChargeKind::FundContribution,
                payer: crate::console_fund::account(&m[4]),
                amount: Amount::from_units(200),
                reference: String::new(),
                memo: "Apport".into(),
            };
            store
                .submit(Submission::new(key("charge"), charge).at(at(2026, 4, 2)))
                .await
                .unwrap()
                .unwrap();
            pay(&store, "apr", &m[1], &m[2], 40_000, Some(at(2026, 4, 20))).await;
            // May: m0 sells 300 back.
            pay(&store, "may", &m[3], &m[0], 30_000, Some(at(2026, 5, 9))).await;
            let now = Utc.with_ymd_and_hms(2026, 5, 15, 12, 0, 0).unwrap();
            let history = fund::history(&store, &accountant(), now, 4).await.unwrap();
            let rows: Vec<(String, i64, i64)> = history
                .iter()
                .map(|h| (h.label(), h.fund_balance.minor(), h.exposure.minor()))
                .collect();
            assert_eq!(
                rows,
                [
                    ("2026-02".to_owned(), 0, 0),
                    ("2026-03".to_owned(), 0, 100_000),
                    ("2026-04".to_owned(), 20_000, 140_000),
                    ("2026-05".to_owned(), 20_000, 140_000),
                ]
            );
            for months in [0, web::network::stats::STATS_MONTHS_MAX + 1] {
                assert!(fund::history(&store, &accountant(), now, months)
                    .await
                    .is_err());
            }
            assert!(fund::history(
                &store,
                &accountant(),
                now,
                web::network::stats::STATS_MONTHS_MAX
            )
            .await
            .is_ok());
            store.close().await;
        }
    }
);
