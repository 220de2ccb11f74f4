//! The console's pages through the real app: who may see and do what (403s), CSRF, the
//! forms' limits at their maximum and one past it, the default workflow end to end, the
//! charts and CSV files, and the open-data page off by default and anonymous when on.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use tests::story;
use web::http::{AppState, Config, CookieSecurity, OpenData};
use web::people::{self, Member, Role};
use web::store::{ActionFilter, Store};

use super::{balance, company, free_network, network, pay, PASSWORD};
use crate::web_front::client::{self, Client};

async fn staff_users(store: &Store) {
    for (email, role) in [
        ("gestion@reseau.fr", Role::Manager),
        ("compta@reseau.fr", Role::Accountant),
    ] {
        people::create_user(store, email, PASSWORD, email, role, None)
            .await
            .unwrap()
            .unwrap();
    }
}

async fn logged_in(state: &AppState, email: &str) -> Client {
    let mut browser = Client::new(state.clone());
    browser.login(email, PASSWORD).await;
    browser
}

/// The app on a network with fees, two members (one in debt), a manager and an accountant.
async fn setup(url: &str) -> (Store, AppState, Member, Member) {
    let (store, state) = client::state(url).await;
    network(&store).await;
    let buyer = company(&store, 1, "acheteur", "btp", "Lyon", 10_000).await;
    let seller = company(&store, 2, "vendeur", "informatique", "Lyon", 10_000).await;
    staff_users(&store).await;
    (store, state, buyer, seller)
}

const READ_PAGES: [&str; 7] = [
    "/admin/fees",
    "/admin/fund",
    "/admin/fund/history.csv",
    "/admin/stats",
    "/admin/stats/monthly.csv",
    "/admin/stats/sectors.csv",
    "/admin/stats/balances.csv",
];

story!(
    console_pages_are_for_managers_and_accountants_only,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, buyer, _seller) = setup(&url).await;
            let default = format!("/admin/members/{}/default", buyer.id);
            let recovery = format!("/admin/members/{}/recovery", buyer.id);
            let token = "ab".repeat(32);
            let posts = [
                ("/admin/fees", vec![("reason", "x")]),
                (
                    default.as_str(),
                    vec![("reason", "x"), ("token", token.as_str())],
                ),
                (
                    recovery.as_str(),
                    vec![("amount", "1"), ("memo", "x"), ("token", token.as_str())],
                ),
            ];
            // Members (owner and staff alike) get 403 everywhere, reading or acting.
            let mut owner = logged_in(&state, "owner@acheteur.fr").await;
            for path in READ_PAGES
                .iter()
                .copied()
                .chain([default.as_str(), "/admin/brokering"])
            {
                assert_eq!(
                    owner.get(path).await.status,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
            for (path, fields) in &posts {
                assert_eq!(
                    owner.post(path, fields).await.status,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
            // Visitors are sent to the login page.
            let mut visitor = owner.sibling();
            for path in READ_PAGES {
                let page = visitor.get(path).await;
                assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
                assert_eq!(page.location.as_deref(), Some("/login"));
            }
            // Accountants read the fund, the statistics and the fees, and act on nothing.
            let mut accountant = logged_in(&state, "compta@reseau.fr").await;
            for path in READ_PAGES {
                assert_eq!(accountant.get(path).await.status, StatusCode::OK, "{path}");
            }
            let fees = accountant.get("/admin/fees").await;
            assert!(!fees.body.contains("name=\"effective_mode\""), "no form");
            for path in [default.as_str(), "/admin/brokering"] {
                assert_eq!(
                    accountant.get(path).await.status,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
            for (path, fields) in &posts {
                assert_eq!(
                    accountant.post(path, fields).await.status,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
            // Nothing changed.
            assert_eq!(store.policy_records().await.unwrap().len(), 1);
            assert!(store
                .actions(&ActionFilter::default(), 10)
                .await
                .unwrap()
                .is_empty());
            // Managers reach everything; an unknown or malformed member id is a 404.
            let mut manager = logged_in(&state, "gestion@reseau.fr").await;
            for path in READ_PAGES
                .iter()
                .copied()
                .chain([default.as_str(), "/admin/brokering"])
            {
                assert_eq!(manager.get(path).await.status, StatusCode::OK, "{path}");
            }
            for path in ["/admin/members/99999/default", "/admin/members/abc/default"] {
                assert_eq!(
                    manager.get(path).await.status,
                    StatusCode::NOT_FOUND,
                    "{path}"
                );
            }
            store.close().await;
        }
    }
);

fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

story!(
    a_manager_schedules_a_fee_change_and_members_see_it_announced,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, _buyer, _seller) = setup(&url).await;
            let mut manager = logged_in(&state, "gestion@reseau.fr").await;
            let page = manager.get("/admin/fees").await;
            page.assert_contains("depuis l&#39;origine");
            page.assert_contains("En vigueur");
            let future = in_days(2);
            let past = (Utc::now() - Duration::hours(1))
                .format("%Y-%m-%dT%H:%M")
                .to_string();
            let reason_max = "r".repeat(web::network::REASON_LEN_MAX);
            let reason_over = "r".repeat(web::network::REASON_LEN_MAX + 1);
            let form = |rate: &'static str, at: String, reason: String| {
                vec![
                    ("commission_rate".to_owned(), rate.to_owned()),
                    ("commission_min".to_owned(), "0,50".to_owned()),
                    ("fund_rate".to_owned(), "1,00".to_owned()),
                    ("fund_payer".to_owned(), "buyer".to_owned()),
                    ("effective_mode".to_owned(), "at".to_owned()),
                    ("effective_at".to_owned(), at),
                    ("reason".to_owned(), reason),
                ]
            };
            async fn post(browser: &mut Client, fields: &[(String, String)]) -> client::Page {
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                browser.post("/admin/fees", &fields).await
            }
            // A date in the past: 422, the form kept.
            let page = post(&mut manager, &form("3,00", past, "Hausse votée".into())).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("un changement n&#39;est jamais rétroactif");
            page.assert_contains("Hausse votée");
            // A reason one past its limit, a rate one past its limit, a bad date.
            let page = post(&mut manager, &form("3,00", future.clone(), reason_over)).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("500 caractères au plus.");
            let page = post(&mut manager, &form("50,01", future.clone(), "x".into())).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Un taux ne peut dépasser 50,00 %.");
            let page = post(&mut manager, &form("3,00", "demain".into(), "x".into())).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Date invalide");
            // Without the CSRF token: refused before anything happens.
            let body = "commission_rate=3&commission_min=0&fund_rate=1&fund_payer=buyer\
                        &effective_mode=now&reason=x"
                .to_owned();
            assert_eq!(
                manager.post_raw("/admin/fees", body).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(store.policy_records().await.unwrap().len(), 1);
            // At the limits (a 50 % rate, a 500-character reason): accepted.
            let page = post(
                &mut manager,
                &form("50,00", future.clone(), reason_max.clone()),
            )
            .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            assert_eq!(page.location.as_deref(), Some("/admin/fees?done=1"));
            let page = manager.get("/admin/fees?done=1").await;
            page.assert_contains("Changement enregistré.");
            page.assert_contains("Annoncé");
            page.assert_contains("50,00 %");
            let records = store.policy_records().await.unwrap();
            assert_eq!(records.len(), 2);
            assert_eq!(records[1].version.policy.fees.commission_bp(), 5_000);
            assert_eq!(records[1].reason, reason_max);
            assert_eq!(store.policy().await.unwrap().fees.commission_bp(), 200);
            // A member sees the rules in force and the announced change, with its reason.
            let mut owner = logged_in(&state, "owner@vendeur.fr").await;
            let rules = owner.get("/rules").await;
            assert_eq!(rules.status, StatusCode::OK);
            rules.assert_contains("2,00 %");
            rules.assert_contains("id=\"rules-upcoming\"");
            rules.assert_contains("50,00 %");
            rules.assert_contains(&reason_max);
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].action, "fees.schedule");
            assert_eq!(entries[0].actor, "gestion@reseau.fr");
            store.close().await;
        }
    }
);

story!(
    the_default_workflow_through_the_pages,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, buyer, seller) = setup(&url).await;
            // 5 000,00 bought: the buyer owes 5 050,00, the fund holds 50,00.
            pay(&store, "buy", &buyer, &seller, 500_000, None).await;
            let mut manager = logged_in(&state, "gestion@reseau.fr").await;
            let path = format!("/admin/members/{}/default", buyer.id);
            let page = manager.get(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"loss\">5 050,00");
            page.assert_contains("id=\"from-fund\">50,00");
            page.assert_contains("id=\"from-losses\">5 000,00");
            page.assert_contains("id=\"fund-after\">0,00");
            // No reason, or one past its limit: 422 and nothing written off.
            let page = manager.post(&path, &[("reason", "  ")]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Ce champ est obligatoire.");
            // A write-off's reason is also its transaction's memo: 280 characters at most.
            let max = web::network::fund::WRITE_OFF_REASON_LEN_MAX;
            let over = "m".repeat(max + 1);
            let page = manager.post(&path, &[("reason", over.as_str())]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("280 caractères au plus.");
            // Without the CSRF token: 403.
            let token = client::hidden_value(&page.body, "token").unwrap();
            let body = format!("reason=liquidation&token={token}");
            assert_eq!(
                manager.post_raw(&path, body).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(balance(&store, &buyer).await, -505_000);
            // A reason at its limit: posted, then the page shows the write-off.
            let reason = "m".repeat(max);
            manager.get(&path).await;
            let page = manager.post(&path, &[("reason", reason.as_str())]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let done = format!("{path}?done=writeoff");
            assert_eq!(page.location.as_deref(), Some(done.as_str()));
            let page = manager.get(&done).await;
            page.assert_contains("Passage en perte enregistré");
            page.assert_contains("id=\"written-off\"");
            page.assert_contains("id=\"status\">clôturé<");
            assert_eq!(balance(&store, &buyer).await, 0);
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].action, "member.write_off");
            assert_eq!(entries[0].reason, reason);

            // Recovery from the same page: bad amount, memo one past its limit, then right.
            let recovery = format!("/admin/members/{}/recovery", buyer.id);
            let page = manager
                .post(&recovery, &[("amount", "-3"), ("memo", "x")])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Montant invalide");
            let long_memo = "d".repeat(ledger::MEMO_LEN_MAX + 1);
            let page = manager
                .post(
                    &recovery,
                    &[("amount", "300"), ("memo", long_memo.as_str())],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("280 caractères au plus.");
            let memo = "d".repeat(ledger::MEMO_LEN_MAX);
            let page = manager
                .post(&recovery, &[("amount", "300,00"), ("memo", memo.as_str())])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let page = manager.get(&format!("{path}?done=recovery")).await;
            page.assert_contains("Recouvrement enregistré.");
            page.assert_contains("id=\"recovered\">300,00");
            let fund = manager.get("/admin/fund").await;
            fund.assert_contains("id=\"fund-balance\">300,00");
            fund.assert_contains("id=\"losses\">5 000,00");
            fund.assert_contains("id=\"written-off\"");

            // A member in credit: the page explains the refusal and offers no button; a post
            // anyway is refused with the ledger's reason.
            let seller_path = format!("/admin/members/{}/default", seller.id);
            let page = manager.get(&seller_path).await;
            page.assert_contains("id=\"preview-refusal\"");
            page.assert_contains("pas de dette à passer en perte");
            assert!(!page.body.contains("Confirmer le passage en perte"));
            let token = "cd".repeat(32);
            let page = manager
                .post(&seller_path, &[("reason", "x"), ("token", token.as_str())])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("id=\"refusal\"");
            // A recovery for a member not written off is refused too.
            let page = manager
                .post(
                    &format!("/admin/members/{}/recovery", seller.id),
                    &[("amount", "10"), ("memo", "x"), ("token", token.as_str())],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
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
    the_fund_and_statistics_pages_draw_charts_and_honour_their_limits,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state) = client::state(&url).await;
            free_network(&store).await;
            staff_users(&store).await;
            let a = company(&store, 1, "a", "btp", "Lyon", 10_000).await;
            let b = company(&store, 2, "b", "informatique", "Lyon", 10_000).await;
            let c = company(&store, 3, "c", "informatique", "Lyon", 10_000).await;
            pay(&store, "p1", &a, &b, 120_000, None).await;
            pay(&store, "p2", &c, &b, 30_000, None).await;
            let last_month = Utc::now() - Duration::days(40);
            pay(&store, "p0", &b, &a, 10_000, Some(last_month)).await;
            let charge = ledger::Operation::Charge {
                kind: ledger::ChargeKind::FundContribution,
                payer: crate::console_fund::account(&b),
                amount: ledger::Amount::from_units(140),
                reference: String::new(),
                memo: "Apport".into(),
            };
            store
                .submit(web::store::Submission::new(
                    crate::console_fund::key("fund"),
                    charge,
                ))
                .await
                .unwrap()
                .unwrap();
            let mut accountant = logged_in(&state, "compta@reseau.fr").await;
            let page = accountant.get("/admin/fund?k=2").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"exposure\">1 400,00");
            // 140 ÷ 1 400, written the French way; the stress test's debt ÷ fund is 10.
            page.assert_contains("id=\"coverage\">0,1000");
            page.assert_contains("id=\"stress-share\">10,0000");
            page.assert_contains("id=\"stress-k\">2");
            page.assert_contains("id=\"stress-debt\">1 400,00");
            page.assert_contains("<polyline");
            let k_max = web::network::fund::STRESS_K_MAX;
            let at_max = accountant.get(&format!("/admin/fund?k={k_max}")).await;
            assert_eq!(at_max.status, StatusCode::OK);
            at_max.assert_contains("id=\"stress-k\">2");
            for bad in [format!("{}", k_max + 1), "0".into(), "abc".into()] {
                let page = accountant.get(&format!("/admin/fund?k={bad}")).await;
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "k={bad}");
                page.assert_contains("id=\"k-error\"");
            }
            let page = accountant.get("/admin/stats").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"members\">3");
            page.assert_contains("id=\"active-short\">3");
            page.assert_contains("<rect");
            let max = web::network::stats::STATS_MONTHS_MAX;
            assert_eq!(
                accountant
                    .get(&format!("/admin/stats?months={max}"))
                    .await
                    .status,
                StatusCode::OK
            );
            let page = accountant
                .get(&format!("/admin/stats?months={}", max + 1))
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("id=\"months-error\"");
            let csv = accountant.get("/admin/stats/monthly.csv?months=2").await;
            assert_eq!(csv.status, StatusCode::OK);
            assert_eq!(csv.content_type.as_deref(), Some("text/csv; charset=utf-8"));
            let lines: Vec<&str> = csv.body.lines().collect();
            assert_eq!(lines.len(), 3, "a header and two months: {}", csv.body);
            assert!(lines[0].starts_with("month,trades,volume"));
            assert!(lines[2].contains(",2,1500.00,3,"), "{}", csv.body);
            assert_eq!(
                accountant
                    .get(&format!("/admin/stats/monthly.csv?months={}", max + 1))
                    .await
                    .status,
                StatusCode::BAD_REQUEST
            );
            let sectors = accountant.get("/admin/stats/sectors.csv").await;
            sectors.assert_contains("\"informatique\",2,2,");
            let fund_csv = accountant.get("/admin/fund/history.csv?months=3").await;
            assert_eq!(fund_csv.body.lines().count(), 4);
            // In English: the same pages, English words and decimals.
            let (user, _) = people::find_login(&store, "compta@reseau.fr")
                .await
                .unwrap()
                .unwrap();
            people::set_lang(&store, user.id, "en").await.unwrap();
            let page = accountant.get("/admin/fund?k=2").await;
            page.assert_contains("Guarantee fund");
            page.assert_contains("id=\"coverage\">0.1000");
            page.assert_contains("id=\"exposure\">1,400.00");
            accountant
                .get("/admin/stats")
                .await
                .assert_contains("Velocity (per year)");
            store.close().await;
        }
    }
);

story!(
    the_brokering_page_lists_matches_for_managers,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, buyer, seller) = setup(&url).await;
            pay(&store, "buy", &buyer, &seller, 100_000, None).await;
            let want = web::market::ListingContent {
                kind: web::market::Kind::Want,
                title: "Site <internet>".into(),
                description: String::new(),
                category: "btp".into(),
                price_minor: None,
                vat_bp: 2_000,
                city: "Lyon".into(),
                active_until: "2099-12-31".into(),
            };
            web::market::create(&store, seller.id, &want, None)
                .await
                .unwrap();
            let mut manager = logged_in(&state, "gestion@reseau.fr").await;
            let page = manager.get("/admin/brokering").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains(&format!("id=\"member-{}\"", buyer.id));
            // The buyer in debt sells btp: the seller's want, escaped.
            page.assert_contains("Site &#60;internet&#62;");
            page.assert_contains("(même ville)");
            store.close().await;
        }
    }
);

story!(
    open_data_is_off_by_default_and_anonymous_when_on,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state) = client::state(&url).await;
            free_network(&store).await;
            let mut members = Vec::new();
            for n in 0..4u32 {
                members.push(company(&store, n + 1, &format!("m{n}"), "btp", "Lyon", 10_000).await);
            }
            pay(&store, "p1", &members[0], &members[1], 10_000, None).await;
            pay(&store, "p2", &members[2], &members[3], 20_000, None).await;
            let mut visitor = Client::new(state);
            assert_eq!(
                visitor.get("/open-data").await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                visitor.get("/open-data.csv").await.status,
                StatusCode::NOT_FOUND
            );

            let config = Config::new(CookieSecurity::Plain, "http://troc.test")
                .with_open_data(OpenData::Published);
            let published = AppState::new(store.clone(), config);
            let mut visitor = Client::new(published);
            let page = visitor.get("/open-data").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Données ouvertes du réseau");
            page.assert_contains("id=\"members\">4");
            // 4 traders this month: published; 2 debtors: the debt is not.
            page.assert_contains("300,00");
            page.assert_contains("id=\"debt\">moins de 3 membres");
            // No name, SIREN, email or per-member figure anywhere.
            for member in &members {
                assert!(!page.body.contains(&member.name), "{} shown", member.name);
                assert!(!page.body.contains(&member.siren));
                assert!(!page.body.contains(&member.contact));
            }
            assert!(!page.body.contains("-100,00") && !page.body.contains("-200,00"));
            let csv = visitor.get("/open-data.csv").await;
            assert_eq!(csv.status, StatusCode::OK);
            assert!(csv.body.contains(",2,300.00"), "{}", csv.body);
            store.close().await;
        }
    }
);
