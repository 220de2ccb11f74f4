//! Members' signing keys and payment orders signed by the payer, over the API (docs/audit.md,
//! docs/api.md): registered, listed and revoked by the account's own users; a signed order is
//! paid once, by whichever of payer or payee submits it, and every refusal changes nothing.

use axum::http::StatusCode;
use chrono::{Duration, Timelike, Utc};
use ed25519_dalek::SigningKey;
use ledger::audit::{public_key_hex, sign_order, PaymentOrder};
use ledger::{AccountId, Amount, IdempotencyKey, TxId};
use serde_json::{json, Value};
use tests::story;
use web::people::Member;
use web::store::{Store, MEMBER_KEYS_EVER_MAX, MEMBER_KEYS_PER_ACCOUNT_MAX};
use web::tokens::Scope;

use super::{
    balance, ledger_state, member_accountant, setup, staff, texts, token, two_members, PASSWORD,
};
use crate::web_front::client::Client;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn keys_path(member: &Member) -> String {
    format!("/api/v1/accounts/{}/keys", member.account_id)
}

/// A 64-hex-digit key that is a valid Ed25519 point of small order (refused).
fn weak_key() -> String {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    hex::encode(bytes)
}

story!(
    members_register_list_and_revoke_their_signing_keys,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let path = keys_path(&alpha);

            // Registered by the owner; any case, stored lowercase.
            let first = public_key_hex(&key(1));
            let item = api
                .post(&path, &pay, json!({"public_key": first.to_uppercase()}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(item["public_key"], first.as_str());
            assert_eq!(item["state"], "active");
            assert!(item["revoked_at"].is_null());
            // Who registered it is on the record; nobody revoked it yet.
            assert_eq!(item["registered_by"], "owner@alpha.fr");
            assert!(item["revoked_by"].is_null());
            // ...and by staff.
            api.post(
                &path,
                &staff_pay,
                json!({"public_key": public_key_hex(&key(2))}),
            )
            .await
            .ok(StatusCode::CREATED);

            // Read by the account's users and by the network's manage token; nobody else.
            for reader in [&read, &pay, &manage] {
                let list = api.get(&path, reader).await.ok(StatusCode::OK);
                assert_eq!(
                    texts(&list["items"], "public_key"),
                    [first.as_str(), public_key_hex(&key(2)).as_str()]
                );
            }
            api.get(&path, &beta_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Changed only with a pay token of the account's own owner or staff.
            let third = json!({"public_key": public_key_hex(&key(3))});
            api.post(&path, &read, third.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(&path, &manage, third.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(&path, &beta_pay, third.clone())
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post("/api/v1/accounts/x/keys", &pay, third.clone())
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Bad keys name the field; a key is never registered twice, on any account.
            for bad in [
                json!({"public_key": "abcd"}),
                json!({"public_key": format!("{first}00")}),
                json!({"public_key": "z".repeat(64)}),
                json!({"public_key": weak_key()}),
                json!({"public_key": 7}),
                json!({}),
            ] {
                let problem = api
                    .post(&path, &pay, bad.clone())
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "public_key", "{bad}");
            }
            api.post(&path, &pay, json!({"public_key": first}))
                .await
                .problem(StatusCode::CONFLICT, "key_already_registered");
            api.post(&keys_path(&beta), &beta_pay, json!({"public_key": first}))
                .await
                .problem(StatusCode::CONFLICT, "key_already_registered");
            assert_eq!(store.member_keys(beta.account()).await.unwrap().len(), 0);

            // At most MEMBER_KEYS_PER_ACCOUNT_MAX active keys: at the limit, and one past.
            for seed in 3..=MEMBER_KEYS_PER_ACCOUNT_MAX as u8 {
                api.post(
                    &path,
                    &pay,
                    json!({"public_key": public_key_hex(&key(seed))}),
                )
                .await
                .ok(StatusCode::CREATED);
            }
            let one_more = json!({"public_key": public_key_hex(&key(100))});
            api.post(&path, &pay, one_more.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "too_many_keys");

            // Revoked by the account's users; then there is room again.
            let revoke = format!("{path}/{first}/revoke");
            api.post(&revoke, &beta_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&revoke, &read, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let revoked = api
                .post(&revoke, &staff_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(revoked["state"], "revoked");
            assert!(revoked["revoked_at"].is_string());
            assert_eq!(revoked["registered_by"], "owner@alpha.fr");
            assert_eq!(revoked["revoked_by"], "staff@alpha.fr");
            api.post(&revoke, &pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&format!("{path}/nothex/revoke"), &pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&path, &pay, one_more)
                .await
                .ok(StatusCode::CREATED);
            let list = api.get(&path, &pay).await.ok(StatusCode::OK);
            let states = texts(&list["items"], "state");
            assert_eq!(states.len(), MEMBER_KEYS_PER_ACCOUNT_MAX + 1);
            assert_eq!(states.iter().filter(|s| **s == "revoked").count(), 1);
            // A revoked key is never registered again.
            api.post(&path, &pay, json!({"public_key": first}))
                .await
                .problem(StatusCode::CONFLICT, "key_already_registered");

            // At most MEMBER_KEYS_EVER_MAX keys, revoked ones included, so the list stays
            // bounded: fill Beta's account with revoked keys up to one below the limit.
            fill_revoked_keys(&store, beta.account(), MEMBER_KEYS_EVER_MAX - 1).await;
            let beta_path = keys_path(&beta);
            api.post(
                &beta_path,
                &beta_pay,
                json!({"public_key": public_key_hex(&key(200))}),
            )
            .await
            .ok(StatusCode::CREATED);
            api.post(
                &beta_path,
                &beta_pay,
                json!({"public_key": public_key_hex(&key(201))}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "too_many_keys");
            let list = api.get(&beta_path, &beta_pay).await.ok(StatusCode::OK);
            assert_eq!(
                list["items"].as_array().unwrap().len(),
                MEMBER_KEYS_EVER_MAX
            );
            store.close().await;
        }
    }
);

/// Inserts `count` revoked keys for `account` with raw SQL, in one transaction.
async fn fill_revoked_keys(store: &Store, account: AccountId, count: usize) {
    let time = Utc::now() - Duration::days(1);
    web::dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await.unwrap();
        for n in 0..count {
            sqlx::query(
                "INSERT INTO member_keys (public_key, account_id, status, created_at, revoked_at) \
                 VALUES ($1, $2, 'revoked', $3, $3)",
            )
            .bind(format!("{n:064x}"))
            .bind(account.0 as i64)
            .bind(time)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    });
}

/// An order from Alpha to Beta, signed with `signer`, as the API's body.
fn body(order: &PaymentOrder, signer: &SigningKey) -> Value {
    json!({
        "payer": order.payer.0,
        "payee": order.payee.0,
        "amount": format!("{}.{:02}", order.amount.minor() / 100, order.amount.minor() % 100),
        "reference": order.reference,
        "idempotency_key": order.idempotency_key.as_str(),
        "expires_at": order.expires_at.to_rfc3339(),
        "public_key": public_key_hex(signer),
        "signature": sign_order(signer, order),
    })
}

fn order(alpha: &Member, beta: &Member, units: i64, key: &str) -> PaymentOrder {
    PaymentOrder {
        payer: alpha.account(),
        payee: beta.account(),
        amount: Amount::from_units(units),
        reference: "BC-2026-17".into(),
        idempotency_key: IdempotencyKey::new(key).unwrap(),
        expires_at: whole_seconds_from_now(Duration::minutes(10)),
    }
}

/// A time in whole seconds (the API takes any RFC 3339 time of at most microsecond
/// precision; the signed text always has six decimals).
fn whole_seconds_from_now(delta: Duration) -> chrono::DateTime<Utc> {
    (Utc::now() + delta).with_nanosecond(0).unwrap()
}

const SIGNED: &str = "/api/v1/signed-payments";

story!(
    signed_orders_are_paid_once_by_payer_or_payee,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let signer = key(1);
            api.post(
                &keys_path(&alpha),
                &pay,
                json!({"public_key": public_key_hex(&signer)}),
            )
            .await
            .ok(StatusCode::CREATED);

            // Submitted by the payer: paid, with the signature stored and chained.
            let first = order(&alpha, &beta, 100, "order-1");
            let done = api
                .post(SIGNED, &pay, body(&first, &signer))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(done["status"], "completed");
            assert_eq!(done["amount"], "100.00");
            assert_eq!(done["public_key"], public_key_hex(&signer).as_str());
            let tx = TxId(done["transaction_id"].as_u64().unwrap());
            let signatures = store.payer_signatures(&[tx]).await.unwrap();
            assert_eq!(signatures[&tx].signature, sign_order(&signer, &first));
            // 2 % commission paid by the seller, 1 % to the fund by the buyer.
            assert_eq!(balance(&store, &alpha).await, -10_100);
            assert_eq!(balance(&store, &beta).await, 9_800);

            // The same order again, now collected by the payee like a cheque: the same
            // transaction, paid once.
            let again = api
                .post(SIGNED, &beta_pay, body(&first, &signer))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(again["transaction_id"], done["transaction_id"]);
            assert_eq!(balance(&store, &alpha).await, -10_100);

            // A fresh order collected by the payee.
            let second = order(&alpha, &beta, 10, "order-2");
            api.post(SIGNED, &beta_pay, body(&second, &signer))
                .await
                .ok(StatusCode::CREATED);
            let before = ledger_state(&store, &alpha, &beta).await;
            assert_eq!(before.2, 2);

            // Only a pay token of the payer's or the payee's owner or staff submits.
            let third = order(&alpha, &beta, 10, "order-3");
            api.post(SIGNED, &read, body(&third, &signer))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(SIGNED, &manage, body(&third, &signer))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let mut elsewhere = body(&third, &signer);
            elsewhere["payee"] = json!(store.system_accounts().await.unwrap().fund.0);
            api.post(SIGNED, &beta_pay, elsewhere)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // Orders the signature does not cover.
            let mut tampered = body(&third, &signer);
            tampered["amount"] = json!("1000.00");
            api.post(SIGNED, &pay, tampered)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
            let mut tampered = body(&third, &signer);
            tampered["reference"] = json!("BC-2026-18");
            api.post(SIGNED, &beta_pay, tampered)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
            // Signed by a key nobody registered, or named with another key.
            api.post(SIGNED, &pay, body(&third, &key(9)))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_key");
            let mut swapped = body(&third, &key(9));
            swapped["public_key"] = json!(public_key_hex(&signer));
            api.post(SIGNED, &pay, swapped)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
            // Expired, and too far away (31 days at most).
            let mut stale = order(&alpha, &beta, 10, "order-4");
            stale.expires_at = whole_seconds_from_now(Duration::seconds(-1));
            api.post(SIGNED, &pay, body(&stale, &signer))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "order_expired");
            let mut far = order(&alpha, &beta, 10, "order-5");
            far.expires_at = whole_seconds_from_now(Duration::days(32));
            api.post(SIGNED, &pay, body(&far, &signer))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "expiry_too_far");
            // The ledger's refusal; the order's key stays failed, even once credit is there.
            let too_much = order(&alpha, &beta, 100_000, "order-6");
            api.post(SIGNED, &pay, body(&too_much, &signer))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
            api.post(SIGNED, &pay, body(&too_much, &signer))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_failed");
            // Another order under a key already paid.
            let reused = order(&alpha, &beta, 11, "order-1");
            api.post(SIGNED, &pay, body(&reused, &signer))
                .await
                .problem(StatusCode::CONFLICT, "idempotency_conflict");

            // Bad input names the field.
            let outside = order(&alpha, &beta, 10, "pay-7");
            let mut cases = vec![
                (body(&outside, &signer), "idempotency_key"),
                (
                    body(&order(&alpha, &beta, 10, "order-"), &signer),
                    "idempotency_key",
                ),
            ];
            let mut nanos = body(&third, &signer);
            nanos["expires_at"] = json!("2030-01-01T00:00:00.123456789Z");
            cases.push((nanos, "expires_at"));
            let mut not_time = body(&third, &signer);
            not_time["expires_at"] = json!("tomorrow");
            cases.push((not_time, "expires_at"));
            let mut short = body(&third, &signer);
            short["signature"] = json!("abcd");
            cases.push((short, "signature"));
            let mut not_key = body(&third, &signer);
            not_key["public_key"] = json!("abcd");
            cases.push((not_key, "public_key"));
            let mut amount = body(&third, &signer);
            amount["amount"] = json!("0");
            cases.push((amount, "amount"));
            let mut payer = body(&third, &signer);
            payer["payer"] = json!(-1);
            cases.push((payer, "payer"));
            let mut long_key = body(&third, &signer);
            long_key["idempotency_key"] = json!(format!("order-{}", "k".repeat(123)));
            cases.push((long_key, "idempotency_key"));
            let long_reference = PaymentOrder {
                reference: "r".repeat(65),
                ..order(&alpha, &beta, 10, "order-8")
            };
            cases.push((body(&long_reference, &signer), "reference"));
            for (bad, field) in cases {
                let problem = api
                    .post(SIGNED, &pay, bad.clone())
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{bad}");
            }
            assert_eq!(
                ledger_state(&store, &alpha, &beta).await,
                before,
                "no refusal changed anything"
            );

            // At the limits: a 64-character reference and a 128-character key.
            let at_limits = PaymentOrder {
                reference: "r".repeat(64),
                idempotency_key: IdempotencyKey::new(format!("order-{}", "k".repeat(122))).unwrap(),
                ..order(&alpha, &beta, 1, "order-9")
            };
            api.post(SIGNED, &pay, body(&at_limits, &signer))
                .await
                .ok(StatusCode::CREATED);

            // The Idempotency-Key header replays the answer exactly, as on every POST.
            let keyed = order(&alpha, &beta, 1, "order-10");
            let one = api
                .post_key(SIGNED, &pay, "k-10", body(&keyed, &signer))
                .await;
            let two = api
                .post_key(SIGNED, &pay, "k-10", body(&keyed, &signer))
                .await;
            assert_eq!(one.status, StatusCode::CREATED);
            assert_eq!(one.text, two.text);
            api.post_key(
                SIGNED,
                &pay,
                "k-10",
                body(&order(&alpha, &beta, 2, "order-11"), &signer),
            )
            .await
            .problem(StatusCode::CONFLICT, "idempotency_conflict");

            // A revoked key signs nothing more; what it signed before still verifies.
            api.post(
                &format!("{}/{}/revoke", keys_path(&alpha), public_key_hex(&signer)),
                &pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
            let before = ledger_state(&store, &alpha, &beta).await;
            api.post(
                SIGNED,
                &pay,
                body(&order(&alpha, &beta, 1, "order-12"), &signer),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "key_revoked");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
            let summary = store.verify_ledger().await.unwrap().unwrap();
            assert_eq!(summary.signed_payments, 4);

            // Members see signed payments in their history like any other.
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/transactions", beta.account_id),
                    &beta_pay,
                )
                .await
                .ok(StatusCode::OK);
            assert!(texts(&history["items"], "reference").contains(&"BC-2026-17"));
            store.close().await;
        }
    }
);

story!(signing_keys_in_the_web_ui, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;

        // The account page leads to it; it names the account id to sign as the payer.
        owner
            .get("/account")
            .await
            .assert_contains("/settings/keys");
        let page = owner.get("/settings/keys").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Clés de signature");
        page.assert_contains(&format!("id=\"account-id\">{}<", alpha.account_id));
        page.assert_contains("Aucune clé enregistrée.");

        // Registered (any case, spaces around it), then listed in lowercase.
        let first = public_key_hex(&key(1));
        let typed = format!("  {}  ", first.to_uppercase());
        let page = owner
            .post("/settings/keys", &[("public_key", typed.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = owner.get("/settings/keys").await;
        page.assert_contains(&format!("<code>{first}</code>"));
        assert_eq!(store.member_keys(alpha.account()).await.unwrap().len(), 1);

        // Refusals in the user's language, the typed text kept, nothing registered.
        for bad in ["abcd", "<script>alert(1)</script>", &weak_key(), ""] {
            let page = owner.post("/settings/keys", &[("public_key", bad)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            page.assert_contains("Collez une clé publique Ed25519 valide");
            assert!(!page.body.contains("<script>alert"));
        }
        let page = owner
            .post("/settings/keys", &[("public_key", first.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà enregistrée");
        owner.post("/lang", &[("lang", "en")]).await;
        let page = owner
            .post("/settings/keys", &[("public_key", "abcd")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Paste a valid Ed25519 public key");
        // At the limit of active keys, and one past it.
        for seed in 2..=MEMBER_KEYS_PER_ACCOUNT_MAX as u8 {
            let page = owner
                .post(
                    "/settings/keys",
                    &[("public_key", public_key_hex(&key(seed)).as_str())],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
        }
        let page = owner
            .post(
                "/settings/keys",
                &[("public_key", public_key_hex(&key(50)).as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("already has 8 active keys");
        // Without the CSRF token: 403, nothing registered.
        let page = owner
            .post(
                "/settings/keys",
                &[
                    ("public_key", public_key_hex(&key(51)).as_str()),
                    ("csrf", "forged"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(
            store.member_keys(alpha.account()).await.unwrap().len(),
            MEMBER_KEYS_PER_ACCOUNT_MAX
        );

        // Revoked by the account's users only: another company's owner gets 404.
        let revoke = format!("/settings/keys/{first}/revoke");
        let mut other = Client::new(state.clone());
        other.login("owner@beta.fr", PASSWORD).await;
        assert_eq!(other.post(&revoke, &[]).await.status, StatusCode::NOT_FOUND);
        assert!(store.member_keys(alpha.account()).await.unwrap()[0].active);
        let mut staff_user = Client::new(state.clone());
        staff_user.login("staff@alpha.fr", PASSWORD).await;
        assert_eq!(
            staff_user.post(&revoke, &[]).await.status,
            StatusCode::SEE_OTHER
        );
        let revoked = &store.member_keys(alpha.account()).await.unwrap()[0];
        assert!(!revoked.active);
        assert_eq!(revoked.registered_by.as_deref(), Some("owner@alpha.fr"));
        assert_eq!(revoked.revoked_by.as_deref(), Some("staff@alpha.fr"));
        assert_eq!(
            staff_user.post(&revoke, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let page = owner.get("/settings/keys").await;
        assert_eq!(
            page.body.matches("/revoke\"").count(),
            MEMBER_KEYS_PER_ACCOUNT_MAX - 1
        );
        // Beta's page shows Beta's keys only.
        let page = other.get("/settings/keys").await;
        assert!(!page.body.contains(&first));
        page.assert_contains(&format!("id=\"account-id\">{}<", beta.account_id));

        // A member accountant reads the list without forms; the network's staff have no
        // account of their own.
        member_accountant(&store, &alpha).await;
        let mut accountant = Client::new(state.clone());
        accountant.login("expert@alpha.fr", PASSWORD).await;
        let page = accountant.get("/settings/keys").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains(&first);
        assert!(!page.body.contains("action=\"/settings/keys\""));
        assert!(!page.body.contains("/revoke\""));
        let page = accountant
            .post(
                "/settings/keys",
                &[("public_key", public_key_hex(&key(60)).as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let mut manager = Client::new(state);
        manager.login("gestion@troc.fr", PASSWORD).await;
        assert_eq!(
            manager.get("/settings/keys").await.status,
            StatusCode::FORBIDDEN
        );
        // The manager's console shows each member's keys (read only), revoked ones too.
        let page = manager.get(&format!("/admin/members/{}", alpha.id)).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"signing-keys\"");
        assert_eq!(
            page.body.matches("<tr><td><code>").count(),
            MEMBER_KEYS_PER_ACCOUNT_MAX
        );
        let row_of = |key: &str| {
            page.body
                .split("<tr>")
                .find(|row| row.contains(key))
                .unwrap()
                .to_owned()
        };
        // The revoked key has its revocation time; an active one an empty cell.
        assert!(!row_of(&first).contains("<td></td>"), "{}", row_of(&first));
        // Who registered each key and who revoked it.
        assert!(
            row_of(&first).contains("owner@alpha.fr</small>"),
            "{}",
            row_of(&first)
        );
        assert!(
            row_of(&first).contains("staff@alpha.fr</small>"),
            "{}",
            row_of(&first)
        );
        let active = public_key_hex(&key(2));
        assert!(row_of(&active).contains("<td></td>"), "{}", row_of(&active));
        let page = manager.get(&format!("/admin/members/{}", beta.id)).await;
        assert!(!page.body.contains(&first));
        assert!(!page.body.contains("id=\"signing-keys\""));
        store.close().await;
    }
});

story!(signed_orders_are_cashed_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        let signer = key(7);
        store
            .register_member_key(alpha.account(), &public_key_hex(&signer), "owner@alpha.fr")
            .await
            .unwrap();
        let mut payee = Client::new(state.clone());
        payee.login("owner@beta.fr", PASSWORD).await;
        let page = payee.get("/pay").await;
        page.assert_contains("href=\"/pay/signed\"");
        let page = payee.get("/pay/signed").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Encaisser un ordre de paiement signé");

        // Checked first: who pays whom, how much; nothing is paid yet.
        let cheque = order(&alpha, &beta, 40, "order-web-1");
        let text = serde_json::to_string_pretty(&body(&cheque, &signer)).unwrap();
        let before = ledger_state(&store, &alpha, &beta).await;
        let page = payee
            .post("/pay/signed", &[("step", "check"), ("order", &text)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Signature vérifiée");
        page.assert_contains("<td>Alpha SARL</td>");
        page.assert_contains("<td>Beta &#38; Fils &#60;SAS&#62;</td>");
        page.assert_contains("<td>40,00</td>");
        page.assert_contains("<td>BC-2026-17</td>");
        page.assert_contains(">Encaisser</button>");
        page.assert_contains("name=\"step\" value=\"pay\"");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

        // Then paid, once: the same order again answers the same transaction.
        let page = payee
            .post("/pay/signed", &[("step", "pay"), ("order", &text)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("id=\"signed-paid\"");
        // The network's fees apply as to any payment: 1 % to the fund from the payer, 2 %
        // (at least 0,50) from the payee.
        let (a, b, seq) = before;
        assert_eq!(
            ledger_state(&store, &alpha, &beta).await,
            (a - 4_040, b + 3_920, seq + 1)
        );
        let summary = store.verify_ledger().await.unwrap().unwrap();
        assert_eq!(summary.signed_payments, 1);
        let again = payee
            .post("/pay/signed", &[("step", "pay"), ("order", &text)])
            .await;
        assert_eq!(again.status, StatusCode::OK);
        let tx = |page: &str| {
            page.split("(n° ")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(tx(&again.body), tx(&page.body));
        assert_eq!(
            ledger_state(&store, &alpha, &beta).await,
            (a - 4_040, b + 3_920, seq + 1)
        );
        let paid = ledger_state(&store, &alpha, &beta).await;

        // Every refusal is a sentence in the user's language, keeps the text (escaped) and
        // changes nothing.
        let mut tampered = body(&order(&alpha, &beta, 41, "order-web-2"), &signer);
        tampered["amount"] = json!("410.00");
        // Signed with a key Alpha never registered.
        let other_key = body(&order(&alpha, &beta, 1, "order-web-3"), &key(8));
        let mut expired_order = order(&alpha, &beta, 1, "order-web-4");
        expired_order.expires_at = whole_seconds_from_now(Duration::minutes(-1));
        let mut stranger = order(&alpha, &beta, 1, "order-web-5");
        stranger.payee = AccountId(9_999);
        let mut outside = order(&alpha, &beta, 1, "order-web-6");
        outside.idempotency_key = IdempotencyKey::new("web-pay-6").unwrap();
        let too_much = order(&alpha, &beta, 5_000, "order-web-7");
        let mut reused = order(&alpha, &beta, 2, "order-web-1");
        reused.reference = "autre".into();
        let cases: Vec<(String, &str)> = vec![
            ("<script>alert(1)</script>".into(), "pas un ordre signé"),
            ("{}".into(), "pas un ordre signé"),
            (tampered.to_string(), "La signature ne correspond pas"),
            (
                other_key.to_string(),
                "pas enregistrée pour le compte du payeur",
            ),
            (body(&expired_order, &signer).to_string(), "a expiré"),
            (
                body(&stranger, &signer).to_string(),
                "ne concerne pas votre compte",
            ),
            (
                body(&outside, &signer).to_string(),
                "le champ « idempotency_key »",
            ),
            (body(&too_much, &signer).to_string(), "Crédit insuffisant"),
            (
                body(&reused, &signer).to_string(),
                "déjà été payé sous la même clé",
            ),
        ];
        for (text, message) in &cases {
            for step in ["check", "pay"] {
                if *step == *"check" && (message.contains("Crédit") || message.contains("déjà"))
                {
                    // The ledger's own refusals come only when paying.
                    continue;
                }
                let page = payee
                    .post("/pay/signed", &[("step", step), ("order", text)])
                    .await;
                assert_eq!(
                    page.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{step} {text}"
                );
                page.assert_contains(message);
                assert!(!page.body.contains("<script>alert"), "escaped");
                assert_eq!(
                    ledger_state(&store, &alpha, &beta).await,
                    paid,
                    "{step} {text}"
                );
            }
        }
        // The text at the limit is read; one past it is refused unread.
        let valid = body(&order(&alpha, &beta, 3, "order-web-8"), &signer).to_string();
        let limit = web::http::signed::SIGNED_ORDER_TEXT_LEN_MAX;
        let at_limit = format!("{valid}{}", " ".repeat(limit - valid.len()));
        let page = payee
            .post("/pay/signed", &[("step", "check"), ("order", &at_limit)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Signature vérifiée");
        let past = format!("{at_limit} ");
        let page = payee
            .post("/pay/signed", &[("step", "pay"), ("order", &past)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains(&format!("dépasse {limit} caractères"));
        assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);
        // In English.
        payee.post("/lang", &[("lang", "en")]).await;
        let page = payee
            .post(
                "/pay/signed",
                &[("step", "check"), ("order", &tampered.to_string())],
            )
            .await;
        page.assert_contains("The signature does not match the order");
        // A revoked key's orders are refused.
        store
            .revoke_member_key(alpha.account(), &public_key_hex(&signer), "owner@alpha.fr")
            .await
            .unwrap();
        let page = payee
            .post("/pay/signed", &[("step", "pay"), ("order", &valid)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("The payer revoked the key");
        // An unknown step and a forged CSRF token: refused, nothing paid.
        let page = payee
            .post("/pay/signed", &[("step", "later"), ("order", &valid)])
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        let page = payee
            .post(
                "/pay/signed",
                &[("step", "pay"), ("order", &valid), ("csrf", "forged")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

        // The payer pays its own signed order from the same page ("Payer").
        let signer2 = key(9);
        store
            .register_member_key(alpha.account(), &public_key_hex(&signer2), "owner@alpha.fr")
            .await
            .unwrap();
        let mut payer = Client::new(state.clone());
        payer.login("owner@alpha.fr", PASSWORD).await;
        let own = body(&order(&alpha, &beta, 5, "order-web-9"), &signer2).to_string();
        let page = payer
            .post("/pay/signed", &[("step", "check"), ("order", &own)])
            .await;
        page.assert_contains(">Payer</button>");
        // An order to an account that is no member's names its payee as the field at fault.
        let mut nowhere = order(&alpha, &beta, 5, "order-web-10");
        nowhere.payee = AccountId(9_999);
        let page = payer
            .post(
                "/pay/signed",
                &[
                    ("step", "check"),
                    ("order", &body(&nowhere, &signer2).to_string()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("le champ « payee »");
        let page = payer
            .post("/pay/signed", &[("step", "pay"), ("order", &own)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let (a, b, seq) = paid;
        assert_eq!(
            ledger_state(&store, &alpha, &beta).await,
            (a - 505, b + 450, seq + 1)
        );

        // A member accountant reads the books but cashes nothing; nor does the manager.
        member_accountant(&store, &alpha).await;
        let mut accountant = Client::new(state.clone());
        accountant.login("expert@alpha.fr", PASSWORD).await;
        assert_eq!(
            accountant.get("/pay/signed").await.status,
            StatusCode::FORBIDDEN
        );
        let page = accountant
            .post("/pay/signed", &[("step", "pay"), ("order", &own)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let mut manager = Client::new(state);
        manager.login("gestion@troc.fr", PASSWORD).await;
        assert_eq!(
            manager.get("/pay/signed").await.status,
            StatusCode::FORBIDDEN
        );
        store.close().await;
    }
});
