//! Payment requests and orders, with authorisation on every route that takes an id.

use axum::http::StatusCode;
use tests::story;

use super::client::{hidden_value, Client};
use super::{balance, member, two_members, PASSWORD};

story!(
    payment_requests_accept_decline_expire_and_idor,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let gamma = member(&store, 3, "Gamma", "gamma", 100).await;
            let mut seller = Client::new(state);
            seller.login("owner@alpha.fr", PASSWORD).await;
            let page = seller.get("/requests").await;
            let token = hidden_value(&page.body, "token").unwrap();
            let beta_id = beta.id.to_string();
            let fields = [
                ("payee", beta_id.as_str()),
                ("amount", "50"),
                ("reference", "FA-77"),
                ("memo", "<b>travaux</b>"),
                ("due_date", "2099-01-31"),
                ("token", token.as_str()),
            ];
            assert_eq!(
                seller.post("/requests", &fields).await.status,
                StatusCode::SEE_OTHER
            );
            // A replayed creation makes no second request.
            assert_eq!(
                seller.post("/requests", &fields).await.status,
                StatusCode::SEE_OTHER
            );
            let count: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM payment_requests").fetch_one(pool).await.unwrap()
            });
            assert_eq!(count, 1);
            let id: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT id FROM payment_requests").fetch_one(pool).await.unwrap()
            });
            // A due date in the past is refused, keeping the form.
            let page = seller.get("/requests").await;
            let token2 = hidden_value(&page.body, "token").unwrap();
            let page = seller
                .post(
                    "/requests",
                    &[
                        ("payee", beta_id.as_str()),
                        ("amount", "5"),
                        ("due_date", "2001-01-01"),
                        ("token", token2.as_str()),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("La date doit être dans le futur.");

            // A stranger sees nothing and can do nothing.
            let mut stranger = seller.sibling();
            stranger.login("owner@gamma.fr", PASSWORD).await;
            let path = format!("/requests/{id}");
            assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);
            assert_eq!(
                stranger.post(&format!("{path}/accept"), &[]).await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                stranger.post(&format!("{path}/decline"), &[]).await.status,
                StatusCode::NOT_FOUND
            );
            assert!(!stranger.get("/requests").await.body.contains("FA-77"));
            // The seller cannot accept its own request.
            assert_eq!(
                seller.post(&format!("{path}/accept"), &[]).await.status,
                StatusCode::NOT_FOUND
            );

            // The buyer sees it on the dashboard, accepts, and pays once however often it clicks.
            let mut buyer = seller.sibling();
            buyer.login("staff@beta.fr", PASSWORD).await;
            let page = buyer.get("/dashboard").await;
            page.assert_contains("FA-77");
            let page = buyer.get(&path).await;
            page.assert_contains("&#60;b&#62;travaux&#60;/b&#62;");
            assert_eq!(
                buyer.post(&format!("{path}/accept"), &[]).await.status,
                StatusCode::SEE_OTHER
            );
            assert_eq!(
                buyer.post(&format!("{path}/accept"), &[]).await.status,
                StatusCode::SEE_OTHER
            );
            // 50 + 0,50 fund contribution; Alpha gets 50 - 1 commission.
            assert_eq!(balance(&store, &beta).await, -5_050);
            assert_eq!(balance(&store, &alpha).await, 4_900);
            buyer
                .get(&path)
                .await
                .assert_contains("id=\"status\">Payée");
            assert_eq!(
                buyer.post(&format!("{path}/decline"), &[]).await.status,
                StatusCode::SEE_OTHER
            );
            buyer
                .get(&path)
                .await
                .assert_contains("id=\"status\">Payée");

            // Gamma (limit 100) is asked for 500: the refusal is explained and nothing moves;
            // Gamma then declines.
            let page = seller.get("/requests").await;
            let token3 = hidden_value(&page.body, "token").unwrap();
            let gamma_id = gamma.id.to_string();
            seller
                .post(
                    "/requests",
                    &[
                        ("payee", gamma_id.as_str()),
                        ("amount", "500"),
                        ("due_date", "2099-01-31"),
                        ("token", token3.as_str()),
                    ],
                )
                .await;
            let id2: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT MAX(id) FROM payment_requests").fetch_one(pool).await.unwrap()
            });
            let page = stranger.post(&format!("/requests/{id2}/accept"), &[]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Crédit insuffisant : disponible 100,00, demandé 505,00");
            assert_eq!(balance(&store, &gamma).await, 0);
            assert_eq!(
                stranger
                    .post(&format!("/requests/{id2}/decline"), &[])
                    .await
                    .status,
                StatusCode::SEE_OTHER
            );
            stranger
                .get(&format!("/requests/{id2}"))
                .await
                .assert_contains("id=\"status\">Refusée");

            // An expired request can no longer be paid.
            let page = seller.get("/requests").await;
            let token4 = hidden_value(&page.body, "token").unwrap();
            seller
                .post(
                    "/requests",
                    &[
                        ("payee", beta_id.as_str()),
                        ("amount", "5"),
                        ("due_date", "2099-01-31"),
                        ("token", token4.as_str()),
                    ],
                )
                .await;
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE payment_requests SET expires_at = 0 WHERE status = 'open'")
                    .execute(pool).await.unwrap();
            });
            let id3: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT MAX(id) FROM payment_requests").fetch_one(pool).await.unwrap()
            });
            assert_eq!(
                buyer
                    .post(&format!("/requests/{id3}/accept"), &[])
                    .await
                    .status,
                StatusCode::NOT_FOUND
            );
            buyer
                .get(&format!("/requests/{id3}"))
                .await
                .assert_contains("id=\"status\">Expirée");
            assert_eq!(balance(&store, &beta).await, -5_050);
            store.close().await;
        }
    }
);

story!(orders_hold_capture_void_and_idor, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        member(&store, 3, "Gamma", "gamma", 100).await;
        let mut seller = Client::new(state);
        seller.login("owner@alpha.fr", PASSWORD).await;
        seller.get("/market/new").await;
        let page = seller
            .post(
                "/market",
                &[
                    ("kind", "offer"),
                    ("title", "Audit informatique"),
                    ("description", "Une journée"),
                    ("category", "informatique"),
                    ("price", "200"),
                    ("vat", "20"),
                    ("city", "Lyon"),
                    ("active_until", "2099-12-31"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let listing = page.location.clone().unwrap();

        let mut buyer = seller.sibling();
        buyer.login("owner@beta.fr", PASSWORD).await;
        let page = buyer.get(&listing).await;
        let token = hidden_value(&page.body, "token").unwrap();
        let page = buyer
            .post(&format!("{listing}/order"), &[("token", token.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let order = page.location.clone().unwrap();
        // Replaying the order form places no second hold.
        let again = buyer
            .post(&format!("{listing}/order"), &[("token", token.as_str())])
            .await;
        assert_eq!(
            again.location.as_deref(),
            Some(order.as_str()),
            "{}",
            again.body
        );
        let account = store
            .account(ledger::AccountId(beta.account_id as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.pending().minor(), 20_200);
        assert_eq!(account.balance().minor(), 0);

        // Strangers cannot see or touch it; the buyer cannot confirm delivery.
        let mut stranger = seller.sibling();
        stranger.login("owner@gamma.fr", PASSWORD).await;
        assert_eq!(stranger.get(&order).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            stranger.post(&format!("{order}/deliver"), &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            stranger.post(&format!("{order}/cancel"), &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            buyer.post(&format!("{order}/deliver"), &[]).await.status,
            StatusCode::NOT_FOUND
        );
        // Gamma (limit 100) cannot order a 200 offer.
        let page = stranger.get(&listing).await;
        let token_g = hidden_value(&page.body, "token").unwrap();
        let page = stranger
            .post(&format!("{listing}/order"), &[("token", token_g.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Crédit insuffisant");
        // The seller cannot order its own offer.
        let page = seller.get(&listing).await;
        assert!(!page.body.contains("/order\""));

        // The seller confirms delivery: the hold is captured once.
        seller
            .get("/dashboard")
            .await
            .assert_contains("Des commandes attendent");
        assert_eq!(
            seller.post(&format!("{order}/deliver"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        // A second click replays the first capture's answer: nothing more moves.
        assert_eq!(
            seller.post(&format!("{order}/deliver"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(balance(&store, &beta).await, -20_200);
        assert_eq!(balance(&store, &alpha).await, 19_600);
        let delivered = buyer.get(&order).await;
        delivered.assert_contains("Livrée et payée");
        // Delivered: the buyer may dispute the payment, the seller refund it, from the
        // order's page; the link leads to the payment the buyer made.
        let tx = {
            let start = delivered.body.find("/payments/").expect("a payment link") + 10;
            let end = start + delivered.body[start..].find('/').unwrap();
            delivered.body[start..end].to_owned()
        };
        delivered.assert_contains(&format!(
            "href=\"/payments/{tx}/dispute\" id=\"order-dispute\""
        ));
        assert_eq!(
            buyer.get(&format!("/payments/{tx}/dispute")).await.status,
            StatusCode::OK
        );
        seller.get(&order).await.assert_contains(&format!(
            "href=\"/payments/{tx}/refund\" id=\"order-refund\""
        ));
        // Delivered: nothing waits for the seller any more.
        assert!(!seller
            .get("/dashboard")
            .await
            .body
            .contains("Des commandes attendent"));

        // A second order, cancelled by the buyer: the hold is released.
        let page = buyer.get(&listing).await;
        let token2 = hidden_value(&page.body, "token").unwrap();
        let page = buyer
            .post(&format!("{listing}/order"), &[("token", token2.as_str())])
            .await;
        let order2 = page.location.clone().unwrap();
        assert_eq!(
            buyer.post(&format!("{order2}/cancel"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        let account = store
            .account(ledger::AccountId(beta.account_id as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.pending().minor(), 0);
        assert_eq!(account.balance().minor(), -20_200);
        buyer.get("/orders").await.assert_contains("Annulée");
        store.close().await;
    }
});

story!(orders_expire_with_their_hold, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        let content = web::market::ListingContent {
            kind: web::market::Kind::Offer,
            title: "Conseil".into(),
            description: String::new(),
            category: "conseil".into(),
            price_minor: Some(10_000),
            vat_bp: 2_000,
            city: "Lyon".into(),
            active_until: "2099-01-01".into(),
        };
        let listing = web::market::create(&store, alpha.id, &content, None)
            .await
            .unwrap();
        // A hold that expires in a second (the web form gives 14 days), and its order.
        let expires = chrono::Utc::now() + chrono::Duration::seconds(1);
        let op = ledger::Operation::PlaceHold {
            hold: ledger::HoldId(0),
            payer: ledger::AccountId(beta.account_id as u64),
            payee: ledger::AccountId(alpha.account_id as u64),
            amount: ledger::Amount::from_minor(10_000),
            expires_at: expires,
            reference: String::new(),
            memo: String::new(),
        };
        let key = ledger::IdempotencyKey::new("test-hold").unwrap();
        let outcome = store
            .submit(web::store::Submission::new(key, op))
            .await
            .unwrap()
            .unwrap();
        let ledger::Outcome::HoldPlaced { hold } = outcome else {
            panic!("{outcome:?}")
        };
        let order = web::trade::create_order(
            &store,
            &web::trade::NewOrder {
                listing_id: listing,
                buyer_member_id: beta.id,
                seller_member_id: alpha.id,
                amount_minor: 10_000,
                hold_id: hold.0 as i64,
                expires_at: expires.timestamp(),
                form_token: "test-order",
            },
        )
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

        let mut buyer = Client::new(state);
        buyer.login("owner@beta.fr", PASSWORD).await;
        buyer
            .get(&format!("/orders/{order}"))
            .await
            .assert_contains("id=\"status\">Expirée");
        let account = store
            .account(ledger::AccountId(beta.account_id as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.pending().minor(), 0);
        // Too late to deliver: the ledger refuses, nothing moves.
        let mut seller = buyer.sibling();
        seller.login("owner@alpha.fr", PASSWORD).await;
        let page = seller.post(&format!("/orders/{order}/deliver"), &[]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(balance(&store, &alpha).await, 0);
        assert_eq!(balance(&store, &beta).await, 0);
        store.close().await;
    }
});
