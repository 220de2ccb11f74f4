//! The manager's console, second half (docs/console.md, "Fees, guarantee fund and network
//! health"): fee versioning, the guarantee fund, defaults and recoveries, network health,
//! open data, brokering, and who may see and do what. Every story runs on both backends.

mod defaults;
mod fees;
mod fund;
mod pages;
mod stats;

use ledger::{AccountId, Amount, FeePolicy, FundPayer, IdempotencyKey, Operation, Policy};
use web::actor::Actor;
use web::people::{self, Member, Profile, Role};
use web::store::{Store, Submission};

pub use crate::web_front::PASSWORD;

/// The network of the web stories: 2 % commission (minimum 0,50) paid by the seller, 1 %
/// fund contribution paid by the buyer, at most 100 000,00 per transaction.
pub async fn network(store: &Store) {
    crate::web_front::network(store).await;
}

pub fn manager() -> Actor {
    Actor::new(None, "gestion@reseau.fr", Role::Manager)
}

pub fn accountant() -> Actor {
    Actor::new(None, "compta@reseau.fr", Role::Accountant)
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

/// A member company in `sector` and `city`, with an owner `owner@SLUG.fr`.
pub async fn company(
    store: &Store,
    n: u32,
    slug: &str,
    sector: &str,
    city: &str,
    limit_units: i64,
) -> Member {
    let profile = Profile {
        name: format!("Société {slug}"),
        siren: crate::web_front::siren(n),
        address: "1 rue du Port".into(),
        city: city.into(),
        postcode: "69002".into(),
        sector: sector.into(),
        description: String::new(),
        contact: format!("contact@{slug}.fr"),
    };
    let member =
        people::create_member_with_account(store, &profile, Amount::from_units(limit_units))
            .await
            .unwrap();
    people::create_user(
        store,
        &format!("owner@{slug}.fr"),
        PASSWORD,
        &profile.name,
        Role::Owner,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    member
}

pub fn account(member: &Member) -> AccountId {
    AccountId(member.account_id as u64)
}

/// `payer` pays `payee` `minor` cents, as of `at` when given; panics if the ledger refuses.
pub async fn pay(
    store: &Store,
    key_text: &str,
    payer: &Member,
    payee: &Member,
    minor: i64,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> ledger::TxId {
    let op = Operation::Payment {
        payer: account(payer),
        payee: account(payee),
        amount: Amount::from_minor(minor),
        reference: String::new(),
        memo: "test".into(),
    };
    let mut submission = Submission::new(key(key_text), op);
    if let Some(at) = at {
        submission = submission.at(at);
    }
    let outcome = store.submit(submission).await.unwrap().unwrap();
    outcome.tx().unwrap()
}

pub async fn balance(store: &Store, member: &Member) -> i64 {
    store
        .account(account(member))
        .await
        .unwrap()
        .unwrap()
        .balance()
        .minor()
}

/// A free network (no fees), so that balances are easy to compute by hand.
pub async fn free_network(store: &Store) {
    let policy = Policy {
        fees: FeePolicy::new(0, Amount::ZERO, 0, FundPayer::Seller).unwrap(),
        amount_per_tx_max: Amount::from_units(1_000_000),
    };
    store.create_network("Réseau libre", policy).await.unwrap();
}
