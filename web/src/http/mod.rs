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
pub mod audit;
pub mod auth;
pub mod console;
pub mod error;
pub mod health;
pub mod i18n;
pub mod market;
pub mod members;
pub mod money;
pub mod session;
pub mod templates;
pub mod trades;

pub use error::{AppError, AppResult};

/// Whether cookies carry the `Secure` attribute (set it when the site is served over TLS,
/// directly or behind a proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecurity {
    Secure,
    Plain,
}

/// Settings of the web front.
#[derive(Debug, Clone)]
pub struct Config {
    cookie_security: CookieSecurity,
    /// The site's public URL, used in invitation links (no trailing slash).
    base_url: String,
}

impl Config {
    pub fn new(cookie_security: CookieSecurity, base_url: &str) -> Config {
        Config {
            cookie_security,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
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
    pub login_limiter: Arc<session::LoginLimiter>,
    /// Bounds the accountant exports streaming at once (`export::download`).
    pub downloads: crate::export::download::DownloadLimiter,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            login_limiter: Arc::new(session::LoginLimiter::default()),
            downloads: crate::export::download::DownloadLimiter::default(),
        }
    }
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
        .merge(health::router())
        .merge(audit::router())
        .merge(money::router())
        .merge(trades::router())
        .merge(market::router())
        .merge(members::router())
        .merge(console::router())
        .merge(accounting::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .layer(DefaultBodyLimit::max(session::FORM_BODY_LEN_MAX))
        // Outermost: every response, errors included, gets a request id and is measured.
        .layer(axum::middleware::from_fn(health::track))
        .with_state(state)
}

/// Serves the site on `addr` until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    // Housekeeping that must not wait for someone to open a page: release expired order
    // holds (through the ledger), expire unpaid requests, drop expired sessions.
    let sweeper_state = state.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            tick.tick().await;
            if let Err(error) = trades::sweep_orders(&sweeper_state).await {
                tracing::warn!(%error, "could not expire order holds");
            }
            if let Err(error) = crate::trade::expire_requests(&sweeper_state.store).await {
                tracing::warn!(%error, "could not expire payment requests");
            }
            if let Err(error) = crate::people::purge_sessions(&sweeper_state.store).await {
                tracing::warn!(%error, "could not purge expired sessions");
            }
        }
    });
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    sweeper.abort();
    served
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
