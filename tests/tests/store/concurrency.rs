//! Concurrency: many tasks (and two independent stores, as two processes would be) paying
//! each other at random under tight limits.

use std::collections::HashSet;

use ledger::{AccountId, Outcome, Rejection};
use rand::{Rng, SeedableRng};
use tests::story;
use web::store::{Store, StoreOptions};

use super::{assert_invariants, key, network, payment};

const TASKS: usize = 32;
const PAYMENTS_PER_TASK: usize = 40;
const ACCOUNTS: usize = 20;
/// Units of credit per account: tight, so that many payments are refused.
const LIMIT: i64 = 50;

/// Runs TASKS tasks spread over `stores`; returns (key, result) of every submission.
async fn random_payments(
    stores: &[Store],
    accounts: &[AccountId],
) -> Vec<(String, Result<Outcome, Rejection>)> {
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = stores[task % stores.len()].clone();
        let accounts = accounts.to_vec();
        handles.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(task as u64);
            let mut results = Vec::with_capacity(PAYMENTS_PER_TASK);
            for i in 0..PAYMENTS_PER_TASK {
                let payer = accounts[rng.gen_range(0..accounts.len())];
                let mut payee = payer;
                while payee == payer {
                    payee = accounts[rng.gen_range(0..accounts.len())];
                }
                let units = rng.gen_range(1..=30);
                let name = format!("t{task}-p{i}");
                let result = store
                    .submit(web::store::Submission::new(
                        key(&name),
                        payment(payer, payee, units),
                    ))
                    .await
                    .expect("the store answers every submission");
                results.push((name, result));
            }
            results
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    all
}

/// Every submission has exactly one outcome, and the database agrees with the answers.
async fn assert_exactly_once(store: &Store, results: &[(String, Result<Outcome, Rejection>)]) {
    assert_eq!(results.len(), TASKS * PAYMENTS_PER_TASK);
    let mut posted = HashSet::new();
    for (_, result) in results {
        match result {
            Ok(Outcome::Posted { tx }) => assert!(posted.insert(*tx), "tx {tx} answered twice"),
            Ok(other) => panic!("unexpected outcome {other:?}"),
            Err(Rejection::InsufficientCredit { .. }) => {}
            Err(other) => panic!("unexpected rejection {other:?}"),
        }
    }
    assert!(!posted.is_empty(), "some payments pass");
    assert!(
        posted.len() < results.len(),
        "the limits are tight enough to refuse some"
    );
    let (transactions, keys): (i64, i64) = web::dispatch!(store.backend(), pool => {
        (
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions").fetch_one(pool).await.unwrap(),
            sqlx::query_scalar("SELECT COUNT(*) FROM idempotency").fetch_one(pool).await.unwrap(),
        )
    });
    assert_eq!(
        transactions as usize,
        posted.len(),
        "one transaction per accepted payment"
    );
    assert_eq!(keys as usize, results.len(), "one decision per key");
    for (name, result) in results.iter().step_by(37) {
        let stored = store
            .submit(web::store::Submission::new(
                key(name),
                payment(AccountId(0), AccountId(0), 1),
            ))
            .await
            .unwrap();
        assert_eq!(
            stored,
            Err(Rejection::IdempotencyConflict),
            "{name} was decided"
        );
        if let Ok(Outcome::Posted { tx }) = result {
            let tx = store.transaction(*tx).await.unwrap().expect("committed");
            assert_eq!(tx.idempotency_key().unwrap().as_str(), name);
        }
    }
    for account in store.accounts().await.unwrap() {
        if let Some(available) = account.available() {
            assert!(
                !available.is_negative(),
                "account {} over its limit",
                account.id()
            );
        }
    }
    assert_invariants(store).await;
}

story!(
    thirty_two_tasks_random_payments_keep_every_invariant,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, ACCOUNTS, LIMIT).await;
            let ids: Vec<AccountId> = members.iter().map(|a| a.id()).collect();
            let results = random_payments(std::slice::from_ref(&store), &ids).await;
            assert_exactly_once(&store, &results).await;
            store.close().await;
        }
    }
);

story!(
    two_stores_on_one_database_stay_consistent,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // Two stores, two pools, two writer tasks: what two `troc` processes would be.
            // Small batches make the two writers interleave often.
            let options = StoreOptions {
                batch_ops_max: 8,
                ..StoreOptions::default()
            };
            let first = Store::connect_with(&url, options).await.unwrap();
            let second = Store::connect_with(&url, options).await.unwrap();
            let (_, members) = network(&first, ACCOUNTS, LIMIT).await;
            let ids: Vec<AccountId> = members.iter().map(|a| a.id()).collect();
            let results = random_payments(&[first.clone(), second.clone()], &ids).await;
            assert_exactly_once(&first, &results).await;
            first.close().await;
            second.close().await;
        }
    }
);
