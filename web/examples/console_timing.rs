//! The console's reads at scale (run by hand, not in CI; figures in docs/performance.md).
//!
//! ```text
//! cargo run --release -p web --example console_timing -- seed sqlite:///tmp/troc-console.db 1000000
//! cargo run --release -p web --example console_timing -- time sqlite:///tmp/troc-console.db
//! cargo run --release -p web --example console_timing -- grow sqlite:///tmp/troc-console.db 10000
//! ```
//! `seed` creates a network of 1,000 members in 14 sectors and 10 cities, and writes payments
//! (6 postings each: principal, commission, fund contribution) dated evenly over the last 24
//! months until the ledger holds at least the requested number of postings, plus one open
//! offer and one want per member. `time` first runs one health report (which brings the
//! monthly aggregates up to date) and prints its time, then runs each console read 5 times
//! and prints the median and the slowest, in milliseconds. `grow` adds payments dated now, so
//! that the next `time` shows the cost of an incremental refresh.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use ledger::{Amount, FeePolicy, FundPayer, IdempotencyKey, Operation, Policy};
use web::actor::Actor;
use web::market::{self, Kind, ListingContent};
use web::network::{brokering, fund, open_data, stats};
use web::people::{self, Profile, Role, SECTORS};
use web::store::{Store, Submission, SUBMISSIONS_PER_CALL_MAX};

const MEMBERS: usize = 1_000;
const POSTINGS_PER_PAYMENT: u64 = 6;
const DAYS: i64 = 730;
const CITIES: [&str; 10] = [
    "Lyon",
    "Grenoble",
    "Annecy",
    "Chambéry",
    "Valence",
    "Vienne",
    "Bourg",
    "Roanne",
    "Mâcon",
    "Villeurbanne",
];

fn siren(n: usize) -> String {
    let body = format!("{:08}", 20_000_000 + n);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .expect("one check digit works")
}

async fn seed(store: &Store, postings: u64) -> anyhow::Result<()> {
    let policy = Policy {
        fees: FeePolicy::new(200, Amount::from_minor(50), 100, FundPayer::Buyer)?,
        ..Policy::default()
    };
    store.create_network("Réseau volume", policy).await?;
    let mut accounts = Vec::with_capacity(MEMBERS);
    for n in 0..MEMBERS {
        let (sector, _, _) = SECTORS[n % SECTORS.len()];
        let profile = Profile {
            name: format!("Entreprise {n}"),
            siren: siren(n),
            address: "1 rue".into(),
            city: CITIES[n % CITIES.len()].into(),
            postcode: "69001".into(),
            sector: sector.into(),
            description: String::new(),
            contact: format!("c{n}@example.fr"),
        };
        let member =
            people::create_member_with_account(store, &profile, Amount::from_units(1_000_000))
                .await?;
        for (kind, category) in [(Kind::Offer, sector), (Kind::Want, SECTORS[(n + 3) % 14].0)] {
            let content = ListingContent {
                kind,
                title: format!("{} {n}", kind.as_str()),
                description: String::new(),
                category: category.into(),
                price_minor: None,
                vat_bp: 2_000,
                city: profile.city.clone(),
                active_until: "2099-12-31".into(),
            };
            market::create(store, member.id, &content, None).await?;
        }
        accounts.push(ledger::AccountId(member.account_id as u64));
    }
    let payments = postings.div_ceil(POSTINGS_PER_PAYMENT);
    let start = Utc::now() - Duration::days(DAYS);
    let step = Duration::days(DAYS).num_seconds() / payments.max(1) as i64;
    let mut done = 0u64;
    let began = Instant::now();
    while done < payments {
        let mut batch = Vec::with_capacity(SUBMISSIONS_PER_CALL_MAX);
        while batch.len() < SUBMISSIONS_PER_CALL_MAX && done < payments {
            let i = done as usize;
            let payer = accounts[(i * 7919) % MEMBERS];
            let mut payee = accounts[(i * 104_729 + 13) % MEMBERS];
            if payee == payer {
                payee = accounts[(i * 7919 + 1) % MEMBERS];
            }
            let op = Operation::Payment {
                payer,
                payee,
                amount: Amount::from_minor(1_000 + (i as i64 * 37) % 200_000),
                reference: String::new(),
                memo: "volume".into(),
            };
            let at = start + Duration::seconds(step * done as i64);
            batch.push(Submission::new(IdempotencyKey::new(format!("seed-{done}"))?, op).at(at));
            done += 1;
        }
        for answer in store.submit_batch(batch).await? {
            answer??;
        }
    }
    println!(
        "seeded {MEMBERS} members, {done} payments in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn grow(store: &Store, payments: usize) -> anyhow::Result<()> {
    let accounts: Vec<ledger::AccountId> = people::members(store, MEMBERS as i64)
        .await?
        .iter()
        .map(|m| ledger::AccountId(m.account_id as u64))
        .collect();
    let tag = Utc::now().timestamp_micros();
    let began = Instant::now();
    let mut done = 0usize;
    while done < payments {
        let mut batch = Vec::with_capacity(SUBMISSIONS_PER_CALL_MAX);
        while batch.len() < SUBMISSIONS_PER_CALL_MAX && done < payments {
            let payer = accounts[(done * 31) % accounts.len()];
            let payee = accounts[(done * 31 + 7) % accounts.len()];
            let op = Operation::Payment {
                payer,
                payee,
                amount: Amount::from_minor(5_000),
                reference: String::new(),
                memo: "grow".into(),
            };
            batch.push(Submission::new(
                IdempotencyKey::new(format!("grow-{tag}-{done}"))?,
                op,
            ));
            done += 1;
        }
        for answer in store.submit_batch(batch).await? {
            answer??;
        }
    }
    println!(
        "added {done} payments in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn measure<F, Fut, T>(name: &str, mut run: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut times: Vec<StdDuration> = Vec::with_capacity(5);
    for _ in 0..5 {
        let started = Instant::now();
        run().await?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "{name:28} median {:8.1} ms  max {:8.1} ms",
        times[2].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3
    );
    Ok(())
}

async fn time(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::new(None, "bench@example.fr", Role::Manager);
    let postings: i64 = web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM postings").fetch_one(pool).await?
    });
    println!("{} backend, {postings} postings", store.kind().as_str());
    let now = Utc::now();
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    let started = Instant::now();
    stats::network_health(store, &actor, now, 12).await?;
    println!(
        "first report (brings the aggregates up to date): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    measure("fund::overview", || async {
        Ok(fund::overview(store, &actor).await?)
    })
    .await?;
    measure("fund::stress (k = 1000)", || async {
        Ok(fund::stress(store, &actor, fund::STRESS_K_MAX).await?)
    })
    .await?;
    measure("fund::written_off_members", || async {
        Ok(fund::written_off_members(store, &actor).await?)
    })
    .await?;
    for months in [12, stats::STATS_MONTHS_MAX] {
        measure(&format!("stats::network_health ({months} mo)"), || async {
            Ok(stats::network_health(store, &actor, now, months).await?)
        })
        .await?;
    }
    measure("open_data::open_data", || async {
        Ok(open_data::open_data(store, now).await?)
    })
    .await?;
    measure("brokering::brokering", || async {
        Ok(brokering::brokering(store, &actor, &today).await?)
    })
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: console_timing seed URL POSTINGS | grow URL PAYMENTS | time URL";
    let (command, url) = match (args.get(1), args.get(2)) {
        (Some(command), Some(url)) => (command.as_str(), url.as_str()),
        _ => anyhow::bail!(usage),
    };
    let store = Store::connect(url).await?;
    match command {
        "seed" => {
            let postings: u64 = args.get(3).ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
            seed(&store, postings).await?
        }
        "time" => time(&store).await?,
        "grow" => {
            let payments: usize = args.get(3).ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
            grow(&store, payments).await?
        }
        _ => anyhow::bail!(usage),
    }
    store.close().await;
    Ok(())
}
