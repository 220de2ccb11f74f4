//! A network larger than the member lists (`MEMBERS_LISTED_MAX`): the pages still name every
//! counterparty they show, because each page reads the names of its own rows, not a bounded
//! list of every member.

use axum::http::StatusCode;
use tests::story;

use super::client::{hidden_value, state, Client};
use super::{balance, member, network, PASSWORD};

/// Inserts `count` member rows named « Aaa filler N », which sort before every member the
/// story creates. Rows only (no ledger account, no user): the pages read them as names.
async fn filler_members(store: &web::store::Store, count: i64) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
         INSERT INTO members (account_id, name, siren, address, city, postcode, sector, \
         description, contact, hide_balance, in_directory, created_at) \
         SELECT 1000000 + i, 'Aaa filler ' || (100000 + i), 'filler-' || i, '', '', '', \
         'conseil', '', '', FALSE, TRUE, 0 FROM n"
    );
    let inserted = web::dispatch!(store.backend(), pool => {
        sqlx::query(&sql).execute(pool).await.unwrap().rows_affected()
    });
    assert_eq!(inserted, count as u64);
}

story!(
    pages_name_counterparties_past_the_listed_members,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state) = state(&url).await;
            network(&store).await;
            // Alpha and Zulu, real members, sort after the fillers: both are past the
            // `MEMBERS_LISTED_MAX` first members by name.
            let alpha = member(&store, 1, "Alpha SARL", "alpha", 1_000).await;
            filler_members(&store, web::http::money::MEMBERS_LISTED_MAX).await;
            let zulu = member(&store, 2, "Zulu SAS", "zulu", 1_000).await;

            let mut alpha_web = Client::new(state);
            alpha_web.login("owner@alpha.fr", PASSWORD).await;
            let mut zulu_web = alpha_web.sibling();
            zulu_web.login("owner@zulu.fr", PASSWORD).await;

            // The payee list is bounded and does not reach Zulu; paying Zulu by its id works.
            let page = alpha_web.get("/pay").await;
            assert!(!page.body.contains("Zulu SAS"));
            let token = hidden_value(&page.body, "token").unwrap();
            let zulu_id = zulu.id.to_string();
            let page = alpha_web
                .post(
                    "/pay",
                    &[
                        ("payee", zulu_id.as_str()),
                        ("amount", "100"),
                        ("reference", "FA-1001"),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("Paiement effectué.");
            assert_eq!(balance(&store, &alpha).await, -10_100);

            // The history names the counterparty on both sides.
            let page = alpha_web.get("/history").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("FA-1001");
            page.assert_contains("<td>Zulu SAS</td>");
            let page = zulu_web.get("/history").await;
            page.assert_contains("FA-1001");
            page.assert_contains("<td>Alpha SARL</td>");
            // Filtering on a member past the drop-down's bound works, and the drop-down
            // shows it chosen.
            let page = alpha_web
                .get(&format!("/history?counterparty={}", zulu.account_id))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("<td>Zulu SAS</td>");
            page.assert_contains(&format!(
                "<option value=\"{}\" selected>Zulu SAS</option>",
                zulu.account_id
            ));
            // So do the CSV, the statement and the dashboard.
            let page = alpha_web.get("/history.csv").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains(",\"Zulu SAS\","), "{}", page.body);
            alpha_web
                .get("/statement")
                .await
                .assert_contains("<td>Zulu SAS</td>");
            alpha_web
                .get("/dashboard")
                .await
                .assert_contains("<td>Zulu SAS</td>");

            // A payment request from Alpha to Zulu names both, on both sides.
            let page = alpha_web.get("/requests").await;
            assert!(!page.body.contains("Zulu SAS"));
            let token = hidden_value(&page.body, "token").unwrap();
            let page = alpha_web
                .post(
                    "/requests",
                    &[
                        ("payee", zulu_id.as_str()),
                        ("amount", "50"),
                        ("reference", "REQ-1001"),
                        ("due_date", "2099-01-31"),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let row = "<td>Alpha SARL</td><td>Zulu SAS</td><td>REQ-1001</td>";
            alpha_web.get("/requests").await.assert_contains(row);
            let page = zulu_web.get("/requests").await;
            page.assert_contains(row);
            let start = page.body.find("href=\"/requests/").unwrap() + 6;
            let end = page.body[start..].find('"').unwrap() + start;
            let request = page.body[start..end].to_owned();
            let page = zulu_web.get(&request).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("<td>Alpha SARL</td>");
            page.assert_contains("<td>Zulu SAS</td>");
            zulu_web
                .get("/dashboard")
                .await
                .assert_contains("Alpha SARL — 50,00 — REQ-1001");

            // Zulu's offer: the marketplace names it; Alpha's order names both.
            let content = web::market::ListingContent {
                kind: web::market::Kind::Offer,
                title: "Transport express".into(),
                description: String::new(),
                category: "transport".into(),
                price_minor: Some(20_000),
                vat_bp: 2_000,
                city: "Lyon".into(),
                active_until: "2099-12-31".into(),
            };
            let listing = web::market::create(&store, zulu.id, &content, None)
                .await
                .unwrap();
            let page = alpha_web.get("/market").await;
            page.assert_contains("Transport express");
            page.assert_contains("Zulu SAS");
            let page = alpha_web.get(&format!("/market/{listing}")).await;
            let token = hidden_value(&page.body, "token").unwrap();
            let page = alpha_web
                .post(
                    &format!("/market/{listing}/order"),
                    &[("token", token.as_str())],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let order = page.location.clone().unwrap();
            let row = "<td>Alpha SARL</td><td>Zulu SAS</td>";
            alpha_web.get("/orders").await.assert_contains(row);
            zulu_web.get("/orders").await.assert_contains(row);
            let page = zulu_web.get(&order).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("<td>Alpha SARL</td>");
            page.assert_contains("<td>Zulu SAS</td>");

            store.close().await;
        }
    }
);
