//! Member-signed payment orders: valid, wrong key, tampered field, replay with another key,
//! expired, revoked key, unknown key; each refusal changes nothing.

use chrono::{Duration, Utc};
use ledger::audit::{public_key_hex, sign_order, PaymentOrder, SignatureError};
use ledger::{AccountId, Amount, IdempotencyKey, Outcome};
use tests::story;
use web::store::{OrderError, Store, MEMBER_KEYS_PER_ACCOUNT_MAX, ORDER_LIFETIME_MAX};

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
                .register_member_key(a, &public_key_hex(&key_a))
                .await
                .unwrap();
            store
                .register_member_key(a, &public_key_hex(&key_a2))
                .await
                .unwrap();
            store
                .register_member_key(c, &public_key_hex(&key_c))
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
                .revoke_member_key(a, &public_key_hex(&key_a))
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
                .revoke_member_key(a, &public_key_hex(&key_a))
                .await
                .is_err());
            // Keys: only members, valid keys, never reused, at most a few per account.
            assert!(store
                .register_member_key(system.fund, &public_key_hex(&signing_key(20)))
                .await
                .is_err());
            assert!(store.register_member_key(b, "abcd").await.is_err());
            let weak = hex::encode({
                let mut bytes = [0u8; 32];
                bytes[0] = 1;
                bytes
            });
            assert!(
                store.register_member_key(b, &weak).await.is_err(),
                "small-order key"
            );
            assert!(store
                .register_member_key(b, &public_key_hex(&key_a))
                .await
                .is_err());
            for seed in 0..MEMBER_KEYS_PER_ACCOUNT_MAX as u8 {
                store
                    .register_member_key(b, &public_key_hex(&signing_key(100 + seed)))
                    .await
                    .unwrap();
            }
            assert!(store
                .register_member_key(b, &public_key_hex(&signing_key(99)))
                .await
                .is_err());
            store
                .revoke_member_key(b, &public_key_hex(&signing_key(100)))
                .await
                .unwrap();
            store
                .register_member_key(b, &public_key_hex(&signing_key(99)))
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
