//! Disputes: a member that paid contests the payment; the payee answers or refunds it; the
//! payer may withdraw it; a manager reverses the payment or dismisses the dispute. Over the
//! API and on the pages, each refusal changing nothing.

use axum::http::StatusCode;
use serde_json::{json, Value};
use tests::story;
use web::console::disputes::{
    self, DISPUTES_PER_WINDOW_MAX, DISPUTE_NOTE_LEN_MAX, DISPUTE_REASON_LEN_MAX,
    DISPUTE_REPLY_LEN_MAX,
};
use web::tokens::Scope;

use super::{logged, member_accountant, pays, setup, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

const DISPUTES: &str = "/api/v1/disputes";

fn path(id: i64, step: &str) -> String {
    format!("/api/v1/disputes/{id}/{step}")
}

/// The disputes `token`'s caller reads.
async fn listed(api: &Api, token: &str) -> Vec<Value> {
    api.get(DISPUTES, token).await.ok(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn balance(api: &Api, token: &str, account: i64) -> String {
    api.get(&format!("/api/v1/accounts/{account}"), token)
        .await
        .ok(StatusCode::OK)["balance"]
        .as_str()
        .unwrap()
        .to_owned()
}

story!(
    members_dispute_payments_over_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let expert = member_accountant(&store, &alpha).await;
            let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let compta = token(&store, "compta@troc.fr", Scope::Manage).await;

            // Alpha pays Beta 100.00 (101.00 with the fund's 1 %).
            let tx = pays(&api, &owner, &beta, "100.00").await;
            assert_eq!(balance(&api, &owner, alpha.account_id).await, "-101.00");

            // Only the payer's owner or staff, with a pay token, dispute it; the payee, an
            // unknown payment and a bad id are 404 alike.
            let body = |tx: i64, reason: &str| json!({"transaction_id": tx, "reason": reason});
            for refused in [&owner_read, &expert, &manage] {
                api.post(DISPUTES, refused, body(tx, "Jamais livré"))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            for (caller, id) in [(&beta_owner, tx), (&owner, tx + 1_000), (&owner, -4)] {
                api.post(DISPUTES, caller, body(id, "Jamais livré"))
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            // The reason is required and bounded: one past the limit is refused.
            for reason in [String::new(), "é".repeat(DISPUTE_REASON_LEN_MAX + 1)] {
                let problem = api
                    .post(DISPUTES, &owner, body(tx, &reason))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "reason", "{problem}");
            }
            assert!(listed(&api, &owner_read).await.is_empty());

            // Staff may dispute what its company paid; a reason at the limit is taken.
            let at_limit = "é".repeat(DISPUTE_REASON_LEN_MAX);
            let opened = api
                .post(DISPUTES, &staff_pay, body(tx, &at_limit))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(opened["status"], "open");
            assert_eq!(opened["transaction_id"], tx);
            assert_eq!(opened["payer_member_id"], alpha.id);
            assert_eq!(opened["payee_member_id"], beta.id);
            assert_eq!(opened["payee_name"], "Beta & Fils <SAS>");
            assert_eq!(opened["amount"], "100.00");
            assert_eq!(opened["opened_by"], "staff@alpha.fr");
            assert_eq!(opened["reply"], Value::Null);
            let first = opened["id"].as_i64().unwrap();
            api.post(DISPUTES, &owner, body(tx, "Encore"))
                .await
                .problem(StatusCode::CONFLICT, "already_disputed");

            // Both companies and the network's staff read it, alone or in their list; anyone
            // else and an unknown id get 404; nothing moved in the ledger.
            for reader in [&owner_read, &expert, &beta_owner, &manage, &compta] {
                let one = api
                    .get(&format!("{DISPUTES}/{first}"), reader)
                    .await
                    .ok(StatusCode::OK);
                assert_eq!(one["reason"], at_limit);
            }
            crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
            let gamma = token(&store, "owner@gamma.fr", Scope::Read).await;
            for (reader, id) in [(&gamma, first), (&owner_read, first + 1), (&owner_read, 0)] {
                api.get(&format!("{DISPUTES}/{id}"), reader)
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            for reader in [&owner_read, &expert, &beta_owner, &manage, &compta] {
                let list = listed(&api, reader).await;
                assert_eq!(list.len(), 1, "{list:?}");
                assert_eq!(list[0]["id"], first);
            }
            assert_eq!(balance(&api, &owner, alpha.account_id).await, "-101.00");

            // The payee answers; the payer cannot, and the answer is bounded.
            api.post(&path(first, "reply"), &owner, json!({"reply": "Non"}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let long = "x".repeat(DISPUTE_REPLY_LEN_MAX + 1);
            let problem = api
                .post(&path(first, "reply"), &beta_owner, json!({ "reply": long }))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "reply", "{problem}");
            let answered = api
                .post(
                    &path(first, "reply"),
                    &beta_owner,
                    json!({"reply": "x".repeat(DISPUTE_REPLY_LEN_MAX)}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(answered["status"], "open");
            assert_eq!(answered["replied_by"], "owner@beta.fr");
            assert_eq!(
                answered["reply"].as_str().unwrap().len(),
                DISPUTE_REPLY_LEN_MAX
            );

            // The payer withdraws it (the payee cannot); once closed, nothing more.
            api.post(&path(first, "withdraw"), &beta_owner, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let withdrawn = api
                .post(&path(first, "withdraw"), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(withdrawn["status"], "withdrawn");
            assert_eq!(withdrawn["decided_by"], "owner@alpha.fr");
            api.post(&path(first, "withdraw"), &owner, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            api.post(&path(first, "reply"), &beta_owner, json!({"reply": "Tard"}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");

            // Opened again, then dismissed by a manager: the accountant reads only, the
            // decision and note are checked, and each refusal logs nothing.
            let second = api
                .post(DISPUTES, &owner, body(tx, "Toujours pas livré"))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let decide = path(second, "decide");
            api.post(
                &decide,
                &compta,
                json!({"decision": "dismiss", "note": "Non"}),
            )
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
            api.post(
                &decide,
                &owner,
                json!({"decision": "dismiss", "note": "Non"}),
            )
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
            for (decision, note, field) in [
                ("maybe", "Non".to_owned(), "decision"),
                ("dismiss", String::new(), "reason"),
                ("dismiss", "n".repeat(DISPUTE_NOTE_LEN_MAX + 1), "reason"),
            ] {
                let problem = api
                    .post(
                        &decide,
                        &manage,
                        json!({"decision": decision, "note": note}),
                    )
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{problem}");
            }
            assert_eq!(logged(&api, &manage, "dispute.dismiss").await, 0);
            let note = "n".repeat(DISPUTE_NOTE_LEN_MAX);
            let dismissed = api
                .post(
                    &decide,
                    &manage,
                    json!({"decision": "dismiss", "note": note}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(dismissed["dispute"]["status"], "dismissed");
            assert_eq!(dismissed["dispute"]["decided_by"], "gestion@troc.fr");
            assert_eq!(dismissed["dispute"]["decision_note"], note);
            assert_eq!(dismissed["reversal_id"], Value::Null);
            assert_eq!(logged(&api, &manage, "dispute.dismiss").await, 1);
            api.post(
                &decide,
                &manage,
                json!({"decision": "reverse", "note": "Non"}),
            )
            .await
            .problem(StatusCode::CONFLICT, "already_decided");
            // A dismissed dispute is final for its payment, which stands.
            api.post(DISPUTES, &owner, body(tx, "Une dernière fois"))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            assert_eq!(balance(&api, &owner, alpha.account_id).await, "-101.00");

            // The payee refunds a disputed payment: the dispute closes as refunded, and a
            // refunded payment cannot be disputed again.
            let refunded_tx = pays(&api, &owner, &beta, "50.00").await;
            let third = api
                .post(DISPUTES, &owner, body(refunded_tx, "Mauvaise référence"))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            api.post(
                &format!("/api/v1/transactions/{refunded_tx}/refund"),
                &beta_owner,
                json!({}),
            )
            .await
            .ok(StatusCode::CREATED);
            let refunded = disputes::by_id(&store, third).await.unwrap();
            assert_eq!(refunded.status.as_str(), "refunded");
            assert_eq!(refunded.decided_by.as_deref(), Some("owner@beta.fr"));
            api.post(DISPUTES, &owner, body(refunded_tx, "Encore"))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "already_reversed");

            // A manager reverses a disputed payment: Alpha gets back all it paid.
            let reversed_tx = pays(&api, &owner, &beta, "30.00").await;
            assert_eq!(balance(&api, &owner, alpha.account_id).await, "-131.30");
            let fourth = api
                .post(DISPUTES, &owner, body(reversed_tx, "Jamais livré"))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let done = api
                .post(
                    &path(fourth, "decide"),
                    &manage,
                    json!({"decision": "reverse", "note": "Livraison non prouvée"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(done["dispute"]["status"], "reversed");
            assert_eq!(done["dispute"]["decision_note"], "Livraison non prouvée");
            assert!(done["reversal_id"].as_i64().unwrap() > reversed_tx);
            assert_eq!(balance(&api, &owner, alpha.account_id).await, "-101.00");
            assert_eq!(logged(&api, &manage, "transaction.reverse").await, 1);

            // At most 10 disputes opened in 30 days, withdrawn ones included.
            assert_eq!(DISPUTES_PER_WINDOW_MAX, 10);
            let last_tx = pays(&api, &owner, &beta, "1.00").await;
            let mut opened_count = 4;
            while opened_count < DISPUTES_PER_WINDOW_MAX {
                let id = api
                    .post(DISPUTES, &owner, body(last_tx, "Doute"))
                    .await
                    .ok(StatusCode::CREATED)["id"]
                    .as_i64()
                    .unwrap();
                api.post(&path(id, "withdraw"), &owner, json!({}))
                    .await
                    .ok(StatusCode::OK);
                opened_count += 1;
            }
            api.post(DISPUTES, &owner, body(last_tx, "Doute"))
                .await
                .problem(StatusCode::CONFLICT, "too_many_disputes");

            // The network's staff list the closed ones; both companies' data packages
            // carry them.
            let network = listed(&api, &compta).await;
            assert_eq!(network.len(), 10);
            assert!(network.iter().all(|d| d["status"] != "open"));
            let all = api.get(DISPUTES, &compta).await.ok(StatusCode::OK);
            assert_eq!(
                all["counts"],
                json!({"open": 0, "withdrawn": 7, "refunded": 1, "reversed": 1, "dismissed": 1})
            );
            let own = api.get(DISPUTES, &owner_read).await.ok(StatusCode::OK);
            assert!(own.get("counts").is_none(), "{own}");
            for (reader, count) in [(&owner_read, 10), (&beta_owner, 10)] {
                let package = api.get("/api/v1/company/data", reader).await;
                let records = package
                    .text
                    .lines()
                    .filter(|line| {
                        let record: Value = serde_json::from_str(line).unwrap();
                        record["record"] == "dispute"
                    })
                    .count();
                assert_eq!(records, count);
            }
        }
    }
);

story!(members_dispute_payments_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        member_accountant(&store, &alpha).await;
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        let mut accountant = owner.sibling();
        accountant.login("expert@alpha.fr", PASSWORD).await;
        let mut seller = owner.sibling();
        seller.login("owner@beta.fr", PASSWORD).await;
        let mut manager = owner.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        let api = Api::new(state.clone());
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let tx = pays(&api, &alpha_pay, &beta, "80.00").await;
        let form = format!("/payments/{tx}/dispute");

        // The rules say how disputes are settled; the payer's history links the form,
        // the payee's does not (it refunds instead).
        owner
            .get("/rules")
            .await
            .assert_contains("id=\"rules-disputes\">Une entreprise qui a payé");
        owner
            .get("/history")
            .await
            .assert_contains(&format!("href=\"{form}\""));
        let history = seller.get("/history").await;
        assert!(!history.body.contains(&format!("href=\"{form}\"")));
        history.assert_contains(&format!("href=\"/payments/{tx}/refund\""));
        let page = owner.get(&form).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"dispute-form\"");
        page.assert_contains("id=\"dispute-payee\">Beta &#38; Fils &#60;SAS&#62;");
        assert_eq!(seller.get(&form).await.status, StatusCode::NOT_FOUND);
        assert_eq!(accountant.get(&form).await.status, StatusCode::FORBIDDEN);
        assert_eq!(manager.get(&form).await.status, StatusCode::FORBIDDEN);

        // A reason one past its limit is refused in words, keeps what was typed
        // (escaped), and records nothing.
        let long = format!("<b>{}", "x".repeat(DISPUTE_REASON_LEN_MAX - 2));
        let page = owner.post(&form, &[("reason", long.as_str())]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("1000 caractères au plus.");
        page.assert_contains("&#60;b&#62;xxx");
        assert!(disputes::of_member(&store, alpha.id, 10)
            .await
            .unwrap()
            .is_empty());

        // Opened: the list shows it escaped, the form page says it is open.
        let page = owner
            .post(&form, &[("reason", "<i>Jamais livré</i>")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"dispute-done\"");
        page.assert_contains("&#60;i&#62;Jamais livré");
        assert!(!page.body.contains("<i>Jamais"));
        let id = disputes::of_member(&store, alpha.id, 10).await.unwrap()[0].id;
        owner
            .get(&form)
            .await
            .assert_contains("id=\"dispute-open\"");
        let again = owner.post(&form, &[("reason", "Encore")]).await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        again.assert_contains("Une contestation est déjà ouverte sur ce paiement.");

        // The seller is told on its dashboard, answers on the list (an empty answer
        // refused in words), and may refund from there.
        seller.get("/dashboard").await.assert_contains(
            "id=\"disputes-link\">Contestations de vos ventes en attente de votre réponse : 1",
        );
        let list = seller.get("/disputes").await;
        list.assert_contains(&format!("action=\"/disputes/{id}/reply\""));
        list.assert_contains(&format!("href=\"/payments/{tx}/refund\""));
        let empty = seller
            .post(&format!("/disputes/{id}/reply"), &[("reply", "  ")])
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        empty.assert_contains("Réponse");
        let answered = seller
            .post(&format!("/disputes/{id}/reply"), &[("reply", "Livré le 3")])
            .await;
        assert_eq!(answered.status, StatusCode::OK);
        answered.assert_contains("id=\"dispute-done\"");
        answered.assert_contains("Livré le 3");
        // The buyer cannot answer for the seller, nor the seller withdraw.
        assert_eq!(
            owner
                .post(&format!("/disputes/{id}/reply"), &[("reply", "Non")])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            seller
                .post(&format!("/disputes/{id}/withdraw"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // The member accountant reads, without forms, and cannot act.
        let read = accountant.get("/disputes").await;
        assert_eq!(read.status, StatusCode::OK);
        read.assert_contains("Livré le 3");
        assert!(!read.body.contains("/withdraw\""));
        assert_eq!(
            accountant
                .post(&format!("/disputes/{id}/withdraw"), &[])
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        // The console: counted on the landing page, listed with both sides; a
        // decision that is neither is refused in words; dismissed with a note.
        manager
            .get("/admin")
            .await
            .assert_contains("id=\"disputes-count\">1<");
        // Both members' console pages say so.
        manager
            .get(&format!("/admin/members/{}", alpha.id))
            .await
            .assert_contains("id=\"member-disputes\"><a href=\"/admin/disputes\">Contestations ouvertes : 1 par ce membre, 0 de ses ventes");
        manager
            .get(&format!("/admin/members/{}", beta.id))
            .await
            .assert_contains("Contestations ouvertes : 0 par ce membre, 1 de ses ventes");
        let console = manager.get("/admin/disputes").await;
        console.assert_contains(&format!("action=\"/admin/disputes/{id}\""));
        console.assert_contains("Livré le 3");
        let bad = manager
            .post(
                &format!("/admin/disputes/{id}"),
                &[("decision", "perhaps"), ("note", "Vu"), ("token", "d-1")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.assert_contains("Décision");
        let done = manager
            .post(
                &format!("/admin/disputes/{id}"),
                &[
                    ("decision", "dismiss"),
                    ("note", "Livraison prouvée"),
                    ("token", "d-2"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let list = owner.get("/disputes").await;
        list.assert_contains("rejetée par le réseau");
        list.assert_contains("Livraison prouvée");
        assert!(!list
            .body
            .contains(&format!("action=\"/disputes/{id}/withdraw\"")));
        let seller_board = seller.get("/dashboard").await;
        assert!(!seller_board.body.contains("id=\"disputes-link\""));
        // Both companies are told of the manager's decision on their dashboard.
        let told = format!(
            "Contestation n° {id} (paiement n° {tx}, 80,00, Beta &#38; Fils &#60;SAS&#62;) : \
             rejetée par le réseau. Note : Livraison prouvée"
        );
        owner.get("/dashboard").await.assert_contains(&told);
        seller_board.assert_contains(&format!(
            "Contestation n° {id} (paiement n° {tx}, 80,00, Alpha SARL) : rejetée par le réseau."
        ));

        // A second payment disputed and reversed from the console: Alpha is paid back.
        let before = crate::web_front::balance(&store, &alpha).await;
        let tx2 = pays(&api, &alpha_pay, &beta, "20.00").await;
        let page = owner
            .post(
                &format!("/payments/{tx2}/dispute"),
                &[("reason", "Erreur de destinataire")],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let id2 = disputes::of_member(&store, alpha.id, 10).await.unwrap()[0].id;
        assert_ne!(id2, id);
        // The transaction's console page names its dispute.
        manager
            .get(&format!("/admin/transactions/{tx2}"))
            .await
            .assert_contains(&format!(
            "id=\"tx-disputes\"><a href=\"/admin/disputes#dispute-{id2}\">n° {id2}</a> (ouverte)"
        ));
        let done = manager
            .post(
                &format!("/admin/disputes/{id2}"),
                &[
                    ("decision", "reverse"),
                    ("note", "Erreur"),
                    ("token", "d-3"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(crate::web_front::balance(&store, &alpha).await, before);
        let closed = manager.get("/admin/disputes").await;
        closed.assert_contains("paiement annulé par le réseau");
        // How disputes ended, counted: one dismissed, one reversed, none open.
        for (status, count) in [
            ("open", 0),
            ("withdrawn", 0),
            ("refunded", 0),
            ("reversed", 1),
            ("dismissed", 1),
        ] {
            closed.assert_contains(&format!("id=\"disputes-{status}\">{count}<"));
        }
        owner
            .get(&format!("/payments/{tx2}/dispute"))
            .await
            .assert_contains("id=\"dispute-reversed\"");
        owner.get("/dashboard").await.assert_contains(&format!(
            "Contestation n° {id2} (paiement n° {tx2}, 20,00, Beta &#38; Fils &#60;SAS&#62;) : \
             paiement annulé par le réseau. Note : Erreur"
        ));

        // Withdrawn by the buyer: the seller is told, the buyer is not reminded of its own
        // step.
        let tx3 = pays(&api, &alpha_pay, &beta, "5.00").await;
        owner
            .post(&format!("/payments/{tx3}/dispute"), &[("reason", "Doute")])
            .await;
        let id3 = disputes::of_member(&store, alpha.id, 10).await.unwrap()[0].id;
        let page = owner.post(&format!("/disputes/{id3}/withdraw"), &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"dispute-done\"");
        let withdrawn = format!("Contestation n° {id3} (paiement n° {tx3}");
        seller.get("/dashboard").await.assert_contains(&format!(
            "{withdrawn}, 5,00, Alpha SARL) : retirée par l&#39;acheteur."
        ));
        assert!(!owner.get("/dashboard").await.body.contains(&withdrawn));
    }
});
