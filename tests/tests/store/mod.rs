//! The store's stories: the write path, idempotency, reads, the database's own defenses,
//! concurrency. Each runs on SQLite and on PostgreSQL.

mod action_log;
mod concurrency;
mod conformance;
mod defenses;
mod plans;
mod receipts;

use ledger::{
    Account, AccountId, Amount, IdempotencyKey, Operation, Outcome, Policy, Rejection,
    SystemAccounts,
};
use web::store::{Store, Submission};

/// A fresh network with `members` member accounts, each with `limit` units of credit.
pub async fn network(store: &Store, members: usize, limit: i64) -> (SystemAccounts, Vec<Account>) {
    let system = store
        .create_network("Test network", Policy::default())
        .await
        .unwrap();
    let accounts = store
        .open_accounts(members, Amount::from_units(limit), None)
        .await
        .unwrap();
    (system, accounts)
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

pub fn payment(payer: AccountId, payee: AccountId, units: i64) -> Operation {
    Operation::Payment {
        payer,
        payee,
        amount: Amount::from_units(units),
        reference: "INV-1".into(),
        memo: "test".into(),
    }
}

/// Submits and unwraps the store's own error (the test database is always reachable).
pub async fn submit(store: &Store, key_text: &str, op: Operation) -> Result<Outcome, Rejection> {
    store
        .submit(Submission::new(key(key_text), op))
        .await
        .expect("the store answers")
}

pub async fn balance(store: &Store, id: AccountId) -> i64 {
    store
        .account(id)
        .await
        .unwrap()
        .expect("the account exists")
        .balance()
        .minor()
}

pub async fn assert_invariants(store: &Store) {
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the invariants hold");
}
