//! Set-off of outside invoices through the API: declaring, confirming, rejecting and
//! closing (pay tokens of the companies' owners and staff), the set-off runs (manage
//! tokens: the manager runs, the network's accountant reads).

use axum::http::StatusCode;
use serde_json::{json, Value};
use tests::story;
use web::tokens::Scope;

use super::{day_in, logged, setup, texts, token};

const PATH: &str = "/api/v1/outside-invoices";
const RUNS: &str = "/api/v1/setoff-runs";

fn body(debtor: i64, number: &str, amount: &str, due: &str) -> Value {
    json!({"debtor_member_id": debtor, "number": number, "amount": amount, "due_on": due})
}

story!(set_off_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
        let a_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let a_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let b_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
        let g_pay = token(&store, "owner@gamma.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;

        // Who may declare: a pay token of a member's owner or staff.
        let sent = body(beta.id, "A-1", "1000.00", &day_in(30));
        for token in [&a_read, &manage] {
            api.post(PATH, token, sent.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        api.get(PATH, &manage)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Each bad field named, nothing declared.
        let long = "n".repeat(web::setoff::NUMBER_LEN_MAX + 1);
        for (bad, field, code) in [
            (
                body(alpha.id, "A-1", "10.00", &day_in(1)),
                "debtor",
                "invalid_choice",
            ),
            (
                body(999_999, "A-1", "10.00", &day_in(1)),
                "debtor",
                "invalid_choice",
            ),
            (body(beta.id, "", "10.00", &day_in(1)), "number", "required"),
            (
                body(beta.id, &long, "10.00", &day_in(1)),
                "number",
                "too_long",
            ),
            (
                body(beta.id, "A-1", "0.00", &day_in(1)),
                "amount",
                "validation_failed",
            ),
            (
                body(beta.id, "A-1", "-1.00", &day_in(1)),
                "amount",
                "validation_failed",
            ),
            (
                body(beta.id, "A-1", "1e3", &day_in(1)),
                "amount",
                "validation_failed",
            ),
            (
                body(beta.id, "A-1", "100000000.01", &day_in(1)),
                "amount",
                "amount_above_max",
            ),
            (
                body(beta.id, "A-1", "10.00", &day_in(366)),
                "due_on",
                "invalid_date",
            ),
            (
                body(beta.id, "A-1", "10.00", &day_in(-366)),
                "due_on",
                "invalid_date",
            ),
            (
                body(beta.id, "A-1", "10.00", "31/12/2026"),
                "due_on",
                "invalid_date",
            ),
        ] {
            let problem = api
                .post(PATH, &a_pay, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{problem}");
            if code != "validation_failed" {
                assert_eq!(problem["errors"][0]["code"], code, "{problem}");
            }
        }
        // A company that left the network (its account closed) is no debtor.
        let gone = crate::web_front::member(&store, 4, "Delta", "delta", 0).await;
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE accounts SET status = 'closed' WHERE id = $1")
                .bind(gone.account_id).execute(pool).await.unwrap();
        });
        let problem = api
            .post(PATH, &a_pay, body(gone.id, "A-1", "10.00", &day_in(1)))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "debtor", "{problem}");
        api.post(PATH, &a_pay, json!({"debtor_member_id": beta.id}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let list = api.get(PATH, &a_read).await.ok(StatusCode::OK);
        assert_eq!(list["items"], json!([]));
        assert_eq!(list["set_offs"], json!([]));

        // Declared once per key, at the limits; the number once per creditor.
        let forty = "N".repeat(web::setoff::NUMBER_LEN_MAX);
        let done = api
            .post_key(
                PATH,
                &a_pay,
                "inv-1",
                body(beta.id, &forty, "100000000.00", &day_in(365)),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(done["status"], "declared");
        assert_eq!(done["amount"], "100000000.00");
        assert_eq!(done["open"], "100000000.00");
        assert_eq!(done["debtor_name"], "Beta & Fils <SAS>");
        assert_eq!(done["declared_by"], "owner@alpha.fr");
        assert!(done["answered_at"].is_null());
        let again = api
            .post_key(
                PATH,
                &a_pay,
                "inv-1",
                body(beta.id, &forty, "100000000.00", &day_in(365)),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again["id"], done["id"]);
        api.post(PATH, &a_pay, body(gamma.id, &forty, "5.00", &day_in(-365)))
            .await
            .problem(StatusCode::CONFLICT, "already_declared");
        let big = done["id"].as_i64().unwrap();

        // The cycle: Beta owes Alpha 1 000, Gamma owes Beta 700, Alpha owes Gamma 500.
        let declare = |token: &str, debtor: i64, number: &str, amount: &str| {
            let token = token.to_owned();
            let sent = body(debtor, number, amount, &day_in(30));
            let api = &api;
            async move {
                api.post(PATH, &token, sent).await.ok(StatusCode::CREATED)["id"]
                    .as_i64()
                    .unwrap()
            }
        };
        let a1 = declare(&a_pay, beta.id, "A-1", "1000.00").await;
        let b1 = declare(&b_pay, gamma.id, "B-1", "700.5").await;
        let g1 = declare(&g_pay, alpha.id, "G-1", "500").await;

        // Only the debtor answers; others get 404; a read token 403.
        let confirm = |id: i64| format!("{PATH}/{id}/confirm");
        api.post(&confirm(a1), &a_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(&confirm(a1), &g_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(&confirm(a1), &a_read, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(&confirm(0), &b_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let done = api
            .post(&confirm(a1), &b_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(done["status"], "confirmed");
        assert_eq!(done["answered_by"], "staff@beta.fr");
        api.post(&confirm(a1), &b_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "already_decided");
        api.post(&confirm(b1), &g_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        api.post(&confirm(g1), &a_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        // The big one: Beta rejects it, with a reason of at most 500 characters.
        let reject = format!("{PATH}/{big}/reject");
        for bad in [
            json!({"reason": ""}),
            json!({"reason": "r".repeat(501)}),
            json!({}),
        ] {
            let problem = api
                .post(&reject, &b_pay, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "reason", "{problem}");
        }
        let done = api
            .post(&reject, &b_pay, json!({"reason": "r".repeat(500)}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(done["status"], "rejected");
        assert_eq!(done["note"], "r".repeat(500));
        api.post(
            &format!("{PATH}/{big}/close"),
            &a_pay,
            json!({"reason": "x"}),
        )
        .await
        .problem(StatusCode::CONFLICT, "already_decided");

        // The runs: members are refused; the accountant reads and may not run.
        api.get(RUNS, &a_read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(RUNS, &accountant, json!({"reason": "x"}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let overview = api.get(RUNS, &accountant).await.ok(StatusCode::OK);
        assert_eq!(
            overview["now"],
            json!({"invoices": 3, "owed": "2200.50", "cleared": "1500.00", "cleared_invoices": 3})
        );
        assert_eq!(overview["runs"], json!([]));
        let problem = api
            .post(RUNS, &manage, json!({"reason": ""}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "reason");
        let run = api
            .post_key(
                RUNS,
                &manage,
                "run-1",
                json!({"reason": "Compensation de décembre"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(run["run"]["invoices"], 3);
        assert_eq!(run["run"]["owed"], "2200.50");
        assert_eq!(run["run"]["cleared"], "1500.00");
        assert_eq!(run["run"]["run_by"], "gestion@troc.fr");
        let lines: Vec<(i64, &str)> = run["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["invoice_id"].as_i64().unwrap(),
                    l["amount"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(lines, vec![(a1, "500.00"), (b1, "500.00"), (g1, "500.00")]);
        // The same key answers the same run; a new one finds nothing left to set off.
        let again = api
            .post_key(
                RUNS,
                &manage,
                "run-1",
                json!({"reason": "Compensation de décembre"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again["run"]["id"], run["run"]["id"]);
        api.post(RUNS, &manage, json!({"reason": "Encore"}))
            .await
            .problem(StatusCode::CONFLICT, "nothing_to_set_off");
        let id = run["run"]["id"].as_i64().unwrap();
        let shown = api
            .get(&format!("{RUNS}/{id}"), &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(shown, run);
        api.get(&format!("{RUNS}/999999"), &manage)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get(&format!("{RUNS}/{id}"), &a_read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(logged(&api, &accountant, "setoff.run").await, 1);
        let overview = api.get(RUNS, &manage).await.ok(StatusCode::OK);
        assert_eq!(overview["now"]["invoices"], 2);
        assert_eq!(overview["now"]["owed"], "700.50");
        assert_eq!(overview["now"]["cleared"], "0.00");
        assert_eq!(overview["runs"].as_array().unwrap().len(), 1);

        // Each company reads its invoices and its lines; G-1 is cleared, B-1 has 200.50 left.
        let list = api.get(PATH, &g_pay).await.ok(StatusCode::OK);
        let of = |list: &Value, id: i64| {
            let i = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id)
                .unwrap();
            (
                i["status"].as_str().unwrap().to_owned(),
                i["open"].as_str().unwrap().to_owned(),
            )
        };
        assert_eq!(of(&list, g1), ("cleared".to_owned(), "0.00".to_owned()));
        assert_eq!(of(&list, b1), ("confirmed".to_owned(), "200.50".to_owned()));
        assert_eq!(texts(&list["items"], "number"), vec!["G-1", "B-1"]);
        assert_eq!(list["set_offs"].as_array().unwrap().len(), 2);
        let list = api.get(PATH, &a_read).await.ok(StatusCode::OK);
        assert_eq!(
            texts(&list["items"], "number"),
            vec!["G-1", "A-1", forty.as_str()]
        );

        // The creditor closes what is left; the debtor may not; a cleared one is not closed.
        api.post(
            &format!("{PATH}/{g1}/close"),
            &g_pay,
            json!({"reason": "x"}),
        )
        .await
        .problem(StatusCode::CONFLICT, "already_decided");
        let close = format!("{PATH}/{b1}/close");
        api.post(&close, &g_pay, json!({"reason": "x"}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let done = api
            .post(&close, &b_pay, json!({"reason": "Réglée par virement"}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(done["status"], "closed");
        assert_eq!(done["closed_by"], "staff@beta.fr");
        assert_eq!(done["open"], "200.50");
        assert_eq!(done["note"], "Réglée par virement");

        // The company's data package carries its invoices and the set-offs on them.
        let package = api.get("/api/v1/company/data", &a_read).await;
        assert_eq!(package.status, StatusCode::OK);
        let kinds: Vec<String> = package
            .text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["record"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
        assert_eq!((count("outside_invoice"), count("setoff_line")), (3, 2));
        store.close().await;
    }
});
