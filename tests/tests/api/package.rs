//! The data package: a member company takes everything the network holds about it, as a
//! streamed JSON Lines file ending with an `end` record; over the API and on the company
//! page; bounded, refused clearly when a kind is past its limit or too many downloads run.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use tests::story;
use web::http::api::package::PACKAGE_ROWS_PER_KIND_MAX;
use web::tokens::Scope;

use super::{day_in, member_accountant, pays, setup, token, PASSWORD};
use crate::web_front::client::Client;

const DATA: &str = "/api/v1/company/data";

/// The records of a package, checked line by line: each `{record, data}`, the header first,
/// the `end` last with the count of the records before it.
fn records(text: &str) -> Vec<(String, Value)> {
    let lines: Vec<(String, Value)> = text
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let kind = value["record"].as_str().unwrap().to_owned();
            (kind, value["data"].clone())
        })
        .collect();
    assert_eq!(lines.first().unwrap().0, "header");
    let (last, end) = lines.last().unwrap();
    assert_eq!(last, "end");
    assert_eq!(end["records"], (lines.len() - 1) as u64);
    lines
}

fn of<'a>(lines: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v)
        .collect()
}

story!(members_take_all_their_data, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let alpha_read = token(&store, "staff@alpha.fr", Scope::Read).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let expert = member_accountant(&store, &alpha).await;

        // A little of everything: payments both ways (more than one page of 100), an offer
        // ordered, a payment request, a standing order, a credit-limit request.
        for _ in 0..105 {
            pays(&api, &alpha_pay, &beta, "1.00").await;
        }
        pays(&api, &beta_pay, &alpha, "3.00").await;
        let offer = api
            .post(
                "/api/v1/offers",
                &alpha_pay,
                json!({"title": "Révision <chaudière>", "category": "informatique",
                       "price": "40", "city": "Lyon", "active_until": day_in(30)}),
            )
            .await
            .ok(StatusCode::CREATED)["id"]
            .as_i64()
            .unwrap();
        api.post(
            &format!("/api/v1/offers/{offer}/order"),
            &beta_pay,
            json!({}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            "/api/v1/payment-requests",
            &beta_pay,
            json!({"payer": alpha.id, "amount": "12.00", "reference": "FA-1", "due_date": day_in(5)}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            "/api/v1/standing-orders",
            &alpha_pay,
            json!({"payee": beta.id, "amount": "2.00", "every": "month", "first_date": day_in(0)}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(
            "/api/v1/limit-requests",
            &alpha_pay,
            json!({"credit_limit": "2000.00", "message": "Saison"}),
        )
        .await
        .ok(StatusCode::CREATED);
        // And a change of its limits by the network.
        api.put(
            &format!("/api/v1/accounts/{}/credit-limit", alpha.account_id),
            &manage,
            json!({"credit_limit": "1500.00", "max_balance": "90000.00", "reason": "Revue"}),
        )
        .await
        .ok(StatusCode::OK);

        // Any of the company's users gets it, whatever the token's scope.
        let answer = api.get(DATA, &alpha_read).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(
            answer.headers[header::CONTENT_TYPE],
            "application/x-ndjson; charset=utf-8"
        );
        assert!(answer.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(&format!("troc-{}-", alpha.siren)));
        let lines = records(&answer.text);
        let head = &lines[0].1;
        assert_eq!(head["format"], "troc-member-data");
        assert_eq!(head["version"], 1);
        assert_eq!(head["member_id"], alpha.id);
        assert_eq!(of(&lines, "company")[0]["name"], "Alpha SARL");
        assert_eq!(of(&lines, "account")[0]["id"], alpha.account_id);
        let users: Vec<&str> = of(&lines, "user")
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(
            users,
            ["owner@alpha.fr", "staff@alpha.fr", "expert@alpha.fr"]
        );
        assert_eq!(of(&lines, "listing")[0]["title"], "Révision <chaudière>");
        assert_eq!(of(&lines, "order").len(), 1);
        assert_eq!(of(&lines, "payment_request")[0]["amount"], "12.00");
        let standing = of(&lines, "standing_order");
        assert_eq!(standing.len(), 1);
        assert_eq!(standing[0]["runs"].as_array().unwrap().len(), 1);
        assert_eq!(
            of(&lines, "limit_request")[0]["credit_limit_asked"],
            "2000.00"
        );
        // The network's changes to its limits, as the API's limit history gives them.
        let changes: Vec<serde_json::Value> =
            of(&lines, "limit_change").into_iter().cloned().collect();
        let history = api
            .get(
                &format!("/api/v1/accounts/{}/limit-history", alpha.account_id),
                &alpha_read,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(&serde_json::Value::from(changes.clone()), &history["items"]);
        let last = changes.last().expect("the manager's change");
        assert_eq!(last["max_balance_after"], "90000.00");
        assert_eq!(last["reason"], "Revue");
        // Every transaction, newest first, as the history shows them: 105 + 1 payments and
        // the standing order's first (the order is a hold, not a transaction yet).
        let transactions = of(&lines, "transaction");
        assert_eq!(transactions.len(), 107);
        let ids: Vec<i64> = transactions
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "newest first, no repeat"
        );
        let history = api
            .get(
                &format!(
                    "/api/v1/accounts/{}/transactions?limit=100",
                    alpha.account_id
                ),
                &alpha_read,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(&history["items"][0], transactions[0]);
        // The member accountant too; Beta gets Beta's; the network's staff have no company.
        let expert_lines = records(&api.get(DATA, &expert).await.text);
        assert_eq!(expert_lines.len(), lines.len());
        let beta_lines = records(&api.get(DATA, &beta_pay).await.text);
        assert_eq!(beta_lines[0].1["member_id"], beta.id);
        api.get(DATA, &manage)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Too many downloads at once: 503 `busy`, until one ends.
        let state = api.state();
        let held: Vec<_> = std::iter::from_fn(|| state.downloads.try_permit()).collect();
        assert!(!held.is_empty());
        api.get(DATA, &alpha_read)
            .await
            .problem(StatusCode::SERVICE_UNAVAILABLE, "busy");
        drop(held);
        assert_eq!(api.get(DATA, &alpha_read).await.status, StatusCode::OK);

        // A kind at its limit goes in; one row past it refuses the package.
        let already = of(&lines, "listing").len() as i64;
        insert_listings(&store, alpha.id, PACKAGE_ROWS_PER_KIND_MAX - already).await;
        let full = records(&api.get(DATA, &alpha_read).await.text);
        assert_eq!(of(&full, "listing").len() as i64, PACKAGE_ROWS_PER_KIND_MAX);
        insert_listings(&store, alpha.id, 1).await;
        api.get(DATA, &alpha_read)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "package_too_large");
        // The company page's link says why, in words (not "come back later").
        let mut owner = Client::new(api.state().clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        let page = owner.get("/company/data.jsonl").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains(&format!(
            "Vos données comptent plus de {PACKAGE_ROWS_PER_KIND_MAX} lignes"
        ));
        store.close().await;
    }
});

/// `count` closed listings of the member, in one statement.
async fn insert_listings(store: &web::store::Store, member_id: i64, count: i64) {
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
               INSERT INTO listings (member_id, kind, title, description, category, \
               price_minor, vat_bp, city, active_until, status, created_at, updated_at) \
               SELECT $1, 'offer', 'Ancienne annonce', '', 'informatique', 100, 2000, 'Lyon', \
               '2020-01-01', 'closed', 0, 0 FROM n";
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).bind(member_id).bind(count).execute(pool).await.unwrap();
    });
}

story!(
    members_download_their_data_from_the_company_page,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            pays(&api, &alpha_pay, &beta, "5.00").await;
            let mut owner = Client::new(api.state().clone());
            owner.login("owner@alpha.fr", PASSWORD).await;
            owner
                .get("/company")
                .await
                .assert_contains("href=\"/company/data.jsonl\"");
            let page = owner.get("/company/data.jsonl").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment;"));
            let lines = records(&page.body);
            assert_eq!(lines[0].1["member_id"], alpha.id);
            assert_eq!(of(&lines, "transaction").len(), 1);
            let mut staff = owner.sibling();
            staff.login("staff@alpha.fr", PASSWORD).await;
            assert_eq!(
                staff.get("/company/data.jsonl").await.status,
                StatusCode::OK
            );
            let mut manager = owner.sibling();
            manager.login("gestion@troc.fr", PASSWORD).await;
            assert_eq!(
                manager.get("/company/data.jsonl").await.status,
                StatusCode::FORBIDDEN
            );
            let held: Vec<_> = std::iter::from_fn(|| api.state().downloads.try_permit()).collect();
            assert_eq!(
                owner.get("/company/data.jsonl").await.status,
                StatusCode::SERVICE_UNAVAILABLE
            );
            drop(held);
            store.close().await;
        }
    }
);
