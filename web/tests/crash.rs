//! Crash safety and several processes, with the real `troc` binary (`troc load`, which
//! prints each acknowledged operation after its COMMIT):
//!
//! - a load is killed with SIGKILL mid-flight, repeatedly; after reopening, every
//!   acknowledged payment is present exactly once, every rejection is recorded, nothing is
//!   half-applied and the invariants hold;
//! - two processes write to one database at the same time.
//!
//! Both backends: SQLite always, PostgreSQL when `TROC_TEST_POSTGRES_URL` is set (CI sets
//! it). These live in `web/tests/` because only the binary's own package gets
//! `CARGO_BIN_EXE_troc`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use ledger::{IdempotencyKey, Rejection, TxId};
use web::store::Store;

const TROC: &str = env!("CARGO_BIN_EXE_troc");

/// A fresh database URL; the guard drops it (directory or PostgreSQL database) at the end.
struct Fresh {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl Fresh {
    fn sqlite() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("troc.db").display());
        Fresh {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres() -> Option<Fresh> {
        let server = std::env::var("TROC_TEST_POSTGRES_URL").ok()?;
        let name = format!(
            "troc_crash_{}_{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let admin = sqlx::PgPool::connect(&server).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let base = server.rsplit_once('/').map(|(base, _)| base).unwrap();
        Some(Fresh {
            url: format!("{base}/{name}"),
            _dir: None,
            postgres: Some((server, name)),
        })
    }

    async fn drop_database(&self) {
        if let Some((server, name)) = &self.postgres {
            let admin = sqlx::PgPool::connect(server).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin)
                .await;
            admin.close().await;
        }
    }
}

fn load(url: &str, prefix: &str, payments: usize) -> Child {
    Command::new(TROC)
        .args(["load", "--database-url", url, "--accounts", "20"])
        .args(["--submitters", "8", "--payments", &payments.to_string()])
        .args(["--prefix", prefix])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn troc load")
}

/// An acknowledged line: `ok KEY TX` or `rejected KEY CODE`.
#[derive(Debug)]
enum Ack {
    Posted(String, TxId),
    Rejected(String, String),
}

fn parse(line: &str) -> Ack {
    let parts: Vec<&str> = line.split(' ').collect();
    match parts.as_slice() {
        ["ok", key, tx] => Ack::Posted(key.to_string(), TxId(tx.parse().unwrap())),
        ["rejected", key, code] => Ack::Rejected(key.to_string(), code.to_string()),
        _ => panic!("unexpected line {line:?}"),
    }
}

/// Reads acknowledgements; after `kill_after` lines, kills the child with SIGKILL, then
/// keeps what was already written (complete lines only: a torn last line was never an
/// acknowledgement a client could have seen).
fn run_and_kill(mut child: Child, kill_after: Option<usize>) -> Vec<Ack> {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut acks = Vec::new();
    let mut killed = false;
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        if read == 0 {
            break;
        }
        if !line.ends_with('\n') {
            break;
        }
        acks.push(parse(line.trim_end()));
        if !killed && kill_after.is_some_and(|n| acks.len() >= n) {
            child.kill().expect("SIGKILL");
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    if kill_after.is_none() {
        assert!(status.success(), "troc load failed: {status}");
    }
    acks
}

async fn check(url: &str, acks: &[Ack]) {
    let store = Store::connect(url).await.expect("reopen after the crash");
    type Rows = (Vec<(String, String)>, Vec<(i64, String)>);
    let (decisions, transactions): Rows = web::dispatch!(store.backend(), pool => {
        (
            sqlx::query_as("SELECT key, result FROM idempotency")
                .fetch_all(pool).await.unwrap(),
            sqlx::query_as("SELECT id, idempotency_key FROM transactions")
                .fetch_all(pool).await.unwrap(),
        )
    });
    let decisions: HashMap<String, String> = decisions.into_iter().collect();
    let keys_by_tx: HashMap<i64, String> = transactions.into_iter().collect();
    for ack in acks {
        match ack {
            Ack::Posted(key, tx) => {
                let stored = keys_by_tx
                    .get(&(tx.0 as i64))
                    .unwrap_or_else(|| panic!("acknowledged {key} ({tx}) is missing"));
                assert_eq!(stored, key);
                assert!(decisions[key].starts_with("{\"Ok\""), "{key}");
            }
            Ack::Rejected(key, code) => {
                let decision = decisions
                    .get(key)
                    .unwrap_or_else(|| panic!("acknowledged rejection {key} is not recorded"));
                assert!(decision.starts_with("{\"Err\""), "{key}: {decision}");
                assert!(decision.contains(code.as_str()), "{key}: {decision}");
            }
        }
    }
    // Resubmitting under an acknowledged key answers from the recorded decision.
    if let Some(Ack::Rejected(key, _)) = acks.iter().find(|a| matches!(a, Ack::Rejected(..))) {
        let again = store
            .submit(web::store::Submission::new(
                IdempotencyKey::new(key.clone()).unwrap(),
                ledger::Operation::VoidHold {
                    hold: ledger::HoldId(1),
                },
            ))
            .await
            .unwrap();
        assert_eq!(again, Err(Rejection::IdempotencyConflict), "{key}");
    }
    // Exactly once, nothing half-applied: each transaction has one decision recording it,
    // and each accepted decision has its transaction.
    let (transactions, decided_ok, orphans): (i64, i64, i64) = web::dispatch!(store.backend(), pool => {
        (
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions").fetch_one(pool).await.unwrap(),
            sqlx::query_scalar("SELECT COUNT(*) FROM idempotency WHERE result LIKE '{\"Ok\"%'")
                .fetch_one(pool).await.unwrap(),
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM transactions t WHERE NOT EXISTS \
                 (SELECT 1 FROM idempotency i WHERE i.key = t.idempotency_key)",
            )
            .fetch_one(pool).await.unwrap(),
        )
    });
    assert_eq!(orphans, 0);
    assert_eq!(transactions, decided_ok);
    let posted: std::collections::HashSet<TxId> = acks
        .iter()
        .filter_map(|a| match a {
            Ack::Posted(_, tx) => Some(*tx),
            Ack::Rejected(..) => None,
        })
        .collect();
    assert!(transactions as usize >= posted.len());
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the invariants hold after the crash");
    store.close().await;
}

async fn killed_repeatedly(fresh: &Fresh) {
    let mut all = Vec::new();
    for (round, kill_after) in [40usize, 150, 7, 400].into_iter().enumerate() {
        let child = load(&fresh.url, &format!("crash{round}"), 100_000);
        let acks = tokio::task::spawn_blocking(move || run_and_kill(child, Some(kill_after)))
            .await
            .unwrap();
        assert!(acks.len() >= kill_after, "the load acknowledged operations");
        all.extend(acks);
        check(&fresh.url, &all).await;
    }
}

async fn two_processes(fresh: &Fresh) {
    let first = load(&fresh.url, "one", 60);
    // The second starts once the first has created the network (so both use its accounts).
    let mut first_reader = first;
    let stdout = first_reader.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let second = load(&fresh.url, "two", 60);
    let mut acks = vec![parse(line.trim_end())];
    let rest = tokio::task::spawn_blocking(move || {
        let mut acks = Vec::new();
        for line in reader.lines() {
            acks.push(parse(&line.unwrap()));
        }
        assert!(first_reader.wait().unwrap().success());
        acks
    });
    let theirs = tokio::task::spawn_blocking(move || run_and_kill(second, None));
    acks.extend(rest.await.unwrap());
    acks.extend(theirs.await.unwrap());
    assert_eq!(
        acks.len(),
        2 * 8 * 60,
        "every operation of both processes answered"
    );
    check(&fresh.url, &acks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_nothing_acknowledged_sqlite() {
    let fresh = Fresh::sqlite();
    killed_repeatedly(&fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_nothing_acknowledged_postgres() {
    let Some(fresh) = Fresh::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL crash test skipped");
        return;
    };
    killed_repeatedly(&fresh).await;
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_sqlite() {
    let fresh = Fresh::sqlite();
    two_processes(&fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_postgres() {
    let Some(fresh) = Fresh::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL two-process test skipped");
        return;
    };
    two_processes(&fresh).await;
    fresh.drop_database().await;
}
