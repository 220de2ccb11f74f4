//! `/healthz`, `/readyz`, `/metrics` and request ids, against the real app on both backends.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tests::story;
use tower::ServiceExt;
use web::http::{app, AppState, Config, CookieSecurity};
use web::store::Store;

use crate::store::{network, payment, submit};

async fn get(
    router: &axum::Router,
    path: &str,
    request_id: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::builder().uri(path);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, id, String::from_utf8(body.to_vec()).unwrap())
}

/// The value of the first sample whose line starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

story!(
    health_readiness_metrics_and_request_ids,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let (_, members) = network(&store, 2, 100).await;
            let (a, b) = (members[0].id(), members[1].id());
            submit(&store, "health-ok", payment(a, b, 10))
                .await
                .unwrap();
            submit(&store, "health-too-much", payment(a, b, 1_000))
                .await
                .unwrap_err();
            let router = app(AppState::new(
                store.clone(),
                Config::new(CookieSecurity::Plain, "http://127.0.0.1:8080"),
            ));

            let (status, id, body) = get(&router, "/healthz", None).await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
            let id = id.expect("every response carries a request id");
            assert_eq!(id.len(), 16);
            // A valid id from the proxy is kept; an invalid one is replaced.
            let (_, kept, _) = get(&router, "/healthz", Some("edge-42.a_b")).await;
            assert_eq!(kept.as_deref(), Some("edge-42.a_b"));
            let (_, replaced, _) = get(&router, "/healthz", Some("bad id")).await;
            assert_ne!(replaced.as_deref(), Some("bad id"));
            let too_long = "x".repeat(web::http::health::REQUEST_ID_LEN_MAX + 1);
            let (_, replaced, _) = get(&router, "/healthz", Some(&too_long)).await;
            assert_ne!(replaced.as_deref(), Some(too_long.as_str()));
            let at_max = "x".repeat(web::http::health::REQUEST_ID_LEN_MAX);
            let (_, kept, _) = get(&router, "/healthz", Some(&at_max)).await;
            assert_eq!(kept.as_deref(), Some(at_max.as_str()));
            // Errors carry one too.
            let (status, id, _) = get(&router, "/no/such/page", None).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(id.is_some());

            let (status, _, body) = get(&router, "/readyz", None).await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));

            let (status, _, text) = get(&router, "/metrics", None).await;
            assert_eq!(status, StatusCode::OK);
            // The registry is per process and tests run in parallel: counts are at least ours.
            let healthz = sample(
                &text,
                "troc_http_requests_total{route=\"/healthz\",status=\"200\"}",
            );
            assert!(healthz.unwrap() >= 5, "{text}");
            assert!(sample(&text, "troc_operations_total{outcome=\"ok\"}").unwrap() >= 1);
            assert!(
                sample(
                    &text,
                    "troc_operations_total{outcome=\"insufficient_credit\"}"
                )
                .unwrap()
                    >= 1
            );
            assert!(sample(&text, "troc_write_batch_size_count").unwrap() >= 2);
            assert!(text.contains(
                "troc_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"
            ));
            assert!(text.contains("troc_db_pool_connections{state=\"max\"}"));

            // A database that misses a migration is not ready.
            web::dispatch!(store.backend(), pool => {
                sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
                    .execute(pool)
                    .await
                    .unwrap();
            });
            let (status, _, body) = get(&router, "/readyz", None).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(body.contains("1 migrations pending"), "{body}");
            store.close().await;
        }
    }
);
