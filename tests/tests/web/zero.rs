//! The return-to-zero rule on the pages (docs/web.md, "Return to zero"): the dashboard's
//! reminder with the day the spell should end by, the rule stated on `/rules`, the ageing of
//! the negative balances on `/admin/reviews` and in the API's review lists, all following
//! the console's `negative_days`.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use ledger::{AccountId, Amount, IdempotencyKey, Operation};
use serde_json::json;
use tests::story;
use web::people::Member;
use web::store::{Store, Submission};
use web::tokens::Scope;

use crate::web_front::client::Client;
use crate::web_front::PASSWORD;

/// `payer` pays `payee` `units` as if `days_ago` days ago (its spell starts then).
async fn pay_days_ago(store: &Store, payer: &Member, payee: &Member, units: i64, days_ago: i64) {
    let op = Operation::Payment {
        payer: AccountId(payer.account_id as u64),
        payee: AccountId(payee.account_id as u64),
        amount: Amount::from_units(units),
        reference: String::new(),
        memo: String::new(),
    };
    let key = IdempotencyKey::new(format!("zero-{}-{days_ago}", payer.id)).unwrap();
    let at = Utc::now() - Duration::days(days_ago) - Duration::hours(1);
    store
        .submit(Submission::new(key, op).at(at))
        .await
        .unwrap()
        .unwrap();
}

/// When `member`'s balance last went below zero.
async fn since_of(store: &Store, member: &Member) -> chrono::DateTime<Utc> {
    store
        .account(AccountId(member.account_id as u64))
        .await
        .unwrap()
        .unwrap()
        .negative_since()
        .expect("below zero")
}

story!(
    the_return_to_zero_rule_on_the_pages,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = crate::web_front::two_members(&url).await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
            let delta = crate::web_front::member(&store, 4, "Delta", "delta", 1_000).await;
            crate::api::staff(&store).await;
            // Beta negative for 100 days (a quarter of the rule: reminded), Gamma for 400 (past
            // it), Delta for 10 (not yet); Alpha sold to all three.
            pay_days_ago(&store, &beta, &alpha, 100, 100).await;
            pay_days_ago(&store, &gamma, &alpha, 300, 400).await;
            pay_days_ago(&store, &delta, &alpha, 600, 10).await;
            let beta_since = since_of(&store, &beta).await;

            let mut b = Client::new(state.clone());
            b.login("owner@beta.fr", PASSWORD).await;
            let mut g = b.sibling();
            g.login("staff@gamma.fr", PASSWORD).await;
            let mut d = b.sibling();
            d.login("owner@delta.fr", PASSWORD).await;
            let mut a = b.sibling();
            a.login("owner@alpha.fr", PASSWORD).await;
            let mut manager = b.sibling();
            manager.login("gestion@troc.fr", PASSWORD).await;

            // The dashboards: Beta is told the day its spell should end by, Gamma that it is past
            // the rule; Delta (10 days) and Alpha (positive) nothing.
            let deadline = (beta_since + Duration::days(365)).format("%d/%m/%Y");
            b.get("/dashboard").await.assert_contains(&format!(
                "Votre solde est négatif depuis 100 jours : la règle du réseau demande d&#39;y \
             revenir à zéro en 365 jours, soit avant le {deadline}."
            ));
            g.get("/dashboard").await.assert_contains(
                "Votre solde est négatif depuis 400 jours, au-delà des 365 jours de la règle du \
             réseau : le gestionnaire du réseau va revoir votre compte avec vous.",
            );
            for client in [&mut d, &mut a] {
                let page = client.get("/dashboard").await;
                assert!(
                    !page.body.contains("Votre solde est négatif"),
                    "{}",
                    page.body
                );
            }

            // The rule, stated to everyone on /rules.
            let rules = a.get("/rules").await;
            let stated = crate::web_front::section(&rules.body, "rules-return-to-zero");
            for text in [
                "Un solde négatif revient à zéro en 365 jours",
                "après 92, 183 et 274 jours de solde négatif ; à partir de 366 jours",
            ] {
                assert!(stated.contains(text), "{text} in {stated}");
            }

            // The ageing, for the network's staff: Delta not reminded yet, Beta at its first
            // step, Gamma past the rule; the debts with their shares of 1 010,00.
            let reviews = manager.get("/admin/reviews").await;
            assert_eq!(reviews.status, StatusCode::OK);
            let ageing = crate::web_front::section(&reviews.body, "ageing");
            for row in [
                "<tr><td>pas encore de rappel</td><td>0 – 91</td><td class=\"num\">1</td>\
             <td class=\"num\">606,00</td><td class=\"num\">60,00 %</td></tr>",
                "<tr><td>1 · 1 / 4</td><td>92 – 182</td><td class=\"num\">1</td>\
             <td class=\"num\">101,00</td><td class=\"num\">10,00 %</td></tr>",
                "<tr><td>2 · 2 / 4</td><td>183 – 273</td><td class=\"num\">0</td>\
             <td class=\"num\">0,00</td><td class=\"num\">0,00 %</td></tr>",
                "<tr><td>4 · au-delà de la règle</td><td>≥ 366</td><td class=\"num\">1</td>\
             <td class=\"num\">303,00</td><td class=\"num\">30,00 %</td></tr>",
            ] {
                assert!(ageing.contains(row), "{row} in {ageing}");
            }
            // The same through the API.
            let api = crate::api::Api::new(state.clone());
            let accountant = crate::api::token(&store, "compta@troc.fr", Scope::Manage).await;
            let lists = api
                .get("/api/v1/reviews", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                lists["ageing"],
                json!([
                    {"step": 0, "from_days": 0, "to_days": 91, "members": 1, "debt": "606.00", "share_bp": 6000},
                    {"step": 1, "from_days": 92, "to_days": 182, "members": 1, "debt": "101.00", "share_bp": 1000},
                    {"step": 2, "from_days": 183, "to_days": 273, "members": 0, "debt": "0.00", "share_bp": 0},
                    {"step": 3, "from_days": 274, "to_days": 365, "members": 0, "debt": "0.00", "share_bp": 0},
                    {"step": 4, "from_days": 366, "to_days": null, "members": 1, "debt": "303.00", "share_bp": 3000}
                ])
            );

            // The API: the rule, and when each account's spell began.
            let beta_read = crate::api::token(&store, "owner@beta.fr", Scope::Read).await;
            let rules = api
                .get("/api/v1/rules", &beta_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                rules["return_to_zero"],
                json!({"days": 365, "reminder_days": [92, 183, 274], "past_days": 366})
            );
            let account = api
                .get(&format!("/api/v1/accounts/{}", beta.account_id), &beta_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                account["negative_since"],
                beta_since.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            let account = api
                .get(
                    &format!("/api/v1/accounts/{}", alpha.account_id),
                    &accountant,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(account["negative_since"], serde_json::Value::Null);

            // A stricter rule (40 days): Beta is past it, Delta at its first step (10 days),
            // the pages and the API say so.
            let manage = crate::api::token(&store, "gestion@troc.fr", Scope::Manage).await;
            api.put(
                "/api/v1/reviews/settings",
                &manage,
                json!({"near_limit_pct": 80, "negative_days": 40, "growth_months": 3,
                   "turnover_share_bp": 500, "sales_months": 12, "sales_share_bp": 10000}),
            )
            .await
            .ok(StatusCode::OK);
            b.get("/dashboard").await.assert_contains(
                "Votre solde est négatif depuis 100 jours, au-delà des 40 jours de la règle",
            );
            let delta_since = since_of(&store, &delta).await;
            d.get("/dashboard").await.assert_contains(&format!(
                "Votre solde est négatif depuis 10 jours : la règle du réseau demande d&#39;y \
             revenir à zéro en 40 jours, soit avant le {}.",
                (delta_since + Duration::days(40)).format("%d/%m/%Y")
            ));
            let rules = api
                .get("/api/v1/rules", &beta_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                rules["return_to_zero"],
                json!({"days": 40, "reminder_days": [10, 20, 30], "past_days": 41})
            );
            let stated =
                crate::web_front::section(&a.get("/rules").await.body, "rules-return-to-zero");
            assert!(
                stated.contains("en 40 jours") && stated.contains("après 10, 20 et 30 jours"),
                "{stated}"
            );
            let ageing =
                crate::web_front::section(&manager.get("/admin/reviews").await.body, "ageing");
            assert!(
                ageing.contains(
                    "<tr><td>4 · au-delà de la règle</td><td>≥ 41</td><td class=\"num\">2</td>\
                 <td class=\"num\">404,00</td>"
                ),
                "{ageing}"
            );

            // A member's users do not see the console's ageing.
            assert_eq!(b.get("/admin/reviews").await.status, StatusCode::FORBIDDEN);
            store.close().await;
        }
    }
);
