//! Payments: amounts as strings, refusals that change nothing, idempotency, history pages.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use serde_json::json;
use tests::story;
use web::tokens::Scope;

use super::{balance, setup, token};

story!(payments_refusals_and_idempotency, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;

        // 2 % commission paid by the seller, 1 % fund contribution paid by the buyer.
        let done = api
            .post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": "100.00", "reference": "FA-1", "memo": "Maintenance"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(done["status"], "completed");
        assert_eq!(done["payer_balance"], "-101.00");
        assert!(done["transaction_id"].as_i64().unwrap() > 0);
        assert_eq!(balance(&store, &alpha).await, -10_100);
        assert_eq!(balance(&store, &beta).await, 9_800);
        // "12.5" and "12" are amounts too.
        for amount in ["12.5", "12"] {
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": amount}),
            )
            .await
            .ok(StatusCode::CREATED);
        }
        let alpha_before = balance(&store, &alpha).await;

        // Every bad input: a problem naming the field, and nothing moves.
        let cases = [
            (json!({"payee": beta.id, "amount": 12}), "amount"),
            (json!({"payee": beta.id, "amount": "12.505"}), "amount"),
            (json!({"payee": beta.id, "amount": "-5"}), "amount"),
            (json!({"payee": beta.id, "amount": "0"}), "amount"),
            (json!({"payee": beta.id, "amount": "douze"}), "amount"),
            (json!({"payee": beta.id}), "amount"),
            (json!({"payee": alpha.id, "amount": "1"}), "payee"),
            (json!({"payee": 999_999, "amount": "1"}), "payee"),
            (json!({"payee": "beta", "amount": "1"}), "payee"),
            (
                json!({"payee": beta.id, "amount": "1", "memo": "m".repeat(281)}),
                "memo",
            ),
            (
                json!({"payee": beta.id, "amount": "1", "reference": "r".repeat(65)}),
                "reference",
            ),
            (json!([1, 2]), "body"),
        ];
        for (body, field) in cases {
            let problem = api
                .post("/api/v1/payments", &pay, body.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{body}");
        }
        let not_json = api
            .send(
                Method::POST,
                "/api/v1/payments",
                Some(&pay),
                &[],
                Some("{".into()),
            )
            .await;
        not_json.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        // At the limits: accepted.
        api.post(
            "/api/v1/payments",
            &pay,
            json!({"payee": beta.id, "amount": "0.01", "memo": "m".repeat(280), "reference": "r".repeat(64)}),
        )
        .await
        .ok(StatusCode::CREATED);
        assert_eq!(balance(&store, &alpha).await, alpha_before - 1);
        let alpha_before = balance(&store, &alpha).await;

        // Beyond the credit limit: 422 insufficient_credit, balances unchanged.
        let refused = api
            .post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": "5000.00"}),
            )
            .await;
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
        assert_eq!(balance(&store, &alpha).await, alpha_before);
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let beta_now = balance(&store, &beta).await;

        // Idempotency: the same key and body replay the first answer exactly; money moves once.
        let body = json!({"payee": beta.id, "amount": "10.00"});
        let first = api
            .post_key("/api/v1/payments", &pay, "order-42", body.clone())
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let again = api
            .post_key("/api/v1/payments", &pay, "order-42", body.clone())
            .await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.text, first.text);
        assert_eq!(balance(&store, &alpha).await, alpha_before - 1_010);
        assert_eq!(balance(&store, &beta).await, beta_now + 950); // the minimum commission, 0.50
                                                                  // Same key, another body: 409, nothing moves.
        api.post_key(
            "/api/v1/payments",
            &pay,
            "order-42",
            json!({"payee": beta.id, "amount": "11.00"}),
        )
        .await
        .problem(StatusCode::CONFLICT, "idempotency_conflict");
        // Keys are per user: Beta's "order-42" is its own.
        api.post_key(
            "/api/v1/payments",
            &beta_pay,
            "order-42",
            json!({"payee": alpha.id, "amount": "1.00"}),
        )
        .await
        .ok(StatusCode::CREATED);
        // A refusal is remembered too: the same request gets the same 422.
        let big = json!({"payee": beta.id, "amount": "9000.00"});
        let refused = api
            .post_key("/api/v1/payments", &pay, "big-1", big.clone())
            .await;
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
        let again = api.post_key("/api/v1/payments", &pay, "big-1", big).await;
        assert_eq!((again.status, again.text), (refused.status, refused.text));
        // Key length: 255 accepted, 256 refused (and nothing moves).
        let long = "k".repeat(255);
        api.post_key(
            "/api/v1/payments",
            &pay,
            &long,
            json!({"payee": beta.id, "amount": "1.00"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let before = balance(&store, &alpha).await;
        let too_long = "k".repeat(256);
        let problem = api
            .post_key(
                "/api/v1/payments",
                &pay,
                &too_long,
                json!({"payee": beta.id, "amount": "1.00"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "Idempotency-Key");
        assert_eq!(balance(&store, &alpha).await, before);

        // Concurrent requests under one key pay once.
        let body = json!({"payee": beta.id, "amount": "2.00"});
        let before = balance(&store, &alpha).await;
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let (api, pay, body) = (api.clone(), pay.clone(), body.clone());
                tokio::spawn(
                    async move { api.post_key("/api/v1/payments", &pay, "race", body).await },
                )
            })
            .collect();
        let mut ids = HashSet::new();
        for racer in racers {
            let answer = racer.await.unwrap();
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
            ids.insert(answer.json()["transaction_id"].as_i64().unwrap());
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(balance(&store, &alpha).await, before - 202);
        store.close().await;
    }
});

story!(transactions_in_keyset_pages, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        for n in 1..=5 {
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": format!("{n}.00"), "reference": format!("R{n}")}),
            )
            .await
            .ok(StatusCode::CREATED);
        }
        api.post(
            "/api/v1/payments",
            &beta_pay,
            json!({"payee": alpha.id, "amount": "50", "memo": "retour"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let base = format!("/api/v1/accounts/{}/transactions", alpha.account_id);
        let all = api
            .get(&format!("{base}?limit=200"), &pay)
            .await
            .ok(StatusCode::OK);
        let items = all["items"].as_array().unwrap();
        assert_eq!(items.len(), 6);
        assert_eq!(all["next"], serde_json::Value::Null);
        // Newest first; amounts signed from Alpha's side (payer: amount + 1 % fund).
        assert_eq!(items[0]["amount"], "49.00");
        assert_eq!(items[0]["memo"], "retour");
        assert_eq!(items[0]["counterparty"]["member_id"], beta.id);
        assert_eq!(items[0]["counterparty"]["name"], "Beta & Fils <SAS>");
        assert_eq!(items[1]["amount"], "-5.05");
        assert_eq!(items[1]["reference"], "R5");
        assert_eq!(items[1]["kind"], "payment");
        let created = items[1]["created_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'));

        // Pages of 4: no duplicate, no gap, and the same order.
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let path = match &next {
                Some(after) => format!("{base}?limit=4&after={after}"),
                None => format!("{base}?limit=4"),
            };
            let page = api.get(&path, &pay).await.ok(StatusCode::OK);
            for item in page["items"].as_array().unwrap() {
                seen.push(item["id"].as_i64().unwrap());
            }
            match page["next"].as_str() {
                Some(cursor) => next = Some(cursor.to_owned()),
                None => break,
            }
        }
        let expected: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(seen, expected);

        // limit: 1 to 200.
        api.get(&format!("{base}?limit=1"), &pay)
            .await
            .ok(StatusCode::OK);
        for bad in ["201", "0", "-1", "x"] {
            let problem = api
                .get(&format!("{base}?limit={bad}"), &pay)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "limit");
        }
        api.get(&format!("{base}?after=zz"), &pay)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        store.close().await;
    }
});

story!(
    keyed_payments_store_their_answer_with_the_payment,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let (owner, _) = web::people::find_login(&store, "owner@alpha.fr")
                .await
                .unwrap()
                .unwrap();

            // The answer is stored by the payment's own batch: there when the answer arrives.
            let body = json!({"payee": beta.id, "amount": "10.00"});
            let first = api
                .post_key("/api/v1/payments", &pay, "pay-1", body.clone())
                .await;
            let done = first.ok(StatusCode::CREATED);
            assert_eq!(done["payer_balance"], "-10.10");
            let stored = web::tokens::remembered(&store, owner.id, "pay-1")
                .await
                .unwrap()
                .expect("the receipt is stored");
            assert_eq!(
                (stored.status, stored.response.as_str()),
                (201, first.text.as_str())
            );
            // Another payment changes the balance; the replay still says what the first said.
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": "1.00"}),
            )
            .await
            .ok(StatusCode::CREATED);
            let again = api
                .post_key("/api/v1/payments", &pay, "pay-1", body.clone())
                .await;
            assert_eq!(
                (again.status, &again.text),
                (StatusCode::CREATED, &first.text)
            );
            assert_eq!(again.headers["content-type"], "application/json");
            assert_eq!(balance(&store, &alpha).await, -1_010 - 101);

            // A refusal by the ledger is stored with it: the replay is the same 422, and no money
            // moves either time.
            let before = (balance(&store, &alpha).await, balance(&store, &beta).await);
            let big = json!({"payee": beta.id, "amount": "5000.00"});
            let refused = api
                .post_key("/api/v1/payments", &pay, "too-big", big.clone())
                .await;
            refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
            let stored = web::tokens::remembered(&store, owner.id, "too-big")
                .await
                .unwrap()
                .expect("the refusal is stored");
            assert_eq!(
                (stored.status, stored.response.as_str()),
                (422, refused.text.as_str())
            );
            let again = api.post_key("/api/v1/payments", &pay, "too-big", big).await;
            assert_eq!((again.status, &again.text), (refused.status, &refused.text));
            assert_eq!(again.headers["content-type"], "application/problem+json");
            assert_eq!(
                (balance(&store, &alpha).await, balance(&store, &beta).await),
                before
            );

            // Invalid input is answered but not stored: the key stays free for a corrected request.
            api.post_key(
                "/api/v1/payments",
                &pay,
                "fix-me",
                json!({"payee": beta.id, "amount": "douze"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(
                web::tokens::remembered(&store, owner.id, "fix-me")
                    .await
                    .unwrap(),
                None
            );
            api.post_key(
                "/api/v1/payments",
                &pay,
                "fix-me",
                json!({"payee": beta.id, "amount": "12.00"}),
            )
            .await
            .ok(StatusCode::CREATED);
            assert_eq!(balance(&store, &alpha).await, before.0 - 1_212);

            // Concurrent requests under one key with different bodies: one pays, the others get
            // 409, and every later replay of the winner gets the winner's answer.
            let before = balance(&store, &alpha).await;
            let racers: Vec<_> = (1..=4)
                .map(|n| {
                    let (api, pay) = (api.clone(), pay.clone());
                    let body = json!({"payee": beta.id, "amount": format!("{n}.00")});
                    tokio::spawn(async move {
                        let answer = api
                            .post_key("/api/v1/payments", &pay, "contested", body.clone())
                            .await;
                        (n, body, answer)
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for racer in racers {
                let (n, body, answer) = racer.await.unwrap();
                if answer.status == StatusCode::CREATED {
                    winners.push((n, body, answer.text));
                } else {
                    answer.problem(StatusCode::CONFLICT, "idempotency_conflict");
                }
            }
            assert_eq!(winners.len(), 1, "exactly one request under the key pays");
            let (n, body, text) = winners.pop().unwrap();
            assert_eq!(balance(&store, &alpha).await, before - 101 * n);
            let again = api
                .post_key("/api/v1/payments", &pay, "contested", body)
                .await;
            assert_eq!((again.status, again.text), (StatusCode::CREATED, text));
            store.close().await;
        }
    }
);
