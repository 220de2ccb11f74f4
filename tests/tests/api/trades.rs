//! Payment requests and offers.

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::tokens::Scope;

use super::{balance, day_in, member_accountant, setup, token};

story!(payment_requests_and_offers, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let due = day_in(10);

        // Beta asks Alpha to pay.
        let body = json!({"payer": alpha.id, "amount": "40.5", "reference": "FA-9", "memo": "Audit", "due_date": due});
        let created = api
            .post_key("/api/v1/payment-requests", &beta_pay, "req-1", body.clone())
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["amount"], "40.50");
        assert_eq!(created["status"], "open");
        assert_eq!(created["seller_member_id"], beta.id);
        assert_eq!(created["buyer_member_id"], alpha.id);
        assert_eq!(created["due_date"], due.as_str());
        assert_eq!(created["transaction_id"], serde_json::Value::Null);
        let id = created["id"].as_i64().unwrap();
        // Replayed: the same request, not a second one.
        let again = api
            .post_key("/api/v1/payment-requests", &beta_pay, "req-1", body)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again["id"], id);
        // Bad inputs.
        for (body, field) in [
            (
                json!({"payer": alpha.id, "amount": "1", "due_date": "2020-01-01"}),
                "due_date",
            ),
            (
                json!({"payer": alpha.id, "amount": "1", "due_date": "demain"}),
                "due_date",
            ),
            (
                json!({"payer": beta.id, "amount": "1", "due_date": due}),
                "payer",
            ),
            (
                json!({"payer": alpha.id, "amount": 1, "due_date": due}),
                "amount",
            ),
        ] {
            let problem = api
                .post("/api/v1/payment-requests", &beta_pay, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }

        // Both see it; Alpha as buyer.
        let listed = api
            .get("/api/v1/payment-requests", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["id"], id);
        let listed = api
            .get("/api/v1/payment-requests?status=open", &beta_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(listed["items"][0]["id"], id);

        // The seller cannot accept its own request; an unknown id is the same 404.
        api.post(
            &format!("/api/v1/payment-requests/{id}/accept"),
            &beta_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(
            "/api/v1/payment-requests/999999/accept",
            &alpha_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        // Alpha accepts: paid once, even when accepted twice.
        let paid = api
            .post(
                &format!("/api/v1/payment-requests/{id}/accept"),
                &alpha_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(paid["status"], "paid");
        assert!(paid["transaction_id"].as_i64().unwrap() > 0);
        let alpha_after = balance(&store, &alpha).await;
        assert_eq!(alpha_after, -4_091); // 40.50 + 1 % fund contribution (0.41, rounded)
        let twice = api
            .post(
                &format!("/api/v1/payment-requests/{id}/accept"),
                &alpha_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(twice["transaction_id"], paid["transaction_id"]);
        assert_eq!(balance(&store, &alpha).await, alpha_after);
        // The seller follows it one by one: paid, with its transaction; no one else sees it.
        let followed = api
            .get(&format!("/api/v1/payment-requests/{id}"), &beta_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(followed["status"], "paid");
        assert_eq!(followed["transaction_id"], paid["transaction_id"]);
        assert_eq!(followed["amount"], "40.50");
        api.get(&format!("/api/v1/payment-requests/{id}"), &alpha_pay)
            .await
            .ok(StatusCode::OK);
        crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
        let gamma = token(&store, "owner@gamma.fr", Scope::Pay).await;
        api.get(&format!("/api/v1/payment-requests/{id}"), &gamma)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
        api.get(&format!("/api/v1/payment-requests/{id}"), &manager)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        for unknown in ["999999", "0", "x"] {
            api.get(&format!("/api/v1/payment-requests/{unknown}"), &beta_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }
        // Declining a paid request: 409.
        api.post(
            &format!("/api/v1/payment-requests/{id}/decline"),
            &alpha_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::CONFLICT, "request_not_open");

        // A request beyond Alpha's credit: the acceptance is refused, nothing moves.
        let big = api
            .post(
                "/api/v1/payment-requests",
                &beta_pay,
                json!({"payer": alpha.id, "amount": "5000", "due_date": due}),
            )
            .await
            .ok(StatusCode::CREATED);
        let big_id = big["id"].as_i64().unwrap();
        api.post(
            &format!("/api/v1/payment-requests/{big_id}/accept"),
            &alpha_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
        assert_eq!(balance(&store, &alpha).await, alpha_after);
        let declined = api
            .post(
                &format!("/api/v1/payment-requests/{big_id}/decline"),
                &alpha_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(declined["status"], "declined");
        api.post(
            &format!("/api/v1/payment-requests/{big_id}/accept"),
            &alpha_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::CONFLICT, "request_not_open");

        // Offers.
        let until = day_in(30);
        let offer = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                json!({"title": "Audit de sécurité", "category": "informatique", "price": "1200",
                       "vat_bp": 2000, "city": "Lyon", "active_until": until}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(offer["price"], "1200.00");
        assert_eq!(offer["member_id"], beta.id);
        assert_eq!(offer["status"], "open");
        for (body, field) in [
            (
                json!({"title": "", "category": "informatique", "city": "Lyon", "active_until": until}),
                "title",
            ),
            (
                json!({"title": "t".repeat(121), "category": "informatique", "city": "Lyon", "active_until": until}),
                "title",
            ),
            (
                json!({"title": "T", "category": "nope", "city": "Lyon", "active_until": until}),
                "category",
            ),
            (
                json!({"title": "T", "category": "informatique", "city": "Lyon", "active_until": until, "price": "1,5"}),
                "price",
            ),
            (
                json!({"title": "T", "category": "informatique", "city": "Lyon", "active_until": until, "vat_bp": 10001}),
                "vat_bp",
            ),
        ] {
            let problem = api
                .post("/api/v1/offers", &beta_pay, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        api.post(
            "/api/v1/offers",
            &beta_pay,
            json!({"title": "t".repeat(120), "category": "informatique", "city": "Lyon", "active_until": until}),
        )
        .await
        .ok(StatusCode::CREATED);
        let listed = api
            .get("/api/v1/offers?limit=1", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let next = listed["next"].as_str().unwrap().to_owned();
        let rest = api
            .get(
                &format!("/api/v1/offers?limit=200&after={next}"),
                &alpha_pay,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(rest["items"][0]["id"], offer["id"]);
        let found = api
            .get("/api/v1/offers?q=s%C3%A9curit%C3%A9", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        // A member accountant neither trades nor sees the marketplace.
        let expert = member_accountant(&store, &alpha).await;
        api.get("/api/v1/offers", &expert)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let account = api
            .get(&format!("/api/v1/accounts/{}", alpha.account_id), &expert)
            .await
            .ok(StatusCode::OK);
        assert_eq!(account["balance"], "-40.91");
        store.close().await;
    }
});

story!(
    payment_requests_come_in_keyset_pages,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let due = day_in(10);
            // Alpha is the buyer of five requests and the seller of two.
            let mut created = Vec::new();
            for (seller, buyer, n) in [(&beta_pay, alpha.id, 5), (&alpha_pay, beta.id, 2)] {
                for i in 0..n {
                    let body =
                        json!({"payer": buyer, "amount": format!("{}", i + 1), "due_date": due});
                    let request = api
                        .post("/api/v1/payment-requests", seller, body)
                        .await
                        .ok(StatusCode::CREATED);
                    created.push(request["id"].as_i64().unwrap());
                }
            }
            created.sort_unstable_by(|a, b| b.cmp(a));
            // Pages of 3: 3, 3, 1, newest first, each request once, no cursor after the last.
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            let mut path = "/api/v1/payment-requests?limit=3".to_owned();
            for _ in 0..10 {
                let page = api.get(&path, &alpha_pay).await.ok(StatusCode::OK);
                let items = page["items"].as_array().unwrap();
                sizes.push(items.len());
                seen.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
                match page["next"].as_str() {
                    Some(next) => path = format!("/api/v1/payment-requests?limit=3&after={next}"),
                    None => break,
                }
            }
            assert_eq!(sizes, vec![3, 3, 1]);
            assert_eq!(seen, created);
            // Exactly a full last page: no cursor pointing at an empty page.
            let page = api
                .get("/api/v1/payment-requests?limit=7", &alpha_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(page["items"].as_array().unwrap().len(), 7);
            assert!(page["next"].is_null());
            // Beta sees only its own seven (as seller of five, buyer of two), open ones too.
            let page = api
                .get("/api/v1/payment-requests?status=open&limit=200", &beta_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(page["items"].as_array().unwrap().len(), 7);
            // The limit at its maximum and one past; cursors that are not cursors.
            for (query, field) in [
                ("limit=201", "limit"),
                ("limit=0", "limit"),
                ("after=abc", "after"),
                ("after=0", "after"),
            ] {
                let problem = api
                    .get(&format!("/api/v1/payment-requests?{query}"), &alpha_pay)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{query}");
            }
        }
    }
);
