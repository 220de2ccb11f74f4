//! Tokens in the web UI: created (shown once), listed, revoked; limits at and past the edge.

use axum::http::StatusCode;
use tests::story;
use web::tokens::{
    Lifetime, Scope, TokenState, TOKENS_LIST_MAX, TOKENS_PER_USER_MAX, TOKEN_LIFETIME_DAYS_DEFAULT,
    TOKEN_LIFETIME_DAYS_MAX, TOKEN_NAME_LEN_MAX,
};

use super::{ids, staff, texts, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

/// Two member companies, the API, and a browser logged in as Alpha's owner.
async fn alpha_owner_logged_in(url: &str) -> (web::store::Store, Api, Client) {
    let (store, state, _alpha, _beta) = two_members(url).await;
    let api = Api::new(state.clone());
    let mut browser = Client::new(state);
    browser.login("owner@alpha.fr", PASSWORD).await;
    (store, api, browser)
}

story!(tokens_in_the_web_ui, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, mut browser) = alpha_owner_logged_in(&url).await;
        let page = browser.get("/settings/tokens").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Jetons d&#39;API");
        // Members' owners may choose read or pay, not manage.
        page.assert_contains("value=\"pay\"");
        assert!(!page.body.contains("value=\"manage\""));

        let name = "n".repeat(TOKEN_NAME_LEN_MAX);
        let page = browser
            .post("/settings/tokens", &[("name", &name), ("scope", "pay")])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let start = page.body.find("troc_").expect("the token is shown");
        let token = page.body[start..start + 69].to_owned();
        let me = api.get("/api/v1/me", &token).await.ok(StatusCode::OK);
        assert_eq!(me["scope"], "pay");
        // Shown once: the list does not show it again.
        let page = browser.get("/settings/tokens").await;
        assert!(!page.body.contains(&token));
        page.assert_contains(&name);

        // Past the name limit, an empty name, a scope the role may not hold: refused.
        let long = "n".repeat(TOKEN_NAME_LEN_MAX + 1);
        for (name, scope) in [
            (long.as_str(), "read"),
            ("", "read"),
            ("x", "manage"),
            ("x", "root"),
        ] {
            let page = browser
                .post("/settings/tokens", &[("name", name), ("scope", scope)])
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name:?} {scope}"
            );
            assert!(!page.body.contains("troc_"));
        }
        // Without the CSRF token: 403.
        let page = browser
            .post(
                "/settings/tokens",
                &[("name", "x"), ("scope", "read"), ("csrf", "forged")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);

        // Up to the limit of active tokens, then refused.
        for n in 1..TOKENS_PER_USER_MAX {
            let name = format!("t{n}");
            let page = browser
                .post("/settings/tokens", &[("name", &name), ("scope", "read")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
        }
        let page = browser
            .post(
                "/settings/tokens",
                &[("name", "one more"), ("scope", "read")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains(&format!("{TOKENS_PER_USER_MAX}"));

        // Revoking the first: the API refuses it, and there is room for one more.
        let (user, _) = web::people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        let rows = web::tokens::of_user(&store, user.id).await.unwrap();
        let first = rows.iter().find(|r| r.name == name).unwrap().id;
        browser.get("/settings/tokens").await;
        let page = browser
            .post(&format!("/settings/tokens/{first}/revoke"), &[])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        api.get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        let page = browser
            .post(
                "/settings/tokens",
                &[("name", "one more"), ("scope", "read")],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        // Another user's token id: 404.
        let mut other = browser.sibling();
        other.login("owner@beta.fr", PASSWORD).await;
        let page = other
            .post(&format!("/settings/tokens/{}/revoke", rows[0].id), &[])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        store.close().await;
    }
});

/// The action log's entries of one action code.
async fn recorded(store: &web::store::Store, action: &str) -> Vec<web::store::ActionEntry> {
    let filter = web::store::ActionFilter {
        action: Some(action.to_owned()),
        ..Default::default()
    };
    store.actions(&filter, 10).await.unwrap()
}

/// Sets a token's expiry by hand (what time does to it).
async fn expire_at(store: &web::store::Store, token_id: i64, at: i64) {
    web::dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
            .bind(at).bind(token_id).execute(pool).await.unwrap();
    });
}

story!(tokens_expire, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, mut browser) = alpha_owner_logged_in(&url).await;
        let page = browser.get("/settings/tokens").await;
        // The form proposes lifetimes, the default selected, and "never".
        page.assert_contains(&format!(
            "<option value=\"{TOKEN_LIFETIME_DAYS_DEFAULT}\" selected>"
        ));
        page.assert_contains("<option value=\"never\">jamais</option>");
        let (user, _) = web::people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        let made = |name: &str| {
            let store = store.clone();
            let name = name.to_owned();
            async move {
                let rows = web::tokens::of_user(&store, user.id).await.unwrap();
                rows.into_iter().find(|r| r.name == name).expect("created")
            }
        };
        const DAY: i64 = 24 * 3600;

        // Without a lifetime (an older form, a script): the default.
        let page = browser
            .post("/settings/tokens", &[("name", "plain"), ("scope", "read")])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let row = made("plain").await;
        assert_eq!(
            row.expires_at,
            Some(row.created_at + TOKEN_LIFETIME_DAYS_DEFAULT * DAY)
        );
        // At the limit and "never": accepted; the list shows the date and "jamais".
        let longest = TOKEN_LIFETIME_DAYS_MAX.to_string();
        for (name, lifetime) in [("longest", longest.as_str()), ("forever", "never")] {
            let page = browser
                .post(
                    "/settings/tokens",
                    &[("name", name), ("scope", "pay"), ("lifetime", lifetime)],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{name}: {}", page.body);
        }
        let longest = made("longest").await;
        assert_eq!(
            longest.expires_at,
            Some(longest.created_at + TOKEN_LIFETIME_DAYS_MAX * DAY)
        );
        assert_eq!(made("forever").await.expires_at, None);
        let page = browser.get("/settings/tokens").await;
        page.assert_contains("<td>jamais</td>");
        let date = chrono::DateTime::from_timestamp(longest.expires_at.unwrap(), 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        page.assert_contains(&date);

        // One past the limit, zero, negative, not a number: refused in the user's
        // language, nothing created, the choice kept.
        let before = web::tokens::of_user(&store, user.id).await.unwrap().len();
        let past = (TOKEN_LIFETIME_DAYS_MAX + 1).to_string();
        for lifetime in [past.as_str(), "0", "-5", "soon", ""] {
            let page = browser
                .post(
                    "/settings/tokens",
                    &[("name", "bad"), ("scope", "read"), ("lifetime", lifetime)],
                )
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{lifetime:?}"
            );
            page.assert_contains(&format!(
                "Choisissez une durée de 1 à {TOKEN_LIFETIME_DAYS_MAX} jours"
            ));
            assert!(!page.body.contains("troc_"));
        }
        let after = web::tokens::of_user(&store, user.id).await.unwrap().len();
        assert_eq!(after, before);
        // The same limits in the domain function.
        assert!(Lifetime::days(0).is_err());
        assert!(Lifetime::days(TOKEN_LIFETIME_DAYS_MAX + 1).is_err());
        assert_eq!(
            Lifetime::days(1).unwrap().expiry_from(1_000),
            Some(1_000 + DAY)
        );
        assert_eq!(Lifetime::UNLIMITED.expiry_from(1_000), None);

        // A token that expires works until then, listed as active with its expiry.
        let (row, token) = web::tokens::create(
            &store,
            &user,
            "short",
            Scope::Pay,
            Lifetime::days(1).unwrap(),
        )
        .await
        .unwrap();
        let listed = api.get("/api/v1/tokens", &token).await.ok(StatusCode::OK);
        let item = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == row.id)
            .unwrap()
            .clone();
        assert_eq!(item["state"], "active");
        assert!(item["expires_at"].as_str().unwrap().ends_with('Z'));
        let forever = made("forever").await;
        let item = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == forever.id)
            .unwrap()
            .clone();
        assert_eq!(item["expires_at"], serde_json::Value::Null);

        // Its expiry passes: 401, saying why; listed as expired; the list on the web too.
        let now = web::people::now_unix();
        expire_at(&store, row.id, now).await;
        let refused = api
            .get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(
            refused["detail"].as_str().unwrap().contains("expired"),
            "{refused}"
        );
        // A second before, it still worked (the expiry is the first second it does not).
        expire_at(&store, row.id, now + 60).await;
        api.get("/api/v1/me", &token).await.ok(StatusCode::OK);
        expire_at(&store, row.id, now - 1).await;
        api.get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        let rows = web::tokens::of_user(&store, user.id).await.unwrap();
        let expired = rows.iter().find(|r| r.id == row.id).unwrap();
        assert_eq!(expired.state(now), TokenState::Expired);
        let page = browser.get("/settings/tokens").await;
        page.assert_contains("expiré");

        // Expired tokens do not count toward the active ones: fill up to the limit...
        let active = |rows: &[web::tokens::TokenRow]| {
            rows.iter()
                .filter(|r| r.state(web::people::now_unix()) == TokenState::Active)
                .count() as i64
        };
        let rows = web::tokens::of_user(&store, user.id).await.unwrap();
        for n in active(&rows)..TOKENS_PER_USER_MAX {
            web::tokens::create(
                &store,
                &user,
                &format!("fill{n}"),
                Scope::Read,
                Lifetime::UNLIMITED,
            )
            .await
            .unwrap();
        }
        assert!(matches!(
            web::tokens::create(&store, &user, "over", Scope::Read, Lifetime::UNLIMITED).await,
            Err(web::tokens::TokenError::TooMany)
        ));
        // ...then one of them expires, and there is room again.
        let rows = web::tokens::of_user(&store, user.id).await.unwrap();
        let fill = rows.iter().find(|r| r.name.starts_with("fill"));
        expire_at(&store, fill.unwrap().id, now - 1).await;
        web::tokens::create(&store, &user, "room", Scope::Read, Lifetime::UNLIMITED)
            .await
            .unwrap();
        store.close().await;
    }
});

story!(
    the_operator_lists_and_revokes_any_token,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            use web::tokens::{list, revoke_by, Listing, RevokeError, Revoker};
            let (store, state, _alpha, _beta) = two_members(&url).await;
            let api = Api::new(state);
            let user = |email: &'static str| {
                let store = store.clone();
                async move {
                    web::people::find_login(&store, email)
                        .await
                        .unwrap()
                        .unwrap()
                        .0
                }
            };
            let (alpha, beta) = (user("owner@alpha.fr").await, user("owner@beta.fr").await);
            let lifetime = Lifetime::days(7).unwrap();
            let (a, a_token) = web::tokens::create(&store, &alpha, "a", Scope::Pay, lifetime)
                .await
                .unwrap();
            // The operator's creation is on the record; a user's own is not an operator action.
            let (b, _) = web::tokens::create_as_operator(
                &store,
                &beta,
                "b",
                Scope::Read,
                Lifetime::UNLIMITED,
            )
            .await
            .unwrap();
            let created = recorded(&store, "token.create").await;
            assert_eq!(created.len(), 1);
            assert_eq!(created[0].actor, "cli");
            assert_eq!(created[0].after["token_id"], b.id);
            assert_eq!(created[0].after["user"], "owner@beta.fr");
            assert_eq!(created[0].after["expires_at"], serde_json::Value::Null);
            // Everyone's, oldest first, with the user's email; one user's; one token.
            let (all, more) = list(&store, Listing::Everyone).await.unwrap();
            assert!(!more);
            let ids: Vec<i64> = all.iter().map(|t| t.token.id).collect();
            assert_eq!(ids, [a.id, b.id]);
            assert_eq!(all[0].email, "owner@alpha.fr");
            assert_eq!(all[0].token.expires_at, a.expires_at);
            let (theirs, _) = list(&store, Listing::User(beta.id)).await.unwrap();
            assert_eq!(theirs.len(), 1);
            assert_eq!(theirs[0].token.id, b.id);
            let (one, _) = list(&store, Listing::Token(a.id)).await.unwrap();
            assert_eq!(one.len(), 1);
            assert!(list(&store, Listing::Token(a.id + 100))
                .await
                .unwrap()
                .0
                .is_empty());

            // Revoked by the operator: refused at once, recorded, and only once.
            api.get("/api/v1/me", &a_token).await.ok(StatusCode::OK);
            let revoked = revoke_by(&store, a.id, Revoker::Operator, "leaked in a log")
                .await
                .unwrap();
            assert!(revoked.token.revoked_at.is_some());
            api.get("/api/v1/me", &a_token)
                .await
                .problem(StatusCode::UNAUTHORIZED, "unauthorized");
            assert!(matches!(
                revoke_by(&store, a.id, Revoker::Operator, "again").await,
                Err(RevokeError::AlreadyRevoked(_))
            ));
            assert!(matches!(
                revoke_by(&store, a.id + 100, Revoker::Operator, "none").await,
                Err(RevokeError::NotFound(_))
            ));
            let log = recorded(&store, "token.revoke").await;
            assert_eq!(log.len(), 1);
            assert_eq!(log[0].reason, "leaked in a log");
            assert_eq!(log[0].before["token_id"], a.id);
            assert_eq!(log[0].after["state"], "revoked");
            // The other user's token is untouched.
            let (theirs, _) = list(&store, Listing::User(beta.id)).await.unwrap();
            assert_eq!(theirs[0].token.revoked_at, None);

            // The list's limit: at TOKENS_LIST_MAX all, one past it the first ones and a flag.
            let fill = |count: i64, from: i64| {
                let store = store.clone();
                async move {
                    web::dispatch!(store.backend(), pool => {
                        sqlx::query(
                            "INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at, \
                             revoked_at) WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 \
                             FROM n WHERE i < $2) SELECT $3, 'old', 'read', 'h' || i, 1, 2 FROM n",
                        )
                        .bind(from)
                        .bind(from + count - 1)
                        .bind(beta.id)
                        .execute(pool)
                        .await
                        .unwrap();
                    });
                }
            };
            fill(TOKENS_LIST_MAX - 2, 1).await;
            let (all, more) = list(&store, Listing::Everyone).await.unwrap();
            assert_eq!((all.len() as i64, more), (TOKENS_LIST_MAX, false));
            fill(1, TOKENS_LIST_MAX).await;
            let (all, more) = list(&store, Listing::Everyone).await.unwrap();
            assert_eq!((all.len() as i64, more), (TOKENS_LIST_MAX, true));
            assert_eq!(all[0].token.id, a.id, "oldest first");
            store.close().await;
        }
    }
);

// A network manager sees the API tokens of a member's users on its page and through the
// API, and revokes one with a reason (a leaked token while the owner cannot be reached);
// the network's accountant only reads; every revocation is in the action log.
story!(
    managers_see_and_revoke_a_members_tokens,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            staff(&store).await;
            let api = Api::new(state.clone());
            let made = |email: &'static str, name: &'static str, scope: Scope| {
                let store = store.clone();
                async move {
                    let (user, _) = web::people::find_login(&store, email)
                        .await
                        .unwrap()
                        .unwrap();
                    web::tokens::create(&store, &user, name, scope, Lifetime::UNLIMITED)
                        .await
                        .unwrap()
                }
            };
            let (owner_row, owner_token) = made("owner@alpha.fr", "erp", Scope::Pay).await;
            let (staff_row, _) = made("staff@alpha.fr", "<b>script</b>", Scope::Read).await;
            let (beta_row, _) = made("owner@beta.fr", "beta", Scope::Pay).await;
            let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let path = format!("/api/v1/members/{}/tokens", alpha.id);

            // Listed for the network's staff: Alpha's users' tokens only, oldest first.
            for reader in [&manager, &accountant] {
                let list = api.get(&path, reader).await.ok(StatusCode::OK);
                assert_eq!(ids(&list, "id"), [owner_row.id, staff_row.id], "{list}");
                assert_eq!(
                    texts(&list["items"], "user"),
                    ["owner@alpha.fr", "staff@alpha.fr"]
                );
                assert_eq!(list["items"][0]["state"], "active");
            }
            api.get(&path, &owner_token)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.get("/api/v1/members/999999/tokens", &manager)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Revoked by a manager only, for a token of the member's users only, with a
            // reason of 1 to 500 characters.
            let revoke =
                |token_id: i64| format!("/api/v1/members/{}/tokens/{token_id}/revoke", alpha.id);
            let reason = serde_json::json!({"reason": "leaked in a support ticket"});
            api.post(&revoke(owner_row.id), &accountant, reason.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(&revoke(beta_row.id), &manager, reason.clone())
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            for bad in [
                serde_json::json!({"reason": ""}),
                serde_json::json!({"reason": "r".repeat(501)}),
                serde_json::json!({}),
            ] {
                let problem = api
                    .post(&revoke(owner_row.id), &manager, bad.clone())
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "reason", "{bad}");
            }
            api.get("/api/v1/me", &owner_token).await.ok(StatusCode::OK);
            assert!(recorded(&store, "token.revoke").await.is_empty());
            let done = api
                .post(
                    &revoke(owner_row.id),
                    &manager,
                    serde_json::json!({"reason": "r".repeat(500)}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(done["state"], "revoked");
            assert_eq!(done["user"], "owner@alpha.fr");
            api.get("/api/v1/me", &owner_token)
                .await
                .problem(StatusCode::UNAUTHORIZED, "unauthorized");
            // Again: answered as it is, recorded once.
            let again = api
                .post(&revoke(owner_row.id), &manager, reason.clone())
                .await
                .ok(StatusCode::OK);
            assert_eq!(again["revoked_at"], done["revoked_at"]);
            let log = recorded(&store, "token.revoke").await;
            assert_eq!(log.len(), 1);
            assert_eq!(log[0].actor, "gestion@troc.fr");
            assert_eq!(log[0].member_id, Some(alpha.id));
            assert_eq!(log[0].before["state"], "active");
            assert_eq!(log[0].after["state"], "revoked");

            // The member page: the tokens with their users, escaped; a revoke form for the
            // manager, none for the accountant.
            let mut browser = Client::new(state.clone());
            browser.login("gestion@troc.fr", PASSWORD).await;
            let page_path = format!("/admin/members/{}", alpha.id);
            let page = browser.get(&page_path).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"api-tokens\"");
            page.assert_contains("staff@alpha.fr");
            page.assert_contains("&#60;b&#62;script&#60;/b&#62;");
            assert!(!page.body.contains("<b>script</b>"));
            let form = format!("/admin/members/{}/tokens/{}/revoke", alpha.id, staff_row.id);
            page.assert_contains(&form);
            assert!(!page
                .body
                .contains(&format!("/tokens/{}/revoke", owner_row.id)));
            assert!(!browser
                .get(&format!("/admin/members/{}", beta.id))
                .await
                .body
                .contains("staff@alpha.fr"));
            // No reason: refused on the page, in French, nothing revoked.
            let page = browser.post(&form, &[("reason", "  ")]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("id=\"tokens\"");
            // Without the CSRF token: 403.
            let page = browser
                .post(&form, &[("reason", "left"), ("csrf", "forged")])
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            let (listed, _) = web::tokens::list(&store, web::tokens::Listing::Token(staff_row.id))
                .await
                .unwrap();
            assert_eq!(listed[0].token.revoked_at, None);
            // Another member's token through this member's page: 404.
            let page = browser
                .post(
                    &format!("/admin/members/{}/tokens/{}/revoke", alpha.id, beta_row.id),
                    &[("reason", "x")],
                )
                .await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            let page = browser.post(&form, &[("reason", "left the company")]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let (listed, _) = web::tokens::list(&store, web::tokens::Listing::Token(staff_row.id))
                .await
                .unwrap();
            assert!(listed[0].token.revoked_at.is_some());
            assert_eq!(recorded(&store, "token.revoke").await.len(), 2);

            let mut reader = Client::new(state);
            reader.login("compta@troc.fr", PASSWORD).await;
            let page = reader.get(&page_path).await;
            page.assert_contains("id=\"api-tokens\"");
            assert!(!page.body.contains("/revoke\""));
            assert_eq!(
                reader.post(&form, &[("reason", "x")]).await.status,
                StatusCode::FORBIDDEN
            );
            store.close().await;
        }
    }
);
