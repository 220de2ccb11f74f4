//! Limit requests: a member's owner asks for another credit limit, another upper limit or
//! both, the network's manager grants it (the amounts asked or others) or declines it, the
//! owner may withdraw it; over the API and on the pages, each refusal changing nothing.

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::console::limit_requests::{self, Wanted, LIMIT_REQUEST_MESSAGE_LEN_MAX};
use web::console::{Conflict, ConsoleError};
use web::people;
use web::tokens::Scope;

use super::{logged, member_accountant, setup, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

/// The member's credit limit as the API reads it.
async fn limit_of(api: &Api, token: &str, account_id: i64) -> String {
    let account = api
        .get(&format!("/api/v1/accounts/{account_id}"), token)
        .await
        .ok(StatusCode::OK);
    account["credit_limit"].as_str().unwrap().to_owned()
}

fn path(id: i64, action: &str) -> String {
    format!("/api/v1/limit-requests/{id}/{action}")
}

/// `body` posted to `path` is refused as `validation_failed`, first on `field` with `code`.
async fn refused_on(
    api: &Api,
    token: &str,
    path: &str,
    body: serde_json::Value,
    field: &str,
    code: &str,
) {
    let problem = api
        .post(path, token, body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["field"], field, "{problem}");
    assert_eq!(problem["errors"][0]["code"], code, "{problem}");
}

/// Another credit limit of `units`, asked through the library.
fn credit(units: i64) -> Wanted {
    Wanted::credit_limit(ledger::Amount::from_units(units))
}

/// The member's credit limit and upper limit as the API reads them.
async fn limits_of(api: &Api, token: &str, account_id: i64) -> (String, serde_json::Value) {
    let account = api
        .get(&format!("/api/v1/accounts/{account_id}"), token)
        .await
        .ok(StatusCode::OK);
    (
        account["credit_limit"].as_str().unwrap().to_owned(),
        account["max_balance"].clone(),
    )
}

story!(
    members_ask_for_credit_limits_over_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let compta = token(&store, "compta@troc.fr", Scope::Manage).await;
            let asks = "/api/v1/limit-requests";
            let body =
                |limit: &str, message: &str| json!({"credit_limit": limit, "message": message});

            // Only the owner asks, with a pay token.
            for refused in [&owner_read, &staff_pay, &manage] {
                api.post(asks, refused, body("3000.00", "Achats prévus"))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            // Bad input: each refused, nothing recorded.
            let long = "m".repeat(LIMIT_REQUEST_MESSAGE_LEN_MAX + 1);
            let cases = [
                (body("3000.00", ""), "message", "required"),
                (body("3000.00", "   "), "message", "required"),
                (body("3000.00", &long), "message", "too_long"),
                (
                    body("1000.00", "Le même"),
                    "credit_limit",
                    "same_as_current",
                ),
                (
                    body("10000000.01", "Trop"),
                    "credit_limit",
                    "amount_above_max",
                ),
            ];
            for (input, field, code) in cases {
                refused_on(&api, &owner, asks, input, field, code).await;
            }
            for shape in ["-5.00", "abc", "1,5"] {
                let problem = api
                    .post(asks, &owner, body(shape, "Forme"))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "credit_limit", "{problem}");
            }
            let none = api.get(asks, &owner).await.ok(StatusCode::OK);
            assert_eq!(none["items"].as_array().unwrap().len(), 0);

            // At the limits: a message of 1 000 characters, the highest limit there is.
            let message = "m".repeat(LIMIT_REQUEST_MESSAGE_LEN_MAX);
            let asked = api
                .post_key(asks, &owner, "ask-1", body("10000000.00", &message))
                .await
                .ok(StatusCode::CREATED);
            let id = asked["id"].as_i64().unwrap();
            assert_eq!(asked["status"], "pending");
            assert_eq!(asked["member_id"], alpha.id);
            assert_eq!(asked["requested_by"], "owner@alpha.fr");
            assert_eq!(asked["credit_limit_before"], "1000.00");
            assert_eq!(asked["credit_limit_asked"], "10000000.00");
            assert_eq!(asked["message"], message.as_str());
            assert!(asked["decided_at"].is_null() && asked["credit_limit_granted"].is_null());
            // The same key and body: the same answer, not a second request.
            let again = api
                .post_key(asks, &owner, "ask-1", body("10000000.00", &message))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(again, asked);
            // One waits at a time.
            api.post(asks, &owner, body("2000.00", "Autre"))
                .await
                .problem(StatusCode::CONFLICT, "already_pending");

            // Who sees it: the company's users and the network's staff; Beta does not.
            for reader in [&owner_read, &staff_pay, &manage, &compta] {
                let shown = api
                    .get(&format!("{asks}/{id}"), reader)
                    .await
                    .ok(StatusCode::OK);
                assert_eq!(shown, asked);
            }
            api.get(&format!("{asks}/{id}"), &beta_owner)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let beta_list = api.get(asks, &beta_owner).await.ok(StatusCode::OK);
            assert_eq!(beta_list["items"].as_array().unwrap().len(), 0);
            let pending = api
                .get(&format!("{asks}?status=pending"), &compta)
                .await
                .ok(StatusCode::OK);
            assert_eq!(pending["items"][0]["id"], id);
            api.get(&format!("{asks}?status=maybe"), &compta)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            for missing in ["999999", "0", "x"] {
                api.get(&format!("{asks}/{missing}"), &manage)
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }

            // Deciding is the manager's: the accountant and the members are refused.
            let grant = json!({"credit_limit": "2500.00", "reason": "Bon historique"});
            for refused in [&compta, &owner, &beta_owner] {
                api.post(&path(id, "grant"), refused, grant.clone())
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            api.post(&path(id, "withdraw"), &beta_owner, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            // A reason is required, at most 500 characters; another amount is checked too.
            for (input, field) in [
                (json!({"reason": ""}), "reason"),
                (json!({"reason": "r".repeat(501)}), "reason"),
                (
                    json!({"credit_limit": "10000000.01", "reason": "Trop"}),
                    "credit_limit",
                ),
            ] {
                let problem = api
                    .post(&path(id, "grant"), &manage, input)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{problem}");
            }
            assert_eq!(limit_of(&api, &manage, alpha.account_id).await, "1000.00");

            // Granted at another amount than asked: the limit changes, on the record.
            let granted = api
                .post(&path(id, "grant"), &manage, grant.clone())
                .await
                .ok(StatusCode::OK);
            assert_eq!(granted["status"], "granted");
            assert_eq!(granted["credit_limit_granted"], "2500.00");
            assert_eq!(granted["decided_by"], "gestion@troc.fr");
            assert_eq!(granted["decision_reason"], "Bon historique");
            assert!(granted["decided_at"].is_string());
            assert_eq!(limit_of(&api, &manage, alpha.account_id).await, "2500.00");
            assert_eq!(logged(&api, &manage, "limit_request.grant").await, 1);
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/limit-history", alpha.account_id),
                    &manage,
                )
                .await
                .ok(StatusCode::OK);
            let last = history["items"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["credit_limit_after"], "2500.00", "{history}");
            assert_eq!(last["reason"], "Bon historique", "{history}");
            // Decided once: a second grant or a decline is refused and changes nothing.
            api.post(&path(id, "grant"), &manage, json!({"reason": "Encore"}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            api.post(&path(id, "decline"), &manage, json!({"reason": "Non"}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            api.post(&path(id, "withdraw"), &owner, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            assert_eq!(limit_of(&api, &manage, alpha.account_id).await, "2500.00");

            // Withdrawn by the owner: nothing to decide any more.
            let second = api
                .post(asks, &owner, body("4000.00", "Saison"))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(second["credit_limit_before"], "2500.00");
            let second = second["id"].as_i64().unwrap();
            api.post(&path(second, "withdraw"), &staff_pay, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let withdrawn = api
                .post(&path(second, "withdraw"), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(withdrawn["status"], "withdrawn");
            assert_eq!(withdrawn["decided_by"], "owner@alpha.fr");
            api.post(&path(second, "grant"), &manage, json!({"reason": "Oui"}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            assert_eq!(limit_of(&api, &manage, alpha.account_id).await, "2500.00");

            // Declined with a reason the member reads; logged.
            let third = api
                .post(
                    asks,
                    &owner,
                    body("0.00", "Nous ne voulons plus de découvert"),
                )
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let declined = api
                .post(
                    &path(third, "decline"),
                    &manage,
                    json!({"reason": "Dette en cours"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(declined["status"], "declined");
            assert_eq!(declined["decision_reason"], "Dette en cours");
            assert!(declined["credit_limit_granted"].is_null());
            assert_eq!(logged(&api, &manage, "limit_request.decline").await, 1);
            let mine = api.get(asks, &owner_read).await.ok(StatusCode::OK);
            let statuses: Vec<&str> = mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["status"].as_str().unwrap())
                .collect();
            assert_eq!(statuses, ["declined", "withdrawn", "granted"]);

            // Five requests in 30 days, withdrawn ones included; the sixth waits.
            for n in 4..=5 {
                let asked = api
                    .post(asks, &owner, body("3000.00", &format!("Essai {n}")))
                    .await
                    .ok(StatusCode::CREATED);
                let id = asked["id"].as_i64().unwrap();
                api.post(&path(id, "withdraw"), &owner, json!({}))
                    .await
                    .ok(StatusCode::OK);
            }
            api.post(asks, &owner, body("3000.00", "Sixième"))
                .await
                .problem(StatusCode::CONFLICT, "too_many_limit_requests");

            // Two requests at once: the one-pending index keeps exactly one.
            let (user, _) = people::find_login(&store, "owner@beta.fr")
                .await
                .unwrap()
                .unwrap();
            let (a, b) = tokio::join!(
                limit_requests::ask(&store, &user, &beta, credit(900), "A"),
                limit_requests::ask(&store, &user, &beta, credit(800), "B"),
            );
            let refused = [a.is_err(), b.is_err()];
            assert_eq!(refused.iter().filter(|r| **r).count(), 1, "{a:?} {b:?}");
            for result in [a, b] {
                if let Err(error) = result {
                    assert!(
                        matches!(error, ConsoleError::Conflict(Conflict::LimitRequestPending)),
                        "{error:?}"
                    );
                }
            }
            let beta_list = api.get(asks, &beta_owner).await.ok(StatusCode::OK);
            assert_eq!(beta_list["items"].as_array().unwrap().len(), 1);
            store.close().await;
        }
    }
);

story!(
    members_ask_for_credit_limits_on_the_web,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, _beta) = two_members(&url).await;
            staff(&store).await;
            member_accountant(&store, &alpha).await;
            let mut owner = Client::new(state.clone());
            owner.login("owner@alpha.fr", PASSWORD).await;
            let mut staff_user = owner.sibling();
            staff_user.login("staff@alpha.fr", PASSWORD).await;
            let mut accountant = owner.sibling();
            accountant.login("expert@alpha.fr", PASSWORD).await;
            let mut manager = owner.sibling();
            manager.login("gestion@troc.fr", PASSWORD).await;
            let mut compta = owner.sibling();
            compta.login("compta@troc.fr", PASSWORD).await;

            // The figures lead to the page; the owner gets the form, the others read.
            owner
                .get("/dashboard")
                .await
                .assert_contains("href=\"/credit-limit\"");
            let page = owner.get("/credit-limit").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"lr-form\"");
            for reader in [&mut staff_user, &mut accountant] {
                let page = reader.get("/credit-limit").await;
                assert_eq!(page.status, StatusCode::OK);
                page.assert_contains("id=\"lr-owner-only\"");
                assert!(!page.body.contains("id=\"lr-form\""));
                let refused = reader
                    .post(
                        "/credit-limit",
                        &[("credit_limit", "3000"), ("message", "Achats")],
                    )
                    .await;
                assert_eq!(refused.status, StatusCode::FORBIDDEN);
            }
            assert_eq!(
                manager.get("/credit-limit").await.status,
                StatusCode::FORBIDDEN
            );

            // Refusals are worded, keep what was typed (escaped), and record nothing.
            let typed = "<b>Nouveaux achats</b>";
            for (limit, message, wording) in [
                ("", typed, "Découvert autorisé : obligatoire."),
                ("abc", typed, "Découvert autorisé : montant invalide"),
                ("1 000", typed, "c&#39;est déjà la valeur en vigueur."),
                ("3 000", "", "Message : obligatoire."),
            ] {
                let page = owner
                    .post(
                        "/credit-limit",
                        &[("credit_limit", limit), ("message", message)],
                    )
                    .await;
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
                page.assert_contains(wording);
                if !message.is_empty() {
                    page.assert_contains("&#60;b&#62;Nouveaux achats");
                    assert!(!page.body.contains(typed));
                }
            }
            assert!(limit_requests::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .is_none());

            // Asked: the page shows the request waiting and offers to withdraw it.
            let page = owner
                .post(
                    "/credit-limit",
                    &[("credit_limit", "3 000"), ("message", typed)],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"lr-done\"");
            page.assert_contains("id=\"lr-asked\">3 000,00</td>");
            assert!(!page.body.contains("id=\"lr-form\""));
            let id = limit_requests::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .unwrap()
                .id;
            page.assert_contains(&format!("action=\"/credit-limit/{id}/withdraw\""));
            let page = owner
                .post(
                    "/credit-limit",
                    &[("credit_limit", "4 000"), ("message", "Encore")],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Une demande de découvert est déjà en attente");

            // The console: counted on the landing page, listed, flagged on the member's page.
            manager
                .get("/admin")
                .await
                .assert_contains("id=\"limit-requests-count\">1</div>");
            let list = manager.get("/admin/limit-requests?status=pending").await;
            list.assert_contains(&format!("href=\"/admin/limit-requests/{id}\""));
            list.assert_contains("Alpha SARL");
            manager
                .get(&format!("/admin/members/{}", alpha.id))
                .await
                .assert_contains(&format!("href=\"/admin/limit-requests/{id}\""));
            let request = format!("/admin/limit-requests/{id}");
            let page = manager.get(&request).await;
            page.assert_contains("id=\"request-asked\">3 000,00</td>");
            page.assert_contains("&#60;b&#62;Nouveaux achats");
            page.assert_contains("value=\"3 000,00\"");
            // The accountant reads without forms; members get 403.
            let page = compta.get(&request).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("/grant\""));
            let grant = format!("{request}/grant");
            let fields = [("credit_limit", "2 500"), ("reason", "Bon historique")];
            assert_eq!(
                compta.post(&grant, &fields).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(owner.get(&request).await.status, StatusCode::FORBIDDEN);
            assert_eq!(
                manager.get("/admin/limit-requests/999999").await.status,
                StatusCode::NOT_FOUND
            );

            // A grant without a reason is refused and changes nothing.
            let page = manager
                .post(&grant, &[("credit_limit", "2 500"), ("reason", "")])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Motif : obligatoire.");
            let page = manager.post(&grant, &fields).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let page = manager.get(&request).await;
            page.assert_contains("id=\"request-status\">accordée</td>");
            page.assert_contains("id=\"request-granted\">2 500,00</td>");
            page.assert_contains("id=\"request-limit-now\">2 500,00</td>");

            // The member reads the decision and the new limit.
            let page = owner.get("/credit-limit").await;
            page.assert_contains("id=\"lr-history\"");
            page.assert_contains("accordée");
            page.assert_contains("Bon historique");
            page.assert_contains("<td>2 500,00</td>");
            page.assert_contains("id=\"lr-form\"");
            owner
                .get("/dashboard")
                .await
                .assert_contains("Votre demande de découvert n° ");
            let mut english = owner.sibling();
            english.login("owner@alpha.fr", PASSWORD).await;
            english.post("/lang", &[("lang", "en")]).await;
            english
                .get("/dashboard")
                .await
                .assert_contains("was granted: 2,500.00. Reason: Bon historique");
            let page = english.get("/credit-limit").await;
            page.assert_contains("Earlier requests");
            page.assert_contains("granted");
            english.post("/lang", &[("lang", "fr")]).await;

            // Asked again, then withdrawn by the owner; staff may not, Beta's owner finds none.
            owner
                .post(
                    "/credit-limit",
                    &[("credit_limit", "5 000"), ("message", "Saison")],
                )
                .await;
            let second = limit_requests::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .unwrap()
                .id;
            let withdraw = format!("/credit-limit/{second}/withdraw");
            assert_eq!(
                staff_user.post(&withdraw, &[]).await.status,
                StatusCode::FORBIDDEN
            );
            let mut beta_owner = owner.sibling();
            beta_owner.login("owner@beta.fr", PASSWORD).await;
            assert_eq!(
                beta_owner.post(&withdraw, &[]).await.status,
                StatusCode::NOT_FOUND
            );
            let page = owner.post(&withdraw, &[]).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Demande retirée.");
            page.assert_contains("retirée");
            let page = owner.post(&withdraw, &[]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("déjà été traitée ou retirée");

            // Declined: the member reads why.
            owner
                .post(
                    "/credit-limit",
                    &[("credit_limit", "6 000"), ("message", "Encore plus")],
                )
                .await;
            let third = limit_requests::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .unwrap()
                .id;
            let page = manager
                .post(
                    &format!("/admin/limit-requests/{third}/decline"),
                    &[("reason", "Attendons le bilan")],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let page = owner.get("/credit-limit").await;
            page.assert_contains("refusée");
            page.assert_contains("Attendons le bilan");
            owner
                .get("/dashboard")
                .await
                .assert_contains("est refusée. Motif : Attendons le bilan");
            manager
                .get("/admin")
                .await
                .assert_contains("id=\"limit-requests-count\">0</div>");

            // The upper limit: shown to the member (none yet), asked alone, granted at
            // another amount; the credit limit stays.
            let page = owner.get("/credit-limit").await;
            page.assert_contains("id=\"lr-max-now\">aucun</td>");
            page.assert_contains("id=\"max_balance\"");
            let page = owner
                .post(
                    "/credit-limit",
                    &[
                        ("credit_limit", ""),
                        ("max_balance", "abc"),
                        ("message", "Ventes"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Plafond : montant invalide");
            page.assert_contains("value=\"abc\"");
            let page = owner
                .post(
                    "/credit-limit",
                    &[
                        ("credit_limit", ""),
                        ("max_balance", "50 000"),
                        ("message", "Ventes"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"lr-asked-max\">50 000,00</td>");
            assert!(!page.body.contains("id=\"lr-asked\""));
            let fourth = limit_requests::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                fourth.max_balance_asked,
                Some(ledger::Amount::from_units(50_000))
            );
            assert!(fourth.max_balance_before.is_none() && !fourth.asks_credit_limit());
            let request = format!("/admin/limit-requests/{}", fourth.id);
            let page = manager.get(&request).await;
            page.assert_contains("id=\"request-asked\">plafond 50 000,00</td>");
            page.assert_contains("id=\"max_balance\" name=\"max_balance\"");
            page.assert_contains("value=\"50 000,00\"");
            assert!(!page.body.contains("id=\"credit_limit\""));
            manager
                .get("/admin/limit-requests")
                .await
                .assert_contains("<td>plafond 50 000,00</td>");
            manager
                .get(&format!("/admin/members/{}", alpha.id))
                .await
                .assert_contains("plafond 50 000,00");
            // A credit limit the request does not ask for is refused, worded.
            let grant = format!("{request}/grant");
            let page = manager
                .post(
                    &grant,
                    &[
                        ("credit_limit", "9 000"),
                        ("max_balance", "45 000"),
                        ("reason", "Non"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("la demande ne porte pas sur cette limite.");
            let page = manager
                .post(
                    &grant,
                    &[("max_balance", "45 000"), ("reason", "Ventes réelles")],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let page = manager.get(&request).await;
            page.assert_contains("id=\"request-granted\">plafond 45 000,00</td>");
            page.assert_contains("id=\"request-max-now\">45 000,00</td>");
            page.assert_contains("id=\"request-limit-now\">2 500,00</td>");
            let page = owner.get("/credit-limit").await;
            page.assert_contains("id=\"lr-max-now\">45 000,00</td>");
            // The network's changes to its limits, newest first, with who and why.
            let changes = &page.body[page.body.find("id=\"lr-changes\"").unwrap()..];
            let newest = changes
                .find("aucun → 45 000,00")
                .expect("the upper limit's change");
            let older = changes
                .find("1 000,00 → 2 500,00")
                .expect("the credit limit's");
            assert!(newest < older, "newest first");
            assert!(changes.contains("gestion@troc.fr") && changes.contains("Bon historique"));
            staff_user
                .get("/credit-limit")
                .await
                .assert_contains("aucun → 45 000,00");
            page.assert_contains("<td>plafond 45 000,00</td>");
            owner
                .get("/dashboard")
                .await
                .assert_contains("Votre demande de plafond n° ");
            owner
                .get("/dashboard")
                .await
                .assert_contains("est accordée : plafond 45 000,00. Motif : Ventes réelles");
            store.close().await;
        }
    }
);

story!(
    members_ask_for_upper_limits_over_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, _beta) = setup(&url).await;
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let asks = "/api/v1/limit-requests";
            // The network caps Alpha's balance at 20 000.
            api.put(
                &format!("/api/v1/accounts/{}/credit-limit", alpha.account_id),
                &manage,
                json!({"credit_limit": "1000.00", "max_balance": "20000.00", "reason": "Règle"}),
            )
            .await
            .ok(StatusCode::OK);
            let limits = |credit: &str, max: &str| (credit.to_owned(), json!(max));
            assert_eq!(
                limits_of(&api, &manage, alpha.account_id).await,
                limits("1000.00", "20000.00")
            );

            // Bad input: each refused on its field, nothing recorded.
            let cases = [
                (json!({"message": "Rien"}), "credit_limit", "required"),
                (
                    json!({"max_balance": "20000.00", "message": "Le même"}),
                    "max_balance",
                    "same_as_current",
                ),
                (
                    json!({"max_balance": "10000000.01", "message": "Trop"}),
                    "max_balance",
                    "amount_above_max",
                ),
                (
                    json!({"credit_limit": "2000.00", "max_balance": "10000000.01",
                           "message": "Trop"}),
                    "max_balance",
                    "amount_above_max",
                ),
            ];
            for (input, field, code) in cases {
                refused_on(&api, &owner, asks, input, field, code).await;
            }
            // Both the same as in force: both named.
            let problem = api
                .post(
                    asks,
                    &owner,
                    json!({"credit_limit": "1000.00", "max_balance": "20000.00", "message": "x"}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, ["credit_limit", "max_balance"], "{problem}");
            for shape in ["-5.00", "abc", "1,5"] {
                let problem = api
                    .post(
                        asks,
                        &owner,
                        json!({"max_balance": shape, "message": "Forme"}),
                    )
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "max_balance", "{problem}");
            }
            let none = api.get(asks, &owner).await.ok(StatusCode::OK);
            assert_eq!(none["items"].as_array().unwrap().len(), 0);

            // At the limit: the highest upper limit there is; then withdrawn.
            let highest = api
                .post(
                    asks,
                    &owner,
                    json!({"max_balance": "10000000.00", "message": "Haut"}),
                )
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(highest["max_balance_asked"], "10000000.00");
            api.post(
                &path(highest["id"].as_i64().unwrap(), "withdraw"),
                &owner,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);

            // The upper limit alone: the credit limit is asked as it is.
            let asked = api
                .post(
                    asks,
                    &owner,
                    json!({"max_balance": "30000.00", "message": "Ventes"}),
                )
                .await
                .ok(StatusCode::CREATED);
            let id = asked["id"].as_i64().unwrap();
            assert_eq!(asked["credit_limit_before"], "1000.00");
            assert_eq!(asked["credit_limit_asked"], "1000.00");
            assert_eq!(asked["max_balance_before"], "20000.00");
            assert_eq!(asked["max_balance_asked"], "30000.00");
            assert!(asked["max_balance_granted"].is_null());
            // The manager decides what was asked: the credit limit was not.
            refused_on(
                &api,
                &manage,
                &path(id, "grant"),
                json!({"credit_limit": "5000.00", "reason": "En plus"}),
                "credit_limit",
                "not_asked",
            )
            .await;
            let problem = api
                .post(
                    &path(id, "grant"),
                    &manage,
                    json!({"max_balance": "10000000.01", "reason": "Trop"}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "max_balance", "{problem}");
            assert_eq!(
                limits_of(&api, &manage, alpha.account_id).await,
                limits("1000.00", "20000.00")
            );
            // Granted at another amount: the upper limit changes, the credit limit stays.
            let granted = api
                .post(
                    &path(id, "grant"),
                    &manage,
                    json!({"max_balance": "25000.00", "reason": "Ventes réelles"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(granted["status"], "granted");
            assert_eq!(granted["max_balance_granted"], "25000.00");
            assert_eq!(granted["credit_limit_granted"], "1000.00");
            assert_eq!(
                limits_of(&api, &manage, alpha.account_id).await,
                limits("1000.00", "25000.00")
            );
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/limit-history", alpha.account_id),
                    &manage,
                )
                .await
                .ok(StatusCode::OK);
            let last = history["items"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["max_balance_before"], "20000.00", "{history}");
            assert_eq!(last["max_balance_after"], "25000.00", "{history}");
            assert_eq!(last["reason"], "Ventes réelles", "{history}");
            let log = api
                .get("/api/v1/action-log?action=limit_request.grant", &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                log["items"][0]["before"]["detail"]["max_balance_asked"], 3_000_000,
                "{log}"
            );
            assert_eq!(
                log["items"][0]["after"]["detail"]["max_balance_granted"], 2_500_000,
                "{log}"
            );

            // Both limits, granted as asked.
            let both = api
                .post(
                    asks,
                    &owner,
                    json!({"credit_limit": "3000.00", "max_balance": "40000.00",
                           "message": "Saison"}),
                )
                .await
                .ok(StatusCode::CREATED);
            let both = api
                .post(
                    &path(both["id"].as_i64().unwrap(), "grant"),
                    &manage,
                    json!({"reason": "Accordé"}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(both["credit_limit_granted"], "3000.00");
            assert_eq!(both["max_balance_granted"], "40000.00");
            assert_eq!(
                limits_of(&api, &manage, alpha.account_id).await,
                limits("3000.00", "40000.00")
            );

            // The credit limit alone: the upper limit is not the manager's to change here,
            // and stays.
            let third = api
                .post(
                    asks,
                    &owner,
                    json!({"credit_limit": "3500.00", "message": "Un peu"}),
                )
                .await
                .ok(StatusCode::CREATED);
            assert!(third["max_balance_asked"].is_null() && third["max_balance_before"].is_null());
            let third = third["id"].as_i64().unwrap();
            refused_on(
                &api,
                &manage,
                &path(third, "grant"),
                json!({"max_balance": "50000.00", "reason": "Aussi"}),
                "max_balance",
                "not_asked",
            )
            .await;
            let granted = api
                .post(&path(third, "grant"), &manage, json!({"reason": "Oui"}))
                .await
                .ok(StatusCode::OK);
            assert!(granted["max_balance_granted"].is_null(), "{granted}");
            assert_eq!(
                limits_of(&api, &manage, alpha.account_id).await,
                limits("3500.00", "40000.00")
            );
            assert_eq!(logged(&api, &manage, "limit_request.grant").await, 3);
            store.close().await;
        }
    }
);
