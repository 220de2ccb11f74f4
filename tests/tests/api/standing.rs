//! Standing orders: a member pays another the same amount every week or month; each due
//! date is paid once through the ledger (the calendar is driven by passing `today`), refused
//! ones are recorded and skipped, either company stops it; over the API and on the pages.

use axum::http::StatusCode;
use chrono::{Duration, Months, NaiveDate, Utc};
use ledger::Amount;
use serde_json::{json, Value};
use tests::story;
use web::console::{Conflict, ConsoleError};
use web::people;
use web::standing::{self, Every, NewStanding, STANDING_ORDERS_ACTIVE_MAX};
use web::tokens::Scope;

use super::{ledger_state, member_accountant, setup, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

const ORDERS: &str = "/api/v1/standing-orders";

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn order(payee: i64, amount: &str, every: &str, first: NaiveDate, end: Option<NaiveDate>) -> Value {
    json!({
        "payee": payee, "amount": amount, "every": every, "first_date": day(first),
        "end_date": end.map(day), "reference": "LOYER", "memo": "Bureau du 2e",
    })
}

async fn post_form(
    client: &mut Client,
    fields: Vec<(&'static str, String)>,
) -> crate::web_front::client::Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post("/standing-orders", &pairs).await
}

async fn shown(api: &Api, token: &str, id: i64) -> Value {
    api.get(&format!("{ORDERS}/{id}"), token)
        .await
        .ok(StatusCode::OK)
}

story!(
    standing_orders_pay_each_due_date_once,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
            let gamma_pay = token(&store, "owner@gamma.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let expert = member_accountant(&store, &alpha).await;
            let today = Utc::now().date_naive();

            // Who may set one up: the payer's owner or staff with a pay token.
            for refused in [&alpha_read, &manage, &expert] {
                api.post(
                    ORDERS,
                    refused,
                    order(beta.id, "10.00", "month", today, None),
                )
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            // Every bad input is refused with its field, and nothing is recorded or paid.
            let zero = ledger_state(&store, &alpha, &beta).await;
            let cases = [
                (order(alpha.id, "10.00", "month", today, None), "payee"),
                (order(999_999, "10.00", "month", today, None), "payee"),
                (order(beta.id, "0.00", "month", today, None), "amount"),
                (order(beta.id, "100000.01", "month", today, None), "amount"),
                (order(beta.id, "10.00", "day", today, None), "every"),
                (
                    order(beta.id, "10.00", "month", today - Duration::days(1), None),
                    "first_date",
                ),
                (
                    order(beta.id, "10.00", "month", today + Duration::days(367), None),
                    "first_date",
                ),
                (
                    order(
                        beta.id,
                        "10.00",
                        "month",
                        today + Duration::days(2),
                        Some(today + Duration::days(1)),
                    ),
                    "end_date",
                ),
                (
                    order(
                        beta.id,
                        "10.00",
                        "month",
                        today,
                        Some(today + Duration::days(3_661)),
                    ),
                    "end_date",
                ),
            ];
            for (input, field) in cases {
                let problem = api
                    .post(ORDERS, &alpha_pay, input.clone())
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{input} {problem}");
            }
            let mut long = order(beta.id, "10.00", "month", today, None);
            long["reference"] = json!("r".repeat(65));
            api.post(ORDERS, &alpha_pay, long)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "reference_too_long");
            let mut long = order(beta.id, "10.00", "month", today, None);
            long["memo"] = json!("m".repeat(281));
            api.post(ORDERS, &alpha_pay, long)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "memo_too_long");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, zero);
            let listed = api.get(ORDERS, &alpha_pay).await.ok(StatusCode::OK);
            assert_eq!(listed["paid"].as_array().unwrap().len(), 0);

            // Monthly from today for three months: today's is paid before the answer.
            let end = today.checked_add_months(Months::new(2)).unwrap();
            let body = order(beta.id, "100.00", "month", today, Some(end));
            let created = api
                .post_key(ORDERS, &alpha_pay, "rent-1", body.clone())
                .await
                .ok(StatusCode::CREATED);
            let rent = created["id"].as_i64().unwrap();
            assert_eq!(created["status"], "active");
            assert_eq!(created["every"], "month");
            assert_eq!(created["payer"], alpha.id);
            assert_eq!(created["created_by"], "owner@alpha.fr");
            assert_eq!(created["runs"].as_array().unwrap().len(), 1, "{created}");
            assert_eq!(created["runs"][0]["due_date"], day(today));
            let first_tx = created["runs"][0]["transaction_id"].as_i64().unwrap();
            let next = today.checked_add_months(Months::new(1)).unwrap();
            assert_eq!(created["next_date"], day(next));
            // 100,00 and the buyer's 1 % fund contribution.
            let paid_once = ledger_state(&store, &alpha, &beta).await;
            assert_eq!(paid_once.0, zero.0 - 10_100);
            assert_eq!(paid_once.2, zero.2 + 1);
            // The same key and body: the same answer, no second order, no second payment.
            let again = api
                .post_key(ORDERS, &alpha_pay, "rent-1", body)
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(again, created);
            assert_eq!(ledger_state(&store, &alpha, &beta).await, paid_once);
            // The payment is an ordinary one in both histories, with the order's reference.
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/transactions", beta.account_id),
                    &beta_pay,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(history["items"][0]["id"], first_tx);
            assert_eq!(history["items"][0]["reference"], "LOYER");

            // The calendar moves: nothing before the next due date; each due date paid once.
            let swept = standing::run_due(&store, next - Duration::days(1))
                .await
                .unwrap();
            assert_eq!((swept.paid, swept.refused), (0, 0));
            let swept = standing::run_due(&store, next).await.unwrap();
            assert_eq!((swept.paid, swept.refused), (1, 0));
            let swept = standing::run_due(&store, next).await.unwrap();
            assert_eq!((swept.paid, swept.refused), (0, 0));
            standing::run_due(&store, end + Duration::days(40))
                .await
                .unwrap();
            let done = shown(&api, &alpha_read, rent).await;
            assert_eq!(done["status"], "finished", "{done}");
            assert!(done["next_date"].is_null() && done["ended_at"].is_string());
            let dues: Vec<&str> = done["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["due_date"].as_str().unwrap())
                .collect();
            assert_eq!(dues, [day(end), day(next), day(today)]);
            assert_eq!(ledger_state(&store, &alpha, &beta).await.2, zero.2 + 3);

            // Who reads it: both companies' users and the network's staff; Gamma finds none.
            for reader in [&alpha_read, &beta_pay, &expert, &manage] {
                assert_eq!(shown(&api, reader, rent).await["id"], rent);
            }
            api.get(&format!("{ORDERS}/{rent}"), &gamma_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            for missing in ["999999", "0", "x"] {
                api.get(&format!("{ORDERS}/{missing}"), &alpha_pay)
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            let received = api.get(ORDERS, &beta_pay).await.ok(StatusCode::OK);
            assert_eq!(received["received"][0]["id"], rent);
            assert_eq!(received["received"][0]["runs"].as_array().unwrap().len(), 1);

            // Weekly, caught up: three due dates missed are each paid in one sweep.
            let weekly = api
                .post(
                    ORDERS,
                    &alpha_pay,
                    order(beta.id, "5.00", "week", today, None),
                )
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let before = ledger_state(&store, &alpha, &beta).await;
            let swept = standing::run_due(&store, today + Duration::days(21))
                .await
                .unwrap();
            assert_eq!(swept.paid, 3);
            assert_eq!(ledger_state(&store, &alpha, &beta).await.2, before.2 + 3);
            let weekly_now = shown(&api, &alpha_read, weekly).await;
            assert_eq!(weekly_now["runs"].as_array().unwrap().len(), 4);
            assert_eq!(weekly_now["next_date"], day(today + Duration::days(28)));

            // A refused due date is recorded and skipped; the order goes on.
            let big = api
                .post(
                    ORDERS,
                    &beta_pay,
                    order(alpha.id, "900.00", "month", today + Duration::days(1), None),
                )
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let before = ledger_state(&store, &alpha, &beta).await;
            let swept = standing::run_due(&store, today + Duration::days(1))
                .await
                .unwrap();
            assert_eq!((swept.paid, swept.refused), (0, 1));
            assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
            let refused = shown(&api, &beta_pay, big).await;
            assert_eq!(refused["status"], "active");
            assert_eq!(refused["runs"][0]["rejection"], "insufficient_credit");
            assert!(refused["runs"][0]["transaction_id"].is_null());

            // Either company stops it: here the payee. Once; nothing is paid afterwards.
            api.post(&format!("{ORDERS}/{weekly}/cancel"), &gamma_pay, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&format!("{ORDERS}/{weekly}/cancel"), &alpha_read, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let stopped = api
                .post(&format!("{ORDERS}/{weekly}/cancel"), &beta_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(stopped["status"], "cancelled");
            assert_eq!(stopped["ended_by"], "staff@beta.fr");
            api.post(&format!("{ORDERS}/{weekly}/cancel"), &alpha_pay, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "standing_order_ended");
            let before = ledger_state(&store, &alpha, &beta).await;
            standing::run_due(&store, today + Duration::days(60))
                .await
                .unwrap();
            let after = ledger_state(&store, &alpha, &beta).await;
            assert_eq!(
                after, before,
                "only the refused order ran, and was refused again"
            );
            assert_eq!(
                shown(&api, &alpha_read, weekly).await["runs"]
                    .as_array()
                    .unwrap()
                    .len(),
                4
            );

            // Two sweeps at once pay a due date once.
            let (owner, _) = people::find_login(&store, "owner@gamma.fr")
                .await
                .unwrap()
                .unwrap();
            let tomorrow = today + Duration::days(1);
            let new = NewStanding {
                payee_member_id: alpha.id,
                amount: Amount::from_units(7),
                reference: String::new(),
                memo: String::new(),
                every: Every::Week,
                first_date: tomorrow,
                end_date: None,
            };
            let racing = standing::create(&store, &owner, &gamma, &new, today)
                .await
                .unwrap();
            let head = store.chain_head().await.unwrap().0;
            let (a, b) = tokio::join!(
                standing::run_due(&store, tomorrow),
                standing::run_due(&store, tomorrow)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.paid + b.paid, 1, "{a:?} {b:?}");
            assert_eq!(store.chain_head().await.unwrap().0, head + 1);
            assert_eq!(standing::runs(&store, racing.id).await.unwrap().len(), 1);

            // Setting an order up pays its own first date, not the other orders due.
            let due_now = NewStanding {
                first_date: today,
                ..new.clone()
            };
            let waiting = standing::create(&store, &owner, &gamma, &due_now, today)
                .await
                .unwrap();
            let set_up = api
                .post(
                    ORDERS,
                    &gamma_pay,
                    order(alpha.id, "3.00", "week", today, None),
                )
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(set_up["runs"].as_array().unwrap().len(), 1, "{set_up}");
            assert!(standing::runs(&store, waiting.id).await.unwrap().is_empty());
            let swept = standing::run_due(&store, today).await.unwrap();
            assert_eq!(swept.paid, 1);
            assert_eq!(standing::runs(&store, waiting.id).await.unwrap().len(), 1);

            // At most 50 active orders per payer.
            let later = NewStanding {
                first_date: today + Duration::days(366),
                ..new
            };
            let mut count = 3; // the racing order and the two set up today
            while count < STANDING_ORDERS_ACTIVE_MAX {
                standing::create(&store, &owner, &gamma, &later, today)
                    .await
                    .unwrap();
                count += 1;
            }
            let refused = standing::create(&store, &owner, &gamma, &later, today).await;
            assert!(
                matches!(
                    refused,
                    Err(ConsoleError::Conflict(Conflict::TooManyStandingOrders))
                ),
                "{refused:?}"
            );
            assert!(store.verify_ledger().await.unwrap().is_ok());
            assert!(store.check_invariants().await.unwrap().is_ok());
            store.close().await;
        }
    }
);

story!(standing_orders_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        member_accountant(&store, &alpha).await;
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        let mut payee = owner.sibling();
        payee.login("owner@beta.fr", PASSWORD).await;
        let mut accountant = owner.sibling();
        accountant.login("expert@alpha.fr", PASSWORD).await;
        let mut manager = owner.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        let today = Utc::now().date_naive();
        let today_text = day(today);
        let beta_id = beta.id.to_string();

        owner
            .get("/pay")
            .await
            .assert_contains("href=\"/standing-orders\"");
        let page = owner.get("/standing-orders").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"so-form\"");
        let page = accountant.get("/standing-orders").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("id=\"so-form\""));
        let fields = |amount: &'static str, first: String| {
            vec![
                ("payee", beta_id.clone()),
                ("amount", amount.to_owned()),
                ("every", "month".to_owned()),
                ("first_date", first),
                ("end_date", String::new()),
                ("reference", "<LOYER>".to_owned()),
                ("memo", "Bureau".to_owned()),
            ]
        };
        assert_eq!(
            post_form(&mut accountant, fields("10", today_text.clone()))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            manager.get("/standing-orders").await.status,
            StatusCode::FORBIDDEN
        );

        // Refusals are worded and change nothing.
        let zero = ledger_state(&store, &alpha, &beta).await;
        let page = post_form(&mut owner, fields("abc", today_text.clone())).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Montant : montant invalide");
        page.assert_contains("value=\"abc\"");
        let yesterday = day(today - Duration::days(1));
        let page = post_form(&mut owner, fields("10", yesterday)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Première échéance : ");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, zero);

        // Set up from today: paid at once, and shown on both sides.
        let page = post_form(&mut owner, fields("45,50", today_text.clone())).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"so-done\"");
        page.assert_contains("Beta &#38; Fils &#60;SAS&#62;");
        page.assert_contains("45,50");
        page.assert_contains("&#60;LOYER&#62;");
        page.assert_contains("payée n° ");
        assert_eq!(ledger_state(&store, &alpha, &beta).await.2, zero.2 + 1);
        let (paid, _) = standing::member_orders(&store, alpha.id).await.unwrap();
        let id = paid[0].id;
        let page = payee.get("/standing-orders").await;
        page.assert_contains("id=\"so-received\"");
        page.assert_contains("Alpha SARL");
        // The manager sees the member's commitments on its console page.
        let console = manager.get(&format!("/admin/members/{}", alpha.id)).await;
        console.assert_contains("id=\"member-standing\"");
        console.assert_contains("payé à Beta &#38; Fils &#60;SAS&#62;");
        manager
            .get(&format!("/admin/members/{}", beta.id))
            .await
            .assert_contains("reçu de Alpha SARL");
        let cancel = format!("/standing-orders/{id}/cancel");
        page.assert_contains(&format!("action=\"{cancel}\""));

        // A due date the ledger refuses is on the payer's dashboard, escaped.
        let before = ledger_state(&store, &alpha, &beta).await;
        let page = post_form(&mut owner, fields("2 000", today_text.clone())).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("refusée (insufficient_credit)");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        let dashboard = owner.get("/dashboard").await;
        dashboard.assert_contains("vers Beta &#38; Fils &#60;SAS&#62; : l&#39;échéance du");
        dashboard.assert_contains("(2 000,00) n&#39;a pas été payée (crédit insuffisant)");
        // The payee learns it was not paid, not why (the payer's credit is its own business).
        let theirs = payee.get("/dashboard").await;
        theirs.assert_contains("de Alpha SARL : l&#39;échéance du");
        theirs.assert_contains("(2 000,00) ne vous a pas été payée.");
        assert!(!theirs.body.contains("crédit insuffisant"));

        // The payee stops it; once.
        let mut stranger_page = accountant.post(&cancel, &[]).await;
        assert_eq!(stranger_page.status, StatusCode::FORBIDDEN);
        stranger_page = manager.post(&cancel, &[]).await;
        assert_eq!(stranger_page.status, StatusCode::FORBIDDEN);
        let page = payee.post(&cancel, &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Virement permanent arrêté");
        let page = owner.post(&cancel, &[]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà arrêté ou terminé");
        assert_eq!(
            owner
                .post("/standing-orders/999999/cancel", &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let page = owner.get("/standing-orders").await;
        page.assert_contains("arrêté");
        let mut english = owner.sibling();
        english.login("owner@alpha.fr", PASSWORD).await;
        english.post("/lang", &[("lang", "en")]).await;
        let page = english.get("/standing-orders").await;
        page.assert_contains("Orders you pay");
        page.assert_contains("stopped");
        english
            .get("/dashboard")
            .await
            .assert_contains("(2,000.00) was not made (not enough credit)");
        english.post("/lang", &[("lang", "fr")]).await;
        store.close().await;
    }
});
