//! `troc bench`: durable payments per second through the real write path (group commit,
//! durability on), and the member dashboard read with a million postings in the database.
//! Results and commands are recorded in `docs/performance.md`.

use std::time::{Duration, Instant};

use ledger::{AccountId, Amount, IdempotencyKey, Operation, Outcome};
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::load::scratch_network;
use super::{Store, StoreError, StoreResult, Submission, SUBMISSIONS_PER_CALL_MAX};

/// Accounts in the uniform scenario.
pub const BENCH_ACCOUNTS: usize = 10_000;
/// Postings the dashboard scenario makes sure exist before it reads.
pub const DASHBOARD_POSTINGS: i64 = 1_000_000;
/// Entries on the dashboard's first history page.
pub const DASHBOARD_PAGE_SIZE: usize = 20;
/// Dashboard reads measured.
const DASHBOARD_READS: usize = 2_000;
/// Longest run per case.
pub const BENCH_SECONDS_MAX: u64 = 3_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Random payer and payee among 10,000 accounts.
    Uniform,
    /// One buyer pays everyone: every operation touches the same account.
    Hot,
    /// Reads a member's balance and first history page with 1,000,000 postings stored.
    Dashboard,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::Uniform, Scenario::Hot, Scenario::Dashboard];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Uniform => "uniform",
            Scenario::Hot => "hot_account",
            Scenario::Dashboard => "dashboard",
        }
    }

    pub fn parse(text: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One line of the payment benchmark (the `--json` shape the issue asks for).
#[derive(Debug, Clone, Serialize)]
pub struct PaymentResult {
    pub backend: &'static str,
    pub scenario: &'static str,
    pub submitters: usize,
    pub payments_per_sec: f64,
    pub p99_ms: f64,
}

/// The dashboard read benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardResult {
    pub backend: &'static str,
    pub scenario: &'static str,
    pub postings: i64,
    pub reads_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Runs the payment scenario with `submitters` concurrent callers for `seconds`.
pub async fn payments(
    store: &Store,
    scenario: Scenario,
    submitters: usize,
    seconds: u64,
) -> StoreResult<PaymentResult> {
    if seconds == 0 || seconds > BENCH_SECONDS_MAX {
        return Err(StoreError::Invalid(format!(
            "between 1 and {BENCH_SECONDS_MAX} seconds"
        )));
    }
    if submitters == 0 || submitters > super::load::SUBMITTERS_MAX {
        return Err(StoreError::Invalid(format!(
            "between 1 and {} submitters",
            super::load::SUBMITTERS_MAX
        )));
    }
    // Limits far beyond what a run can spend: the benchmark measures the write path, not
    // rejections.
    let ids = scratch_network(store, BENCH_ACCOUNTS, Amount::from_units(1_000_000_000_000)).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(submitters);
    for _ in 0..submitters {
        let store = store.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_entropy();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let (payer, payee) = pick(&mut rng, &ids, scenario);
                // A random key, as API clients send (a UUID): each lands at a random place in
                // the key indexes, where near-sequential keys would all land at a few.
                let key = IdempotencyKey::new(format!("bench-{:032x}", rng.gen::<u128>()))
                    .expect("a valid key");
                let op = Operation::Payment {
                    payer,
                    payee,
                    amount: Amount::from_minor(rng.gen_range(100..=10_000)),
                    reference: String::new(),
                    memo: String::new(),
                };
                let sent = Instant::now();
                let answer = store.submit(Submission::new(key, op)).await?;
                if matches!(answer, Ok(Outcome::Posted { .. })) {
                    latencies.push(sent.elapsed());
                }
            }
            Ok::<_, StoreError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(
            task.await
                .map_err(|e| StoreError::Unavailable(format!("a bench task failed: {e}")))??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(PaymentResult {
        backend: store.kind().as_str(),
        scenario: scenario.as_str(),
        submitters,
        payments_per_sec: round(latencies.len() as f64 / elapsed),
        p99_ms: round(percentile(&latencies, 0.99)),
    })
}

fn pick(rng: &mut impl Rng, ids: &[AccountId], scenario: Scenario) -> (AccountId, AccountId) {
    match scenario {
        Scenario::Hot => (ids[0], ids[rng.gen_range(1..ids.len())]),
        _ => {
            let payer = rng.gen_range(0..ids.len());
            let mut payee = rng.gen_range(0..ids.len() - 1);
            if payee >= payer {
                payee += 1;
            }
            (ids[payer], ids[payee])
        }
    }
}

/// Fills the database up to [`DASHBOARD_POSTINGS`] postings, then times reading one
/// member's account and first history page, [`DASHBOARD_READS`] times.
pub async fn dashboard(store: &Store) -> StoreResult<DashboardResult> {
    let ids = scratch_network(store, BENCH_ACCOUNTS, Amount::from_units(1_000_000_000_000)).await?;
    let run = rand::random::<u32>();
    let mut batch_number = 0u64;
    loop {
        let postings = count_postings(store).await?;
        if postings >= DASHBOARD_POSTINGS {
            break;
        }
        let mut fills = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            let ids = ids.clone();
            batch_number += 1;
            let this = batch_number;
            fills.push(tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::from_entropy();
                let submissions = (0..SUBMISSIONS_PER_CALL_MAX)
                    .map(|i| {
                        let (payer, payee) = pick(&mut rng, &ids, Scenario::Uniform);
                        Submission::new(
                            IdempotencyKey::new(format!("fill-{run}-{this}-{i}"))
                                .expect("a valid key"),
                            Operation::Payment {
                                payer,
                                payee,
                                amount: Amount::from_minor(rng.gen_range(100..=10_000)),
                                reference: String::new(),
                                memo: "fill".into(),
                            },
                        )
                    })
                    .collect();
                store.submit_batch(submissions).await
            }));
        }
        for fill in fills {
            for answer in fill
                .await
                .map_err(|e| StoreError::Unavailable(format!("a fill task failed: {e}")))??
            {
                answer?.map_err(|r| StoreError::Invalid(format!("fill refused: {r}")))?;
            }
        }
    }
    let postings = count_postings(store).await?;
    let mut rng = rand::rngs::StdRng::from_entropy();
    let mut latencies = Vec::with_capacity(DASHBOARD_READS);
    let started = Instant::now();
    for _ in 0..DASHBOARD_READS {
        let id = ids[rng.gen_range(0..ids.len())];
        let sent = Instant::now();
        let account = store.account(id).await?;
        let page = store.history(id, None, DASHBOARD_PAGE_SIZE).await?;
        latencies.push(sent.elapsed());
        assert!(account.is_some() && page.entries.len() <= DASHBOARD_PAGE_SIZE);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(DashboardResult {
        backend: store.kind().as_str(),
        scenario: Scenario::Dashboard.as_str(),
        postings,
        reads_per_sec: round(DASHBOARD_READS as f64 / elapsed),
        p50_ms: round(percentile(&latencies, 0.50)),
        p99_ms: round(percentile(&latencies, 0.99)),
    })
}

async fn count_postings(store: &Store) -> StoreResult<i64> {
    Ok(crate::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM postings").fetch_one(pool).await?
    }))
}

/// The `q` quantile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1_000.0
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
