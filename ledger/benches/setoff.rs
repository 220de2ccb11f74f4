//! Multilateral set-off time: `cargo bench -p ledger --bench setoff`.
//!
//! Measures `set_off` on 5,000 random invoices (the most one set-off takes) among 1,000
//! companies and among 100 companies, and on a long chain with shortcuts (many distinct
//! shortest-path lengths, so many phases). Not a test: it prints figures for
//! docs/performance.md.

use std::time::Instant;

use ledger::{set_off, Obligation, SETOFF_AMOUNT_MAX, SETOFF_OBLIGATIONS_MAX};

const RUNS: usize = 20;

fn main() {
    let count = SETOFF_OBLIGATIONS_MAX as u64;
    // Invoices of 1 to 10,000 euros.
    let amount = |n: u64| 100 + (mix(n ^ 0xA) % 1_000_000) as i64;
    measure(
        "random, 1,000 companies",
        &random_obligations(count, 1_000, amount),
    );
    measure(
        "random, 100 companies",
        &random_obligations(count, 100, amount),
    );
    measure(
        "random, 1,000 companies, amounts up to the maximum",
        &random_obligations(count, 1_000, |n| {
            1 + (mix(n ^ 0xB) % SETOFF_AMOUNT_MAX as u64) as i64
        }),
    );
    measure("chain of 2,500 with shortcuts back", &chain(count));
}

/// A cheap deterministic mix (splitmix64's finaliser; no RNG in the ledger's crate).
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sparse company ids, as the web crate's would be.
fn company(n: u64) -> u64 {
    mix(n ^ 0xC0)
}

fn random_obligations(count: u64, companies: u64, amount: impl Fn(u64) -> i64) -> Vec<Obligation> {
    (0..count)
        .map(|n| {
            let debtor = mix(n ^ 0xD) % companies;
            let creditor = (debtor + 1 + mix(n ^ 0xE) % (companies - 1)) % companies;
            Obligation {
                id: 1 + n,
                debtor: company(debtor),
                creditor: company(creditor),
                amount: amount(n),
            }
        })
        .collect()
}

/// Companies 0 → 1 → … → k owe along a chain; every company i also is owed by a company
/// further down, at a deterministic distance, with small amounts.
fn chain(count: u64) -> Vec<Obligation> {
    let links = count / 2;
    let mut obligations: Vec<Obligation> = (0..links)
        .map(|i| Obligation {
            id: 1 + i,
            debtor: company(i),
            creditor: company(i + 1),
            amount: 1_000 + (mix(i) % 1_000) as i64,
        })
        .collect();
    obligations.extend((0..count - links).map(|j| {
        let to = mix(j ^ 0xF) % links;
        let from = to + 1 + mix(j ^ 0x10) % (links - to);
        Obligation {
            id: 1 + links + j,
            debtor: company(from),
            creditor: company(to),
            amount: 1 + (mix(j ^ 0x11) % 1_000) as i64,
        }
    }));
    obligations
}

fn measure(what: &str, obligations: &[Obligation]) {
    let owed: i64 = obligations.iter().map(|o| o.amount).sum();
    let mut companies: Vec<u64> = obligations
        .iter()
        .flat_map(|o| [o.debtor, o.creditor])
        .collect();
    companies.sort_unstable();
    companies.dedup();
    let mut cpu = Vec::with_capacity(RUNS);
    let mut wall = Vec::with_capacity(RUNS);
    let mut result = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let cpu_started = thread_cpu_ns();
        let setoff = set_off(obligations).expect("a valid set-off");
        cpu.push(thread_cpu_ns() - cpu_started);
        wall.push(started.elapsed().as_nanos() as u64);
        result = Some(setoff);
    }
    let result = result.expect("at least one run");
    cpu.sort_unstable();
    wall.sort_unstable();
    println!(
        "{what}: {} obligations, {} companies: {:.2} ms per set-off (wall, median of {RUNS}; \
         slowest {:.2} ms; on-CPU median {:.2} ms); cleared {} of {} owed ({:.1} %) on {} invoices",
        obligations.len(),
        companies.len(),
        wall[RUNS / 2] as f64 / 1e6,
        wall[RUNS - 1] as f64 / 1e6,
        cpu[RUNS / 2] as f64 / 1e6,
        result.total,
        owed,
        100.0 * result.total as f64 / owed as f64,
        result.cleared.len(),
    );
}

/// CPU time of this thread in nanoseconds (Linux schedstat), so that figures taken on a busy
/// machine still say what one core does. Some kernels count it in scheduler ticks (4 ms):
/// for set-offs of a few milliseconds, the wall time is the figure to read.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
