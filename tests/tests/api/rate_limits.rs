//! The per-token limit on API payments (issue 9): at the limit and one past it, per token.

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::http::limits::{LimitSettings, RateLimit};
use web::tokens::Scope;

use super::{balance, staff, token, two_members, Api};

story!(api_payments_are_limited_per_token, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        let per_token = 3;
        let state = state.with_limits(&LimitSettings {
            api_payments_per_token: RateLimit::new(per_token, 60).unwrap(),
            ..LimitSettings::default()
        });
        let api = Api::new(state);
        let first = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let second = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let pay = json!({"payee": beta.id, "amount": "1.00"});
        for _ in 0..per_token {
            api.post("/api/v1/payments", &first, pay.clone())
                .await
                .ok(StatusCode::CREATED);
        }
        let paid = balance(&store, &alpha).await;
        // One past the limit: 429 with Retry-After, as a problem document; nothing moves.
        let refused = api.post("/api/v1/payments", &first, pay.clone()).await;
        let problem = refused.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(
            problem["detail"].as_str().unwrap().contains("second"),
            "{problem}"
        );
        let retry: u32 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_eq!(balance(&store, &alpha).await, paid);
        // The limit is per token: another token of the same user still pays, and reads are
        // not counted.
        api.post("/api/v1/payments", &second, pay.clone())
            .await
            .ok(StatusCode::CREATED);
        api.get("/api/v1/me", &first).await.ok(StatusCode::OK);

        // Approving a staff user's payment pays too: it counts with the token's payments.
        let staff_user = crate::web_front::staff_of(&store, &alpha, Some(100)).await;
        assert_eq!(staff_user.email, "staff@alpha.fr");
        let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let asked = api
            .post(
                "/api/v1/payment-approvals",
                &staff_pay,
                json!({"payee": beta.id, "amount": "2.00"}),
            )
            .await
            .ok(StatusCode::CREATED);
        let approve = format!("/api/v1/payment-approvals/{}/approve", asked["id"]);
        let paid = balance(&store, &alpha).await;
        api.post(&approve, &first, json!({}))
            .await
            .problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert_eq!(balance(&store, &alpha).await, paid);
        let done = api
            .post(&approve, &second, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(done["status"], "approved");
        assert!(balance(&store, &alpha).await < paid);
        store.close().await;
    }
});
