//! The member accountant (role `member_accountant`, migration 0014): invited by its
//! company's owner, read-only, that company only. The authorisation matrix on both
//! backends: every read it may do, 403 on every write and on every other-members page, 404
//! for another member's books.

use axum::http::StatusCode;
use tests::story;
use web::people::{self, Role};

use super::accounting::{fetch, fixture, Locked, SirenSet, ALPHA_ACCOUNTANT};
use crate::web_front::client::Client;
use crate::web_front::PASSWORD;

fn link_token(body: &str) -> String {
    let start = body.find("/invitation/").unwrap() + "/invitation/".len();
    body[start..start + 64].to_owned()
}

story!(
    owners_invite_their_accountant_who_reads_and_changes_nothing,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Through2025, SirenSet::Yes).await;
            // The owner invites the company's accountant from the company page.
            let mut owner = f.login("owner@alpha.fr").await;
            let page = owner.get("/company").await;
            page.assert_contains("Inviter votre expert-comptable");
            let page = owner
                .post(
                    "/company/invite",
                    &[("email", "Cabinet@Expert.fr"), ("role", "accountant")],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"accountant-invitation-link\"");
            let token = link_token(&page.body);
            // An unknown role is refused; an invalid email redraws the form.
            let page = owner
                .post(
                    "/company/invite",
                    &[("email", "x@y.fr"), ("role", "manager")],
                )
                .await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            let page = owner
                .post(
                    "/company/invite",
                    &[("email", "nope"), ("role", "accountant")],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Adresse e-mail invalide.");
            // Staff cannot invite an accountant.
            let mut staff = f.login("staff@alpha.fr").await;
            let page = staff
                .post(
                    "/company/invite",
                    &[("email", "z@y.fr"), ("role", "accountant")],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);

            let mut accountant = f.client();
            let path = format!("/invitation/{token}");
            accountant.get(&path).await;
            let page = accountant
                .post(
                    &path,
                    &[
                        ("display_name", "Cabinet Expert"),
                        ("new", PASSWORD),
                        ("confirm", PASSWORD),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let (user, _) = people::find_login(&f.store, "cabinet@expert.fr")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(user.role, Role::MemberAccountant);
            assert_eq!(user.member_id, Some(f.alpha.id));
            let mut accountant = f.login("cabinet@expert.fr").await;
            let home = accountant.get("/").await;
            assert_eq!(home.location.as_deref(), Some("/dashboard"));

            // What it reads: Alpha's dashboard, history, CSV, statements, company, books.
            let before = f.balances().await;
            for path in [
                "/dashboard",
                "/history",
                "/history.csv",
                "/statement",
                "/company",
                "/accounting",
                "/accounting/export?format=csv&from=2025-01-01&to=2025-12-31",
                "/accounting/trial-balance?from=2025-01-01&to=2025-12-31",
                "/accounting/statement?from=2025-01-01&to=2025-12-31",
                "/accounting/summary?year=2025",
                "/rules",
                "/account",
            ] {
                let page = accountant.get(path).await;
                assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            }
            let dashboard = accountant.get("/dashboard").await;
            dashboard.assert_contains("Alpha SARL");
            assert!(!dashboard.body.contains("href=\"/pay\""), "no pay link");
            assert!(accountant
                .get("/company")
                .await
                .body
                .contains("Seul le dirigeant"));
            // Other members' books: 404, like ids that do not exist.
            for path in [
                format!(
                    "/accounting/export?format=csv&from=2025-01-01&to=2025-12-31&member={}",
                    f.beta.id
                ),
                format!(
                    "/accounting/trial-balance?from=2025-01-01&to=2025-12-31&member={}",
                    f.beta.id
                ),
                format!(
                    "/accounting/statement?from=2025-01-01&to=2025-12-31&member={}",
                    f.gamma.id
                ),
                format!("/accounting/summary?year=2025&member={}", f.gamma.id),
                "/accounting/summary?year=2025&member=999999".to_owned(),
            ] {
                let page = fetch(&f.state, &accountant, &path).await;
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            }

            // Objects that exist: a request Beta sent Alpha, a listing of each.
            let request = web::trade::create_request(
                &f.store,
                &web::trade::NewRequest {
                    seller_member_id: f.beta.id,
                    buyer_member_id: f.alpha.id,
                    amount_minor: 1_000,
                    reference: "FA-1",
                    memo: "",
                    due_date: "2099-12-31",
                    expires_at: people::now_unix() + 86_400,
                    form_token: &"a".repeat(64),
                },
            )
            .await
            .unwrap();
            let content = |title: &str| web::market::ListingContent {
                kind: web::market::Kind::Offer,
                title: title.into(),
                description: String::new(),
                category: "informatique".into(),
                price_minor: Some(10_000),
                vat_bp: 2_000,
                city: "Lyon".into(),
                active_until: "2099-12-31".into(),
            };
            let own_listing = web::market::create(&f.store, f.alpha.id, &content("A"), None)
                .await
                .unwrap();
            let other_listing = web::market::create(&f.store, f.beta.id, &content("B"), None)
                .await
                .unwrap();
            // The owner sees them (the control)...
            for path in [
                format!("/requests/{request}"),
                format!("/market/{other_listing}"),
            ] {
                assert_eq!(owner.get(&path).await.status, StatusCode::OK, "{path}");
            }
            // ...the accountant does not: trades, the market, the directory, the console.
            for path in [
                "/pay".to_owned(),
                "/requests".to_owned(),
                format!("/requests/{request}"),
                "/orders".to_owned(),
                "/orders/1".to_owned(),
                "/market".to_owned(),
                "/market/mine".to_owned(),
                "/market/new".to_owned(),
                format!("/market/{own_listing}"),
                format!("/market/{other_listing}"),
                format!("/market/{own_listing}/edit"),
                "/directory".to_owned(),
                "/admin".to_owned(),
                "/accounting/locks".to_owned(),
            ] {
                let page = accountant.get(&path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
            }
            // Every write: 403, with a valid CSRF token, and nothing changes.
            let profile: &[(&str, &str)] = &[
                ("name", "Pirate"),
                ("address", "x"),
                ("city", "x"),
                ("postcode", "75001"),
                ("sector", "btp"),
                ("contact", "x"),
            ];
            let writes: Vec<(String, Vec<(&str, &str)>)> = vec![
                ("/pay".into(), vec![("payee", "2"), ("amount", "10")]),
                (
                    "/pay/confirm".into(),
                    vec![("payee", "2"), ("amount", "10")],
                ),
                ("/requests".into(), vec![("payee", "2"), ("amount", "10")]),
                (format!("/requests/{request}/accept"), vec![]),
                (format!("/requests/{request}/decline"), vec![]),
                ("/orders/1/deliver".into(), vec![]),
                ("/orders/1/cancel".into(), vec![]),
                ("/market".into(), vec![("title", "x")]),
                (format!("/market/{own_listing}"), vec![("title", "x")]),
                (format!("/market/{own_listing}/close"), vec![]),
                (format!("/market/{other_listing}/order"), vec![]),
                ("/company".into(), profile.to_vec()),
                ("/company/privacy".into(), vec![("hide_balance", "1")]),
                (
                    "/company/invite".into(),
                    vec![("email", "friend@x.fr"), ("role", "accountant")],
                ),
                ("/company/users/1/remove".into(), vec![]),
                ("/admin/members".into(), vec![("siren", "732829320")]),
                ("/accounting/siren".into(), vec![("siren", "732829320")]),
                ("/accounting/locks".into(), vec![("through", "2025-12-31")]),
                (
                    "/accounting/locks/confirm".into(),
                    vec![("through", "2025-12-31")],
                ),
            ];
            for (path, fields) in &writes {
                let page = accountant.post(path, fields).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "POST {path}: {}",
                    page.body
                );
            }
            assert_eq!(f.balances().await, before);
            let request_now = web::trade::request(&f.store, request)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(request_now.status.as_str(), "open");
            assert!(
                web::market::get(&f.store, own_listing)
                    .await
                    .unwrap()
                    .unwrap()
                    .open
            );
            assert_eq!(
                people::member(&f.store, f.alpha.id)
                    .await
                    .unwrap()
                    .unwrap()
                    .name,
                "Alpha SARL"
            );
            assert_eq!(
                f.store.network_siren().await.unwrap().unwrap().as_str(),
                "552100554"
            );
            // It changes its own password, like anyone.
            let page = accountant
                .post(
                    "/account/password",
                    &[
                        ("current", PASSWORD),
                        ("new", "another long password"),
                        ("confirm", "another long password"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);

            // The owner removes the accountant's access: its session ends.
            let users = people::users_of_member(&f.store, f.alpha.id).await.unwrap();
            let removed = users
                .iter()
                .find(|u| u.role == Role::MemberAccountant && u.email == "cabinet@expert.fr")
                .unwrap();
            let owner_id = users.iter().find(|u| u.role == Role::Owner).unwrap().id;
            // Not by staff, not by another company's owner, not the owner itself.
            let path = format!("/company/users/{}/remove", removed.id);
            assert_eq!(staff.post(&path, &[]).await.status, StatusCode::FORBIDDEN);
            let mut beta_owner = f.login("owner@beta.fr").await;
            assert_eq!(
                beta_owner.post(&path, &[]).await.status,
                StatusCode::NOT_FOUND
            );
            let own = format!("/company/users/{owner_id}/remove");
            assert_eq!(owner.post(&own, &[]).await.status, StatusCode::NOT_FOUND);
            assert_eq!(
                owner.post("/company/users/999999/remove", &[]).await.status,
                StatusCode::NOT_FOUND
            );
            let page = owner.post(&path, &[]).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Accès retiré.");
            assert!(!page.body.contains("cabinet@expert.fr"));
            let page = accountant.get("/dashboard").await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "logged out");
            assert!(people::find_login(&f.store, "cabinet@expert.fr")
                .await
                .unwrap()
                .is_none());
            // The fixture's other accountant of Alpha still works.
            let mut other = f.login(ALPHA_ACCOUNTANT).await;
            assert_eq!(other.get("/dashboard").await.status, StatusCode::OK);
            f.store.close().await;
        }
    }
);

story!(
    the_role_needs_a_member_in_the_database,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::No).await;
            // Migration 0014: member_accountant needs a member, accountant must have none.
            let insert = |role: &str, member: Option<i64>| {
                let member = member
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "NULL".into());
                format!(
                    "INSERT INTO users (email, password_hash, display_name, role, member_id, \
                     lang, created_at) VALUES ('{role}-{member}@x.fr', 'h', 'x', '{role}', \
                     {member}, 'fr', 0)"
                )
            };
            let run = |sql: String| {
                let store = f.store.clone();
                async move {
                    web::dispatch!(store.backend(), pool => {
                        sqlx::query(&sql).execute(pool).await.map(|_| ()).map_err(|e| e.to_string())
                    })
                }
            };
            assert!(run(insert("member_accountant", None)).await.is_err());
            assert!(run(insert("accountant", Some(f.alpha.id))).await.is_err());
            assert!(run(insert("auditor", Some(f.alpha.id))).await.is_err());
            run(insert("member_accountant", Some(f.alpha.id)))
                .await
                .unwrap();
            run(insert("accountant", None)).await.unwrap();
            let invitation = |role: &str, member: &str| {
                format!(
                    "INSERT INTO invitations (token_hash, email, role, member_id, created_by, \
                     created_at, expires_at) VALUES ('{role}{member}', 'i@x.fr', '{role}', \
                     {member}, 1, 0, 0)"
                )
            };
            assert!(run(invitation("member_accountant", "NULL")).await.is_err());
            run(invitation("member_accountant", &f.alpha.id.to_string()))
                .await
                .unwrap();
            // The users copied by the migration kept their ids and sessions still work.
            let mut owner = Client::new(f.state.clone());
            owner.login("owner@alpha.fr", PASSWORD).await;
            assert_eq!(owner.get("/dashboard").await.status, StatusCode::OK);
            f.store.close().await;
        }
    }
);
