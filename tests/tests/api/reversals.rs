//! A manager reverses a transaction, over the API and in the console: once, with a reason
//! both members read, on the action log; accountants and members read but cannot; every
//! refusal changes nothing.

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::tokens::Scope;

use super::{ledger_state, pays, setup, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::{hidden_value, Client};
use crate::web_front::member;

story!(
    managers_reverse_transactions_over_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            // A third member, whom the payment does not touch.
            member(&store, 3, "Gamma", "gamma", 100).await;
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
            let gamma_read = token(&store, "owner@gamma.fr", Scope::Read).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let zero = ledger_state(&store, &alpha, &beta).await;
            let tx = pays(&api, &alpha_pay, &beta, "100.00").await;
            let paid = ledger_state(&store, &alpha, &beta).await;
            let path = format!("/api/v1/transactions/{tx}");

            // Read by both parties and the network's staff; anyone else gets 404.
            for reader in [&alpha_pay, &beta_read, &manage, &accountant] {
                let item = api.get(&path, reader).await.ok(StatusCode::OK);
                assert_eq!(item["id"], tx);
                assert_eq!(item["kind"], "payment");
                assert!(item["reversed_by"].is_null());
                let postings = item["postings"].as_array().unwrap();
                let sum: i64 = postings
                    .iter()
                    .map(|p| {
                        let text = p["amount"].as_str().unwrap().replace('.', "");
                        text.parse::<i64>().unwrap()
                    })
                    .sum();
                assert_eq!(sum, 0, "{item}");
            }
            api.get(&path, &gamma_read)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.get("/api/v1/transactions/999999", &manage)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Reversed only by a manager, with a reason of 1 to 280 characters.
            let reverse = format!("{path}/reverse");
            api.post(&reverse, &alpha_pay, json!({"reason": "x"}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(&reverse, &accountant, json!({"reason": "x"}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            for bad in [String::new(), "  ".into(), "r".repeat(281)] {
                let problem = api
                    .post(&reverse, &manage, json!({"reason": bad}))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
            }
            api.post(
                "/api/v1/transactions/999999/reverse",
                &manage,
                json!({"reason": "x"}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

            let reason = "r".repeat(280);
            let reversal = api
                .post(&reverse, &manage, json!({"reason": reason}))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(reversal["kind"], "reversal");
            assert_eq!(reversal["reverses"], tx);
            assert_eq!(reversal["memo"], reason.as_str());
            let back = ledger_state(&store, &alpha, &beta).await;
            assert_eq!(back, (zero.0, zero.1, paid.2 + 1));
            let item = api.get(&path, &beta_read).await.ok(StatusCode::OK);
            assert_eq!(item["reversed_by"], reversal["id"]);

            // On the record, against the member the payment credited.
            let log = api
                .get("/api/v1/action-log?action=transaction.reverse", &accountant)
                .await
                .ok(StatusCode::OK);
            let entry = &log["items"][0];
            assert_eq!(entry["actor"], "gestion@troc.fr");
            assert_eq!(entry["member_id"], beta.id);
            assert_eq!(entry["account_id"], beta.account_id);
            assert_eq!(entry["reason"], reason.as_str());
            assert_eq!(log["items"].as_array().unwrap().len(), 1);

            // Once; never a reversal itself; nothing changes.
            api.post(&reverse, &manage, json!({"reason": "encore"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "already_reversed");
            let again = format!("/api/v1/transactions/{}/reverse", reversal["id"]);
            api.post(&again, &manage, json!({"reason": "encore"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "not_reversible");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, back);
            store.verify_ledger().await.unwrap().unwrap();
            store.close().await;
        }
    }
);

story!(
    managers_reverse_transactions_in_the_console,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state_, alpha, beta) = two_members(&url).await;
            staff(&store).await;
            let api = Api::new(state_.clone());
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let tx = pays(&api, &alpha_pay, &beta, "40.00").await;
            let paid = ledger_state(&store, &alpha, &beta).await;
            let path = format!("/admin/transactions/{tx}");

            let mut manager = Client::new(state_.clone());
            manager.login("gestion@troc.fr", PASSWORD).await;
            manager
                .get("/admin")
                .await
                .assert_contains("action=\"/admin/transactions\"");
            let found = manager.get(&format!("/admin/transactions?id={tx}")).await;
            assert_eq!(found.status, StatusCode::SEE_OTHER);
            assert_eq!(found.location.as_deref(), Some(path.as_str()));
            for bad in [
                "/admin/transactions?id=abc",
                "/admin/transactions?id=0",
                "/admin/transactions/999999",
            ] {
                assert_eq!(
                    manager.get(bad).await.status,
                    StatusCode::NOT_FOUND,
                    "{bad}"
                );
            }
            // The member page lists its latest transactions, each linked to its page.
            let member_page = manager.get(&format!("/admin/members/{}", beta.id)).await;
            member_page.assert_contains(&format!("<a href=\"{path}\">"));
            let page = manager.get(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Opération n° ");
            page.assert_contains(&format!(
                "<a href=\"/admin/members/{}\">Beta &#38; Fils &#60;SAS&#62;</a>",
                beta.id
            ));
            page.assert_contains(&format!("/admin/transactions/{tx}/reverse"));

            // Accountants read without the form and cannot post; members get 403.
            let mut accountant = Client::new(state_.clone());
            accountant.login("compta@troc.fr", PASSWORD).await;
            let page = accountant.get(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("/reverse\""));
            let refused = accountant
                .post(
                    &format!("{path}/reverse"),
                    &[("reason", "x"), ("token", "t1")],
                )
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            let mut owner = Client::new(state_.clone());
            owner.login("owner@beta.fr", PASSWORD).await;
            assert_eq!(owner.get(&path).await.status, StatusCode::FORBIDDEN);
            assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

            // A missing reason redraws the page in the manager's language, nothing reversed.
            let page = manager.get(&path).await;
            let form_token = hidden_value(&page.body, "token").unwrap();
            let refused = manager
                .post(
                    &format!("{path}/reverse"),
                    &[("reason", " "), ("token", &form_token)],
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            refused.assert_contains("role=\"alert\"");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

            // Reversed, once, even if the form is sent twice.
            let reason = "Erreur de bénéficiaire <b>";
            for _ in 0..2 {
                let done = manager
                    .post(
                        &format!("{path}/reverse"),
                        &[("reason", reason), ("token", &form_token)],
                    )
                    .await;
                assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            }
            let back = ledger_state(&store, &alpha, &beta).await;
            assert_eq!(back.2, paid.2 + 1);
            assert_eq!((back.0, back.1), (0, 0));
            let page = manager.get(&path).await;
            page.assert_contains("id=\"reversed-by\"");
            assert!(!page.body.contains("/reverse\""));
            // Another attempt is the ledger's refusal, in the manager's language.
            let refused = manager
                .post(
                    &format!("{path}/reverse"),
                    &[("reason", "encore"), ("token", "t2")],
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            refused.assert_contains("déjà été annulée");
            assert_eq!(ledger_state(&store, &alpha, &beta).await, back);
            // Both members read the reason, escaped, in their history.
            owner
                .get("/history")
                .await
                .assert_contains("Erreur de bénéficiaire &#60;b&#62;");
            store.close().await;
        }
    }
);
