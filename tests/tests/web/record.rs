//! The network's record: what the manager did to a company, on `/company/record`, through
//! `GET /api/v1/company/actions` and in the data package (docs/web.md, "The network's
//! record").

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::people::Member;
use web::store::Store;
use web::tokens::Scope;

use super::client::Client;
use super::{two_members, PASSWORD};

async fn actions_of(store: &Store, member: &Member) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM action_log WHERE member_id = $1")
            .bind(member.id).fetch_one(pool).await.unwrap()
    })
}

/// `n` plain entries about `member`, written as the console writes a review date.
async fn add_entries(store: &Store, member: &Member, n: i64) {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $2) \
             INSERT INTO action_log (time, actor, action, member_id, reason, before, after) \
             SELECT 1796601600, 'gestion@troc.fr', 'member.review', $1, '', '{}', \
                    '{\"next_review\": \"2027-06-30\"}' FROM k")
            .bind(member.id).bind(n).execute(pool).await.unwrap();
    });
}

fn rows(body: &str) -> usize {
    body.matches("<tr id=\"action-").count()
}

story!(
    a_company_reads_what_the_network_did_to_it,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            crate::api::staff(&store).await;
            let api = crate::api::Api::new(state.clone());
            let manage = crate::api::token(&store, "gestion@troc.fr", Scope::Manage).await;
            let mut owner = Client::new(state.clone());
            owner.login("owner@alpha.fr", PASSWORD).await;

            // Nothing yet.
            let page = owner.get("/company/record").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"record-empty\"");
            owner
                .get("/company")
                .await
                .assert_contains("href=\"/company/record\"");

            // The manager raises Alpha's limits, freezes and unfreezes it, and lowers Beta's.
            let limits =
                |member: &Member| format!("/api/v1/accounts/{}/credit-limit", member.account_id);
            api.put(
            &limits(&alpha),
            &manage,
            json!({"credit_limit": "1500.00", "max_balance": "5000.00", "reason": "Bon historique"}),
        )
        .await
        .ok(StatusCode::OK);
            for (action, reason) in [("freeze", "Impayés <b>"), ("unfreeze", "Réglé")] {
                api.post(
                    &format!("/api/v1/accounts/{}/{action}", alpha.account_id),
                    &manage,
                    json!({ "reason": reason }),
                )
                .await
                .ok(StatusCode::OK);
            }
            api.put(
                &limits(&beta),
                &manage,
                json!({"credit_limit": "400.00", "reason": "Secret de Beta"}),
            )
            .await
            .ok(StatusCode::OK);

            let page = owner.get("/company/record").await;
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(rows(&page.body), 3, "{}", page.body);
            for expected in [
                "Limites fixées",
                "limite de crédit : 1 000,00 → 1 500,00 · plafond : aucun → 5 000,00",
                "Bon historique",
                "gestion@troc.fr",
                "Compte gelé",
                "statut : actif → gelé",
                "Compte dégelé",
                "statut : gelé → actif",
                // The reason is text, escaped.
                "Impayés &#60;b&#62;",
            ] {
                page.assert_contains(expected);
            }
            assert!(!page.body.contains("Impayés <b>"));
            assert!(!page.body.contains("Secret de Beta"));
            // Newest first.
            let unfrozen = page.body.find("Compte dégelé").unwrap();
            let set = page.body.find("Limites fixées").unwrap();
            assert!(unfrozen < set);
            // Staff read it too; a bad cursor is refused.
            let mut staff = owner.sibling();
            staff.login("staff@alpha.fr", PASSWORD).await;
            assert_eq!(rows(&staff.get("/company/record").await.body), 3);
            for bad in ["abc", "0", "-4"] {
                let page = owner.get(&format!("/company/record?before={bad}")).await;
                assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
            }

            // Pages of 50: exactly 50 entries need no next page; 51 do.
            let have = actions_of(&store, &alpha).await;
            add_entries(&store, &alpha, 50 - have).await;
            let page = owner.get("/company/record").await;
            assert_eq!(rows(&page.body), 50);
            assert!(!page.body.contains("rel=\"next\""));
            page.assert_contains("prochaine revue : 2027-06-30");
            add_entries(&store, &alpha, 1).await;
            let page = owner.get("/company/record").await;
            assert_eq!(rows(&page.body), 50);
            let start = page
                .body
                .find("/company/record?before=")
                .expect("a next page");
            let end = page.body[start..].find('"').unwrap();
            let next = page.body[start..start + end].to_owned();
            let second = owner.get(&next).await;
            assert_eq!(second.status, StatusCode::OK);
            assert_eq!(rows(&second.body), 1);
            second.assert_contains("Bon historique");

            // The API gives the same entries, the company's only, with their states.
            let alpha_read = crate::api::token(&store, "owner@alpha.fr", Scope::Read).await;
            let first = api
                .get("/api/v1/company/actions?limit=1", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(first["items"].as_array().unwrap().len(), 1);
            let next = first["next"].as_str().unwrap().to_owned();
            let all = api
                .get("/api/v1/company/actions?limit=200", &alpha_read)
                .await
                .ok(StatusCode::OK);
            let items = all["items"].as_array().unwrap();
            assert_eq!(items.len() as i64, actions_of(&store, &alpha).await);
            assert!(items.iter().all(|i| i["member_id"] == alpha.id));
            assert_eq!(items[0]["id"].to_string(), next);
            let second = api
                .get(
                    &format!("/api/v1/company/actions?limit=1&after={next}"),
                    &alpha_read,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(second["items"][0]["id"], items[1]["id"]);
            let set = items.iter().find(|i| i["action"] == "limits.set").unwrap();
            assert_eq!(set["before"]["account"]["credit_limit"], 100_000);
            assert_eq!(set["after"]["account"]["credit_limit"], 150_000);
            assert_eq!(set["reason"], "Bon historique");
            for bad in ["limit=0", "limit=201", "after=abc"] {
                api.get(&format!("/api/v1/company/actions?{bad}"), &alpha_read)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            }
            let expert = crate::api::member_accountant(&store, &alpha).await;
            let read = api
                .get("/api/v1/company/actions?limit=200", &expert)
                .await
                .ok(StatusCode::OK);
            assert_eq!(read["items"].as_array().unwrap().len(), items.len());
            let beta_read = crate::api::token(&store, "owner@beta.fr", Scope::Read).await;
            let theirs = api
                .get("/api/v1/company/actions", &beta_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
            assert_eq!(theirs["items"][0]["reason"], "Secret de Beta");
            api.get("/api/v1/company/actions", &manage)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // And the data package carries them, oldest first.
            let package = api.get("/api/v1/company/data", &alpha_read).await;
            assert_eq!(package.status, StatusCode::OK);
            let records: Vec<serde_json::Value> = package
                .text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .filter(|r: &serde_json::Value| r["record"] == "network_action")
                .collect();
            assert_eq!(records.len(), items.len());
            assert_eq!(records[0]["data"]["action"], "limits.set");
            assert!(records
                .windows(2)
                .all(|w| w[0]["data"]["id"].as_i64() < w[1]["data"]["id"].as_i64()));
        }
    }
);
