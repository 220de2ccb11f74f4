//! E-mail and forgotten passwords: the link by e-mail, the manager's link, the outbox's
//! retries and bounds, invitations e-mailed (docs/web.md, "Forgotten passwords";
//! docs/operations.md, "E-mail").

use axum::http::StatusCode;
use tests::{mail_text, story, SmtpSink};
use web::mail::{self, Mailer};
use web::people::{self, Role};
use web::store::Store;

use super::client::Client;
use super::{two_members, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn outbox_count(store: &Store, kind: &str) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = $1")
            .bind(kind).fetch_one(pool).await.unwrap()
    })
}

/// Each e-mail the relay received as its `To:` line, a new line, then its text (line ends
/// as `\n`).
fn addressed_texts(sink: &SmtpSink) -> Vec<String> {
    sink.received()
        .iter()
        .map(|m| {
            let to = m
                .lines()
                .find(|l| l.starts_with("To: "))
                .unwrap_or_default();
            format!("{to}\n{}", mail_text(m).replace("\r\n", "\n"))
        })
        .collect()
}

/// The token of the first `/password/reset/` link in `text`.
fn reset_token(text: &str) -> String {
    let start = text.find("/password/reset/").expect("a reset link") + "/password/reset/".len();
    text[start..start + 64].to_owned()
}

/// Two members served without e-mail (`quiet`) and with it through a stand-in relay, with the
/// API client of the latter: the set-up of the stories of what the housekeeping e-mails.
struct Mailing {
    sink: SmtpSink,
    store: Store,
    quiet: web::http::AppState,
    state: web::http::AppState,
    mailer: Mailer,
    api: crate::api::Api,
    alpha: web::people::Member,
    beta: web::people::Member,
}

async fn mailing(url: &str) -> Mailing {
    let sink = SmtpSink::start().await;
    let (store, quiet, alpha, beta) = two_members(url).await;
    let mailer = Mailer::new(&sink.url(), "noreply@troc.test").unwrap();
    let state = quiet.clone().with_mail(mailer.clone());
    let api = crate::api::Api::new(state.clone());
    Mailing {
        sink,
        store,
        quiet,
        state,
        mailer,
        api,
        alpha,
        beta,
    }
}

story!(forgotten_password_by_email, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let sink = SmtpSink::start().await;
        let (store, state, _alpha, _beta) = two_members(&url).await;
        let mailer = Mailer::new(&sink.url(), "Troc <noreply@troc.test>").unwrap();
        let state = state.with_mail(mailer.clone());
        // The owner is logged in elsewhere: that session ends with the new password.
        let mut elsewhere = Client::new(state.clone());
        elsewhere.login("owner@alpha.fr", PASSWORD).await;
        let mut browser = elsewhere.sibling();

        let page = browser.get("/login").await;
        page.assert_contains("href=\"/password/forgot\"");
        let page = browser.get("/password/forgot").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("action=\"/password/forgot\"");

        // A malformed address is refused; the longest valid one is taken, one more is not.
        let page = browser
            .post("/password/forgot", &[("email", "not an address")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Adresse e-mail invalide.");
        let longest = format!("{}@example.fr", "a".repeat(people::EMAIL_LEN_MAX - 11));
        assert_eq!(longest.len(), people::EMAIL_LEN_MAX);
        let page = browser
            .post("/password/forgot", &[("email", &longest)])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let one_more = format!("a{longest}");
        let page = browser
            .post("/password/forgot", &[("email", &one_more)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("254 caractères au plus.");

        // An unknown address and a member's get the same answer; only the member gets mail.
        let unknown = browser
            .post("/password/forgot", &[("email", "nobody@nowhere.fr")])
            .await;
        assert_eq!(unknown.status, StatusCode::OK);
        unknown.assert_contains("id=\"link-sent\"");
        assert_eq!(outbox_count(&store, "password_reset").await, 0);
        let known = browser
            .post("/password/forgot", &[("email", "OWNER@alpha.fr")])
            .await;
        assert_eq!(known.status, StatusCode::OK);
        assert_eq!(known.body, unknown.body);
        assert_eq!(outbox_count(&store, "password_reset").await, 1);
        // At most three links an hour: the fourth ask is answered the same and ignored.
        for _ in 0..3 {
            let page = browser
                .post("/password/forgot", &[("email", "owner@alpha.fr")])
                .await;
            assert_eq!(page.body, unknown.body);
        }
        assert_eq!(
            outbox_count(&store, "password_reset").await,
            people::RESETS_PER_HOUR_MAX
        );

        // The mail task sends them; the bodies (with their links) are erased once sent.
        let now = people::now_unix();
        let round = mail::run_round(&store, &mailer, now).await.unwrap();
        assert_eq!(round.sent, 3);
        assert_eq!(round.retried + round.given_up, 0);
        let received = sink.received();
        assert_eq!(received.len(), 3);
        assert!(
            received[0].contains("To: owner@alpha.fr"),
            "{}",
            received[0]
        );
        assert!(received[0].contains("From: Troc <noreply@troc.test>"));
        let first = mail_text(&received[0]);
        assert!(
            first.contains("http://troc.test/password/reset/"),
            "{first}"
        );
        let token = reset_token(&first);
        let other = reset_token(&mail_text(&received[2]));
        assert_ne!(token, other);
        for queued in mail::recent(&store, 10).await.unwrap() {
            assert!(queued.sent_at.is_some());
            assert_eq!(queued.body, "");
        }
        // A second round has nothing to send.
        let round = mail::run_round(&store, &mailer, now).await.unwrap();
        assert_eq!(round, mail::Round::default());
        assert_eq!(sink.received().len(), 3);

        // A malformed or unknown link says it no longer works.
        let page = browser.get("/password/reset/zz").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        page.assert_contains("id=\"link-gone\"");
        let page = browser
            .get(&format!("/password/reset/{}", "0".repeat(64)))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);

        // The link's form: short and mismatched passwords are refused and change nothing.
        let link = format!("/password/reset/{token}");
        let page = browser.get(&link).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("owner@alpha.fr");
        let page = browser
            .post(&link, &[("new", "too short"), ("confirm", "too short")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("12 caractères au moins.");
        let page = browser
            .post(
                &link,
                &[("new", NEW_PASSWORD), ("confirm", "something else")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, hash) = people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        assert!(people::verify_password(PASSWORD, &hash));

        // The new password: logged in, other sessions closed, a notice e-mailed.
        let page = browser
            .post(&link, &[("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/account?reset=1"));
        let page = browser.get("/account?reset=1").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Vos autres sessions ont été fermées");
        let page = elsewhere.get("/account").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(outbox_count(&store, "password_changed").await, 1);
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let notice = mail_text(sink.received().last().unwrap());
        assert!(notice.contains("owner@alpha.fr"), "{notice}");
        assert!(!notice.contains("/password/reset/"), "{notice}");

        // The old password no longer works, the new one does.
        let mut again = browser.sibling();
        again.get("/login").await;
        let page = again
            .post(
                "/login",
                &[("email", "owner@alpha.fr"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        again.login("owner@alpha.fr", NEW_PASSWORD).await;

        // The link worked once; the other links of the user are spent with it.
        for token in [&token, &other] {
            let page = again.get(&format!("/password/reset/{token}")).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            let page = again
                .post(
                    &format!("/password/reset/{token}"),
                    &[
                        ("new", "yet another passphrase"),
                        ("confirm", "yet another passphrase"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
        }
        let (_, hash) = people::find_login(&store, "owner@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        assert!(people::verify_password(NEW_PASSWORD, &hash));
    }
});

story!(
    forgotten_password_without_email_and_the_managers_link,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            // The network's manager gestion@troc.fr (and its accountant).
            crate::api::staff(&store).await;
            let mut visitor = Client::new(state.clone());

            // Without a relay, the page says whom to ask and nothing is made or queued.
            let page = visitor.get("/password/forgot").await;
            page.assert_contains("id=\"no-mail\"");
            let page = visitor
                .post("/password/forgot", &[("email", "owner@alpha.fr")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"no-mail\"");
            let links: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM password_resets")
                    .fetch_one(pool).await.unwrap()
            });
            assert_eq!(links, 0);
            assert_eq!(mail::recent(&store, 10).await.unwrap().len(), 0);

            // The manager makes a link for Alpha's staff user, shown on the page and logged.
            let staff = crate::web_front::staff_of(&store, &alpha, None).await;
            let beta_owner = people::users_of_member(&store, beta.id)
                .await
                .unwrap()
                .into_iter()
                .find(|u| u.role == Role::Owner)
                .unwrap();
            let mut manager = visitor.sibling();
            manager.login("gestion@troc.fr", PASSWORD).await;
            manager.get(&format!("/admin/members/{}", alpha.id)).await;
            let page = manager
                .post(
                    &format!("/admin/members/{}/users/{}/reset-link", alpha.id, staff.id),
                    &[],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            let token = reset_token(&page.body);
            page.assert_contains("http://troc.test/password/reset/");
            let logged: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM action_log \
                                    WHERE action = 'user.password_reset_link' AND member_id = $1")
                    .bind(alpha.id).fetch_one(pool).await.unwrap()
            });
            assert_eq!(logged, 1);
            // Another company's user under Alpha's address, or an unknown user: not found.
            for user in [beta_owner.id, 999_999] {
                let page = manager
                    .post(
                        &format!("/admin/members/{}/users/{user}/reset-link", alpha.id),
                        &[],
                    )
                    .await;
                assert_eq!(page.status, StatusCode::NOT_FOUND);
            }
            // A member's owner is not a manager.
            let mut owner = visitor.sibling();
            owner.login("owner@alpha.fr", PASSWORD).await;
            let page = owner
                .post(
                    &format!("/admin/members/{}/users/{}/reset-link", alpha.id, staff.id),
                    &[],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);

            // The staff user sets a password with it.
            let mut user = visitor.sibling();
            let link = format!("/password/reset/{token}");
            user.get(&link).await.assert_contains("staff@alpha.fr");
            let page = user
                .post(&link, &[("new", NEW_PASSWORD), ("confirm", NEW_PASSWORD)])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            user.sibling().login("staff@alpha.fr", NEW_PASSWORD).await;

            // A link past its time no longer works.
            let page = manager
                .post(
                    &format!("/admin/members/{}/users/{}/reset-link", alpha.id, staff.id),
                    &[],
                )
                .await;
            let late = reset_token(&page.body);
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE password_resets SET created_at = $1 - 100, expires_at = $1 \
                             WHERE used_at IS NULL")
                    .bind(people::now_unix()).execute(pool).await.unwrap();
            });
            let page = user.get(&format!("/password/reset/{late}")).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            page.assert_contains("id=\"link-gone\"");

            // Invitations without a relay are not said to be e-mailed.
            let page = owner.get("/company").await;
            assert_eq!(page.status, StatusCode::OK);
            let page = owner
                .post("/company/invite", &[("email", "new@alpha.fr")])
                .await;
            page.assert_contains("id=\"invitation-link\"");
            assert!(!page.body.contains("id=\"invitation-mailed\""));
        }
    }
);

story!(
    mails_are_retried_given_up_and_bounded,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            // A relay nobody listens on.
            let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = closed.local_addr().unwrap();
            drop(closed);
            let mailer = Mailer::new(&format!("smtp://{addr}"), "noreply@troc.test").unwrap();
            let now = 1_800_000_000;
            let message = mail::password_changed(
                web::http::i18n::Lang::En,
                "someone@example.fr",
                "2027-01-15 08:00",
            )
            .unwrap();
            assert_eq!(mail::enqueue(&store, &message, now).await.unwrap(), Ok(()));

            // A failure is retried after the backoff, the body kept for the next attempt.
            let round = mail::run_round(&store, &mailer, now).await.unwrap();
            assert_eq!(round.retried, 1);
            let queued = &mail::recent(&store, 1).await.unwrap()[0];
            assert_eq!(queued.attempts, 1);
            assert!(queued.last_error.is_some());
            assert_eq!(queued.body, message.body());
            assert_eq!(
                mail::run_round(&store, &mailer, now + mail::BACKOFF.after(1) - 1)
                    .await
                    .unwrap(),
                mail::Round::default()
            );
            let round = mail::run_round(&store, &mailer, now + mail::BACKOFF.after(1))
                .await
                .unwrap();
            assert_eq!(round.retried, 1);

            // The last attempt gives it up and erases the body.
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE mail_outbox SET attempts = $1, next_attempt_at = $2")
                    .bind(mail::ATTEMPTS_MAX - 1).bind(now).execute(pool).await.unwrap();
            });
            let round = mail::run_round(&store, &mailer, now).await.unwrap();
            assert_eq!(round.given_up, 1);
            let queued = &mail::recent(&store, 1).await.unwrap()[0];
            assert!(queued.failed_at.is_some() && queued.sent_at.is_none());
            assert_eq!(queued.body, "");
            assert_eq!(
                mail::run_round(&store, &mailer, now + 86_400)
                    .await
                    .unwrap(),
                mail::Round::default()
            );

            // Rows are kept for a while, then purged.
            assert_eq!(
                mail::purge(&store, now + mail::KEPT_SECONDS).await.unwrap(),
                0
            );
            assert_eq!(
                mail::purge(&store, now + mail::KEPT_SECONDS + 1)
                    .await
                    .unwrap(),
                1
            );

            // The outbox holds at most OUTBOX_PENDING_MAX e-mails waiting: the last one fits,
            // one more is refused and nothing is written.
            web::dispatch!(store.backend(), pool => {
                sqlx::query(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                     INSERT INTO mail_outbox (kind, to_addr, subject, body, created_at, next_attempt_at) \
                     SELECT 'invitation', 'x@example.fr', 'Hi', 'Body', $2, $3 FROM n")
                    .bind(mail::OUTBOX_PENDING_MAX - 1).bind(now).bind(now + 3_600)
                    .execute(pool).await.unwrap();
            });
            assert_eq!(mail::enqueue(&store, &message, now).await.unwrap(), Ok(()));
            assert_eq!(
                mail::enqueue(&store, &message, now).await.unwrap(),
                Err(mail::MailError::OutboxFull)
            );
            let total: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox").fetch_one(pool).await.unwrap()
            });
            assert_eq!(total, mail::OUTBOX_PENDING_MAX);
            store.close().await;
        }
    }
);

story!(invitations_are_emailed, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let sink = SmtpSink::start().await;
        let (store, state, alpha, _beta) = two_members(&url).await;
        let mailer = Mailer::new(&sink.url(), "noreply@troc.test").unwrap();
        let state = state.with_mail(mailer.clone());
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        owner.get("/company").await;
        let page = owner
            .post("/company/invite", &[("email", "new@alpha.fr")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"invitation-mailed\"");
        let shown = {
            let start = page.body.find("/invitation/").unwrap();
            page.body[start..start + "/invitation/".len() + 64].to_owned()
        };
        assert_eq!(outbox_count(&store, "invitation").await, 1);
        let round = mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        assert_eq!(round.sent, 1);
        let message = &sink.received()[0];
        assert!(message.contains("To: new@alpha.fr"), "{message}");
        let text = mail_text(message);
        assert!(text.contains(&format!("http://troc.test{shown}")), "{text}");
        assert!(text.contains("Alpha SARL"), "{text}");

        // Through the API, the answer says the link was e-mailed too.
        let token = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let api = crate::api::Api::new(state.clone());
        let created = api
            .post(
                "/api/v1/company/invitations",
                &token,
                serde_json::json!({"email": "second@alpha.fr", "role": "staff"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["emailed"], true);
        assert_eq!(outbox_count(&store, "invitation").await, 2);

        // A member admitted by a manager: its owner's invitation is e-mailed too, from the
        // console and from the API.
        crate::api::staff(&store).await;
        let mut manager = owner.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        manager.get("/admin/members/new").await;
        let siren = crate::web_front::siren(7);
        let page = manager
            .post(
                "/admin/members",
                &[
                    ("siren", siren.as_str()),
                    ("name", "Delta Transports"),
                    ("address", "3 quai"),
                    ("city", "Nantes"),
                    ("postcode", "44000"),
                    ("sector", "transport"),
                    ("contact", "02 00 00 00 00"),
                    ("owner_email", "patron@delta.fr"),
                    ("credit_limit", "2 000"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("id=\"invitation-mailed\"");
        assert_eq!(outbox_count(&store, "invitation").await, 3);
        let manage = crate::api::token(&store, "gestion@troc.fr", web::tokens::Scope::Manage).await;
        let created = api
            .post(
                "/api/v1/members",
                &manage,
                serde_json::json!({"name": "Gamma SAS", "siren": crate::web_front::siren(3),
                                   "email": "owner@gamma.fr", "credit_limit": "750"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["emailed"], true);
        let round = mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        assert_eq!(round.sent, 3);
        let to: Vec<String> = sink
            .received()
            .iter()
            .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_owned))
            .collect();
        assert_eq!(
            to,
            [
                "To: new@alpha.fr",
                "To: second@alpha.fr",
                "To: patron@delta.fr",
                "To: owner@gamma.fr"
            ]
        );
        let gamma = mail_text(sink.received().last().unwrap());
        assert!(gamma.contains("Gamma SAS"), "{gamma}");
        assert!(
            gamma.contains(created["invitation_url"].as_str().unwrap()),
            "{gamma}"
        );

        // The server as `troc serve` runs it sends on its own, every round, and counts it.
        let listener = web::http::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
        let sending = state.clone().with_mail(
            mailer
                .clone()
                .with_interval(std::time::Duration::from_millis(50)),
        );
        let server = tokio::spawn(web::http::serve_until(sending, listener, async move {
            let _ = stop_requested.await;
        }));
        owner
            .post("/company/invite", &[("email", "third@alpha.fr")])
            .await
            .assert_contains("id=\"invitation-mailed\"");
        let mut rounds = 0;
        while sink.received().len() < 5 {
            rounds += 1;
            assert!(rounds <= 200, "no e-mail within 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(sink.received()[4].contains("To: third@alpha.fr"));
        let metrics = api.get("/metrics", &manage).await;
        let sent = metrics
            .text
            .lines()
            .find_map(|l| l.strip_prefix("troc_mails_total{outcome=\"sent\"} "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{}", metrics.text));
        assert!(sent >= 5, "{sent}");
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(30), server)
            .await
            .expect("the server stops within its grace period")
            .unwrap()
            .unwrap();

        // With e-mail, the manager's reset link goes to the user, not to the page.
        let staff = crate::web_front::staff_of(&store, &alpha, None).await;
        manager.get(&format!("/admin/members/{}", alpha.id)).await;
        let page = manager
            .post(
                &format!("/admin/members/{}/users/{}/reset-link", alpha.id, staff.id),
                &[],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"reset-mailed\"");
        assert!(
            !page.body.contains("/password/reset/"),
            "the link is not shown"
        );
        assert_eq!(outbox_count(&store, "password_reset").await, 1);
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let last = sink.received().last().unwrap().clone();
        assert!(last.contains("To: staff@alpha.fr"), "{last}");
        let text = mail_text(&last);
        assert!(text.contains("Le gestionnaire de votre réseau"), "{text}");
        assert!(text.contains("24 heures"), "{text}");
        let token = reset_token(&text);
        let mut user = manager.sibling();
        let page = user.get(&format!("/password/reset/{token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("staff@alpha.fr");
    }
});

story!(notices_of_requests_and_approvals, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let sink = SmtpSink::start().await;
        let (store, state, alpha, beta) = two_members(&url).await;
        let mailer = Mailer::new(&sink.url(), "noreply@troc.test").unwrap();
        let state = state.with_mail(mailer.clone());
        // Alpha's staff user may pay 100,00 at most without the owner.
        crate::web_front::staff_of(&store, &alpha, Some(10_000)).await;
        let mut alpha_owner = Client::new(state.clone());
        alpha_owner.login("owner@alpha.fr", PASSWORD).await;
        let mut alpha_staff = alpha_owner.sibling();
        alpha_staff.login("staff@alpha.fr", PASSWORD).await;

        // The account page offers the choice, on by default.
        let page = alpha_staff.get("/account").await;
        page.assert_contains("id=\"notices\"");
        page.assert_contains("name=\"mail_notices\" type=\"checkbox\" value=\"on\" checked");
        // The staff user turns them off; a value other than `on` is refused.
        let page = alpha_staff
            .post("/account/notices", &[("mail_notices", "yes")])
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        let page = alpha_staff.post("/account/notices", &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Enregistré.");
        assert!(!page.body.contains("value=\"on\" checked"));
        let staff_user = crate::web_front::staff_of(&store, &alpha, None).await;
        let none = people::MailChoices {
            notices: false,
            receipts: false,
            listings: false,
            statements: false,
        };
        assert_eq!(
            people::mail_choices(&store, staff_user.id).await.unwrap(),
            none
        );
        // Each kind is its own box.
        let page = alpha_staff
            .post("/account/notices", &[("mail_receipts", "on")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("name=\"mail_receipts\" type=\"checkbox\" value=\"on\" checked");
        page.assert_contains("name=\"mail_statements\" type=\"checkbox\" value=\"on\">");
        assert_eq!(
            people::mail_choices(&store, staff_user.id).await.unwrap(),
            people::MailChoices {
                receipts: true,
                ..none
            }
        );

        // Beta asks Alpha to pay: Alpha's owner is told (not its staff, who opted out), once
        // even if the form is sent twice.
        let mut beta_owner = alpha_owner.sibling();
        beta_owner.login("owner@beta.fr", PASSWORD).await;
        let page = beta_owner.get("/requests").await;
        let token = crate::web_front::client::hidden_value(&page.body, "token").unwrap();
        let alpha_id = alpha.id.to_string();
        let fields = [
            ("payee", alpha_id.as_str()),
            ("amount", "50"),
            ("reference", "FA-77"),
            ("due_date", "2099-01-31"),
            ("token", token.as_str()),
        ];
        for _ in 0..2 {
            let page = beta_owner.post("/requests", &fields).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
        }
        assert_eq!(outbox_count(&store, "payment_request").await, 1);
        let request_id: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT id FROM payment_requests").fetch_one(pool).await.unwrap()
        });

        // Alpha's staff pays over its limit: the payment waits, and the owner is told.
        let page = alpha_staff.get("/pay").await;
        let token = crate::web_front::client::hidden_value(&page.body, "token").unwrap();
        let beta_id = beta.id.to_string();
        let page = alpha_staff
            .post(
                "/pay/approval",
                &[
                    ("payee", beta_id.as_str()),
                    ("amount", "150,00"),
                    ("reference", "DEVIS-7"),
                    ("token", token.as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(outbox_count(&store, "approval_waiting").await, 1);

        let round = mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        assert_eq!(round.sent, 2);
        let received = sink.received();
        assert!(received.iter().all(|m| m.contains("To: owner@alpha.fr")));
        let request = mail_text(&received[0]);
        assert!(request.contains("Beta & Fils <SAS>"), "{request}");
        assert!(
            request.contains("50,00") && request.contains("FA-77"),
            "{request}"
        );
        assert!(
            request.contains(&format!("http://troc.test/requests/{request_id}")),
            "{request}"
        );
        let approval = mail_text(&received[1]);
        assert!(approval.contains("staff@alpha.fr"), "{approval}");
        assert!(approval.contains("150,00"), "{approval}");
        assert!(
            approval.contains("http://troc.test/approvals#approval-"),
            "{approval}"
        );

        // Through the API too, in the recipient's language.
        people::set_lang(&store, staff_user.id, "en").await.unwrap();
        people::set_mail_choices(&store, staff_user.id, people::MailChoices::ALL_ON)
            .await
            .unwrap();
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        let api = crate::api::Api::new(state.clone());
        api.post(
            "/api/v1/payment-requests",
            &beta_pay,
            serde_json::json!({"payer": alpha.id, "amount": "12.00", "reference": "FA-78",
                               "due_date": "2099-02-28", "memo": ""}),
        )
        .await
        .ok(StatusCode::CREATED);
        assert_eq!(outbox_count(&store, "payment_request").await, 3);
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let english = sink
            .received()
            .into_iter()
            .find(|m| m.contains("To: staff@alpha.fr"))
            .map(|m| mail_text(&m))
            .unwrap();
        assert!(
            english.contains("asks your company to pay 12.00"),
            "{english}"
        );

        // Without e-mail, the account page offers no choice and nothing is queued.
        let (_, quiet) = crate::web_front::client::state(&url).await;
        let mut owner = Client::new(quiet);
        owner.login("owner@alpha.fr", PASSWORD).await;
        let page = owner.get("/account").await;
        assert!(!page.body.contains("id=\"notices\""));
    }
});

async fn digest_through(store: &Store) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT payments_through FROM notice_marks WHERE id = 1")
            .fetch_one(pool).await.unwrap()
    })
}

story!(digests_of_payments_received, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, Digested};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            alpha,
            beta,
        } = mailing(&url).await;
        let staff_user = crate::web_front::staff_of(&store, &alpha, None).await;
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        let staff_pay = crate::api::token(&store, "staff@alpha.fr", web::tokens::Scope::Pay).await;
        let staff_read =
            crate::api::token(&store, "staff@alpha.fr", web::tokens::Scope::Read).await;

        // The API shows and sets the choices: all on by default; a read token changes
        // nothing; a body that sets nothing or not with a boolean is refused.
        let me = api.get("/api/v1/me", &staff_pay).await.ok(StatusCode::OK);
        assert_eq!(
            me["mail"],
            serde_json::json!({"notices": true, "receipts": true, "listings": true,
                               "statements": true})
        );
        api.put(
            "/api/v1/me/notices",
            &staff_read,
            serde_json::json!({"receipts": false}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
        for body in [
            serde_json::json!({"receipts": "no"}),
            serde_json::json!({}),
            serde_json::json!({"receipts": null}),
        ] {
            api.put("/api/v1/me/notices", &staff_pay, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        assert_eq!(
            people::mail_choices(&store, staff_user.id).await.unwrap(),
            people::MailChoices::ALL_ON
        );
        // The staff user keeps the notices and the listings, not the digest.
        let set = api
            .put(
                "/api/v1/me/notices",
                &staff_pay,
                serde_json::json!({"receipts": false}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            set,
            serde_json::json!({"notices": true, "receipts": false, "listings": true,
                               "statements": true})
        );
        let me = api.get("/api/v1/me", &staff_pay).await.ok(StatusCode::OK);
        assert_eq!(me["mail"], set);
        // Each choice is its own field: the statements too.
        let set = api
            .put(
                "/api/v1/me/notices",
                &staff_pay,
                serde_json::json!({"statements": false}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["statements"], false);
        assert_eq!(set["receipts"], false);
        assert!(
            !people::mail_choices(&store, staff_user.id)
                .await
                .unwrap()
                .statements
        );
        api.put(
            "/api/v1/me/notices",
            &staff_pay,
            serde_json::json!({"statements": true}),
        )
        .await
        .ok(StatusCode::OK);

        // The hours before this one are digested (the mark is set here so that the story
        // does not depend on when the database was migrated).
        let set_through = |through: i64| {
            let store = store.clone();
            async move {
                web::dispatch!(store.backend(), pool => {
                    sqlx::query("UPDATE notice_marks SET payments_through = $1").bind(through)
                        .execute(pool).await.unwrap();
                });
            }
        };
        let through = people::now_unix() / 3_600 * 3_600;
        set_through(through).await;

        // Beta pays Alpha twice, Alpha pays Beta once.
        let paid = |payer: &str, payee: i64, amount: &str, reference: &str| {
            let body = serde_json::json!({"payee": payee, "amount": amount,
                                          "reference": reference, "memo": ""});
            let (api, payer) = (api.clone(), payer.to_owned());
            async move {
                api.post("/api/v1/payments", &payer, body)
                    .await
                    .ok(StatusCode::CREATED);
            }
        };
        paid(&beta_pay, alpha.id, "40.00", "FA-1").await;
        paid(&beta_pay, alpha.id, "2.50", "FA-2").await;
        paid(&alpha_pay, beta.id, "10.00", "").await;
        // The end of the hour of the last payment: every payment is before it.
        let hour_end = (people::now_unix() / 3_600 + 1) * 3_600;

        // Nothing before an hour is over, and a minute more.
        let digested = notices::payments_received(&state, through + 3_600 + 59)
            .await
            .unwrap();
        assert_eq!(digested, Digested::default());
        // Without e-mail, nothing either, and the hours stay to digest.
        let digested = notices::payments_received(&quiet, hour_end + 60)
            .await
            .unwrap();
        assert_eq!(digested, Digested::default());
        assert_eq!(digest_through(&store).await, through);

        // Then each company that received payments gets one digest per owner and staff user
        // who wants it: Alpha's owner (its staff opted out), Beta's owner and staff.
        let digested = notices::payments_received(&state, hour_end + 60)
            .await
            .unwrap();
        assert_eq!(
            digested,
            Digested {
                from: through,
                until: hour_end,
                members: 2,
                queued: 3,
            }
        );
        assert_eq!(digest_through(&store).await, hour_end);
        assert_eq!(outbox_count(&store, "payments_received").await, 3);
        // Asked again, nothing new; a process that read the old mark queues nothing twice.
        let again = notices::payments_received(&state, hour_end + 600)
            .await
            .unwrap();
        assert_eq!(again, Digested::default());
        set_through(through).await;
        let again = notices::payments_received(&state, hour_end + 600)
            .await
            .unwrap();
        assert_eq!(again.members, 2);
        assert_eq!(outbox_count(&store, "payments_received").await, 3);

        let round = mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        assert_eq!(round.sent, 3);
        let received = sink.received();
        let to = |address: &str| {
            received
                .iter()
                .find(|m| m.contains(&format!("To: {address}")))
                .map(|m| mail_text(m))
                .unwrap_or_else(|| panic!("no e-mail to {address}"))
        };
        let alpha_mail = to("owner@alpha.fr");
        assert!(alpha_mail.contains("2 paiements reçus"), "{alpha_mail}");
        assert!(alpha_mail.contains("42,50 en tout"), "{alpha_mail}");
        assert!(
            alpha_mail.contains("Beta & Fils <SAS>  40,00 (réf. FA-1)"),
            "{alpha_mail}"
        );
        assert!(alpha_mail.contains("2,50 (réf. FA-2)"), "{alpha_mail}");
        assert!(
            alpha_mail.contains("http://troc.test/history"),
            "{alpha_mail}"
        );
        assert!(alpha_mail.contains("(UTC)"), "{alpha_mail}");
        // Its payment to Beta is not in it.
        assert!(!alpha_mail.contains("10,00"), "{alpha_mail}");
        let beta_mail = to("owner@beta.fr");
        assert!(beta_mail.contains("1 paiement reçu"), "{beta_mail}");
        assert!(beta_mail.contains("Alpha SARL  10,00"), "{beta_mail}");
        assert!(!beta_mail.contains("réf."), "{beta_mail}");
        assert!(!received.iter().any(|m| m.contains("To: staff@alpha.fr")));

        // A digest covers what the mark says is not digested yet. Moved back (as when a
        // process stopped before marking), the next one covers the earlier payments again
        // with a new one, in each recipient's language, to the staff user who turned notices
        // on again; an e-mail queued before under the same key is not queued twice.
        people::set_lang(&store, staff_user.id, "en").await.unwrap();
        api.put(
            "/api/v1/me/notices",
            &staff_pay,
            serde_json::json!({"receipts": true}),
        )
        .await
        .ok(StatusCode::OK);
        set_through(through).await;
        paid(&beta_pay, alpha.id, "5.00", "FA-3").await;
        let next_end = (people::now_unix() / 3_600 + 1) * 3_600;
        let next = notices::payments_received(&state, next_end + 60)
            .await
            .unwrap();
        assert_eq!((next.from, next.until), (through, next_end));
        assert_eq!(next.members, 2);
        // Alpha's owner and staff, Beta's owner and staff.
        assert_eq!(next.queued, 4);
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let english = sink
            .received()
            .into_iter()
            .find(|m| m.contains("To: staff@alpha.fr"))
            .map(|m| mail_text(&m))
            .unwrap();
        assert!(english.contains("3 payments received"), "{english}");
        assert!(english.contains("47.50 in all"), "{english}");
        assert!(english.contains("(ref. FA-3)"), "{english}");

        // A digest lists its first 10 payments and counts the others: Alpha received 3,
        // and 8 more make 11 (over a period starting an hour earlier: another period, another
        // e-mail).
        for n in 0..8 {
            paid(&beta_pay, alpha.id, "1.00", &format!("L-{n}")).await;
        }
        set_through(through - 3_600).await;
        let lines_end = (people::now_unix() / 3_600 + 1) * 3_600;
        notices::payments_received(&state, lines_end + 60)
            .await
            .unwrap();
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let listed = sink
            .received()
            .into_iter()
            .filter(|m| m.contains("To: staff@alpha.fr"))
            .map(|m| mail_text(&m))
            .find(|text| text.contains("11 payments received"))
            .expect("a digest of 11 payments");
        assert_eq!(listed.matches("\n- ").count(), 11, "{listed}");
        assert!(listed.contains("(ref. L-6)"), "{listed}");
        assert!(!listed.contains("(ref. L-7)"), "{listed}");
        assert!(listed.contains("- and 1 more"), "{listed}");

        // After a long stop, a digest looks back a day at most.
        let late = lines_end + 10 * 86_400 + 60;
        let digested = notices::payments_received(&state, late).await.unwrap();
        assert_eq!(
            digested.until - digested.from,
            notices::DIGEST_LOOKBACK_SECONDS_MAX
        );
        assert_eq!(digested.members, 0);
        assert_eq!(digest_through(&store).await, digested.until);
    }
});

story!(notices_of_the_networks_actions, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, ActionsNotified};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            alpha,
            beta,
        } = mailing(&url).await;
        crate::api::staff(&store).await;
        let manage = crate::api::token(&store, "gestion@troc.fr", web::tokens::Scope::Manage).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        let beta_owner = crate::api::user_id(&store, beta.id, "owner@beta.fr").await;
        people::set_lang(&store, beta_owner, "en").await.unwrap();
        let set_mark = |id: i64| {
            let store = store.clone();
            async move {
                web::dispatch!(store.backend(), pool => {
                    sqlx::query("UPDATE notice_marks SET action_id = $1").bind(id)
                        .execute(pool).await.unwrap();
                });
            }
        };
        let last_action = || {
            let store = store.clone();
            async move {
                web::dispatch!(store.backend(), pool => {
                    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM action_log")
                        .fetch_one(pool).await.unwrap()
                })
            }
        };
        set_mark(last_action().await).await;

        // The manager raises Alpha's limits, sets them again unchanged, freezes and
        // unfreezes Beta, and declines Beta's request for a higher limit.
        let limits = format!("/api/v1/accounts/{}/credit-limit", alpha.account_id);
        for _ in 0..2 {
            api.put(
                &limits,
                &manage,
                serde_json::json!({"credit_limit": "1500.00", "max_balance": "5000.00",
                                   "reason": "Bon historique"}),
            )
            .await
            .ok(StatusCode::OK);
        }
        for (action, reason) in [("freeze", "Impayés"), ("unfreeze", "Réglé")] {
            api.post(
                &format!("/api/v1/accounts/{}/{action}", beta.account_id),
                &manage,
                serde_json::json!({ "reason": reason }),
            )
            .await
            .ok(StatusCode::OK);
        }
        let asked = api
            .post(
                "/api/v1/limit-requests",
                &beta_pay,
                serde_json::json!({"credit_limit": "800.00", "message": "Achats"}),
            )
            .await
            .ok(StatusCode::CREATED);
        api.post(
            &format!("/api/v1/limit-requests/{}/decline", asked["id"]),
            &manage,
            serde_json::json!({"reason": "Trop tôt"}),
        )
        .await
        .ok(StatusCode::OK);

        // The manager announces new fees: every company's owner hears of it.
        api.post(
            "/api/v1/rules",
            &manage,
            serde_json::json!({"commission_bp": 300, "commission_min": "1.00", "fund_bp": 50,
                               "fund_payer": "seller", "effective_from": "2099-01-01T00:00:00Z",
                               "reason": "Assemblée générale"}),
        )
        .await
        .ok(StatusCode::CREATED);

        // Without e-mail, nothing is read.
        assert_eq!(
            notices::network_actions(&quiet).await.unwrap(),
            ActionsNotified::default()
        );
        // With it, each owner hears of each change: six e-mails (the limits set unchanged
        // and the request itself tell nothing); asked again, nothing new.
        let notified = notices::network_actions(&state).await.unwrap();
        assert_eq!(notified.queued, 6, "{notified:?}");
        assert!(notified.read >= 6, "{notified:?}");
        assert_eq!(
            notices::network_actions(&state).await.unwrap(),
            ActionsNotified::default()
        );
        assert_eq!(outbox_count(&store, "network_action").await, 6);
        let round = mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        assert_eq!(round.sent, 6);
        let received: Vec<String> = sink.received();
        assert!(!received.iter().any(|m| m.contains("To: staff@")));
        let alpha_mails: Vec<String> = received
            .iter()
            .filter(|m| m.contains("To: owner@alpha.fr"))
            .map(|m| mail_text(m))
            .collect();
        assert_eq!(alpha_mails.len(), 2);
        let alpha_mail = alpha_mails
            .iter()
            .find(|m| m.contains("les limites"))
            .unwrap();
        let fees_mail = alpha_mails.iter().find(|m| m.contains("frais")).unwrap();
        assert!(
            fees_mail.contains(
                "a fixé de nouveaux frais, en vigueur à partir du 01/01/2099 00:00 (UTC)"
            ),
            "{fees_mail}"
        );
        assert!(
            fees_mail.contains("Motif : Assemblée générale"),
            "{fees_mail}"
        );
        assert!(fees_mail.contains("http://troc.test/rules"), "{fees_mail}");
        assert!(
            alpha_mail.contains("Le gestionnaire du réseau (gestion@troc.fr) a changé les limites"),
            "{alpha_mail}"
        );
        assert!(
            alpha_mail.contains("limite de crédit : 1 000,00 → 1 500,00"),
            "{alpha_mail}"
        );
        assert!(
            alpha_mail.contains("plafond du solde : aucun → 5 000,00"),
            "{alpha_mail}"
        );
        assert!(
            alpha_mail.contains("Motif : Bon historique"),
            "{alpha_mail}"
        );
        assert!(
            alpha_mail.contains("http://troc.test/credit-limit"),
            "{alpha_mail}"
        );
        let beta_mails: Vec<String> = received
            .iter()
            .filter(|m| m.contains("To: owner@beta.fr"))
            .map(|m| mail_text(m))
            .collect();
        assert_eq!(beta_mails.len(), 4);
        let beta_all = beta_mails.join("\n");
        for expected in [
            "set new fees, in force from 2099-01-01 00:00 (UTC)",
            "froze Beta & Fils <SAS>'s account: it may still receive payments",
            "Reason: Impayés",
            "unfroze Beta & Fils <SAS>'s account: it may pay again",
            "declined Beta & Fils <SAS>'s request for a credit limit of 800.00",
            "Reason: Trop tôt",
            "http://troc.test/dashboard",
        ] {
            assert!(beta_all.contains(expected), "{expected}: {beta_all}");
        }

        // A process that read the old mark queues nothing twice.
        set_mark(0).await;
        notices::network_actions(&state).await.unwrap();
        assert_eq!(outbox_count(&store, "network_action").await, 6);

        // At most 500 entries are read a call: 501 more take two calls.
        let mark = last_action().await;
        set_mark(mark).await;
        web::dispatch!(store.backend(), pool => {
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 501) \
                 INSERT INTO action_log (time, actor, action, reason, before, after) \
                 SELECT 0, 'gestion@troc.fr', 'settings.change', '', 'null', 'null' FROM n")
                .execute(pool).await.unwrap();
        });
        let first = notices::network_actions(&state).await.unwrap();
        assert_eq!(first.read, notices::ACTIONS_READ_MAX as u64);
        let second = notices::network_actions(&state).await.unwrap();
        assert_eq!(second.read, 1);
        assert_eq!(first.queued + second.queued, 0);
    }
});

story!(weekly_e_mail_of_new_listings, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, week_start, Digested, MATCHES_PERIOD_SECONDS};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            beta,
            ..
        } = mailing(&url).await;
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        let until = crate::api::day_in(30);
        let listing = |title: &str, price: Option<&str>| {
            let mut body = serde_json::json!({"title": title, "category": "informatique",
                                              "city": "Lyon", "active_until": until});
            if let Some(price) = price {
                body["price"] = price.into();
            }
            body
        };
        // This week: Alpha looks for maintenance, Beta offers an audit and looks for servers;
        // Beta's older offer was posted the week before.
        let this_week = week_start(people::now_unix());
        let set_week = |week: i64| {
            let store = store.clone();
            async move {
                web::dispatch!(store.backend(), pool => {
                    sqlx::query("UPDATE notice_marks SET matches_through = $1").bind(week)
                        .execute(pool).await.unwrap();
                });
            }
        };
        set_week(this_week).await;
        api.post(
            "/api/v1/wants",
            &alpha_pay,
            listing("Maintenance du parc", None),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            "/api/v1/offers",
            &beta_pay,
            listing("Audit de sécurité", Some("1200")),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post("/api/v1/wants", &beta_pay, listing("Serveurs", Some("900")))
            .await
            .ok(StatusCode::CREATED);
        let old = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                listing("Vieille offre", Some("10")),
            )
            .await
            .ok(StatusCode::CREATED);
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE listings SET created_at = $1 WHERE id = $2")
                .bind(this_week - 10).bind(old["id"].as_i64().unwrap())
                .execute(pool).await.unwrap();
        });

        // Beta's staff user keeps every e-mail but this one.
        let beta_staff = crate::api::user_id(&store, beta.id, "staff@beta.fr").await;
        let choices = people::MailChoices {
            listings: false,
            ..people::MailChoices::ALL_ON
        };
        people::set_mail_choices(&store, beta_staff, choices)
            .await
            .unwrap();

        // Nothing before next Monday, a minute past midnight; nothing without e-mail.
        let monday = this_week + MATCHES_PERIOD_SECONDS;
        let early = notices::weekly_matches(&state, monday + 59).await.unwrap();
        assert_eq!(early, Digested::default());
        let none = notices::weekly_matches(&quiet, monday + 60).await.unwrap();
        assert_eq!(none, Digested::default());

        // Then each company hears of what is new for it, owner and staff (but Beta's).
        let sent = notices::weekly_matches(&state, monday + 60).await.unwrap();
        assert_eq!(
            sent,
            Digested {
                from: this_week,
                until: monday,
                members: 2,
                queued: 3,
            }
        );
        assert_eq!(outbox_count(&store, "matches").await, 3);
        assert_eq!(
            notices::weekly_matches(&state, monday + 600).await.unwrap(),
            Digested::default()
        );
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = sink.received();
        let to = |address: &str| {
            received
                .iter()
                .find(|m| m.contains(&format!("To: {address}")))
                .map(|m| mail_text(m))
                .unwrap_or_else(|| panic!("no e-mail to {address}"))
        };
        let alpha_mail = to("owner@alpha.fr");
        assert!(
            alpha_mail.contains("- Audit de sécurité — Beta & Fils <SAS>, Lyon — 1 200,00"),
            "{alpha_mail}"
        );
        // A want shows no price.
        assert!(
            alpha_mail.contains("- Serveurs — Beta & Fils <SAS>, Lyon"),
            "{alpha_mail}"
        );
        assert!(!alpha_mail.contains("900,00"), "{alpha_mail}");
        assert!(!alpha_mail.contains("Vieille offre"), "{alpha_mail}");
        assert!(
            alpha_mail.contains("http://troc.test/market/for-you"),
            "{alpha_mail}"
        );
        let beta_mail = to("owner@beta.fr");
        assert!(
            beta_mail.contains("- Maintenance du parc — Alpha SARL, Lyon"),
            "{beta_mail}"
        );
        assert!(!beta_mail.contains("Audit de sécurité"), "{beta_mail}");
        assert!(to("staff@alpha.fr").contains("Audit de sécurité"));
        assert!(!received.iter().any(|m| m.contains("To: staff@beta.fr")));

        // A week with nothing new sends nothing, and is marked.
        let quiet_week = notices::weekly_matches(&state, monday + MATCHES_PERIOD_SECONDS + 60)
            .await
            .unwrap();
        assert_eq!((quiet_week.members, quiet_week.queued), (0, 0));
        assert_eq!(quiet_week.until, monday + MATCHES_PERIOD_SECONDS);
        assert_eq!(outbox_count(&store, "matches").await, 3);
    }
});

story!(monthly_statements_by_e_mail, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use chrono::{DateTime, Utc};
        use ledger::{AccountId, Amount, IdempotencyKey, Operation};
        use web::http::notices::{self, month_start, StatementsQueued, STATEMENT_MEMBERS_PER_CALL};
        use web::store::Submission;
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            alpha,
            beta,
            ..
        } = mailing(&url).await;
        // Alpha's accountant gets the statement; Beta's chose not to.
        crate::api::member_accountant(&store, &alpha).await;
        let beta_expert = people::create_user(
            &store,
            "expert@beta.fr",
            PASSWORD,
            "Expert",
            Role::MemberAccountant,
            Some(beta.id),
        )
        .await
        .unwrap()
        .unwrap();
        let choices = people::MailChoices {
            statements: false,
            ..people::MailChoices::ALL_ON
        };
        people::set_mail_choices(&store, beta_expert, choices)
            .await
            .unwrap();
        // Idle companies, so that the first call fills its chunk and one is left for the next.
        let idle_count = STATEMENT_MEMBERS_PER_CALL - 1;
        let idle = (0..idle_count).map(|n| {
            let store = store.clone();
            async move {
                let profile = people::Profile {
                    name: format!("Idle {n}"),
                    siren: crate::web_front::siren(10 + n as u32),
                    address: "1 rue de la Paix".into(),
                    city: "Lyon".into(),
                    postcode: "69001".into(),
                    sector: "informatique".into(),
                    description: String::new(),
                    contact: String::new(),
                };
                people::create_member_with_account(&store, &profile, Amount::from_units(100))
                    .await
                    .unwrap()
                    .id
            }
        });
        let idle_ids = futures_util::future::join_all(idle).await;
        let last_idle = *idle_ids.iter().max().unwrap();

        // The month that ended (`last`) and the one before: Beta pays Alpha before and during
        // the last month, Alpha pays Beta during it, Beta pays Alpha again this month.
        let now = people::now_unix();
        let this_month = month_start(now);
        let last = month_start(this_month - 1);
        let time = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap();
        let pay = |n: u32, payer: &people::Member, payee: &people::Member, minor: i64, at: i64| {
            let op = Operation::Payment {
                payer: AccountId(payer.account_id as u64),
                payee: AccountId(payee.account_id as u64),
                amount: Amount::from_minor(minor),
                reference: format!("F-{n}"),
                memo: String::new(),
            };
            Submission::new(IdempotencyKey::new(format!("statement-{n}")).unwrap(), op).at(time(at))
        };
        let submissions = vec![
            pay(1, &beta, &alpha, 30_000, last - 86_400),
            pay(2, &beta, &alpha, 11_000, last + 2 * 86_400),
            pay(3, &alpha, &beta, 1_000, last + 3 * 86_400),
            pay(4, &beta, &alpha, 500, now),
        ];
        for answer in store.submit_batch(submissions).await.unwrap() {
            assert!(answer.is_ok(), "{answer:?}");
        }

        // The mark two months back: the month missed before the last is not sent late.
        let mark = || {
            let store = store.clone();
            async move {
                let mark: (i64, Option<i64>) = web::dispatch!(store.backend(), pool => {
                    sqlx::query_as("SELECT statements_month, statements_member_after \
                                    FROM notice_marks")
                        .fetch_one(pool).await.unwrap()
                });
                mark
            }
        };
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE notice_marks SET statements_month = $1, \
                         statements_member_after = NULL")
                .bind(last).execute(pool).await.unwrap();
        });
        // Nothing during the month's last minute of grace, nor without e-mail.
        assert_eq!(
            notices::monthly_statements(&state, last + 2 * 86_400)
                .await
                .unwrap(),
            StatementsQueued::default()
        );
        assert_eq!(
            notices::monthly_statements(&state, this_month + 59)
                .await
                .unwrap(),
            StatementsQueued::default()
        );
        assert_eq!(
            notices::monthly_statements(&quiet, this_month + 60)
                .await
                .unwrap(),
            StatementsQueued::default()
        );
        assert_eq!(mark().await, (last, None));
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE notice_marks SET statements_month = $1")
                .bind(month_start(last - 1)).execute(pool).await.unwrap();
        });

        // A minute after the month ended: the first 500 companies (Alpha, Beta and the idle
        // ones, who have nothing to say), then the last one at the next call.
        let first = notices::monthly_statements(&state, this_month + 60)
            .await
            .unwrap();
        assert_eq!(first.from, last);
        assert_eq!(first.until, this_month);
        assert_eq!((first.members, first.queued), (2, 3));
        let chunk_end = first.member_after.expect("more to go");
        assert!(chunk_end < last_idle, "{chunk_end} {last_idle}");
        assert_eq!(mark().await, (this_month, Some(chunk_end)));
        let second = notices::monthly_statements(&state, this_month + 360)
            .await
            .unwrap();
        assert_eq!(
            second,
            StatementsQueued {
                from: last,
                until: this_month,
                members: 0,
                queued: 0,
                member_after: None,
            }
        );
        assert_eq!(mark().await, (this_month, None));
        assert_eq!(
            notices::monthly_statements(&state, this_month + 660)
                .await
                .unwrap(),
            StatementsQueued::default()
        );
        assert_eq!(outbox_count(&store, "statement").await, 3);

        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = sink.received();
        let to = |address: &str| {
            received
                .iter()
                .find(|m| m.contains(&format!("To: {address}")))
                .map(|m| mail_text(m).replace("\r\n", "\n"))
                .unwrap_or_else(|| panic!("no e-mail to {address}"))
        };
        // Alpha: 294,00 (300,00 less its 2 % commission) at the start; 110,00 in; 2,20 of
        // commission, 10,00 paid and its 0,10 of fund contribution out; this month's payment
        // is not in it, but its available credit today is.
        let first_day = time(last).date_naive();
        let month_key = first_day.format("%Y-%m").to_string();
        let alpha_mail = to("owner@alpha.fr");
        for line in [
            "Le relevé du compte de Alpha SARL pour ",
            "- Solde en début de mois : 294,00\n",
            "- Entrées : 110,00\n",
            "- Sorties : 12,30\n",
            "- Solde en fin de mois : 391,70\n",
            "2 opérations ce mois-ci.",
            "limite de crédit 1 000,00",
            "crédit disponible 1 396,20.",
        ] {
            assert!(alpha_mail.contains(line), "{line} in {alpha_mail}");
        }
        assert!(
            alpha_mail.contains(&format!("http://troc.test/statement?month={month_key}")),
            "{alpha_mail}"
        );
        assert!(!alpha_mail.contains("À noter"), "{alpha_mail}");
        assert!(to("expert@alpha.fr").contains("- Solde en fin de mois : 391,70\n"));
        // Beta: -303,00 at the start, 10,00 in, 110,00 paid with 1,10 of contribution and 0,50
        // of commission out; more than 80 % of its limit of 500,00 used today.
        let beta_mail = to("owner@beta.fr");
        for line in [
            "- Solde en début de mois : -303,00\n",
            "- Entrées : 10,00\n",
            "- Sorties : 111,60\n",
            "- Solde en fin de mois : -404,60\n",
            "crédit disponible 90,35.",
            "À noter :",
            "Vous avez utilisé plus de 80 % de votre découvert autorisé.",
        ] {
            assert!(beta_mail.contains(line), "{line} in {beta_mail}");
        }
        for nobody in ["staff@alpha.fr", "staff@beta.fr", "expert@beta.fr"] {
            assert!(
                !received
                    .iter()
                    .any(|m| m.contains(&format!("To: {nobody}"))),
                "{nobody}"
            );
        }
        // The subject gives the month and the balance at its end.
        let subject: String = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT subject FROM mail_outbox WHERE to_addr = 'owner@beta.fr' \
                                AND kind = 'statement'")
                .fetch_one(pool).await.unwrap()
        });
        assert!(subject.starts_with("Troc : relevé de "), "{subject}");
        assert!(
            subject.ends_with(&format!(" {}, solde -404,60", first_day.format("%Y"))),
            "{subject}"
        );
    }
});

story!(follow_ups_of_payment_requests, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, FollowUpsQueued};
        use web::trade::{FOLLOW_UP_WINDOW_SECONDS, REQUEST_GRACE_SECONDS};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            alpha,
            ..
        } = mailing(&url).await;
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        // Beta asks Alpha to pay five times, all due in 10 days.
        let due = crate::api::day_in(10);
        let mut ids = Vec::new();
        for n in 1..=5 {
            let body = serde_json::json!({"payer": alpha.id, "amount": format!("{n}0.00"),
                                          "reference": format!("FA-{n}"), "due_date": due});
            let made = api
                .post("/api/v1/payment-requests", &beta_pay, body)
                .await
                .ok(StatusCode::CREATED);
            ids.push(made["id"].as_i64().unwrap());
        }
        let expires_at = |id: i64| {
            let store = store.clone();
            async move {
                let at: i64 = web::dispatch!(store.backend(), pool => {
                    sqlx::query_scalar("SELECT expires_at FROM payment_requests WHERE id = $1")
                        .bind(id).fetch_one(pool).await.unwrap()
                });
                at
            }
        };
        let set_expiry = |id: i64, at: i64| {
            let store = store.clone();
            async move {
                web::dispatch!(store.backend(), pool => {
                    sqlx::query("UPDATE payment_requests SET expires_at = $1 WHERE id = $2")
                        .bind(at).bind(id).execute(pool).await.unwrap();
                });
            }
        };
        // The due date's last second.
        let due_end = expires_at(ids[0]).await - REQUEST_GRACE_SECONDS;

        // Alpha declines the second through the API and the third on its page: Beta's owner
        // and staff are told each time; a decline that changes nothing tells nothing.
        api.post(
            &format!("/api/v1/payment-requests/{}/decline", ids[1]),
            &alpha_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::OK);
        let mut alpha_owner = Client::new(state.clone());
        alpha_owner.login("owner@alpha.fr", PASSWORD).await;
        for _ in 0..2 {
            let page = alpha_owner
                .post(&format!("/requests/{}/decline", ids[2]), &[])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
        }
        assert_eq!(outbox_count(&store, "request_declined").await, 4);

        // Nothing is overdue on the due date's last second, nor without e-mail.
        assert_eq!(
            notices::request_follow_ups(&state, due_end).await.unwrap(),
            FollowUpsQueued::default()
        );
        assert_eq!(
            notices::request_follow_ups(&quiet, due_end + 1)
                .await
                .unwrap(),
            FollowUpsQueued::default()
        );
        // The fourth's due date passed 7 days ago to the second (still told), the fifth's a
        // second more (too old to be told).
        let now = due_end + 1;
        set_expiry(
            ids[3],
            now - FOLLOW_UP_WINDOW_SECONDS + REQUEST_GRACE_SECONDS,
        )
        .await;
        set_expiry(
            ids[4],
            now - FOLLOW_UP_WINDOW_SECONDS + REQUEST_GRACE_SECONDS - 1,
        )
        .await;
        // Then the buyer's owner and staff hear of the open ones, once.
        let told = notices::request_follow_ups(&state, now).await.unwrap();
        assert_eq!(
            told,
            FollowUpsQueued {
                overdue: 2,
                expired: 0,
                queued: 4,
            }
        );
        assert_eq!(
            notices::request_follow_ups(&state, now + 600)
                .await
                .unwrap(),
            FollowUpsQueued::default()
        );
        assert_eq!(outbox_count(&store, "request_overdue").await, 4);

        // The first expires unpaid, the fourth expired 7 days ago to the second, the fifth a
        // second earlier (the sweep marks the three): the seller hears of the first two, once.
        let real_now = people::now_unix();
        set_expiry(ids[0], real_now - 10).await;
        set_expiry(ids[3], real_now - FOLLOW_UP_WINDOW_SECONDS).await;
        set_expiry(ids[4], real_now - FOLLOW_UP_WINDOW_SECONDS - 1).await;
        assert_eq!(web::trade::expire_requests(&store).await.unwrap(), 3);
        let told = notices::request_follow_ups(&state, real_now).await.unwrap();
        assert_eq!(
            told,
            FollowUpsQueued {
                overdue: 0,
                expired: 2,
                queued: 4,
            }
        );
        assert_eq!(
            notices::request_follow_ups(&state, real_now + 600)
                .await
                .unwrap(),
            FollowUpsQueued::default()
        );

        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = addressed_texts(&sink);
        let find =
            |what: &str| -> Vec<&String> { received.iter().filter(|m| m.contains(what)).collect() };
        let due_fr = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
        let last_fr = due_fr + chrono::Duration::days(30);
        let overdue = find("était à payer le");
        assert_eq!(overdue.len(), 4, "{received:?}");
        assert!(overdue.iter().any(|m| m.contains(&format!(
            "La demande de paiement de Beta & Fils <SAS> (10,00, référence : FA-1) était à \
             payer le {} ; elle n'est ni payée ni refusée. Elle reste payable jusqu'au {}",
            due_fr.format("%d/%m/%Y"),
            last_fr.format("%d/%m/%Y")
        ))));
        assert!(overdue
            .iter()
            .all(|m| m.contains("http://troc.test/requests/") && !m.contains("FA-5")));
        let declined = find("a refusé votre demande de paiement de");
        assert_eq!(declined.len(), 4);
        assert!(declined.iter().any(|m| m.contains(
            "Alpha SARL a refusé votre demande de paiement de 30,00 (référence : FA-3)"
        )));
        let expired = find("elle a expiré et rien n'a été payé");
        assert_eq!(expired.len(), 4);
        assert!(expired.iter().any(
            |m| m.contains("Votre demande de paiement de 10,00 à Alpha SARL (référence : FA-1")
        ));
        assert!(!expired.iter().any(|m| m.contains("FA-5")));
        // Each to the company it concerns: the overdue ones to Alpha, the others to Beta.
        let to_beta =
            |m: &&String| m.starts_with("To: owner@beta.fr") || m.starts_with("To: staff@beta.fr");
        assert!(declined.iter().chain(expired.iter()).all(to_beta));
        assert!(!overdue.iter().any(to_beta));
    }
});

story!(e_mails_of_orders, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, Told};
        use web::trade::FOLLOW_UP_WINDOW_SECONDS;
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            ..
        } = mailing(&url).await;
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        let offer = api
            .post(
                "/api/v1/offers",
                &beta_pay,
                serde_json::json!({"title": "Maintenance", "category": "informatique",
                                   "city": "Lyon", "price": "100.00",
                                   "active_until": crate::api::day_in(30)}),
            )
            .await
            .ok(StatusCode::CREATED);
        let offer_id = offer["id"].as_i64().unwrap();
        // Alpha orders seven times.
        let mut orders = Vec::new();
        for _ in 0..7 {
            let order = api
                .post(
                    &format!("/api/v1/offers/{offer_id}/order"),
                    &alpha_pay,
                    serde_json::json!({}),
                )
                .await
                .ok(StatusCode::CREATED);
            orders.push(order["id"].as_i64().unwrap());
        }
        // Beta's owner and staff hear of each order.
        assert_eq!(outbox_count(&store, "order_placed").await, 14);

        // Beta delivers the first (Alpha hears of it); Alpha cancels the second on its page
        // (Beta hears of it, once for two clicks); Beta cancels the third (Alpha hears).
        api.post(
            &format!("/api/v1/orders/{}/deliver", orders[0]),
            &beta_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::OK);
        let mut alpha_owner = Client::new(state.clone());
        alpha_owner.login("owner@alpha.fr", PASSWORD).await;
        for _ in 0..2 {
            let page = alpha_owner
                .post(&format!("/orders/{}/cancel", orders[1]), &[])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
        }
        api.post(
            &format!("/api/v1/orders/{}/cancel", orders[2]),
            &beta_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::OK);
        assert_eq!(outbox_count(&store, "order_delivered").await, 2);
        assert_eq!(outbox_count(&store, "order_cancelled").await, 4);

        // The fourth expired 7 days ago to the second, the fifth a second earlier (as the
        // sweep leaves them): both parties hear of the fourth, once; the fifth is too old.
        let now = people::now_unix();
        for (order, at) in [
            (orders[3], now - FOLLOW_UP_WINDOW_SECONDS),
            (orders[4], now - FOLLOW_UP_WINDOW_SECONDS - 1),
        ] {
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE orders SET status = 'expired', expires_at = $1 WHERE id = $2")
                    .bind(at).bind(order).execute(pool).await.unwrap();
            });
        }
        assert_eq!(
            notices::orders_expired(&quiet, now).await.unwrap(),
            Told::default()
        );
        assert_eq!(
            notices::orders_expired(&state, now).await.unwrap(),
            Told {
                items: 1,
                queued: 4,
            }
        );
        assert_eq!(
            notices::orders_expired(&state, now + 600).await.unwrap(),
            Told::default()
        );

        // The sixth expires in two days to the second: its seller is reminded, once; the
        // seventh a second later is not yet.
        use web::trade::ORDER_REMINDER_SECONDS;
        for (order, at) in [
            (orders[5], now + ORDER_REMINDER_SECONDS),
            (orders[6], now + ORDER_REMINDER_SECONDS + 1),
        ] {
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE orders SET expires_at = $1 WHERE id = $2")
                    .bind(at).bind(order).execute(pool).await.unwrap();
            });
        }
        assert_eq!(
            notices::orders_expiring(&quiet, now).await.unwrap(),
            Told::default()
        );
        assert_eq!(
            notices::orders_expiring(&state, now).await.unwrap(),
            Told {
                items: 1,
                queued: 2,
            }
        );
        assert_eq!(
            notices::orders_expiring(&state, now + 1).await.unwrap(),
            Told {
                items: 1,
                queued: 2,
            }
        );
        assert_eq!(
            notices::orders_expiring(&state, now + 2).await.unwrap(),
            Told::default()
        );
        assert_eq!(outbox_count(&store, "order_expiring").await, 4);

        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = addressed_texts(&sink);
        let find = |to: &str, what: &str| -> Vec<&String> {
            received
                .iter()
                .filter(|m| m.starts_with(&format!("To: {to}\n")) && m.contains(what))
                .collect()
        };
        let placed = find(
            "owner@beta.fr",
            "Alpha SARL commande « Maintenance » pour 100,00. Le montant est réservé",
        );
        assert_eq!(placed.len(), 7, "{received:?}");
        assert!(placed
            .iter()
            .any(|m| m.contains(&format!("http://troc.test/orders/{}", orders[0]))));
        assert_eq!(
            find("staff@beta.fr", "commande « Maintenance »").len(),
            7 + 1 + 1 + 2
        );
        let reminded = find(
            "owner@beta.fr",
            "La commande « Maintenance » de Alpha SARL (100,00) n'est pas encore livrée. \
             Confirmez la livraison au plus tard le",
        );
        assert_eq!(reminded.len(), 2);
        assert!(reminded
            .iter()
            .any(|m| m.contains(&format!("/orders/{}", orders[5]))));
        assert!(find("owner@alpha.fr", "n'est pas encore livrée").is_empty());
        assert_eq!(
            find(
                "owner@alpha.fr",
                "Beta & Fils <SAS> a confirmé la livraison de « Maintenance » : les 100,00"
            )
            .len(),
            1
        );
        assert_eq!(
            find(
                "owner@beta.fr",
                "Alpha SARL a annulé la commande « Maintenance »"
            )
            .len(),
            1
        );
        assert_eq!(
            find(
                "staff@alpha.fr",
                "Beta & Fils <SAS> a annulé la commande « Maintenance »"
            )
            .len(),
            1
        );
        for to in [
            "owner@alpha.fr",
            "staff@alpha.fr",
            "owner@beta.fr",
            "staff@beta.fr",
        ] {
            let expired = find(
                to,
                "La commande « Maintenance » de Alpha SARL à Beta & Fils",
            );
            assert_eq!(expired.len(), 1, "{to}");
            assert!(expired[0].contains(&format!("/orders/{}", orders[3])));
        }
        // Nobody hears of what it did itself.
        assert!(find("owner@alpha.fr", "Alpha SARL a annulé").is_empty());
        assert!(find("owner@beta.fr", "a confirmé la livraison").is_empty());
    }
});

story!(the_managers_hear_of_what_waits, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::console::applications::{apply, ApplicationForm};
        use web::http::notices::{self, Told, INBOX_LINES_MAX, INBOX_READ_MAX};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            alpha,
            ..
        } = mailing(&url).await;
        // The network's manager and accountant; a second manager who chose no notices.
        crate::api::staff(&store).await;
        let quiet_manager = people::create_user(
            &store,
            "gestion2@troc.fr",
            PASSWORD,
            "Gestion 2",
            Role::Manager,
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let none = people::MailChoices {
            notices: false,
            ..people::MailChoices::ALL_ON
        };
        people::set_mail_choices(&store, quiet_manager, none)
            .await
            .unwrap();
        assert_eq!(
            notices::network_inbox(&state).await.unwrap(),
            Told::default()
        );
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;

        // A company applies on the public form; Alpha asks for a higher limit; Beta asks too,
        // then withdraws; Beta disputes a payment it made, and gives notice of leaving.
        let mut visitor = Client::new(state.clone());
        visitor.get("/apply").await;
        let siren = crate::web_front::siren(50);
        let page = visitor
            .post(
                "/apply",
                &[
                    ("name", "Omega Conseil"),
                    ("siren", siren.as_str()),
                    ("email", "dirigeant@omega.fr"),
                    ("contact", "04 00 00 00 00"),
                    ("address", "1 place Bellecour"),
                    ("city", "Lyon"),
                    ("postcode", "69002"),
                    ("sector", "conseil"),
                    ("turnover", "250 000"),
                    ("message", "Bonjour"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        api.post(
            "/api/v1/limit-requests",
            &alpha_pay,
            serde_json::json!({"credit_limit": "2000.00", "message": "Croissance"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let asked = api
            .post(
                "/api/v1/limit-requests",
                &beta_pay,
                serde_json::json!({"credit_limit": "800.00", "message": "Saison"}),
            )
            .await
            .ok(StatusCode::CREATED);
        api.post(
            &format!("/api/v1/limit-requests/{}/withdraw", asked["id"]),
            &beta_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::OK);
        let paid = crate::api::pays(&api, &beta_pay, &alpha, "10.00").await;
        api.post(
            "/api/v1/disputes",
            &beta_pay,
            serde_json::json!({"transaction_id": paid, "reason": "Jamais livré"}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            "/api/v1/departures",
            &beta_pay,
            serde_json::json!({"message": "Fin d'activité"}),
        )
        .await
        .ok(StatusCode::CREATED);

        // Without e-mail nothing is told, and nothing is marked.
        assert_eq!(
            notices::network_inbox(&quiet).await.unwrap(),
            Told::default()
        );
        // Then the manager who gets notices hears of the four that wait, once.
        assert_eq!(
            notices::network_inbox(&state).await.unwrap(),
            Told {
                items: 4,
                queued: 1,
            }
        );
        assert_eq!(
            notices::network_inbox(&state).await.unwrap(),
            Told::default()
        );
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        // (Alpha's owner and staff hear of the dispute too: "Disputes".)
        let to_managers = || -> Vec<String> {
            sink.received()
                .into_iter()
                .filter(|m| m.contains("To: gestion"))
                .collect()
        };
        let received = to_managers();
        assert_eq!(received.len(), 1);
        assert!(received[0].contains("To: gestion@troc.fr"));
        assert!(!sink
            .received()
            .iter()
            .any(|m| m.contains("To: compta@troc.fr")));
        let text = mail_text(&received[0]).replace("\r\n", "\n");
        for line in [
            "4 demandes à traiter",
            "- Demande d'adhésion : Omega Conseil (Lyon)\n  http://troc.test/admin/applications/",
            "- Alpha SARL demande une limite de crédit de 2 000,00 (aujourd'hui 1 000,00)\n  \
             http://troc.test/admin/limit-requests/",
            "- Beta & Fils <SAS> conteste un paiement de 10,00 à Alpha SARL\n  \
             http://troc.test/admin/disputes\n",
            "- Beta & Fils <SAS> annonce son départ du réseau\n  \
             http://troc.test/admin/reviews#leaving\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("800,00"), "{text}");

        // Many at once: the first call reads 100 of a table and lists 20, the next the rest.
        let count = INBOX_READ_MAX + 1;
        for n in 0..count {
            let form = ApplicationForm {
                name: format!("Candidat {n}"),
                siren: crate::web_front::siren(100 + n as u32),
                email: format!("c{n}@candidat.fr"),
                contact: "04 00 00 00 00".into(),
                address: "1 rue".into(),
                city: "Lyon".into(),
                postcode: "69001".into(),
                sector: "conseil".into(),
                description: String::new(),
                declared_turnover: None,
                message: String::new(),
            };
            apply(&store, &form).await.unwrap();
        }
        assert_eq!(
            notices::network_inbox(&state).await.unwrap(),
            Told {
                items: INBOX_READ_MAX as u64,
                queued: 1,
            }
        );
        assert_eq!(
            notices::network_inbox(&state).await.unwrap(),
            Told {
                items: 1,
                queued: 1,
            }
        );
        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = to_managers();
        assert_eq!(received.len(), 3);
        let many = received
            .iter()
            .map(|m| mail_text(m).replace("\r\n", "\n"))
            .find(|m| m.contains("100 demandes à traiter"))
            .expect("the e-mail of the first 100");
        assert_eq!(
            many.matches("- Demande d'adhésion").count(),
            INBOX_LINES_MAX
        );
        assert!(
            many.contains(&format!(
                "- et {} de plus\n",
                INBOX_READ_MAX as usize - INBOX_LINES_MAX
            )),
            "{many}"
        );
    }
});

story!(the_steps_of_a_dispute_are_e_mailed, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::http::notices::{self, Told};
        let Mailing {
            sink,
            store,
            quiet,
            state,
            mailer,
            api,
            beta,
            ..
        } = mailing(&url).await;
        crate::api::staff(&store).await;
        let manage = crate::api::token(&store, "gestion@troc.fr", web::tokens::Scope::Manage).await;
        let alpha_pay = crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
        let beta_pay = crate::api::token(&store, "owner@beta.fr", web::tokens::Scope::Pay).await;
        // Alpha pays Beta four times and disputes each payment.
        let mut disputes = Vec::new();
        for n in 1..=4 {
            let tx = crate::api::pays(&api, &alpha_pay, &beta, &format!("{n}0.00")).await;
            let opened = api
                .post(
                    "/api/v1/disputes",
                    &alpha_pay,
                    serde_json::json!({"transaction_id": tx, "reason": format!("Raison {n}")}),
                )
                .await
                .ok(StatusCode::CREATED);
            disputes.push((opened["id"].as_i64().unwrap(), tx));
        }
        // Beta's owner and staff hear of each.
        assert_eq!(outbox_count(&store, "dispute").await, 8);
        // Beta answers the first on its page: Alpha's owner and staff hear of it.
        let mut beta_owner = Client::new(state.clone());
        beta_owner.login("owner@beta.fr", PASSWORD).await;
        let page = beta_owner
            .post(
                &format!("/disputes/{}/reply", disputes[0].0),
                &[("reply", "Livré le 3")],
            )
            .await;
        assert!(page.status.is_success(), "{}", page.status);
        assert_eq!(outbox_count(&store, "dispute").await, 10);
        // A new answer (a second later: answers are stamped in seconds) replaces the last
        // and is told too.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let page = beta_owner
            .post(
                &format!("/disputes/{}/reply", disputes[0].0),
                &[("reply", "Livré le 3, signé")],
            )
            .await;
        assert!(page.status.is_success(), "{}", page.status);
        assert_eq!(outbox_count(&store, "dispute").await, 12);

        // Alpha withdraws the first, Beta refunds the second, the manager reverses the
        // third and dismisses the fourth.
        let step = |id: i64, what: &str| format!("/api/v1/disputes/{id}/{what}");
        api.post(
            &step(disputes[0].0, "withdraw"),
            &alpha_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::OK);
        api.post(
            &format!("/api/v1/transactions/{}/refund", disputes[1].1),
            &beta_pay,
            serde_json::json!({}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            &step(disputes[2].0, "decide"),
            &manage,
            serde_json::json!({"decision": "reverse", "note": "Livraison non prouvée"}),
        )
        .await
        .ok(StatusCode::OK);
        api.post(
            &step(disputes[3].0, "decide"),
            &manage,
            serde_json::json!({"decision": "dismiss", "note": "Livré"}),
        )
        .await
        .ok(StatusCode::OK);
        // The ends are told by the housekeeping, once: the payee of a withdrawal, the payer
        // of a refund, both of the manager's decisions.
        let now = people::now_unix();
        assert_eq!(
            notices::disputes_closed(&quiet, now).await.unwrap(),
            Told::default()
        );
        assert_eq!(
            notices::disputes_closed(&state, now).await.unwrap(),
            Told {
                items: 4,
                queued: 2 + 2 + 4 + 4,
            }
        );
        assert_eq!(
            notices::disputes_closed(&state, now + 600).await.unwrap(),
            Told::default()
        );
        // A dispute closed more than 7 days before is not told late.
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE disputes SET closed_noticed_at = NULL, decided_at = $1 \
                         WHERE id = $2")
                .bind(now - web::trade::FOLLOW_UP_WINDOW_SECONDS - 1).bind(disputes[3].0)
                .execute(pool).await.unwrap();
        });
        assert_eq!(
            notices::disputes_closed(&state, now).await.unwrap(),
            Told::default()
        );

        mail::run_round(&store, &mailer, people::now_unix())
            .await
            .unwrap();
        let received = addressed_texts(&sink);
        let count = |to: &str, what: &str| {
            received
                .iter()
                .filter(|m| m.starts_with(&format!("To: {to}\n")) && m.contains(what))
                .count()
        };
        assert_eq!(
            count(
                "owner@beta.fr",
                "Alpha SARL conteste le paiement de 10,00 qu'il vous a fait. Sa raison :\n\n\
                 « Raison 1 »"
            ),
            1
        );
        assert_eq!(count("staff@beta.fr", "conteste le paiement de"), 4);
        assert_eq!(
            count(
                "owner@alpha.fr",
                "Beta & Fils <SAS> a répondu à votre contestation du paiement de 10,00 :\n\n\
                 « Livré le 3 »"
            ),
            1
        );
        assert_eq!(
            count("owner@beta.fr", "Alpha SARL a retiré sa contestation"),
            1
        );
        assert_eq!(count("owner@alpha.fr", "a retiré sa contestation"), 0);
        assert_eq!(
            count(
                "owner@alpha.fr",
                "Beta & Fils <SAS> a remboursé le paiement de 20,00"
            ),
            1
        );
        for to in ["owner@alpha.fr", "staff@beta.fr"] {
            assert_eq!(
                count(
                    to,
                    "a annulé le paiement de 30,00 de Alpha SARL à Beta & Fils <SAS>"
                ),
                1,
                "{to}"
            );
            assert_eq!(count(to, "« Livraison non prouvée »"), 1, "{to}");
            assert_eq!(
                count(to, "a rejeté la contestation du paiement de 40,00"),
                1
            );
        }
        assert!(received
            .iter()
            .all(|m| m.contains("http://troc.test/disputes")));
    }
});

story!(two_step_changes_are_e_mailed, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let m = mailing(&url).await;
        crate::api::staff(&m.store).await;
        let owner = crate::api::user_id(&m.store, m.alpha.id, "owner@alpha.fr").await;
        let mut browser = Client::new(m.state.clone());
        browser.login("owner@alpha.fr", PASSWORD).await;
        // Turned on by the user: told.
        browser.post("/account/two-step/start", &[]).await;
        let pending: String = web::dispatch!(m.store.backend(), pool => {
            sqlx::query_scalar("SELECT totp_pending FROM users WHERE id = $1")
                .bind(owner).fetch_one(pool).await.unwrap()
        });
        let secret = web::totp::Secret::from_hex(&pending).unwrap();
        let now = people::now_unix();
        let code = web::totp::code_at(&secret, now);
        let page = browser
            .post("/account/two-step/confirm", &[("code", &code)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let codes: Vec<String> = page
            .body
            .split("<li><code>")
            .skip(1)
            .map(|s| s[..web::totp::RECOVERY_CODE_LEN].to_owned())
            .collect();
        assert_eq!(outbox_count(&m.store, "two_step").await, 1);
        // Turned off by the user: told.
        let page = browser
            .post(
                "/account/two-step/disable",
                &[("password", PASSWORD), ("code", &codes[0])],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(outbox_count(&m.store, "two_step").await, 2);
        // On again, then off by the manager for a lost phone: told that too.
        let secret = web::totp::start(&m.store, owner).await.unwrap();
        let code = web::totp::code_at(&secret, now);
        assert!(web::totp::confirm(&m.store, owner, &code, now)
            .await
            .unwrap()
            .is_some());
        let mut manager = browser.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        let page = manager
            .post(
                &format!("/admin/members/{}/users/{owner}/two-step-off", m.alpha.id),
                &[("reason", "Téléphone perdu")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(outbox_count(&m.store, "two_step").await, 3);
        mail::run_round(&m.store, &m.mailer, people::now_unix())
            .await
            .unwrap();
        let told: Vec<String> = addressed_texts(&m.sink)
            .into_iter()
            .filter(|t| t.contains("deux étapes"))
            .collect();
        assert_eq!(told.len(), 3, "{told:?}");
        assert!(told.iter().all(|t| t.starts_with("To: owner@alpha.fr")));
        assert!(told[0].contains("a été activée le"), "{}", told[0]);
        assert!(told[1].contains("a été désactivée le"), "{}", told[1]);
        assert!(!told[1].contains("gestionnaire du réseau, à votre demande"));
        assert!(
            told[2].contains("par le gestionnaire du réseau, à votre demande"),
            "{}",
            told[2]
        );
        // A server without e-mail tells nobody and changes the same.
        let mut quiet = Client::new(m.quiet.clone());
        quiet.login("owner@alpha.fr", PASSWORD).await;
        quiet.post("/account/two-step/start", &[]).await;
        assert_eq!(outbox_count(&m.store, "two_step").await, 3);
    }
});

story!(
    outside_invoices_and_set_offs_are_e_mailed,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let Mailing {
                store,
                state,
                api,
                alpha,
                beta,
                ..
            } = mailing(&url).await;
            crate::api::staff(&store).await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
            let manage =
                crate::api::token(&store, "gestion@troc.fr", web::tokens::Scope::Manage).await;
            let pay = |email: &'static str| {
                let store = store.clone();
                async move { crate::api::token(&store, email, web::tokens::Scope::Pay).await }
            };
            let (a, b, g) = (
                pay("owner@alpha.fr").await,
                pay("owner@beta.fr").await,
                pay("owner@gamma.fr").await,
            );
            const PATH: &str = "/api/v1/outside-invoices";
            let declare = |token: &str, debtor: i64, number: &str, amount: &str, key: &str| {
                let sent = serde_json::json!({
                    "debtor_member_id": debtor, "number": number, "amount": amount,
                    "due_on": crate::api::day_in(30),
                });
                let (api, token, key) = (&api, token.to_owned(), key.to_owned());
                async move {
                    api.post_key(PATH, &token, &key, sent)
                        .await
                        .ok(StatusCode::CREATED)["id"]
                        .as_i64()
                        .unwrap()
                }
            };
            // Beta's owner and staff hear of the invoice Alpha declares, once, even when the
            // declaration is sent again under its key.
            let a1 = declare(&a, beta.id, "A-1", "1000.00", "k-a1").await;
            assert_eq!(outbox_count(&store, "setoff").await, 2);
            declare(&a, beta.id, "A-1", "1000.00", "k-a1").await;
            assert_eq!(outbox_count(&store, "setoff").await, 2);
            let (subject, body): (String, String) = web::dispatch!(store.backend(), pool => {
                sqlx::query_as("SELECT subject, body FROM mail_outbox WHERE kind = 'setoff' \
                     AND to_addr = 'staff@beta.fr'")
                    .fetch_one(pool).await.unwrap()
            });
            assert_eq!(
                subject,
                "Troc : Alpha SARL déclare une facture de 1 000,00 à compenser"
            );
            assert!(body.contains("sa facture n° A-1 de 1 000,00 TTC"), "{body}");
            assert!(
                body.contains("http://troc.test/setoff#setoff-received"),
                "{body}"
            );
            let b1 = declare(&b, gamma.id, "B-1", "700.00", "k-b1").await;
            let g1 = declare(&g, alpha.id, "G-1", "500.00", "k-g1").await;
            assert_eq!(outbox_count(&store, "setoff").await, 6);
            // Gamma rejects one Alpha declared: Alpha's owner and staff hear why.
            let a2 = declare(&a, gamma.id, "A-2", "80.00", "k-a2").await;
            assert_eq!(outbox_count(&store, "setoff").await, 8);
            api.post(
                &format!("{PATH}/{a2}/reject"),
                &g,
                serde_json::json!({"reason": "Jamais livré"}),
            )
            .await
            .ok(StatusCode::OK);
            assert_eq!(outbox_count(&store, "setoff").await, 10);
            let (subject, body): (String, String) = web::dispatch!(store.backend(), pool => {
                sqlx::query_as("SELECT subject, body FROM mail_outbox WHERE kind = 'setoff' \
                     AND to_addr = 'owner@alpha.fr' ORDER BY id DESC LIMIT 1")
                    .fetch_one(pool).await.unwrap()
            });
            assert_eq!(subject, "Troc : Gamma refuse votre facture n° A-2");
            assert!(body.contains("« Jamais livré »"), "{body}");
            assert!(
                body.contains("http://troc.test/setoff#setoff-issued"),
                "{body}"
            );
            for (id, token) in [(a1, &b), (b1, &g), (g1, &a)] {
                api.post(
                    &format!("{PATH}/{id}/confirm"),
                    token,
                    serde_json::json!({}),
                )
                .await
                .ok(StatusCode::OK);
            }
            // The run tells each company's owner and staff what it cancelled, once.
            let run = api
                .post_key(
                    "/api/v1/setoff-runs",
                    &manage,
                    "run-1",
                    serde_json::json!({"reason": "Mensuelle"}),
                )
                .await
                .ok(StatusCode::CREATED);
            let id = run["run"]["id"].as_i64().unwrap();
            assert_eq!(outbox_count(&store, "setoff").await, 16);
            api.post_key(
                "/api/v1/setoff-runs",
                &manage,
                "run-1",
                serde_json::json!({"reason": "Mensuelle"}),
            )
            .await
            .ok(StatusCode::CREATED);
            assert_eq!(outbox_count(&store, "setoff").await, 16);
            let (subject, body): (String, String) = web::dispatch!(store.backend(), pool => {
                sqlx::query_as("SELECT subject, body FROM mail_outbox WHERE kind = 'setoff' \
                     AND to_addr = 'owner@gamma.fr' ORDER BY id DESC LIMIT 1")
                    .fetch_one(pool).await.unwrap()
            });
            assert_eq!(
                subject,
                format!("Troc : la compensation n° {id} a réduit vos factures")
            );
            assert!(body.contains("réduit de 500,00 les factures"), "{body}");
            assert!(body.contains("(2 factures)"), "{body}");
            assert!(
                body.contains("http://troc.test/setoff#setoff-lines"),
                "{body}"
            );
            // A run from the console's page tells the companies alike: Alpha and Beta owe
            // each other 10,00.
            let a3 = declare(&a, beta.id, "A-3", "10.00", "k-a3").await;
            let b3 = declare(&b, alpha.id, "B-3", "10.00", "k-b3").await;
            for (id, token) in [(a3, &b), (b3, &a)] {
                api.post(
                    &format!("{PATH}/{id}/confirm"),
                    token,
                    serde_json::json!({}),
                )
                .await
                .ok(StatusCode::OK);
            }
            assert_eq!(outbox_count(&store, "setoff").await, 20);
            let mut manager = Client::new(state.clone());
            manager.login("gestion@troc.fr", PASSWORD).await;
            let page = manager
                .post(
                    "/admin/setoff",
                    &[("reason", "Compensation de fin de mois")],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            assert_eq!(outbox_count(&store, "setoff").await, 24);
            let body: String = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT body FROM mail_outbox WHERE kind = 'setoff' \
                     AND to_addr = 'staff@beta.fr' ORDER BY id DESC LIMIT 1")
                    .fetch_one(pool).await.unwrap()
            });
            assert!(body.contains("réduit de 10,00 les factures"), "{body}");
            store.close().await;
        }
    }
);

story!(
    return_to_zero_reminders_are_e_mailed,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            use ledger::{AccountId, Amount, IdempotencyKey, Operation};
            use web::http::notices::{self, Told};
            use web::store::Submission;
            let Mailing {
                sink,
                store,
                quiet,
                state,
                mailer,
                alpha,
                beta,
                ..
            } = mailing(&url).await;
            let (staff, _) = people::find_login(&store, "staff@beta.fr")
                .await
                .unwrap()
                .unwrap();
            people::set_lang(&store, staff.id, "en").await.unwrap();
            // The network's manager (gestion@) hears of the companies past the rule; its
            // accountant (compta@) does not.
            crate::api::staff(&store).await;
            let pay = |n: u32, payer: &people::Member, payee: &people::Member, units: i64| {
                let op = Operation::Payment {
                    payer: AccountId(payer.account_id as u64),
                    payee: AccountId(payee.account_id as u64),
                    amount: Amount::from_units(units),
                    reference: String::new(),
                    memo: String::new(),
                };
                let store = store.clone();
                async move {
                    let key = IdempotencyKey::new(format!("zero-{n}")).unwrap();
                    store
                        .submit(Submission::new(key, op))
                        .await
                        .unwrap()
                        .unwrap();
                }
            };
            let since_of = |member: &people::Member| {
                let (store, account) = (store.clone(), AccountId(member.account_id as u64));
                async move {
                    store
                        .account(account)
                        .await
                        .unwrap()
                        .unwrap()
                        .negative_since()
                }
            };
            let steps = |member: &people::Member| {
                let (store, account) = (store.clone(), member.account_id);
                async move {
                    let steps: Vec<i64> = web::dispatch!(store.backend(), pool => {
                        sqlx::query_scalar("SELECT step FROM negative_notices \
                                            WHERE account_id = $1 ORDER BY negative_since, step")
                            .bind(account).fetch_all(pool).await.unwrap()
                    });
                    steps
                }
            };
            let told = |items: u64, queued: u64| Told { items, queued };
            const DAY: i64 = 86_400;

            // Beta buys 100,00 from Alpha: its spell begins.
            pay(1, &beta, &alpha, 100).await;
            let since = since_of(&beta).await.expect("negative");
            assert_eq!(since_of(&alpha).await, None);
            // `at(k)`: k full days into the spell (and a second).
            let start = since.timestamp() + 1;
            let at = |days: i64| start + days * DAY;
            // Nothing before a quarter of the rule (92 days of 365), nor without e-mail.
            assert_eq!(
                notices::return_to_zero(&state, at(91)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(
                notices::return_to_zero(&quiet, at(92)).await.unwrap(),
                told(0, 0)
            );
            assert!(steps(&beta).await.is_empty());
            // At 92 days: Beta's owner and staff, once.
            assert_eq!(
                notices::return_to_zero(&state, at(92)).await.unwrap(),
                told(1, 2)
            );
            assert_eq!(
                notices::return_to_zero(&state, at(92)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(
                notices::return_to_zero(&state, at(182)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(steps(&beta).await, vec![1]);
            // A housekeeping that missed the half (183 days): only the latest step, at 300.
            assert_eq!(
                notices::return_to_zero(&state, at(300)).await.unwrap(),
                told(1, 2)
            );
            assert_eq!(
                notices::return_to_zero(&state, at(365)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(steps(&beta).await, vec![1, 3]);
            // Past the rule (366 days), once, and the manager; then nothing more, however long.
            assert_eq!(
                notices::return_to_zero(&state, at(366)).await.unwrap(),
                told(1, 3)
            );
            assert_eq!(
                notices::return_to_zero(&state, at(5_000)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(steps(&beta).await, vec![1, 3, 4]);
            assert_eq!(outbox_count(&store, "return_to_zero").await, 7);

            mail::run_round(&store, &mailer, people::now_unix())
                .await
                .unwrap();
            let texts = addressed_texts(&sink);
            assert_eq!(texts.len(), 7, "{texts:?}");
            let manager: Vec<&String> = texts
                .iter()
                .filter(|t| t.starts_with("To: gestion@troc.fr"))
                .collect();
            assert_eq!(manager.len(), 1, "{texts:?}");
            for text in [
                "1 membre a dépassé la règle de retour à zéro (365 jours)",
                "- Beta & Fils <SAS> : négatif depuis 366 jours, solde -101,00\n",
                &format!("  http://troc.test/admin/members/{}\n", beta.id),
                "http://troc.test/admin/reviews#negative-long",
            ] {
                assert!(manager[0].contains(text), "{text} in {}", manager[0]);
            }
            assert!(
                texts
                    .iter()
                    .filter(|t| !t.starts_with("To: gestion@troc.fr"))
                    .all(|t| t.contains("beta.fr")),
                "{texts:?}"
            );
            let owner: Vec<&String> = texts
                .iter()
                .filter(|t| t.starts_with("To: owner@beta.fr"))
                .collect();
            assert_eq!(owner.len(), 3);
            let since_text = since.format("%d/%m/%Y").to_string();
            let deadline = (since + chrono::Duration::days(365))
                .format("%d/%m/%Y")
                .to_string();
            for text in [
                format!(
                    "Le solde de Beta & Fils <SAS> est négatif depuis le {since_text} (92 \
                     jours) : -101,00."
                ),
                format!("en 365 jours, soit ici avant le {deadline}."),
                "http://troc.test/market/for-you".to_owned(),
                "http://troc.test/dashboard".to_owned(),
            ] {
                assert!(owner[0].contains(&text), "{text} in {}", owner[0]);
            }
            assert!(owner[1].contains("(300 jours) : -101,00."), "{}", owner[1]);
            assert!(
                owner[2].contains("(366 jours) : -101,00, au-delà des 365 jours de la règle"),
                "{}",
                owner[2]
            );
            let subjects: Vec<String> = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT subject FROM mail_outbox WHERE kind = \
                                    'return_to_zero' ORDER BY id")
                    .fetch_all(pool).await.unwrap()
            });
            assert!(subjects.contains(
                &"Troc : le solde de Beta & Fils <SAS> est négatif depuis 92 jours".to_owned()
            ));
            assert!(subjects.contains(
                &"Troc : le solde de Beta & Fils <SAS> a dépassé la règle de retour à zéro"
                    .to_owned()
            ));
            assert!(subjects.contains(
                &"Troc: Beta & Fils <SAS>'s balance is past the return-to-zero rule".to_owned()
            ));
            let staff_mail = texts
                .iter()
                .find(|t| t.starts_with("To: staff@beta.fr") && t.contains("(92 days)"))
                .expect("the staff's first reminder, in English");
            assert!(
                staff_mail.contains(&format!(
                    "here by {}.",
                    (since + chrono::Duration::days(365)).format("%Y-%m-%d")
                )),
                "{staff_mail}"
            );

            // Back above zero (Alpha buys 200,00 from Beta), the spell ends; below zero again
            // (Beta buys 300,00, which brings Alpha back above zero): a new spell, told from
            // its own start.
            pay(2, &alpha, &beta, 200).await;
            assert_eq!(since_of(&beta).await, None);
            assert!(since_of(&alpha).await.is_some());
            pay(3, &beta, &alpha, 300).await;
            assert_eq!(since_of(&alpha).await, None);
            let again = since_of(&beta).await.expect("negative again");
            assert!(again > since);
            let at_again = |days: i64| again.timestamp() + 1 + days * DAY;
            assert_eq!(
                notices::return_to_zero(&state, at_again(91)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(
                notices::return_to_zero(&state, at_again(92)).await.unwrap(),
                told(1, 2)
            );
            // The rule shortened to 8 days: that spell is past it at once, told so once.
            web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE console_settings SET negative_days = 8")
                    .execute(pool).await.unwrap();
            });
            assert_eq!(
                notices::return_to_zero(&state, at_again(92)).await.unwrap(),
                told(1, 3)
            );
            assert_eq!(
                notices::return_to_zero(&state, at_again(92)).await.unwrap(),
                told(0, 0)
            );
            assert_eq!(steps(&beta).await, vec![1, 3, 4, 1, 4]);
            let last: String = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT body FROM mail_outbox WHERE kind = 'return_to_zero' \
                     AND to_addr = 'owner@beta.fr' ORDER BY id DESC LIMIT 1")
                    .fetch_one(pool).await.unwrap()
            });
            assert!(
                last.contains("au-delà des 8 jours de la règle du réseau"),
                "{last}"
            );
            assert!(steps(&alpha).await.is_empty());
            store.close().await;
        }
    }
);

story!(
    the_accounts_due_a_reminder_are_read_oldest_first_and_bounded,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            use ledger::{AccountId, Amount, IdempotencyKey, Operation};
            use web::store::Submission;
            use web::zero::{self, Rule};
            let (store, _state, alpha, beta) = crate::web_front::two_members(&url).await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
            // Beta, then Gamma go below zero, as if 40 and 30 days ago.
            for (n, member, days) in [(1, &beta, 40), (2, &gamma, 30)] {
                let op = Operation::Payment {
                    payer: AccountId(member.account_id as u64),
                    payee: AccountId(alpha.account_id as u64),
                    amount: Amount::from_units(10),
                    reference: String::new(),
                    memo: String::new(),
                };
                let key = IdempotencyKey::new(format!("due-{n}")).unwrap();
                let at = chrono::Utc::now() - chrono::Duration::days(days);
                store
                    .submit(Submission::new(key, op).at(at))
                    .await
                    .unwrap()
                    .unwrap();
            }
            let now = chrono::Utc::now();
            let rule = Rule::new(100).unwrap();
            let read = |max: i64| {
                let store = store.clone();
                async move {
                    zero::due(&store, rule, now, max)
                        .await
                        .unwrap()
                        .iter()
                        .map(|d| (d.member_id, d.told))
                        .collect::<Vec<_>>()
                }
            };
            // A quarter of 100 days is 25: both are due, the older spell first; at most `max`.
            assert_eq!(read(2).await, vec![(beta.id, 0), (gamma.id, 0)]);
            assert_eq!(read(1).await, vec![(beta.id, 0)]);
            assert_eq!(read(0).await, vec![]);
            assert_eq!(read(10_000).await.len(), 2, "clamped to the call's bound");
            // Told of its first step, Beta is not read again until its second (50 days).
            let beta_due = zero::due(&store, rule, now, 1).await.unwrap().remove(0);
            zero::told(&store, beta_due.account_id, beta_due.since, 1, 0)
                .await
                .unwrap();
            zero::told(&store, beta_due.account_id, beta_due.since, 1, 0)
                .await
                .unwrap();
            assert_eq!(read(2).await, vec![(gamma.id, 0)]);
            let later = now + chrono::Duration::days(10);
            let due_later: Vec<(i64, i64)> = zero::due(&store, rule, later, 2)
                .await
                .unwrap()
                .iter()
                .map(|d| (d.member_id, d.told))
                .collect();
            assert_eq!(due_later, vec![(beta.id, 1), (gamma.id, 0)]);
            store.close().await;
        }
    }
);

story!(
    every_kind_of_e_mail_is_known_to_the_outbox,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _state) = crate::web_front::client::state(&url).await;
            let known: Vec<String> = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT kind FROM mail_kinds ORDER BY kind")
                    .fetch_all(pool).await.unwrap()
            });
            let mut ours: Vec<&str> = mail::Kind::ALL.iter().map(|k| k.as_str()).collect();
            ours.sort_unstable();
            assert_eq!(known, ours);
            // The outbox refuses a kind the table does not hold (migration 0044's foreign key),
            // and takes one it does.
            let insert = |kind: &'static str| {
                let store = store.clone();
                async move {
                    web::dispatch!(store.backend(), pool => {
                        sqlx::query("INSERT INTO mail_outbox (kind, to_addr, subject, body, \
                                     created_at, next_attempt_at) VALUES ($1, 'a@b.fr', 'S', 'B', 0, 0)")
                            .bind(kind).execute(pool).await.map(|_| ())
                    })
                }
            };
            assert!(insert("carrier_pigeon").await.is_err());
            insert("return_to_zero").await.unwrap();
            assert_eq!(outbox_count(&store, "return_to_zero").await, 1);
            assert_eq!(outbox_count(&store, "carrier_pigeon").await, 0);
            store.close().await;
        }
    }
);
