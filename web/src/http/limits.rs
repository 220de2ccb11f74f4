//! Limits on what a client may send, and how often.
//!
//! - **Rate limits.** One generic fixed-window [`RateLimiter`], keyed by any string (a client
//!   IP, an email, an API token id) and bounded in memory. The site uses it four times:
//!   failed logins per email (`AppState::login_limiter`, in the login handler), login
//!   attempts per client IP and money-moving requests per client IP (the [`rate_limit`]
//!   middleware, on [`LOGIN_ROUTES`] and [`PAYMENT_ROUTES`]), and API payments per token
//!   (`state.limits.api_payments`, for the JSON API to apply with [`check`]).
//! - **Body limits.** Every request body is bounded ([`body_limit`]): by
//!   [`REQUEST_BODY_LEN_MAX`], or by the route's own limit listed in
//!   [`BODY_LEN_MAX_BY_ROUTE`] (uploads: [`UPLOAD_BODY_LEN_MAX`]). Forms are read by the
//!   session middleware, at most `session::FORM_BODY_LEN_MAX`.
//!
//! A refusal is a 413 or a 429 (with `Retry-After`): the HTML error page in the user's
//! language, or an `application/problem+json` document for `/api/` paths and for clients
//! that ask for JSON ([`error_format`]).
//!
//! The client IP is the socket's peer address; `X-Forwarded-For` is read only when the peer
//! is one of the configured trusted proxies ([`TrustedProxies`], docs/operations.md).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{AppError, ErrorPage};
use super::AppState;

/// Largest request body of any route that does not list its own limit, in bytes.
pub const REQUEST_BODY_LEN_MAX: usize = 1024 * 1024;
/// Largest upload (a CSV file sent through a form), in bytes: routes that take uploads list
/// it (or their own figure) in [`BODY_LEN_MAX_BY_ROUTE`].
pub const UPLOAD_BODY_LEN_MAX: usize = 10 * 1024 * 1024;
/// Routes whose bodies may be larger (or must be smaller) than [`REQUEST_BODY_LEN_MAX`], by
/// their route pattern as the router knows it (`"/admin/import/{kind}"`).
pub const BODY_LEN_MAX_BY_ROUTE: &[(&str, usize)] = &[];

/// Routes whose `POST` counts as a login attempt, per client IP.
/// Asking for a password reset link and using one count the same way.
pub const LOGIN_ROUTES: &[&str] = &[
    "/login",
    "/login/code",
    "/password/forgot",
    "/password/reset/{token}",
];
/// Routes whose `POST` moves money, counted per client IP: paying, accepting a payment
/// request, ordering from an offer, confirming or cancelling an order, checking or paying a
/// signed payment order, refunding a payment received, setting up a standing order (its
/// first payment may be made at once), approving a staff user's payment.
pub const PAYMENT_ROUTES: &[&str] = &[
    "/pay",
    "/standing-orders",
    "/approvals/{id}/approve",
    "/pay/signed",
    "/payments/{id}/refund",
    "/requests/{id}/accept",
    "/market/{id}/order",
    "/orders/{id}/deliver",
    "/orders/{id}/cancel",
];

/// Keys one limiter remembers at most; past it, expired windows are dropped, then the
/// oldest ones (see [`RateLimiter`]).
pub const RATE_LIMITER_KEYS_MAX: usize = 10_000;
/// Longest key kept as given; longer keys are replaced by their SHA-256 (bounded memory).
pub const RATE_KEY_LEN_MAX: usize = 256;
/// Most requests a rate limit may allow per window.
pub const RATE_LIMIT_COUNT_MAX: u32 = 1_000_000;
/// Longest rate-limit window, in seconds (one day).
pub const RATE_LIMIT_WINDOW_SECONDS_MAX: u32 = 86_400;
/// Most networks in the trusted-proxy setting.
pub const TRUSTED_PROXIES_MAX: usize = 64;
/// Most `X-Forwarded-For` hops read, from the right.
pub const FORWARDED_HOPS_MAX: usize = 32;

/// The default login attempts per client IP.
pub const LOGIN_PER_IP_DEFAULT: RateLimit = RateLimit::per(20, 60);
/// The default money-moving requests per client IP.
pub const PAYMENTS_PER_IP_DEFAULT: RateLimit = RateLimit::per(60, 60);
/// The default API payments per token.
pub const API_PAYMENTS_PER_TOKEN_DEFAULT: RateLimit = RateLimit::per(120, 60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{0:?} is not a rate limit: write COUNT/WINDOW, e.g. 20/1m, 5/15m, 100/30s or 1000/1h, or off")]
    RateSyntax(String),
    #[error("a rate limit allows 1 to {RATE_LIMIT_COUNT_MAX} requests per window")]
    RateCount,
    #[error(
        "a rate-limit window lasts 1 second to {RATE_LIMIT_WINDOW_SECONDS_MAX} seconds (1 day)"
    )]
    RateWindow,
    #[error("{0:?} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, ::1)")]
    Network(String),
    #[error("at most {TRUSTED_PROXIES_MAX} trusted proxies")]
    TooManyProxies,
}

/// At most `max` requests per key in each window of `window_seconds`, or no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max: Option<u32>,
    window_seconds: u32,
}

impl RateLimit {
    /// No limit.
    pub const OFF: RateLimit = RateLimit {
        max: None,
        window_seconds: 1,
    };

    /// A checked limit.
    pub fn new(max: u32, window_seconds: u32) -> Result<RateLimit, LimitError> {
        if max == 0 || max > RATE_LIMIT_COUNT_MAX {
            return Err(LimitError::RateCount);
        }
        if window_seconds == 0 || window_seconds > RATE_LIMIT_WINDOW_SECONDS_MAX {
            return Err(LimitError::RateWindow);
        }
        Ok(RateLimit::per(max, window_seconds))
    }

    /// For the constants above (in range by construction).
    const fn per(max: u32, window_seconds: u32) -> RateLimit {
        RateLimit {
            max: Some(max),
            window_seconds,
        }
    }

    pub fn max(&self) -> Option<u32> {
        self.max
    }

    pub fn window_seconds(&self) -> u32 {
        self.window_seconds
    }
}

impl FromStr for RateLimit {
    type Err = LimitError;

    /// `COUNT/WINDOW` with the window in seconds (`30`, `30s`), minutes (`15m`) or hours
    /// (`1h`); `off` for no limit.
    fn from_str(text: &str) -> Result<RateLimit, LimitError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(RateLimit::OFF);
        }
        let syntax = || LimitError::RateSyntax(text.to_owned());
        let (count, window) = text.split_once('/').ok_or_else(syntax)?;
        let count: u32 = count.trim().parse().map_err(|_| syntax())?;
        let window = window.trim();
        let (number, unit) = match window.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((at, _)) => window.split_at(at),
            None => (window, "s"),
        };
        let number: u32 = number.parse().map_err(|_| syntax())?;
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            _ => return Err(syntax()),
        };
        let seconds = number.checked_mul(scale).ok_or(LimitError::RateWindow)?;
        RateLimit::new(count, seconds)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(max) = self.max else {
            return f.write_str("off");
        };
        let w = self.window_seconds;
        match (w % 3_600, w % 60) {
            (0, _) => write!(f, "{max}/{}h", w / 3_600),
            (_, 0) => write!(f, "{max}/{}m", w / 60),
            _ => write!(f, "{max}/{w}s"),
        }
    }
}

/// How long a refused client should wait, in whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(u32);

impl RetryAfter {
    pub fn seconds(&self) -> u32 {
        self.0
    }

    fn header(&self) -> HeaderValue {
        HeaderValue::from(self.0)
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// Counts requests per key in fixed windows: a key's window opens at its first request and
/// lasts the limit's window; within it, `max` requests pass and the next ones are refused
/// (without being counted) until it ends. In memory, per process: a restart forgets, and
/// several `troc` processes behind a load balancer each apply the limit.
///
/// Memory is bounded: at most `keys_max` keys are tracked. When a new key comes and the map
/// is full, expired windows are dropped; if that is not enough, the oldest eighth of the
/// windows is forgotten (those clients start afresh: under a flood of distinct keys the
/// limiter fails open for the oldest, never by growing).
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    keys_max: usize,
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit, keys_max: usize) -> RateLimiter {
        RateLimiter {
            limit,
            keys_max: keys_max.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Counts one request of `key` at `now` (unix seconds), or refuses it when the key's
    /// window is used up.
    pub fn hit(&self, key: &str, now: i64) -> Result<(), RetryAfter> {
        let Some(max) = self.limit.max else {
            return Ok(());
        };
        let key = bounded_key(key);
        let mut windows = self.windows.lock().expect("rate limiter lock");
        if let Some(window) = windows.get_mut(key.as_ref()) {
            self.renew(window, now);
            if window.count >= max {
                return Err(self.retry_after(window, now));
            }
            window.count += 1;
            return Ok(());
        }
        self.make_room(&mut windows, now);
        windows.insert(
            key.into_owned(),
            Window {
                start: now,
                count: 1,
            },
        );
        Ok(())
    }

    /// Whether `key` has used up its window (without counting anything): for limits that
    /// count only failures, such as logins per email.
    pub fn blocked(&self, key: &str, now: i64) -> Option<RetryAfter> {
        let max = self.limit.max?;
        let key = bounded_key(key);
        let mut windows = self.windows.lock().expect("rate limiter lock");
        let window = windows.get_mut(key.as_ref())?;
        self.renew(window, now);
        (window.count >= max).then(|| self.retry_after(window, now))
    }

    /// Counts one event of `key` (a failure) even past the limit.
    pub fn record(&self, key: &str, now: i64) {
        if self.limit.max.is_none() {
            return;
        }
        let key = bounded_key(key);
        let mut windows = self.windows.lock().expect("rate limiter lock");
        if let Some(window) = windows.get_mut(key.as_ref()) {
            self.renew(window, now);
            window.count = window.count.saturating_add(1);
            return;
        }
        self.make_room(&mut windows, now);
        windows.insert(
            key.into_owned(),
            Window {
                start: now,
                count: 1,
            },
        );
    }

    /// Forgets `key` (a successful login clears its failures).
    pub fn clear(&self, key: &str) {
        let key = bounded_key(key);
        self.windows
            .lock()
            .expect("rate limiter lock")
            .remove(key.as_ref());
    }

    /// How many keys are tracked now.
    pub fn tracked_keys(&self) -> usize {
        self.windows.lock().expect("rate limiter lock").len()
    }

    fn window_len(&self) -> i64 {
        i64::from(self.limit.window_seconds)
    }

    /// Opens a new window when the current one is over (or the clock went back).
    fn renew(&self, window: &mut Window, now: i64) {
        if now - window.start >= self.window_len() || now < window.start {
            *window = Window {
                start: now,
                count: 0,
            };
        }
    }

    fn retry_after(&self, window: &Window, now: i64) -> RetryAfter {
        let left = (window.start + self.window_len() - now).clamp(1, i64::from(u32::MAX));
        RetryAfter(left as u32)
    }

    fn make_room(&self, windows: &mut HashMap<String, Window>, now: i64) {
        if windows.len() < self.keys_max {
            return;
        }
        let window_len = self.window_len();
        windows.retain(|_, w| now - w.start < window_len && now >= w.start);
        if windows.len() < self.keys_max {
            return;
        }
        // Still full of live windows: forget the oldest eighth (amortised O(1) per key).
        let mut starts: Vec<i64> = windows.values().map(|w| w.start).collect();
        let nth = (starts.len() / 8).max(1) - 1;
        let (_, threshold, _) = starts.select_nth_unstable(nth);
        let threshold = *threshold;
        windows.retain(|_, w| w.start > threshold);
    }
}

fn bounded_key(key: &str) -> std::borrow::Cow<'_, str> {
    if key.len() <= RATE_KEY_LEN_MAX {
        std::borrow::Cow::Borrowed(key)
    } else {
        use sha2::Digest;
        std::borrow::Cow::Owned(hex::encode(sha2::Sha256::digest(key.as_bytes())))
    }
}

/// One network of the trusted-proxy setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed: a comma-separated list of addresses
/// and networks (`127.0.0.1, ::1, 10.0.0.0/8`). Empty (the default): the header is ignored
/// and the client is the socket's peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    pub fn none() -> TrustedProxies {
        TrustedProxies::default()
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer, unless the peer is a trusted proxy; then the
    /// rightmost `X-Forwarded-For` entry that is not a trusted proxy (entries further left
    /// were written by the client itself and prove nothing).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for entry in forwarded.iter().rev().take(FORWARDED_HOPS_MAX) {
            let Some(ip) = parse_forwarded(entry) else {
                // A malformed hop: nothing to its left can be trusted; the last proxy is
                // the best we know.
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = LimitError;

    fn from_str(text: &str) -> Result<TrustedProxies, LimitError> {
        let mut networks = Vec::new();
        for item in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if networks.len() == TRUSTED_PROXIES_MAX {
                return Err(LimitError::TooManyProxies);
            }
            let bad = || LimitError::Network(item.to_owned());
            let (addr, prefix) = match item.split_once('/') {
                Some((addr, prefix)) => (addr, Some(prefix)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let full = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= full)
                    .ok_or_else(bad)?,
                None => full,
            };
            networks.push(Network {
                addr: canonical(addr),
                prefix,
            });
        }
        Ok(TrustedProxies { networks })
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.networks.iter().map(|n| n.to_string()).collect();
        f.write_str(&list.join(","))
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so that one client has one key.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// The rate-limit key of a client address. IPv6 clients are counted per /64, the block one
/// subscriber usually gets (otherwise one machine could take a fresh address per request).
pub fn ip_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The settings of the limits, from `troc serve`'s flags (docs/operations.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    pub login_per_ip: RateLimit,
    pub payments_per_ip: RateLimit,
    pub api_payments_per_token: RateLimit,
    pub trusted_proxies: TrustedProxies,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            login_per_ip: LOGIN_PER_IP_DEFAULT,
            payments_per_ip: PAYMENTS_PER_IP_DEFAULT,
            api_payments_per_token: API_PAYMENTS_PER_TOKEN_DEFAULT,
            trusted_proxies: TrustedProxies::none(),
        }
    }
}

/// The process's rate limiters (on `AppState::limits`).
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per client IP (every `POST` of [`LOGIN_ROUTES`]).
    pub login: RateLimiter,
    /// Money-moving requests per client IP (every `POST` of [`PAYMENT_ROUTES`]).
    pub payments: RateLimiter,
    /// API payments per token: the API applies it with [`check`], keyed by the token's id.
    pub api_payments: RateLimiter,
    trusted_proxies: TrustedProxies,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        Limits {
            login: RateLimiter::new(settings.login_per_ip, RATE_LIMITER_KEYS_MAX),
            payments: RateLimiter::new(settings.payments_per_ip, RATE_LIMITER_KEYS_MAX),
            api_payments: RateLimiter::new(settings.api_payments_per_token, RATE_LIMITER_KEYS_MAX),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// The client address of a request: `None` when the server did not record the peer
    /// (requests driven in-process, as the tests' `oneshot`; `troc serve` always does).
    pub fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>()?.0;
        Some(self.trusted_proxies.client_ip(peer.ip(), request.headers()))
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(&LimitSettings::default())
    }
}

/// Whether an error should be a problem document or an HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    Html,
    Problem,
}

/// A problem document for the JSON API (`/api/...`) and for clients that accept JSON but
/// not HTML; the HTML page otherwise.
pub fn error_format(path: &str, headers: &HeaderMap) -> ErrorFormat {
    if path == "/api" || path.starts_with("/api/") {
        return ErrorFormat::Problem;
    }
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("json") && !accept.contains("text/html") {
        ErrorFormat::Problem
    } else {
        ErrorFormat::Html
    }
}

/// An RFC 9457 problem document with a stable `code`.
pub fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    });
    (
        status,
        [(CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// A refused request: 429 with `Retry-After`.
pub fn too_many_requests(format: ErrorFormat, retry: RetryAfter) -> Response {
    match format {
        ErrorFormat::Html => AppError::TooManyRequests(retry).into_response(),
        ErrorFormat::Problem => {
            let mut response = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("Too many requests: retry in {} seconds.", retry.seconds()),
            );
            response.headers_mut().insert(RETRY_AFTER, retry.header());
            response
        }
    }
}

/// A refused body: 413.
pub fn payload_too_large(format: ErrorFormat, max: usize) -> Response {
    match format {
        ErrorFormat::Html => AppError::TooLarge.into_response(),
        ErrorFormat::Problem => problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("The request body is larger than {max} bytes."),
        ),
    }
}

/// A request refused by a rate limit; answers 429 with `Retry-After`, as a problem
/// document or the HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry: RetryAfter,
    pub format: ErrorFormat,
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        too_many_requests(self.format, self.retry)
    }
}

/// The reusable check: counts one request of `key` (a token id, an account...) against
/// `limiter`, and refuses it when the key's window is used up. For the JSON API:
///
/// ```text
/// limits::check(&state.limits.api_payments, &token.id.to_string(), ErrorFormat::Problem)?;
/// ```
pub fn check(limiter: &RateLimiter, key: &str, format: ErrorFormat) -> Result<(), RateLimited> {
    limiter
        .hit(key, crate::people::now_unix())
        .map_err(|retry| RateLimited { retry, format })
}

impl From<RetryAfter> for AppError {
    fn from(retry: RetryAfter) -> AppError {
        AppError::TooManyRequests(retry)
    }
}

/// `Retry-After` for an [`AppError::TooManyRequests`] response.
pub(crate) fn retry_after_header(retry: RetryAfter) -> (axum::http::HeaderName, HeaderValue) {
    (RETRY_AFTER, retry.header())
}

impl super::i18n::Tr {
    /// The 429 page: how long to wait, in seconds below two minutes, in minutes above.
    pub fn error_too_many_requests(&self, seconds: u32) -> String {
        use super::i18n::Lang;
        let (count, fr, en) = if seconds < 120 {
            (seconds, "seconde", "second")
        } else {
            (seconds.div_ceil(60), "minute", "minute")
        };
        let plural = if count > 1 { "s" } else { "" };
        match self.lang {
            Lang::Fr => {
                format!("Trop de requêtes en peu de temps. Réessayez dans {count} {fr}{plural}.")
            }
            Lang::En => {
                format!("Too many requests in a short time. Try again in {count} {en}{plural}.")
            }
        }
    }
}

fn matched_route(request: &Request) -> Option<&str> {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
}

/// Applies the per-IP limits of [`LOGIN_ROUTES`] and [`PAYMENT_ROUTES`] before the handler
/// runs. A request whose peer address is unknown is not limited (see [`Limits::client_ip`]).
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let route = matched_route(&request).unwrap_or("");
    let (limiter, name) = if LOGIN_ROUTES.contains(&route) {
        (&state.limits.login, "login")
    } else if PAYMENT_ROUTES.contains(&route) {
        (&state.limits.payments, "payments")
    } else {
        return next.run(request).await;
    };
    let Some(ip) = state.limits.client_ip(&request) else {
        return next.run(request).await;
    };
    match limiter.hit(&ip_key(ip), crate::people::now_unix()) {
        Ok(()) => next.run(request).await,
        Err(retry) => {
            tracing::warn!(%ip, limit = name, retry_after = retry.seconds(), "rate limited");
            too_many_requests(error_format(request.uri().path(), request.headers()), retry)
        }
    }
}

/// The body limit of a route (its pattern, as [`MatchedPath`] gives it).
pub fn body_len_max(route: &str) -> usize {
    BODY_LEN_MAX_BY_ROUTE
        .iter()
        .find(|(r, _)| *r == route)
        .map_or(REQUEST_BODY_LEN_MAX, |(_, max)| *max)
}

/// Bounds every request body: a declared `Content-Length` past the route's limit is refused
/// at once; any other body is cut at the limit, and the handler or extractor reading it gets
/// the same 413.
pub async fn body_limit(request: Request, next: Next) -> Response {
    let max = body_len_max(matched_route(&request).unwrap_or(""));
    let format = error_format(request.uri().path(), request.headers());
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return payload_too_large(format, max);
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, max));
    let response = next.run(Request::from_parts(parts, limited)).await;
    let ours = response.extensions().get::<ErrorPage>().is_some()
        || response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !ours {
        // An extractor's own refusal (plain text): give the same answer as ours.
        return payload_too_large(format, max);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[test]
    fn rate_limits_parse_display_and_refuse_nonsense() {
        let limit: RateLimit = "20/1m".parse().unwrap();
        assert_eq!((limit.max(), limit.window_seconds()), (Some(20), 60));
        assert_eq!(limit.to_string(), "20/1m");
        assert_eq!("5/15m".parse::<RateLimit>().unwrap().window_seconds(), 900);
        assert_eq!(
            "100/30".parse::<RateLimit>().unwrap().to_string(),
            "100/30s"
        );
        assert_eq!(
            "1000/1h".parse::<RateLimit>().unwrap().to_string(),
            "1000/1h"
        );
        assert_eq!("OFF".parse::<RateLimit>().unwrap(), RateLimit::OFF);
        assert_eq!(RateLimit::OFF.to_string(), "off");
        assert_eq!(
            format!("{RATE_LIMIT_COUNT_MAX}/1s")
                .parse::<RateLimit>()
                .unwrap()
                .max(),
            Some(RATE_LIMIT_COUNT_MAX)
        );
        assert_eq!(
            format!("{}/1s", RATE_LIMIT_COUNT_MAX + 1).parse::<RateLimit>(),
            Err(LimitError::RateCount)
        );
        assert_eq!(
            format!("1/{RATE_LIMIT_WINDOW_SECONDS_MAX}")
                .parse::<RateLimit>()
                .unwrap()
                .to_string(),
            "1/24h"
        );
        assert_eq!(
            format!("1/{}", RATE_LIMIT_WINDOW_SECONDS_MAX + 1).parse::<RateLimit>(),
            Err(LimitError::RateWindow)
        );
        for bad in [
            "",
            "20",
            "0/1m",
            "20/0s",
            "20/1d",
            "x/1m",
            "20/m",
            "-1/1m",
            "20/99999999h",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?} accepted");
        }
        for default in [
            LOGIN_PER_IP_DEFAULT,
            PAYMENTS_PER_IP_DEFAULT,
            API_PAYMENTS_PER_TOKEN_DEFAULT,
        ] {
            assert_eq!(default.to_string().parse::<RateLimit>(), Ok(default));
        }
    }

    #[test]
    fn a_key_gets_its_allowance_then_waits_for_the_window_to_end() {
        let limiter = RateLimiter::new(RateLimit::new(3, 60).unwrap(), 100);
        let t0 = 1_000_000;
        for i in 0..3 {
            assert_eq!(limiter.hit("1.2.3.4", t0 + i), Ok(()), "request {i}");
        }
        // One past the limit: refused until the window that opened at t0 ends.
        assert_eq!(limiter.hit("1.2.3.4", t0 + 10), Err(RetryAfter(50)));
        assert_eq!(limiter.hit("1.2.3.4", t0 + 59), Err(RetryAfter(1)));
        // Another key is counted apart.
        assert_eq!(limiter.hit("5.6.7.8", t0 + 10), Ok(()));
        // The window resets.
        assert_eq!(limiter.hit("1.2.3.4", t0 + 60), Ok(()));
        assert_eq!(limiter.hit("1.2.3.4", t0 + 61), Ok(()));
        assert_eq!(limiter.hit("1.2.3.4", t0 + 62), Ok(()));
        assert!(limiter.hit("1.2.3.4", t0 + 63).is_err());
        // A clock that goes back opens a new window rather than blocking forever.
        assert_eq!(limiter.hit("1.2.3.4", t0), Ok(()));
        // No limit: everything passes, nothing is remembered.
        let off = RateLimiter::new(RateLimit::OFF, 10);
        for i in 0..1_000 {
            assert_eq!(off.hit("k", t0 + i), Ok(()));
        }
        assert_eq!(off.tracked_keys(), 0);
    }

    #[test]
    fn failures_block_without_counting_the_checks() {
        // The login-per-email use: check, then record failures only.
        let limiter = RateLimiter::new(RateLimit::new(5, 900).unwrap(), 100);
        let t0 = 50_000;
        for i in 0..5 {
            assert_eq!(limiter.blocked("a@b.fr", t0 + i), None);
            limiter.record("a@b.fr", t0 + i);
        }
        assert_eq!(limiter.blocked("a@b.fr", t0 + 100), Some(RetryAfter(800)));
        assert_eq!(limiter.blocked("a@b.fr", t0 + 899), Some(RetryAfter(1)));
        assert_eq!(limiter.blocked("a@b.fr", t0 + 900), None);
        limiter.record("c@d.fr", t0);
        limiter.clear("c@d.fr");
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_keys() {
        let keys_max = 100;
        let limiter = RateLimiter::new(RateLimit::new(1, 3_600).unwrap(), keys_max);
        let t0 = 10_000;
        // Expired windows go first.
        for i in 0..keys_max {
            limiter.hit(&format!("old-{i}"), t0).unwrap();
        }
        limiter.hit("fresh", t0 + 3_600).unwrap();
        assert_eq!(limiter.tracked_keys(), 1);
        // Live windows: the oldest are forgotten, never more than keys_max are kept.
        for i in 0..10 * keys_max as i64 {
            limiter.hit(&format!("live-{i}"), t0 + 3_600 + i).unwrap();
            assert!(limiter.tracked_keys() <= keys_max);
        }
        // The newest keys are still limited.
        let newest = format!("live-{}", 10 * keys_max - 1);
        assert!(limiter
            .hit(&newest, t0 + 3_600 + 10 * keys_max as i64)
            .is_err());
        // Long keys are stored as a digest: bounded size, still told apart.
        let long_a = "a".repeat(RATE_KEY_LEN_MAX + 1);
        let long_b = format!("{}b", "a".repeat(RATE_KEY_LEN_MAX));
        let limiter = RateLimiter::new(RateLimit::new(1, 60).unwrap(), 10);
        limiter.hit(&long_a, t0).unwrap();
        assert!(limiter.hit(&long_a, t0).is_err());
        limiter.hit(&long_b, t0).unwrap();
        let at_max = "k".repeat(RATE_KEY_LEN_MAX);
        limiter.hit(&at_max, t0).unwrap();
        assert!(limiter.hit(&at_max, t0).is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::none();
        let loopback: TrustedProxies = "127.0.0.1, ::1".parse().unwrap();
        let lan: TrustedProxies = "10.0.0.0/8,127.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let outside: IpAddr = "198.51.100.1".parse().unwrap();
        // Untrusted peers: the header is ignored (a client cannot pick its own key).
        assert_eq!(none.client_ip(local, &headers), local);
        assert_eq!(loopback.client_ip(outside, &headers), outside);
        // A trusted proxy: the rightmost entry it did not add itself.
        assert_eq!(
            loopback.client_ip(local, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.1.2.3".parse().unwrap(),
        );
        assert_eq!(
            lan.client_ip(local, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // A malformed hop: the last proxy stands for the client.
        headers.insert("x-forwarded-for", "junk, 10.1.2.3".parse().unwrap());
        assert_eq!(
            lan.client_ip(local, &headers),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(lan.client_ip(local, &HeaderMap::new()), local);
        // IPv4-mapped peers are IPv4; IPv6 clients are counted per /64.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(loopback.contains(mapped));
        assert_eq!(ip_key(mapped), "127.0.0.1");
        assert_eq!(
            ip_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            ip_key("2001:db8:1:2:bbbb::2".parse().unwrap())
        );
        assert_ne!(
            ip_key("2001:db8:1:2::1".parse().unwrap()),
            ip_key("2001:db8:1:3::1".parse().unwrap())
        );
        for bad in ["localhost", "10.0.0.0/33", "::1/129", "1.2.3"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad:?} accepted");
        }
        let many = vec!["10.0.0.1"; TRUSTED_PROXIES_MAX].join(",");
        assert!(many.parse::<TrustedProxies>().is_ok());
        assert_eq!(
            format!("{many},10.0.0.2").parse::<TrustedProxies>(),
            Err(LimitError::TooManyProxies)
        );
        assert_eq!(lan.to_string(), "10.0.0.0/8,127.0.0.1");
        assert!(TrustedProxies::from_str("").unwrap().is_empty());
    }

    async fn send(
        router: &Router,
        request: axum::http::Request<Body>,
    ) -> (StatusCode, HeaderMap, String) {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// A router whose handlers read the whole body, behind the body limit (and the axum
    /// body limit switched off, as in `app`).
    fn echo_router() -> Router {
        Router::new()
            .route(
                "/echo",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .route(
                "/api/v1/echo",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .route("/ping", get(|| async { "pong" }))
            .layer(axum::middleware::from_fn(body_limit))
            .layer(axum::extract::DefaultBodyLimit::disable())
    }

    fn post_body(
        path: &str,
        len: usize,
        declare: bool,
        accept: Option<&str>,
    ) -> axum::http::Request<Body> {
        let mut builder = axum::http::Request::builder().method("POST").uri(path);
        if declare {
            builder = builder.header(CONTENT_LENGTH, len);
        }
        if let Some(accept) = accept {
            builder = builder.header(ACCEPT, accept);
        }
        builder.body(Body::from(vec![b'x'; len])).unwrap()
    }

    #[tokio::test]
    async fn bodies_are_limited_at_the_limit_and_one_past_it() {
        let router = echo_router();
        let max = REQUEST_BODY_LEN_MAX;
        for declare in [true, false] {
            let (status, _, body) = send(&router, post_body("/echo", max, declare, None)).await;
            assert_eq!(
                (status, body),
                (StatusCode::OK, max.to_string()),
                "declared: {declare}"
            );
            let (status, _, _) = send(&router, post_body("/echo", max + 1, declare, None)).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "declared: {declare}");
            // The API gets a problem document, declared length or not.
            let (status, headers, body) =
                send(&router, post_body("/api/v1/echo", max + 1, declare, None)).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
            let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(problem["status"], 413);
            assert_eq!(problem["code"], "body_too_large");
            assert!(problem["detail"]
                .as_str()
                .unwrap()
                .contains(&max.to_string()));
        }
        // A client asking for JSON gets JSON anywhere; a browser gets the page.
        let (_, headers, _) = send(
            &router,
            post_body("/echo", max + 1, true, Some("application/json")),
        )
        .await;
        assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
        let (_, headers, _) = send(
            &router,
            post_body(
                "/echo",
                max + 1,
                true,
                Some("text/html,application/json;q=0.9"),
            ),
        )
        .await;
        assert_ne!(headers[CONTENT_TYPE], "application/problem+json");
        // A GET that declares a huge body is refused too, before anything reads it.
        let request = axum::http::Request::builder()
            .uri("/ping")
            .header(CONTENT_LENGTH, max + 1)
            .body(Body::from(vec![b'x'; max + 1]))
            .unwrap();
        assert_eq!(
            send(&router, request).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[test]
    fn routes_may_list_their_own_body_limit() {
        assert_eq!(body_len_max("/pay"), REQUEST_BODY_LEN_MAX);
        for (route, max) in BODY_LEN_MAX_BY_ROUTE {
            assert_eq!(body_len_max(route), *max);
            assert!(
                *max <= UPLOAD_BODY_LEN_MAX,
                "{route}: raise UPLOAD_BODY_LEN_MAX instead"
            );
        }
    }

    #[test]
    fn problems_for_the_api_pages_for_browsers() {
        let browser = HeaderMap::new();
        assert_eq!(error_format("/pay", &browser), ErrorFormat::Html);
        assert_eq!(
            error_format("/api/v1/payments", &browser),
            ErrorFormat::Problem
        );
        assert_eq!(error_format("/api", &browser), ErrorFormat::Problem);
        assert_eq!(error_format("/apiary", &browser), ErrorFormat::Html);
        let mut json = HeaderMap::new();
        json.insert(ACCEPT, "application/problem+json".parse().unwrap());
        assert_eq!(error_format("/login", &json), ErrorFormat::Problem);
        let response = too_many_requests(ErrorFormat::Problem, RetryAfter(42));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "42");
        let response = too_many_requests(ErrorFormat::Html, RetryAfter(7));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "7");
        assert!(response.extensions().get::<ErrorPage>().is_some());
    }

    #[test]
    fn check_answers_a_problem_past_the_limit() {
        let limiter = RateLimiter::new(RateLimit::new(2, 60).unwrap(), 10);
        assert!(check(&limiter, "token-1", ErrorFormat::Problem).is_ok());
        assert!(check(&limiter, "token-1", ErrorFormat::Problem).is_ok());
        let refused = check(&limiter, "token-1", ErrorFormat::Problem)
            .unwrap_err()
            .into_response();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().contains_key(RETRY_AFTER));
        assert!(check(&limiter, "token-2", ErrorFormat::Problem).is_ok());
    }
}
