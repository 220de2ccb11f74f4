//! Sessions, the current user, CSRF protection and the user's language.
//!
//! One middleware does it all for every request: it reads the session cookie, finds the
//! session, picks the language, and on every state-changing request checks the form's
//! `csrf` field against the session's synchronizer token before any handler runs. A POST
//! that does not carry the right token never reaches a handler, so no form can forget it.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::error::{AppError, ErrorPage};
use super::i18n::{Lang, Tr};
use super::limits::{self, RateLimit, RateLimiter};
use super::templates::{Chrome, ErrorTemplate};
use super::AppState;
use crate::people::{self, Member, Role, SessionRow, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "troc_session";
/// The language cookie's name (for visitors who are not logged in).
pub const LANG_COOKIE: &str = "troc_lang";
/// Largest form body accepted, in bytes.
pub const FORM_BODY_LEN_MAX: usize = 64 * 1024;
/// Largest `multipart/form-data` body accepted (file uploads: a member import and its
/// form fields), in bytes.
pub const MULTIPART_BODY_LEN_MAX: usize = crate::console::import::IMPORT_FILE_LEN_MAX + 16 * 1024;
/// Failed logins allowed per email within [`LOGIN_WINDOW_SECONDS`].
pub const LOGIN_FAILURES_MAX: u32 = 5;
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Emails the login limiter remembers at most; older entries are dropped first.
pub const LOGIN_LIMITER_ENTRIES_MAX: usize = 10_000;

/// What the middleware learnt about the request, available to handlers as an extractor.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub session: Option<SessionRow>,
}

impl Ctx {
    pub fn tr(&self) -> Tr {
        Tr { lang: self.lang }
    }

    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().and_then(|s| s.user.as_ref())
    }

    pub fn chrome(&self) -> Chrome {
        Chrome::new(self.tr(), self.session.as_ref())
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Ctx, AppError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("session middleware missing".into()))
    }
}

/// A logged-in user. Extracting it redirects visitors to the login page.
#[derive(Debug, Clone)]
pub struct Auth {
    pub ctx: Ctx,
    pub user: User,
    pub csrf: String,
    pub session_hash: String,
}

impl Auth {
    pub fn tr(&self) -> Tr {
        self.ctx.tr()
    }

    pub fn chrome(&self) -> Chrome {
        self.ctx.chrome()
    }

    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses a member accountant (403): pages about the other members (directory,
    /// marketplace) are not theirs to see.
    pub fn refuse_member_accountant(&self) -> Result<(), AppError> {
        if self.user.role == Role::MemberAccountant {
            Err(AppError::Forbidden)
        } else {
            Ok(())
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, AppError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let session = ctx.session.clone().ok_or(AppError::LoginRequired)?;
        let user = session.user.clone().ok_or(AppError::LoginRequired)?;
        if session.two_step_due && !reached_without_two_step(parts.uri.path()) {
            return Err(AppError::TwoStepDue);
        }
        Ok(Auth {
            ctx,
            user,
            csrf: session.csrf_token,
            session_hash: session.token_hash,
        })
    }
}

/// The pages a user reaches whom the network requires two-step login of before it turns it
/// on (every other page that needs a login sends it to `/account/two-step`).
pub const TWO_STEP_DUE_PATHS: [&str; 1] = ["/account/two-step"];

fn reached_without_two_step(path: &str) -> bool {
    TWO_STEP_DUE_PATHS.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// A user who acts for a member company (owner or staff), with the company. A member
/// accountant is refused (403): every route that takes this extractor may change something
/// or act for the company; read-only pages take [`MemberReader`].
#[derive(Debug, Clone)]
pub struct MemberAuth {
    pub auth: Auth,
    pub member: Member,
}

impl MemberAuth {
    pub fn tr(&self) -> Tr {
        self.auth.tr()
    }

    pub fn chrome(&self) -> Chrome {
        self.auth.chrome()
    }

    pub fn is_owner(&self) -> bool {
        self.auth.user.role == Role::Owner
    }
}

impl FromRequestParts<AppState> for MemberAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<MemberAuth, AppError> {
        let reader = MemberReader::from_request_parts(parts, state).await?;
        if !matches!(reader.auth.user.role, Role::Owner | Role::Staff) {
            return Err(AppError::Forbidden);
        }
        Ok(MemberAuth {
            auth: reader.auth,
            member: reader.member,
        })
    }
}

/// Someone who may read a member company's books: its owner, its staff or its member
/// accountant, with the company. Only for pages that change nothing.
#[derive(Debug, Clone)]
pub struct MemberReader {
    pub auth: Auth,
    pub member: Member,
}

impl MemberReader {
    pub fn tr(&self) -> Tr {
        self.auth.tr()
    }

    pub fn chrome(&self) -> Chrome {
        self.auth.chrome()
    }
}

impl From<MemberAuth> for MemberReader {
    fn from(auth: MemberAuth) -> MemberReader {
        MemberReader {
            auth: auth.auth,
            member: auth.member,
        }
    }
}

impl FromRequestParts<AppState> for MemberReader {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<MemberReader, AppError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if !auth.user.role.is_member_role() {
            return Err(AppError::Forbidden);
        }
        let member_id = auth.user.member_id.ok_or(AppError::Forbidden)?;
        let member = people::member(&state.store, member_id)
            .await?
            .ok_or(AppError::Forbidden)?;
        Ok(MemberReader { auth, member })
    }
}

/// Failed logins per email: [`LOGIN_FAILURES_MAX`] in [`LOGIN_WINDOW_SECONDS`], then the
/// email is refused until the window ends (the generic limiter, counting failures only). In
/// memory: a restart forgets, which only gives an attacker a few more guesses per restart.
pub fn login_limiter() -> RateLimiter {
    let limit = RateLimit::new(LOGIN_FAILURES_MAX, LOGIN_WINDOW_SECONDS as u32)
        .expect("the login throttle is a valid rate limit");
    RateLimiter::new(limit, LOGIN_LIMITER_ENTRIES_MAX)
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value for a session token.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        people::SESSION_TTL_SECONDS
    );
    HeaderValue::from_str(&value).expect("tokens are hex")
}

pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .expect("static cookie")
}

pub fn lang_cookie(state: &AppState, lang: Lang) -> HeaderValue {
    let secure = if state.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.code()
    ))
    .expect("static cookie")
}

/// Makes sure the visitor has a session (anonymous if need be) so that a form can carry a
/// CSRF token; returns the token and the cookie to set when a session was created.
pub async fn ensure_session(
    state: &AppState,
    ctx: &Ctx,
) -> Result<(String, Option<HeaderValue>), AppError> {
    if let Some(session) = &ctx.session {
        return Ok((session.csrf_token.clone(), None));
    }
    let token = people::create_session(&state.store, None).await?;
    let session = people::find_session(&state.store, &token)
        .await?
        .ok_or_else(|| AppError::Internal("new session not found".into()))?;
    Ok((session.csrf_token, Some(session_cookie(state, &token))))
}

fn lang_for(headers: &HeaderMap, session: Option<&SessionRow>) -> Lang {
    if let Some(user) = session.and_then(|s| s.user.as_ref()) {
        if let Some(lang) = Lang::parse(&user.lang) {
            return lang;
        }
    }
    if let Some(lang) = cookie_value(headers, LANG_COOKIE).and_then(Lang::parse) {
        return lang;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::Fr)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<&str> {
    let rest = content_type.strip_prefix("multipart/form-data")?;
    rest.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .find(|b| !b.is_empty() && b.len() <= 200)
}

/// The value of a small text field of a multipart body (the CSRF token), read before any
/// handler runs. Only a part whose disposition names exactly `name` and no file counts.
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let text = String::from_utf8_lossy(body);
    // Bounded: a body of at most MULTIPART_BODY_LEN_MAX bytes has few parts worth reading.
    for part in text.split(delimiter.as_str()).skip(1).take(64) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(disposition) = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
        else {
            continue;
        };
        let is_field =
            disposition.split(';').any(|p| p.trim() == wanted) && !disposition.contains("filename");
        if is_field {
            return Some(value.strip_suffix("\r\n").unwrap_or(value).to_owned());
        }
    }
    None
}

/// The middleware described in the module documentation.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    // The NUL character reaches no handler: PostgreSQL's text cannot hold it.
    let nul_in_address = holds_nul(parts.uri.path().as_bytes())
        || parts.uri.query().is_some_and(|q| holds_nul(q.as_bytes()));
    if super::api::is_api_path(parts.uri.path()) {
        if nul_in_address {
            return super::api::problem_for_error_page(AppError::NulCharacter.into_response());
        }
        // The JSON API authenticates every request by its `Authorization: Bearer` token
        // (`http::api`) and never by the session cookie, so a forged cross-site request
        // carries no credential: no session is looked up and no CSRF token is checked.
        let ctx = Ctx {
            lang: lang_for(&parts.headers, None),
            session: None,
        };
        parts.extensions.insert(ctx);
        let response = next.run(Request::from_parts(parts, body)).await;
        return super::api::problem_for_error_page(response);
    }
    let session = match cookie_value(&parts.headers, SESSION_COOKIE) {
        Some(token) if !token.is_empty() && token.len() <= 128 => {
            match people::find_session(&state.store, token).await {
                Ok(session) => session,
                Err(error) => return AppError::from(error).into_response(),
            }
        }
        _ => None,
    };
    let lang = lang_for(&parts.headers, session.as_ref());
    let ctx = Ctx { lang, session };
    if nul_in_address {
        return render_error(&ctx, AppError::NulCharacter.into_response());
    }
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        body
    } else {
        match check_csrf(&ctx, &parts.headers, body).await {
            Ok(bytes) if body_holds_nul(&parts.headers, &bytes) => {
                return render_error(&ctx, AppError::NulCharacter.into_response())
            }
            Ok(bytes) => Body::from(bytes),
            Err(AppError::TooLarge)
                if limits::error_format(parts.uri.path(), &parts.headers)
                    == limits::ErrorFormat::Problem =>
            {
                return limits::payload_too_large(limits::ErrorFormat::Problem, FORM_BODY_LEN_MAX)
            }
            Err(error) => return render_error(&ctx, error.into_response()),
        }
    };
    parts.extensions.insert(ctx.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    render_error(&ctx, response)
}

/// Whether `bytes` (a form body, a path or a query string) hold the NUL character, raw or
/// percent-encoded.
fn holds_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// Whether a request body holds the NUL character: percent-encoded only in a form, where
/// `%00` means it (in a multipart upload, `%00` is just text of the file).
fn body_holds_nul(headers: &HeaderMap, bytes: &[u8]) -> bool {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        holds_nul(bytes)
    } else {
        bytes.contains(&0)
    }
}

async fn check_csrf(
    ctx: &Ctx,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, AppError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let boundary = multipart_boundary(content_type);
    let limit = if boundary.is_some() {
        MULTIPART_BODY_LEN_MAX
    } else {
        FORM_BODY_LEN_MAX
    };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::TooLarge)?;
    let expected = ctx.session.as_ref().map(|s| s.csrf_token.as_str());
    let given = match (is_form, boundary) {
        (true, _) => form_field(&bytes, "csrf"),
        (false, Some(boundary)) => multipart_field(&bytes, boundary, "csrf"),
        (false, None) => None,
    };
    match (expected, given) {
        (Some(expected), Some(given)) if people::constant_time_eq(expected, &given) => Ok(bytes),
        _ => Err(AppError::Csrf),
    }
}

/// Draws the error page in the user's language for responses that carry an [`ErrorPage`].
fn render_error(ctx: &Ctx, response: Response) -> Response {
    let Some(page) = response.extensions().get::<ErrorPage>().copied() else {
        return response;
    };
    let t = ctx.tr();
    let message: std::borrow::Cow<'static, str> = match page {
        ErrorPage::NotFound => t.error_not_found().into(),
        ErrorPage::Forbidden => t.error_forbidden().into(),
        ErrorPage::Csrf => t.error_csrf().into(),
        ErrorPage::TooLarge => t.error_too_large().into(),
        ErrorPage::BadRequest => t.error_bad_request().into(),
        ErrorPage::NulCharacter => t.error_nul_character().into(),
        ErrorPage::TooManyRequests(retry) => t.error_too_many_requests(retry.seconds()).into(),
        ErrorPage::Unavailable => t.error_unavailable().into(),
        ErrorPage::Internal => t.error_internal().into(),
    };
    let status = response.status();
    // The page replaces the body; headers that tell the client what to do next stay.
    let retry_after = response.headers().get(RETRY_AFTER).cloned();
    let template = ErrorTemplate {
        c: ctx.chrome(),
        message: &message,
    };
    let mut page = match askama::Template::render(&template) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.into_owned()).into_response(),
    };
    if let Some(value) = retry_after {
        page.headers_mut().insert(RETRY_AFTER, value);
    }
    page
}

/// Adds a `Set-Cookie` header to a response.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_due_for_two_step_reaches_only_its_page() {
        for path in [
            "/account/two-step",
            "/account/two-step/start",
            "/account/two-step/qr.svg",
        ] {
            assert!(reached_without_two_step(path), "{path}");
        }
        for path in [
            "/account",
            "/account/two-steps",
            "/admin",
            "/",
            "/account/two-step-x",
        ] {
            assert!(!reached_without_two_step(path), "{path}");
        }
    }

    #[test]
    fn finds_the_nul_raw_or_percent_encoded() {
        assert!(holds_nul(b"memo=a%00b&csrf=x"));
        assert!(holds_nul(b"memo=a\0b"));
        assert!(!holds_nul(b"memo=100%25&amount=%3000"));
        assert!(!holds_nul(b""));
    }

    #[test]
    fn a_multipart_upload_may_hold_the_text_percent_00() {
        let mut form = HeaderMap::new();
        form.insert(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let mut upload = HeaderMap::new();
        upload.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=B".parse().unwrap(),
        );
        assert!(body_holds_nul(&form, b"memo=%00"));
        assert!(!body_holds_nul(&upload, b"remise 100%00 sur tout"));
        assert!(body_holds_nul(&upload, b"a\0b"));
    }

    #[test]
    fn reads_the_csrf_field_of_a_multipart_body() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"csrf\"\r\n\
                    Content-Type: text/csv\r\n\r\nname=\"csrf\"\r\n--XyZ\r\n\
                    Content-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n--XyZ--\r\n";
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=XyZ"),
            Some("XyZ")
        );
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\""),
            Some("XyZ")
        );
        assert_eq!(multipart_boundary("text/plain; boundary=XyZ"), None);
        assert_eq!(
            multipart_field(body.as_bytes(), "XyZ", "csrf").as_deref(),
            Some("abc123")
        );
        assert_eq!(multipart_field(body.as_bytes(), "XyZ", "other"), None);
        let only_file = "--B\r\nContent-Disposition: form-data; name=\"csrf\"; filename=\"x\"\r\n\r\nabc\r\n--B--";
        assert_eq!(multipart_field(only_file.as_bytes(), "B", "csrf"), None);
    }
}
