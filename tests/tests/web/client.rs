//! A tiny browser for the HTTP stories: it keeps the session cookie, remembers the last
//! page's CSRF token, and drives the real `app(state)` through `tower::ServiceExt::oneshot`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use web::http::{app, AppState, Config, CookieSecurity};
use web::store::Store;

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The body as sent (downloads that are not text).
    pub bytes: Vec<u8>,
}

impl Page {
    /// The value of the first `name="csrf"` hidden field.
    pub fn csrf(&self) -> Option<String> {
        hidden_value(&self.body, "csrf")
    }

    pub fn assert_contains(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page (status {}):\n{}",
            self.status,
            self.body
        );
    }
}

pub fn hidden_value(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

pub struct Client {
    router: Router,
    pub session: Option<String>,
    pub csrf: Option<String>,
    /// The last page's form token (`name="token"`), added to posts that carry none.
    pub form_token: Option<String>,
    pub accept_language: Option<String>,
    /// The `troc_lang` cookie, when the site set one.
    pub lang_cookie: Option<String>,
    /// The socket peer the server sees (as `troc serve` records it); none by default.
    pub peer: Option<std::net::SocketAddr>,
    /// An `X-Forwarded-For` header to send.
    pub forwarded_for: Option<String>,
}

impl Client {
    pub fn new(state: AppState) -> Client {
        Client {
            router: app(state),
            session: None,
            csrf: None,
            form_token: None,
            accept_language: None,
            lang_cookie: None,
            peer: None,
            forwarded_for: None,
        }
    }

    /// Another visitor of the same site (no cookie).
    pub fn sibling(&self) -> Client {
        Client {
            router: self.router.clone(),
            session: None,
            csrf: None,
            form_token: None,
            accept_language: None,
            lang_cookie: None,
            peer: None,
            forwarded_for: None,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// Posts a form, adding the remembered CSRF token unless the fields carry one.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !fields.iter().any(|(k, _)| k == "csrf") {
            if let Some(csrf) = &self.csrf {
                fields.push(("csrf".into(), csrf.clone()));
            }
        }
        if !fields.iter().any(|(k, _)| k == "token") {
            if let Some(token) = &self.form_token {
                fields.push(("token".into(), token.clone()));
            }
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post_raw(path, body).await
    }

    pub async fn post_raw(&mut self, path: &str, body: String) -> Page {
        let request = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Posts a `multipart/form-data` form with one file part, adding the remembered CSRF
    /// token unless the fields carry one (pass `("csrf", "")` to send none).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &[u8]),
    ) -> Page {
        const BOUNDARY: &str = "troc-test-boundary-7f3a";
        let mut body: Vec<u8> = Vec::new();
        let mut part = |name: &str, filename: Option<&str>, value: &[u8]| {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let disposition = match filename {
                Some(f) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        };
        let mut has_csrf = false;
        for (name, value) in fields {
            has_csrf |= *name == "csrf";
            if !(*name == "csrf" && value.is_empty()) {
                part(name, None, value.as_bytes());
            }
        }
        if !has_csrf {
            if let Some(csrf) = self.csrf.clone() {
                part("csrf", None, csrf.as_bytes());
            }
        }
        part(file.0, Some("members.csv"), file.1);
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = self
            .request("POST", path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    pub async fn post_raw_json(&mut self, path: &str, body: String) -> Page {
        let request = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(path);
        let mut cookies = Vec::new();
        if let Some(session) = &self.session {
            cookies.push(format!("troc_session={session}"));
        }
        if let Some(lang) = &self.lang_cookie {
            cookies.push(format!("troc_lang={lang}"));
        }
        if !cookies.is_empty() {
            builder = builder.header(header::COOKIE, cookies.join("; "));
        }
        if let Some(lang) = &self.accept_language {
            builder = builder.header(header::ACCEPT_LANGUAGE, lang.as_str());
        }
        if let Some(forwarded) = &self.forwarded_for {
            builder = builder.header("x-forwarded-for", forwarded.as_str());
        }
        if let Some(peer) = self.peer {
            builder = builder.extension(axum::extract::ConnectInfo(peer));
        }
        builder
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let set_cookies: Vec<String> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            if let Some(rest) = cookie.strip_prefix("troc_lang=") {
                self.lang_cookie = rest.split(';').next().map(str::to_owned);
            }
            if let Some(rest) = cookie.strip_prefix("troc_session=") {
                let value = rest.split(';').next().unwrap_or("");
                self.session = if value.is_empty() {
                    None
                } else {
                    Some(value.to_owned())
                };
            }
        }
        let page = Page {
            status,
            headers: headers.clone(),
            location: headers
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            set_cookies,
            content_type: headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        };
        if let Some(csrf) = page.csrf() {
            self.csrf = Some(csrf);
        }
        self.form_token = hidden_value(&page.body, "token");
        page
    }

    /// Logs in through the real form; panics if the login fails.
    pub async fn login(&mut self, email: &str, password: &str) {
        self.get("/login").await;
        let page = self
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "login failed: {}",
            page.body
        );
        // Pick up the new session's CSRF token.
        let page = self.get("/account").await;
        assert_eq!(page.status, StatusCode::OK);
    }
}

pub async fn state(url: &str) -> (Store, AppState) {
    let store = Store::connect(url).await.unwrap();
    let state = AppState::new(
        store.clone(),
        Config::new(CookieSecurity::Plain, "http://troc.test"),
    );
    (store, state)
}
