//! Tamper evidence (issue 7), on both backends: the chain, checkpoints and balances catch
//! raw-SQL tampering and name the place; signed payment orders; audit bundles offline.

mod bundles;
mod http;
mod orders;
mod tampering;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use ledger::audit::{transaction_hash, Hash};
use ledger::{
    Account, AccountId, Amount, FeePolicy, FundPayer, IdempotencyKey, Leg, Outcome, Policy,
    Posting, SystemAccounts, Transaction, TxHeader, TxId, TxKind,
};
use web::store::{BackendKind, ChainEntry, Store};

use crate::store::{payment, submit};

/// A network whose trades pay a commission and a fund contribution (six postings each).
pub async fn network(store: &Store, members: usize) -> (SystemAccounts, Vec<Account>) {
    let policy = Policy {
        fees: FeePolicy::new(200, Amount::ZERO, 100, FundPayer::Buyer).unwrap(),
        ..Policy::default()
    };
    let system = store.create_network("Audit network", policy).await.unwrap();
    let mut accounts = Vec::new();
    for _ in 0..members {
        accounts.push(
            store
                .open_account(Amount::from_units(10_000), None)
                .await
                .unwrap(),
        );
    }
    (system, accounts)
}

pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Six payments between three members, a checkpoint after the fourth: the ledger every
/// tampering story starts from. Returns the store, the members and the chain.
pub async fn six_payments(url: &str) -> (Store, Vec<AccountId>, Vec<ChainEntry>) {
    let store = Store::connect(url).await.unwrap();
    let (_, members) = network(&store, 3).await;
    let ids: Vec<AccountId> = members.iter().map(Account::id).collect();
    for i in 0..6usize {
        let (payer, payee) = (ids[i % 3], ids[(i + 1) % 3]);
        let outcome = submit(
            &store,
            &format!("pay-{i}"),
            payment(payer, payee, 10 + i as i64),
        )
        .await
        .unwrap();
        assert!(matches!(outcome, Outcome::Posted { .. }));
        if i == 3 {
            let checkpoint = store
                .create_checkpoint(&signing_key(1), Utc::now())
                .await
                .unwrap()
                .expect("a checkpoint of seq 4");
            assert_eq!(checkpoint.checkpoint.seq, 4);
        }
    }
    let chain = store.chain_page(0, 100).await.unwrap();
    assert_eq!(chain.len(), 6);
    (store, ids, chain)
}

/// Runs raw SQL, the way someone with database access would.
pub async fn raw(store: &Store, sql: &str) {
    web::dispatch!(store.backend(), pool => {
        sqlx::raw_sql(sql).execute(pool).await.expect("the raw SQL runs");
    })
}

/// Drops the append-only triggers (a determined operator can).
pub async fn drop_defenses(store: &Store) {
    match store.kind() {
        BackendKind::Sqlite => {
            raw(
                store,
                "DROP TRIGGER postings_no_update; DROP TRIGGER postings_no_delete; \
                 DROP TRIGGER transactions_no_update; DROP TRIGGER transactions_no_delete; \
                 DROP TRIGGER checkpoints_no_update; DROP TRIGGER postings_before_seal;",
            )
            .await
        }
        BackendKind::Postgres => {
            raw(
                store,
                "DROP TRIGGER postings_append_only ON postings; \
                 DROP TRIGGER transactions_append_only ON transactions; \
                 DROP TRIGGER checkpoints_append_only ON checkpoints;",
            )
            .await
        }
    }
}

/// A transaction that never happened, between two real accounts.
pub fn forged(
    id: u64,
    from: AccountId,
    to: AccountId,
    minor: i64,
    time: DateTime<Utc>,
) -> Transaction {
    Transaction::new(
        TxHeader {
            id: TxId(id),
            kind: TxKind::Payment,
            time,
            reference: "FORGED".into(),
            memo: String::new(),
            idempotency_key: Some(IdempotencyKey::new(format!("forged-{id}")).unwrap()),
            reverses: None,
        },
        vec![
            Posting {
                account: from,
                amount: Amount::from_minor(-minor),
                leg: Leg::Principal,
            },
            Posting {
                account: to,
                amount: Amount::from_minor(minor),
                leg: Leg::Principal,
            },
        ],
    )
    .unwrap()
}

/// Inserts `tx` with `seq` and `hash` directly (postings before the row on SQLite, after it
/// on PostgreSQL, as each schema's seal wants).
pub async fn insert_raw(store: &Store, tx: &Transaction, seq: u64, hash: &Hash) {
    let sql_tx = "INSERT INTO transactions (id, seq, kind, time, reference, memo, \
         idempotency_key, reverses, posting_count, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)";
    let sql_posting = match store.kind() {
        BackendKind::Sqlite => {
            "INSERT INTO postings (tx_id, n, account_id, amount, leg, time) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        }
        BackendKind::Postgres => {
            "INSERT INTO postings (tx_id, n, account_id, amount, leg, time, posting_count) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        }
    };
    let count = tx.postings().len() as i64;
    web::dispatch!(store.backend(), pool => {
        let mut db = pool.begin().await.unwrap();
        let write_tx = sqlx::query(sql_tx)
            .bind(tx.id().0 as i64)
            .bind(seq as i64)
            .bind(tx.kind().as_str())
            .bind(tx.time())
            .bind(tx.reference())
            .bind(tx.memo())
            .bind(tx.idempotency_key().map(|k| k.as_str().to_owned()))
            .bind(count)
            .bind(hex::encode(hash));
        if store.kind() == BackendKind::Postgres {
            write_tx.execute(&mut *db).await.unwrap();
        }
        for (n, p) in tx.postings().iter().enumerate() {
            let mut q = sqlx::query(sql_posting)
                .bind(tx.id().0 as i64)
                .bind(n as i64)
                .bind(p.account.0 as i64)
                .bind(p.amount.minor())
                .bind(p.leg.as_str())
                .bind(tx.time());
            if store.kind() == BackendKind::Postgres {
                q = q.bind(count);
            }
            q.execute(&mut *db).await.unwrap();
        }
        if store.kind() == BackendKind::Sqlite {
            sqlx::query(sql_tx)
                .bind(tx.id().0 as i64)
                .bind(seq as i64)
                .bind(tx.kind().as_str())
                .bind(tx.time())
                .bind(tx.reference())
                .bind(tx.memo())
                .bind(tx.idempotency_key().map(|k| k.as_str().to_owned()))
                .bind(count)
                .bind(hex::encode(hash))
                .execute(&mut *db)
                .await
                .unwrap();
        }
        db.commit().await.unwrap();
    })
}

/// The hash `entry` would have after `prev`.
pub fn rehash(entry: &ChainEntry, prev: &Hash) -> Hash {
    transaction_hash(
        entry.seq,
        &entry.transaction,
        entry.signature.as_ref(),
        prev,
    )
}
