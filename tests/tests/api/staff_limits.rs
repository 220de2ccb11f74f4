//! Staff payment limits and who entered a payment: a company's owner caps what each staff
//! user may commit the company to in one operation, and the company's history names which
//! of its users entered each payment; over the API and on the pages.

use axum::http::StatusCode;
use chrono::{Duration, Timelike, Utc};
use ed25519_dalek::SigningKey;
use ledger::audit::{public_key_hex, sign_order, PaymentOrder};
use ledger::{Amount, IdempotencyKey};
use serde_json::{json, Value};
use tests::story;
use web::people::{self, PAYMENT_MAX_MAX};
use web::tokens::Scope;

use super::{day_in, ledger_state, pays, setup, token, user_id, Api, PASSWORD};
use crate::web_front::client::{hidden_value, Client};
use crate::web_front::two_members;

const USERS: &str = "/api/v1/company/users";

fn limit_path(user_id: i64) -> String {
    format!("{USERS}/{user_id}/payment-limit")
}

async fn author_rows(store: &web::store::Store) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM transaction_authors")
            .fetch_one(pool).await.unwrap()
    })
}

async fn raw(store: &web::store::Store, sql: &str) -> Result<u64, String> {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()).map_err(|e| e.to_string())
    })
}

/// The pay form's fields.
fn pay_fields<'a>(
    payee: &'a str,
    amount: &'a str,
    reference: &'a str,
    token: &'a str,
) -> [(&'static str, &'a str); 5] {
    [
        ("payee", payee),
        ("amount", amount),
        ("reference", reference),
        ("memo", ""),
        ("token", token),
    ]
}

/// An order of `cents` from `payer` to `payee` under `key`, signed with `signer`, as the
/// API's body.
fn signed_order(
    payer: &people::Member,
    payee: &people::Member,
    cents: i64,
    key: &str,
    signer: &SigningKey,
) -> Value {
    let order = PaymentOrder {
        payer: payer.account(),
        payee: payee.account(),
        amount: Amount::from_minor(cents),
        reference: "BC-1".into(),
        idempotency_key: IdempotencyKey::new(key).unwrap(),
        expires_at: (Utc::now() + Duration::minutes(10))
            .with_nanosecond(0)
            .unwrap(),
    };
    json!({
        "payer": order.payer.0, "payee": order.payee.0,
        "amount": format!("{}.{:02}", cents / 100, cents % 100),
        "reference": order.reference, "idempotency_key": key,
        "expires_at": order.expires_at.to_rfc3339(),
        "public_key": public_key_hex(signer), "signature": sign_order(signer, &order),
    })
}

/// The code on `amount` of a standing order `token` may not set up (monthly to `payee`,
/// from three days on): 422 `validation_failed`.
async fn standing_refused(api: &Api, token: &str, payee: i64, amount: &str) -> Value {
    let problem = api
        .post(
            "/api/v1/standing-orders",
            token,
            json!({"payee": payee, "amount": amount, "every": "month",
                   "first_date": day_in(3), "reference": "LOYER", "memo": ""}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    problem["errors"][0]["code"].clone()
}

/// `token`'s user registers `signer`'s public key on `account`.
async fn register_key(api: &Api, token: &str, account: i64, signer: &SigningKey) {
    api.post(
        &format!("/api/v1/accounts/{account}/keys"),
        token,
        json!({"public_key": public_key_hex(signer)}),
    )
    .await
    .ok(StatusCode::CREATED);
}

/// The `entered_by` of transaction `tx` in `account`'s list as `token` reads it.
async fn entered_by(api: &Api, token: &str, account: i64, tx: i64) -> Value {
    let page = api
        .get(&format!("/api/v1/accounts/{account}/transactions"), token)
        .await
        .ok(StatusCode::OK);
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == tx)
        .unwrap_or_else(|| panic!("no transaction {tx} in {page}"))["entered_by"]
        .clone()
}

story!(staff_payment_limits_over_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
        let owner_id = user_id(&store, alpha.id, "owner@alpha.fr").await;
        let beta_staff = user_id(&store, beta.id, "staff@beta.fr").await;

        // Only the owner, with a pay token, sets a limit, and only on its own staff.
        let body = json!({"payment_limit": "100.00"});
        for (caller, path, status, code) in [
            (
                &staff_pay,
                limit_path(staff_id),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                &owner_read,
                limit_path(staff_id),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                &manage,
                limit_path(staff_id),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                &owner_pay,
                limit_path(owner_id),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                &owner_pay,
                limit_path(beta_staff),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                &owner_pay,
                limit_path(999_999),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
        ] {
            api.put(&path, caller, body.clone())
                .await
                .problem(status, code);
        }
        // A bad limit names its field and changes nothing; the highest passes.
        for bad in [
            json!({"payment_limit": "0.00"}),
            json!({"payment_limit": "10000000.01"}),
            json!({"payment_limit": "abc"}),
            json!({"payment_limit": "-5.00"}),
            json!({"payment_limit": "12,50"}),
            json!({"payment_limit": 12.5}),
            // Missing is not null: an empty body lifts nothing.
            json!({}),
        ] {
            let problem = api
                .put(&limit_path(staff_id), &owner_pay, bad.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "payment_limit", "{bad}");
        }
        let users = api.get(USERS, &staff_pay).await.ok(StatusCode::OK);
        assert!(users["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["payment_limit"].is_null()));
        let me = api.get("/api/v1/me", &staff_pay).await.ok(StatusCode::OK);
        assert!(me["payment_limit"].is_null(), "{me}");
        let highest = format!("{}.00", PAYMENT_MAX_MAX / 100);
        let set = api
            .put(
                &limit_path(staff_id),
                &owner_pay,
                json!({"payment_limit": highest}),
            )
            .await
            .ok(StatusCode::OK);
        let shown = |users: &Value, id: i64| {
            users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == id)
                .unwrap()["payment_limit"]
                .clone()
        };
        assert_eq!(shown(&set, staff_id), "10000000.00");
        let set = api
            .put(&limit_path(staff_id), &owner_pay, body.clone())
            .await
            .ok(StatusCode::OK);
        assert_eq!(shown(&set, staff_id), "100.00");
        assert!(shown(&set, owner_id).is_null());
        // Every user of the company reads it; so does the manager on the member's page.
        let users = api.get(USERS, &staff_pay).await.ok(StatusCode::OK);
        assert_eq!(shown(&users, staff_id), "100.00");
        // The staff user's own limit is in `/me`; the owner has none.
        let me = |token: &str| {
            let token = token.to_owned();
            let api = &api;
            async move { api.get("/api/v1/me", &token).await.ok(StatusCode::OK) }
        };
        assert_eq!(me(&staff_pay).await["payment_limit"], "100.00");
        assert!(me(&owner_pay).await["payment_limit"].is_null());
        let member = api
            .get(&format!("/api/v1/members/{}", alpha.id), &manage)
            .await
            .ok(StatusCode::OK);
        let staff_row = member["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == staff_id)
            .unwrap()
            .clone();
        assert_eq!(staff_row["payment_limit"], "100.00");

        // The staff user pays up to the limit; one cent more is refused and changes nothing.
        let at_limit = pays(&api, &staff_pay, &beta, "100.00").await;
        let before = ledger_state(&store, &alpha, &beta).await;
        let authors_before = author_rows(&store).await;
        let problem = api
            .post(
                "/api/v1/payments",
                &staff_pay,
                json!({"payee": beta.id, "amount": "100.01", "reference": "", "memo": ""}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_payment_limit");
        assert!(problem["detail"].as_str().unwrap().contains("100.00"));
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        assert_eq!(author_rows(&store).await, authors_before);
        // The owner has no limit of its own.
        let by_owner = pays(&api, &owner_pay, &beta, "100.01").await;

        // Accepting a request, and refunding a payment received, are capped alike.
        let request = api
            .post(
                "/api/v1/payment-requests",
                &beta_pay,
                json!({"payer": alpha.id, "amount": "150.00", "reference": "FA-12", "memo": "Audit", "due_date": day_in(10)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let accept = format!("/api/v1/payment-requests/{}/accept", request["id"]);
        api.post(&accept, &staff_pay, json!({}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_payment_limit");
        let received = pays(&api, &beta_pay, &alpha, "150.00").await;
        let before = ledger_state(&store, &alpha, &beta).await;
        let refund = format!("/api/v1/transactions/{received}/refund");
        api.post(&refund, &staff_pay, json!({"memo": "Retour"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_payment_limit");
        // A standing order's amount too (each run commits the company to it).
        assert_eq!(
            standing_refused(&api, &staff_pay, beta.id, "100.01").await,
            "over_payment_limit"
        );
        // And an order's hold for an offer's price.
        let offer = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                json!({"title": "Audit", "category": "informatique", "price": "100.01",
                       "city": "Lyon", "active_until": day_in(30)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let order = format!("/api/v1/offers/{}/order", offer["id"]);
        api.post(&order, &staff_pay, json!({}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_payment_limit");
        assert_eq!(
            api.get("/api/v1/orders", &staff_pay)
                .await
                .ok(StatusCode::OK)["items"],
            json!([])
        );
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

        // A key the staff user registered signs for it: an order above its limit is refused
        // whoever submits it (the payee cashing it too); one within it is paid.
        let signer = SigningKey::from_bytes(&[7; 32]);
        register_key(&api, &staff_pay, alpha.account_id, &signer).await;
        let big = signed_order(&alpha, &beta, 10_001, "order-big", &signer);
        for submitter in [&staff_pay, &beta_pay] {
            api.post("/api/v1/signed-payments", submitter, big.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_payment_limit");
        }
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        let small = signed_order(&alpha, &beta, 5_000, "order-small", &signer);
        api.post("/api/v1/signed-payments", &beta_pay, small)
            .await
            .ok(StatusCode::CREATED);

        // Lifted, the staff user accepts the request.
        let lifted = api
            .put(
                &limit_path(staff_id),
                &owner_pay,
                json!({"payment_limit": null}),
            )
            .await
            .ok(StatusCode::OK);
        assert!(shown(&lifted, staff_id).is_null());
        let accepted = api
            .post(&accept, &staff_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(accepted["status"], "paid");
        let request_tx = accepted["transaction_id"].as_i64().unwrap();

        // Who entered what: the company and the network read it; the other company never.
        let account = alpha.account_id;
        for (tx, author) in [
            (at_limit, "staff@alpha.fr"),
            (by_owner, "owner@alpha.fr"),
            (request_tx, "staff@alpha.fr"),
        ] {
            assert_eq!(entered_by(&api, &owner_read, account, tx).await, author);
            assert_eq!(entered_by(&api, &staff_pay, account, tx).await, author);
            assert_eq!(entered_by(&api, &manage, account, tx).await, author);
            assert!(entered_by(&api, &beta_pay, beta.account_id, tx)
                .await
                .is_null());
        }
        // One transaction read alone says the same.
        let one = |tx: i64| format!("/api/v1/transactions/{tx}");
        let shown = api
            .get(&one(at_limit), &owner_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(shown["entered_by"], "staff@alpha.fr");
        let shown = api.get(&one(at_limit), &manage).await.ok(StatusCode::OK);
        assert_eq!(shown["entered_by"], "staff@alpha.fr");
        let shown = api.get(&one(at_limit), &beta_pay).await.ok(StatusCode::OK);
        assert!(shown["entered_by"].is_null());
        // Beta's payment is Beta's entry: named in Beta's list, not in Alpha's.
        assert!(entered_by(&api, &owner_read, account, received)
            .await
            .is_null());
        assert_eq!(
            entered_by(&api, &beta_pay, beta.account_id, received).await,
            "owner@beta.fr"
        );

        // The record is append-only, whatever SQL asks (the signed payment names no author:
        // its signature does).
        let rows = author_rows(&store).await;
        assert_eq!(rows, 4);
        for sql in [
            "UPDATE transaction_authors SET author = 'x@y.fr'",
            "DELETE FROM transaction_authors",
        ] {
            let refused = raw(&store, sql).await.unwrap_err();
            assert!(refused.contains("append-only"), "{sql}: {refused}");
        }
        assert_eq!(author_rows(&store).await, rows);
    }
});

story!(staff_payment_limits_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
        let owner_id = user_id(&store, alpha.id, "owner@alpha.fr").await;
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        let mut staff = owner.sibling();
        staff.login("staff@alpha.fr", PASSWORD).await;
        let mut seller = owner.sibling();
        seller.login("owner@beta.fr", PASSWORD).await;
        let path = format!("/company/users/{staff_id}/payment-limit");

        // The owner sees a limit form for its staff; the staff user only reads it.
        let page = owner.get("/company").await;
        page.assert_contains(&format!("action=\"{path}\""));
        page.assert_contains("Plafond par opération : aucun");
        let page = staff.get("/company").await;
        assert!(!page.body.contains(&path));
        assert_eq!(
            staff.post(&path, &[("payment_max", "5")]).await.status,
            StatusCode::FORBIDDEN
        );
        // Not a staff user of the company: 404.
        let own = format!("/company/users/{owner_id}/payment-limit");
        assert_eq!(
            owner.post(&own, &[("payment_max", "5")]).await.status,
            StatusCode::NOT_FOUND
        );

        // Refusals are worded, keep what was typed and change nothing.
        for (typed, message) in [
            ("abc", "Montant invalide"),
            ("0", "Montant invalide"),
            (
                "10 000 000,01",
                "Le plafond ne peut dépasser 10 000 000,00.",
            ),
        ] {
            let page = owner.post(&path, &[("payment_max", typed)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
            page.assert_contains(message);
            page.assert_contains(&format!("value=\"{typed}\""));
        }
        // A long text is echoed cut at 32 characters.
        let long = "9".repeat(40);
        let page = owner.post(&path, &[("payment_max", &long)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains(&format!("value=\"{}\"", &long[..32]));
        assert!(!page.body.contains(&long[..33]));
        let page = owner.post(&path, &[("payment_max", "10 000 000,00")]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Plafond par opération : 10 000 000,00");
        let page = owner.post(&path, &[("payment_max", "100,00")]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Plafond enregistré.");
        page.assert_contains("Plafond par opération : 100,00");
        page.assert_contains("value=\"100.00\"");
        // The manager reads it on the member's page.
        crate::api::staff(&store).await;
        let mut manager = owner.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        manager
            .get(&format!("/admin/members/{}", alpha.id))
            .await
            .assert_contains("staff@alpha.fr (Collaborateur) — <span class=\"muted\">Plafond par opération : 100,00</span>");

        // The staff user's payment above it is refused on the form, in words.
        let beta_id = beta.id.to_string();
        let form = staff.get("/pay").await;
        let token = hidden_value(&form.body, "token").unwrap();
        let over = pay_fields(&beta_id, "100,01", "FA-1", &token);
        for step in ["/pay/confirm", "/pay"] {
            let page = staff.post(step, &over).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{step}");
            page.assert_contains("Ce montant dépasse votre plafond par opération (100,00)");
            page.assert_contains("value=\"100,01\"");
        }
        assert_eq!(crate::web_front::balance(&store, &alpha).await, 0);
        let at = pay_fields(&beta_id, "100,00", "FA-1", &token);
        let page = staff.post("/pay", &at).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Paiement effectué.");
        let paid_tx: String = page
            .body
            .split("(n° ")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();

        // Accepting a request above it is refused on the request's page.
        let api = Api::new(state.clone());
        let beta_pay = super::token(&store, "owner@beta.fr", Scope::Pay).await;
        let request = api
            .post(
                "/api/v1/payment-requests",
                &beta_pay,
                json!({"payer": alpha.id, "amount": "150.00", "reference": "FA-12", "memo": "Audit", "due_date": day_in(10)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let paid_before = crate::web_front::balance(&store, &alpha).await;
        let page = staff
            .post(&format!("/requests/{}/accept", request["id"]), &[])
            .await;
        page.assert_contains("Ce montant dépasse votre plafond par opération (100,00)");
        assert_eq!(crate::web_front::balance(&store, &alpha).await, paid_before);

        // A signed order from the staff user's key, cashed by the payee on the web, likewise.
        let staff_pay = super::token(&store, "staff@alpha.fr", Scope::Pay).await;
        let signer = SigningKey::from_bytes(&[6; 32]);
        register_key(&api, &staff_pay, alpha.account_id, &signer).await;
        let text = signed_order(&alpha, &beta, 10_001, "order-web", &signer).to_string();
        let page = seller
            .post("/pay/signed", &[("step", "pay"), ("order", &text)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Ce montant dépasse votre plafond par opération (100,00)");
        assert_eq!(crate::web_front::balance(&store, &alpha).await, paid_before);

        // The manager's page of the transaction names who entered it.
        manager
            .get(&format!("/admin/transactions/{paid_tx}"))
            .await
            .assert_contains("<td id=\"entered-by\">staff@alpha.fr</td>");

        // The history names who of the company entered the payment; the payee's does not.
        owner
            .get("/history")
            .await
            .assert_contains("par staff@alpha.fr");
        staff
            .get("/history")
            .await
            .assert_contains("par staff@alpha.fr");
        let page = seller.get("/history").await;
        page.assert_contains("FA-1");
        assert!(!page.body.contains("staff@alpha.fr"));

        // Lifted with an empty field.
        let page = owner.post(&path, &[("payment_max", "")]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Plafond par opération : aucun");
        let form = staff.get("/pay").await;
        let token = hidden_value(&form.body, "token").unwrap();
        let fields = pay_fields(&beta_id, "100,01", "FA-2", &token);
        let page = staff.post("/pay", &fields).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Paiement effectué.");
    }
});

story!(
    a_removed_staff_users_signing_keys_are_revoked,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
            let keys = format!("/api/v1/accounts/{}/keys", alpha.account_id);
            let staff_key = SigningKey::from_bytes(&[8; 32]);
            let owner_key = SigningKey::from_bytes(&[9; 32]);
            for (caller, key) in [(&staff_pay, &staff_key), (&owner_pay, &owner_key)] {
                api.post(&keys, caller, json!({"public_key": public_key_hex(key)}))
                    .await
                    .ok(StatusCode::CREATED);
            }
            // The owner removes the staff user: its key is revoked with it, the owner's stays.
            api.post(&format!("{USERS}/{staff_id}/remove"), &owner_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            let listed = api.get(&keys, &owner_pay).await.ok(StatusCode::OK);
            let state_of = |key: &SigningKey| {
                listed["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| k["public_key"] == public_key_hex(key))
                    .unwrap()
                    .clone()
            };
            assert_eq!(state_of(&staff_key)["state"], "revoked");
            assert_eq!(state_of(&staff_key)["revoked_by"], "owner@alpha.fr");
            assert_eq!(state_of(&owner_key)["state"], "active");
            // An order the departed user signed is refused, even cashed by the payee.
            let before = ledger_state(&store, &alpha, &beta).await;
            let order = signed_order(&alpha, &beta, 1_000, "order-gone", &staff_key);
            api.post("/api/v1/signed-payments", &beta_pay, order)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "key_revoked");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
            let order = signed_order(&alpha, &beta, 1_000, "order-owner", &owner_key);
            api.post("/api/v1/signed-payments", &beta_pay, order)
                .await
                .ok(StatusCode::CREATED);
        }
    }
);

/// A staff user's limit per month and what it used, as `token` reads the company's users.
async fn month_of(api: &Api, token: &str, user_id: i64) -> (Value, Value) {
    let users = api.get(USERS, token).await.ok(StatusCode::OK);
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .unwrap()
        .clone();
    (user["month_limit"].clone(), user["month_used"].clone())
}

/// What a staff user's month holds in `staff_commitments`, in minor units.
async fn committed(store: &web::store::Store, user_id: i64) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM staff_commitments \
             WHERE user_id = $1")
            .bind(user_id).fetch_one(pool).await.unwrap()
    })
}

story!(staff_month_limits_over_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
        let path = limit_path(staff_id);
        let me = |token: &str| {
            let token = token.to_owned();
            let api = &api;
            async move { api.get("/api/v1/me", &token).await.ok(StatusCode::OK) }
        };

        // Only the owner sets it; a bad limit names its field and changes nothing, even
        // beside a good one.
        api.put(&path, &staff_pay, json!({"month_limit": "300.00"}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        for bad in [
            json!({"month_limit": "0.00"}),
            json!({"month_limit": "10000000.01"}),
            json!({"month_limit": "abc"}),
            json!({"month_limit": 300}),
            json!({"payment_limit": "50.00", "month_limit": "-1.00"}),
        ] {
            let problem = api
                .put(&path, &owner_pay, bad.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "month_limit", "{bad}");
        }
        let users = api.get(USERS, &owner_pay).await.ok(StatusCode::OK);
        assert!(users["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["payment_limit"].is_null() && u["month_limit"].is_null()));
        // The highest passes; a limit left out of the body stays as it is.
        api.put(&path, &owner_pay, json!({"month_limit": "10000000.00"}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            month_of(&api, &staff_pay, staff_id).await,
            (json!("10000000.00"), json!("0.00"))
        );
        api.put(&path, &owner_pay, json!({"payment_limit": "200.00"}))
            .await
            .ok(StatusCode::OK);
        let set = api
            .put(&path, &owner_pay, json!({"month_limit": "300.00"}))
            .await
            .ok(StatusCode::OK);
        let row = set["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == staff_id)
            .unwrap()
            .clone();
        assert_eq!(row["payment_limit"], "200.00");
        assert_eq!(row["month_limit"], "300.00");
        let staff_me = me(&staff_pay).await;
        assert_eq!(
            (&staff_me["month_limit"], &staff_me["month_used"]),
            (&json!("300.00"), &json!("0.00"))
        );
        let owner_me = me(&owner_pay).await;
        assert!(owner_me["month_limit"].is_null() && owner_me["month_used"].is_null());

        // A payment and a request accepted count in the month.
        pays(&api, &staff_pay, &beta, "100.00").await;
        let request = api
            .post(
                "/api/v1/payment-requests",
                &beta_pay,
                json!({"payer": alpha.id, "amount": "150.00", "reference": "FA-30", "memo": "", "due_date": day_in(10)}),
            )
            .await
            .ok(StatusCode::CREATED);
        api.post(
            &format!("/api/v1/payment-requests/{}/accept", request["id"]),
            &staff_pay,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
        assert_eq!(me(&staff_pay).await["month_used"], "250.00");
        // One cent past what is left is refused, with what is left, and changes nothing.
        let before = ledger_state(&store, &alpha, &beta).await;
        let problem = api
            .post(
                "/api/v1/payments",
                &staff_pay,
                json!({"payee": beta.id, "amount": "50.01", "reference": "", "memo": ""}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_month_limit");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("250.00") && detail.contains("300.00") && detail.contains("50.00 left"),
            "{detail}"
        );
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        assert_eq!(committed(&store, staff_id).await, 25_000);
        // Exactly what is left passes.
        pays(&api, &staff_pay, &beta, "50.00").await;
        assert_eq!(me(&staff_pay).await["month_used"], "300.00");
        // The owner's own payments count in nobody's month.
        pays(&api, &owner_pay, &beta, "10.00").await;
        assert_eq!(committed(&store, staff_id).await, 30_000);

        // Raised, the month keeps what it used.
        api.put(&path, &owner_pay, json!({"month_limit": "400.00"}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            month_of(&api, &owner_pay, staff_id).await,
            (json!("400.00"), json!("300.00"))
        );
        // An order holds its place until it is cancelled.
        let offer = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                json!({"title": "Audit", "category": "informatique", "price": "60.00",
                       "city": "Lyon", "active_until": day_in(30)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let order = api
            .post(
                &format!("/api/v1/offers/{}/order", offer["id"]),
                &staff_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(me(&staff_pay).await["month_used"], "360.00");
        api.post(
            &format!("/api/v1/orders/{}/cancel", order["id"]),
            &staff_pay,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
        assert_eq!(me(&staff_pay).await["month_used"], "300.00");
        // A payment the ledger refuses gives its place back.
        let account = alpha.account_id;
        api.post(
            &format!("/api/v1/accounts/{account}/freeze"),
            &manage,
            json!({"reason": "contrôle"}),
        )
        .await
        .ok(StatusCode::OK);
        api.post(
            "/api/v1/payments",
            &staff_pay,
            json!({"payee": beta.id, "amount": "20.00", "reference": "", "memo": ""}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "account_frozen");
        assert_eq!(committed(&store, staff_id).await, 30_000);
        api.post(
            &format!("/api/v1/accounts/{account}/unfreeze"),
            &manage,
            json!({"reason": "fin du contrôle"}),
        )
        .await
        .ok(StatusCode::OK);
        // A replay of one payment counts once.
        let body = json!({"payee": beta.id, "amount": "20.00", "reference": "R", "memo": ""});
        let first = api
            .post_key("/api/v1/payments", &staff_pay, "month-1", body.clone())
            .await
            .ok(StatusCode::CREATED);
        let again = api
            .post_key("/api/v1/payments", &staff_pay, "month-1", body)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(first["transaction_id"], again["transaction_id"]);
        assert_eq!(me(&staff_pay).await["month_used"], "320.00");

        // Sixteen payments of 10.00 at once with 80.00 left: eight pass, the month is full
        // to the cent, every other one is refused for the month.
        let calls = (0..16).map(|_| {
            api.post(
                "/api/v1/payments",
                &staff_pay,
                json!({"payee": beta.id, "amount": "10.00", "reference": "", "memo": ""}),
            )
        });
        let answers = futures_util::future::join_all(calls).await;
        let paid = answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count();
        assert_eq!(paid, 8);
        for answer in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
            answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "over_month_limit");
        }
        assert_eq!(committed(&store, staff_id).await, 40_000);
        assert_eq!(me(&staff_pay).await["month_used"], "400.00");

        // A key the staff user registered signs for it: its orders count in its month,
        // whoever submits them.
        let signer = SigningKey::from_bytes(&[11; 32]);
        register_key(&api, &staff_pay, alpha.account_id, &signer).await;
        let before = ledger_state(&store, &alpha, &beta).await;
        let signed = signed_order(&alpha, &beta, 100, "order-month", &signer);
        api.post("/api/v1/signed-payments", &beta_pay, signed)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_month_limit");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        // A standing order above the limit could never run; one within it is set up, and a
        // due date that finds the month full is refused, nothing paid.
        assert_eq!(
            standing_refused(&api, &staff_pay, beta.id, "400.01").await,
            "over_payment_limit"
        );
        api.put(&path, &owner_pay, json!({"payment_limit": null}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            standing_refused(&api, &staff_pay, beta.id, "400.01").await,
            "over_month_limit"
        );
        let standing = api
            .post(
                "/api/v1/standing-orders",
                &staff_pay,
                json!({"payee": beta.id, "amount": "5.00", "every": "month",
                       "first_date": day_in(0), "reference": "LOYER", "memo": ""}),
            )
            .await
            .ok(StatusCode::CREATED);
        let shown = api
            .get(
                &format!("/api/v1/standing-orders/{}", standing["id"]),
                &staff_pay,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(shown["runs"][0]["rejection"], "over_month_limit", "{shown}");
        assert!(shown["runs"][0]["transaction_id"].is_null(), "{shown}");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

        // Past its month, the staff user may still ask the owner, who pays: the owner's
        // approval counts in nobody's month.
        let asked = api
            .post(
                "/api/v1/payment-approvals",
                &staff_pay,
                json!({"payee": beta.id, "amount": "30.00", "reference": "DEV-1", "memo": ""}),
            )
            .await
            .ok(StatusCode::CREATED);
        api.post(
            &format!("/api/v1/payment-approvals/{}/approve", asked["id"]),
            &owner_pay,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
        assert_eq!(committed(&store, staff_id).await, 40_000);

        // The manager reads both on the member's page.
        let member = api
            .get(&format!("/api/v1/members/{}", alpha.id), &manage)
            .await
            .ok(StatusCode::OK);
        let row = member["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == staff_id)
            .unwrap()
            .clone();
        assert_eq!(
            (&row["month_limit"], &row["month_used"]),
            (&json!("400.00"), &json!("400.00"))
        );

        // Lifted, nothing is counted any more.
        api.put(&path, &owner_pay, json!({"month_limit": null}))
            .await
            .ok(StatusCode::OK);
        pays(&api, &staff_pay, &beta, "10.00").await;
        assert_eq!(committed(&store, staff_id).await, 40_000);
        let staff_me = me(&staff_pay).await;
        assert!(staff_me["month_limit"].is_null() && staff_me["month_used"].is_null());
    }
});

story!(
    a_month_hold_waits_for_the_write_before_it,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _api, alpha, _beta) = setup(&url).await;
            let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
            assert!(
                web::spending::set_month_max(&store, alpha.id, staff_id, Some(10_000))
                    .await
                    .unwrap()
            );
            let staff = people::user(&store, staff_id).await.unwrap().unwrap();
            let now = people::now_unix();
            let month = web::spending::month_of(now);
            let lock = match store.kind() {
                web::store::BackendKind::Sqlite => "SELECT 1",
                web::store::BackendKind::Postgres => "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
            };
            // Another process's hold, not committed yet, takes the whole month: a hold of one
            // cent waits for it, then sees it and is refused.
            web::dispatch!(store.backend(), pool => {
                let mut other = pool.acquire().await.unwrap();
                sqlx::query(store.begin_write_sql()).execute(&mut *other).await.unwrap();
                if lock.contains("$1") {
                    sqlx::query(lock).bind(staff_id).execute(&mut *other).await.unwrap();
                }
                sqlx::query(
                    "INSERT INTO staff_commitments (op_key, user_id, month, amount_minor, \
                     created_at) VALUES ('other-op', $1, $2, 10000, $3)")
                    .bind(staff_id).bind(&month).bind(now)
                    .execute(&mut *other).await.unwrap();
                let waiting = {
                    let store = store.clone();
                    let staff = staff.clone();
                    tokio::spawn(async move {
                        web::spending::hold(&store, &staff, "this-op", Amount::from_minor(1), now)
                            .await
                            .unwrap()
                            .map(|_held| ())
                    })
                };
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                assert!(!waiting.is_finished(), "the hold did not wait");
                sqlx::query("COMMIT").execute(&mut *other).await.unwrap();
                let over = waiting.await.unwrap().unwrap_err();
                assert_eq!(over.used, Amount::from_minor(10_000));
                assert_eq!(over.left(), Amount::ZERO);
            });
            // A hold that fits is recorded once, even asked twice (a replay).
            assert!(
                web::spending::set_month_max(&store, alpha.id, staff_id, Some(10_001))
                    .await
                    .unwrap()
            );
            for _ in 0..2 {
                let held =
                    web::spending::hold(&store, &staff, "last-cent", Amount::from_minor(1), now)
                        .await
                        .unwrap();
                assert!(held.is_ok());
            }
            assert_eq!(committed(&store, staff_id).await, 10_001);
            // Given back, it is free again.
            web::spending::release(&store, "last-cent").await.unwrap();
            assert_eq!(
                web::spending::used(&store, staff_id, now).await.unwrap(),
                Amount::from_minor(10_000)
            );
            // The housekeeping keeps this month and the last one, and deletes the rows of the
            // months before.
            let day = 24 * 3600;
            // 28 days on is this month or the next; 62 days on, two months on or more.
            let in_a_month = now + 28 * day;
            let in_two_months = now + 62 * day;
            assert_eq!(web::spending::prune(&store, now).await.unwrap(), 0);
            assert_eq!(web::spending::prune(&store, in_a_month).await.unwrap(), 0);
            assert_eq!(committed(&store, staff_id).await, 10_000);
            assert_eq!(
                web::spending::prune(&store, in_two_months).await.unwrap(),
                1
            );
            assert_eq!(committed(&store, staff_id).await, 0);
        }
    }
);

story!(staff_month_limits_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        let mut staff = owner.sibling();
        staff.login("staff@alpha.fr", PASSWORD).await;
        let mut seller = owner.sibling();
        seller.login("owner@beta.fr", PASSWORD).await;
        let path = format!("/company/users/{staff_id}/payment-limit");

        // The owner's form has both limits; the staff user reads them.
        let page = owner.get("/company").await;
        page.assert_contains(&format!("id=\"payment-month-max-{staff_id}\""));
        staff
            .get("/company")
            .await
            .assert_contains("Plafond par mois : aucun");
        assert!(!staff.get("/pay").await.body.contains("payment-month-max"));
        // Refusals are worded, keep what was typed and change nothing, the other limit
        // included.
        for (typed, message) in [
            ("abc", "Montant invalide"),
            ("0", "Montant invalide"),
            (
                "10 000 000,01",
                "Le plafond ne peut dépasser 10 000 000,00.",
            ),
        ] {
            let page = owner
                .post(
                    &path,
                    &[("payment_max", "80,00"), ("payment_month_max", typed)],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
            page.assert_contains(message);
            page.assert_contains(&format!("value=\"{typed}\""));
            page.assert_contains("Plafond par opération : aucun");
            page.assert_contains("Plafond par mois : aucun");
        }
        let page = owner
            .post(
                &path,
                &[("payment_max", ""), ("payment_month_max", "10 000 000,00")],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Plafond par mois : 10 000 000,00, dont 0,00 engagés ce mois-ci");
        let page = owner
            .post(
                &path,
                &[("payment_max", ""), ("payment_month_max", "150,00")],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Plafond enregistré.");
        page.assert_contains("value=\"150.00\"");
        // A form with the limit per operation alone leaves the month's as it is.
        owner.post(&path, &[("payment_max", "")]).await;
        owner
            .get("/company")
            .await
            .assert_contains("Plafond par mois : 150,00, dont 0,00 engagés ce mois-ci");

        // The staff user's pay form says it, and what it used.
        let beta_id = beta.id.to_string();
        let form = staff.get("/pay").await;
        form.assert_contains("Votre plafond par mois : 150,00, dont 0,00 engagés ce mois-ci.");
        let token = hidden_value(&form.body, "token").unwrap();
        let page = staff
            .post("/pay", &pay_fields(&beta_id, "100,00", "FA-1", &token))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Paiement effectué.");
        staff
            .get("/pay")
            .await
            .assert_contains("Votre plafond par mois : 150,00, dont 100,00 engagés ce mois-ci.");
        // Past what is left, refused before confirmation and on payment, in words, with the
        // owner's approval offered; nothing moves.
        let paid = crate::web_front::balance(&store, &alpha).await;
        let form = staff.get("/pay").await;
        let token = hidden_value(&form.body, "token").unwrap();
        let over = pay_fields(&beta_id, "50,01", "FA-2", &token);
        let refused = "Ce montant dépasse ce qui reste de votre plafond par mois (100,00 \
                       engagés ce mois-ci sur 150,00, reste 50,00)";
        for step in ["/pay/confirm", "/pay"] {
            let page = staff.post(step, &over).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{step}");
            page.assert_contains(refused);
            page.assert_contains("id=\"ask-approval\"");
        }
        assert_eq!(crate::web_front::balance(&store, &alpha).await, paid);
        let page = staff.post("/pay/approval", &over).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

        // Accepting a request, an order, a refund and a signed order: alike.
        let api = Api::new(state.clone());
        let beta_pay = super::token(&store, "owner@beta.fr", Scope::Pay).await;
        let request = api
            .post(
                "/api/v1/payment-requests",
                &beta_pay,
                json!({"payer": alpha.id, "amount": "60.00", "reference": "FA-12", "memo": "", "due_date": day_in(10)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let page = staff
            .post(&format!("/requests/{}/accept", request["id"]), &[])
            .await;
        page.assert_contains("reste 50,00");
        let offer = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                json!({"title": "Audit", "category": "informatique", "price": "60.00",
                       "city": "Lyon", "active_until": day_in(30)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let listing = format!("/market/{}", offer["id"]);
        let page = staff.get(&listing).await;
        let token = hidden_value(&page.body, "token").unwrap();
        let page = staff
            .post(&format!("{listing}/order"), &[("token", token.as_str())])
            .await;
        page.assert_contains("reste 50,00");
        assert_eq!(crate::web_front::balance(&store, &alpha).await, paid);
        let received = pays(&api, &beta_pay, &alpha, "60.00").await;
        let paid = crate::web_front::balance(&store, &alpha).await;
        let refund = format!("/payments/{received}/refund");
        let page = staff.get(&refund).await;
        let token = hidden_value(&page.body, "token").unwrap();
        let page = staff
            .post(&refund, &[("token", token.as_str()), ("memo", "")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("reste 50,00");
        let staff_pay = super::token(&store, "staff@alpha.fr", Scope::Pay).await;
        let signer = SigningKey::from_bytes(&[12; 32]);
        register_key(&api, &staff_pay, alpha.account_id, &signer).await;
        let text = signed_order(&alpha, &beta, 5_001, "order-month-web", &signer).to_string();
        let page = seller
            .post("/pay/signed", &[("step", "pay"), ("order", &text)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("reste 50,00");
        assert_eq!(crate::web_front::balance(&store, &alpha).await, paid);
        // A signed order within what is left is paid, and counted.
        let text = signed_order(&alpha, &beta, 5_000, "order-month-ok", &signer).to_string();
        let page = seller
            .post("/pay/signed", &[("step", "pay"), ("order", &text)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);

        // The company page and the manager's page of the member say what was used.
        owner
            .get("/company")
            .await
            .assert_contains("Plafond par mois : 150,00, dont 150,00 engagés ce mois-ci");
        crate::api::staff(&store).await;
        let mut manager = owner.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        manager
            .get(&format!("/admin/members/{}", alpha.id))
            .await
            .assert_contains("Plafond par mois : 150,00, dont 150,00 engagés ce mois-ci");
    }
});
