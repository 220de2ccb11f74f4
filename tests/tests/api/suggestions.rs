//! Suggestions for a member: offers that meet its wants, wants its offers could fill
//! (`/market/for-you`, `GET /api/v1/suggestions`), never its own listings, never another
//! category, and never the posting member's balance.

use axum::http::StatusCode;
use serde_json::{json, Value};
use tests::story;
use web::tokens::Scope;

use super::{day_in, member_accountant, setup, token, Api, PASSWORD};
use crate::web_front::client::Client;

async fn listing(api: &Api, token: &str, kind: &str, title: &str, category: &str) -> i64 {
    let mut body = json!({"title": title, "category": category, "city": "Lyon",
                          "active_until": day_in(30)});
    if kind == "offers" {
        body["price"] = json!("40");
    }
    api.post(&format!("/api/v1/{kind}"), token, body)
        .await
        .ok(StatusCode::CREATED)["id"]
        .as_i64()
        .unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["listing"]["id"].as_i64().unwrap())
        .collect()
}

story!(members_get_listings_that_fit_them, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, _beta) = setup(&url).await;
        let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
        let alpha_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let gamma_pay = token(&store, "owner@gamma.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let expert = member_accountant(&store, &alpha).await;

        // Alpha wants building work and sells IT (its sector); others list around it.
        listing(&api, &alpha_pay, "wants", "Rénovation des bureaux", "btp").await;
        let own_offer = listing(&api, &alpha_pay, "offers", "Audit", "btp").await;
        let beta_btp = listing(&api, &beta_pay, "offers", "Peinture <b>", "btp").await;
        let gamma_btp = listing(&api, &gamma_pay, "offers", "Maçonnerie", "btp").await;
        let meals = listing(&api, &beta_pay, "offers", "Repas", "hotellerie").await;
        let wants_it = listing(&api, &gamma_pay, "wants", "Site web", "informatique").await;
        let wants_food = listing(&api, &beta_pay, "wants", "Traiteur", "hotellerie").await;

        let answer = api
            .get("/api/v1/suggestions", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        let mut to_buy = ids(&answer["to_buy"]);
        to_buy.sort();
        assert_eq!(to_buy, [beta_btp, gamma_btp], "{answer}");
        assert!(!to_buy.contains(&meals) && !to_buy.contains(&own_offer));
        // Alpha's offers are in btp and its sector is informatique: wants in either.
        assert_eq!(ids(&answer["to_sell"]), [wants_it], "{answer}");
        assert!(!ids(&answer["to_sell"]).contains(&wants_food));
        let first = &answer["to_buy"][0];
        assert_eq!(first["same_city"], true);
        assert!(first["counterparty_name"].is_string());
        assert!(first.get("counterparty_balance").is_none(), "{first}");
        // At equal balances the newest comes first (Gamma's); once Beta is in debt its offer
        // comes first: a purchase from it helps both.
        assert_eq!(ids(&answer["to_buy"]), [gamma_btp, beta_btp]);
        api.post(
            "/api/v1/payments",
            &beta_pay,
            json!({"payee": gamma.id, "amount": "50.00"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let answer = api
            .get("/api/v1/suggestions", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&answer["to_buy"]), [beta_btp, gamma_btp]);
        // Only a trading member's users: not its accountant, not the network's staff.
        api.get("/api/v1/suggestions", &expert)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.get("/api/v1/suggestions", &manage)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // The page: linked from the dashboard and the marketplace, titles escaped.
        let mut owner = Client::new(api.state().clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        owner
            .get("/dashboard")
            .await
            .assert_contains("href=\"/market/for-you\"");
        owner
            .get("/market")
            .await
            .assert_contains("href=\"/market/for-you\"");
        let page = owner.get("/market/for-you").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Peinture &#60;b&#62;");
        page.assert_contains("Maçonnerie");
        page.assert_contains("Site web");
        assert!(!page.body.contains("Repas") && !page.body.contains("Traiteur"));
        let mut accountant = owner.sibling();
        accountant.login("expert@alpha.fr", PASSWORD).await;
        assert_eq!(
            accountant.get("/market/for-you").await.status,
            StatusCode::FORBIDDEN
        );
        store.close().await;
    }
});
