//! HTTP stories against the real app and a real database, on both backends.

mod approvals;
mod auth;
pub mod client;
mod demo;
mod large_network;
mod mail;
mod market;
mod members;
mod money;
mod news;
mod record;
mod setoff;
mod trades;
mod zero;

use ledger::{Amount, FeePolicy, FundPayer, Policy};
use web::http::AppState;
use web::people::{self, Member, Profile, Role};
use web::store::Store;

pub const PASSWORD: &str = "correct horse battery";

/// A network with a 2 % commission (minimum 0,50) and a 1 % fund contribution paid by the
/// buyer, and members whose owners log in as `owner@<slug>.fr`.
pub async fn network(store: &Store) {
    let policy = Policy {
        fees: FeePolicy::new(200, Amount::from_minor(50), 100, FundPayer::Buyer).unwrap(),
        amount_per_tx_max: Amount::from_units(100_000),
    };
    store.create_network("Réseau test", policy).await.unwrap();
}

/// A SIREN that passes the Luhn check, distinct per `n` (< 1 000).
pub fn siren(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .unwrap()
}

/// A member company with an owner `owner@SLUG.fr` and a staff user `staff@SLUG.fr`.
pub async fn member(store: &Store, n: u32, name: &str, slug: &str, limit_units: i64) -> Member {
    let profile = Profile {
        name: name.to_owned(),
        siren: siren(n),
        address: "1 rue de la Paix".into(),
        city: "Lyon".into(),
        postcode: "69001".into(),
        sector: "informatique".into(),
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
        name,
        Role::Owner,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    people::create_user(
        store,
        &format!("staff@{slug}.fr"),
        PASSWORD,
        "Staff",
        Role::Staff,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    member
}

/// `member`'s staff user (`member` makes one per company, `staff@<slug>.fr`), capped by its
/// owner at `payment_max` minor units per operation (`None`: left without a cap).
pub async fn staff_of(store: &Store, member: &Member, payment_max: Option<i64>) -> people::User {
    let staff = people::users_of_member(store, member.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Staff)
        .expect("the member has a staff user");
    if payment_max.is_some() {
        assert!(
            people::set_payment_max(store, member.id, staff.id, payment_max)
                .await
                .unwrap()
        );
    }
    staff
}

/// The app with a network and two members, Alpha (limit 1 000) and Beta (limit 500).
pub async fn two_members(url: &str) -> (Store, AppState, Member, Member) {
    let (store, state) = client::state(url).await;
    network(&store).await;
    let alpha = member(&store, 1, "Alpha SARL", "alpha", 1_000).await;
    let beta = member(&store, 2, "Beta & Fils <SAS>", "beta", 500).await;
    (store, state, alpha, beta)
}

pub async fn balance(store: &Store, member: &Member) -> i64 {
    store
        .account(ledger::AccountId(member.account_id as u64))
        .await
        .unwrap()
        .unwrap()
        .balance()
        .minor()
}

/// The element with `id` of a page, up to the end of its `<section>` (or of the page).
pub fn section(body: &str, id: &str) -> String {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &body[start..];
    rest[..rest.find("</section>").unwrap_or(rest.len())].to_owned()
}
