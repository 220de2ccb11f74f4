//! Member-signed payment orders: valid, wrong key, tampered field, replay with another key,
//! expired, revoked key, unknown key; each refusal changes nothing.

use chrono::{Duration, Utc};
use ledger::audit::{public_key_hex, sign_order, PaymentOrder, SignatureError};
use ledger::{AccountId, Amount, IdempotencyKey, Outcome};
use tests::story;
use web::store::{KeyError, OrderError, Store, MEMBER_KEYS_PER_ACCOUNT_MAX, ORDER_LIFETIME_MAX};

use super::{network, signing_key};

fn order(payer: AccountId, payee: AccountId, units: i64, key: &str) -> PaymentOrder {
    PaymentOrder {
        payer,
        payee,
        amount: Amount::from_units(units),
        reference: "PO-17".into(),
        idempotency_key: IdempotencyKey::new(key).unwrap(),
        expires_at: Utc::now() + Duration::minutes(10),
    }
}

/// The state a refused order must leave untouched.
async fn state(store: &Store, ids: &[AccountId]) -> (u64, Vec<i64>) {
    let mut balances = Vec::new();
    for id in ids {
        balances.push(store.account(*id).await.unwrap().unwrap().balance().minor());
    }
    (store.chain_head().await.unwrap().0, balances)
}

story!(
    signed_orders_are_verified_and_stored,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (system, members) = network(&store, 3).await;
            let (a, b, c) = (members[0].id(), members[1].id(), members[2].id());
            let ids = [a, b, c];
            let (key_a, key_a2, key_c, stranger) = (
                signing_key(11),
                signing_key(12),
                signing_key(13),
                signing_key(14),
            );
            store
                .register_member_key(a, &public_key_hex(&key_a), "owner@example.com")
                .await
                .unwrap();
            store
                .register_member_key(a, &public_key_hex(&key_a2), "owner@example.com")
                .await
                .unwrap();
            store
                .register_member_key(c, &public_key_hex(&key_c), "owner@example.com")
                .await
                .unwrap();

            // Valid.
            let valid = order(a, b, 100, "order-1");
            let signature = sign_order(&key_a, &valid);
            let outcome = store
                .submit_signed_order(&valid, &public_key_hex(&key_a), &signature)
                .await
                .unwrap()
                .unwrap();
            let Outcome::Posted { tx } = outcome else {
                panic!("{outcome:?}")
            };
            let stored = store.payer_signatures(&[tx]).await.unwrap();
            assert_eq!(stored[&tx].public_key, public_key_hex(&key_a));
            assert_eq!(stored[&tx].signature, signature);
            let posted = store.transaction(tx).await.unwrap().unwrap();
            assert_eq!(
                posted.net_for(b),
                Amount::from_minor(9_800),
                "2% commission"
            );
            assert_eq!(posted.reference(), "PO-17");
            // Resubmitting the same signed order replays it: paid once.
            let again = store
                .submit_signed_order(&valid, &public_key_hex(&key_a), &signature)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(again, Outcome::Posted { tx });
            let before = state(&store, &ids).await;
            assert_eq!(before.0, 1);

            // Signed by a key that is not the one named.
            let o = order(a, b, 100, "order-2");
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_a), &sign_order(&stranger, &o))
                .await
                .unwrap_err();
            assert!(
                matches!(err, OrderError::Signature(SignatureError::Mismatch)),
                "{err}"
            );
            // A field changed after signing.
            let mut tampered = order(a, b, 100, "order-3");
            let signature3 = sign_order(&key_a, &tampered);
            tampered.amount = Amount::from_units(1_000);
            let err = store
                .submit_signed_order(&tampered, &public_key_hex(&key_a), &signature3)
                .await
                .unwrap_err();
            assert!(
                matches!(err, OrderError::Signature(SignatureError::Mismatch)),
                "{err}"
            );
            tampered.amount = Amount::from_units(100);
            tampered.payee = c;
            let err = store
                .submit_signed_order(&tampered, &public_key_hex(&key_a), &signature3)
                .await
                .unwrap_err();
            assert!(
                matches!(err, OrderError::Signature(SignatureError::Mismatch)),
                "{err}"
            );
            // Replayed under the payer's other key.
            let o = order(a, b, 100, "order-4");
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_a2), &sign_order(&key_a, &o))
                .await
                .unwrap_err();
            assert!(
                matches!(err, OrderError::Signature(SignatureError::Mismatch)),
                "{err}"
            );
            // Signed with someone else's registered key for a's money.
            let o = order(a, c, 100, "order-5");
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_c), &sign_order(&key_c, &o))
                .await
                .unwrap_err();
            assert!(matches!(err, OrderError::UnknownKey(_)), "{err}");
            // An unregistered key.
            let err = store
                .submit_signed_order(&o, &public_key_hex(&stranger), &sign_order(&stranger, &o))
                .await
                .unwrap_err();
            assert!(matches!(err, OrderError::UnknownKey(_)), "{err}");
            // Expired (the expiry itself is already too late).
            let mut o = order(a, b, 100, "order-6");
            o.expires_at = Utc::now() - Duration::seconds(1);
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_a), &sign_order(&key_a, &o))
                .await
                .unwrap_err();
            assert!(matches!(err, OrderError::Expired), "{err}");
            // Expiry beyond the longest lifetime, and just inside it.
            let mut o = order(a, b, 1, "order-7");
            o.expires_at = Utc::now() + ORDER_LIFETIME_MAX + Duration::minutes(1);
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_a), &sign_order(&key_a, &o))
                .await
                .unwrap_err();
            assert!(matches!(err, OrderError::ExpiryTooFar), "{err}");
            assert_eq!(
                state(&store, &ids).await,
                before,
                "no refusal changed anything"
            );
            o.expires_at = Utc::now() + ORDER_LIFETIME_MAX - Duration::minutes(1);
            store
                .submit_signed_order(&o, &public_key_hex(&key_a), &sign_order(&key_a, &o))
                .await
                .unwrap()
                .unwrap();
            // Revoked.
            store
                .revoke_member_key(a, &public_key_hex(&key_a), "owner@example.com")
                .await
                .unwrap();
            let before = state(&store, &ids).await;
            let o = order(a, b, 100, "order-8");
            let err = store
                .submit_signed_order(&o, &public_key_hex(&key_a), &sign_order(&key_a, &o))
                .await
                .unwrap_err();
            assert!(matches!(err, OrderError::RevokedKey(_)), "{err}");
            assert_eq!(state(&store, &ids).await, before);
            // Payments signed before the revocation still verify.
            let summary = store.verify_ledger().await.unwrap().unwrap();
            assert_eq!(summary.signed_payments, 2);
            assert!(store
                .revoke_member_key(a, &public_key_hex(&key_a), "owner@example.com")
                .await
                .is_err());
            // Keys: only members, valid keys, never reused, at most a few per account.
            assert!(store
                .register_member_key(
                    system.fund,
                    &public_key_hex(&signing_key(20)),
                    "owner@example.com"
                )
                .await
                .is_err());
            assert!(store
                .register_member_key(b, "abcd", "owner@example.com")
                .await
                .is_err());
            let weak = hex::encode({
                let mut bytes = [0u8; 32];
                bytes[0] = 1;
                bytes
            });
            assert!(
                store
                    .register_member_key(b, &weak, "owner@example.com")
                    .await
                    .is_err(),
                "small-order key"
            );
            assert!(store
                .register_member_key(b, &public_key_hex(&key_a), "owner@example.com")
                .await
                .is_err());
            for seed in 0..MEMBER_KEYS_PER_ACCOUNT_MAX as u8 {
                store
                    .register_member_key(
                        b,
                        &public_key_hex(&signing_key(100 + seed)),
                        "owner@example.com",
                    )
                    .await
                    .unwrap();
            }
            assert!(store
                .register_member_key(b, &public_key_hex(&signing_key(99)), "owner@example.com")
                .await
                .is_err());
            store
                .revoke_member_key(b, &public_key_hex(&signing_key(100)), "owner@example.com")
                .await
                .unwrap();
            store
                .register_member_key(b, &public_key_hex(&signing_key(99)), "owner@example.com")
                .await
                .unwrap();
            let keys = store.member_keys(b).await.unwrap();
            assert_eq!(keys.len(), MEMBER_KEYS_PER_ACCOUNT_MAX + 1);
            assert_eq!(
                keys.iter().filter(|k| k.active).count(),
                MEMBER_KEYS_PER_ACCOUNT_MAX
            );
            store.close().await;
        }
    }
);

story!(
    keys_record_who_and_concurrent_registrations_keep_the_limit,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2).await;
            let (a, b) = (members[0].id(), members[1].id());

            // Twice the limit at once, on one account: exactly the limit is registered, the
            // others are refused as too many, and nothing else goes wrong.
            let attempts = 2 * MEMBER_KEYS_PER_ACCOUNT_MAX as u8;
            let mut tasks = Vec::new();
            for seed in 0..attempts {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .register_member_key(
                            a,
                            &public_key_hex(&signing_key(150 + seed)),
                            &format!("staff{seed}@example.com"),
                        )
                        .await
                }));
            }
            let (mut registered, mut refused) = (0, 0);
            for task in tasks {
                match task.await.unwrap() {
                    Ok(_) => registered += 1,
                    Err(KeyError::TooManyActive) => refused += 1,
                    Err(other) => panic!("unexpected refusal: {other}"),
                }
            }
            assert_eq!(registered, MEMBER_KEYS_PER_ACCOUNT_MAX);
            assert_eq!(refused, attempts as usize - MEMBER_KEYS_PER_ACCOUNT_MAX);
            let keys = store.member_keys(a).await.unwrap();
            assert_eq!(keys.len(), MEMBER_KEYS_PER_ACCOUNT_MAX);
            assert!(keys.iter().all(|k| k.active && k.revoked_by.is_none()));

            // Who registered and who revoked a key is on its record.
            let key = public_key_hex(&signing_key(140));
            let registered = store
                .register_member_key(b, &key, "owner@beta.example")
                .await
                .unwrap();
            assert_eq!(
                registered.registered_by.as_deref(),
                Some("owner@beta.example")
            );
            let revoked = store
                .revoke_member_key(b, &key, "staff@beta.example")
                .await
                .unwrap();
            assert_eq!(revoked.registered_by.as_deref(), Some("owner@beta.example"));
            assert_eq!(revoked.revoked_by.as_deref(), Some("staff@beta.example"));
            assert_eq!(store.member_keys(b).await.unwrap(), vec![revoked.clone()]);

            // Raw SQL cannot rewrite who did it: the revoke-only trigger refuses.
            for sql in [
                format!("UPDATE member_keys SET registered_by = 'x@example.com' WHERE public_key = '{key}'"),
                format!("UPDATE member_keys SET revoked_by = 'x@example.com' WHERE public_key = '{key}'"),
            ] {
                let refused = web::dispatch!(store.backend(), pool => {
                    sqlx::query(&sql).execute(pool).await.map(|_| ())
                });
                let message = refused.expect_err("the trigger refuses").to_string();
                assert!(message.contains("can only be revoked"), "{message}");
            }
            let active = public_key_hex(&signing_key(141));
            store
                .register_member_key(b, &active, "owner@beta.example")
                .await
                .unwrap();
            let sql = format!(
                "UPDATE member_keys SET registered_by = 'x@example.com' WHERE public_key = '{active}'"
            );
            let refused = web::dispatch!(store.backend(), pool => {
                sqlx::query(&sql).execute(pool).await.map(|_| ())
            });
            assert!(refused.is_err(), "an active key's author is fixed too");
            assert_eq!(store.member_keys(b).await.unwrap()[0], revoked);
            store.close().await;
        }
    }
);
