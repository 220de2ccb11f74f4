//! The manager's routes.

use axum::http::StatusCode;
use ledger::Amount;
use serde_json::json;
use tests::story;
use web::console::categories::{self, CategoryInput};
use web::console::Actor;
use web::people;
use web::tokens::Scope;

use super::{balance, day_in, ids, logged, setup, texts, token};

story!(manager_routes, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;

        // A new member.
        let body = json!({"name": "Gamma SAS", "siren": crate::web_front::siren(3), "email": "owner@gamma.fr",
                          "credit_limit": "750", "max_balance": "5000.00"});
        let created = api
            .post("/api/v1/members", &manage, body.clone())
            .await
            .ok(StatusCode::CREATED);
        let gamma_account = created["account_id"].as_i64().unwrap();
        assert!(created["id"].as_i64().unwrap() > 0);
        assert_eq!(created["user_id"], serde_json::Value::Null);
        assert!(created["invitation_url"]
            .as_str()
            .unwrap()
            .starts_with("http://troc.test/invitation/"));
        let account = api
            .get(&format!("/api/v1/accounts/{gamma_account}"), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(account["credit_limit"], "750.00");
        assert_eq!(account["max_balance"], "5000.00");
        // The same SIREN again, a bad email: every field at once.
        let problem = api
            .post(
                "/api/v1/members",
                &manage,
                json!({"name": "", "siren": "123", "email": "x"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(problem["errors"].as_array().unwrap().len() >= 3);
        api.post("/api/v1/members", &manage, body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        // The accountant reads but does not act.
        api.post(
            "/api/v1/members",
            &accountant,
            json!({"name": "X", "siren": "1", "email": "a@b.fr"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

        // Credit limit, with its reason in the limit history.
        let path = format!("/api/v1/accounts/{}/credit-limit", alpha.account_id);
        let changed = api
            .put(
                &path,
                &manage,
                json!({"credit_limit": "1500", "reason": "Bilan 2026"}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(changed["before"]["credit_limit"], "1000.00");
        assert_eq!(changed["after"]["credit_limit"], "1500.00");
        assert_eq!(changed["member_id"], alpha.id);
        let actor = web::console::Actor::new(1, "gestion@troc.fr", web::people::Role::Manager);
        let history = web::console::history::limit_history(&store, &actor, alpha.id)
            .await
            .unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.reason, "Bilan 2026");
        assert_eq!(last.actor, "gestion@troc.fr");
        for (body, field) in [
            (json!({"credit_limit": "1500", "reason": ""}), "reason"),
            (json!({"credit_limit": 1500, "reason": "x"}), "credit_limit"),
            (
                json!({"credit_limit": "20000000", "reason": "x"}),
                "credit_limit",
            ),
        ] {
            let problem = api
                .put(&path, &manage, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        api.put(
            &path,
            &accountant,
            json!({"credit_limit": "1", "reason": "x"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
        api.put(
            "/api/v1/accounts/999999/credit-limit",
            &manage,
            json!({"credit_limit": "1", "reason": "x"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        // Nothing changed by the refusals.
        let account = api
            .get(&format!("/api/v1/accounts/{}", alpha.account_id), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(account["credit_limit"], "1500.00");
        let now = web::console::history::limit_history(&store, &actor, alpha.id)
            .await
            .unwrap();
        assert_eq!(now.len(), history.len());

        // Freeze: Alpha's payment is refused; unfreeze: it goes through.
        let freeze = format!("/api/v1/accounts/{}/freeze", alpha.account_id);
        let frozen = api
            .post(&freeze, &manage, json!({"reason": "Impayés"}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            (frozen["before"].as_str(), frozen["after"].as_str()),
            (Some("active"), Some("frozen"))
        );
        let before = balance(&store, &alpha).await;
        api.post(
            "/api/v1/payments",
            &alpha_pay,
            json!({"payee": beta.id, "amount": "10"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "account_frozen");
        assert_eq!(balance(&store, &alpha).await, before);
        api.post(&freeze, &manage, json!({"reason": "Encore"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "status_unchanged");
        let unfreeze = format!("/api/v1/accounts/{}/unfreeze", alpha.account_id);
        api.post(&unfreeze, &manage, json!({"reason": "Réglé"}))
            .await
            .ok(StatusCode::OK);
        api.post(
            "/api/v1/payments",
            &alpha_pay,
            json!({"payee": beta.id, "amount": "1000"}),
        )
        .await
        .ok(StatusCode::CREATED);

        // The fund and the network's accounts.
        let fund = api
            .get("/api/v1/guarantee-fund", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(fund["balance"], "10.00"); // 1 % of 1 000,00
        assert_eq!(fund["exposure"], "1010.00");
        assert_eq!(fund["coverage_ratio"], "0.0099");
        assert_eq!(fund["debtors"], 1);
        let network = api
            .get("/api/v1/network/accounts", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(network["total"], "0.00");
        let items = network["items"].as_array().unwrap();
        let sum: i64 = items
            .iter()
            .map(|a| {
                let text = a["balance"].as_str().unwrap();
                ledger::Amount::parse_signed(text).unwrap().minor()
            })
            .sum();
        assert_eq!(sum, 0);
        assert!(items.iter().any(|a| a["kind"] == "guarantee_fund"));
        assert!(items.iter().any(|a| a["id"] == gamma_account));

        // Default: the fund absorbs what it can, the losses account the rest.
        let default = format!("/api/v1/members/{}/default", alpha.id);
        api.post(&default, &accountant, json!({"reason": "Liquidation"}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(&default, &manage, json!({"reason": ""}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        api.post(
            "/api/v1/members/999999/default",
            &manage,
            json!({"reason": "x"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        let written = api
            .post_key(
                &default,
                &manage,
                "wo-1",
                json!({"reason": "Liquidation judiciaire"}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(written["loss"], "1010.00");
        assert_eq!(written["from_fund"], "10.00");
        assert_eq!(written["from_losses"], "1000.00");
        let again = api
            .post_key(
                &default,
                &manage,
                "wo-1",
                json!({"reason": "Liquidation judiciaire"}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(again, written);
        let account = api
            .get(&format!("/api/v1/accounts/{}", alpha.account_id), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            (account["status"].as_str(), account["balance"].as_str()),
            (Some("closed"), Some("0.00"))
        );
        let fund = api
            .get("/api/v1/guarantee-fund", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(fund["balance"], "0.00");
        assert_eq!(fund["losses"], "1000.00");

        // A recovery from the liquidator goes back to the fund; only for a written-off member.
        let recovery = format!("/api/v1/members/{}/recovery", alpha.id);
        let body = json!({"amount": "250", "memo": "Dividende du liquidateur"});
        api.post(&recovery, &accountant, body.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        for (bad, field) in [
            (json!({"amount": "0", "memo": "x"}), "amount"),
            (json!({"amount": "-5", "memo": "x"}), "amount"),
            (json!({"amount": "5", "memo": ""}), "memo"),
            (json!({"amount": "5", "memo": "m".repeat(281)}), "memo"),
        ] {
            let problem = api
                .post(&recovery, &manage, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        api.post(
            &format!("/api/v1/members/{}/recovery", beta.id),
            &manage,
            body.clone(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "not_written_off");
        let recovered = api
            .post_key(&recovery, &manage, "rec-1", body.clone())
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(recovered["fund_balance"], "250.00");
        let again = api
            .post_key(&recovery, &manage, "rec-1", body)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again, recovered);
        api.post(
            &recovery,
            &manage,
            json!({"amount": "1", "memo": "m".repeat(280)}),
        )
        .await
        .ok(StatusCode::CREATED);
        let fund = api
            .get("/api/v1/guarantee-fund", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(fund["balance"], "251.00");
        store.close().await;
    }
});

story!(
    limit_history_action_log_and_closing_through_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let limits = format!("/api/v1/accounts/{}/credit-limit", alpha.account_id);
            for (limit, reason) in [("1500", "Bilan 2026"), ("1200", "Retards")] {
                api.put(
                    &limits,
                    &manage,
                    json!({"credit_limit": limit, "reason": reason}),
                )
                .await
                .ok(StatusCode::OK);
            }

            // The limit history, oldest first, to the manager and the accountant.
            let history = format!("/api/v1/accounts/{}/limit-history", alpha.account_id);
            for caller in [&manage, &accountant] {
                let items = api.get(&history, caller).await.ok(StatusCode::OK)["items"].clone();
                let items = items.as_array().unwrap();
                let last = &items[items.len() - 1];
                let before_last = &items[items.len() - 2];
                assert_eq!(before_last["credit_limit_after"], "1500.00");
                assert_eq!(before_last["reason"], "Bilan 2026");
                assert_eq!(last["credit_limit_before"], "1500.00");
                assert_eq!(last["credit_limit_after"], "1200.00");
                assert_eq!(last["reason"], "Retards");
                assert_eq!(last["actor"], "gestion@troc.fr");
                assert_eq!(last["below_current_debt"], false);
            }
            // The member's own users read the same record, with any scope; nobody else's.
            let network_view = api.get(&history, &manage).await.ok(StatusCode::OK);
            let staff_read = token(&store, "staff@alpha.fr", Scope::Read).await;
            for caller in [&alpha_pay, &staff_read] {
                let own = api.get(&history, caller).await.ok(StatusCode::OK);
                assert_eq!(own, network_view);
            }
            let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
            api.get(&history, &beta_read)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.get(
                &format!("/api/v1/accounts/{}/limit-history", beta.account_id),
                &alpha_pay,
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            let manager_read = token(&store, "gestion@troc.fr", Scope::Read).await;
            api.get(&history, &manager_read)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.get("/api/v1/accounts/999999/limit-history", &manage)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Closing: refused while Beta has a balance, done once it is zero.
            api.post(
                "/api/v1/payments",
                &alpha_pay,
                json!({"payee": beta.id, "amount": "10"}),
            )
            .await
            .ok(StatusCode::CREATED);
            let close = format!("/api/v1/accounts/{}/close", beta.account_id);
            api.post(&close, &manage, json!({"reason": "Départ"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "non_zero_balance");
            api.post(&close, &accountant, json!({"reason": "Départ"}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
            let closed = api
                .post(
                    &format!("/api/v1/accounts/{}/close", gamma.account_id),
                    &manage,
                    json!({"reason": "Départ"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(closed["before"], "active");
            assert_eq!(closed["after"], "closed");
            assert_eq!(closed["member_id"], gamma.id);
            api.post(
                "/api/v1/payments",
                &alpha_pay,
                json!({"payee": gamma.id, "amount": "1"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "account_closed");
            api.post(
                &format!("/api/v1/accounts/{}/close", gamma.account_id),
                &manage,
                json!({"reason": "Encore"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "status_unchanged");
            assert_eq!(balance(&store, &gamma).await, 0);

            // The action log holds all of it, newest first, in keyset pages.
            let log = api
                .get("/api/v1/action-log?limit=200", &accountant)
                .await
                .ok(StatusCode::OK);
            let items = log["items"].as_array().unwrap();
            assert_eq!(items[0]["member_id"], gamma.id);
            assert_eq!(items[0]["reason"], "Départ");
            assert_eq!(items[0]["actor"], "gestion@troc.fr");
            assert_eq!(items[0]["before"]["account"]["status"], "active");
            assert_eq!(items[0]["after"]["account"]["status"], "closed");
            let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
            let alphas = api
                .get(&format!("/api/v1/action-log?member={}", alpha.id), &manage)
                .await
                .ok(StatusCode::OK);
            let reasons = texts(&alphas["items"], "reason");
            assert_eq!(reasons[..2], ["Retards", "Bilan 2026"]);
            let action = items[0]["action"].as_str().unwrap().to_owned();
            let same = api
                .get(&format!("/api/v1/action-log?action={action}"), &manage)
                .await
                .ok(StatusCode::OK);
            assert!(same["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["action"] == action.as_str()));
            let first = api
                .get("/api/v1/action-log?limit=1", &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(first["items"][0]["id"], ids[0]);
            let next = first["next"].as_str().unwrap().to_owned();
            let second = api
                .get(&format!("/api/v1/action-log?limit=1&after={next}"), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(second["items"][0]["id"], ids[1]);
            for (bad, field) in [
                ("limit=201", "limit"),
                ("after=x", "after"),
                ("member=0", "member"),
                (&*format!("action={}", "a".repeat(65)), "action"),
            ] {
                let problem = api
                    .get(&format!("/api/v1/action-log?{bad}"), &manage)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{bad}");
            }
            api.get(
                &format!("/api/v1/action-log?action={}", "a".repeat(64)),
                &manage,
            )
            .await
            .ok(StatusCode::OK);
            api.get("/api/v1/action-log", &alpha_pay)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            store.close().await;
        }
    }
);

/// An application to join, as the public form would record it.
async fn application(store: &web::store::Store, n: u32, email: &str) -> i64 {
    web::console::applications::apply(
        store,
        &web::console::applications::ApplicationForm {
            name: format!("Candidat {n}"),
            siren: crate::web_front::siren(n),
            email: email.into(),
            contact: "Zoé".into(),
            address: "2 rue de la Demande".into(),
            city: "Lyon".into(),
            postcode: "69002".into(),
            sector: "informatique".into(),
            description: String::new(),
            declared_turnover: Some(ledger::Amount::from_units(100_000)),
            message: "Nous voulons rejoindre le réseau".into(),
        },
    )
    .await
    .unwrap()
}

story!(
    applications_are_decided_through_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, _alpha, _beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let first = application(&store, 41, "zoe@candidat.fr").await;
            let second = application(&store, 42, "yves@candidat.fr").await;

            let pending = api
                .get("/api/v1/applications?status=pending", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(ids(&pending, "id"), [second, first]);
            let shown = api
                .get(&format!("/api/v1/applications/{first}"), &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(shown["name"], "Candidat 41");
            assert_eq!(shown["declared_turnover"], "100000.00");
            assert_eq!(shown["status"], "pending");
            api.get("/api/v1/applications", &owner)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.get("/api/v1/applications?status=maybe", &manage)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            api.get("/api/v1/applications/999999", &manage)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // The accountant does not decide; the manager admits the first with a limit.
            let approve = format!("/api/v1/applications/{first}/approve");
            api.post(&approve, &accountant, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(&approve, &manage, json!({"credit_limit": "1,5"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            let admitted = api
                .post(
                    &approve,
                    &manage,
                    json!({"credit_limit": "800", "reason": "Dossier complet"}),
                )
                .await
                .ok(StatusCode::CREATED);
            let account = admitted["account_id"].as_i64().unwrap();
            assert!(admitted["invitation_url"]
                .as_str()
                .unwrap()
                .starts_with("http://troc.test/invitation/"));
            let read = api
                .get(&format!("/api/v1/accounts/{account}"), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(read["credit_limit"], "800.00");
            assert_eq!(read["balance"], "0.00");
            let decided = api
                .get(&format!("/api/v1/applications/{first}"), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(decided["status"], "approved");
            assert_eq!(decided["member_id"], admitted["id"]);
            // Decided once: no second member, no refusal after.
            api.post(&approve, &manage, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            api.post(
                &format!("/api/v1/applications/{first}/refuse"),
                &manage,
                json!({"reason": "Trop tard"}),
            )
            .await
            .problem(StatusCode::CONFLICT, "already_decided");

            // The second is refused with a reason (1 to 500 characters).
            let refuse = format!("/api/v1/applications/{second}/refuse");
            for reason in [String::new(), "r".repeat(501)] {
                api.post(&refuse, &manage, json!({ "reason": reason }))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            }
            let refused = api
                .post(&refuse, &manage, json!({"reason": "r".repeat(500)}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(refused["status"], "refused");
            assert_eq!(refused["decision_reason"], "r".repeat(500));
            assert_eq!(refused["member_id"], serde_json::Value::Null);
            let pending = api
                .get("/api/v1/applications?status=pending", &manage)
                .await
                .ok(StatusCode::OK);
            assert!(ids(&pending, "id").is_empty());
            let log = api
                .get("/api/v1/action-log?limit=1", &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(log["items"][0]["action"], "application.refuse");
            store.close().await;
        }
    }
);

story!(the_network_health_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        api.post(
            "/api/v1/payments",
            &alpha_pay,
            json!({"payee": beta.id, "amount": "10"}),
        )
        .await
        .ok(StatusCode::CREATED);

        let health = api
            .get("/api/v1/network/stats?months=1", &accountant)
            .await
            .ok(StatusCode::OK);
        let members = &health["members"];
        assert_eq!(members["total"], 2);
        assert_eq!(members["active"], 2);
        assert_eq!(members["trading_30_days"], 2);
        assert_eq!(members["debtors"], 1);
        assert_eq!(members["creditors"], 1);
        let months = health["months"].as_array().unwrap();
        assert_eq!(months.len(), 1);
        assert_eq!(months[0]["trades"], 1);
        assert_eq!(months[0]["volume"], "10.00");
        assert_eq!(months[0]["traders"], 2);
        // Alpha owes 10.00 and its 1 % fund contribution; the fund holds the contribution.
        assert_eq!(months[0]["exposure"], "10.10");
        assert_eq!(months[0]["fund_balance"], "0.10");
        assert_eq!(health["greco"]["debt"], "10.10");
        let in_histogram: u64 = health["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["members"].as_u64().unwrap())
            .sum();
        assert_eq!(in_histogram, 2);
        assert_eq!(health["sectors"][0]["sector"], "informatique");

        // 24 months at most; the default is 12.
        let default = api
            .get("/api/v1/network/stats", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(default["months"].as_array().unwrap().len(), 12);
        let longest = api
            .get("/api/v1/network/stats?months=24", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(longest["months"].as_array().unwrap().len(), 24);
        for bad in ["months=25", "months=0", "months=x"] {
            let problem = api
                .get(&format!("/api/v1/network/stats?{bad}"), &manage)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "months");
        }
        api.get("/api/v1/network/stats", &alpha_pay)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        store.close().await;
    }
});

story!(the_member_register_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let alpha_owner = token(&store, "owner@alpha.fr", Scope::Read).await;
        let freeze = format!("/api/v1/accounts/{}/freeze", beta.account_id);
        api.post(&freeze, &manage, json!({"reason": "Impayés"}))
            .await
            .ok(StatusCode::OK);

        // The manager and the accountant read the register, in name order.
        for caller in [&manage, &accountant] {
            let page = api.get("/api/v1/members", caller).await.ok(StatusCode::OK);
            assert_eq!(ids(&page, "id"), [alpha.id, beta.id]);
            assert_eq!(page["total"], 2);
            assert_eq!(page["next"], serde_json::Value::Null);
        }
        let page = api.get("/api/v1/members", &manage).await.ok(StatusCode::OK);
        let first = &page["items"][0];
        assert_eq!(first["name"], "Alpha SARL");
        assert_eq!(first["category"], "standard");
        assert_eq!(first["account"]["id"], alpha.account_id);
        assert_eq!(first["account"]["credit_limit"], "1000.00");
        assert_eq!(first["account"]["status"], "active");
        assert_eq!(page["items"][1]["account"]["status"], "frozen");
        // A member's user, even with a manage token, does not.
        api.get("/api/v1/members", &alpha_owner)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.get(&format!("/api/v1/members/{}", alpha.id), &alpha_owner)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Filters: status, category, a search in name, SIREN and city.
        let frozen = api
            .get("/api/v1/members?status=frozen", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&frozen, "id"), [beta.id]);
        assert_eq!(frozen["total"], 1);
        let found = api
            .get("/api/v1/members?q=ALPHA", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&found, "id"), [alpha.id]);
        let standard = api
            .get("/api/v1/members?category=standard", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&standard, "id"), [alpha.id, beta.id]);
        for (query, field) in [
            ("status=asleep", "status"),
            ("category=nothing", "category"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("after=x", "after"),
        ] {
            let problem = api
                .get(&format!("/api/v1/members?{query}"), &manage)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{query}");
        }
        // The search at its limit (100 characters) and one past it.
        let none = api
            .get(&format!("/api/v1/members?q={}", "z".repeat(100)), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(none["total"], 0);
        let problem = api
            .get(&format!("/api/v1/members?q={}", "z".repeat(101)), &manage)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "q");

        // Keyset pages: one member a page, then the next, with the largest page allowed.
        let one = api
            .get("/api/v1/members?limit=1", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&one, "id"), [alpha.id]);
        let next = one["next"].as_str().unwrap().to_owned();
        let two = api
            .get(&format!("/api/v1/members?limit=1&after={next}"), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&two, "id"), [beta.id]);
        assert_eq!(two["next"], serde_json::Value::Null);
        let all = api
            .get("/api/v1/members?limit=200", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&all, "id"), [alpha.id, beta.id]);

        // One member: profile, account and users.
        let detail = api
            .get(&format!("/api/v1/members/{}", beta.id), &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(detail["id"], beta.id);
        assert_eq!(detail["name"], "Beta & Fils <SAS>");
        assert_eq!(detail["postcode"], "69001");
        assert_eq!(detail["contact"], "contact@beta.fr");
        assert_eq!(detail["account"]["status"], "frozen");
        assert_eq!(detail["account"]["credit_limit"], "500.00");
        let mut users: Vec<(String, String)> = detail["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["email"].as_str().unwrap().to_owned(),
                    u["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        users.sort();
        assert_eq!(
            users,
            [
                ("owner@beta.fr".to_owned(), "owner".to_owned()),
                ("staff@beta.fr".to_owned(), "staff".to_owned())
            ]
        );
        api.get("/api/v1/members/999999", &manage)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.get("/api/v1/members/abc", &manage)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        store.close().await;
    }
});

story!(
    the_manager_keeps_the_register_through_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let category = format!("/api/v1/members/{}/category", beta.id);
            let review = format!("/api/v1/members/{}/review", beta.id);
            let turnover = format!("/api/v1/members/{}/turnover", beta.id);
            let invitation = format!("/api/v1/members/{}/invitation", beta.id);

            // The accountant and the members read; only the manager acts.
            for caller in [&accountant, &alpha_read] {
                api.put(&category, caller, json!({"category": "standard"}))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
                api.put(&review, caller, json!({"next_review": "2027-03-01"}))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
                api.put(&turnover, caller, json!({"declared_turnover": "1"}))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
                api.post(&invitation, caller, json!({"email": "new@beta.fr"}))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }

            // A category that does not exist, a reason one past its limit: nothing changes.
            let problem = api
                .put(&category, &manage, json!({"category": "nothing"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "category");
            let problem = api
                .put(
                    &category,
                    &manage,
                    json!({"category": "standard", "reason": "r".repeat(501)}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "reason");
            let (manager, _) = people::find_login(&store, "gestion@troc.fr")
                .await
                .unwrap()
                .unwrap();
            let pme = CategoryInput {
                code: "pme".into(),
                name: "PME".into(),
                credit_limit: Amount::from_units(5_000),
                max_balance: None,
            };
            categories::create(&store, &Actor::from_user(&manager), &pme)
                .await
                .unwrap();
            let set = api
                .put(
                    &category,
                    &manage,
                    json!({"category": "pme", "reason": "r".repeat(500)}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(set["category"], "pme");
            // The limits stay as they were: the category's defaults are for new members.
            assert_eq!(set["account"]["credit_limit"], "500.00");
            let pmes = api
                .get("/api/v1/members?category=pme", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(ids(&pmes, "id"), [beta.id]);
            api.put(
                "/api/v1/members/999999/category",
                &manage,
                json!({"category": "standard"}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");

            // The review date, then none.
            let problem = api
                .put(&review, &manage, json!({"next_review": "2027-02-30"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "next_review");
            let set = api
                .put(
                    &review,
                    &manage,
                    json!({"next_review": "2027-03-01", "reason": "Croissance"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(set["next_review"], "2027-03-01");
            let read = api
                .get(&format!("/api/v1/members/{}", beta.id), &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(read["next_review"], "2027-03-01");
            let cleared = api
                .put(&review, &manage, json!({"next_review": null}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(cleared["next_review"], serde_json::Value::Null);

            // The declared turnover: at its limit, one cent past it, negative, cleared.
            let set = api
                .put(
                    &turnover,
                    &manage,
                    json!({"declared_turnover": "10000000000.00"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(set["declared_turnover"], "10000000000.00");
            for bad in ["10000000000.01", "-1", "abc"] {
                let problem = api
                    .put(&turnover, &manage, json!({"declared_turnover": bad}))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "declared_turnover", "{bad}");
            }
            let set = api
                .put(
                    &turnover,
                    &manage,
                    json!({"declared_turnover": "250000.50"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(set["declared_turnover"], "250000.50");
            let cleared = api
                .put(&turnover, &manage, json!({"declared_turnover": null}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(cleared["declared_turnover"], serde_json::Value::Null);

            // A new owner invitation; an email already in use is refused.
            let problem = api
                .post(&invitation, &manage, json!({"email": "owner@alpha.fr"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "email");
            let created = api
                .post(&invitation, &manage, json!({"email": "New@Beta.fr"}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(created["email"], "new@beta.fr");
            assert!(created["invitation_url"]
                .as_str()
                .unwrap()
                .starts_with("http://troc.test/invitation/"));
            // A lost link: the same address again gets a new one.
            let again = api
                .post(&invitation, &manage, json!({"email": "new@beta.fr"}))
                .await
                .ok(StatusCode::CREATED);
            assert_ne!(again["invitation_url"], created["invitation_url"]);
            api.post(
                "/api/v1/members/999999/invitation",
                &manage,
                json!({"email": "x@y.fr"}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");

            // Every change is on the record, with its actor.
            let log = api
                .get(
                    &format!("/api/v1/action-log?member={}", beta.id),
                    &accountant,
                )
                .await
                .ok(StatusCode::OK);
            let actions = texts(&log["items"], "action");
            for action in [
                "member.category",
                "member.review",
                "member.turnover",
                "member.invite",
            ] {
                assert!(actions.contains(&action), "{action} in {actions:?}");
            }
            assert!(!actions.is_empty());
            assert_eq!(
                api.get(&format!("/api/v1/members/{}", alpha.id), &manage)
                    .await
                    .ok(StatusCode::OK)["next_review"],
                serde_json::Value::Null
            );
            store.close().await;
        }
    }
);

story!(member_categories_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let codes = |page: &serde_json::Value| -> Vec<String> {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_owned())
                .collect()
        };
        let before = api
            .get("/api/v1/categories", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(codes(&before), ["standard"]);
        assert_eq!(before["items"][0]["members"], 2);
        api.get("/api/v1/categories", &alpha_read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        let pme = json!({"code": "pme", "name": "PME", "credit_limit": "5000", "max_balance": "20000.00"});
        api.post("/api/v1/categories", &accountant, pme.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        // Bad input: every field at once, nothing created. The code at 32 characters and
        // 33, the name at 100 and 101.
        let problem = api
            .post(
                "/api/v1/categories",
                &manage,
                json!({"code": "c".repeat(33), "name": "n".repeat(101), "credit_limit": "5"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let fields = texts(&problem["errors"], "field");
        assert!(
            fields.contains(&"code") && fields.contains(&"name"),
            "{fields:?}"
        );
        for (body, field) in [
            (
                json!({"code": "Big Code", "name": "X", "credit_limit": "1"}),
                "code",
            ),
            (
                json!({"code": "x", "name": "X", "credit_limit": "-1"}),
                "credit_limit",
            ),
            (
                json!({"code": "x", "name": "X", "credit_limit": "1.234"}),
                "credit_limit",
            ),
        ] {
            let problem = api
                .post("/api/v1/categories", &manage, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        let longest = api
            .post(
                "/api/v1/categories",
                &manage,
                json!({"code": "c".repeat(32), "name": "n".repeat(100), "credit_limit": "0"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(longest["members"], 0);
        let created = api
            .post("/api/v1/categories", &manage, pme.clone())
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["code"], "pme");
        assert_eq!(created["credit_limit"], "5000.00");
        assert_eq!(created["max_balance"], "20000.00");
        // The same code again is taken.
        let problem = api
            .post("/api/v1/categories", &manage, pme)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], "code_taken");

        // A new member in it gets its defaults.
        let member = api
            .post(
                "/api/v1/members",
                &manage,
                json!({"name": "Delta SA", "siren": crate::web_front::siren(4),
                       "email": "owner@delta.fr", "category": "pme"}),
            )
            .await
            .ok(StatusCode::CREATED);
        let account = api
            .get(
                &format!("/api/v1/accounts/{}", member["account_id"]),
                &manage,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(account["credit_limit"], "5000.00");

        // Changed: new defaults, the member keeps its limit.
        let changed = api
            .put(
                "/api/v1/categories/pme",
                &manage,
                json!({"name": "Petites et moyennes", "credit_limit": "7500.50"}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(changed["name"], "Petites et moyennes");
        assert_eq!(changed["credit_limit"], "7500.50");
        assert_eq!(changed["max_balance"], serde_json::Value::Null);
        assert_eq!(changed["members"], 1);
        let account = api
            .get(
                &format!("/api/v1/accounts/{}", member["account_id"]),
                &manage,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(account["credit_limit"], "5000.00");
        api.put(
            "/api/v1/categories/nothing",
            &manage,
            json!({"name": "X", "credit_limit": "1"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        api.put(
            "/api/v1/categories/pme",
            &accountant,
            json!({"name": "X", "credit_limit": "1"}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
        let problem = api
            .put(
                "/api/v1/categories/pme",
                &manage,
                json!({"name": " ", "credit_limit": "1"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "name");
        let after = api
            .get("/api/v1/categories", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(after["items"].as_array().unwrap().len(), 3);
        assert_eq!(logged(&api, &accountant, "category.update").await, 1);
        store.close().await;
    }
});

story!(the_review_lists_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        // Beta (limit 500) buys 450: with the fund's 1 %, it uses 454.50, 90 % of its limit.
        api.post(
            "/api/v1/payments",
            &beta_pay,
            json!({"payee": alpha.id, "amount": "450"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let today = chrono::Utc::now().date_naive().to_string();
        api.put(
            &format!("/api/v1/members/{}/review", alpha.id),
            &manage,
            json!({"next_review": today}),
        )
        .await
        .ok(StatusCode::OK);

        let lists = api
            .get("/api/v1/reviews", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(lists["settings"]["near_limit_pct"], 80);
        let near = lists["near_limit"].as_array().unwrap();
        assert_eq!(near.len(), 1);
        assert_eq!(near[0]["member_id"], beta.id);
        assert_eq!(near[0]["used"], "454.50");
        assert_eq!(near[0]["used_pct"], 90);
        assert_eq!(near[0]["credit_limit"], "500.00");
        let due = lists["reviews_due"].as_array().unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0]["member_id"], alpha.id);
        assert_eq!(due[0]["next_review"], today.as_str());
        assert_eq!(lists["negative_too_long"], json!([]));
        assert_eq!(lists["near_max"], json!([]), "no upper limit anywhere");
        // Alpha holds 441 (450 less the 2 % commission): exactly 80 % of an upper limit of
        // 551.25, a little under 80 % of 551.26.
        for (max, listed) in [("551.25", true), ("551.26", false)] {
            api.put(
                &format!("/api/v1/accounts/{}/credit-limit", alpha.account_id),
                &manage,
                json!({"credit_limit": "1000.00", "max_balance": max, "reason": "Plafond"}),
            )
            .await
            .ok(StatusCode::OK);
            let lists = api
                .get("/api/v1/reviews", &accountant)
                .await
                .ok(StatusCode::OK);
            let near_max = lists["near_max"].as_array().unwrap();
            assert_eq!(near_max.len(), usize::from(listed), "{max}: {lists}");
            if listed {
                assert_eq!(near_max[0]["member_id"], alpha.id);
                assert_eq!(near_max[0]["balance"], "441.00");
                assert_eq!(near_max[0]["max_balance"], max);
                assert_eq!(near_max[0]["used_pct"], 80);
            }
        }
        api.put(
            &format!("/api/v1/accounts/{}/credit-limit", alpha.account_id),
            &manage,
            json!({"credit_limit": "1000.00", "max_balance": "500.00", "reason": "Plafond"}),
        )
        .await
        .ok(StatusCode::OK);
        api.get("/api/v1/reviews", &alpha_read)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // The settings: the manager only, each value within its range (at the edge and one
        // past it), nothing changed by a refusal.
        let settings = |near: i64| {
            json!({"near_limit_pct": near, "negative_days": 365, "growth_months": 3,
                   "turnover_share_bp": 500, "sales_months": 12, "sales_share_bp": 10000})
        };
        api.put("/api/v1/reviews/settings", &accountant, settings(95))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        for bad in [0, 101] {
            let problem = api
                .put("/api/v1/reviews/settings", &manage, settings(bad))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["errors"][0]["code"], "out_of_range");
            assert_eq!(problem["errors"][0]["field"], "near_limit_pct");
            assert_eq!(problem["errors"].as_array().unwrap().len(), 1);
        }
        let mut past = settings(80);
        past["sales_share_bp"] = json!(100_001);
        past["negative_days"] = json!(0);
        let problem = api
            .put("/api/v1/reviews/settings", &manage, past)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        // Every bad value at once, each on its own field.
        let fields = texts(&problem["errors"], "field");
        assert_eq!(fields, ["negative_days", "sales_share_bp"]);
        let set = api
            .put("/api/v1/reviews/settings", &manage, settings(100))
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["near_limit_pct"], 100);
        let set = api
            .put("/api/v1/reviews/settings", &manage, settings(95))
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["near_limit_pct"], 95);
        // At 95 %, Beta's 90 % is no longer near its limit, nor Alpha's 88 % of its upper
        // limit of 500 near that.
        let lists = api.get("/api/v1/reviews", &manage).await.ok(StatusCode::OK);
        assert_eq!(lists["near_limit"], json!([]));
        assert_eq!(lists["near_max"], json!([]));
        assert_eq!(lists["settings"]["near_limit_pct"], 95);
        assert_eq!(logged(&api, &accountant, "settings.change").await, 2);
        store.close().await;
    }
});

story!(
    fund_stress_write_offs_and_brokering,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let until = day_in(30);
            let listing = |title: &str| {
                json!({"title": title, "category": "informatique", "price": "100", "city": "Lyon",
                   "active_until": until})
            };
            let want = api
                .post("/api/v1/wants", &alpha_pay, listing("Cherche un site"))
                .await
                .ok(StatusCode::CREATED)["id"]
                .clone();
            let offer = api
                .post("/api/v1/offers", &beta_pay, listing("Sites web"))
                .await
                .ok(StatusCode::CREATED)["id"]
                .clone();
            // Beta buys 300 from Alpha: Beta owes 303 (the fund's 1 %), the fund holds 3.
            api.post(
                "/api/v1/payments",
                &beta_pay,
                json!({"payee": alpha.id, "amount": "300"}),
            )
            .await
            .ok(StatusCode::CREATED);

            // Brokering: Alpha could buy Beta's offer, Beta could fill Alpha's want.
            let lists = api
                .get("/api/v1/brokering", &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(lists["creditors"][0]["member_id"], alpha.id);
            // 300 less the seller's commission (2 %).
            assert_eq!(lists["creditors"][0]["balance"], "294.00");
            let to_buy = &lists["creditors"][0]["matches"][0];
            assert_eq!(to_buy["listing"]["id"], offer);
            assert_eq!(to_buy["counterparty_id"], beta.id);
            assert_eq!(to_buy["same_city"], true);
            assert_eq!(lists["debtors"][0]["member_id"], beta.id);
            assert_eq!(lists["debtors"][0]["matches"][0]["listing"]["id"], want);
            // Brokering is the manager's.
            for caller in [&accountant, &alpha_pay] {
                api.get("/api/v1/brokering", caller)
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }

            // The stress test: the default k, k at 1 and at 1 000, past both ends.
            let stress = api
                .get("/api/v1/guarantee-fund/stress", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(stress["k"], 1, "one debtor only");
            assert_eq!(stress["debt"], "303.00");
            assert_eq!(stress["absorbed_by_fund"], "3.00");
            assert_eq!(stress["uncovered"], "300.00");
            assert_eq!(stress["share_of_fund"], "101.0000");
            assert_eq!(stress["debtors"][0]["member_id"], beta.id);
            assert_eq!(stress["debtors"][0]["debt"], "303.00");
            for k in [1, 1_000] {
                api.get(&format!("/api/v1/guarantee-fund/stress?k={k}"), &manage)
                    .await
                    .ok(StatusCode::OK);
            }
            for k in ["0", "1001", "x"] {
                let problem = api
                    .get(&format!("/api/v1/guarantee-fund/stress?k={k}"), &manage)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "k");
            }
            api.get("/api/v1/guarantee-fund/stress", &alpha_pay)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // Written off: listed with what the fund and the losses took, then a recovery.
            let none = api
                .get("/api/v1/guarantee-fund/written-off", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(none["items"], json!([]));
            let written = api
                .post(
                    &format!("/api/v1/members/{}/default", beta.id),
                    &manage,
                    json!({"reason": "Liquidation"}),
                )
                .await
                .ok(StatusCode::OK);
            api.post(
                &format!("/api/v1/members/{}/recovery", beta.id),
                &manage,
                json!({"amount": "50", "memo": "Mandataire, acompte"}),
            )
            .await
            .ok(StatusCode::CREATED);
            let listed = api
                .get("/api/v1/guarantee-fund/written-off", &accountant)
                .await
                .ok(StatusCode::OK);
            let items = listed["items"].as_array().unwrap();
            assert_eq!(items.len(), 1);
            assert_eq!(items[0]["member_id"], beta.id);
            assert_eq!(items[0]["transaction_id"], written["transaction_id"]);
            assert_eq!(items[0]["loss"], "303.00");
            assert_eq!(items[0]["from_fund"], "3.00");
            assert_eq!(items[0]["from_losses"], "300.00");
            assert_eq!(items[0]["recovered"], "50.00");
            api.get("/api/v1/guarantee-fund/written-off", &beta_pay)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            store.close().await;
        }
    }
);

story!(
    members_imported_from_a_file_through_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, _alpha, _beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let import = |token: &str, csv: String| {
                let token = token.to_owned();
                let api = &api;
                async move {
                    api.send(
                        axum::http::Method::POST,
                        "/api/v1/members/import",
                        Some(&token),
                        &[],
                        Some(csv),
                    )
                    .await
                }
            };
            let siren = crate::web_front::siren;
            let good = format!(
            "name;siren;email;credit_limit\nGamma SAS;{};owner@gamma.fr;750\nDelta SA;{};owner@delta.fr;\n",
            siren(3),
            siren(4)
        );
            import(&accountant, good.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // Line 3's SIREN is taken by line 2, line 4's email is not one: nothing is created,
            // and every problem comes with its line.
            let bad = format!(
            "name,siren,email\nGamma SAS,{s},owner@gamma.fr\nGamma bis,{s},x@gamma.fr\nDelta SA,{},pas-un-email\n",
            siren(4),
            s = siren(3)
        );
            let problem = import(&manage, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file");
            let lines: Vec<(u64, &str)> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
                .collect();
            assert!(lines.contains(&(3, "siren")), "{lines:?}");
            assert!(lines.contains(&(4, "email")), "{lines:?}");
            let register = api.get("/api/v1/members", &manage).await.ok(StatusCode::OK);
            assert_eq!(register["total"], 2);

            // More lines than allowed, a file larger than allowed: the file as a whole.
            let mut long = String::from("name,siren,email\n");
            for n in 0..=web::console::import::IMPORT_LINES_MAX as u32 {
                long.push_str(&format!("M{n},{},m{n}@x.fr\n", siren(100 + n)));
            }
            let problem = import(&manage, long)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file");
            assert_eq!(problem["errors"][0]["code"], "too_many_lines");
            assert_eq!(problem["errors"][0]["field"], "file");
            let mut large = String::from("name,siren,email\n");
            while large.len() <= web::console::import::IMPORT_FILE_LEN_MAX {
                large.push('\n');
            }
            let problem = import(&manage, large)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file");
            assert_eq!(problem["errors"][0]["code"], "file_too_large");

            // A clean file: every member, in file order, with the limits given or the category's.
            let created = import(&manage, good).await.ok(StatusCode::CREATED);
            let items = created["items"].as_array().unwrap();
            assert_eq!(items.len(), 2);
            for item in items {
                assert!(item["invitation_url"]
                    .as_str()
                    .unwrap()
                    .starts_with("http://troc.test/invitation/"));
            }
            let gamma = api
                .get(&format!("/api/v1/members/{}", items[0]["id"]), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(gamma["name"], "Gamma SAS");
            assert_eq!(gamma["account"]["credit_limit"], "750.00");
            let register = api.get("/api/v1/members", &manage).await.ok(StatusCode::OK);
            assert_eq!(register["total"], 4);
            assert_eq!(logged(&api, &accountant, "members.import").await, 1);
            store.close().await;
        }
    }
);

story!(
    an_interrupted_member_creation_is_listed_and_finished_through_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, _alpha, _beta) = setup(&url).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let (manager, _) = people::find_login(&store, "gestion@troc.fr")
                .await
                .unwrap()
                .unwrap();
            let actor = Actor::new(manager.id, "gestion@troc.fr", people::Role::Manager);
            let none = api
                .get("/api/v1/members/import/unfinished", &accountant)
                .await
                .ok(StatusCode::OK);
            assert_eq!(none["items"], json!([]));
            let new = web::console::NewMember {
                name: "Zeta SARL".to_owned(),
                siren: crate::web_front::siren(6),
                email: "owner@zeta.fr".to_owned(),
                ..Default::default()
            };
            let batch = web::console::write_interrupted_for_tests(&store, &actor, new)
                .await
                .unwrap();

            // Listed for the accountant too, with its source, author and size.
            let listed = api
                .get("/api/v1/members/import/unfinished", &accountant)
                .await
                .ok(StatusCode::OK);
            let items = listed["items"].as_array().unwrap();
            assert_eq!(items.len(), 1);
            assert_eq!(items[0]["id"], batch);
            assert_eq!(items[0]["source"], "form");
            assert_eq!(items[0]["actor"], "gestion@troc.fr");
            assert_eq!(items[0]["lines"], 1);
            assert!(items[0]["created_at"].as_str().unwrap().ends_with('Z'));

            // Only a manager finishes it; an unknown or malformed id is not found.
            let finish = format!("/api/v1/members/import/{batch}/finish");
            api.post(&finish, &accountant, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            for path in [
                format!("/api/v1/members/import/{}/finish", batch + 1000),
                "/api/v1/members/import/zero/finish".to_owned(),
            ] {
                api.post(&path, &manage, json!({}))
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            let finished = api
                .post_key(&finish, &manage, "finish-1", json!({}))
                .await
                .ok(StatusCode::CREATED);
            let account = finished["items"][0]["account_id"].as_i64().unwrap();
            assert!(finished["items"][0]["invitation_url"]
                .as_str()
                .unwrap()
                .contains("/invitation/"));
            let member = api
                .get(
                    &format!("/api/v1/members/{}", finished["items"][0]["id"]),
                    &manage,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(member["name"], "Zeta SARL");
            let shown = api
                .get(&format!("/api/v1/accounts/{account}"), &manage)
                .await
                .ok(StatusCode::OK);
            assert_ne!(
                shown["credit_limit"], "0.00",
                "the creation's credit is granted"
            );
            // The same request again is the same answer; a second finish is a conflict.
            let again = api
                .post_key(&finish, &manage, "finish-1", json!({}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(again, finished);
            api.post(&finish, &manage, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "batch_not_unfinished");
            let none = api
                .get("/api/v1/members/import/unfinished", &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(none["items"], json!([]));
            store.close().await;
        }
    }
);

story!(the_two_step_rule_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use web::totp::TwoStepRule;
        let (store, api, alpha, _beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let manager_read = token(&store, "gestion@troc.fr", Scope::Read).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        const PATH: &str = "/api/v1/network/two-step";

        // The caller's own state in /me.
        let me = api.get("/api/v1/me", &alpha_pay).await.ok(StatusCode::OK);
        assert_eq!(me["two_step"], false);
        assert_eq!(me["two_step_required"], false);

        // Nobody by default; the network's staff read it, a member does not.
        let rule = api.get(PATH, &accountant).await.ok(StatusCode::OK);
        assert_eq!(rule["rule"], "nobody");
        assert_eq!(rule["users_without_count"], 0);
        assert_eq!(rule["users_without"], json!([]));
        api.get(PATH, &alpha_pay)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Only a manager's manage token changes it.
        let change = |rule: &str, reason: &str| json!({"rule": rule, "reason": reason});
        for token in [&accountant, &manager_read, &alpha_pay] {
            api.put(PATH, token, change("everyone", "Sécurité"))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        // Each bad field named, nothing changed: a word not in the list, the rule in force,
        // no reason, a reason one past its limit.
        let long = "r".repeat(web::console::REASON_LEN_MAX + 1);
        for (body, field, code) in [
            (change("admins", "Sécurité"), "rule", "invalid_choice"),
            (change("nobody", "Sécurité"), "rule", "same_as_current"),
            (change("everyone", ""), "reason", "required"),
            (change("everyone", &long), "reason", "too_long"),
        ] {
            let problem = api
                .put(PATH, &manage, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            assert_eq!(problem["errors"][0]["code"], code, "{problem}");
            assert_eq!(web::totp::rule(&store).await.unwrap(), TwoStepRule::Nobody);
        }
        api.put(PATH, &manage, json!({"rule": "everyone"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(logged(&api, &accountant, "settings.two_step").await, 0);

        // Everyone, with a reason at its limit: every user is waited for, members' with
        // their company.
        let at_limit = "r".repeat(web::console::REASON_LEN_MAX);
        let set = api
            .put(PATH, &manage, change("everyone", &at_limit))
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["rule"], "everyone");
        let emails = texts(&set["users_without"], "email");
        assert_eq!(
            emails,
            [
                "compta@troc.fr",
                "gestion@troc.fr",
                "owner@alpha.fr",
                "owner@beta.fr",
                "staff@alpha.fr",
                "staff@beta.fr",
            ]
        );
        assert_eq!(set["users_without_count"], 6);
        let owner = &set["users_without"][2];
        assert_eq!(owner["member_id"], alpha.id);
        assert_eq!(owner["role"], "owner");
        assert!(set["users_without"][0]["member_id"].is_null());
        assert_eq!(logged(&api, &accountant, "settings.two_step").await, 1);
        // Tokens are their own secrets: the API still answers the user, and says it.
        let me = api.get("/api/v1/me", &alpha_pay).await.ok(StatusCode::OK);
        assert_eq!(me["two_step"], false);
        assert_eq!(me["two_step_required"], true);

        // The network's staff: a user who turned it on is no longer waited for.
        let set = api
            .put(PATH, &manage, change("network_staff", "Membres libres"))
            .await
            .ok(StatusCode::OK);
        assert_eq!(
            texts(&set["users_without"], "email"),
            ["compta@troc.fr", "gestion@troc.fr"]
        );
        let (user, _) = people::find_login(&store, "compta@troc.fr")
            .await
            .unwrap()
            .unwrap();
        let now = people::now_unix();
        let secret = web::totp::start(&store, user.id).await.unwrap();
        let code = web::totp::code_at(&secret, now);
        assert!(web::totp::confirm(&store, user.id, &code, now)
            .await
            .unwrap()
            .is_some());
        let rule = api.get(PATH, &manage).await.ok(StatusCode::OK);
        assert_eq!(rule["users_without_count"], 1);
        assert_eq!(texts(&rule["users_without"], "email"), ["gestion@troc.fr"]);
        let me = api.get("/api/v1/me", &accountant).await.ok(StatusCode::OK);
        assert_eq!(me["two_step"], true);
        assert_eq!(me["two_step_required"], true);
        let me = api.get("/api/v1/me", &alpha_pay).await.ok(StatusCode::OK);
        assert_eq!(me["two_step_required"], false);
        assert_eq!(logged(&api, &accountant, "settings.two_step").await, 2);
        store.close().await;
    }
});
