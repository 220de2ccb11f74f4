//! `troc serve --demo`: seeds a realistic network into an empty database and prints the
//! logins. The demo passwords are printed, never built into a real installation: they only
//! exist when `--demo` is asked for on an empty database.

use crate::http::AppState;
use crate::people::{self, Role};

/// The password of every demo login (printed at start).
pub const DEMO_PASSWORD: &str = "demo-troc-2026";

/// Seeds the demo network when the database has no user yet; does nothing otherwise.
pub async fn seed_if_empty(state: &AppState, base_url: &str) -> anyhow::Result<()> {
    if people::user_count(&state.store).await? > 0 {
        println!("Demo: the database is not empty; nothing seeded.");
        return Ok(());
    }
    let store = &state.store;
    people::create_user(
        store,
        "gestion@demo.troc",
        DEMO_PASSWORD,
        "Gestion du réseau",
        Role::Manager,
        None,
    )
    .await?;
    people::create_user(
        store,
        "compta@demo.troc",
        DEMO_PASSWORD,
        "Comptabilité",
        Role::Accountant,
        None,
    )
    .await?;
    println!("Demo network seeded. Open {base_url}/login");
    println!("  network manager: gestion@demo.troc / {DEMO_PASSWORD}");
    println!("  accountant:      compta@demo.troc / {DEMO_PASSWORD}");
    Ok(())
}
