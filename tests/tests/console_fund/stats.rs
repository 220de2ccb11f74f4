//! Network health on a known small network, every figure computed by hand; the open data's
//! suppression rule; brokering matches.

use chrono::{DateTime, TimeZone, Utc};
use ledger::{Amount, Operation};
use rust_decimal::Decimal;
use tests::story;
use web::market::{self, Kind, ListingContent};
use web::network::open_data::{self, Published, OTHER_SECTORS};
use web::network::stats::{self, NetworkHealth};
use web::network::{brokering, NetworkError};
use web::people::Member;
use web::store::{Store, Submission};

use super::{accountant, company, free_network, key, manager, pay};

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

/// "Now" for these stories: 15 June 2026, noon.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn units(u: i64) -> Amount {
    Amount::from_units(u)
}

/// Five members, no fees:
///
/// | | sector | city | trades | balance |
/// |---|---|---|---|---|
/// | A | informatique | Lyon | buys 1 000 (Apr 10), sells 300 (May 20), buys 100 (Jun 10) | −800 |
/// | B | informatique | Lyon | sells 400 (May 5), buys 200 (Jun 1) | 200 |
/// | C | btp | Lyon | sells 1 000 (Apr 10), buys 400 (May 5) | 600 |
/// | D | btp | Grenoble | sells 10 (Mar 2025), buys 300 (May 20), sells 100 (Jun 10) | −190 |
/// | E | commerce | Lyon | buys 10 (Mar 2025), sells 200 (Jun 1); 50 paid to C on Jun 11, reversed Jun 12 | 190 |
async fn known_network(store: &Store) -> Vec<Member> {
    free_network(store).await;
    let a = company(store, 1, "a", "informatique", "Lyon", 10_000).await;
    let b = company(store, 2, "b", "informatique", "Lyon", 10_000).await;
    let c = company(store, 3, "c", "btp", "Lyon", 10_000).await;
    let d = company(store, 4, "d", "btp", "Grenoble", 10_000).await;
    let e = company(store, 5, "e", "commerce", "Lyon", 10_000).await;
    pay(store, "t0", &e, &d, 1_000, Some(at(2025, 3, 1))).await;
    pay(store, "t1", &a, &c, 100_000, Some(at(2026, 4, 10))).await;
    pay(store, "t2", &c, &b, 40_000, Some(at(2026, 5, 5))).await;
    pay(store, "t3", &d, &a, 30_000, Some(at(2026, 5, 20))).await;
    pay(store, "t4", &b, &e, 20_000, Some(at(2026, 6, 1))).await;
    pay(store, "t5", &a, &d, 10_000, Some(at(2026, 6, 10))).await;
    let t6 = pay(store, "t6", &e, &c, 5_000, Some(at(2026, 6, 11))).await;
    let reverse = Operation::Reverse {
        transaction: t6,
        memo: "erreur".into(),
    };
    store
        .submit(Submission::new(key("t6-reversed"), reverse).at(at(2026, 6, 12)))
        .await
        .unwrap()
        .unwrap();
    vec![a, b, c, d, e]
}

async fn health(store: &Store, months: u32) -> NetworkHealth {
    stats::network_health(store, &accountant(), now(), months)
        .await
        .unwrap()
}

story!(
    network_health_on_a_known_small_network,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let m = known_network(&store).await;
            let balances: Vec<i64> = {
                let mut v = Vec::new();
                for member in &m {
                    v.push(crate::console_fund::balance(&store, member).await);
                }
                v
            };
            assert_eq!(balances, [-80_000, 20_000, 60_000, -19_000, 19_000]);
            let h = health(&store, 3).await;
            assert_eq!(h.members.total, 5);
            assert_eq!(h.members.active, 5);
            // Since 16 May: A, D (May 20), B, E (Jun 1), A, D (Jun 10); the reversed trade
            // does not count. Since 17 March: everyone.
            assert_eq!(h.active_short, 4);
            assert_eq!(h.active_long, 5);

            // April, May, June: trades, volume, traders; fund 0; exposure and money supply
            // at each month end (June: now).
            let months: Vec<(String, u64, i64, u64, i64, i64, u64)> = h
                .months
                .iter()
                .map(|f| {
                    (
                        f.label(),
                        f.trades,
                        f.volume.minor(),
                        f.traders,
                        f.exposure.minor(),
                        f.money_supply.minor(),
                        f.debtors,
                    )
                })
                .collect();
            assert_eq!(
                months,
                [
                    ("2026-04".to_owned(), 1, 100_000, 2, 101_000, 101_000, 2),
                    ("2026-05".to_owned(), 2, 70_000, 4, 100_000, 100_000, 3),
                    ("2026-06".to_owned(), 2, 30_000, 4, 99_000, 99_000, 2),
                ]
            );
            assert!(h.months.iter().all(|f| f.fund_balance == Amount::ZERO));

            // Velocity over June 2025 – May 2026: volume 1 000 + 400 + 300 = 1 700; money
            // supply 10 at the end of each month from June 2025 to March 2026 (D's 10 from
            // March 2025), 1 010 in April, 1 000 in May: average 2 110 ÷ 12 = 175,83…;
            // 1 700 × 12 ÷ 2 110 = 9,668… → 9,67 a year.
            assert_eq!(h.velocity.volume, units(1_700));
            assert_eq!(h.velocity.average_money_supply, Amount::from_minor(17_583));
            assert_eq!(h.velocity.per_year, Some(Decimal::new(967, 2)));
            assert_eq!(h.velocity.traders, 4);
            // Greco: debt 800 + 190 = 990; volume over March–May (92 days) 1 700:
            // 990 × 92 ÷ 1 700 = 53,57… → 53,6 days.
            assert_eq!(h.greco.debt, units(990));
            assert_eq!(h.greco.volume, units(1_700));
            assert_eq!(h.greco.period_days, 92);
            assert_eq!(h.greco.days, Some(Decimal::new(536, 1)));
            assert_eq!(h.greco.traders, 4);

            // Histogram: A and D in [−1 000, 0); B, C and E in (0, 1 000].
            let counts: Vec<u64> = h.histogram.iter().map(|b| b.members).collect();
            assert_eq!(counts, [0, 0, 0, 2, 0, 3, 0, 0, 0]);
            assert!(h.histogram[4].is_zero());
            assert_eq!(h.histogram[3].low, Some(units(-1_000)));
            assert_eq!(h.histogram[3].high, Some(Amount::ZERO));

            // Sectors over April–June, net buyers first.
            let sectors: Vec<(String, u64, i64, i64, i64, i64)> = h
                .sectors
                .iter()
                .map(|s| {
                    (
                        s.sector.clone(),
                        s.members,
                        s.sales.minor(),
                        s.purchases.minor(),
                        s.net.minor(),
                        s.balance.minor(),
                    )
                })
                .collect();
            assert_eq!(
                sectors,
                [
                    (
                        "informatique".to_owned(),
                        2,
                        70_000,
                        130_000,
                        -60_000,
                        -60_000
                    ),
                    ("commerce".to_owned(), 1, 20_000, 0, 20_000, 19_000),
                    ("btp".to_owned(), 2, 110_000, 70_000, 40_000, 41_000),
                ]
            );
            assert_eq!(h.debtors, 2);
            assert_eq!(h.creditors, 3);

            // Twelve months: March 2025 is still out of the window.
            let year = health(&store, 12).await;
            assert_eq!(year.months.len(), 12);
            assert_eq!(year.months[0].label(), "2025-07");
            assert_eq!(
                year.months.iter().map(|m| m.trades).sum::<u64>(),
                5,
                "the reversed trade is not counted"
            );
            for months in [0, stats::STATS_MONTHS_MAX + 1] {
                assert!(matches!(
                    stats::network_health(&store, &accountant(), now(), months).await,
                    Err(NetworkError::Invalid(_))
                ));
            }
            assert_eq!(
                health(&store, stats::STATS_MONTHS_MAX).await.months.len(),
                stats::STATS_MONTHS_MAX as usize
            );
            store.close().await;
        }
    }
);

story!(
    the_monthly_aggregates_count_every_transaction_once_as_the_ledger_grows,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let m = known_network(&store).await;
            let first = health(&store, 3).await;
            // More activity after the first report: a trade in May (dated back), the reversal
            // of April's trade, and a trade today; several reports at once.
            pay(&store, "late", &m[1], &m[2], 2_000, Some(at(2026, 5, 25))).await;
            let history = store
                .history(crate::console_fund::account(&m[0]), None, 50)
                .await
                .unwrap();
            let april = history
                .entries
                .iter()
                .find(|e| e.transaction.time() == at(2026, 4, 10))
                .unwrap()
                .transaction
                .id();
            let reverse = Operation::Reverse {
                transaction: april,
                memo: "annulation".into(),
            };
            store
                .submit(Submission::new(key("undo-april"), reverse).at(at(2026, 6, 14)))
                .await
                .unwrap()
                .unwrap();
            pay(&store, "today", &m[4], &m[3], 3_000, Some(at(2026, 6, 15))).await;
            let reports = futures_all(&store).await;
            for report in &reports {
                assert_eq!(report.months, reports[0].months);
            }
            let months: Vec<(String, u64, i64)> = reports[0]
                .months
                .iter()
                .map(|f| (f.label(), f.trades, f.volume.minor()))
                .collect();
            assert_eq!(
                months,
                [
                    ("2026-04".to_owned(), 0, 0),
                    ("2026-05".to_owned(), 3, 72_000),
                    ("2026-06".to_owned(), 3, 33_000),
                ]
            );
            assert_ne!(first.months, reports[0].months);
            // The same figures as aggregates rebuilt from nothing.
            web::dispatch!(store.backend(), pool => {
                sqlx::query("DELETE FROM stats_months").execute(pool).await.unwrap();
                sqlx::query("DELETE FROM stats_state").execute(pool).await.unwrap();
            });
            let rebuilt = health(&store, 3).await;
            assert_eq!(rebuilt.months, reports[0].months);
            assert_eq!(rebuilt.sectors, reports[0].sectors);
            assert_eq!(rebuilt.velocity, reports[0].velocity);
            store.close().await;
        }
    }
);

/// Four reports computed at the same time (they refresh the aggregates concurrently).
async fn futures_all(store: &Store) -> Vec<NetworkHealth> {
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            stats::network_health(&store, &accountant(), now(), 3)
                .await
                .unwrap()
        }));
    }
    let mut reports = Vec::new();
    for handle in handles {
        reports.push(handle.await.unwrap());
    }
    reports
}

story!(
    open_data_publishes_only_aggregates_of_three_members_or_more,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            known_network(&store).await;
            let h = stats::network_health(&store, &accountant(), now(), 12)
                .await
                .unwrap();
            let accounts = store.accounts().await.unwrap();
            let data = open_data::anonymise(&h, &ledger::fund::fund_metrics(&accounts));
            assert_eq!(data.members, 5);
            // April has 2 traders: suppressed; May and June have 4.
            let april = data
                .months
                .iter()
                .find(|m| m.month.to_string() == "2026-04-01");
            let april = april.unwrap();
            assert_eq!(april.trades, Published::Suppressed);
            assert_eq!(april.volume, Published::Suppressed);
            let may = data
                .months
                .iter()
                .find(|m| m.month.to_string() == "2026-05-01");
            assert_eq!(may.unwrap().volume, Published::Value(units(700)));
            // Two debtors: the debt, the coverage and the Greco indicator are suppressed.
            assert_eq!(data.debt, Published::Suppressed);
            assert_eq!(data.coverage_ratio, Published::Suppressed);
            assert_eq!(data.greco_days, Published::Suppressed);
            // 4 traders over the velocity's months and 3 members in credit: published.
            assert_eq!(data.velocity, Published::Value(Some(Decimal::new(967, 2))));
            // Histogram: 2 members in [−1 000, 0) suppressed, 3 in (0, 1 000] shown.
            assert_eq!(data.histogram[3].members, Published::Suppressed);
            assert_eq!(data.histogram[5].members, Published::Value(3));
            assert_eq!(data.histogram[0].members, Published::Value(0));
            // Every sector has fewer than 3 members: one pooled row of 5.
            assert_eq!(data.sectors.len(), 1);
            assert_eq!(data.sectors[0].sector, OTHER_SECTORS);
            assert_eq!(data.sectors[0].members, 5);
            assert_eq!(
                data.sectors[0].figures,
                Published::Value((units(2_000), units(2_000), Amount::ZERO))
            );
            store.close().await;
        }
    }
);

async fn listing(store: &Store, member: &Member, kind: Kind, category: &str, city: &str) -> i64 {
    let content = ListingContent {
        kind,
        title: format!("{} {category}", kind.as_str()),
        description: String::new(),
        category: category.into(),
        price_minor: None,
        vat_bp: 2_000,
        city: city.into(),
        active_until: "2099-12-31".into(),
    };
    market::create(store, member.id, &content, None)
        .await
        .unwrap()
}

story!(
    brokering_matches_creditors_with_offers_and_debtors_with_wants,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let m = known_network(&store).await;
            let (a, b, c, d, e) = (&m[0], &m[1], &m[2], &m[3], &m[4]);
            let a_offer = listing(&store, a, Kind::Offer, "informatique", "Lyon").await;
            let d_offer = listing(&store, d, Kind::Offer, "btp", "Grenoble").await;
            let c_want = listing(&store, c, Kind::Want, "informatique", "Lyon").await;
            let e_want = listing(&store, e, Kind::Want, "btp", "Lyon").await;
            // Closed or expired listings are never suggested.
            let closed = listing(&store, d, Kind::Offer, "informatique", "Lyon").await;
            market::close(&store, closed, d.id).await.unwrap();
            let today = "2026-06-15";
            let lists = brokering::brokering(&store, &manager(), today)
                .await
                .unwrap();

            // Creditors, largest first: C (600), B (200), E (190).
            let creditors: Vec<i64> = lists.creditors.iter().map(|s| s.member.id).collect();
            assert_eq!(creditors, [c.id, b.id, e.id]);
            let ids = |s: &brokering::Suggestion| -> Vec<i64> {
                s.matches.iter().map(|x| x.listing.id).collect()
            };
            // C wants informatique: A's offer, in Lyon.
            assert_eq!(ids(&lists.creditors[0]), [a_offer]);
            assert!(lists.creditors[0].matches[0].same_city);
            // B has no want: any offer, its city first.
            assert_eq!(ids(&lists.creditors[1]), [a_offer, d_offer]);
            assert!(!lists.creditors[1].matches[1].same_city);
            // E wants btp: D's offer in Grenoble.
            assert_eq!(ids(&lists.creditors[2]), [d_offer]);

            // Debtors, deepest first: A (−800), D (−190).
            let debtors: Vec<i64> = lists.debtors.iter().map(|s| s.member.id).collect();
            assert_eq!(debtors, [a.id, d.id]);
            // A sells informatique: C's want. D sells btp: E's want, in another city.
            assert_eq!(ids(&lists.debtors[0]), [c_want]);
            assert_eq!(ids(&lists.debtors[1]), [e_want]);
            assert!(!lists.debtors[1].matches[0].same_city);
            assert_eq!(lists.debtors[1].matches[0].counterparty_balance, units(190));
            assert!(lists.creditors.iter().all(|s| !s.leaving));
            assert!(matches!(
                brokering::brokering(&store, &accountant(), today).await,
                Err(NetworkError::Forbidden)
            ));

            // E and D give notice that they leave: each comes first on its side, marked,
            // whatever its balance.
            for (member, email) in [(e, "owner@e.fr"), (d, "owner@d.fr")] {
                let (owner, _) = web::people::find_login(&store, email)
                    .await
                    .unwrap()
                    .unwrap();
                web::console::departures::ask(&store, &owner, member, "Départ")
                    .await
                    .unwrap();
            }
            let lists = brokering::brokering(&store, &manager(), today)
                .await
                .unwrap();
            let creditors: Vec<(i64, bool)> = lists
                .creditors
                .iter()
                .map(|s| (s.member.id, s.leaving))
                .collect();
            assert_eq!(creditors, [(e.id, true), (c.id, false), (b.id, false)]);
            let debtors: Vec<(i64, bool)> = lists
                .debtors
                .iter()
                .map(|s| (s.member.id, s.leaving))
                .collect();
            assert_eq!(debtors, [(d.id, true), (a.id, false)]);
            store.close().await;
        }
    }
);
