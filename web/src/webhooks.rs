//! Webhooks: a member company's own server hears of every transaction on its account (a
//! payment received or sent, a fee, a refund, a capture, a write-off...) without polling.
//!
//! The owner registers up to [`WEBHOOKS_PER_MEMBER_MAX`] URLs (`create`); the server then
//! posts the account's transactions to each, oldest first, at least once, in JSON bodies of
//! at most [`EVENTS_PER_DELIVERY_MAX`] events, each signed with the network's Ed25519 key
//! (the key `/audit/checkpoints.json` publishes), so that the receiver can tell a real
//! delivery from a forged one without sharing a secret with Troc.
//!
//! How: [`run_round`] first queues (`feed`): it reads the ledger after `webhook_tail.seq`, in
//! commit order, and puts each transaction touching an active webhook's account in
//! `webhook_events`, then moves the tail, in one database transaction (two processes on one
//! database: the tail's compare-and-set lets one of them do it). Then it delivers: each
//! webhook with events waiting and due is claimed for [`CLAIM_SECONDS`], gets one POST of its
//! oldest events, and on a 2xx answer they leave the queue; on anything else the webhook
//! waits longer each time ([`BACKOFF`]) and after [`FAILURES_MAX`] failures in a row it is
//! disabled: nothing is queued for it until the owner enables it again, when what waited
//! is sent first. Every attempt is recorded (the last [`DELIVERIES_KEPT`] per webhook) for
//! the owner to read.
//!
//! It does *not* follow redirects, read the receiver's answer body, or send anything but
//! transactions. With [`Targets::Public`] (the default) it posts only over HTTPS to public
//! addresses: a URL naming a private, loopback or link-local address is refused when
//! registered, and a name resolving to one is refused at each delivery (a member cannot make
//! the server probe the operator's own network).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use futures_util::StreamExt;
use serde::Serialize;
use sqlx::Row;

use crate::console::{Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::{Member, User};
use crate::retry::Backoff;
use crate::store::{Store, StoreError, StoreResult};

/// Webhooks a member company may have.
pub const WEBHOOKS_PER_MEMBER_MAX: i64 = 5;
/// Longest URL.
pub const URL_LEN_MAX: usize = 500;
/// Events in one POST.
pub const EVENTS_PER_DELIVERY_MAX: i64 = 100;
/// POSTs to one webhook in one round (while each carries a full load): 5 000 events a
/// round at most.
pub const POSTS_PER_ROUND_MAX: usize = 50;
/// Webhooks delivered to in one round (the others wait for the next round).
pub const WEBHOOKS_PER_ROUND_MAX: i64 = 50;
/// Deliveries under way at once in a round.
pub const DELIVERIES_AT_ONCE_MAX: usize = 8;
/// Ledger transactions read at once while queuing.
pub const TAIL_READ_MAX: i64 = 1_000;
/// Reads of the ledger in one round (10 000 transactions a round at most).
pub const FEEDS_PER_ROUND_MAX: usize = 10;
/// Failed deliveries in a row before a webhook is disabled (about seven hours of retries).
pub const FAILURES_MAX: i64 = 16;
/// The longest wait between two attempts.
pub const BACKOFF_MAX_SECONDS: i64 = 3_600;
/// How long a process holds a webhook it delivers to (longer than a delivery may take).
pub const CLAIM_SECONDS: i64 = 60;
/// Attempts kept per webhook for its owner to read.
pub const DELIVERIES_KEPT: i64 = 20;
/// How long a receiver may take to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server runs a round.
pub const ROUND_INTERVAL_DEFAULT: Duration = Duration::from_secs(1);
/// Longest error text kept with an attempt.
pub const ERROR_LEN_MAX: usize = 300;

/// Where webhooks may point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Targets {
    /// HTTPS to public internet addresses only (the default).
    #[default]
    Public,
    /// Any `http` or `https` URL, private and loopback addresses included: for a network
    /// whose members' servers sit on the operator's own network, and for tests.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Too many failures in a row: nothing is sent until the owner enables it again.
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }
}

/// A registered webhook and where its deliveries stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub member_id: i64,
    pub url: String,
    pub status: Status,
    /// The email of the owner who registered it, as it was then.
    pub created_by: String,
    pub created_at: i64,
    /// Failed deliveries in a row.
    pub failures: i64,
    /// The next attempt, when one waits for its backoff.
    pub next_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub disabled_at: Option<i64>,
    /// Events queued and not yet delivered.
    pub waiting: i64,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub attempted_at: i64,
    pub events: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// The receiver's status; `None`: no answer.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

fn now_unix() -> i64 {
    Utc::now().timestamp()
}

const COLUMNS: &str = "w.id, w.member_id, w.url, w.status, w.created_by, w.created_at, \
    w.failures, w.next_attempt_at, w.last_success_at, w.disabled_at, \
    (SELECT COUNT(*) FROM webhook_events e WHERE e.webhook_id = w.id)";

fn from_row<R>(row: &R) -> Result<Webhook, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(3)?;
    let status = match status.as_str() {
        "active" => Status::Active,
        "disabled" => Status::Disabled,
        other => {
            return Err(sqlx::Error::ColumnDecode {
                index: "status".into(),
                source: format!("unknown webhook status {other:?}").into(),
            })
        }
    };
    Ok(Webhook {
        id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        url: row.try_get(2)?,
        status,
        created_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
        failures: row.try_get(6)?,
        next_attempt_at: row.try_get(7)?,
        last_success_at: row.try_get(8)?,
        disabled_at: row.try_get(9)?,
        waiting: row.try_get(10)?,
    })
}

/// The member's webhooks, oldest first.
pub async fn list(store: &Store, member_id: i64) -> ConsoleResult<Vec<Webhook>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks w WHERE w.member_id = $1 ORDER BY w.id LIMIT {}",
        WEBHOOKS_PER_MEMBER_MAX
    );
    let hooks = dispatch!(store.backend(), pool => {
        sqlx::query(&sql).bind(member_id).fetch_all(pool).await?
            .iter().map(from_row).collect::<Result<Vec<_>, _>>()?
    });
    Ok(hooks)
}

/// The member's webhook `id`; another member's, or none: `NotFound`.
pub async fn get(store: &Store, member_id: i64, id: i64) -> ConsoleResult<Webhook> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks w WHERE w.id = $1 AND w.member_id = $2");
    let found = dispatch!(store.backend(), pool => {
        sqlx::query(&sql).bind(id).bind(member_id).fetch_optional(pool).await?
            .as_ref().map(from_row).transpose()?
    });
    found.ok_or(ConsoleError::NotFound)
}

/// The last `max` attempts to deliver to `hook` (at most [`DELIVERIES_KEPT`] are kept),
/// newest first. The caller read `hook` as its member's (`get`, `list`).
pub async fn deliveries(store: &Store, hook: &Webhook, max: i64) -> ConsoleResult<Vec<Delivery>> {
    let sql = "SELECT attempted_at, events, first_seq, last_seq, status_code, error, \
               duration_ms FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2";
    let rows = dispatch!(store.backend(), pool => {
        sqlx::query(sql).bind(hook.id).bind(max.clamp(0, DELIVERIES_KEPT)).fetch_all(pool).await?
            .iter()
            .map(|row| -> Result<Delivery, sqlx::Error> {
                let events: i64 = row.try_get(1)?;
                let status_code: Option<i64> = row.try_get(4)?;
                Ok(Delivery {
                    attempted_at: row.try_get(0)?,
                    events,
                    first_seq: row.try_get(2)?,
                    last_seq: row.try_get(3)?,
                    status_code,
                    error: row.try_get(5)?,
                    duration_ms: row.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    });
    Ok(rows)
}

/// Why a URL cannot be a webhook.
fn url_problem(text: &str, targets: Targets) -> Option<Problem> {
    if text.is_empty() {
        return Some(Problem::Required);
    }
    if text.chars().count() > URL_LEN_MAX {
        return Some(Problem::TooLong { max: URL_LEN_MAX });
    }
    let Ok(url) = reqwest::Url::parse(text) else {
        return Some(Problem::InvalidUrl);
    };
    let scheme_ok = match targets {
        Targets::Public => url.scheme() == "https",
        Targets::Any => matches!(url.scheme(), "https" | "http"),
    };
    if !scheme_ok
        || url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Some(Problem::InvalidUrl);
    }
    if targets == Targets::Public {
        let private = match url.host() {
            Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
            None => true,
        };
        if private {
            return Some(Problem::PrivateAddress);
        }
    }
    None
}

/// An address on the public internet: not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, broadcast or unspecified; IPv6 likewise
/// (unique-local, link-local, and an IPv4 address mapped into IPv6 judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

/// The owner registers a webhook at `url` (trimmed): up to [`WEBHOOKS_PER_MEMBER_MAX`] per
/// company. It hears of the transactions committed from now on. Staff and the member
/// accountant: `Forbidden`.
pub async fn create(
    store: &Store,
    user: &User,
    member: &Member,
    url: &str,
    targets: Targets,
) -> ConsoleResult<Webhook> {
    crate::console::require_owner(user, member)?;
    let url = url.trim();
    let mut issues = Issues::default();
    if let Some(problem) = url_problem(url, targets) {
        issues.add(Field::Url, problem);
    }
    issues.finish()?;
    // The count and the insert in one statement, under the write lock (SQLite) or the
    // member's row lock (PostgreSQL): two requests at once cannot make a sixth.
    let lock_sql = match store.kind() {
        crate::store::BackendKind::Postgres => {
            Some("SELECT id FROM members WHERE id = $1 FOR UPDATE")
        }
        crate::store::BackendKind::Sqlite => None,
    };
    let inserted: Option<i64> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(store.begin_write_sql()).await?;
        if let Some(lock) = lock_sql {
            sqlx::query(lock).bind(member.id).execute(&mut *tx).await?;
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO webhooks (member_id, url, status, created_by, created_at, after_seq) \
             SELECT $1, $2, 'active', $3, $4, (SELECT seq FROM ledger_head WHERE id = 1) \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE member_id = $1) < $5 \
             RETURNING id")
            .bind(member.id).bind(url).bind(&user.email).bind(now_unix())
            .bind(WEBHOOKS_PER_MEMBER_MAX)
            .fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        id
    });
    let id = inserted.ok_or(ConsoleError::Conflict(Conflict::TooManyWebhooks))?;
    get(store, member.id, id).await
}

/// The owner removes a webhook, its queue and its record of attempts; the webhook as it was.
pub async fn delete(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<Webhook> {
    crate::console::require_owner(user, member)?;
    let removed = get(store, member.id, id).await?;
    let lock_sql = match store.kind() {
        crate::store::BackendKind::Postgres => {
            Some("SELECT id FROM webhooks WHERE id = $1 FOR UPDATE")
        }
        crate::store::BackendKind::Sqlite => None,
    };
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(store.begin_write_sql()).await?;
        // PostgreSQL: hold the row first, so that a round queuing an event for it waits
        // (SQLite's write lock already keeps them apart).
        if let Some(lock) = lock_sql {
            sqlx::query(lock).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM webhook_events WHERE webhook_id = $1")
            .bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1 AND member_id = $2")
            .bind(id).bind(member.id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(removed)
}

/// The owner enables a disabled webhook again: it is tried at once with the events that
/// waited when it was disabled, then hears of the transactions committed from now on (those
/// of the time it was disabled are read from the account's history). An active one stays as
/// it is.
pub async fn enable(
    store: &Store,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<Webhook> {
    crate::console::require_owner(user, member)?;
    get(store, member.id, id).await?;
    dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE webhooks SET status = 'active', failures = 0, next_attempt_at = NULL, \
             disabled_at = NULL, after_seq = (SELECT seq FROM ledger_head WHERE id = 1) \
             WHERE id = $1 AND member_id = $2 AND status = 'disabled'")
            .bind(id).bind(member.id).execute(pool).await?;
    });
    get(store, member.id, id).await
}

/// The wait after failed deliveries in a row: 10 s, doubling, at most an hour.
pub const BACKOFF: Backoff = Backoff::new(10, BACKOFF_MAX_SECONDS);

/// What the server needs to deliver: an HTTP client that refuses what `targets` forbids,
/// and the network key that signs.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    key: Arc<SigningKey>,
    targets: Targets,
    interval: Duration,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("targets", &self.targets)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Resolves names as the system does, then keeps only public addresses: a name that
/// resolves to none is an error, so a delivery never reaches a private address.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

impl Sender {
    pub fn new(key: SigningKey, targets: Targets) -> Result<Sender, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("Troc-Webhooks/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if targets == Targets::Public {
            builder = builder
                .https_only(true)
                .dns_resolver(Arc::new(PublicResolver));
        }
        Ok(Sender {
            client: builder.build()?,
            key: Arc::new(key),
            targets,
            interval: ROUND_INTERVAL_DEFAULT,
        })
    }

    /// The same sender running a round every `interval`.
    pub fn with_interval(mut self, interval: Duration) -> Sender {
        self.interval = interval;
        self
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The hex public key receivers check signatures with.
    pub fn public_key(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// The `Troc-Signature` header of `body` sent at `timestamp`: `t=<unix seconds>,
    /// ed25519=<hex signature of "<t>.<body>">`.
    pub fn signature(&self, timestamp: i64, body: &[u8]) -> String {
        let mut signed = Vec::with_capacity(body.len() + 21);
        signed.extend_from_slice(timestamp.to_string().as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        let signature = self.key.sign(&signed);
        format!(
            "t={timestamp},ed25519={}",
            hex::encode(signature.to_bytes())
        )
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events put in the queues.
    pub queued: u64,
    /// POSTs answered 2xx, and the events they carried.
    pub delivered: u64,
    pub events_delivered: u64,
    /// POSTs that failed.
    pub failed: u64,
}

/// One round: queue what the ledger committed since the last round, then deliver to each
/// webhook due (at most [`WEBHOOKS_PER_ROUND_MAX`], [`DELIVERIES_AT_ONCE_MAX`] at once).
pub async fn run_round(store: &Store, sender: &Sender) -> StoreResult<Round> {
    let mut round = Round::default();
    for _ in 0..FEEDS_PER_ROUND_MAX {
        let (queued, caught_up) = feed(store).await?;
        round.queued += queued;
        if caught_up {
            break;
        }
    }
    let now = now_unix();
    let due: Vec<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT w.id FROM webhooks w WHERE w.status = 'active' \
             AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= $1) \
             AND EXISTS (SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id) \
             ORDER BY w.next_attempt_at, w.id LIMIT $2")
            .bind(now).bind(WEBHOOKS_PER_ROUND_MAX).fetch_all(pool).await?
    });
    let outcomes: Vec<StoreResult<Round>> = futures_util::stream::iter(due)
        .map(|id| drain(store, sender, id, now))
        .buffer_unordered(DELIVERIES_AT_ONCE_MAX)
        .collect()
        .await;
    for outcome in outcomes {
        let one = outcome?;
        round.delivered += one.delivered;
        round.events_delivered += one.events_delivered;
        round.failed += one.failed;
    }
    Ok(round)
}

/// Delivers to webhook `id` until its queue is empty, a POST fails, or it has had
/// [`POSTS_PER_ROUND_MAX`] POSTs in this round (a backlog after an outage goes out at up
/// to 5 000 events a round, without holding the round for one webhook for ever).
async fn drain(store: &Store, sender: &Sender, id: i64, now: i64) -> StoreResult<Round> {
    let mut round = Round::default();
    for _ in 0..POSTS_PER_ROUND_MAX {
        match deliver(store, sender, id, now).await? {
            Some((true, events)) => {
                round.delivered += 1;
                round.events_delivered += events;
                if events < EVENTS_PER_DELIVERY_MAX as u64 {
                    break;
                }
            }
            Some((false, _)) => {
                round.failed += 1;
                break;
            }
            None => break,
        }
    }
    Ok(round)
}

/// The active webhooks: id, account, and the ledger's head when each was registered.
const ACTIVE_HOOKS: &str = "SELECT w.id, m.account_id, w.after_seq FROM webhooks w \
    JOIN members m ON m.id = w.member_id WHERE w.status = 'active'";
const TAIL: &str = "SELECT seq FROM webhook_tail WHERE id = 1";
const HEAD: &str = "SELECT seq FROM ledger_head WHERE id = 1";

/// Queues the transactions committed after the tail for the active webhooks of the
/// accounts they touch, and moves the tail, in one database transaction. Returns the events
/// queued (0 when another process moved the tail first), and whether the tail reached the
/// ledger's head (nothing more to read now).
///
/// Plain reads decide first whether there is anything to do: with no active webhook, or
/// nothing committed since, it takes no write lock (on SQLite the write lock is the
/// group-commit writer's too). Nothing is read from before the oldest active webhook was
/// registered, so the tail catches up at once after a time without webhooks.
async fn feed(store: &Store) -> StoreResult<(u64, bool)> {
    let (hooks, tail, head): (Vec<(i64, i64, i64)>, i64, i64) = dispatch!(store.backend(), pool => {
        (
            sqlx::query_as(ACTIVE_HOOKS).fetch_all(pool).await?,
            sqlx::query_scalar(TAIL).fetch_one(pool).await?,
            sqlx::query_scalar(HEAD).fetch_one(pool).await?,
        )
    });
    let Some(floor) = hooks.iter().map(|(_, _, after)| *after).min() else {
        return Ok((0, true));
    };
    if head <= tail.max(floor) {
        return Ok((0, true));
    }
    let queued = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(store.begin_write_sql()).await?;
        // Read again under the write transaction: another process may have moved the
        // tail, an owner removed or registered a webhook.
        let tail: i64 = sqlx::query_scalar(TAIL).fetch_one(&mut *tx).await?;
        let head: i64 = sqlx::query_scalar(HEAD).fetch_one(&mut *tx).await?;
        let hooks: Vec<(i64, i64, i64)> =
            sqlx::query_as(ACTIVE_HOOKS).fetch_all(&mut *tx).await?;
        let floor = hooks.iter().map(|(_, _, after)| *after).min().unwrap_or(head);
        let start = tail.max(floor).min(head);
        let upto = head.min(start + TAIL_READ_MAX);
        let mut events: Vec<(i64, i64, i64)> = Vec::new();
        if upto > start {
            let touched: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT t.seq, t.id, p.account_id FROM transactions t \
                 JOIN postings p ON p.tx_id = t.id WHERE t.seq > $1 AND t.seq <= $2 \
                 ORDER BY t.seq")
                .bind(start).bind(upto).fetch_all(&mut *tx).await?;
            for (seq, tx_id, account) in touched {
                for (hook, _, _) in hooks
                    .iter()
                    .filter(|(_, a, after)| *a == account && seq > *after)
                {
                    events.push((*hook, seq, tx_id));
                }
            }
            events.sort_unstable();
            events.dedup();
            for (hook, seq, tx_id) in &events {
                sqlx::query(
                    "INSERT INTO webhook_events (webhook_id, seq, tx_id) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING")
                    .bind(hook).bind(seq).bind(tx_id).execute(&mut *tx).await?;
            }
        }
        let moved = sqlx::query("UPDATE webhook_tail SET seq = $1 WHERE id = 1 AND seq = $2")
            .bind(upto.max(tail)).bind(tail).execute(&mut *tx).await?.rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok((0, true));
        }
        tx.commit().await?;
        (events.len() as u64, upto >= head)
    });
    Ok(queued)
}

/// The body of a delivery.
#[derive(Debug, Serialize)]
pub struct DeliveryBody {
    pub webhook_id: i64,
    pub account_id: i64,
    pub sent_at: String,
    /// Oldest first.
    pub events: Vec<Event>,
}

/// One transaction on the account.
#[derive(Debug, Serialize)]
pub struct Event {
    /// The transaction's place in the ledger (`transactions.seq`): it grows with every
    /// transaction; a receiver that has seen it may drop the event (delivery is at least
    /// once).
    pub id: i64,
    /// `transaction`, or `ping` for the owner's test (`id` 0, no transaction).
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<crate::http::api::accounts::TransactionItem>,
}

/// Claims webhook `id` and posts its oldest events. `None`: another process holds it or
/// its queue emptied; otherwise whether the receiver took them, and how many.
async fn deliver(
    store: &Store,
    sender: &Sender,
    id: i64,
    now: i64,
) -> StoreResult<Option<(bool, u64)>> {
    let claimed = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE webhooks SET next_attempt_at = $1 WHERE id = $2 AND status = 'active' \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $3)")
            .bind(now + CLAIM_SECONDS).bind(id).bind(now).execute(pool).await?.rows_affected()
    });
    if claimed != 1 {
        return Ok(None);
    }
    let (url, account, failures): (String, i64, i64) = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT w.url, m.account_id, w.failures FROM webhooks w \
             JOIN members m ON m.id = w.member_id WHERE w.id = $1")
            .bind(id).fetch_one(pool).await?
    });
    let queued: Vec<(i64, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT seq, tx_id FROM webhook_events WHERE webhook_id = $1 ORDER BY seq LIMIT $2")
            .bind(id).bind(EVENTS_PER_DELIVERY_MAX).fetch_all(pool).await?
    });
    let (Some(first), Some(last)) = (queued.first().copied(), queued.last().copied()) else {
        release(store, id).await?;
        return Ok(None);
    };
    let me = ledger::AccountId(crate::store::unsigned_id(account)?);
    let ids: Vec<ledger::TxId> = queued
        .iter()
        .map(|(_, tx)| crate::store::unsigned_id(*tx).map(ledger::TxId))
        .collect::<StoreResult<_>>()?;
    let items = crate::http::api::accounts::items_of_transactions(store, me, &ids)
        .await
        .map_err(|error| StoreError::Invalid(format!("webhook {id}: {error}")))?;
    let sent_at = Utc::now();
    let body = DeliveryBody {
        webhook_id: id,
        account_id: account,
        sent_at: crate::http::api::types::time(sent_at),
        events: queued
            .iter()
            .zip(items)
            .map(|((seq, _), transaction)| Event {
                id: *seq,
                kind: "transaction",
                transaction: Some(transaction),
            })
            .collect(),
    };
    let events = body.events.len() as u64;
    let Attempt {
        status_code,
        error,
        duration_ms,
    } = post(sender, &url, id, &body, sent_at).await?;
    let success = status_code.is_some_and(|s| (200..300).contains(&s));
    let done = now_unix();
    let failures_now = if success { 0 } else { failures + 1 };
    let disable = !success && failures_now >= FAILURES_MAX;
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(store.begin_write_sql()).await?;
        if success {
            sqlx::query("DELETE FROM webhook_events WHERE webhook_id = $1 AND seq <= $2")
                .bind(id).bind(last.0).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE webhooks SET failures = 0, next_attempt_at = NULL, last_success_at = $1 \
                 WHERE id = $2")
                .bind(done).bind(id).execute(&mut *tx).await?;
        } else if disable {
            sqlx::query(
                "UPDATE webhooks SET failures = $1, next_attempt_at = NULL, \
                 status = 'disabled', disabled_at = $2 WHERE id = $3")
                .bind(failures_now).bind(done).bind(id).execute(&mut *tx).await?;
        } else {
            sqlx::query("UPDATE webhooks SET failures = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(failures_now).bind(done + BACKOFF.after(failures_now)).bind(id)
                .execute(&mut *tx).await?;
        }
        sqlx::query(RECORD_ATTEMPT)
            .bind(id).bind(now).bind(events as i64).bind(first.0).bind(last.0)
            .bind(status_code).bind(error.as_deref()).bind(duration_ms)
            .execute(&mut *tx).await?;
        sqlx::query(KEEP_LAST_ATTEMPTS).bind(id).bind(DELIVERIES_KEPT).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    crate::metrics::global().record_webhook_post(success, events);
    if disable {
        tracing::warn!(
            webhook = id,
            "webhook disabled after {FAILURES_MAX} failed deliveries"
        );
    }
    Ok(Some((success, events)))
}

const RECORD_ATTEMPT: &str = "INSERT INTO webhook_deliveries (webhook_id, attempted_at, \
    events, first_seq, last_seq, status_code, error, duration_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Keeps a webhook's last attempts only.
const KEEP_LAST_ATTEMPTS: &str = "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND \
    id NOT IN (SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2)";

/// What one POST came to.
struct Attempt {
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
}

/// Posts `body` to webhook `id` at `url`, signed; refused without connecting when the URL
/// is not one `sender` may reach.
async fn post(
    sender: &Sender,
    url: &str,
    id: i64,
    body: &DeliveryBody,
    sent_at: DateTime<Utc>,
) -> StoreResult<Attempt> {
    let bytes = serde_json::to_vec(body)
        .map_err(|error| StoreError::Invalid(format!("webhook body: {error}")))?;
    let started = Instant::now();
    // A URL registered while any target was allowed is checked again: an address written
    // as an IP never goes through the resolver that keeps private addresses out.
    let answer = if url_problem(url, sender.targets).is_some() {
        None
    } else {
        Some(
            sender
                .client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(
                    "Troc-Signature",
                    sender.signature(sent_at.timestamp(), &bytes),
                )
                .header("Troc-Key", sender.public_key())
                .header("Troc-Webhook", id.to_string())
                .body(bytes)
                .send()
                .await,
        )
    };
    let duration_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
    let (status_code, error) = match answer {
        Some(Ok(answer)) => {
            let status = answer.status();
            let error = (!status.is_success()).then(|| format!("HTTP {}", status.as_u16()));
            (Some(i64::from(status.as_u16())), error)
        }
        Some(Err(error)) => (None, Some(describe(&error))),
        None => (
            None,
            Some("address refused: not an https address of a public server".to_owned()),
        ),
    };
    Ok(Attempt {
        status_code,
        error,
        duration_ms,
    })
}

/// The owner's test of webhook `id` (active or disabled): one POST at once, signed like a
/// delivery, of a single event `{"id": 0, "type": "ping"}`. The attempt is recorded with
/// the others; the queue, the failures and the next attempt are left as they are.
pub async fn ping(
    store: &Store,
    sender: &Sender,
    user: &User,
    member: &Member,
    id: i64,
) -> ConsoleResult<Delivery> {
    crate::console::require_owner(user, member)?;
    let hook = get(store, member.id, id).await?;
    let sent_at = Utc::now();
    let body = DeliveryBody {
        webhook_id: id,
        account_id: member.account_id,
        sent_at: crate::http::api::types::time(sent_at),
        events: vec![Event {
            id: 0,
            kind: "ping",
            transaction: None,
        }],
    };
    let attempt = post(sender, &hook.url, id, &body, sent_at).await?;
    let delivery = Delivery {
        attempted_at: sent_at.timestamp(),
        events: 1,
        first_seq: 0,
        last_seq: 0,
        status_code: attempt.status_code,
        error: attempt.error,
        duration_ms: attempt.duration_ms,
    };
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(store.begin_write_sql()).await?;
        sqlx::query(RECORD_ATTEMPT)
            .bind(id).bind(delivery.attempted_at).bind(1_i64).bind(0_i64).bind(0_i64)
            .bind(delivery.status_code).bind(delivery.error.as_deref())
            .bind(delivery.duration_ms)
            .execute(&mut *tx).await?;
        sqlx::query(KEEP_LAST_ATTEMPTS).bind(id).bind(DELIVERIES_KEPT).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(delivery)
}

/// Gives a claimed webhook back at once (its queue was empty).
async fn release(store: &Store, id: i64) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE webhooks SET next_attempt_at = NULL WHERE id = $1 AND failures = 0")
            .bind(id).execute(pool).await?;
    });
    Ok(())
}

/// A failed request in a few words, for the owner (no body, no internal detail).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_redirect() {
        "redirected (not followed)".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The source chain says why (a refused name, a TLS failure), without the URL.
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    let text = if detail.is_empty() {
        what
    } else {
        format!("{what}: {detail}")
    };
    text.chars().take(ERROR_LEN_MAX).collect()
}

/// Runs a round every `sender.interval()` until `stop` completes (a round under way is
/// finished first).
pub async fn run_until(store: Store, sender: Sender, stop: impl std::future::Future<Output = ()>) {
    let mut ticks = tokio::time::interval(sender.interval());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut stop => return,
        }
        match run_round(&store, &sender).await {
            Ok(round) if round.failed > 0 => {
                tracing::info!(?round, "webhook deliveries failed")
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "webhook round failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses() {
        for ip in [
            "8.8.8.8",
            "2a00:1450:4007::1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        let ok = |url: &str, targets| assert_eq!(url_problem(url, targets), None, "{url}");
        let refused = |url: &str, targets, problem| {
            assert_eq!(url_problem(url, targets), Some(problem), "{url}")
        };
        ok("https://erp.example.fr/troc/events", Targets::Public);
        ok("https://203.0.113.9:8443/hook?x=1", Targets::Any);
        ok("http://127.0.0.1:9000/hook", Targets::Any);
        refused("", Targets::Public, Problem::Required);
        refused(
            "http://erp.example.fr/hook",
            Targets::Public,
            Problem::InvalidUrl,
        );
        refused(
            "ftp://erp.example.fr/hook",
            Targets::Any,
            Problem::InvalidUrl,
        );
        refused("erp.example.fr/hook", Targets::Any, Problem::InvalidUrl);
        refused(
            "https://user:pw@erp.example.fr/",
            Targets::Public,
            Problem::InvalidUrl,
        );
        refused(
            "https://erp.example.fr/#part",
            Targets::Public,
            Problem::InvalidUrl,
        );
        for private in [
            "https://127.0.0.1/hook",
            "https://10.0.0.8/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "https://localhost:8443/",
            "https://app.localhost/",
        ] {
            refused(private, Targets::Public, Problem::PrivateAddress);
        }
        let at_max = format!("https://erp.example.fr/{}", "a".repeat(URL_LEN_MAX - 23));
        assert_eq!(at_max.chars().count(), URL_LEN_MAX);
        ok(&at_max, Targets::Public);
        refused(
            &format!("{at_max}a"),
            Targets::Public,
            Problem::TooLong { max: URL_LEN_MAX },
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(BACKOFF.after(1), 10);
        assert_eq!(BACKOFF.after(2), 20);
        assert_eq!(BACKOFF.after(9), 2_560);
        assert_eq!(BACKOFF.after(10), BACKOFF_MAX_SECONDS);
        assert_eq!(BACKOFF.after(FAILURES_MAX), BACKOFF_MAX_SECONDS);
        let total: i64 = (1..FAILURES_MAX).map(|n| BACKOFF.after(n)).sum();
        assert!((7 * 3_600..8 * 3_600).contains(&total), "{total}");
    }

    #[tokio::test]
    async fn the_resolver_keeps_private_addresses_out() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let refused = PublicResolver.resolve(name).await;
        let error = refused.err().expect("localhost resolves to loopback only");
        assert!(error.to_string().contains("no public address"), "{error}");
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let sender = Sender::new(SigningKey::from_bytes(&[7; 32]), Targets::Any).unwrap();
        let header = sender.signature(1_765_000_000, b"{\"events\":[]}");
        let (t, sig) = header
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",ed25519="))
            .unwrap();
        assert_eq!(t, "1765000000");
        let key: [u8; 32] = hex::decode(sender.public_key())
            .unwrap()
            .try_into()
            .unwrap();
        let key = VerifyingKey::from_bytes(&key).unwrap();
        let sig: [u8; 64] = hex::decode(sig).unwrap().try_into().unwrap();
        let sig = Signature::from_bytes(&sig);
        assert!(key.verify(b"1765000000.{\"events\":[]}", &sig).is_ok());
        assert!(key.verify(b"1765000001.{\"events\":[]}", &sig).is_err());
    }
}
