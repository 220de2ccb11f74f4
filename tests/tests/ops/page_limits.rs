//! Page and export limits that had no test: the CSV export and the monthly statement at
//! `activity::EXPORT_ROWS_MAX` lines and one past it (refused with a clear message rather
//! than cut short), and the published checkpoint pages at `CHECKPOINTS_PER_PAGE`.

use axum::http::StatusCode;
use chrono::Utc;
use ledger::{AccountId, Amount, Operation};
use tests::story;
use web::activity::EXPORT_ROWS_MAX;
use web::http::audit::CHECKPOINTS_PER_PAGE;
use web::store::{Store, Submission, SUBMISSIONS_PER_CALL_MAX};

use crate::audit::signing_key;
use crate::store::{key, payment};
use crate::web_front::client::Client;
use crate::web_front::{two_members, PASSWORD};

async fn pay_many(store: &Store, a: AccountId, b: AccountId, from: usize, count: usize) {
    let submissions: Vec<Submission> = (from..from + count)
        .map(|n| {
            let (payer, payee) = if n % 2 == 0 { (a, b) } else { (b, a) };
            Submission::new(key(&format!("line-{n}")), payment(payer, payee, 1))
        })
        .collect();
    for chunk in submissions.chunks(SUBMISSIONS_PER_CALL_MAX) {
        for answer in store.submit_batch(chunk.to_vec()).await.unwrap() {
            answer.unwrap().unwrap();
        }
    }
}

story!(
    exports_and_statements_refuse_to_pass_their_line_limit,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let (a, b) = (
                AccountId(alpha.account_id as u64),
                AccountId(beta.account_id as u64),
            );
            for account in [a, b] {
                store
                    .submit(Submission::new(
                        key(&format!("limit-{}", account.0)),
                        Operation::SetLimits {
                            account,
                            credit_limit: Amount::from_units(1_000_000),
                            max_balance: None,
                            reason: "test".into(),
                            actor: "test".into(),
                        },
                    ))
                    .await
                    .unwrap()
                    .unwrap();
            }
            pay_many(&store, a, b, 0, EXPORT_ROWS_MAX).await;
            let mut browser = Client::new(state);
            browser.login("owner@alpha.fr", PASSWORD).await;
            // At the limit: every line is there.
            let csv = browser.get("/history.csv").await;
            assert_eq!(csv.status, StatusCode::OK);
            assert_eq!(csv.body.lines().count(), 1 + EXPORT_ROWS_MAX);
            let statement = browser.get("/statement").await;
            assert_eq!(statement.status, StatusCode::OK);
            // One past it: refused, with what to do, never a shortened file.
            pay_many(&store, a, b, EXPORT_ROWS_MAX, 1).await;
            let csv = browser.get("/history.csv").await;
            assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
            csv.assert_contains(
                "Cet export dépasserait 10 000 lignes : choisissez une période plus courte.",
            );
            let statement = browser.get("/statement").await;
            assert_eq!(statement.status, StatusCode::UNPROCESSABLE_ENTITY);
            statement.assert_contains("Ce relevé dépasserait 10 000 lignes");
            // A shorter period fits again (nothing before today).
            let yesterday = (Utc::now() - chrono::Duration::days(1))
                .format("%Y-%m-%d")
                .to_string();
            let csv = browser.get(&format!("/history.csv?to={yesterday}")).await;
            assert_eq!(csv.status, StatusCode::OK);
            let mut english = browser.sibling();
            english.login("staff@alpha.fr", PASSWORD).await;
            english.post("/lang", &[("lang", "en")]).await;
            english
                .get("/history.csv")
                .await
                .assert_contains("This export would exceed 10,000 lines");
            store.close().await;
        }
    }
);

story!(
    published_checkpoint_pages_hold_their_page_size,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let (a, b) = (
                AccountId(alpha.account_id as u64),
                AccountId(beta.account_id as u64),
            );
            let network_key = signing_key(7);
            for n in 0..=CHECKPOINTS_PER_PAGE {
                let (payer, payee) = if n % 2 == 0 { (a, b) } else { (b, a) };
                store
                    .submit(Submission::new(
                        key(&format!("cp-{n}")),
                        payment(payer, payee, 1),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                store
                    .create_checkpoint(&network_key, Utc::now())
                    .await
                    .unwrap()
                    .unwrap();
            }
            let mut visitor = Client::new(state);
            let page = visitor.get("/audit/checkpoints.json").await;
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            assert_eq!(
                json["checkpoints"].as_array().unwrap().len(),
                CHECKPOINTS_PER_PAGE
            );
            let next = json["next_after"].as_u64().expect("a next page");
            let page = visitor
                .get(&format!("/audit/checkpoints.json?after={next}"))
                .await;
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            assert_eq!(json["checkpoints"].as_array().unwrap().len(), 1);
            assert!(json["next_after"].is_null());
            store.close().await;
        }
    }
);
