//! Helpers for the tests that run the real `troc` binary: a fresh database on either
//! backend, a seeded network with members who can log in, and a tiny blocking HTTP/1.1
//! client (one connection per request, `Connection: close`) that keeps the session cookie.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use ledger::{Amount, Policy};
use web::people::{self, Member, Profile, Role};
use web::store::Store;

pub const TROC: &str = env!("CARGO_BIN_EXE_troc");
pub const PASSWORD: &str = "correct horse battery";

/// The `troc` binary with no `TROC_*` setting inherited from the environment.
pub fn troc() -> Command {
    let mut command = Command::new(TROC);
    for (name, _) in std::env::vars() {
        if name.starts_with("TROC_") {
            command.env_remove(name);
        }
    }
    command
}

/// A fresh database URL; `drop_database` removes a PostgreSQL one (SQLite's directory goes
/// with the value).
pub struct Fresh {
    pub url: String,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Fresh {
    pub fn sqlite() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("troc.db").display());
        Fresh {
            url,
            dir,
            postgres: None,
        }
    }

    /// `None` when `TROC_TEST_POSTGRES_URL` is not set.
    pub async fn postgres(tag: &str) -> Option<Fresh> {
        let server = std::env::var("TROC_TEST_POSTGRES_URL").ok()?;
        let name = format!(
            "troc_{tag}_{}_{}",
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
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((server, name)),
        })
    }

    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("network-key.ed25519")
    }

    pub async fn drop_database(&self) {
        if let Some((server, name)) = &self.postgres {
            let admin = sqlx::PgPool::connect(server).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin)
                .await;
            admin.close().await;
        }
    }
}

/// A SIREN that passes the Luhn check, distinct per `n` (< 1 000).
pub fn siren(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .unwrap()
}

/// A network of `count` member companies (limit `limit_units` each), whose owners log in as
/// `owner{i}@troc.test` with [`PASSWORD`].
pub async fn members(store: &Store, count: u32, limit_units: i64) -> Vec<Member> {
    store
        .create_network("Réseau de test", Policy::default())
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..count {
        let profile = Profile {
            name: format!("Entreprise {i}"),
            siren: siren(i),
            address: "1 rue de la Paix".into(),
            city: "Lyon".into(),
            postcode: "69001".into(),
            sector: "services".into(),
            description: String::new(),
            contact: format!("contact{i}@troc.test"),
        };
        let member =
            people::create_member_with_account(store, &profile, Amount::from_units(limit_units))
                .await
                .unwrap();
        people::create_user(
            store,
            &format!("owner{i}@troc.test"),
            PASSWORD,
            &profile.name,
            Role::Owner,
            Some(member.id),
        )
        .await
        .unwrap()
        .unwrap();
        members.push(member);
    }
    members
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
}

/// Parses a whole HTTP/1.1 response (the connection was closed after it).
pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        return Err(bad("chunked replies are not expected"));
    }
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// A browser: one connection per request, the session cookie kept.
pub struct Browser {
    pub addr: SocketAddr,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Browser {
        Browser { addr, cookie: None }
    }

    /// The request's bytes: `Connection: close`, the cookie, a form body if any.
    pub fn request_bytes(&self, method: &str, path: &str, form: Option<&str>) -> Vec<u8> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: troc_session={cookie}\r\n"));
        }
        let body = form.unwrap_or("");
        if form.is_some() {
            head.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }

    pub fn connect(&self) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(stream)
    }

    /// Reads the reply on `stream` and keeps the session cookie it sets.
    pub fn finish(&mut self, mut stream: TcpStream) -> std::io::Result<Reply> {
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let reply = parse_reply(&raw)?;
        for (name, value) in &reply.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                if let Some(rest) = value.strip_prefix("troc_session=") {
                    let token = rest.split(';').next().unwrap_or("");
                    self.cookie = (!token.is_empty()).then(|| token.to_owned());
                }
            }
        }
        Ok(reply)
    }

    pub fn send(&mut self, method: &str, path: &str, form: Option<&str>) -> std::io::Result<Reply> {
        let mut stream = self.connect()?;
        stream.write_all(&self.request_bytes(method, path, form))?;
        self.finish(stream)
    }

    pub fn get(&mut self, path: &str) -> std::io::Result<Reply> {
        self.send("GET", path, None)
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> std::io::Result<Reply> {
        let body = form_body(fields);
        self.send("POST", path, Some(&body))
    }

    /// Logs in through the login form.
    pub fn login(&mut self, email: &str, password: &str) -> std::io::Result<()> {
        let page = self.get("/login")?;
        let csrf = page
            .hidden("csrf")
            .expect("the login form carries a CSRF token");
        let reply = self.post(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )?;
        assert_eq!(reply.status, 303, "login of {email} failed: {}", reply.body);
        Ok(())
    }
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}
