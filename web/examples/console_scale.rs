//! The console at scale (run by hand, not in CI; figures in docs/performance.md).
//!
//! ```text
//! cargo run --release -p web --example console_scale -- sqlite:///tmp/troc-console.db 10
//! ```
//! On an empty database: creates a network and a manager, imports `files` CSV files of 500
//! members each (half with an opening balance) and prints each import's time, then times the
//! member list's first page, the four review lists and one member's suggested limit over the
//! whole network.

use std::time::Instant;

use chrono::Utc;
use ledger::Policy;
use web::console::import::{import_members, IMPORT_LINES_MAX};
use web::console::members::{list_members, MemberFilter};
use web::console::settings::Settings;
use web::console::{reviews, suggest, Actor};
use web::people::{self, Role};
use web::store::Store;

fn siren(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .expect("one check digit fits")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:///tmp/troc-console.db".into());
    let files: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4);
    let store = Store::connect(&url).await?;
    store
        .create_network("Réseau console", Policy::default())
        .await?;
    let user = people::create_user(
        &store,
        "gestion@scale.fr",
        "a long password!",
        "G",
        Role::Manager,
        None,
    )
    .await?
    .expect("a fresh database");
    let actor = Actor::new(user, "gestion@scale.fr", Role::Manager);
    for file in 0..files {
        let mut csv = String::from("name;siren;email;credit_limit;opening_balance\n");
        for line in 0..IMPORT_LINES_MAX as u32 {
            let n = file * IMPORT_LINES_MAX as u32 + line;
            let opening = if n.is_multiple_of(2) { "-250" } else { "" };
            csv.push_str(&format!(
                "Membre {n};{};m{n}@scale.fr;2 000;{opening}\n",
                siren(n)
            ));
        }
        let started = Instant::now();
        let created = import_members(&store, &actor, csv.as_bytes())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        println!(
            "import {file}: {} members in {:.2} s ({} bytes)",
            created.len(),
            started.elapsed().as_secs_f64(),
            csv.len()
        );
    }
    let now = Utc::now();
    let settings = Settings::default();
    let started = Instant::now();
    let page = list_members(&store, &actor, &MemberFilter::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "member list, first page of {}: {:.3} s",
        page.total,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let lists = reviews::lists(&store, &actor, &settings, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (near, long, growing, due) = (
        lists.near_limit,
        lists.negative_too_long,
        lists.growing,
        lists.reviews_due,
    );
    println!(
        "four review lists ({} / {} / {} / {}): {:.3} s",
        near.len(),
        long.len(),
        growing.len(),
        due.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    suggest::suggest(&store, &actor, page.rows[0].member.id, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "one suggested limit: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
