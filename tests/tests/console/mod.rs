//! The manager's console, members and credit limits: the domain functions (`web::console`)
//! and the pages (`/admin/...`), each story on both backends.

mod domain;
mod flows;
mod import;
mod pages;

use web::console::Actor;
use web::people::{self, Role};
use web::store::Store;

pub use crate::web_front::{network, siren, PASSWORD};

/// A manager and an accountant of the network, as users and as actors.
pub async fn staff(store: &Store) -> (Actor, Actor) {
    let manager = people::create_user(
        store,
        "gestion@troc.test",
        PASSWORD,
        "Gestion",
        Role::Manager,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let accountant = people::create_user(
        store,
        "compta@troc.test",
        PASSWORD,
        "Compta",
        Role::Accountant,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    (
        Actor::new(manager, "gestion@troc.test", Role::Manager),
        Actor::new(accountant, "compta@troc.test", Role::Accountant),
    )
}

/// A new member as a manager types it.
pub fn new_member(n: u32, name: &str) -> web::console::NewMember {
    web::console::NewMember {
        name: name.to_owned(),
        siren: siren(n),
        email: format!("owner{n}@member.fr"),
        ..Default::default()
    }
}
