//! Raw-SQL tampering, each caught by `troc verify`'s library function, which names the place.

use chrono::Utc;
use ledger::audit::{sign_checkpoint, ChainBreak};
use tests::story;
use web::store::{AuditBreak, Store};

use super::{drop_defenses, forged, insert_raw, raw, rehash, signing_key, six_payments};

async fn broken(store: &Store) -> AuditBreak {
    store
        .verify_ledger()
        .await
        .expect("the database answers")
        .expect_err("the tampering is caught")
}

story!(an_untouched_ledger_verifies, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _, chain) = six_payments(&url).await;
        let summary = store.verify_ledger().await.unwrap().unwrap();
        assert_eq!(summary.transactions, 6);
        assert_eq!(summary.checkpoints, 1);
        assert_eq!(summary.head, hex::encode(chain[5].hash));
        assert_eq!(store.chain_head().await.unwrap(), (6, chain[5].hash));
        // Each link is the hash of its content and the previous link.
        let mut prev = ledger::audit::GENESIS_HASH;
        for entry in &chain {
            assert_eq!(rehash(entry, &prev), entry.hash);
            prev = entry.hash;
        }
        store.close().await;
    }
});

story!(a_changed_amount_is_caught, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _, chain) = six_payments(&url).await;
        drop_defenses(&store).await;
        // Move 1.00 from one leg to the other: the transaction still balances.
        let tx = chain[2].transaction.id().0;
        raw(
            &store,
            &format!(
                "UPDATE postings SET amount = amount - 100 WHERE tx_id = {tx} AND n = 0; \
                 UPDATE postings SET amount = amount + 100 WHERE tx_id = {tx} AND n = 1;"
            ),
        )
        .await;
        let found = broken(&store).await;
        assert_eq!(
            found,
            AuditBreak::Chain(ChainBreak::Hash {
                seq: 3,
                tx: chain[2].transaction.id()
            })
        );
        assert!(found.to_string().contains("seq 3"), "{found}");
        store.close().await;
    }
});

story!(a_deleted_transaction_is_caught, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _, chain) = six_payments(&url).await;
        drop_defenses(&store).await;
        let tx = chain[2].transaction.id().0;
        raw(
            &store,
            &format!(
                "DELETE FROM postings WHERE tx_id = {tx}; DELETE FROM transactions WHERE id = {tx};"
            ),
        )
        .await;
        assert_eq!(
            broken(&store).await,
            AuditBreak::Chain(ChainBreak::Sequence {
                previous: 2,
                found: 4
            })
        );
        store.close().await;
    }
});

story!(
    deleting_the_last_transaction_is_caught,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _, chain) = six_payments(&url).await;
            drop_defenses(&store).await;
            let tx = chain[5].transaction.id().0;
            raw(
                &store,
                &format!(
                "DELETE FROM postings WHERE tx_id = {tx}; DELETE FROM transactions WHERE id = {tx};"
            ),
            )
            .await;
            let found = broken(&store).await;
            assert!(
                matches!(
                    found,
                    AuditBreak::Head {
                        head_seq: 6,
                        chain_seq: 5,
                        ..
                    }
                ),
                "{found}"
            );
            store.close().await;
        }
    }
);

story!(reordering_is_caught, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _, chain) = six_payments(&url).await;
        drop_defenses(&store).await;
        raw(
            &store,
            "UPDATE transactions SET seq = 1000 WHERE seq = 2; \
             UPDATE transactions SET seq = 2 WHERE seq = 3; \
             UPDATE transactions SET seq = 3 WHERE seq = 1000;",
        )
        .await;
        assert_eq!(
            broken(&store).await,
            AuditBreak::Chain(ChainBreak::Hash {
                seq: 2,
                tx: chain[2].transaction.id()
            })
        );
        store.close().await;
    }
});

story!(
    an_inserted_forged_transaction_is_caught,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, ids, chain) = six_payments(&url).await;
            drop_defenses(&store).await;
            // Make room at seq 3 and slip in a forged payment whose own link is even computed
            // correctly from seq 2: the real seq 3 (now 4) no longer follows it.
            raw(
                &store,
                "UPDATE transactions SET seq = seq + 1000 WHERE seq >= 3; \
             UPDATE transactions SET seq = seq - 999 WHERE seq >= 1003;",
            )
            .await;
            let fake = forged(900_001, ids[0], ids[2], 5_000, chain[1].transaction.time());
            let hash = ledger::audit::transaction_hash(3, &fake, None, &chain[1].hash);
            insert_raw(&store, &fake, 3, &hash).await;
            assert_eq!(
                broken(&store).await,
                AuditBreak::Chain(ChainBreak::Hash {
                    seq: 4,
                    tx: chain[2].transaction.id()
                })
            );
            store.close().await;
        }
    }
);

story!(
    rewriting_the_whole_chain_is_caught_by_the_signed_checkpoint,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, ids, chain) = six_payments(&url).await;
            drop_defenses(&store).await;
            // The operator forges a payment at seq 3, recomputes every later link, moves
            // the head and fixes the balances: only the signed checkpoint still disagrees.
            raw(
                &store,
                "UPDATE transactions SET seq = seq + 1000 WHERE seq >= 3; \
                 UPDATE transactions SET seq = seq - 999 WHERE seq >= 1003;",
            )
            .await;
            let fake = forged(900_002, ids[0], ids[2], 5_000, chain[1].transaction.time());
            let mut prev = ledger::audit::transaction_hash(3, &fake, None, &chain[1].hash);
            insert_raw(&store, &fake, 3, &prev).await;
            for entry in store.chain_page(3, 100).await.unwrap() {
                prev = rehash(&entry, &prev);
                raw(
                    &store,
                    &format!(
                        "UPDATE transactions SET hash = '{}' WHERE seq = {}",
                        hex::encode(prev),
                        entry.seq
                    ),
                )
                .await;
            }
            raw(
                &store,
                &format!(
                    "UPDATE ledger_head SET seq = 7, hash = '{}'; \
                     UPDATE accounts SET balance = balance - 5000 WHERE id = {}; \
                     UPDATE accounts SET balance = balance + 5000 WHERE id = {};",
                    hex::encode(prev),
                    ids[0].0,
                    ids[2].0
                ),
            )
            .await;
            let found = broken(&store).await;
            assert!(
                matches!(&found, AuditBreak::Checkpoint { seq: 4, problem } if problem.contains("signed head")),
                "{found}"
            );
            store.close().await;
        }
    }
);

story!(
    a_replaced_checkpoint_signature_is_caught,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _, _) = six_payments(&url).await;
            drop_defenses(&store).await;
            let stored = store.checkpoints(0, 10).await.unwrap().remove(0);
            let other = sign_checkpoint(&signing_key(9), &stored.checkpoint);
            raw(
                &store,
                &format!("UPDATE checkpoints SET signature = '{other}' WHERE seq = 4"),
            )
            .await;
            let found = broken(&store).await;
            assert!(
                matches!(&found, AuditBreak::Checkpoint { seq: 4, problem } if problem.contains("signature")),
                "{found}"
            );
            store.close().await;
        }
    }
);

story!(a_changed_balance_is_caught, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, ids, _) = six_payments(&url).await;
        let before = store.account(ids[1]).await.unwrap().unwrap().balance();
        raw(
            &store,
            &format!(
                "UPDATE accounts SET balance = balance + 1 WHERE id = {}",
                ids[1].0
            ),
        )
        .await;
        let found = broken(&store).await;
        assert_eq!(
            found,
            AuditBreak::Balance {
                account: ids[1],
                stored: ledger::Amount::from_minor(before.minor() + 1),
                postings: before.minor().into(),
            }
        );
        assert!(found.to_string().contains(&format!("account {}", ids[1])));
        store.close().await;
    }
});

story!(
    checkpoints_every_n_and_key_rotation,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, ids, _) = six_payments(&url).await;
            let (old, new) = (signing_key(1), signing_key(2));
            // Two transactions since seq 4: not due at 3, due at 2.
            assert_eq!(
                store.checkpoint_if_due(&old, 3, Utc::now()).await.unwrap(),
                None
            );
            let due = store.checkpoint_if_due(&old, 2, Utc::now()).await.unwrap();
            assert_eq!(due.unwrap().checkpoint.seq, 6);
            // Nothing new: no checkpoint.
            assert_eq!(
                store.create_checkpoint(&old, Utc::now()).await.unwrap(),
                None
            );
            // A key nobody rotated to is refused while another is active.
            assert!(store.create_checkpoint(&new, Utc::now()).await.is_err());
            store.rotate_network_key(&old, &new).await.unwrap();
            crate::store::submit(
                &store,
                "after-rotation",
                crate::store::payment(ids[0], ids[1], 1),
            )
            .await
            .unwrap();
            // The retired key can no longer sign; the new one can.
            assert!(store.create_checkpoint(&old, Utc::now()).await.is_err());
            let signed = store
                .create_checkpoint(&new, Utc::now())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(signed.checkpoint.seq, 7);
            let keys = store.network_keys().await.unwrap();
            assert_eq!(keys.len(), 2);
            assert!(keys[0].retired_at.is_some() && keys[1].retired_at.is_none());
            // Old checkpoints still verify with the old public key.
            let summary = store.verify_ledger().await.unwrap().unwrap();
            assert_eq!(summary.checkpoints, 3);
            let published = web::audit::publish::published(&store, 0, 2).await.unwrap();
            assert_eq!(published.checkpoints.len(), 2);
            assert_eq!(published.next_after, Some(6));
            assert_eq!(published.network_keys.len(), 2);
            let json = web::audit::publish::checkpoints_json(&store, 6, 10)
                .await
                .unwrap();
            assert!(json.contains(&ledger::audit::public_key_hex(&new)));
            store.close().await;
        }
    }
);
