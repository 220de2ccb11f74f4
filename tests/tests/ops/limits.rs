//! Rate limits (per client IP on login and on the routes that move money) and body limits,
//! through the real app on both backends.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tests::story;
use tower::ServiceExt;
use web::http::limits::{LimitSettings, RateLimit, REQUEST_BODY_LEN_MAX};
use web::http::{app, AppState};

use crate::web_front::client::{hidden_value, Client, Page};
use crate::web_front::{balance, staff_of, two_members, PASSWORD};

fn peer(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40_000)
}

fn limited(state: AppState, login: &str, payments: &str, proxies: &str) -> AppState {
    state.with_limits(&LimitSettings {
        login_per_ip: login.parse().unwrap(),
        payments_per_ip: payments.parse().unwrap(),
        api_payments_per_token: RateLimit::OFF,
        trusted_proxies: proxies.parse().unwrap(),
    })
}

/// The `Retry-After` of a 429, checked to be within the window.
fn retry_after(page: &Page, window_seconds: u32) -> u32 {
    let seconds: u32 = page
        .headers
        .get(header::RETRY_AFTER)
        .unwrap_or_else(|| panic!("a 429 carries Retry-After: {:?}", page.headers))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=window_seconds).contains(&seconds), "{seconds}");
    seconds
}

async fn wrong_login(browser: &mut Client, email: &str) -> Page {
    browser
        .post(
            "/login",
            &[("email", email), ("password", "not the password")],
        )
        .await
}

story!(login_attempts_are_limited_per_ip, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _, _) = two_members(&url).await;
        let max = 3;
        let state = limited(state, &format!("{max}/1m"), "off", "");
        let mut browser = Client::new(state.clone());
        browser.peer = Some(peer("203.0.113.5"));
        browser.get("/login").await;
        // Different emails, so that the per-email throttle (5 failures) stays out of the way.
        for n in 0..max {
            let page = wrong_login(&mut browser, &format!("nobody{n}@example.fr")).await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {n}");
        }
        // One past the limit: refused before the password is even checked, the right one too.
        let page = browser
            .post(
                "/login",
                &[("email", "owner@alpha.fr"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        retry_after(&page, 60);
        page.assert_contains("Trop de requêtes en peu de temps. Réessayez dans");
        assert!(page
            .set_cookies
            .iter()
            .all(|c| !c.starts_with("troc_session=")));
        // In the visitor's language.
        let mut english = browser.sibling();
        english.peer = browser.peer;
        english.accept_language = Some("en".into());
        english.get("/login").await;
        let page = wrong_login(&mut english, "x@example.fr").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        page.assert_contains("Too many requests in a short time. Try again in");
        // Another address is counted apart and logs in.
        let mut elsewhere = browser.sibling();
        elsewhere.peer = Some(peer("198.51.100.20"));
        elsewhere.login("owner@alpha.fr", PASSWORD).await;
        // Without trusted proxies, X-Forwarded-For is ignored: no way out by lying.
        browser.forwarded_for = Some("192.0.2.77".into());
        let page = wrong_login(&mut browser, "y@example.fr").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        // Pages other than the login are not limited.
        assert_eq!(browser.get("/login").await.status, StatusCode::OK);
        store.close().await;
    }
});

story!(
    trusted_proxies_forward_the_client_address,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, _, _) = two_members(&url).await;
            let state = limited(state, "1/1m", "off", "127.0.0.1");
            let mut first = Client::new(state.clone());
            first.peer = Some(peer("127.0.0.1"));
            first.forwarded_for = Some("192.0.2.1".into());
            first.get("/login").await;
            assert_eq!(
                wrong_login(&mut first, "a@example.fr").await.status,
                StatusCode::UNAUTHORIZED
            );
            assert_eq!(
                wrong_login(&mut first, "b@example.fr").await.status,
                StatusCode::TOO_MANY_REQUESTS
            );
            // Another client behind the same proxy has its own allowance...
            let mut second = first.sibling();
            second.peer = first.peer;
            second.forwarded_for = Some("192.0.2.2".into());
            second.get("/login").await;
            assert_eq!(
                wrong_login(&mut second, "c@example.fr").await.status,
                StatusCode::UNAUTHORIZED
            );
            // ...and an address the first client writes in front of the proxy's own entry
            // changes nothing: the proxy appended the real one at the right.
            first.forwarded_for = Some("192.0.2.99, 192.0.2.1".into());
            assert_eq!(
                wrong_login(&mut first, "d@example.fr").await.status,
                StatusCode::TOO_MANY_REQUESTS
            );
            store.close().await;
        }
    }
);

/// Pays `amount` to `payee` through the real form (a new form token each time).
async fn pay(browser: &mut Client, payee: i64, amount: &str) -> Page {
    let page = browser.get("/pay").await;
    let token = hidden_value(&page.body, "token").unwrap();
    let payee = payee.to_string();
    browser
        .post(
            "/pay",
            &[
                ("payee", payee.as_str()),
                ("amount", amount),
                ("reference", ""),
                ("memo", ""),
                ("token", token.as_str()),
            ],
        )
        .await
}

story!(payments_are_limited_per_ip, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        let max = 3;
        let state = limited(state, "off", &format!("{max}/1m"), "");
        let mut buyer = Client::new(state.clone());
        buyer.peer = Some(peer("203.0.113.8"));
        buyer.login("owner@alpha.fr", PASSWORD).await;
        for n in 0..max {
            let page = pay(&mut buyer, beta.id, "10").await;
            assert_eq!(page.status, StatusCode::OK, "payment {n}: {}", page.body);
            page.assert_contains("Paiement effectué.");
        }
        // One past the limit: 429, and no money moves.
        let page = pay(&mut buyer, beta.id, "10").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        retry_after(&page, 60);
        page.assert_contains("Trop de requêtes en peu de temps.");
        // 2 % commission on the seller, 1 % fund contribution on the buyer: 10,10 each.
        assert_eq!(balance(&store, &alpha).await, -(max as i64) * 1_010);
        // Every money route shares the allowance: accepting a request is refused too.
        let mut seller = buyer.sibling();
        seller.peer = Some(peer("198.51.100.30"));
        seller.login("owner@beta.fr", PASSWORD).await;
        let page = seller.get("/requests").await;
        let token = hidden_value(&page.body, "token").unwrap();
        let alpha_id = alpha.id.to_string();
        let page = seller
            .post(
                "/requests",
                &[
                    ("payee", alpha_id.as_str()),
                    ("amount", "5"),
                    ("reference", ""),
                    ("memo", ""),
                    ("due_date", "2099-01-31"),
                    ("token", token.as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let request: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT id FROM payment_requests").fetch_one(pool).await.unwrap()
        });
        buyer.get(&format!("/requests/{request}")).await;
        let page = buyer
            .post(&format!("/requests/{request}/accept"), &[])
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(balance(&store, &alpha).await, -(max as i64) * 1_010);
        // Approving a staff user's payment, likewise.
        let staff = staff_of(&store, &alpha, None).await;
        let order = web::trade::PaymentOrder {
            amount: ledger::Amount::from_minor(500),
            reference: String::new(),
            memo: String::new(),
        };
        let asked = web::approvals::create(
            &store,
            &web::approvals::NewApproval {
                payer: &alpha,
                payee: &beta,
                order: &order,
                requested_by: &staff,
                form_token: "limits-approval",
            },
        )
        .await
        .unwrap()
        .unwrap();
        let page = buyer
            .post(&format!("/approvals/{asked}/approve"), &[])
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(balance(&store, &alpha).await, -(max as i64) * 1_010);
        // The seller's address is not the buyer's: it may still pay.
        let page = pay(&mut seller, alpha.id, "1").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        store.close().await;
    }
});

story!(a_rate_limit_window_ends, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _, _) = two_members(&url).await;
        let state = limited(state, "1/3s", "off", "");
        let mut browser = Client::new(state);
        browser.peer = Some(peer("2001:db8:5:6::1"));
        browser.get("/login").await;
        assert_eq!(
            wrong_login(&mut browser, "a@example.fr").await.status,
            StatusCode::UNAUTHORIZED
        );
        // Another address of the same IPv6 /64 shares the window.
        browser.peer = Some(peer("2001:db8:5:6::2"));
        let page = wrong_login(&mut browser, "b@example.fr").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&page, 3);
        // Once the window is over, the address may try again.
        tokio::time::sleep(std::time::Duration::from_millis(
            u64::from(wait) * 1_000 + 100,
        ))
        .await;
        assert_eq!(
            wrong_login(&mut browser, "c@example.fr").await.status,
            StatusCode::UNAUTHORIZED
        );
        store.close().await;
    }
});

story!(
    the_email_throttle_still_counts_failures_and_says_when,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, _, _) = two_members(&url).await;
            // Per-IP limits at their defaults, one address: the email throttle acts first.
            let mut browser = Client::new(state);
            browser.peer = Some(peer("203.0.113.50"));
            browser.get("/login").await;
            for _ in 0..web::http::session::LOGIN_FAILURES_MAX {
                let page = wrong_login(&mut browser, "owner@alpha.fr").await;
                assert_eq!(page.status, StatusCode::UNAUTHORIZED);
            }
            let page = browser
                .post(
                    "/login",
                    &[("email", "owner@alpha.fr"), ("password", PASSWORD)],
                )
                .await;
            assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
            page.assert_contains("Trop de tentatives");
            retry_after(&page, web::http::session::LOGIN_WINDOW_SECONDS as u32);
            // The form is redrawn with what was typed.
            page.assert_contains("owner@alpha.fr");
            // Another email from the same address is not throttled.
            browser.login("owner@beta.fr", PASSWORD).await;
            store.close().await;
        }
    }
);

async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn declared(method: &str, path: &str, len: usize) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::from(vec![b'x'; len]))
        .unwrap()
}

story!(every_route_bounds_its_body, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _, _) = two_members(&url).await;
        let max = REQUEST_BODY_LEN_MAX;
        // A route that reads no body still refuses a declared body past the generic limit.
        let (status, _, _) = send(&state, declared("GET", "/healthz", max)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, content_type, body) = send(&state, declared("GET", "/healthz", max + 1)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("La requête est trop volumineuse."), "{body}");
        // Under /api/, a problem document (whatever the route: this one does not exist yet).
        let (status, content_type, body) =
            send(&state, declared("POST", "/api/v1/payments", max + 1)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("\"code\":\"body_too_large\""), "{body}");
        // Forms stay at their own, smaller limit (tested at the limit in web/auth.rs).
        let form_max = web::http::session::FORM_BODY_LEN_MAX;
        let (status, _, body) = send(&state, declared("POST", "/login", form_max + 1)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("La requête est trop volumineuse."), "{body}");
        store.close().await;
    }
});
