//! Login, logout, sessions, CSRF, password change, language and limits on form bodies.

use axum::http::StatusCode;
use tests::story;
use web::people::{self, Role};

use super::client::{state, Client};

const PASSWORD: &str = "correct horse battery";

story!(login_logout_and_session_expiry, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        people::create_user(
            &store,
            "Admin@Example.fr",
            PASSWORD,
            "Admin",
            Role::Manager,
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let mut browser = Client::new(state);

        // Pages that need a user send visitors to the login page.
        let page = browser.get("/account").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/login"));

        // A wrong password is refused with the email kept, in French by default.
        let page = browser.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let cookie = page.set_cookies.join(";");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"));
        let anonymous = browser.session.clone().unwrap();
        let page = browser
            .post(
                "/login",
                &[
                    ("email", "admin@example.fr"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        page.assert_contains("E-mail ou mot de passe incorrect.");
        page.assert_contains("value=\"admin@example.fr\"");

        // The right password opens a new session (the anonymous one is dropped); the email
        // is case-insensitive.
        browser.login("ADMIN@example.fr", PASSWORD).await;
        let session = browser.session.clone().unwrap();
        assert_ne!(session, anonymous);
        assert!(people::find_session(&store, &anonymous)
            .await
            .unwrap()
            .is_none());
        let page = browser.get("/account").await;
        page.assert_contains("admin@example.fr");
        // Only a hash of the token is stored.
        let stored: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
                .bind(&session).fetch_one(pool).await.unwrap()
        });
        assert_eq!(stored, 0);

        // Logout ends the session: the old cookie no longer works.
        let page = browser.post("/logout", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page
            .set_cookies
            .iter()
            .any(|c| c.starts_with("troc_session=;")));
        let mut replay = browser.sibling();
        replay.session = Some(session);
        assert_eq!(replay.get("/account").await.status, StatusCode::SEE_OTHER);

        // An expired session is as good as none.
        browser.login("admin@example.fr", PASSWORD).await;
        people::expire_session(&store, browser.session.as_deref().unwrap())
            .await
            .unwrap();
        let page = browser.get("/account").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(people::purge_sessions(&store).await.unwrap() >= 1);
        store.close().await;
    }
});

story!(
    csrf_tokens_are_required_on_every_post,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state) = state(&url).await;
            people::create_user(&store, "a@example.fr", PASSWORD, "A", Role::Manager, None)
                .await
                .unwrap()
                .unwrap();
            let mut browser = Client::new(state);
            // No session at all: refused.
            let page = browser
                .post(
                    "/login",
                    &[("email", "a@example.fr"), ("password", PASSWORD)],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            page.assert_contains("Le formulaire a expiré");
            // A session but no token, or a wrong token: refused, and nothing happens.
            browser.get("/login").await;
            let page = browser
                .post(
                    "/login",
                    &[
                        ("email", "a@example.fr"),
                        ("password", PASSWORD),
                        ("csrf", ""),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            let page = browser
                .post(
                    "/login",
                    &[
                        ("email", "a@example.fr"),
                        ("password", PASSWORD),
                        ("csrf", "0123"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);

            // Another session's token does not work either.
            let mut other = browser.sibling();
            other.login("a@example.fr", PASSWORD).await;
            browser.login("a@example.fr", PASSWORD).await;
            let other_token = other.csrf.clone().unwrap();
            let page = browser
                .post("/logout", &[("csrf", other_token.as_str())])
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert_eq!(browser.get("/account").await.status, StatusCode::OK);
            // A JSON body is not a form: refused.
            let request_body = format!("{{\"csrf\":\"{}\"}}", browser.csrf.clone().unwrap());
            let page = browser.post_raw_json("/logout", request_body).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            store.close().await;
        }
    }
);

story!(logins_are_rate_limited, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        people::create_user(&store, "b@example.fr", PASSWORD, "B", Role::Manager, None)
            .await
            .unwrap()
            .unwrap();
        let mut browser = Client::new(state);
        browser.get("/login").await;
        for _ in 0..web::http::session::LOGIN_FAILURES_MAX {
            let page = browser
                .post(
                    "/login",
                    &[("email", "b@example.fr"), ("password", "not the password")],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        }
        // Even the right password is refused now.
        let page = browser
            .post(
                "/login",
                &[("email", "b@example.fr"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        page.assert_contains("Trop de tentatives");
        store.close().await;
    }
});

story!(password_change, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        people::create_user(&store, "c@example.fr", PASSWORD, "C", Role::Manager, None)
            .await
            .unwrap()
            .unwrap();
        let mut browser = Client::new(state);
        let mut elsewhere = browser.sibling();
        elsewhere.login("c@example.fr", PASSWORD).await;
        browser.login("c@example.fr", PASSWORD).await;
        let new = "a brand new passphrase";

        let page = browser
            .post(
                "/account/password",
                &[("current", "wrong"), ("new", new), ("confirm", new)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Mot de passe incorrect.");
        let page = browser
            .post(
                "/account/password",
                &[("current", PASSWORD), ("new", new), ("confirm", "other")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Les mots de passe ne correspondent pas.");
        // 11 characters is one short of the minimum; 12 is accepted below.
        let short = "x".repeat(people::PASSWORD_LEN_MIN - 1);
        let page = browser
            .post(
                "/account/password",
                &[("current", PASSWORD), ("new", &short), ("confirm", &short)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        let exact = "y".repeat(people::PASSWORD_LEN_MIN);
        let page = browser
            .post(
                "/account/password",
                &[("current", PASSWORD), ("new", &exact), ("confirm", &exact)],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Mot de passe modifié.");
        // The other session is ended, this one continues, and the new password works.
        assert_eq!(
            elsewhere.get("/account").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(browser.get("/account").await.status, StatusCode::OK);
        let mut fresh = browser.sibling();
        fresh.login("c@example.fr", &exact).await;
        store.close().await;
    }
});

story!(
    language_follows_the_user_then_the_browser,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state) = state(&url).await;
            people::create_user(&store, "d@example.fr", PASSWORD, "D", Role::Manager, None)
                .await
                .unwrap()
                .unwrap();
            let mut browser = Client::new(state);
            // A visitor switches language from the home page's footer.
            let mut visitor = browser.sibling();
            visitor.get("/").await.assert_contains("Bienvenue sur Troc");
            let page = visitor.post("/lang", &[("lang", "en")]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            visitor.get("/").await.assert_contains("Welcome to Troc");
            browser.accept_language = Some("en-GB,en;q=0.9,fr;q=0.5".into());
            let page = browser.get("/login").await;
            page.assert_contains("<html lang=\"en\">");
            page.assert_contains("Log in");
            browser.accept_language = None;
            let page = browser.get("/login").await;
            page.assert_contains("<html lang=\"fr\">");
            // A logged-in user's choice is kept in the database and wins over the browser.
            browser.login("d@example.fr", PASSWORD).await;
            let page = browser.post("/lang", &[("lang", "en")]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            browser.accept_language = Some("fr".into());
            let page = browser.get("/account").await;
            page.assert_contains("Change password");
            let page = browser.post("/lang", &[("lang", "de")]).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            page.assert_contains("The request is invalid.");
            store.close().await;
        }
    }
);

story!(form_bodies_are_limited, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        let mut browser = Client::new(state);
        browser.get("/login").await;
        let csrf = browser.csrf.clone().unwrap();
        let max = web::http::session::FORM_BODY_LEN_MAX;
        let head = format!("csrf={csrf}&email=x%40y.fr&password=");
        let at_max = format!("{head}{}", "p".repeat(max - head.len()));
        assert_eq!(at_max.len(), max);
        let page = browser.post_raw("/login", at_max).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        let past_max = format!("{head}{}", "p".repeat(max + 1 - head.len()));
        let page = browser.post_raw("/login", past_max).await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
        page.assert_contains("La requête est trop volumineuse.");
        store.close().await;
    }
});

story!(unknown_pages_and_the_stylesheet, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        let mut browser = Client::new(state);
        let page = browser.get("/nowhere").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        page.assert_contains("Cette page n&#39;existe pas");
        let page = browser.get("/static/troc.css").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.content_type.as_deref(),
            Some("text/css; charset=utf-8")
        );
        let page = browser.get("/invitation/not-a-token").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        store.close().await;
    }
});

story!(
    every_response_carries_the_security_headers,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (_store, state) = state(&url).await;
            let mut browser = Client::new(state);
            // A page, a redirect, an unknown address, the style sheet, the API's answers.
            for (path, status) in [
                ("/login", StatusCode::OK),
                ("/account", StatusCode::SEE_OTHER),
                ("/no-such-page", StatusCode::NOT_FOUND),
                ("/static/troc.css", StatusCode::OK),
                ("/api/v1/me", StatusCode::UNAUTHORIZED),
                ("/password/forgot", StatusCode::OK),
            ] {
                let page = browser.get(path).await;
                assert_eq!(page.status, status, "{path}");
                let header = |name: &str| {
                    page.headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_else(|| panic!("{path}: no {name}"))
                        .to_owned()
                };
                assert_eq!(
                    header("content-security-policy"),
                    web::http::CONTENT_SECURITY_POLICY,
                    "{path}"
                );
                assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
                assert!(!header("content-security-policy").contains("unsafe-inline"));
                assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
                assert_eq!(header("x-frame-options"), "DENY", "{path}");
                assert_eq!(header("referrer-policy"), "same-origin", "{path}");
            }
        }
    }
);

/// The pages obey the Content-Security-Policy: no template holds a script, an inline style or
/// an inline event handler, which the policy would block.
#[test]
fn templates_hold_nothing_the_policy_blocks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/templates");
    let mut dirs = vec![root];
    let mut seen = 0;
    // Bounded: the template tree is two levels deep.
    for _ in 0..8 {
        let Some(dir) = dirs.pop() else { break };
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap().to_ascii_lowercase();
            seen += 1;
            for blocked in [
                "<script",
                " style=",
                "<style",
                " onclick=",
                " onsubmit=",
                " onload=",
                "javascript:",
            ] {
                assert!(
                    !text.contains(blocked),
                    "{} holds {blocked:?}",
                    path.display()
                );
            }
        }
    }
    assert!(dirs.is_empty(), "deeper than expected");
    assert!(seen > 50, "{seen} templates read");
}

/// A user's TOTP secret (`column`: `totp_secret` or `totp_pending`) and last step used.
async fn totp_row(
    store: &web::store::Store,
    email: &str,
    column: &str,
) -> (web::totp::Secret, Option<i64>) {
    let sql = format!("SELECT {column}, totp_last_step FROM users WHERE email = $1");
    let (secret, last): (String, Option<i64>) = web::dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(email).fetch_one(pool).await.unwrap()
    });
    (web::totp::Secret::from_hex(&secret).unwrap(), last)
}

/// The challenge of a code page.
fn challenge_of(body: &str) -> String {
    let start = body
        .find("name=\"challenge\" value=\"")
        .expect("a challenge")
        + 24;
    body[start..start + 64].to_owned()
}

story!(two_step_login, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        let email = "gestion@example.fr";
        let user_id = people::create_user(&store, email, PASSWORD, "Gestion", Role::Manager, None)
            .await
            .unwrap()
            .unwrap();
        let mut browser = Client::new(state.clone());
        browser.login(email, PASSWORD).await;

        // Off by default; setting it up shows a QR code and the key, not in force yet.
        browser
            .get("/account")
            .await
            .assert_contains("href=\"/account/two-step\"");
        browser
            .get("/account/two-step")
            .await
            .assert_contains("id=\"two-step-state\">Désactivée.");
        let page = browser.post("/account/two-step/start", &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("src=\"/account/two-step/qr.svg\"");
        let qr = browser.get("/account/two-step/qr.svg").await;
        assert_eq!(qr.status, StatusCode::OK);
        assert_eq!(qr.content_type.as_deref(), Some("image/svg+xml"));
        assert!(
            qr.body.contains("<svg") && qr.body.contains("<path"),
            "{}",
            qr.body
        );
        let (pending, _) = totp_row(&store, email, "totp_pending").await;
        let key = pending.to_base32();
        page.assert_contains(&format!("{} {}", &key[..4], &key[4..8]));
        assert!(!web::totp::required(&store, user_id).await.unwrap());
        // A wrong code is refused and keeps the same key; the right one turns it on and
        // shows eight recovery codes, once.
        let now = people::now_unix();
        let right = web::totp::code_at(&pending, now);
        let wrong = format!(
            "{:06}",
            (right.parse::<u32>().unwrap() + 500_000) % 1_000_000
        );
        let page = browser
            .post("/account/two-step/confirm", &[("code", &wrong)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Code incorrect");
        page.assert_contains(&format!("{} {}", &key[..4], &key[4..8]));
        let page = browser
            .post("/account/two-step/confirm", &[("code", &right)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Connexion en deux étapes activée.");
        let codes: Vec<String> = page
            .body
            .split("<li><code>")
            .skip(1)
            .map(|s| s[..web::totp::RECOVERY_CODE_LEN].to_owned())
            .collect();
        assert_eq!(codes.len(), web::totp::RECOVERY_CODES);
        let page = browser.get("/account/two-step").await;
        page.assert_contains("Codes de secours restants : 8.");
        // Nothing is being set up any more: no QR code to read.
        assert_eq!(
            browser.get("/account/two-step/qr.svg").await.status,
            StatusCode::NOT_FOUND
        );
        assert!(!page.body.contains(&codes[0]));
        let (secret, last) = totp_row(&store, email, "totp_secret").await;
        assert_eq!(secret, pending);
        let last = last.unwrap();

        // The password now opens only the second step: no session until the code.
        browser.post("/logout", &[]).await;
        browser.get("/login").await;
        let page = browser
            .post("/login", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"login-code\"");
        let challenge = challenge_of(&page.body);
        assert_eq!(browser.get("/admin").await.status, StatusCode::SEE_OTHER);
        // The code already used to turn it on is not accepted again; a wrong one neither.
        let used = web::totp::code_for_step(&secret, last);
        for code in [used.as_str(), wrong.as_str(), &"1".repeat(33)] {
            let page = browser
                .post("/login/code", &[("challenge", &challenge), ("code", code)])
                .await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{code}");
            page.assert_contains("Code incorrect.");
        }
        assert_eq!(browser.get("/admin").await.status, StatusCode::SEE_OTHER);
        let next = web::totp::code_for_step(&secret, last + 1);
        let page = browser
            .post("/login/code", &[("challenge", &challenge), ("code", &next)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/"));
        assert_eq!(browser.get("/admin").await.status, StatusCode::OK);
        // The challenge served once.
        let mut other = browser.sibling();
        other.get("/login").await;
        let page = other
            .post("/login/code", &[("challenge", &challenge), ("code", &next)])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        page.assert_contains("reconnectez-vous");

        // A recovery code opens once, and leaves seven.
        browser.post("/logout", &[]).await;
        let login = |browser: &mut Client| {
            let mut browser = std::mem::replace(browser, other.sibling());
            async move {
                browser.get("/login").await;
                let page = browser
                    .post("/login", &[("email", email), ("password", PASSWORD)])
                    .await;
                assert_eq!(page.status, StatusCode::OK);
                (challenge_of(&page.body), browser)
            }
        };
        let (challenge, mut again) = login(&mut browser).await;
        let typed = format!("{}-{}", &codes[0][..5], codes[0][5..].to_uppercase());
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &typed)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location.as_deref(), Some("/account/two-step"));
        again
            .get("/account/two-step")
            .await
            .assert_contains("Codes de secours restants : 7.");
        again.post("/logout", &[]).await;
        let (challenge, mut again) = login(&mut again).await;
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &codes[0])],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        // Five wrong codes use the challenge up: even a right one then sends back to the
        // password.
        for _ in 0..3 {
            let page = again
                .post(
                    "/login/code",
                    &[("challenge", &challenge), ("code", &wrong)],
                )
                .await;
            page.assert_contains("Code incorrect.");
        }
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &wrong)],
            )
            .await;
        page.assert_contains("Trop d&#39;essais");
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &codes[1])],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        page.assert_contains("Trop d&#39;essais");
        assert_eq!(again.get("/admin").await.status, StatusCode::SEE_OTHER);
        state.login_limiter.clear(email);
        // A challenge older than five minutes, likewise.
        let (challenge, mut again) = login(&mut again).await;
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE login_challenges SET expires_at = $1")
                .bind(people::now_unix()).execute(pool).await.unwrap();
        });
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &codes[1])],
            )
            .await;
        page.assert_contains("plus de cinq minutes");
        assert_eq!(again.get("/admin").await.status, StatusCode::SEE_OTHER);

        // A password reset link does not stand for the code: back to the login.
        let token = people::create_password_reset(&store, user_id, people::now_unix())
            .await
            .unwrap()
            .unwrap();
        let reset = format!("/password/reset/{token}");
        again.get(&reset).await;
        let new_password = "another horse battery";
        let page = again
            .post(&reset, &[("new", new_password), ("confirm", new_password)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/login?reset=1"));
        assert_eq!(again.get("/admin").await.status, StatusCode::SEE_OTHER);
        again
            .get("/login?reset=1")
            .await
            .assert_contains("puis le code de votre application");

        // Turning it off takes the password and a code: either wrong changes nothing.
        let (challenge, mut again) = {
            let mut browser = again;
            browser.get("/login").await;
            let page = browser
                .post("/login", &[("email", email), ("password", new_password)])
                .await;
            (challenge_of(&page.body), browser)
        };
        let page = again
            .post(
                "/login/code",
                &[("challenge", &challenge), ("code", &codes[2])],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        // The new session's CSRF token.
        again.get("/account/two-step").await;
        for (password, code) in [
            (PASSWORD, codes[3].as_str()),
            (new_password, wrong.as_str()),
        ] {
            let page = again
                .post(
                    "/account/two-step/disable",
                    &[("password", password), ("code", code)],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("rien n&#39;a changé");
        }
        assert!(web::totp::required(&store, user_id).await.unwrap());
        let page = again
            .post(
                "/account/two-step/disable",
                &[("password", new_password), ("code", &codes[3])],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Connexion en deux étapes désactivée.");
        assert!(!web::totp::required(&store, user_id).await.unwrap());
        again.post("/logout", &[]).await;
        again.login(email, new_password).await;
    }
});

story!(
    a_manager_turns_off_a_lost_second_step,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = crate::web_front::two_members(&url).await;
            crate::api::staff(&store).await;
            let owner = crate::api::user_id(&store, alpha.id, "owner@alpha.fr").await;
            let staff = crate::api::user_id(&store, alpha.id, "staff@alpha.fr").await;
            let now = people::now_unix();
            let secret = web::totp::start(&store, owner).await.unwrap();
            let code = web::totp::code_at(&secret, now);
            assert!(web::totp::confirm(&store, owner, &code, now)
                .await
                .unwrap()
                .is_some());
            let mut manager = Client::new(state.clone());
            manager.login("gestion@troc.fr", PASSWORD).await;
            let page = manager.get(&format!("/admin/members/{}", alpha.id)).await;
            page.assert_contains(&format!("id=\"two-step-{owner}\""));
            assert!(!page.body.contains(&format!("id=\"two-step-{staff}\"")));
            let path = |member: i64, user: i64| {
                format!("/admin/members/{member}/users/{user}/two-step-off")
            };
            // A reason is required; a user without it, or of another company: 404.
            let page = manager
                .post(&path(alpha.id, owner), &[("reason", "")])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(web::totp::required(&store, owner).await.unwrap());
            for (member, user) in [(alpha.id, staff), (beta.id, owner)] {
                let page = manager
                    .post(&path(member, user), &[("reason", "Téléphone perdu")])
                    .await;
                assert_eq!(page.status, StatusCode::NOT_FOUND);
            }
            // Only a manager: the member's own owner cannot use the console.
            let mut member = manager.sibling();
            member.get("/login").await;
            let page = member
                .post(
                    "/login",
                    &[("email", "owner@alpha.fr"), ("password", PASSWORD)],
                )
                .await;
            page.assert_contains("id=\"login-code\"");
            let page = manager
                .post(
                    &path(alpha.id, owner),
                    &[("reason", "Téléphone perdu, identité vérifiée")],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            assert!(!web::totp::required(&store, owner).await.unwrap());
            // The member reads it in its record, with the reason; the password alone opens the
            // account again.
            member.login("owner@alpha.fr", PASSWORD).await;
            let record = member.get("/company/record").await;
            record.assert_contains("Connexion en deux étapes désactivée");
            record.assert_contains("Téléphone perdu, identité vérifiée");
            assert_eq!(
                member
                    .post(&path(alpha.id, owner), &[("reason", "x")])
                    .await
                    .status,
                StatusCode::FORBIDDEN
            );
        }
    }
);

/// Logs in a user whom the network requires two-step login of and who has not turned it
/// on: the password opens a session that reaches only `/account/two-step` (whose page gives
/// the client its CSRF token).
async fn login_two_step_due(browser: &mut Client, email: &str) {
    browser.get("/login").await;
    let page = browser
        .post("/login", &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = browser.get("/account/two-step").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("id=\"two-step-required\"");
}

/// Turns on the logged-in `email`'s two-step login through its page; the secret.
async fn turn_on_two_step(
    browser: &mut Client,
    store: &web::store::Store,
    email: &str,
) -> web::totp::Secret {
    let page = browser.post("/account/two-step/start", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (pending, _) = totp_row(store, email, "totp_pending").await;
    let code = web::totp::code_at(&pending, people::now_unix());
    let page = browser
        .post("/account/two-step/confirm", &[("code", &code)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_contains("Connexion en deux étapes activée.");
    pending
}

story!(the_network_requires_two_step_login, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::totp::TwoStepRule;
        let (store, state, alpha, _beta) = crate::web_front::two_members(&url).await;
        crate::api::staff(&store).await;
        let owner = crate::api::user_id(&store, alpha.id, "owner@alpha.fr").await;
        let mut manager = Client::new(state.clone());
        manager.login("gestion@troc.fr", PASSWORD).await;
        let page = manager.get("/admin").await;
        page.assert_contains("href=\"/admin/two-step\"");

        // Nobody by default: each user's choice, nobody waited for.
        let page = manager.get("/admin/two-step").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("<strong>personne (au choix de chacun)</strong>");
        page.assert_contains("Concernés sans connexion en deux étapes (0)");
        manager
            .get("/rules")
            .await
            .assert_contains("id=\"rules-two-step\">Demandée à : personne");

        // Refused, nothing changed: no reason, a reason one past its limit, a rule not
        // in the list, the rule in force.
        let long = "r".repeat(web::console::REASON_LEN_MAX + 1);
        for (rule, reason, says) in [
            ("network_staff", "", "Motif"),
            ("network_staff", long.as_str(), "Motif"),
            ("admins", "Sécurité", "Règle"),
            ("nobody", "Sécurité", "Règle"),
        ] {
            let page = manager
                .post("/admin/two-step", &[("rule", rule), ("reason", reason)])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{rule}");
            page.assert_contains(says);
            assert_eq!(web::totp::rule(&store).await.unwrap(), TwoStepRule::Nobody);
        }
        // A reason at its limit is taken; the change is in the action log.
        let at_limit = "r".repeat(web::console::REASON_LEN_MAX);
        let page = manager
            .post(
                "/admin/two-step",
                &[("rule", "network_staff"), ("reason", &at_limit)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(
            web::totp::rule(&store).await.unwrap(),
            TwoStepRule::NetworkStaff
        );

        // The manager, logged in without it, now reaches only the page that turns it on:
        // pages and forms alike send it there, and change nothing.
        for path in ["/admin", "/admin/two-step", "/dashboard", "/account"] {
            let page = manager.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(page.location.as_deref(), Some("/account/two-step"));
        }
        let page = manager
            .post(
                "/admin/two-step",
                &[("rule", "everyone"), ("reason", "Sécurité")],
            )
            .await;
        assert_eq!(page.location.as_deref(), Some("/account/two-step"));
        assert_eq!(
            web::totp::rule(&store).await.unwrap(),
            TwoStepRule::NetworkStaff
        );
        let page = manager.get("/account/two-step").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("activez-la pour continuer");
        // The public rules say it.
        manager
            .get("/rules")
            .await
            .assert_contains("Demandée à : l&#39;équipe du réseau");

        // A member's user is not covered.
        let mut member = manager.sibling();
        member.login("owner@alpha.fr", PASSWORD).await;
        assert_eq!(member.get("/dashboard").await.status, StatusCode::OK);

        // The accountant logs in, is sent to the page, reads who is waited for (itself
        // and the manager) and cannot change the rule.
        let mut accountant = manager.sibling();
        login_two_step_due(&mut accountant, "compta@troc.fr").await;
        assert_eq!(
            accountant.get("/admin").await.location.as_deref(),
            Some("/account/two-step")
        );
        turn_on_two_step(&mut accountant, &store, "compta@troc.fr").await;
        let page = accountant.get("/admin/two-step").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Concernés sans connexion en deux étapes (1)");
        page.assert_contains("<td>gestion@troc.fr</td>");
        assert!(!page.body.contains("<td>compta@troc.fr</td>"));
        assert!(!page.body.contains("id=\"two-step-rule-form\""));
        let page = accountant
            .post(
                "/admin/two-step",
                &[("rule", "everyone"), ("reason", "Sécurité")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        // It cannot turn it off while the network requires it.
        let page = accountant.get("/account/two-step").await;
        page.assert_contains("elle ne peut pas être désactivée");
        assert!(!page.body.contains("id=\"two-step-disable\""));
        let (secret, last) = totp_row(&store, "compta@troc.fr", "totp_secret").await;
        let next = web::totp::code_for_step(&secret, last.unwrap() + 1);
        let page = accountant
            .post(
                "/account/two-step/disable",
                &[("password", PASSWORD), ("code", &next)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Rien n&#39;a changé");
        let accountant_id = people::find_login(&store, "compta@troc.fr")
            .await
            .unwrap()
            .unwrap()
            .0
            .id;
        assert!(web::totp::required(&store, accountant_id).await.unwrap());

        // The manager turns it on and reaches the console again; then everyone.
        turn_on_two_step(&mut manager, &store, "gestion@troc.fr").await;
        let page = manager.get("/admin/two-step").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Aucun : tous les utilisateurs concernés l&#39;ont activée.");
        let page = manager
            .post(
                "/admin/two-step",
                &[("rule", "everyone"), ("reason", "Fraude chez un voisin")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = manager.get("/admin/two-step").await;
        page.assert_contains(&format!(
                "<td>owner@alpha.fr</td><td>Alpha SARL</td><td>Dirigeant</td><td><a href=\"/admin/members/{}\">Alpha SARL</a></td>",
                alpha.id
            ));
        let log = manager.get("/admin/log").await;
        log.assert_contains("settings.two_step");
        log.assert_contains("Fraude chez un voisin");
        // The member's session is sent to the page now; its own page says why.
        let page = member.get("/dashboard").await;
        assert_eq!(page.location.as_deref(), Some("/account/two-step"));
        member
            .get("/account/two-step")
            .await
            .assert_contains("Votre réseau demande la connexion en deux étapes");
        assert!(!web::totp::required(&store, owner).await.unwrap());

        // Back to each user's choice: the member's pages open again.
        let page = manager
            .post(
                "/admin/two-step",
                &[("rule", "nobody"), ("reason", "Retour au choix")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(member.get("/dashboard").await.status, StatusCode::OK);
        // A member's user never reads the console's page.
        assert_eq!(
            member.get("/admin/two-step").await.status,
            StatusCode::FORBIDDEN
        );

        // The operator turns off a lost second step of the network's staff (`troc admin
        // two-step-off`), on the record; a user without it, or unknown: nothing done.
        assert!(
            web::totp::turn_off_by_operator(&store, "compta@troc.fr", "Téléphone perdu")
                .await
                .unwrap()
        );
        assert!(!web::totp::required(&store, accountant_id).await.unwrap());
        for email in ["compta@troc.fr", "personne@troc.fr"] {
            assert!(!web::totp::turn_off_by_operator(&store, email, "x")
                .await
                .unwrap());
        }
        let log = manager.get("/admin/log").await;
        log.assert_contains("user.two_step_off");
        log.assert_contains("Téléphone perdu");
    }
});
