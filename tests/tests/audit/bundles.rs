//! Audit bundles: exported, verified offline with no database, and a tampered one fails.

use chrono::{Duration, Utc};
use ledger::audit::{public_key_hex, sign_order, PaymentOrder};
use ledger::{Amount, IdempotencyKey};
use tests::story;
use web::audit::bundle::{export, verify_bundle, Manifest, MANIFEST_FILE, TRANSACTIONS_FILE};

use super::{signing_key, six_payments};

story!(
    bundles_verify_offline_and_tampering_fails,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, ids, _) = six_payments(&url).await;
            // A signed payment too.
            let member = signing_key(30);
            store
                .register_member_key(ids[0], &public_key_hex(&member), "owner@example.com")
                .await
                .unwrap();
            let order = PaymentOrder {
                payer: ids[0],
                payee: ids[1],
                amount: Amount::from_units(7),
                reference: "PO-1".into(),
                idempotency_key: IdempotencyKey::new("order-signed-1").unwrap(),
                expires_at: Utc::now() + Duration::minutes(5),
            };
            store
                .submit_signed_order(
                    &order,
                    &public_key_hex(&member),
                    &sign_order(&member, &order),
                )
                .await
                .unwrap()
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("bundle");
            let from = Utc::now() - Duration::days(1);
            let to = Utc::now() + Duration::days(1);
            let manifest = export(&store, from, to, &out).await.unwrap();
            assert_eq!(
                (manifest.first_seq, manifest.last_seq, manifest.transactions),
                (1, 7, 7)
            );
            store.close().await;
            // Offline: no store from here on.
            let summary = verify_bundle(&out).unwrap();
            assert_eq!(summary.transactions, 7);
            assert_eq!(summary.checkpoints, 1);
            assert_eq!(summary.signed_payments, 1);
            assert!(!summary.end_signed, "seq 5..7 are not checkpointed yet");
            // Exporting into a non-empty directory is refused.
            assert!(export(&Store::connect(&url).await.unwrap(), from, to, &out)
                .await
                .is_err());

            // Tamper with an amount in the transactions file.
            let path = out.join(TRANSACTIONS_FILE);
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let amount = lines[1]["postings"][1]["amount"].as_i64().unwrap();
            lines[1]["postings"][1]["amount"] = (amount + 100).into();
            lines[1]["postings"][0]["amount"] =
                (lines[1]["postings"][0]["amount"].as_i64().unwrap() - 100).into();
            let tampered: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(&path, &tampered).unwrap();
            let problem = verify_bundle(&out).unwrap_err();
            assert!(
                problem.contains(TRANSACTIONS_FILE) && problem.contains("SHA-256"),
                "{problem}"
            );
            // Even with the manifest's digest fixed up, the chain catches it.
            let manifest_path = out.join(MANIFEST_FILE);
            let mut manifest: Manifest =
                serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
            use sha2_digest::digest;
            manifest
                .files
                .insert(TRANSACTIONS_FILE.into(), digest(tampered.as_bytes()));
            std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
            let problem = verify_bundle(&out).unwrap_err();
            assert!(problem.contains("seq 2"), "{problem}");
        }
    }
);

story!(
    a_partial_bundle_is_anchored_on_checkpoints,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, ids, chain) = six_payments(&url).await;
            // Close seq 5..7 with a checkpoint, then two more.
            crate::store::submit(&store, "p7", crate::store::payment(ids[0], ids[1], 1))
                .await
                .unwrap();
            store
                .create_checkpoint(&signing_key(1), Utc::now())
                .await
                .unwrap()
                .unwrap();
            crate::store::submit(&store, "p8", crate::store::payment(ids[0], ids[1], 1))
                .await
                .unwrap();
            // A period holding only seq 6: widened to 5..=7 (after checkpoint 4, up to 7).
            let time = chain[5].transaction.time();
            let range = store
                .seq_range(time, time + Duration::microseconds(1))
                .await
                .unwrap();
            assert_eq!(range, Some((6, 6)));
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("b");
            let manifest =
                web::audit::bundle::export(&store, time, time + Duration::microseconds(1), &out)
                    .await
                    .unwrap();
            assert_eq!(
                (manifest.anchor_seq, manifest.first_seq, manifest.last_seq),
                (4, 5, 7)
            );
            let summary = verify_bundle(&out).unwrap();
            assert_eq!(summary.transactions, 3);
            assert_eq!(summary.checkpoints, 1);
            assert!(summary.end_signed);
            store.close().await;
        }
    }
);

use web::store::Store;

mod sha2_digest {
    /// SHA-256 of `bytes` as hex, as the manifest lists files.
    pub fn digest(bytes: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    }
}
