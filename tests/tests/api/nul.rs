//! The NUL character, which PostgreSQL's text cannot hold, is refused at every door with a
//! clear answer, on both backends, and changes nothing: JSON bodies (422
//! `validation_failed`), addresses (400 `nul_character`), web forms (400, a page in the
//! user's language), and, behind them, the ledger's own rule (`nul_character`).

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::tokens::Scope;

use super::{balance, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

story!(
    the_nul_character_is_refused_everywhere,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            staff(&store).await;
            let api = Api::new(state.clone());
            let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let before = (balance(&store, &alpha).await, balance(&store, &beta).await);

            // A JSON body: a payment's memo, a refund's memo, an offer's title.
            for (path, body) in [
                (
                    "/api/v1/payments",
                    json!({"payee": beta.id, "amount": "1.00", "memo": "a\u{0}b"}),
                ),
                (
                    "/api/v1/payments",
                    json!({"payee": beta.id, "amount": "1.00", "reference": "\u{0}"}),
                ),
                (
                    "/api/v1/offers",
                    json!({"title": "Palettes\u{0}", "description": "x", "category": "services"}),
                ),
                ("/api/v1/transactions/1/refund", json!({"memo": "\u{0}"})),
            ] {
                let problem = api
                    .post(path, &pay, body)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "body", "{path}");
            }
            // The same text without it goes through.
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": "1.00", "memo": "a\\u0000b (typed)"}),
            )
            .await
            .ok(StatusCode::CREATED);
            let paid = (balance(&store, &alpha).await, balance(&store, &beta).await);
            assert_ne!(paid, before);
            // An address.
            api.get("/api/v1/offers?q=a%00b", &pay)
                .await
                .problem(StatusCode::BAD_REQUEST, "nul_character");

            // A web form, and a page's address: a page in the user's language.
            let mut owner = Client::new(state);
            owner.login("owner@alpha.fr", PASSWORD).await;
            let page = owner
                .post(
                    "/pay",
                    &[
                        ("payee", &beta.id.to_string()),
                        ("amount", "1,00"),
                        ("memo", "a\u{0}b"),
                        ("token", &"a".repeat(64)),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            page.assert_contains("caractère nul");
            let page = owner.get("/market?q=a%00b").await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            page.assert_contains("caractère nul");
            // Behind the doors, the ledger's own rule: a signed order pasted on the page
            // carries the NUL escaped in its JSON, which only parsing reveals.
            let order = json!({
                "payer": alpha.account_id, "payee": beta.account_id, "amount": "1.00",
                "reference": "\u{0}", "idempotency_key": "order-nul",
                "expires_at": "2099-01-01T00:00:00Z", "public_key": "a".repeat(64),
                "signature": "b".repeat(128),
            })
            .to_string();
            assert!(order.contains("\\u0000"));
            let page = owner
                .post("/pay/signed", &[("step", "check"), ("order", &order)])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("le champ « reference »");
            assert_eq!(
                (balance(&store, &alpha).await, balance(&store, &beta).await),
                paid
            );
            store.close().await;
        }
    }
);
