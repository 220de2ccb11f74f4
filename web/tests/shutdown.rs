//! Graceful shutdown under load, with the real `troc serve` on both backends.
//!
//! Several clients log in and pay through the real forms (GET /pay, POST /pay) as fast as
//! they can; one more client has a payment in flight (its body half sent) when SIGTERM
//! arrives. Then: new connections are refused while the server drains, the payment in
//! flight completes and is acknowledged, the server exits with status 0 in bounded time,
//! and afterwards every payment a client saw acknowledged is in the ledger exactly once,
//! every decision has its transaction and vice versa, the invariants hold and `troc verify`
//! passes.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{form_body, members, troc, Browser, Fresh, PASSWORD};
use web::store::Store;

/// Clients paying in a loop.
const CLIENTS: u32 = 6;
/// Acknowledged payments before SIGTERM is sent.
const ACKS_BEFORE_SIGNAL: usize = 60;
/// Longest the server may take to exit after the payment in flight is answered.
const EXIT_WITHIN: Duration = Duration::from_secs(30);

/// A payment a client saw acknowledged: its idempotency key and the transaction the page
/// named.
#[derive(Debug, Clone)]
struct Ack {
    key: String,
    tx: i64,
}

/// The transaction number on the "payment made" page (`(n° 123)`).
fn acknowledged_tx(body: &str) -> Option<i64> {
    let start = body.find("(n° ")? + "(n° ".len();
    let end = body[start..].find(')')? + start;
    body[start..end].parse().ok()
}

/// Draws the payment form and fills it: (csrf, form token, body).
fn pay_form(browser: &mut Browser, payee: i64) -> std::io::Result<(String, String)> {
    let page = browser.get("/pay")?;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf").expect("csrf");
    let token = page.hidden("token").expect("form token");
    let payee = payee.to_string();
    let body = form_body(&[
        ("csrf", &csrf),
        ("token", &token),
        ("payee", &payee),
        ("amount", "1"),
        ("reference", "SHUTDOWN"),
        ("memo", "under load"),
    ]);
    Ok((token, body))
}

/// Pays in a loop until the server stops answering; returns what was acknowledged. Any
/// complete answer other than the success page fails the test: a draining server answers
/// requests in full or refuses the connection, nothing in between.
fn pay_until_refused(
    addr: SocketAddr,
    email: String,
    member: i64,
    payee: i64,
    acks: Arc<Mutex<Vec<Ack>>>,
) {
    let mut browser = Browser::new(addr);
    browser
        .login(&email, PASSWORD)
        .expect("login before the signal");
    loop {
        let Ok((token, body)) = pay_form(&mut browser, payee) else {
            return;
        };
        let reply = match browser.send("POST", "/pay", Some(&body)) {
            Ok(reply) => reply,
            // Refused or reset: the server stopped accepting; nothing was acknowledged.
            Err(_) => return,
        };
        assert_eq!(reply.status, 200, "{}", reply.body);
        let tx = acknowledged_tx(&reply.body)
            .unwrap_or_else(|| panic!("no transaction on the page: {}", reply.body));
        acks.lock().unwrap().push(Ack {
            key: format!("web-pay-{member}-{token}"),
            tx,
        });
    }
}

fn start_server(fresh: &Fresh, log: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = troc()
        .args([
            "serve",
            "--database-url",
            &fresh.url,
            "--addr",
            "127.0.0.1:0",
        ])
        .arg("--key-file")
        .arg(fresh.key_file())
        .args(["--rate-limit-login", "off", "--rate-limit-payments", "off"])
        .args(["--checkpoint-every", "20"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("troc serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("Troc is listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, url.parse().unwrap())
}

fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("troc serve did not exit within {within:?} of its last request");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Tries new connections until one is refused (the listener is closed).
fn wait_until_refused(addr: SocketAddr) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => return,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    panic!("the server still accepts connections 10 s after SIGTERM");
}

async fn shutdown_under_load(fresh: &Fresh) {
    let store = Store::connect(&fresh.url).await.unwrap();
    let members = members(&store, CLIENTS + 1, 100_000).await;
    store.close().await;
    let log = fresh.dir.path().join("serve.log");
    let (mut server, addr) = start_server(fresh, &log);

    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let mut clients = Vec::new();
    for i in 0..CLIENTS as usize {
        let (acks, member, payee) = (
            acks.clone(),
            members[i].id,
            members[(i + 1) % CLIENTS as usize].id,
        );
        clients.push(std::thread::spawn(move || {
            pay_until_refused(addr, format!("owner{i}@troc.test"), member, payee, acks)
        }));
    }
    // One more client prepares a payment and sends half of it.
    let slow_member = members[CLIENTS as usize].id;
    let mut slow = Browser::new(addr);
    slow.login(&format!("owner{CLIENTS}@troc.test"), PASSWORD)
        .unwrap();
    let (slow_token, slow_body) = pay_form(&mut slow, members[0].id).unwrap();
    let started = Instant::now();
    while acks.lock().unwrap().len() < ACKS_BEFORE_SIGNAL {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the load did not get going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let bytes = slow.request_bytes("POST", "/pay", Some(&slow_body));
    let (first, rest) = bytes.split_at(bytes.len() - 20);
    let mut in_flight = slow.connect().unwrap();
    in_flight.write_all(first).unwrap();
    in_flight.flush().unwrap();
    // Let the server take the request in (it now waits for the rest of the body).
    std::thread::sleep(Duration::from_millis(300));
    let acked_before_signal = acks.lock().unwrap().len();

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_until_refused(addr);
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server waits for the request in flight"
    );
    // The rest of the body: the payment in flight is decided, committed and answered.
    in_flight.write_all(rest).unwrap();
    let reply = slow.finish(in_flight).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tx = acknowledged_tx(&reply.body).expect("the payment in flight is acknowledged");
    acks.lock().unwrap().push(Ack {
        key: format!("web-pay-{slow_member}-{slow_token}"),
        tx,
    });
    let status = wait_for_exit(&mut server, EXIT_WITHIN);
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "troc serve exited with {status}:\n{log_text}"
    );
    for client in clients {
        client.join().expect("a client failed");
    }
    for line in ["shutting down", "stopped serving", "stopped"] {
        assert!(log_text.contains(line), "{line:?} not logged:\n{log_text}");
    }
    let acks = acks.lock().unwrap().clone();
    assert!(acks.len() > acked_before_signal, "{acks:?}");
    eprintln!(
        "{} payments acknowledged, {acked_before_signal} of them before SIGTERM",
        acks.len()
    );
    check_acknowledged(fresh, &acks).await;
}

/// Every acknowledged payment is there once, under its key, with the transaction the page
/// named; every decision has its transaction and vice versa; invariants and `troc verify`.
async fn check_acknowledged(fresh: &Fresh, acks: &[Ack]) {
    let store = Store::connect(&fresh.url).await.unwrap();
    let keys: HashSet<&str> = acks.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys.len(),
        acks.len(),
        "every acknowledgement has its own key"
    );
    for ack in acks {
        let found: Vec<i64> = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT id FROM transactions WHERE idempotency_key = $1")
                .bind(&ack.key)
                .fetch_all(pool)
                .await
                .unwrap()
        });
        assert_eq!(found, vec![ack.tx], "{ack:?}");
    }
    let (transactions, decided_ok, orphans, payments): (i64, i64, i64, i64) = web::dispatch!(store.backend(), pool => {
        (
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions")
                .fetch_one(pool).await.unwrap(),
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM idempotency WHERE result LIKE '{\"Ok\"%'",
            )
            .fetch_one(pool).await.unwrap(),
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM transactions t WHERE NOT EXISTS \
                 (SELECT 1 FROM idempotency i WHERE i.key = t.idempotency_key)",
            )
            .fetch_one(pool).await.unwrap(),
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE kind = 'payment'")
                .fetch_one(pool).await.unwrap(),
        )
    });
    assert_eq!(orphans, 0);
    assert_eq!(transactions, decided_ok);
    // Only the clients' payments were made; some may have committed after their client
    // gave up on the answer, none is missing.
    assert!(payments as usize >= acks.len());
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the invariants hold after the shutdown");
    store.close().await;
    let verify = troc()
        .args(["verify", "--database-url", &fresh.url])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "troc verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_acknowledged_payment_sqlite() {
    let fresh = Fresh::sqlite();
    shutdown_under_load(&fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_acknowledged_payment_postgres() {
    let Some(fresh) = Fresh::postgres("shutdown").await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL shutdown test skipped");
        return;
    };
    shutdown_under_load(&fresh).await;
    fresh.drop_database().await;
}

/// The real server records each connection's peer, so the per-IP limits apply (a server
/// built without it would let every request through).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_server_limits_logins_per_address() {
    let fresh = Fresh::sqlite();
    let store = Store::connect(&fresh.url).await.unwrap();
    members(&store, 1, 10).await;
    store.close().await;
    let log = fresh.dir.path().join("serve.log");
    let mut child = troc()
        .args([
            "serve",
            "--database-url",
            &fresh.url,
            "--addr",
            "127.0.0.1:0",
        ])
        .arg("--key-file")
        .arg(fresh.key_file())
        .args(["--rate-limit-login", "2/1m"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("Troc is listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    let mut browser = Browser::new(addr);
    let page = browser.get("/login").unwrap();
    let csrf = page.hidden("csrf").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let reply = browser
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", "x@troc.test"),
                    ("password", "wrong one!"),
                ],
            )
            .unwrap();
        statuses.push(reply.status);
        if reply.status == 429 {
            assert!(reply.header("retry-after").is_some(), "{reply:?}");
        }
    }
    assert_eq!(statuses, vec![401, 401, 429]);
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut child, EXIT_WITHIN).success());
}
