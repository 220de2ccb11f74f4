//! Authentication, scopes and who may read what.

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use tests::story;
use web::tokens::{self, Scope};

use super::{setup, token, two_members, Api};
use crate::web_front::client::Client;
use crate::web_front::PASSWORD;

story!(tokens_scopes_and_accounts, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;

        // No header, another scheme, garbage, an unknown token: 401 with WWW-Authenticate.
        let none = api.send(Method::GET, "/api/v1/me", None, &[], None).await;
        none.problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(none.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer nope", "troc_x"] {
            let answer = api
                .send(
                    Method::GET,
                    "/api/v1/me",
                    None,
                    &[("authorization", value)],
                    None,
                )
                .await;
            answer.problem(StatusCode::UNAUTHORIZED, "unauthorized");
            assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE));
        }
        let unknown = format!("troc_{}", "0".repeat(64));
        api.get("/api/v1/me", &unknown)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");

        // The caller.
        let read = token(&store, "owner@alpha.fr", Scope::Read).await;
        assert!(read.starts_with("troc_") && read.len() == 69);
        let me = api.get("/api/v1/me", &read).await.ok(StatusCode::OK);
        assert_eq!(me["email"], "owner@alpha.fr");
        assert_eq!(me["role"], "owner");
        assert_eq!(me["scope"], "read");
        assert_eq!(me["member_id"], alpha.id);
        assert_eq!(me["account_id"], alpha.account_id);

        // Its own account, with every figure as a string.
        let path = format!("/api/v1/accounts/{}", alpha.account_id);
        let account = api.get(&path, &read).await.ok(StatusCode::OK);
        assert_eq!(
            account,
            json!({
                "id": alpha.account_id, "member_id": alpha.id, "kind": "member",
                "balance": "0.00", "credit_limit": "1000.00", "max_balance": null,
                "pending": "0.00", "available": "1000.00", "receivable": null,
                "status": "active", "negative_since": null,
            })
        );
        // Another member's account and a missing one: the same 404.
        let other = format!("/api/v1/accounts/{}", beta.account_id);
        api.get(&other, &read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get("/api/v1/accounts/999999", &read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get("/api/v1/accounts/abc", &read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get(&format!("{other}/transactions"), &read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get("/api/v1/no-such-route", &read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let wrong = api
            .send(Method::DELETE, "/api/v1/me", Some(&read), &[], None)
            .await;
        wrong.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert_eq!(wrong.headers[header::ALLOW], "GET,HEAD");

        // A read token does not pay; member tokens do not manage.
        let body = json!({"payee": beta.id, "amount": "1.00"});
        api.post("/api/v1/payments", &read, body.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.get("/api/v1/network/accounts", &read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.get("/api/v1/guarantee-fund", &read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        api.post("/api/v1/members", &pay, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(balance(&store, &alpha).await, 0);

        // A manage token reads every account, system accounts included.
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let beta_account = api.get(&other, &manage).await.ok(StatusCode::OK);
        assert_eq!(beta_account["member_id"], beta.id);
        let system = store.system_accounts().await.unwrap();
        let fund = api
            .get(&format!("/api/v1/accounts/{}", system.fund.0), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(fund["kind"], "guarantee_fund");
        assert_eq!(fund["member_id"], serde_json::Value::Null);
        // A manager's read token reads only itself.
        let manager_read = token(&store, "gestion@troc.fr", Scope::Read).await;
        api.get(&other, &manager_read)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");

        // Scopes a role may not hold are refused at creation.
        let (owner, _) = web::people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(
            tokens::create(
                &store,
                &owner,
                "x",
                Scope::Manage,
                tokens::Lifetime::UNLIMITED
            )
            .await,
            Err(tokens::TokenError::ScopeNotAllowed(_))
        ));

        // Revoked: 401.
        let listed = tokens::of_user(&store, owner.id).await.unwrap();
        assert!(tokens::revoke(&store, owner.id, listed[0].id)
            .await
            .unwrap());
        let revoked = api.get("/api/v1/me", &read).await;
        let problem = revoked.problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(problem["detail"].as_str().unwrap().contains("revoked"));
        // Only the hash is stored.
        let stored: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
                .bind(&read).fetch_one(pool).await.unwrap()
        });
        assert_eq!(stored, 0);
        store.close().await;
    }
});

story!(api_ignores_the_session_cookie, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _alpha, beta) = two_members(&url).await;
        let mut browser = Client::new(state.clone());
        browser.login("owner@alpha.fr", PASSWORD).await;
        // A logged-in browser is not an API caller: the cookie is never read there.
        let page = browser.get("/api/v1/me").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        let page = browser
            .post_raw_json(
                "/api/v1/payments",
                json!({"payee": beta.id, "amount": "1.00"}).to_string(),
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        // A token needs no CSRF token.
        let api = Api::new(state);
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        api.post(
            "/api/v1/payments",
            &pay,
            json!({"payee": beta.id, "amount": "1.00"}),
        )
        .await
        .ok(StatusCode::CREATED);
        store.close().await;
    }
});

use super::balance;

story!(a_user_lists_and_revokes_its_tokens, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _, _) = setup(&url).await;
        let first = token(&store, "owner@alpha.fr", Scope::Read).await;
        let second = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let other = token(&store, "owner@beta.fr", Scope::Read).await;
        let listed = api.get("/api/v1/tokens", &first).await.ok(StatusCode::OK);
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        // Newest first; never the token itself.
        assert_eq!(items[0]["scope"], "pay");
        assert_eq!(items[1]["scope"], "read");
        assert!(!listed.to_string().contains(&first[6..]));
        let second_id = items[0]["id"].as_i64().unwrap();
        let first_id = items[1]["id"].as_i64().unwrap();
        // Beta's user sees its own token only, and cannot revoke Alpha's.
        let theirs = api.get("/api/v1/tokens", &other).await.ok(StatusCode::OK);
        assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
        api.post(
            &format!("/api/v1/tokens/{second_id}/revoke"),
            &other,
            json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        api.get("/api/v1/me", &second).await.ok(StatusCode::OK);

        // A read token revokes the pay one; it stops working at once.
        let revoked = api
            .post(
                &format!("/api/v1/tokens/{second_id}/revoke"),
                &first,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(revoked["id"], second_id);
        assert!(revoked["revoked_at"].is_string());
        api.get("/api/v1/me", &second)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        api.post(
            &format!("/api/v1/tokens/{second_id}/revoke"),
            &first,
            json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        // The token in use revokes itself.
        api.post(
            &format!("/api/v1/tokens/{first_id}/revoke"),
            &first,
            json!({}),
        )
        .await
        .ok(StatusCode::OK);
        api.get("/api/v1/tokens", &first)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        let (owner, _) = web::people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        let rows = tokens::of_user(&store, owner.id).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|t| t.revoked_at.is_some()));
        store.close().await;
    }
});
