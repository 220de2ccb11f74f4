//! E-mail: the few messages the server sends to people (a link to set a forgotten password,
//! the notice that a password changed, an invitation, the notices of `http::notices`), through
//! the SMTP relay the operator names (`--smtp-url`, with `--mail-from`).
//!
//! How: a request that wants an e-mail writes it to `mail_outbox` ([`enqueue`], refused when
//! [`OUTBOX_PENDING_MAX`] e-mails already wait) and answers at once; the mail task of
//! `serve` ([`run_until`]) sends what is due every [`ROUND_INTERVAL`] ([`run_round`]): it
//! claims up to [`SENDS_PER_ROUND_MAX`] e-mails for [`CLAIM_SECONDS`] (several server
//! processes on one PostgreSQL database never send one twice while the claim lasts), sends
//! each, and on a failure waits longer each time ([`BACKOFF`]), giving up after
//! [`ATTEMPTS_MAX`] attempts. Once an e-mail is sent or given up its body is erased (it may
//! hold a one-time link); the row itself, with its address, subject and times, is deleted
//! after [`KEPT_SECONDS`] by the housekeeping ([`purge`]).
//!
//! Without a relay ([`Mailer`] absent, the default) nothing is queued: the pages that would
//! send an e-mail say so and show the link to the person who asked for it instead, when that
//! person may see it (an invitation's author, a manager).
//!
//! It does *not* send HTML, attachments or bulk mail, read replies, or know whether an
//! e-mail reached its reader: the relay's acceptance is the end of its job.

use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::dispatch;
use crate::http::i18n::Lang;
use crate::retry::Backoff;
use crate::store::{Backend, Store, StoreResult};

/// Longest subject.
pub const SUBJECT_LEN_MAX: usize = 200;
/// Longest body.
pub const BODY_LEN_MAX: usize = 10_000;
/// E-mails waiting to be sent; past it, [`enqueue`] refuses (a relay down for long, or a
/// flood of requests, cannot fill the database).
pub const OUTBOX_PENDING_MAX: i64 = 10_000;
/// E-mails claimed and sent in one round.
pub const SENDS_PER_ROUND_MAX: i64 = 100;
/// How long a claimed e-mail is left to the process that claimed it.
pub const CLAIM_SECONDS: i64 = 120;
/// Attempts before an e-mail is given up (about 17 hours of retries).
pub const ATTEMPTS_MAX: i64 = 24;
/// The longest wait between two attempts.
pub const BACKOFF_MAX_SECONDS: i64 = 3_600;
/// How long a sent or given-up e-mail's row (address, subject, times) is kept.
pub const KEPT_SECONDS: i64 = 30 * 24 * 3_600;
/// Longest error text kept from a failed attempt.
pub const ERROR_LEN_MAX: usize = 300;
/// How often `serve` sends what is due.
pub const ROUND_INTERVAL: Duration = Duration::from_secs(2);
/// How long one SMTP exchange may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// What an e-mail is for (the `kind` column, in the metrics and the logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PasswordReset,
    PasswordChanged,
    Invitation,
    PaymentRequest,
    ApprovalWaiting,
    PaymentsReceived,
    NetworkAction,
    Matches,
    Statement,
    RequestOverdue,
    RequestDeclined,
    RequestExpired,
    OrderPlaced,
    OrderDelivered,
    OrderCancelled,
    OrderExpired,
    OrderExpiring,
    NetworkInbox,
    Dispute,
    TwoStep,
    Setoff,
    ReturnToZero,
}

impl Kind {
    /// Every kind, as the outbox's table of kinds holds them (migration 0044; a test checks
    /// both).
    pub const ALL: [Kind; 22] = [
        Kind::PasswordReset,
        Kind::PasswordChanged,
        Kind::Invitation,
        Kind::PaymentRequest,
        Kind::ApprovalWaiting,
        Kind::PaymentsReceived,
        Kind::NetworkAction,
        Kind::Matches,
        Kind::Statement,
        Kind::RequestOverdue,
        Kind::RequestDeclined,
        Kind::RequestExpired,
        Kind::OrderPlaced,
        Kind::OrderDelivered,
        Kind::OrderCancelled,
        Kind::OrderExpired,
        Kind::OrderExpiring,
        Kind::NetworkInbox,
        Kind::Dispute,
        Kind::TwoStep,
        Kind::Setoff,
        Kind::ReturnToZero,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::Invitation => "invitation",
            Kind::PaymentRequest => "payment_request",
            Kind::ApprovalWaiting => "approval_waiting",
            Kind::PaymentsReceived => "payments_received",
            Kind::NetworkAction => "network_action",
            Kind::Matches => "matches",
            Kind::Statement => "statement",
            Kind::RequestOverdue => "request_overdue",
            Kind::RequestDeclined => "request_declined",
            Kind::RequestExpired => "request_expired",
            Kind::OrderPlaced => "order_placed",
            Kind::OrderDelivered => "order_delivered",
            Kind::OrderCancelled => "order_cancelled",
            Kind::OrderExpired => "order_expired",
            Kind::OrderExpiring => "order_expiring",
            Kind::NetworkInbox => "network_inbox",
            Kind::Dispute => "dispute",
            Kind::TwoStep => "two_step",
            Kind::Setoff => "setoff",
            Kind::ReturnToZero => "return_to_zero",
        }
    }
}

/// One plain-text e-mail to one address, checked when built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    kind: Kind,
    to: String,
    subject: String,
    body: String,
    /// Queued at most once under this key (a notice: `request:ID:USER`...).
    once: Option<String>,
}

/// Longest key of an e-mail queued once.
pub const ONCE_KEY_LEN_MAX: usize = 100;

/// Why an e-mail was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("not an e-mail address: {0:?}")]
    Address(String),
    #[error("the subject is empty or longer than {SUBJECT_LEN_MAX} characters")]
    Subject,
    #[error("the body is longer than {BODY_LEN_MAX} characters")]
    Body,
    #[error("{OUTBOX_PENDING_MAX} e-mails are already waiting to be sent")]
    OutboxFull,
    #[error("invalid SMTP setting: {0}")]
    Setting(String),
}

impl Mail {
    pub fn new(kind: Kind, to: &str, subject: &str, body: &str) -> Result<Mail, MailError> {
        if !crate::people::email_is_valid(to) || to.parse::<Mailbox>().is_err() {
            return Err(MailError::Address(to.to_owned()));
        }
        let subject_len = subject.chars().count();
        if subject_len == 0 || subject_len > SUBJECT_LEN_MAX || subject.contains(['\r', '\n']) {
            return Err(MailError::Subject);
        }
        if body.chars().count() > BODY_LEN_MAX {
            return Err(MailError::Body);
        }
        Ok(Mail {
            kind,
            to: to.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            once: None,
        })
    }

    /// The same e-mail, queued at most once under `key` (at most [`ONCE_KEY_LEN_MAX`]
    /// characters, cut beyond): queuing it again changes nothing.
    pub fn once(mut self, key: &str) -> Mail {
        self.once = Some(key.chars().take(ONCE_KEY_LEN_MAX).collect());
        self
    }

    pub fn to(&self) -> &str {
        &self.to
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn body(&self) -> &str {
        &self.body
    }
}

/// Queues `mail` to be sent as soon as the mail task runs. Refused (nothing written) when
/// [`OUTBOX_PENDING_MAX`] e-mails already wait. An e-mail with a key ([`Mail::once`]) that was
/// queued before is not queued again (`Ok`).
pub async fn enqueue(store: &Store, mail: &Mail, now: i64) -> StoreResult<Result<(), MailError>> {
    // One statement: the count and the insert cannot be split by another request.
    let inserted = dispatch!(store.backend(), pool => {
        sqlx::query(
            "INSERT INTO mail_outbox (kind, to_addr, subject, body, created_at, next_attempt_at, \
             notice_key) SELECT $1, $2, $3, $4, $5, $5, $7 \
             WHERE (SELECT COUNT(*) FROM mail_outbox \
                    WHERE sent_at IS NULL AND failed_at IS NULL) < $6 \
             ON CONFLICT (notice_key) DO NOTHING")
            .bind(mail.kind.as_str()).bind(&mail.to).bind(&mail.subject).bind(&mail.body)
            .bind(now).bind(OUTBOX_PENDING_MAX).bind(&mail.once)
            .execute(pool).await?.rows_affected()
    });
    if inserted == 1 {
        return Ok(Ok(()));
    }
    if let Some(key) = &mail.once {
        let queued: i64 = dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE notice_key = $1")
                .bind(key).fetch_one(pool).await?
        });
        if queued > 0 {
            return Ok(Ok(()));
        }
    }
    tracing::warn!(
        kind = mail.kind.as_str(),
        "mail outbox full: e-mail dropped"
    );
    crate::metrics::global().record_mail(MailOutcome::Dropped);
    Ok(Err(MailError::OutboxFull))
}

/// What happened to one e-mail, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    Retried,
    GivenUp,
    Dropped,
}

impl MailOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MailOutcome::Sent => "sent",
            MailOutcome::Retried => "retried",
            MailOutcome::GivenUp => "given_up",
            MailOutcome::Dropped => "dropped",
        }
    }
}

/// The SMTP relay and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    interval: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A relay from its URL: `smtps://user:password@host:465` (TLS), `smtp://host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (no encryption: a relay on the same machine or
    /// network). `from` is the sender, `Name <address>` or an address.
    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Setting(format!("mail from {from:?}: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| {
                MailError::Setting(format!(
                    "SMTP URL {}: {e}",
                    crate::config::mask_secrets(smtp_url)
                ))
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer {
            transport,
            from,
            interval: ROUND_INTERVAL,
        })
    }

    /// The same relay, with rounds every `interval` (for tests).
    pub fn with_interval(mut self, interval: Duration) -> Mailer {
        self.interval = interval;
        self
    }

    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("address: {e}"))?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The wait after failed attempts: 30 s, doubling, at most an hour.
pub const BACKOFF: Backoff = Backoff::new(30, BACKOFF_MAX_SECONDS);

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: u64,
    pub retried: u64,
    pub given_up: u64,
}

/// Claims the e-mails due at `now` (at most [`SENDS_PER_ROUND_MAX`]) and sends them, one
/// after the other.
pub async fn run_round(store: &Store, mailer: &Mailer, now: i64) -> StoreResult<Round> {
    let claim = "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL \
                 AND failed_at IS NULL AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at, id LIMIT $3 LOCKING) \
                 RETURNING id, to_addr, subject, body, attempts";
    let claim = match store.backend() {
        // One writer at a time: the statement is its own claim.
        Backend::Sqlite(_) => claim.replace(" LOCKING", ""),
        Backend::Postgres(_) => claim.replace(" LOCKING", " FOR UPDATE SKIP LOCKED"),
    };
    let mut claimed: Vec<(i64, String, String, String, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&claim)
            .bind(now + CLAIM_SECONDS).bind(now).bind(SENDS_PER_ROUND_MAX)
            .fetch_all(pool).await?
    });
    let mut round = Round::default();
    claimed.sort_by_key(|c| c.0);
    for (id, to, subject, body, attempts) in claimed {
        let started = Instant::now();
        let result = mailer.send(&to, &subject, &body).await;
        let outcome = match &result {
            Ok(()) => {
                dispatch!(store.backend(), pool => {
                    sqlx::query("UPDATE mail_outbox SET sent_at = $1, body = '', last_error = NULL \
                                 WHERE id = $2")
                        .bind(now).bind(id).execute(pool).await?;
                });
                round.sent += 1;
                MailOutcome::Sent
            }
            Err(error) => {
                let error: String = error.chars().take(ERROR_LEN_MAX).collect();
                if attempts >= ATTEMPTS_MAX {
                    dispatch!(store.backend(), pool => {
                        sqlx::query("UPDATE mail_outbox SET failed_at = $1, body = '', \
                                     last_error = $2 WHERE id = $3")
                            .bind(now).bind(&error).bind(id).execute(pool).await?;
                    });
                    round.given_up += 1;
                    MailOutcome::GivenUp
                } else {
                    dispatch!(store.backend(), pool => {
                        sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2 \
                                     WHERE id = $3")
                            .bind(now + BACKOFF.after(attempts)).bind(&error).bind(id)
                            .execute(pool).await?;
                    });
                    round.retried += 1;
                    MailOutcome::Retried
                }
            }
        };
        crate::metrics::global().record_mail(outcome);
        tracing::info!(
            mail = id,
            outcome = outcome.as_str(),
            attempts,
            ms = started.elapsed().as_millis() as u64,
            error = result.err().unwrap_or_default(),
            "e-mail"
        );
    }
    Ok(round)
}

/// Deletes the rows of e-mails sent or given up before `now - KEPT_SECONDS`; returns how many.
pub async fn purge(store: &Store, now: i64) -> StoreResult<u64> {
    let deleted = dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM mail_outbox WHERE created_at < $1 \
                     AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)")
            .bind(now - KEPT_SECONDS).execute(pool).await?.rows_affected()
    });
    Ok(deleted)
}

/// One e-mail of the outbox, as the tests and the operator read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

/// The last `max` e-mails of the outbox, newest first.
pub async fn recent(store: &Store, max: i64) -> StoreResult<Vec<Queued>> {
    type QueuedRow = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<QueuedRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT id, kind, to_addr, subject, body, attempts, sent_at, failed_at, \
                        last_error FROM mail_outbox ORDER BY id DESC LIMIT $1")
            .bind(max.clamp(0, 1_000)).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, to, subject, body, attempts, sent_at, failed_at, last_error)| Queued {
                id,
                kind,
                to,
                subject,
                body,
                attempts,
                sent_at,
                failed_at,
                last_error,
            },
        )
        .collect())
}

/// Sends what is due every round until `stop` completes.
pub async fn run_until(store: Store, mailer: Mailer, stop: impl std::future::Future<Output = ()>) {
    let mut ticks = tokio::time::interval(mailer.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut stop => return,
        }
        match run_round(&store, &mailer, crate::people::now_unix()).await {
            Ok(round) if round.retried + round.given_up > 0 => {
                tracing::warn!(?round, "some e-mails could not be sent")
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "mail round failed"),
        }
    }
}

// --- The messages -------------------------------------------------------------------------

/// Who asked for a password reset link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedBy {
    /// The user, on `/password/forgot`.
    User,
    /// The network's manager, from the console.
    Manager,
}

/// `minutes` in words: « 60 minutes », « 24 heures ».
fn duration_text(lang: Lang, minutes: i64) -> String {
    match (lang, minutes % 60 == 0 && minutes > 60) {
        (Lang::Fr, true) => format!("{} heures", minutes / 60),
        (Lang::En, true) => format!("{} hours", minutes / 60),
        (Lang::Fr, false) | (Lang::En, false) => format!("{minutes} minutes"),
    }
}

/// The e-mail with a link that sets `to`'s password, valid `minutes`, asked for by `asked_by`.
pub fn password_reset(
    lang: Lang,
    to: &str,
    link: &str,
    minutes: i64,
    asked_by: AskedBy,
) -> Result<Mail, MailError> {
    let valid = duration_text(lang, minutes);
    let (subject, body) = match lang {
        Lang::Fr => {
            let who = match asked_by {
                AskedBy::User => format!(
                    "Quelqu'un (vous, sans doute) a demandé à choisir un nouveau mot de passe \
                     pour le compte Troc de {to}."
                ),
                AskedBy::Manager => format!(
                    "Le gestionnaire de votre réseau a créé un lien pour choisir un nouveau mot \
                     de passe pour le compte Troc de {to}."
                ),
            };
            (
                "Troc : choisir un nouveau mot de passe".to_owned(),
                format!(
                    "Bonjour,\n\n{who}\n\nPour le choisir, ouvrez ce lien (valable {valid}, une \
                     seule fois) :\n\n{link}\n\nSi vous n'avez rien demandé, ignorez ce message : \
                     votre mot de passe reste le même.\n"
                ),
            )
        }
        Lang::En => {
            let who = match asked_by {
                AskedBy::User => format!(
                    "Someone (you, probably) asked to choose a new password for the Troc \
                     account of {to}."
                ),
                AskedBy::Manager => format!(
                    "Your network's manager made a link to choose a new password for the Troc \
                     account of {to}."
                ),
            };
            (
                "Troc: choose a new password".to_owned(),
                format!(
                    "Hello,\n\n{who}\n\nTo choose it, open this link (valid for {valid}, \
                     once):\n\n{link}\n\nIf you did not ask, ignore this message: your \
                     password stays the same.\n"
                ),
            )
        }
    };
    Mail::new(Kind::PasswordReset, to, &subject, &body)
}

/// The notice that `to`'s password was changed (`when`, a UTC time as text).
pub fn password_changed(lang: Lang, to: &str, when: &str) -> Result<Mail, MailError> {
    let (subject, body) = match lang {
        Lang::Fr => (
            "Troc : votre mot de passe a changé".to_owned(),
            format!(
                "Bonjour,\n\nLe mot de passe du compte Troc de {to} a été changé le {when} (UTC) \
                 et ses autres sessions ont été fermées.\n\nSi ce n'était pas vous, prévenez \
                 sans attendre le gestionnaire de votre réseau.\n"
            ),
        ),
        Lang::En => (
            "Troc: your password was changed".to_owned(),
            format!(
                "Hello,\n\nThe password of the Troc account of {to} was changed on {when} (UTC) \
                 and its other sessions were closed.\n\nIf this was not you, tell your network's \
                 manager at once.\n"
            ),
        ),
    };
    Mail::new(Kind::PasswordChanged, to, &subject, &body)
}

/// What happened to a user's two-step login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoStepChange {
    /// The user turned it on.
    On,
    /// The user turned it off.
    Off,
    /// The network's manager turned it off (a lost phone).
    OffByManager,
}

/// Tells `to` that its two-step login was turned on or off at `when` (UTC), so that a change
/// it did not make does not go unseen.
pub fn two_step_changed(
    lang: Lang,
    to: &str,
    when: &str,
    change: TwoStepChange,
) -> Result<Mail, MailError> {
    let (subject, body) = match (lang, change) {
        (Lang::Fr, TwoStepChange::On) => (
            "Troc : connexion en deux étapes activée".to_owned(),
            format!(
                "Bonjour,\n\nLa connexion en deux étapes du compte Troc de {to} a été activée \
                 le {when} (UTC) : un code de votre application vous sera demandé après votre \
                 mot de passe. Gardez vos codes de secours en lieu sûr.\n\nSi ce n'était pas \
                 vous, prévenez sans attendre le gestionnaire de votre réseau.\n"
            ),
        ),
        (Lang::Fr, off) => (
            "Troc : connexion en deux étapes désactivée".to_owned(),
            format!(
                "Bonjour,\n\nLa connexion en deux étapes du compte Troc de {to} a été \
                 désactivée le {when} (UTC){} : votre mot de passe seul ouvre de nouveau le \
                 compte.\n\nSi ce n'était pas vous, prévenez sans attendre le gestionnaire de \
                 votre réseau.\n",
                if off == TwoStepChange::OffByManager {
                    " par le gestionnaire du réseau, à votre demande"
                } else {
                    ""
                }
            ),
        ),
        (Lang::En, TwoStepChange::On) => (
            "Troc: two-step login turned on".to_owned(),
            format!(
                "Hello,\n\nTwo-step login was turned on for the Troc account of {to} on {when} \
                 (UTC): a code from your app will be asked after your password. Keep your \
                 recovery codes somewhere safe.\n\nIf this was not you, tell your network's \
                 manager at once.\n"
            ),
        ),
        (Lang::En, off) => (
            "Troc: two-step login turned off".to_owned(),
            format!(
                "Hello,\n\nTwo-step login was turned off for the Troc account of {to} on \
                 {when} (UTC){}: your password alone opens the account again.\n\nIf this was \
                 not you, tell your network's manager at once.\n",
                if off == TwoStepChange::OffByManager {
                    " by the network's manager, at your request"
                } else {
                    ""
                }
            ),
        ),
    };
    Mail::new(Kind::TwoStep, to, &subject, &body)
}

/// An invitation to join the network at `link`, from `inviter`, for `company` (empty: the
/// network's own staff).
pub fn invitation(
    lang: Lang,
    to: &str,
    inviter: &str,
    company: &str,
    link: &str,
) -> Result<Mail, MailError> {
    let (subject, body) = match lang {
        Lang::Fr => {
            let whom = if company.is_empty() {
                "le réseau".to_owned()
            } else {
                format!("le compte de {company}")
            };
            (
                "Troc : invitation".to_owned(),
                format!(
                    "Bonjour,\n\n{inviter} vous invite à rejoindre {whom} sur Troc.\n\nPour \
                     accepter, ouvrez ce lien (une seule fois) et choisissez votre mot de \
                     passe :\n\n{link}\n"
                ),
            )
        }
        Lang::En => {
            let whom = if company.is_empty() {
                "the network".to_owned()
            } else {
                format!("the account of {company}")
            };
            (
                "Troc: invitation".to_owned(),
                format!(
                    "Hello,\n\n{inviter} invites you to join {whom} on Troc.\n\nTo accept, open \
                     this link (once) and choose your password:\n\n{link}\n"
                ),
            )
        }
    };
    Mail::new(Kind::Invitation, to, &subject, &body)
}

/// The last line of every notice: why the user gets it, and where to stop it.
fn notice_footer(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => {
            "Vous recevez ce message parce que les avis par e-mail sont activés sur votre \
             compte (page « Mon compte »)."
        }
        Lang::En => {
            "You receive this message because e-mail notices are on for your account (\"My \
             account\" page)."
        }
    }
}

/// A notice of `kind` to `to`: its subject cut to [`SUBJECT_LEN_MAX`], its `body` followed by
/// the footer ([`notice_footer`]).
fn with_footer(
    kind: Kind,
    lang: Lang,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<Mail, MailError> {
    let subject: String = subject.chars().take(SUBJECT_LEN_MAX).collect();
    let body = format!("{body}\n\n{}\n", notice_footer(lang));
    Mail::new(kind, to, &subject, &body)
}

/// A payment request received: `seller` asks `to`'s company to pay `amount` (formatted),
/// with `reference`, by `due` (a date as text), to read at `link`.
pub fn payment_request(
    lang: Lang,
    to: &str,
    seller: &str,
    amount: &str,
    reference: &str,
    due: &str,
    link: &str,
) -> Result<Mail, MailError> {
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : demande de paiement de {seller}"),
            format!(
                "Bonjour,\n\n{seller} demande à votre entreprise de payer {amount} \
                 (référence : {reference}), avant le {due}.\n\nPour la payer ou la refuser :\n\n\
                 {link}"
            ),
        ),
        Lang::En => (
            format!("Troc: payment request from {seller}"),
            format!(
                "Hello,\n\n{seller} asks your company to pay {amount} (reference: {reference}) \
                 by {due}.\n\nTo pay or decline it:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::PaymentRequest, lang, to, &subject, &body)
}

/// What a follow-up of a payment request says: the other company (`counterparty`: the
/// seller to the buyer, the buyer to the seller), the amount (formatted), the reference, the
/// due date and the last day it may be paid (dates as text), and the request's page.
#[derive(Debug, Clone, Copy)]
pub struct RequestFollowUp<'a> {
    pub counterparty: &'a str,
    pub amount: &'a str,
    pub reference: &'a str,
    pub due: &'a str,
    pub payable_until: &'a str,
    pub link: &'a str,
}

/// To the buyer: a payment request whose due date passed is still neither paid nor
/// declined.
pub fn request_overdue(
    lang: Lang,
    to: &str,
    request: &RequestFollowUp<'_>,
) -> Result<Mail, MailError> {
    let RequestFollowUp {
        counterparty: seller,
        amount,
        reference,
        due,
        payable_until,
        link,
    } = *request;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : la demande de paiement de {seller} est échue"),
            format!(
                "Bonjour,\n\nLa demande de paiement de {seller} ({amount}, référence : \
                 {reference}) était à payer le {due} ; elle n'est ni payée ni refusée. Elle \
                 reste payable jusqu'au {payable_until}, puis expire.\n\nPour la payer ou la \
                 refuser :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: the payment request from {seller} is overdue"),
            format!(
                "Hello,\n\nThe payment request from {seller} ({amount}, reference: \
                 {reference}) was due on {due}; it is neither paid nor declined. It can be paid \
                 until {payable_until}, then expires.\n\nTo pay or decline it:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::RequestOverdue, lang, to, &subject, &body)
}

/// To the seller: the buyer declined its payment request.
pub fn request_declined(
    lang: Lang,
    to: &str,
    request: &RequestFollowUp<'_>,
) -> Result<Mail, MailError> {
    let RequestFollowUp {
        counterparty: buyer,
        amount,
        reference,
        link,
        ..
    } = *request;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : {buyer} a refusé votre demande de paiement"),
            format!(
                "Bonjour,\n\n{buyer} a refusé votre demande de paiement de {amount} \
                 (référence : {reference}). Rien n'a été payé.\n\nLa demande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: {buyer} declined your payment request"),
            format!(
                "Hello,\n\n{buyer} declined your payment request for {amount} (reference: \
                 {reference}). Nothing was paid.\n\nThe request:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::RequestDeclined, lang, to, &subject, &body)
}

/// To the seller: its payment request was neither paid nor declined by the last day it
/// could be paid, and expired.
pub fn request_expired(
    lang: Lang,
    to: &str,
    request: &RequestFollowUp<'_>,
) -> Result<Mail, MailError> {
    let RequestFollowUp {
        counterparty: buyer,
        amount,
        reference,
        due,
        payable_until,
        link,
    } = *request;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : votre demande de paiement à {buyer} a expiré"),
            format!(
                "Bonjour,\n\nVotre demande de paiement de {amount} à {buyer} (référence : \
                 {reference}, à payer le {due}) n'a été ni payée ni refusée au {payable_until} : \
                 elle a expiré et rien n'a été payé. Vous pouvez en envoyer une nouvelle, ou \
                 demander l'aide du gestionnaire du réseau.\n\nLa demande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: your payment request to {buyer} expired"),
            format!(
                "Hello,\n\nYour payment request for {amount} to {buyer} (reference: \
                 {reference}, due on {due}) was neither paid nor declined by {payable_until}: it \
                 expired and nothing was paid. You may send a new one, or ask the network's \
                 manager for help.\n\nThe request:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::RequestExpired, lang, to, &subject, &body)
}

/// What an e-mail about an order says: the offer's `title`, the `buyer` and the `seller`,
/// the amount held (formatted), the last day the seller may deliver (a date as text) and
/// the order's page.
#[derive(Debug, Clone, Copy)]
pub struct OrderMail<'a> {
    pub title: &'a str,
    pub buyer: &'a str,
    pub seller: &'a str,
    pub amount: &'a str,
    pub deliver_by: &'a str,
    pub link: &'a str,
}

/// To the seller: a buyer ordered its offer; the amount is held on the buyer's account until
/// the seller delivers (and is paid) or the order is cancelled or expires.
pub fn order_placed(lang: Lang, to: &str, order: &OrderMail<'_>) -> Result<Mail, MailError> {
    let OrderMail {
        title,
        buyer,
        amount,
        deliver_by,
        link,
        ..
    } = *order;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : nouvelle commande de {buyer}"),
            format!(
                "Bonjour,\n\n{buyer} commande « {title} » pour {amount}. Le montant est réservé \
                 sur son compte : vous serez payé en confirmant la livraison, au plus tard le \
                 {deliver_by} ; sinon la commande expire et rien n'est payé.\n\nLa commande, \
                 pour confirmer la livraison ou l'annuler :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: new order from {buyer}"),
            format!(
                "Hello,\n\n{buyer} orders \"{title}\" for {amount}. The amount is held on its \
                 account: you are paid when you confirm the delivery, by {deliver_by} at the \
                 latest; after that the order expires and nothing is paid.\n\nThe order, to \
                 confirm the delivery or cancel it:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::OrderPlaced, lang, to, &subject, &body)
}

/// To the buyer: the seller confirmed the delivery, and the amount held was paid.
pub fn order_delivered(lang: Lang, to: &str, order: &OrderMail<'_>) -> Result<Mail, MailError> {
    let OrderMail {
        title,
        seller,
        amount,
        link,
        ..
    } = *order;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : {seller} a livré votre commande"),
            format!(
                "Bonjour,\n\n{seller} a confirmé la livraison de « {title} » : les {amount} \
                 réservés lui sont payés. En cas de problème, vous pouvez contester le paiement \
                 depuis l'historique.\n\nLa commande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: {seller} delivered your order"),
            format!(
                "Hello,\n\n{seller} confirmed the delivery of \"{title}\": the {amount} held \
                 are paid to it. If something is wrong, you may dispute the payment from the \
                 history.\n\nThe order:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::OrderDelivered, lang, to, &subject, &body)
}

/// To the other party: `by` (the buyer or the seller) cancelled the order; nothing was paid.
pub fn order_cancelled(
    lang: Lang,
    to: &str,
    order: &OrderMail<'_>,
    by: &str,
) -> Result<Mail, MailError> {
    let OrderMail {
        title,
        amount,
        link,
        ..
    } = *order;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : {by} a annulé la commande « {title} »"),
            format!(
                "Bonjour,\n\n{by} a annulé la commande « {title} » ({amount}) : rien n'a été \
                 payé, et le montant réservé est libéré.\n\nLa commande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: {by} cancelled the order \"{title}\""),
            format!(
                "Hello,\n\n{by} cancelled the order \"{title}\" ({amount}): nothing was paid, \
                 and the amount held is released.\n\nThe order:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::OrderCancelled, lang, to, &subject, &body)
}

/// To the seller: an order it has not delivered expires soon; delivering it is what pays.
pub fn order_expiring(lang: Lang, to: &str, order: &OrderMail<'_>) -> Result<Mail, MailError> {
    let OrderMail {
        title,
        buyer,
        amount,
        deliver_by,
        link,
        ..
    } = *order;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : la commande « {title} » de {buyer} expire le {deliver_by}"),
            format!(
                "Bonjour,\n\nLa commande « {title} » de {buyer} ({amount}) n'est pas encore \
                 livrée. Confirmez la livraison au plus tard le {deliver_by} pour être payé : \
                 ensuite la commande expire, rien n'est payé et le montant réservé est libéré.\
                 \n\nLa commande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: the order \"{title}\" from {buyer} expires on {deliver_by}"),
            format!(
                "Hello,\n\nThe order \"{title}\" from {buyer} ({amount}) is not delivered yet. \
                 Confirm the delivery by {deliver_by} to be paid: after that the order \
                 expires, nothing is paid and the amount held is released.\n\nThe \
                 order:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::OrderExpiring, lang, to, &subject, &body)
}

/// To the buyer and the seller: the order was not delivered by its last day and expired.
pub fn order_expired(lang: Lang, to: &str, order: &OrderMail<'_>) -> Result<Mail, MailError> {
    let OrderMail {
        title,
        buyer,
        seller,
        amount,
        deliver_by,
        link,
    } = *order;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : la commande « {title} » a expiré"),
            format!(
                "Bonjour,\n\nLa commande « {title} » de {buyer} à {seller} ({amount}) n'a pas \
                 été livrée au {deliver_by} : elle a expiré, rien n'a été payé et le montant \
                 réservé est libéré.\n\nLa commande :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: the order \"{title}\" expired"),
            format!(
                "Hello,\n\nThe order \"{title}\" from {buyer} to {seller} ({amount}) was not \
                 delivered by {deliver_by}: it expired, nothing was paid and the amount held is \
                 released.\n\nThe order:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::OrderExpired, lang, to, &subject, &body)
}

/// Something a member or an applicant asks of the network's managers, as their e-mail
/// lists it (names and amounts as text), with its page in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxItem {
    /// A company applies to join.
    Application { name: String, city: String },
    /// A member asks for another credit limit.
    LimitRequest {
        member: String,
        asked: String,
        before: String,
    },
    /// A payer disputes a payment.
    Dispute {
        payer: String,
        payee: String,
        amount: String,
    },
    /// A member gives notice of leaving the network.
    Departure { member: String },
}

/// One line of the managers' e-mail: what, and where to handle it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxLine {
    pub item: InboxItem,
    pub link: String,
}

/// To a manager: what members and applicants asked of the network since the last such
/// e-mail (`lines`, and `more` not listed), with the console's link.
pub fn network_inbox(
    lang: Lang,
    to: &str,
    lines: &[InboxLine],
    more: i64,
    console: &str,
) -> Result<Mail, MailError> {
    let count = lines.len() as i64 + more;
    let mut listed = String::new();
    for line in lines {
        let text = match (&line.item, lang) {
            (InboxItem::Application { name, city }, Lang::Fr) => {
                format!("Demande d'adhésion : {name} ({city})")
            }
            (InboxItem::Application { name, city }, Lang::En) => {
                format!("Application to join: {name} ({city})")
            }
            (
                InboxItem::LimitRequest {
                    member,
                    asked,
                    before,
                },
                Lang::Fr,
            ) => format!("{member} demande une limite de crédit de {asked} (aujourd'hui {before})"),
            (
                InboxItem::LimitRequest {
                    member,
                    asked,
                    before,
                },
                Lang::En,
            ) => format!("{member} asks for a credit limit of {asked} (now {before})"),
            (
                InboxItem::Dispute {
                    payer,
                    payee,
                    amount,
                },
                Lang::Fr,
            ) => format!("{payer} conteste un paiement de {amount} à {payee}"),
            (
                InboxItem::Dispute {
                    payer,
                    payee,
                    amount,
                },
                Lang::En,
            ) => format!("{payer} disputes a payment of {amount} to {payee}"),
            (InboxItem::Departure { member }, Lang::Fr) => {
                format!("{member} annonce son départ du réseau")
            }
            (InboxItem::Departure { member }, Lang::En) => {
                format!("{member} gives notice of leaving the network")
            }
        };
        listed.push_str(&format!("- {text}\n  {}\n", line.link));
    }
    let (subject, body) = match lang {
        Lang::Fr => {
            let what = if count == 1 {
                "1 demande à traiter".to_owned()
            } else {
                format!("{count} demandes à traiter")
            };
            if more > 0 {
                listed.push_str(&format!("- et {more} de plus\n"));
            }
            (
                format!("Troc : {what}"),
                format!(
                    "Bonjour,\n\nDu nouveau pour la gestion du réseau : {what}.\n\n{listed}\n\
                     La console :\n\n{console}"
                ),
            )
        }
        Lang::En => {
            let what = if count == 1 {
                "1 request to handle".to_owned()
            } else {
                format!("{count} requests to handle")
            };
            if more > 0 {
                listed.push_str(&format!("- and {more} more\n"));
            }
            (
                format!("Troc: {what}"),
                format!(
                    "Hello,\n\nNews for the network's management: {what}.\n\n{listed}\nThe \
                     console:\n\n{console}"
                ),
            )
        }
    };
    with_footer(Kind::NetworkInbox, lang, to, &subject, &body)
}

/// A step of a dispute, as its e-mail tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeStep {
    /// To the payee: the payer contests the payment (`text`: its reason).
    Opened,
    /// To the payer: the payee answered (`text`: the answer).
    Replied,
    /// To the payee: the payer withdrew it.
    Withdrawn,
    /// To the payer: the payee refunded the payment.
    Refunded,
    /// To both: the network's manager reversed the payment (`text`: its note).
    Reversed,
    /// To both: the network's manager dismissed the dispute (`text`: its note).
    Dismissed,
}

/// What an e-mail of a dispute says: the payer and the payee, the amount disputed
/// (formatted), the step's text (a reason, an answer, a note; may be empty) and the
/// company's page of disputes.
#[derive(Debug, Clone, Copy)]
pub struct DisputeMail<'a> {
    pub payer: &'a str,
    pub payee: &'a str,
    pub amount: &'a str,
    pub text: &'a str,
    pub link: &'a str,
}

/// A step of a dispute, to a user of the company it concerns.
pub fn dispute(
    lang: Lang,
    to: &str,
    step: DisputeStep,
    mail: &DisputeMail<'_>,
) -> Result<Mail, MailError> {
    let DisputeMail {
        payer,
        payee,
        amount,
        text,
        link,
    } = *mail;
    let quoted = |prefix: &str| {
        if text.is_empty() {
            String::new()
        } else {
            format!("{prefix}« {text} »\n\n")
        }
    };
    let (subject, what) = match (lang, step) {
        (Lang::Fr, DisputeStep::Opened) => (
            format!("Troc : {payer} conteste un paiement de {amount}"),
            format!(
                "{payer} conteste le paiement de {amount} qu'il vous a fait. Sa raison :\n\n{}\
                 Répondez-lui, ou remboursez le paiement ; à défaut d'accord, le gestionnaire \
                 du réseau tranchera.",
                quoted("")
            ),
        ),
        (Lang::En, DisputeStep::Opened) => (
            format!("Troc: {payer} disputes a payment of {amount}"),
            format!(
                "{payer} disputes the payment of {amount} it made to you. Its reason:\n\n{}\
                 Answer it, or refund the payment; if you do not agree, the network's manager \
                 will decide.",
                quoted("")
            ),
        ),
        (Lang::Fr, DisputeStep::Replied) => (
            format!("Troc : {payee} a répondu à votre contestation"),
            format!(
                "{payee} a répondu à votre contestation du paiement de {amount} :\n\n{}\
                 Retirez-la si vous êtes d'accord ; sinon le gestionnaire du réseau tranchera.",
                quoted("")
            ),
        ),
        (Lang::En, DisputeStep::Replied) => (
            format!("Troc: {payee} answered your dispute"),
            format!(
                "{payee} answered your dispute of the payment of {amount}:\n\n{}\
                 Withdraw it if you agree; otherwise the network's manager will decide.",
                quoted("")
            ),
        ),
        (Lang::Fr, DisputeStep::Withdrawn) => (
            format!("Troc : {payer} a retiré sa contestation"),
            format!(
                "{payer} a retiré sa contestation du paiement de {amount} : le paiement reste \
                 acquis."
            ),
        ),
        (Lang::En, DisputeStep::Withdrawn) => (
            format!("Troc: {payer} withdrew its dispute"),
            format!("{payer} withdrew its dispute of the payment of {amount}: the payment stands."),
        ),
        (Lang::Fr, DisputeStep::Refunded) => (
            format!("Troc : {payee} vous a remboursé"),
            format!(
                "{payee} a remboursé le paiement de {amount} que vous contestiez : la \
                 contestation est close."
            ),
        ),
        (Lang::En, DisputeStep::Refunded) => (
            format!("Troc: {payee} refunded you"),
            format!(
                "{payee} refunded the payment of {amount} you disputed: the dispute is closed."
            ),
        ),
        (Lang::Fr, DisputeStep::Reversed) => (
            "Troc : le réseau a annulé le paiement contesté".to_owned(),
            format!(
                "Le gestionnaire du réseau a annulé le paiement de {amount} de {payer} à \
                 {payee} : {payer} récupère ce qu'il a payé, frais compris.\n\n{}",
                quoted("Sa note : ")
            ),
        ),
        (Lang::En, DisputeStep::Reversed) => (
            "Troc: the network reversed the disputed payment".to_owned(),
            format!(
                "The network's manager reversed the payment of {amount} from {payer} to \
                 {payee}: {payer} gets back what it paid, fees included.\n\n{}",
                quoted("Its note: ")
            ),
        ),
        (Lang::Fr, DisputeStep::Dismissed) => (
            "Troc : le réseau a rejeté la contestation".to_owned(),
            format!(
                "Le gestionnaire du réseau a rejeté la contestation du paiement de {amount} de \
                 {payer} à {payee} : le paiement reste acquis.\n\n{}",
                quoted("Sa note : ")
            ),
        ),
        (Lang::En, DisputeStep::Dismissed) => (
            "Troc: the network dismissed the dispute".to_owned(),
            format!(
                "The network's manager dismissed the dispute of the payment of {amount} from \
                 {payer} to {payee}: the payment stands.\n\n{}",
                quoted("Its note: ")
            ),
        ),
    };
    let (hello, page) = match lang {
        Lang::Fr => ("Bonjour,", "Les contestations de votre entreprise :"),
        Lang::En => ("Hello,", "Your company's disputes:"),
    };
    let body = format!("{hello}\n\n{}\n\n{page}\n\n{link}", what.trim_end());
    with_footer(Kind::Dispute, lang, to, &subject, &body)
}

/// An outside invoice declared on the company: `creditor` says it is owed `amount` (formatted)
/// on its invoice `number`, due `due_on` (formatted); confirmed or rejected at `link`.
#[derive(Debug, Clone, Copy)]
pub struct OutsideInvoiceMail<'a> {
    pub creditor: &'a str,
    pub number: &'a str,
    pub amount: &'a str,
    pub due_on: &'a str,
    pub link: &'a str,
}

/// Tells a user of the debtor that an outside invoice waits for its answer.
pub fn outside_invoice_declared(
    lang: Lang,
    to: &str,
    mail: &OutsideInvoiceMail<'_>,
) -> Result<Mail, MailError> {
    let OutsideInvoiceMail {
        creditor,
        number,
        amount,
        due_on,
        link,
    } = *mail;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : {creditor} déclare une facture de {amount} à compenser"),
            format!(
                "Bonjour,\n\n{creditor} déclare que votre entreprise lui doit sa facture n° \
                 {number} de {amount} TTC (échéance le {due_on}). Confirmez-la si vous la \
                 devez : la prochaine compensation du réseau la prendra. Sinon, refusez-la en \
                 disant pourquoi.\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: {creditor} declares an invoice of {amount} for set-off"),
            format!(
                "Hello,\n\n{creditor} declares that your company owes it its invoice n° \
                 {number} of {amount} tax included (due {due_on}). Confirm it if you owe it: \
                 the network's next set-off will take it. Otherwise, reject it and say \
                 why.\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::Setoff, lang, to, &subject, &body)
}

/// Tells a user of the creditor that the debtor (`debtor`) rejected its invoice `number` of
/// `amount` (formatted), with `reason`; its invoices at `link`.
pub fn outside_invoice_rejected(
    lang: Lang,
    to: &str,
    debtor: &str,
    number: &str,
    amount: &str,
    reason: &str,
    link: &str,
) -> Result<Mail, MailError> {
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : {debtor} refuse votre facture n° {number}"),
            format!(
                "Bonjour,\n\n{debtor} refuse votre facture n° {number} de {amount} déclarée à \
                 compenser. Sa raison :\n\n« {reason} »\n\nElle n'entrera pas dans les \
                 compensations du réseau ; réglez le désaccord avec {debtor}.\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: {debtor} rejects your invoice n° {number}"),
            format!(
                "Hello,\n\n{debtor} rejects your invoice n° {number} of {amount} declared for \
                 set-off. Its reason:\n\n« {reason} »\n\nThe network's set-offs will not \
                 take it; settle the disagreement with {debtor}.\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::Setoff, lang, to, &subject, &body)
}

/// A reminder of the network's return-to-zero rule (`crate::zero`) to a user of `company`,
/// whose balance `balance` (formatted) has been below zero since `since` for `days` days,
/// under a rule of `rule_days` days that ends on `deadline` (dates as text); `past` once the
/// spell is past the rule. What others want that it could sell at `market`, its account at
/// `dashboard`.
#[derive(Debug, Clone, Copy)]
pub struct ZeroMail<'a> {
    pub company: &'a str,
    pub balance: &'a str,
    pub since: &'a str,
    pub days: i64,
    pub rule_days: i64,
    pub deadline: &'a str,
    pub past: crate::zero::Past,
    pub market: &'a str,
    pub dashboard: &'a str,
}

/// The reminder of the return-to-zero rule (see [`ZeroMail`]).
pub fn return_to_zero(lang: Lang, to: &str, mail: &ZeroMail<'_>) -> Result<Mail, MailError> {
    use crate::zero::Past;
    let ZeroMail {
        company,
        balance,
        since,
        days,
        rule_days,
        deadline,
        past,
        market,
        dashboard,
    } = *mail;
    let (subject, body) = match (lang, past) {
        (Lang::Fr, Past::Within) => (
            format!("Troc : le solde de {company} est négatif depuis {days} jours"),
            format!(
                "Bonjour,\n\nLe solde de {company} est négatif depuis le {since} ({days} \
                 jours) : {balance}.\n\nLa règle du réseau : un solde négatif revient à zéro \
                 en {rule_days} jours, soit ici avant le {deadline}. Votre crédit vous a été \
                 avancé par les autres membres ; on le rembourse en leur vendant vos biens et \
                 services. Ce que les membres cherchent et que vous pourriez leur \
                 vendre :\n\n{market}\n\nVotre compte :\n\n{dashboard}"
            ),
        ),
        (Lang::Fr, Past::Beyond) => (
            format!("Troc : le solde de {company} a dépassé la règle de retour à zéro"),
            format!(
                "Bonjour,\n\nLe solde de {company} est négatif depuis le {since} ({days} \
                 jours) : {balance}, au-delà des {rule_days} jours de la règle du réseau (le \
                 {deadline}). Le gestionnaire du réseau va revoir votre compte avec vous : \
                 sa limite de crédit et la façon de revenir à zéro. Ce que les membres \
                 cherchent et que vous pourriez leur vendre :\n\n{market}\n\nVotre \
                 compte :\n\n{dashboard}"
            ),
        ),
        (Lang::En, Past::Within) => (
            format!("Troc: {company}'s balance has been negative for {days} days"),
            format!(
                "Hello,\n\n{company}'s balance has been negative since {since} ({days} \
                 days): {balance}.\n\nThe network's rule: a negative balance comes back to \
                 zero within {rule_days} days, here by {deadline}. Your credit was advanced by \
                 the other members; it is repaid by selling them your goods and services. What \
                 members are looking for that you could sell them:\n\n{market}\n\nYour \
                 account:\n\n{dashboard}"
            ),
        ),
        (Lang::En, Past::Beyond) => (
            format!("Troc: {company}'s balance is past the return-to-zero rule"),
            format!(
                "Hello,\n\n{company}'s balance has been negative since {since} ({days} \
                 days): {balance}, past the network's rule of {rule_days} days ({deadline}). \
                 The network's manager will review your account with you: its credit limit \
                 and how to come back to zero. What members are looking for that you could \
                 sell them:\n\n{market}\n\nYour account:\n\n{dashboard}"
            ),
        ),
    };
    with_footer(Kind::ReturnToZero, lang, to, &subject, &body)
}

/// A company whose negative spell passed the network's return-to-zero rule, as the
/// managers' e-mail lists it: its name, the full days negative, its balance (formatted) and
/// its page in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastRuleLine {
    pub company: String,
    pub days: i64,
    pub balance: String,
    pub link: String,
}

/// Tells a network manager which companies' spells passed the return-to-zero rule of
/// `rule_days` days (`lines`, and `more` not listed), to review at `reviews`.
pub fn return_to_zero_managers(
    lang: Lang,
    to: &str,
    lines: &[PastRuleLine],
    more: i64,
    rule_days: i64,
    reviews: &str,
) -> Result<Mail, MailError> {
    let count = lines.len() as i64 + more;
    let mut listed = String::new();
    for line in lines {
        let PastRuleLine {
            company,
            days,
            balance,
            link,
        } = line;
        let text = match lang {
            Lang::Fr => format!("{company} : négatif depuis {days} jours, solde {balance}"),
            Lang::En => format!("{company}: negative for {days} days, balance {balance}"),
        };
        listed.push_str(&format!("- {text}\n  {link}\n"));
    }
    if more > 0 {
        listed.push_str(&match lang {
            Lang::Fr => format!("- et {more} de plus\n"),
            Lang::En => format!("- and {more} more\n"),
        });
    }
    let (subject, body) = match lang {
        Lang::Fr => {
            let what = if count == 1 {
                "1 membre a dépassé la règle de retour à zéro".to_owned()
            } else {
                format!("{count} membres ont dépassé la règle de retour à zéro")
            };
            (
                format!("Troc : {what}"),
                format!(
                    "Bonjour,\n\n{what} ({rule_days} jours) ; chacun en a été averti et sait que \
                     vous allez revoir son compte avec lui.\n\n{listed}\nLes listes de \
                     revue :\n\n{reviews}"
                ),
            )
        }
        Lang::En => {
            let what = if count == 1 {
                "1 member is past the return-to-zero rule".to_owned()
            } else {
                format!("{count} members are past the return-to-zero rule")
            };
            (
                format!("Troc: {what}"),
                format!(
                    "Hello,\n\n{what} ({rule_days} days); each was told and knows you will \
                     review its account with it.\n\n{listed}\nThe review lists:\n\n{reviews}"
                ),
            )
        }
    };
    with_footer(Kind::ReturnToZero, lang, to, &subject, &body)
}

/// What a set-off run cancelled on a company's invoices: `amount` (formatted) on those it is
/// owed, and as much on those it owes (a set-off leaves its position unchanged), over
/// `invoices` of them; the detail at `link`.
#[derive(Debug, Clone, Copy)]
pub struct SetoffMail<'a> {
    pub run: i64,
    pub invoices: i64,
    pub amount: &'a str,
    pub link: &'a str,
}

/// Tells a user of a company what a set-off run cancelled on its invoices.
pub fn setoff_run(lang: Lang, to: &str, mail: &SetoffMail<'_>) -> Result<Mail, MailError> {
    let SetoffMail {
        run,
        invoices,
        amount,
        link,
    } = *mail;
    let (subject, body) = match lang {
        Lang::Fr => (
            format!("Troc : la compensation n° {run} a réduit vos factures"),
            format!(
                "Bonjour,\n\nLa compensation n° {run} du réseau a réduit de {amount} les \
                 factures en euros que d'autres membres vous doivent, et d'autant celles que \
                 vous leur devez ({invoices} factures), sans aucun paiement. Passez \
                 l'écriture de compensation (411 / 401) dans vos livres ; le détail, facture \
                 par facture :\n\n{link}"
            ),
        ),
        Lang::En => (
            format!("Troc: set-off n° {run} reduced your invoices"),
            format!(
                "Hello,\n\nThe network's set-off n° {run} reduced by {amount} the euro \
                 invoices other members owe you, and by as much those you owe them \
                 ({invoices} invoices), with no payment. Book the set-off (411 / 401) in your \
                 books; the detail, invoice by invoice:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::Setoff, lang, to, &subject, &body)
}

/// A staff user's payment waiting for the owner's approval: `staff` (an address) would pay
/// `amount` to `payee`; decided at `link`.
pub fn approval_waiting(
    lang: Lang,
    to: &str,
    staff: &str,
    payee: &str,
    amount: &str,
    link: &str,
) -> Result<Mail, MailError> {
    let (subject, body) = match lang {
        Lang::Fr => (
            "Troc : un paiement attend votre approbation".to_owned(),
            format!(
                "Bonjour,\n\n{staff} a saisi un paiement de {amount} à {payee} qui dépasse son \
                 plafond : il attend votre approbation.\n\nPour l'approuver ou le refuser :\n\n\
                 {link}"
            ),
        ),
        Lang::En => (
            "Troc: a payment waits for your approval".to_owned(),
            format!(
                "Hello,\n\n{staff} entered a payment of {amount} to {payee} over their limit: \
                 it waits for your approval.\n\nTo approve or refuse it:\n\n{link}"
            ),
        ),
    };
    with_footer(Kind::ApprovalWaiting, lang, to, &subject, &body)
}

/// One payment in a digest of payments received, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedLine {
    pub time: String,
    pub payer: String,
    pub amount: String,
    pub reference: String,
}

/// What a digest of payments received says: `company` received `count` payments for
/// `total` (formatted) during `period` (as text); `lines` are the first of them (the others
/// are counted); the history is at `link`.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedDigest<'a> {
    pub company: &'a str,
    pub period: &'a str,
    pub count: i64,
    pub total: &'a str,
    pub lines: &'a [ReceivedLine],
    pub link: &'a str,
}

/// The digest of the payments a company received, to `to`.
pub fn payments_received(
    lang: Lang,
    to: &str,
    digest: &ReceivedDigest<'_>,
) -> Result<Mail, MailError> {
    let count = digest.count;
    let others = count - digest.lines.len() as i64;
    let mut listed = String::new();
    for line in digest.lines {
        let reference = match (lang, line.reference.is_empty()) {
            (_, true) => String::new(),
            (Lang::Fr, false) => format!(" (réf. {})", line.reference),
            (Lang::En, false) => format!(" (ref. {})", line.reference),
        };
        listed.push_str(&format!(
            "- {}  {}  {}{reference}\n",
            line.time, line.payer, line.amount
        ));
    }
    let (company, period, total, link) = (digest.company, digest.period, digest.total, digest.link);
    let (subject, body) = match lang {
        Lang::Fr => {
            let what = if count == 1 {
                "1 paiement reçu".to_owned()
            } else {
                format!("{count} paiements reçus")
            };
            if others > 0 {
                listed.push_str(&format!("- et {others} de plus\n"));
            }
            (
                format!("Troc : {what}, {total}"),
                format!(
                    "Bonjour,\n\n{company} : {what} {period}, pour {total} en tout.\n\n\
                     {listed}\nL'historique du compte :\n\n{link}"
                ),
            )
        }
        Lang::En => {
            let what = if count == 1 {
                "1 payment received".to_owned()
            } else {
                format!("{count} payments received")
            };
            if others > 0 {
                listed.push_str(&format!("- and {others} more\n"));
            }
            (
                format!("Troc: {what}, {total}"),
                format!(
                    "Hello,\n\n{company}: {what} {period}, {total} in all.\n\n{listed}\nThe \
                     account's history:\n\n{link}"
                ),
            )
        }
    };
    with_footer(Kind::PaymentsReceived, lang, to, &subject, &body)
}

/// What the network's manager did to a company's account, as its notice tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkAction {
    /// The limits were set (by hand, or granting the company's request): the credit limit
    /// and the upper limit of the balance (`None`: none), before and after.
    Limits {
        credit_before: ledger::Amount,
        credit_after: ledger::Amount,
        max_before: Option<ledger::Amount>,
        max_after: Option<ledger::Amount>,
    },
    /// The company's request for a credit limit of `asked` was declined.
    LimitRequestDeclined { asked: ledger::Amount },
    /// The account may receive but not pay.
    Frozen,
    /// The account may pay again.
    Unfrozen,
    /// The network's fees change at `effective` (`None`: at once); told to every company.
    FeesChanged {
        effective: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// A notice of `action` on `company`'s account by `actor` (the manager's address), for
/// `reason`; read more at `link`.
#[derive(Debug, Clone, Copy)]
pub struct ActionNotice<'a> {
    pub company: &'a str,
    pub actor: &'a str,
    pub reason: &'a str,
    pub action: &'a NetworkAction,
    pub link: &'a str,
}

/// The e-mail telling `to` what the network's manager did to its company's account.
pub fn network_action(lang: Lang, to: &str, notice: &ActionNotice<'_>) -> Result<Mail, MailError> {
    let ActionNotice {
        company,
        actor,
        reason,
        action,
        link,
    } = *notice;
    let amount = |a: ledger::Amount| lang.amount(a);
    let upper = |a: Option<ledger::Amount>| match (lang, a) {
        (_, Some(a)) => lang.amount(a),
        (Lang::Fr, None) => "aucun".to_owned(),
        (Lang::En, None) => "none".to_owned(),
    };
    let (subject, what) = match (lang, action) {
        (
            Lang::Fr,
            NetworkAction::Limits {
                credit_before,
                credit_after,
                max_before,
                max_after,
            },
        ) => {
            let mut what = format!(
                "a changé les limites du compte de {company} :\n\n- limite de crédit : {} → \
                 {}\n",
                amount(*credit_before),
                amount(*credit_after)
            );
            if max_before != max_after {
                what.push_str(&format!(
                    "- plafond du solde : {} → {}\n",
                    upper(*max_before),
                    upper(*max_after)
                ));
            }
            (
                format!("Troc : les limites du compte de {company} ont changé"),
                what,
            )
        }
        (
            Lang::En,
            NetworkAction::Limits {
                credit_before,
                credit_after,
                max_before,
                max_after,
            },
        ) => {
            let mut what = format!(
                "changed the limits of {company}'s account:\n\n- credit limit: {} → {}\n",
                amount(*credit_before),
                amount(*credit_after)
            );
            if max_before != max_after {
                what.push_str(&format!(
                    "- upper limit of the balance: {} → {}\n",
                    upper(*max_before),
                    upper(*max_after)
                ));
            }
            (
                format!("Troc: the limits of {company}'s account changed"),
                what,
            )
        }
        (Lang::Fr, NetworkAction::LimitRequestDeclined { asked }) => (
            "Troc : demande de limite de crédit refusée".to_owned(),
            format!(
                "a refusé la demande de {company} d'une limite de crédit de {}.\n",
                amount(*asked)
            ),
        ),
        (Lang::En, NetworkAction::LimitRequestDeclined { asked }) => (
            "Troc: credit limit request declined".to_owned(),
            format!(
                "declined {company}'s request for a credit limit of {}.\n",
                amount(*asked)
            ),
        ),
        (Lang::Fr, NetworkAction::Frozen) => (
            format!("Troc : le compte de {company} est gelé"),
            format!(
                "a gelé le compte de {company} : il peut encore recevoir des paiements, mais \
                 plus en faire.\n"
            ),
        ),
        (Lang::En, NetworkAction::Frozen) => (
            format!("Troc: {company}'s account is frozen"),
            format!(
                "froze {company}'s account: it may still receive payments, but not make \
                 any.\n"
            ),
        ),
        (Lang::Fr, NetworkAction::Unfrozen) => (
            format!("Troc : le compte de {company} n'est plus gelé"),
            format!("a dégelé le compte de {company} : il peut de nouveau payer.\n"),
        ),
        (Lang::En, NetworkAction::Unfrozen) => (
            format!("Troc: {company}'s account is no longer frozen"),
            format!("unfroze {company}'s account: it may pay again.\n"),
        ),
        (Lang::Fr, NetworkAction::FeesChanged { effective }) => {
            let when = match effective {
                Some(at) => format!("à partir du {} (UTC)", at.format("%d/%m/%Y %H:%M")),
                None => "dès maintenant".to_owned(),
            };
            (
                "Troc : les frais du réseau changent".to_owned(),
                format!("a fixé de nouveaux frais, en vigueur {when}.\n"),
            )
        }
        (Lang::En, NetworkAction::FeesChanged { effective }) => {
            let when = match effective {
                Some(at) => format!("from {} (UTC)", at.format("%Y-%m-%d %H:%M")),
                None => "at once".to_owned(),
            };
            (
                "Troc: the network's fees change".to_owned(),
                format!("set new fees, in force {when}.\n"),
            )
        }
    };
    let body = match lang {
        Lang::Fr => format!(
            "Bonjour,\n\nLe gestionnaire du réseau ({actor}) {what}\nMotif : {reason}\n\n\
             Pour en savoir plus :\n\n{link}"
        ),
        Lang::En => format!(
            "Hello,\n\nThe network's manager ({actor}) {what}\nReason: {reason}\n\nTo know \
             more:\n\n{link}"
        ),
    };
    with_footer(Kind::NetworkAction, lang, to, &subject, &body)
}

/// A listing in the weekly e-mail of new listings, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLine {
    pub title: String,
    /// Who posted it, and where.
    pub company: String,
    pub city: String,
    /// `None`: on quote (or a want).
    pub price: Option<String>,
}

/// What the weekly e-mail of new listings says to `company`: posted during `period` (as
/// text), offers that meet its wants (`to_buy`) and wants its offers could fill
/// (`to_sell`); all suggestions at `link`.
#[derive(Debug, Clone, Copy)]
pub struct MatchesDigest<'a> {
    pub company: &'a str,
    pub period: &'a str,
    pub to_buy: &'a [MatchLine],
    pub to_sell: &'a [MatchLine],
    pub link: &'a str,
}

/// The weekly e-mail of the new listings that could interest a company, to `to`.
pub fn matches(lang: Lang, to: &str, digest: &MatchesDigest<'_>) -> Result<Mail, MailError> {
    let lines = |list: &[MatchLine]| -> String {
        list.iter()
            .map(|l| {
                let price = l
                    .price
                    .as_deref()
                    .map(|p| format!(" — {p}"))
                    .unwrap_or_default();
                format!("- {} — {}, {}{price}\n", l.title, l.company, l.city)
            })
            .collect()
    };
    let MatchesDigest {
        company,
        period,
        to_buy,
        to_sell,
        link,
    } = *digest;
    let (subject, intro, buy, sell, all) = match lang {
        Lang::Fr => (
            format!("Troc : du nouveau sur la place de marché pour {company}"),
            format!("De nouvelles annonces parues {period} peuvent intéresser {company}."),
            "À acheter, des offres qui répondent à vos demandes :",
            "À vendre, des demandes que vos offres pourraient satisfaire :",
            "Toutes les suggestions :",
        ),
        Lang::En => (
            format!("Troc: new on the marketplace for {company}"),
            format!("New listings posted {period} may interest {company}."),
            "To buy, offers that meet your wants:",
            "To sell, wants your offers could fill:",
            "All suggestions:",
        ),
    };
    let hello = match lang {
        Lang::Fr => "Bonjour,",
        Lang::En => "Hello,",
    };
    let mut body = format!("{hello}\n\n{intro}\n\n");
    if !to_buy.is_empty() {
        body.push_str(&format!("{buy}\n\n{}\n", lines(to_buy)));
    }
    if !to_sell.is_empty() {
        body.push_str(&format!("{sell}\n\n{}\n", lines(to_sell)));
    }
    body.push_str(&format!("{all}\n\n{link}"));
    with_footer(Kind::Matches, lang, to, &subject, &body)
}

/// What the monthly statement says to `company` of `month` (« novembre 2026 »): its
/// balance at the start and at the end, what came in and went out, how many operations; its
/// limits and available credit `today` (when the e-mail is made), and what its balance
/// calls for (`reminders`, in words); the detailed statement at `link`. Amounts are
/// formatted in the recipient's language.
#[derive(Debug, Clone, Copy)]
pub struct StatementMail<'a> {
    pub company: &'a str,
    pub month: &'a str,
    pub opening: &'a str,
    pub incoming: &'a str,
    pub outgoing: &'a str,
    pub closing: &'a str,
    pub operations: i64,
    pub credit_limit: &'a str,
    /// `None`: no upper limit.
    pub max_balance: Option<&'a str>,
    pub available: &'a str,
    pub reminders: &'a [String],
    pub link: &'a str,
}

/// The monthly statement of a company's account, to `to`.
pub fn statement(lang: Lang, to: &str, mail: &StatementMail<'_>) -> Result<Mail, MailError> {
    let StatementMail {
        company,
        month,
        opening,
        incoming,
        outgoing,
        closing,
        operations,
        credit_limit,
        max_balance,
        available,
        reminders,
        link,
    } = *mail;
    let notes: String = reminders.iter().map(|r| format!("- {r}\n")).collect();
    let (subject, body) = match lang {
        Lang::Fr => {
            let count = match operations {
                0 => "Aucune opération ce mois-ci.".to_owned(),
                1 => "1 opération ce mois-ci.".to_owned(),
                n => format!("{n} opérations ce mois-ci."),
            };
            let max = max_balance
                .map(|m| format!(", plafond {m}"))
                .unwrap_or_default();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("À noter :\n\n{notes}\n")
            };
            (
                format!("Troc : relevé de {month}, solde {closing}"),
                format!(
                    "Bonjour,\n\nLe relevé du compte de {company} pour {month} (UTC) :\n\n\
                     - Solde en début de mois : {opening}\n\
                     - Entrées : {incoming}\n\
                     - Sorties : {outgoing}\n\
                     - Solde en fin de mois : {closing}\n\n\
                     {count}\n\n\
                     Aujourd'hui : limite de crédit {credit_limit}{max}, crédit disponible \
                     {available}.\n\n\
                     {notes}Le relevé détaillé, opération par opération :\n\n{link}"
                ),
            )
        }
        Lang::En => {
            let count = match operations {
                0 => "No operations this month.".to_owned(),
                1 => "1 operation this month.".to_owned(),
                n => format!("{n} operations this month."),
            };
            let max = max_balance
                .map(|m| format!(", upper limit {m}"))
                .unwrap_or_default();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("Please note:\n\n{notes}\n")
            };
            (
                format!("Troc: statement for {month}, balance {closing}"),
                format!(
                    "Hello,\n\nThe statement of {company}'s account for {month} (UTC):\n\n\
                     - Balance at the start of the month: {opening}\n\
                     - In: {incoming}\n\
                     - Out: {outgoing}\n\
                     - Balance at the end of the month: {closing}\n\n\
                     {count}\n\n\
                     Today: credit limit {credit_limit}{max}, available credit {available}.\n\n\
                     {notes}The detailed statement, operation by operation:\n\n{link}"
                ),
            )
        }
    };
    with_footer(Kind::Statement, lang, to, &subject, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managers_list_of_companies_past_the_rule_counts_what_it_does_not_list() {
        let line = |n: i64| PastRuleLine {
            company: format!("C{n}"),
            days: 400 + n,
            balance: "-1,00".into(),
            link: format!("https://t/admin/members/{n}"),
        };
        let lines: Vec<PastRuleLine> = (1..=20).map(line).collect();
        let full =
            return_to_zero_managers(Lang::Fr, "g@t.fr", &lines, 0, 365, "https://t/r").unwrap();
        assert_eq!(
            full.subject(),
            "Troc : 20 membres ont dépassé la règle de retour à zéro"
        );
        assert_eq!(full.body().matches("\n- C").count(), 20);
        assert!(full
            .body()
            .contains("- C20 : négatif depuis 420 jours, solde -1,00\n"));
        assert!(!full.body().contains("de plus"));
        let over =
            return_to_zero_managers(Lang::En, "g@t.fr", &lines, 1, 365, "https://t/r").unwrap();
        assert_eq!(
            over.subject(),
            "Troc: 21 members are past the return-to-zero rule"
        );
        assert!(over.body().contains("- and 1 more\n"));
        let one =
            return_to_zero_managers(Lang::Fr, "g@t.fr", &lines[..1], 0, 30, "https://t/r").unwrap();
        assert_eq!(
            one.subject(),
            "Troc : 1 membre a dépassé la règle de retour à zéro"
        );
        assert!(one.body().contains("(30 jours)"));
    }

    #[test]
    fn two_step_changes_say_who_turned_it_off() {
        let on =
            two_step_changed(Lang::En, "a@b.fr", "2026-12-07 13:30", TwoStepChange::On).unwrap();
        assert_eq!(on.subject(), "Troc: two-step login turned on");
        assert!(on.body().contains("on 2026-12-07 13:30 (UTC)"));
        let off = TwoStepChange::Off;
        let by_user = two_step_changed(Lang::En, "a@b.fr", "now", off).unwrap();
        assert_eq!(by_user.subject(), "Troc: two-step login turned off");
        assert!(!by_user.body().contains("manager, at your request"));
        let by_manager = TwoStepChange::OffByManager;
        let by_manager = two_step_changed(Lang::En, "a@b.fr", "now", by_manager).unwrap();
        assert!(by_manager
            .body()
            .contains("by the network's manager, at your request"));
        let fr = two_step_changed(Lang::Fr, "a@b.fr", "now", TwoStepChange::OffByManager);
        assert!(fr.unwrap().body().contains("par le gestionnaire du réseau"));
    }

    #[test]
    fn mails_are_checked_when_built() {
        assert!(Mail::new(Kind::Invitation, "a@b.fr", "Hi", "Body").is_ok());
        assert_eq!(
            Mail::new(Kind::Invitation, "not an address", "Hi", "Body"),
            Err(MailError::Address("not an address".into()))
        );
        assert_eq!(
            Mail::new(Kind::Invitation, "a@b.fr", "", "Body"),
            Err(MailError::Subject)
        );
        assert_eq!(
            Mail::new(Kind::Invitation, "a@b.fr", "Hi\r\nBcc: x@y.fr", "Body"),
            Err(MailError::Subject)
        );
        let subject = "s".repeat(SUBJECT_LEN_MAX);
        assert!(Mail::new(Kind::Invitation, "a@b.fr", &subject, "Body").is_ok());
        let subject = "s".repeat(SUBJECT_LEN_MAX + 1);
        assert_eq!(
            Mail::new(Kind::Invitation, "a@b.fr", &subject, "Body"),
            Err(MailError::Subject)
        );
        let body = "é".repeat(BODY_LEN_MAX);
        assert!(Mail::new(Kind::Invitation, "a@b.fr", "Hi", &body).is_ok());
        let body = "é".repeat(BODY_LEN_MAX + 1);
        assert_eq!(
            Mail::new(Kind::Invitation, "a@b.fr", "Hi", &body),
            Err(MailError::Body)
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(BACKOFF.after(1), 30);
        assert_eq!(BACKOFF.after(2), 60);
        assert_eq!(BACKOFF.after(7), 1_920);
        assert_eq!(BACKOFF.after(8), BACKOFF_MAX_SECONDS);
        assert_eq!(BACKOFF.after(ATTEMPTS_MAX), BACKOFF_MAX_SECONDS);
        // The attempts take about 17 hours.
        let total: i64 = (1..ATTEMPTS_MAX).map(|n| BACKOFF.after(n)).sum();
        assert!((16 * 3_600..18 * 3_600).contains(&total), "{total}");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "Troc <noreply@troc.example>").is_ok());
        assert!(Mailer::new("smtps://u:p@smtp.example.org", "noreply@troc.example").is_ok());
        assert!(matches!(
            Mailer::new("http://example.org", "noreply@troc.example"),
            Err(MailError::Setting(_))
        ));
        let Err(MailError::Setting(text)) =
            Mailer::new("ftp://u:s3cret@example.org", "noreply@troc.example")
        else {
            panic!("an unknown scheme is refused");
        };
        assert!(!text.contains("s3cret"), "{text}");
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:2525", "not an address"),
            Err(MailError::Setting(_))
        ));
    }

    #[test]
    fn messages_carry_their_link() {
        for lang in Lang::ALL {
            let mail = password_reset(
                lang,
                "a@b.fr",
                "https://t.example/password/reset/ab",
                60,
                AskedBy::User,
            )
            .unwrap();
            assert!(mail.body().contains("https://t.example/password/reset/ab"));
            assert!(mail.body().contains("60 minutes"), "{}", mail.body());
            let mail =
                password_reset(lang, "a@b.fr", "https://t/r", 1_440, AskedBy::Manager).unwrap();
            let day = if lang == Lang::Fr {
                "24 heures"
            } else {
                "24 hours"
            };
            assert!(mail.body().contains(day), "{}", mail.body());
            assert!(!mail.body().contains("(you, probably)"));
            assert!(!mail.body().contains("(vous, sans doute)"));
            let mail = invitation(lang, "a@b.fr", "Alice", "Boulangerie", "https://t/i/x").unwrap();
            assert!(mail.body().contains("https://t/i/x"));
            assert!(mail.body().contains("Alice") && mail.body().contains("Boulangerie"));
            let mail = password_changed(lang, "a@b.fr", "2026-12-07 10:00").unwrap();
            assert!(mail.body().contains("2026-12-07 10:00"));
        }
    }

    #[test]
    fn a_limits_notice_names_only_what_changed() {
        let action = NetworkAction::Limits {
            credit_before: ledger::Amount::from_minor(50_000),
            credit_after: ledger::Amount::from_minor(75_000),
            max_before: None,
            max_after: None,
        };
        let notice = ActionNotice {
            company: "Alpha",
            actor: "gestion@troc.fr",
            reason: "Revue annuelle",
            action: &action,
            link: "https://t/credit-limit",
        };
        let fr = network_action(Lang::Fr, "a@b.fr", &notice).unwrap();
        assert_eq!(
            fr.subject(),
            "Troc : les limites du compte de Alpha ont changé"
        );
        assert!(
            fr.body().contains("- limite de crédit : 500,00 → 750,00\n"),
            "{}",
            fr.body()
        );
        assert!(!fr.body().contains("plafond"), "{}", fr.body());
        assert!(fr.body().contains("Motif : Revue annuelle"));
        let action = NetworkAction::Limits {
            credit_before: ledger::Amount::from_minor(50_000),
            credit_after: ledger::Amount::from_minor(75_000),
            max_before: Some(ledger::Amount::from_minor(100)),
            max_after: None,
        };
        let en = network_action(
            Lang::En,
            "a@b.fr",
            &ActionNotice {
                action: &action,
                ..notice
            },
        )
        .unwrap();
        assert!(
            en.body()
                .contains("- upper limit of the balance: 1.00 → none\n"),
            "{}",
            en.body()
        );
        assert!(en.body().contains("https://t/credit-limit"));
    }

    #[test]
    fn the_weekly_listings_say_only_the_sides_that_have_some() {
        let line = MatchLine {
            title: "Audit".into(),
            company: "Beta".into(),
            city: "Lyon".into(),
            price: Some("1 200,00".into()),
        };
        let digest = MatchesDigest {
            company: "Alpha",
            period: "du 30/11/2026 au 06/12/2026",
            to_buy: std::slice::from_ref(&line),
            to_sell: &[],
            link: "https://t/market/for-you",
        };
        let fr = matches(Lang::Fr, "a@b.fr", &digest).unwrap();
        assert_eq!(
            fr.subject(),
            "Troc : du nouveau sur la place de marché pour Alpha"
        );
        assert!(fr.body().contains("parues du 30/11/2026 au 06/12/2026"));
        assert!(fr.body().contains("- Audit — Beta, Lyon — 1 200,00\n"));
        assert!(fr.body().contains("À acheter"));
        assert!(!fr.body().contains("À vendre"), "{}", fr.body());
        let want = MatchLine {
            price: None,
            ..line.clone()
        };
        let en = matches(
            Lang::En,
            "a@b.fr",
            &MatchesDigest {
                to_buy: &[],
                to_sell: std::slice::from_ref(&want),
                ..digest
            },
        )
        .unwrap();
        assert!(en.body().contains("To sell"), "{}", en.body());
        assert!(!en.body().contains("To buy"), "{}", en.body());
        assert!(
            en.body().contains("- Audit — Beta, Lyon\n"),
            "{}",
            en.body()
        );
    }

    #[test]
    fn a_statement_gives_the_months_figures_and_what_the_balance_calls_for() {
        let reminders = vec!["Vendez.".to_owned()];
        let mail = StatementMail {
            company: "Alpha",
            month: "novembre 2026",
            opening: "-100,00",
            incoming: "500,00",
            outgoing: "250,00",
            closing: "150,00",
            operations: 3,
            credit_limit: "1 000,00",
            max_balance: Some("5 000,00"),
            available: "1 150,00",
            reminders: &reminders,
            link: "https://t/statement?month=2026-11",
        };
        let fr = statement(Lang::Fr, "a@b.fr", &mail).unwrap();
        assert_eq!(fr.subject(), "Troc : relevé de novembre 2026, solde 150,00");
        for line in [
            "- Solde en début de mois : -100,00\n",
            "- Entrées : 500,00\n",
            "- Sorties : 250,00\n",
            "- Solde en fin de mois : 150,00\n",
            "3 opérations ce mois-ci.",
            "limite de crédit 1 000,00, plafond 5 000,00, crédit disponible 1 150,00.",
            "À noter :\n\n- Vendez.\n",
            "https://t/statement?month=2026-11",
        ] {
            assert!(fr.body().contains(line), "{line} in {}", fr.body());
        }
        let quiet = StatementMail {
            operations: 0,
            max_balance: None,
            reminders: &[],
            month: "November 2026",
            ..mail
        };
        let en = statement(Lang::En, "a@b.fr", &quiet).unwrap();
        assert_eq!(
            en.subject(),
            "Troc: statement for November 2026, balance 150,00"
        );
        assert!(
            en.body().contains("No operations this month."),
            "{}",
            en.body()
        );
        assert!(
            en.body()
                .contains("credit limit 1 000,00, available credit"),
            "{}",
            en.body()
        );
        assert!(!en.body().contains("Please note"), "{}", en.body());
        assert!(!en.body().contains("upper limit"), "{}", en.body());
    }

    #[test]
    fn the_follow_ups_of_a_request_name_the_other_company_and_the_dates() {
        let request = RequestFollowUp {
            counterparty: "Beta",
            amount: "50,00",
            reference: "FA-77",
            due: "31/01/2027",
            payable_until: "02/03/2027",
            link: "https://t/requests/7",
        };
        let overdue = request_overdue(Lang::Fr, "a@b.fr", &request).unwrap();
        assert_eq!(
            overdue.subject(),
            "Troc : la demande de paiement de Beta est échue"
        );
        assert!(overdue
            .body()
            .contains("(50,00, référence : FA-77) était à payer le 31/01/2027"));
        assert!(overdue.body().contains("payable jusqu'au 02/03/2027"));
        assert!(overdue.body().contains("https://t/requests/7"));
        let declined = request_declined(Lang::En, "a@b.fr", &request).unwrap();
        assert_eq!(
            declined.subject(),
            "Troc: Beta declined your payment request"
        );
        assert!(declined.body().contains("for 50,00 (reference: FA-77)"));
        let expired = request_expired(Lang::Fr, "a@b.fr", &request).unwrap();
        assert_eq!(
            expired.subject(),
            "Troc : votre demande de paiement à Beta a expiré"
        );
        assert!(expired
            .body()
            .contains("à payer le 31/01/2027) n'a été ni payée ni refusée au 02/03/2027"));
    }

    #[test]
    fn the_e_mails_of_an_order_name_the_offer_the_parties_and_the_last_day() {
        let order = OrderMail {
            title: "Audit",
            buyer: "Alpha",
            seller: "Beta",
            amount: "1 200,00",
            deliver_by: "21/12/2026",
            link: "https://t/orders/3",
        };
        let placed = order_placed(Lang::Fr, "a@b.fr", &order).unwrap();
        assert_eq!(placed.subject(), "Troc : nouvelle commande de Alpha");
        assert!(placed
            .body()
            .contains("Alpha commande « Audit » pour 1 200,00."));
        assert!(placed.body().contains("au plus tard le 21/12/2026"));
        assert!(placed.body().contains("https://t/orders/3"));
        let delivered = order_delivered(Lang::En, "a@b.fr", &order).unwrap();
        assert_eq!(delivered.subject(), "Troc: Beta delivered your order");
        assert!(delivered.body().contains("the 1 200,00 held are paid"));
        let cancelled = order_cancelled(Lang::Fr, "a@b.fr", &order, "Beta").unwrap();
        assert_eq!(
            cancelled.subject(),
            "Troc : Beta a annulé la commande « Audit »"
        );
        let expiring = order_expiring(Lang::Fr, "a@b.fr", &order).unwrap();
        assert_eq!(
            expiring.subject(),
            "Troc : la commande « Audit » de Alpha expire le 21/12/2026"
        );
        assert!(expiring
            .body()
            .contains("Confirmez la livraison au plus tard le 21/12/2026 pour être payé"));
        let expired = order_expired(Lang::Fr, "a@b.fr", &order).unwrap();
        assert!(expired.body().contains(
            "La commande « Audit » de Alpha à Beta (1 200,00) n'a pas été livrée au 21/12/2026"
        ));
    }

    #[test]
    fn the_managers_e_mail_lists_what_waits_with_its_links() {
        let lines = vec![
            InboxLine {
                item: InboxItem::Application {
                    name: "Boulangerie Martin".into(),
                    city: "Lyon".into(),
                },
                link: "https://t/admin/applications/4".into(),
            },
            InboxLine {
                item: InboxItem::LimitRequest {
                    member: "Alpha".into(),
                    asked: "2 000,00".into(),
                    before: "1 000,00".into(),
                },
                link: "https://t/admin/limit-requests/2".into(),
            },
        ];
        let fr = network_inbox(Lang::Fr, "g@t.fr", &lines, 3, "https://t/admin").unwrap();
        assert_eq!(fr.subject(), "Troc : 5 demandes à traiter");
        assert!(fr.body().contains(
            "- Demande d'adhésion : Boulangerie Martin (Lyon)\n  https://t/admin/applications/4\n"
        ));
        assert!(fr
            .body()
            .contains("- Alpha demande une limite de crédit de 2 000,00 (aujourd'hui 1 000,00)\n"));
        assert!(fr.body().contains("- et 3 de plus\n"));
        let en = network_inbox(Lang::En, "g@t.fr", &lines[..1], 0, "https://t/admin").unwrap();
        assert_eq!(en.subject(), "Troc: 1 request to handle");
        assert!(!en.body().contains("more"));
    }

    #[test]
    fn each_step_of_a_dispute_says_who_did_what() {
        let mail = DisputeMail {
            payer: "Alpha",
            payee: "Beta",
            amount: "120,00",
            text: "Jamais livré",
            link: "https://t/disputes",
        };
        let opened = dispute(Lang::Fr, "a@b.fr", DisputeStep::Opened, &mail).unwrap();
        assert_eq!(
            opened.subject(),
            "Troc : Alpha conteste un paiement de 120,00"
        );
        assert!(opened
            .body()
            .contains("Sa raison :\n\n« Jamais livré »\n\nRépondez-lui"));
        assert!(opened.body().contains("https://t/disputes"));
        let dismissed = dispute(
            Lang::En,
            "a@b.fr",
            DisputeStep::Dismissed,
            &DisputeMail { text: "", ..mail },
        )
        .unwrap();
        assert_eq!(
            dismissed.subject(),
            "Troc: the network dismissed the dispute"
        );
        assert!(
            !dismissed.body().contains("Its note"),
            "{}",
            dismissed.body()
        );
        assert!(dismissed
            .body()
            .contains("from Alpha to Beta: the payment stands."));
        let reversed = dispute(Lang::Fr, "a@b.fr", DisputeStep::Reversed, &mail).unwrap();
        assert!(reversed.body().contains("Sa note : « Jamais livré »"));
    }

    #[test]
    fn a_digest_lists_its_first_payments_and_counts_the_others() {
        let lines = vec![
            ReceivedLine {
                time: "10:12".into(),
                payer: "Boulangerie Martin".into(),
                amount: "450,00".into(),
                reference: "F-12".into(),
            },
            ReceivedLine {
                time: "10:40".into(),
                payer: "Garage Dupont".into(),
                amount: "20,00".into(),
                reference: String::new(),
            },
        ];
        let digest = ReceivedDigest {
            company: "Alpha",
            period: "between 10:00 and 11:00",
            count: 5,
            total: "1 000,00",
            lines: &lines,
            link: "https://t/history",
        };
        let fr = payments_received(Lang::Fr, "a@b.fr", &digest).unwrap();
        assert_eq!(fr.subject(), "Troc : 5 paiements reçus, 1 000,00");
        assert!(fr
            .body()
            .contains("- 10:12  Boulangerie Martin  450,00 (réf. F-12)\n"));
        assert!(fr.body().contains("- 10:40  Garage Dupont  20,00\n"));
        assert!(fr.body().contains("- et 3 de plus\n"), "{}", fr.body());
        assert!(fr.body().contains("https://t/history"));
        let en =
            payments_received(Lang::En, "a@b.fr", &ReceivedDigest { count: 2, ..digest }).unwrap();
        assert_eq!(en.subject(), "Troc: 2 payments received, 1 000,00");
        assert!(!en.body().contains("more"), "{}", en.body());
        assert!(en.body().contains("(ref. F-12)"));
        let one = payments_received(
            Lang::En,
            "a@b.fr",
            &ReceivedDigest {
                count: 1,
                lines: &lines[..1],
                ..digest
            },
        )
        .unwrap();
        assert_eq!(one.subject(), "Troc: 1 payment received, 1 000,00");
    }
}
