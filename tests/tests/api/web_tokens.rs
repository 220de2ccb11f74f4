//! Tokens in the web UI: created (shown once), listed, revoked; limits at and past the edge.

use axum::http::StatusCode;
use tests::story;
use web::tokens::{TOKENS_PER_USER_MAX, TOKEN_NAME_LEN_MAX};

use super::{two_members, Api, PASSWORD};
use crate::web_front::client::Client;

story!(tokens_in_the_web_ui, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _alpha, _beta) = two_members(&url).await;
        let api = Api::new(state.clone());
        let mut browser = Client::new(state);
        browser.login("owner@alpha.fr", PASSWORD).await;
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
