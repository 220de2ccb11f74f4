//! The member web front: server-rendered HTML (axum + askama) that works without JavaScript.
//!
//! Each feature module owns its router; [`app`] merges them under one middleware that finds
//! the session, picks the language and checks CSRF tokens (see `session`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::store::Store;

pub mod accounting;
pub mod accounting_mapping;
pub mod api;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod console;
pub mod credit;
pub mod departure;
pub mod disputes;
pub mod error;
pub mod health;
pub mod i18n;
pub mod invoices;
pub mod keys;
pub mod limits;
pub mod market;
pub mod members;
pub mod money;
pub mod network;
pub mod news;
pub mod notices;
pub mod password;
pub mod record;
pub mod refunds;
pub mod session;
pub mod setoff;
pub mod signed;
pub mod standing;
pub mod templates;
pub mod tokens;
pub mod trades;
pub mod two_step;
pub mod webhooks;

pub use error::{AppError, AppResult};

/// Whether cookies carry the `Secure` attribute (set it when the site is served over TLS,
/// directly or behind a proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecurity {
    Secure,
    Plain,
}

/// How long `serve` lets requests in flight finish after SIGTERM, unless configured.
pub const SHUTDOWN_GRACE_DEFAULT: std::time::Duration = std::time::Duration::from_secs(20);

/// Whether the public open-data page (`/open-data`) is served (the `open_data` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenData {
    Off,
    Published,
}

/// Settings of the web front.
#[derive(Debug, Clone)]
pub struct Config {
    cookie_security: CookieSecurity,
    /// The site's public URL, used in invitation links (no trailing slash).
    base_url: String,
    /// After SIGTERM, how long requests in flight may take before the server stops anyway.
    shutdown_grace: std::time::Duration,
    open_data: OpenData,
    /// Where members' webhooks may point (`crate::webhooks::Targets`).
    webhook_targets: crate::webhooks::Targets,
}

impl Config {
    pub fn new(cookie_security: CookieSecurity, base_url: &str) -> Config {
        Config {
            cookie_security,
            base_url: base_url.trim_end_matches('/').to_owned(),
            shutdown_grace: SHUTDOWN_GRACE_DEFAULT,
            open_data: OpenData::Off,
            webhook_targets: crate::webhooks::Targets::Public,
        }
    }

    /// Lets webhooks point where `targets` says (public HTTPS addresses unless asked).
    pub fn with_webhook_targets(mut self, targets: crate::webhooks::Targets) -> Config {
        self.webhook_targets = targets;
        self
    }

    pub fn webhook_targets(&self) -> crate::webhooks::Targets {
        self.webhook_targets
    }

    pub fn with_shutdown_grace(mut self, grace: std::time::Duration) -> Config {
        self.shutdown_grace = grace;
        self
    }

    pub fn shutdown_grace(&self) -> std::time::Duration {
        self.shutdown_grace
    }

    /// Publishes (or not) the open-data page; off unless asked.
    pub fn with_open_data(mut self, open_data: OpenData) -> Config {
        self.open_data = open_data;
        self
    }

    pub fn open_data_published(&self) -> bool {
        self.open_data == OpenData::Published
    }

    pub fn cookie_secure(&self) -> bool {
        self.cookie_security == CookieSecurity::Secure
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// Failed logins per email (`session::login_limiter`).
    pub login_limiter: Arc<limits::RateLimiter>,
    /// The rate limiters per client IP and per API token (`limits`).
    pub limits: Arc<limits::Limits>,
    /// Bounds the accountant exports streaming at once (`export::download`).
    pub downloads: crate::export::download::DownloadLimiter,
    /// Delivers the members' webhooks while the server runs (`serve` sets it; without it,
    /// nothing is delivered, as in most tests).
    pub webhooks: Option<crate::webhooks::Sender>,
    /// Sends e-mail through the operator's SMTP relay (`serve --smtp-url`; without it, no
    /// e-mail is queued and the pages show links to whoever may see them instead).
    pub mail: Option<crate::mail::Mailer>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            login_limiter: Arc::new(session::login_limiter()),
            limits: Arc::new(limits::Limits::default()),
            downloads: crate::export::download::DownloadLimiter::default(),
            webhooks: None,
            mail: None,
        }
    }

    /// The same state sending e-mail through `mailer` (queued by the routes, sent while
    /// [`serve_until`] runs).
    pub fn with_mail(mut self, mailer: crate::mail::Mailer) -> AppState {
        self.mail = Some(mailer);
        self
    }

    /// The same state delivering webhooks with `sender` while [`serve_until`] runs.
    pub fn with_webhooks(mut self, sender: crate::webhooks::Sender) -> AppState {
        self.webhooks = Some(sender);
        self
    }

    /// The same state with these rate limits and trusted proxies.
    pub fn with_limits(mut self, settings: &limits::LimitSettings) -> AppState {
        self.limits = Arc::new(limits::Limits::new(settings));
        self
    }
}

/// E-mails an invitation to `to` (its `link`, from `inviter`, to join `company`'s account, or
/// the network's staff when empty) when the server sends e-mail; whether it was queued.
pub(crate) async fn mail_invitation(
    state: &AppState,
    lang: i18n::Lang,
    to: &str,
    inviter: &str,
    company: &str,
    link: &str,
) -> crate::store::StoreResult<bool> {
    if state.mail.is_none() {
        return Ok(false);
    }
    let Ok(message) = crate::mail::invitation(lang, to, inviter, company, link) else {
        return Ok(false);
    };
    let queued = crate::mail::enqueue(&state.store, &message, crate::people::now_unix()).await?;
    Ok(queued.is_ok())
}

/// Whether invitation links were also e-mailed (when the server sends e-mail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emailed {
    Yes,
    No,
}

/// E-mails each new member's owner its invitation (members created by a manager, an
/// approved application or an import), from `inviter`, when the server sends e-mail.
/// `Emailed::Yes` when every one was queued.
pub(crate) async fn mail_new_owners(
    state: &AppState,
    lang: i18n::Lang,
    inviter: &str,
    created: &[crate::console::members::CreatedMember],
) -> crate::store::StoreResult<Emailed> {
    if state.mail.is_none() || created.is_empty() {
        return Ok(Emailed::No);
    }
    let mut every = true;
    // Bounded by what one creation makes (an import: `console::IMPORT_LINES_MAX` lines).
    for member in created {
        let link = member.invitation.link(state.config.base_url());
        let queued = mail_invitation(
            state,
            lang,
            &member.invitation.email,
            inviter,
            &member.name,
            &link,
        )
        .await?;
        every &= queued;
    }
    Ok(if every { Emailed::Yes } else { Emailed::No })
}

/// How often `serve` expires holds, requests and sessions.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

const STYLESHEET: &str = include_str!("../../static/troc.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The whole site, ready to serve or to call from tests with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/static/troc.css", get(stylesheet))
        .merge(auth::router())
        .merge(two_step::router())
        .merge(news::router())
        .merge(health::router())
        .merge(audit::router())
        .merge(money::router())
        .merge(trades::router())
        .merge(market::router())
        .merge(members::router())
        .merge(record::router())
        .merge(console::router())
        .merge(accounting::router())
        .merge(accounting_mapping::router())
        .merge(network::router())
        .merge(tokens::router())
        .merge(keys::router())
        .merge(webhooks::router())
        .merge(password::router())
        .merge(signed::router())
        .merge(refunds::router())
        .merge(credit::router())
        .merge(departure::router())
        .merge(disputes::router())
        .merge(setoff::router())
        .merge(standing::router())
        .merge(invoices::router())
        .merge(approvals::router())
        .merge(api::router())
        .fallback(not_found)
        // Inside the session middleware, so that refusals are drawn in the user's language.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn(limits::body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        // Bodies are bounded by `limits::body_limit` (per route) and forms by the session
        // middleware; extractors add no limit of their own.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(security_headers))
        // Outermost: every response, errors included, gets a request id and is measured.
        .layer(axum::middleware::from_fn(health::track))
        .with_state(state)
}

/// The Content-Security-Policy of every response: the pages load nothing but the site's own
/// style sheet, run no script, post forms only to the site, and are framed by no other site.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// Adds the security headers to every response (errors included): the policy above, no MIME
/// sniffing, no framing (for browsers that ignore `frame-ancestors`), and no `Referer` to
/// other sites (a page's address may hold a one-time link's token).
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{
        CONTENT_SECURITY_POLICY as CSP, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    use axum::http::HeaderValue;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(CSP)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Serves the site on `addr` until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    serve_on(state, bind(addr).await?).await
}

/// Binds the listening socket (port 0 picks a free port: see `local_addr`).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// Serves the site on `listener` until Ctrl-C or SIGTERM. Then, in this order: the listener
/// is closed (new connections are refused), idle connections are closed, requests in flight
/// run to their end (each waits for its write batch to commit, so every answer a client
/// receives is durable), the housekeeping task finishes the sweep it is in, and this
/// returns. Requests still running after the configured grace period are abandoned: their
/// clients get no answer, and what they submitted is either committed by the writer before
/// the store closes or not at all (a batch is one database transaction).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_until(state, listener, shutdown_signal()).await
}

/// Like [`serve_on`], stopping the same way when `stop_requested` completes instead of on a signal:
/// for the stories that run the whole server, housekeeping included, in a test binary
/// (where a signal handler would take the signal from every test).
pub async fn serve_until(
    state: AppState,
    listener: tokio::net::TcpListener,
    stop_requested: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(housekeeping(state.clone(), stopping.clone()));
    let deliverer = state.webhooks.clone().map(|sender| {
        let mut stopping = stopping.clone();
        tokio::spawn(crate::webhooks::run_until(
            state.store.clone(),
            sender,
            async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
            },
        ))
    });
    let mailer = state.mail.clone().map(|mailer| {
        let mut stopping = stopping.clone();
        tokio::spawn(crate::mail::run_until(
            state.store.clone(),
            mailer,
            async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
            },
        ))
    });
    let grace = state.config.shutdown_grace();
    let signal = {
        let stop = stop.clone();
        async move {
            stop_requested.await;
            let _ = stop.send(true);
        }
    };
    let server = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let mut deadline = stopping.clone();
    let served = tokio::select! {
        served = std::future::IntoFuture::into_future(server) => served,
        () = async {
            let _ = deadline.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period: stopping anyway");
            Ok(())
        }
    };
    let _ = stop.send(true);
    if sweeper.await.is_err() {
        tracing::warn!("the housekeeping task failed");
    }
    if let Some(deliverer) = deliverer {
        if deliverer.await.is_err() {
            tracing::warn!("the webhook task failed");
        }
    }
    if let Some(mailer) = mailer {
        if mailer.await.is_err() {
            tracing::warn!("the mail task failed");
        }
    }
    tracing::info!("stopped serving");
    served
}

/// Housekeeping that must not wait for someone to open a page: release expired order holds
/// (through the ledger), expire unpaid requests and payments nobody approved in time, pay the
/// standing orders due, drop expired sessions and past months of staff spending. Stops
/// between two sweeps when `stopping` turns true, never in the middle of one.
async fn housekeeping(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.wait_for(|stopping| *stopping) => return,
        }
        if let Err(error) = trades::sweep_orders(&state).await {
            tracing::warn!(%error, "could not expire order holds");
        }
        if let Err(error) = crate::trade::expire_requests(&state.store).await {
            tracing::warn!(%error, "could not expire payment requests");
        }
        if let Err(error) = crate::approvals::expire_overdue(&state.store).await {
            tracing::warn!(%error, "could not expire payments waiting for approval");
        }
        let today = chrono::Utc::now().date_naive();
        match crate::standing::run_due(&state.store, today).await {
            Ok(swept) if swept.paid + swept.refused > 0 => {
                tracing::info!(
                    paid = swept.paid,
                    refused = swept.refused,
                    "standing orders paid"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not pay standing orders"),
        }
        if let Err(error) = crate::people::purge_sessions(&state.store).await {
            tracing::warn!(%error, "could not purge expired sessions");
        }
        if let Err(error) = crate::tokens::purge_remembered(&state.store).await {
            tracing::warn!(%error, "could not purge remembered API answers");
        }
        let now = crate::people::now_unix();
        if let Err(error) = crate::people::purge_password_resets(&state.store, now).await {
            tracing::warn!(%error, "could not purge expired password reset links");
        }
        if let Err(error) = crate::mail::purge(&state.store, now).await {
            tracing::warn!(%error, "could not purge old e-mails");
        }
        if let Err(error) = crate::spending::prune(&state.store, now).await {
            tracing::warn!(%error, "could not prune past months of staff spending");
        }
        notices::run_due(&state, now).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
