//! The JSON API's stories (docs/api.md), each on both backends.

mod access;
mod approvals;
mod departures;
mod directory;
mod disputes;
mod documents;
mod einvoices;
mod invoices;
mod limit_requests;
mod manage;
mod nul;
mod orders;
mod package;
mod payments;
mod rate_limits;
mod refunds;
mod reversals;
mod setoff;
mod signed;
mod staff_limits;
mod standing;
mod suggestions;
mod trades;
mod web_tokens;
mod webhooks;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use web::http::AppState;
use web::people::{self, Member, Role};
use web::store::Store;
use web::tokens::{self, Scope};

pub use crate::web_front::{balance, two_members, PASSWORD};

/// An answer of the API.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as sent (downloads that are not text).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts a problem document with this status and code; returns it.
    pub fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{}",
            self.text
        );
        let json = self.json();
        assert_eq!(json["code"], code, "{}", self.text);
        assert_eq!(json["status"], status.as_u16());
        assert!(json["title"].is_string() && json["detail"].is_string());
        assert!(json["type"].is_string());
        json
    }

    pub fn ok(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        self.json()
    }
}

/// Drives the real app through `oneshot`.
#[derive(Clone)]
pub struct Api {
    router: Router,
    state: AppState,
}

impl Api {
    pub fn new(state: AppState) -> Api {
        Api {
            router: web::http::app(state.clone()),
            state,
        }
    }

    /// The state the app serves (its limiters, its store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body)),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), &[], None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), &[], Some(body.to_string()))
            .await
    }

    pub async fn post_key(&self, path: &str, token: &str, key: &str, body: Value) -> Answer {
        self.send(
            Method::POST,
            path,
            Some(token),
            &[("idempotency-key", key)],
            Some(body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), &[], Some(body.to_string()))
            .await
    }
}

/// The UTC date `days` from today (negative: past), as `YYYY-MM-DD`.
pub fn day_in(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// How many entries of `action` the action log holds, as `token` reads it.
pub async fn logged(api: &Api, token: &str, action: &str) -> usize {
    let log = api
        .get(&format!("/api/v1/action-log?action={action}"), token)
        .await
        .ok(StatusCode::OK);
    log["items"].as_array().unwrap().len()
}

/// A new token for the user with this email.
pub async fn token(store: &Store, email: &str, scope: Scope) -> String {
    let (user, _) = people::find_login(store, email).await.unwrap().unwrap();
    tokens::create(store, &user, "test", scope, tokens::Lifetime::UNLIMITED)
        .await
        .unwrap()
        .1
}

/// A member accountant `expert@alpha.fr` of `member` (who reads its books and does not
/// trade), and a `read` token of theirs.
pub async fn member_accountant(store: &Store, member: &Member) -> String {
    people::create_user(
        store,
        "expert@alpha.fr",
        PASSWORD,
        "Expert",
        Role::MemberAccountant,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    token(store, "expert@alpha.fr", Scope::Read).await
}

/// The `field` of each item of a page (`{items: [...]}`).
pub fn ids(page: &Value, field: &str) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|item| item[field].as_i64().unwrap())
        .collect()
}

/// The text `field` of each element of a JSON array (a page's `items`, a problem's
/// `errors`).
pub fn texts<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|element| {
            element[field]
                .as_str()
                .unwrap_or_else(|| panic!("no text {field} in {element}"))
        })
        .collect()
}

/// A network manager `gestion@troc.fr` and accountant `compta@troc.fr`.
pub async fn staff(store: &Store) {
    for (email, role) in [
        ("gestion@troc.fr", Role::Manager),
        ("compta@troc.fr", Role::Accountant),
    ] {
        people::create_user(store, email, PASSWORD, email, role, None)
            .await
            .unwrap()
            .unwrap();
    }
}

/// The app with two members (Alpha, limit 1 000; Beta, limit 500), the network's staff,
/// and the API client.
/// Two members' balances and the chain's length: what a refusal must leave untouched.
pub async fn ledger_state(store: &Store, a: &Member, b: &Member) -> (i64, i64, u64) {
    (
        balance(store, a).await,
        balance(store, b).await,
        store.chain_head().await.unwrap().0,
    )
}

/// `payer_pay` (a pay token) pays `payee` `amount` through the API, reference `FA-9`, memo
/// `palettes`; the transaction's id.
pub async fn pays(api: &Api, payer_pay: &str, payee: &Member, amount: &str) -> i64 {
    let body = serde_json::json!({
        "payee": payee.id, "amount": amount, "reference": "FA-9", "memo": "palettes",
    });
    let done = api
        .post("/api/v1/payments", payer_pay, body)
        .await
        .ok(StatusCode::CREATED);
    done["transaction_id"].as_i64().unwrap()
}

pub async fn setup(url: &str) -> (Store, Api, Member, Member) {
    let (store, state, alpha, beta) = two_members(url).await;
    staff(&store).await;
    (store, Api::new(state), alpha, beta)
}

/// The id of `member_id`'s user `email`.
pub async fn user_id(store: &Store, member_id: i64, email: &str) -> i64 {
    web::people::users_of_member(store, member_id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap_or_else(|| panic!("no user {email}"))
        .id
}
