//! Orders of offers through the API: the hold on the buyer's credit, delivery, cancellation,
//! who may do what; offers and wants read, changed and closed one by one.

use axum::http::StatusCode;
use serde_json::{json, Value};
use tests::story;
use web::market::{self, Kind, ListingContent};
use web::people::Member;
use web::store::Store;
use web::tokens::Scope;

use super::{balance, day_in, ids, member_accountant, setup, token, Api};

fn ids_of(page: &Value) -> Vec<i64> {
    ids(page, "id")
}

async fn pending(store: &Store, member: &Member) -> i64 {
    store
        .account(ledger::AccountId(member.account_id as u64))
        .await
        .unwrap()
        .unwrap()
        .pending()
        .minor()
}

async fn offer(api: &Api, seller: &str, title: &str, price: &str) -> i64 {
    let until = day_in(30);
    api.post(
        "/api/v1/offers",
        seller,
        json!({"title": title, "category": "informatique", "price": price, "city": "Lyon",
               "active_until": until}),
    )
    .await
    .ok(StatusCode::CREATED)["id"]
        .as_i64()
        .unwrap()
}

story!(
    an_order_holds_credit_until_delivery_or_cancellation,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let audit = offer(&api, &beta_pay, "Audit", "100").await;

            // Alpha orders: 100.00 plus the buyer's 1 % fund contribution held on its credit,
            // nothing paid yet.
            let path = format!("/api/v1/offers/{audit}/order");
            let order = api
                .post_key(&path, &alpha_pay, "order-1", json!({}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(order["status"], "held");
            assert_eq!(order["amount"], "100.00");
            assert_eq!(order["offer_id"], audit);
            assert_eq!(order["buyer_member_id"], alpha.id);
            assert_eq!(order["seller_member_id"], beta.id);
            assert_eq!(order["transaction_id"], Value::Null);
            let id = order["id"].as_i64().unwrap();
            assert_eq!(pending(&store, &alpha).await, 10_100);
            assert_eq!(balance(&store, &alpha).await, 0);
            let account = api
                .get(
                    &format!("/api/v1/accounts/{}", alpha.account_id),
                    &alpha_pay,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(account["pending"], "101.00");
            assert_eq!(account["available"], "899.00");
            // Replayed under its key: the same order, one hold.
            let again = api
                .post_key(&path, &alpha_pay, "order-1", json!({}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(again["id"], id);
            assert_eq!(pending(&store, &alpha).await, 10_100);
            // Not one's own offer; not with a read token; not an unknown offer.
            api.post(&path, &beta_pay, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "own_offer");
            api.post(&path, &alpha_read, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            for unknown in ["999999", "0", "abc"] {
                api.post(
                    &format!("/api/v1/offers/{unknown}/order"),
                    &alpha_pay,
                    json!({}),
                )
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            }

            // Both sides see it; the network's staff have no orders.
            for caller in [&alpha_read, &beta_pay] {
                let shown = api
                    .get(&format!("/api/v1/orders/{id}"), caller)
                    .await
                    .ok(StatusCode::OK);
                assert_eq!(shown["status"], "held");
                assert_eq!(
                    ids_of(&api.get("/api/v1/orders", caller).await.ok(StatusCode::OK)),
                    [id]
                );
            }
            api.get("/api/v1/orders", &manager)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.get(&format!("/api/v1/orders/{id}"), &manager)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // A stranger sees nothing of it, and can do nothing with it.
            crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
            let gamma = token(&store, "owner@gamma.fr", Scope::Pay).await;
            api.get(&format!("/api/v1/orders/{id}"), &gamma)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            for action in ["deliver", "cancel"] {
                api.post(&format!("/api/v1/orders/{id}/{action}"), &gamma, json!({}))
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            assert!(ids_of(&api.get("/api/v1/orders", &gamma).await.ok(StatusCode::OK)).is_empty());
            assert_eq!(pending(&store, &alpha).await, 10_100);
            // Only the seller delivers: the buyer gets 404, like a stranger.
            let deliver = format!("/api/v1/orders/{id}/deliver");
            api.post(&deliver, &alpha_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let delivered = api
                .post(&deliver, &beta_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(delivered["status"], "delivered");
            let tx = delivered["transaction_id"].as_i64().unwrap();
            assert_eq!(pending(&store, &alpha).await, 0);
            assert_eq!(balance(&store, &alpha).await, -10_100);
            assert!(balance(&store, &beta).await > 0);
            let seller_balance = balance(&store, &beta).await;
            // Again: the same answer, nothing paid twice; and no cancelling a delivered order.
            let again = api
                .post(&deliver, &beta_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(again["transaction_id"], tx);
            assert_eq!(balance(&store, &beta).await, seller_balance);
            api.post(
                &format!("/api/v1/orders/{id}/cancel"),
                &alpha_pay,
                json!({}),
            )
            .await
            .problem(StatusCode::CONFLICT, "order_not_held");

            // A second order, cancelled by the buyer: the hold is released.
            let second = api
                .post(&path, &alpha_pay, json!({}))
                .await
                .ok(StatusCode::CREATED);
            let second_id = second["id"].as_i64().unwrap();
            assert_ne!(second_id, id);
            assert_eq!(pending(&store, &alpha).await, 10_100);
            let cancel = format!("/api/v1/orders/{second_id}/cancel");
            let cancelled = api
                .post(&cancel, &alpha_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(cancelled["status"], "cancelled");
            assert_eq!(cancelled["transaction_id"], Value::Null);
            assert_eq!(pending(&store, &alpha).await, 0);
            assert_eq!(balance(&store, &alpha).await, -10_100);
            api.post(&cancel, &alpha_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            api.post(
                &format!("/api/v1/orders/{second_id}/deliver"),
                &beta_pay,
                json!({}),
            )
            .await
            .problem(StatusCode::CONFLICT, "order_not_held");

            // One cent more than the buyer's credit (899.00 left; 890.11 and its 8.90 make
            // 899.01): refused by the ledger, no order, nothing held.
            let yacht = offer(&api, &beta_pay, "Yacht", "890.11").await;
            let refused = api
                .post(
                    &format!("/api/v1/offers/{yacht}/order"),
                    &alpha_pay,
                    json!({}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
            assert!(refused["detail"].is_string());
            assert_eq!(pending(&store, &alpha).await, 0);
            let all = api
                .get("/api/v1/orders", &alpha_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(ids_of(&all), [second_id, id]);
            // Exactly the credit left (890.10 and 8.90): accepted.
            let exact = offer(&api, &beta_pay, "Exact", "890.10").await;
            api.post(
                &format!("/api/v1/offers/{exact}/order"),
                &alpha_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::CREATED);
            assert_eq!(pending(&store, &alpha).await, 89_900);
            store.close().await;
        }
    }
);

story!(orders_come_in_keyset_pages, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let mut made = Vec::new();
        // Alpha buys two, Beta buys one of Alpha's: Alpha's list holds all three.
        let cheap = offer(&api, &beta_pay, "Cheap", "1").await;
        for _ in 0..2 {
            let order = api
                .post(
                    &format!("/api/v1/offers/{cheap}/order"),
                    &alpha_pay,
                    json!({}),
                )
                .await
                .ok(StatusCode::CREATED);
            made.push(order["id"].as_i64().unwrap());
        }
        let alphas = offer(&api, &alpha_pay, "Alpha's", "2").await;
        let order = api
            .post(
                &format!("/api/v1/offers/{alphas}/order"),
                &beta_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::CREATED);
        made.push(order["id"].as_i64().unwrap());
        made.reverse();

        let first = api
            .get("/api/v1/orders?limit=2", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids_of(&first), made[..2]);
        let next = first["next"].as_str().unwrap().to_owned();
        let rest = api
            .get(&format!("/api/v1/orders?limit=2&after={next}"), &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids_of(&rest), made[2..]);
        assert_eq!(rest["next"], Value::Null);
        let whole = api
            .get("/api/v1/orders?limit=3", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids_of(&whole), made);
        assert_eq!(whole["next"], Value::Null);
        api.get("/api/v1/orders?limit=200", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        for bad in ["limit=201", "limit=0", "after=abc", "after=0"] {
            api.get(&format!("/api/v1/orders?{bad}"), &alpha_pay)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        // Beta is in all three too: the seller of two, the buyer of one.
        let betas = api
            .get("/api/v1/orders", &beta_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids_of(&betas), made);
        store.close().await;
    }
});

story!(
    offers_are_read_and_closed_one_by_one,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
            let id = offer(&api, &beta_pay, "Conseil", "250.5").await;
            let shown = api
                .get(&format!("/api/v1/offers/{id}"), &alpha_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(shown["title"], "Conseil");
            assert_eq!(shown["price"], "250.50");
            assert_eq!(shown["member_id"], beta.id);
            assert_eq!(shown["status"], "open");

            // Only its member closes it (a read token may not; another member gets 404).
            let close = format!("/api/v1/offers/{id}/close");
            api.post(&close, &alpha_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&close, &beta_read, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let closed = api
                .post(&close, &beta_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(closed["status"], "closed");
            api.post(&close, &beta_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            // A closed offer: its member still reads it, nobody else, and nobody orders it.
            assert_eq!(
                api.get(&format!("/api/v1/offers/{id}"), &beta_read)
                    .await
                    .ok(StatusCode::OK)["status"],
                "closed"
            );
            api.get(&format!("/api/v1/offers/{id}"), &alpha_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&format!("/api/v1/offers/{id}/order"), &alpha_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let listed = api
                .get("/api/v1/offers", &alpha_pay)
                .await
                .ok(StatusCode::OK);
            assert!(ids_of(&listed).is_empty());
            // An offer past its last day is no longer ordered (nor listed).
            let old = offer(&api, &beta_pay, "Ancien", "10").await;
            let yesterday = day_in(-1);
            let content = ListingContent {
                kind: Kind::Offer,
                title: "Ancien".into(),
                description: String::new(),
                category: "informatique".into(),
                price_minor: Some(1_000),
                vat_bp: 0,
                city: "Lyon".into(),
                active_until: yesterday,
            };
            assert!(market::update(&store, old, beta.id, &content)
                .await
                .unwrap());
            api.post(
                &format!("/api/v1/offers/{old}/order"),
                &alpha_pay,
                json!({}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            assert!(ids_of(
                &api.get("/api/v1/offers", &alpha_pay)
                    .await
                    .ok(StatusCode::OK)
            )
            .is_empty());
            assert_eq!(pending(&store, &alpha).await, 0);
            // Unknown ids, and the member accountant who does not see the marketplace.
            for unknown in ["999999", "-1", "x"] {
                api.get(&format!("/api/v1/offers/{unknown}"), &alpha_pay)
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            let expert = member_accountant(&store, &alpha).await;
            api.get(&format!("/api/v1/offers/{id}"), &expert)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.get("/api/v1/orders", &expert)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            store.close().await;
        }
    }
);

story!(
    wants_and_offers_are_changed_and_closed_by_their_member,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, _beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let until = day_in(30);
            let body = json!({"title": "Cherche traiteur", "category": "informatique", "price": "300",
                          "city": "Lyon", "active_until": until});
            let want = api
                .post("/api/v1/wants", &alpha_pay, body.clone())
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(want["kind"], "want");
            assert_eq!(want["member_id"], alpha.id);
            assert_eq!(want["price"], "300.00");
            let id = want["id"].as_i64().unwrap();
            // Wants and offers are apart: the want is no offer, and no one orders it.
            let offer_id = offer(&api, &beta_pay, "Traiteur", "280").await;
            assert_eq!(
                ids_of(&api.get("/api/v1/wants", &beta_pay).await.ok(StatusCode::OK)),
                [id]
            );
            assert_eq!(
                ids_of(
                    &api.get("/api/v1/offers", &alpha_pay)
                        .await
                        .ok(StatusCode::OK)
                ),
                [offer_id]
            );
            assert_eq!(
                api.get(&format!("/api/v1/offers/{offer_id}"), &alpha_pay)
                    .await
                    .ok(StatusCode::OK)["kind"],
                "offer"
            );
            api.get(&format!("/api/v1/offers/{id}"), &beta_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.get(&format!("/api/v1/wants/{offer_id}"), &alpha_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&format!("/api/v1/offers/{id}/order"), &beta_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            assert_eq!(
                api.get(&format!("/api/v1/wants/{id}"), &beta_pay)
                    .await
                    .ok(StatusCode::OK)["title"],
                "Cherche traiteur"
            );

            // Its member changes it, whole; another member gets 404 and nothing changes.
            let mut changed = body.clone();
            changed["title"] = json!("Cherche traiteur bio");
            changed["price"] = Value::Null;
            api.put(&format!("/api/v1/wants/{id}"), &beta_pay, changed.clone())
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let after = api
                .put(&format!("/api/v1/wants/{id}"), &alpha_pay, changed)
                .await
                .ok(StatusCode::OK);
            assert_eq!(after["title"], "Cherche traiteur bio");
            assert_eq!(after["price"], Value::Null);
            assert_eq!(after["kind"], "want");
            // A bad field is refused and changes nothing; at the limit it is taken.
            let mut bad = body.clone();
            bad["title"] = json!("t".repeat(121));
            let problem = api
                .put(&format!("/api/v1/wants/{id}"), &alpha_pay, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "title");
            assert_eq!(
                api.get(&format!("/api/v1/wants/{id}"), &alpha_pay)
                    .await
                    .ok(StatusCode::OK)["title"],
                "Cherche traiteur bio"
            );
            let mut longest = body.clone();
            longest["title"] = json!("t".repeat(120));
            api.put(&format!("/api/v1/wants/{id}"), &alpha_pay, longest)
                .await
                .ok(StatusCode::OK);

            // An offer's new price is what the next order holds.
            let mut cheaper = json!({"title": "Traiteur", "category": "informatique", "price": "250",
                                 "city": "Lyon", "active_until": until});
            api.put(
                &format!("/api/v1/offers/{offer_id}"),
                &alpha_pay,
                cheaper.clone(),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            cheaper["vat_bp"] = json!(2000);
            let offer_after = api
                .put(&format!("/api/v1/offers/{offer_id}"), &beta_pay, cheaper)
                .await
                .ok(StatusCode::OK);
            assert_eq!(offer_after["price"], "250.00");
            assert_eq!(offer_after["vat_bp"], 2000);
            let order = api
                .post(
                    &format!("/api/v1/offers/{offer_id}/order"),
                    &alpha_pay,
                    json!({}),
                )
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(order["amount"], "250.00");

            // Closed: gone from the list, still its member's to read.
            let closed = api
                .post(&format!("/api/v1/wants/{id}/close"), &alpha_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(closed["status"], "closed");
            assert!(
                ids_of(&api.get("/api/v1/wants", &beta_pay).await.ok(StatusCode::OK)).is_empty()
            );
            api.get(&format!("/api/v1/wants/{id}"), &beta_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.get(&format!("/api/v1/wants/{id}"), &alpha_pay)
                .await
                .ok(StatusCode::OK);
            api.post(
                &format!("/api/v1/wants/{offer_id}/close"),
                &beta_pay,
                json!({}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            store.close().await;
        }
    }
);

story!(
    an_order_the_seller_could_not_be_paid_for_is_refused_when_placed,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
            // Beta may hold at most 300.00.
            api.put(
                &format!("/api/v1/accounts/{}/credit-limit", beta.account_id),
                &manager,
                json!({"credit_limit": "500", "max_balance": "300", "reason": "Plafond"}),
            )
            .await
            .ok(StatusCode::OK);
            let big = offer(&api, &beta_pay, "Gros", "300.01").await;
            let exact = offer(&api, &beta_pay, "Juste", "300").await;
            let small = offer(&api, &beta_pay, "Petit", "0.01").await;
            let order = |listing: i64| format!("/api/v1/offers/{listing}/order");

            // One cent past what Beta may receive is refused when ordered, without telling
            // Beta's figures, and holds nothing.
            let problem = api
                .post(&order(big), &alpha_pay, json!({}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_upper_limit");
            assert!(
                !problem["detail"].as_str().unwrap().contains("300"),
                "{problem}"
            );
            assert_eq!(pending(&store, &alpha).await, 0);
            // Exactly what it may receive is taken; then the orders it has to deliver
            // count: even one cent more is refused.
            let held = api
                .post(&order(exact), &alpha_pay, json!({}))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            api.post(&order(small), &alpha_pay, json!({}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_upper_limit");
            // Once that order is cancelled, the small one fits again.
            api.post(
                &format!("/api/v1/orders/{held}/cancel"),
                &alpha_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
            api.post(&order(small), &alpha_pay, json!({}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(balance(&store, &beta).await, 0);
        }
    }
);
