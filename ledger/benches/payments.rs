//! In-memory payments per second on one core: `cargo bench -p ledger --bench payments`.
//!
//! Measures `Ledger::execute` (idempotency map, decision, applying the effect, keeping the
//! transaction log) and `decide` alone, over 10,000 accounts with the fee legs on. Not a test:
//! it prints figures for docs/performance.md.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use ledger::{
    decide, AccountId, Amount, Command, FeePolicy, FundPayer, IdempotencyKey, Ledger, Operation,
    Policy, SystemAccounts, TxId,
};

const ACCOUNTS: u64 = 10_000;
const PAYMENTS: u64 = 2_000_000;

fn main() {
    let system = SystemAccounts {
        fund: AccountId(1),
        fees: AccountId(2),
        losses: AccountId(3),
        migration: AccountId(4),
    };
    let policy = Policy {
        fees: FeePolicy::new(200, Amount::from_minor(50), 100, FundPayer::Seller).unwrap(),
        ..Policy::default()
    };
    let mut ledger = Ledger::new(system, policy);
    for i in 0..ACCOUNTS {
        ledger
            .open_member(AccountId(100 + i), Amount::from_units(1_000_000), None)
            .unwrap();
    }
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    // A cheap deterministic spread of payers and payees (no RNG in the ledger's crate).
    let pair = |n: u64| {
        let payer = 100 + (n * 7_919) % ACCOUNTS;
        let mut payee = 100 + (n * 104_729 + 13) % ACCOUNTS;
        if payee == payer {
            payee = 100 + (payee - 100 + 1) % ACCOUNTS;
        }
        (AccountId(payer), AccountId(payee))
    };
    let commands: Vec<Command> = (0..PAYMENTS)
        .map(|n| {
            let (payer, payee) = pair(n);
            Command {
                key: IdempotencyKey::new(format!("bench-{n}")).unwrap(),
                tx_id: TxId(n + 1),
                time: t0 + Duration::microseconds(n as i64),
                op: Operation::Payment {
                    payer,
                    payee,
                    amount: Amount::from_minor(1 + (n % 5_000) as i64),
                    reference: String::new(),
                    memo: String::new(),
                },
            }
        })
        .collect();

    // decide() alone, on a fixed state (what a store calls per operation).
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    let mut accepted = 0u64;
    for command in &commands {
        if decide(&ledger, &system, &policy, command).is_ok() {
            accepted += 1;
        }
    }
    let elapsed = started.elapsed();
    report("decide", accepted, elapsed, thread_cpu_ns() - cpu_started);

    // The full in-memory ledger.
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    let mut accepted = 0u64;
    for command in commands {
        if ledger.execute(command).is_ok() {
            accepted += 1;
        }
    }
    let elapsed = started.elapsed();
    report(
        "Ledger::execute",
        accepted,
        elapsed,
        thread_cpu_ns() - cpu_started,
    );
    ledger
        .check_invariants()
        .expect("invariants hold after the run");
}

/// CPU time of this thread in nanoseconds (Linux schedstat), so that figures taken on a busy
/// machine still say what one core does.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn report(what: &str, accepted: u64, elapsed: std::time::Duration, cpu_ns: u64) {
    let wall = accepted as f64 / elapsed.as_secs_f64();
    let cpu = accepted as f64 / (cpu_ns as f64 / 1e9);
    println!(
        "{what:>16}: {accepted} payments; wall {:.3} s = {:.0}/s; on-CPU {:.3} s = {:.0}/s ({:.0} ns each)",
        elapsed.as_secs_f64(),
        wall,
        cpu_ns as f64 / 1e9,
        cpu,
        cpu_ns as f64 / accepted as f64
    );
}
