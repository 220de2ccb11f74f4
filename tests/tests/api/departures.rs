//! Departures: a member's owner gives notice that the company leaves the network, reads
//! what is left before its account can close, and may withdraw the notice; closing the
//! account (or writing it off) closes the notice and the member's listings. Over the API and
//! on the pages, each refusal changing nothing.

use axum::http::StatusCode;
use serde_json::{json, Value};
use tests::story;
use web::console::departures::{self, DEPARTURES_PER_WINDOW_MAX, DEPARTURE_MESSAGE_LEN_MAX};
use web::people;
use web::tokens::Scope;

use super::{
    day_in, logged, member_accountant, pays, setup, staff, token, two_members, Api, PASSWORD,
};
use crate::web_front::client::Client;

const DEPARTURES: &str = "/api/v1/departures";

fn withdraw_path(id: i64) -> String {
    format!("/api/v1/departures/{id}/withdraw")
}

/// The caller's company's departure state (`remaining`, `items`).
async fn state_of(api: &Api, token: &str) -> Value {
    api.get(DEPARTURES, token).await.ok(StatusCode::OK)
}

/// The members leaving, as the review lists give them.
async fn leaving(api: &Api, manage: &str) -> Vec<Value> {
    let lists = api.get("/api/v1/reviews", manage).await.ok(StatusCode::OK);
    lists["leaving"].as_array().unwrap().clone()
}

async fn offer(api: &Api, token: &str, title: &str) -> i64 {
    let body = json!({"title": title, "category": "informatique", "city": "Lyon",
                      "active_until": day_in(30), "price": "40"});
    api.post("/api/v1/offers", token, body)
        .await
        .ok(StatusCode::CREATED)["id"]
        .as_i64()
        .unwrap()
}

story!(
    members_give_notice_of_departure_over_the_api,
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

            // Nothing to settle yet; the company's users read it, the network's staff read
            // the review list instead.
            for reader in [&owner_read, &staff_pay, &expert] {
                let state = state_of(&api, reader).await;
                assert_eq!(state["remaining"]["balance"], "0.00");
                assert_eq!(state["remaining"]["settled"], true);
                assert_eq!(state["items"], json!([]));
            }
            api.get(DEPARTURES, &manage)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");

            // Only the owner gives notice, with a pay token.
            for refused in [&owner_read, &staff_pay, &expert, &manage] {
                api.post(DEPARTURES, refused, json!({"message": "Départ"}))
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            // The message is bounded: one past the limit is refused and records nothing.
            let long = "é".repeat(DEPARTURE_MESSAGE_LEN_MAX + 1);
            let problem = api
                .post(DEPARTURES, &owner, json!({ "message": long }))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "message", "{problem}");
            assert_eq!(problem["errors"][0]["code"], "too_long", "{problem}");
            assert_eq!(state_of(&api, &owner).await["items"], json!([]));

            // Alpha owes 101.00 (100.00 and the fund's 1 %) and sells one offer: that is
            // what is left.
            pays(&api, &owner, &beta, "100.00").await;
            offer(&api, &owner, "Conseil").await;
            let at_limit = "é".repeat(DEPARTURE_MESSAGE_LEN_MAX);
            let given = api
                .post(DEPARTURES, &owner, json!({ "message": at_limit }))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(given["status"], "pending");
            assert_eq!(given["requested_by"], "owner@alpha.fr");
            assert_eq!(given["member_id"], alpha.id);
            let first = given["id"].as_i64().unwrap();
            api.post(DEPARTURES, &owner, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "already_pending");
            let state = state_of(&api, &staff_pay).await;
            assert_eq!(state["remaining"]["balance"], "-101.00");
            assert_eq!(state["remaining"]["open_listings"], 1);
            assert_eq!(state["remaining"]["settled"], false);
            assert_eq!(state["items"][0]["id"], first);

            // The network sees it in its review list, with what is left.
            for staff_token in [&manage, &compta] {
                let list = leaving(&api, staff_token).await;
                assert_eq!(list.len(), 1);
                assert_eq!(list[0]["member_id"], alpha.id);
                assert_eq!(list[0]["balance"], "-101.00");
                assert_eq!(list[0]["notice"]["id"], first);
                assert_eq!(list[0]["remaining"]["open_listings"], 1);
            }

            // Only Alpha's owner withdraws it: another member's is 404, and twice is 409.
            api.post(&withdraw_path(first), &beta_owner, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            api.post(&withdraw_path(first), &staff_pay, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let withdrawn = api
                .post(&withdraw_path(first), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(withdrawn["status"], "withdrawn");
            assert_eq!(withdrawn["decided_by"], "owner@alpha.fr");
            api.post(&withdraw_path(first), &owner, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            assert!(leaving(&api, &manage).await.is_empty());

            // At most 3 notices in 30 days, withdrawn ones included: the third is taken,
            // the fourth refused.
            assert_eq!(DEPARTURES_PER_WINDOW_MAX, 3);
            let second = api
                .post(DEPARTURES, &owner, json!({"message": "Encore"}))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            api.post(&withdraw_path(second), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            let third = api
                .post(
                    DEPARTURES,
                    &owner,
                    json!({"message": "Cessation d'activité"}),
                )
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            api.post(&withdraw_path(third), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            api.post(DEPARTURES, &owner, json!({"message": "Encore"}))
                .await
                .problem(StatusCode::CONFLICT, "too_many_departures");
            let items = state_of(&api, &owner).await["items"].clone();
            let ids: Vec<i64> = items
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids, vec![third, second, first], "newest first");

            // Beta leaves with 98.00 (100.00 less the 2 % commission) and an offer Alpha
            // orders: the account cannot close while its balance is not zero nor while the
            // order is under way.
            let beta_offer = offer(&api, &beta_owner, "Sites web").await;
            let notice = api
                .post(DEPARTURES, &beta_owner, json!({"message": "Nous partons"}))
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let order = api
                .post(
                    &format!("/api/v1/offers/{beta_offer}/order"),
                    &owner,
                    json!({}),
                )
                .await
                .ok(StatusCode::CREATED)["id"]
                .as_i64()
                .unwrap();
            let beta_state = state_of(&api, &beta_owner).await;
            assert_eq!(beta_state["items"][0]["status"], "pending");
            assert_eq!(beta_state["remaining"]["balance"], "98.00");
            assert_eq!(beta_state["remaining"]["orders_to_deliver"], 1);
            let close = format!("/api/v1/departures/{notice}/close");
            let settle = |balance: &str| json!({"balance": balance, "reason": "Départ du réseau"});
            api.post(&close, &manage, settle("98.00"))
                .await
                .problem(StatusCode::CONFLICT, "orders_under_way");
            api.post(
                &format!("/api/v1/orders/{order}/cancel"),
                &beta_owner,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
            // Spending it to the cent is not always possible: each payment costs the fund's
            // 1 % on top. 97.00 costs 97.97; 0.03 is left, and the plain closing refuses it.
            pays(&api, &beta_owner, &alpha, "97.00").await;
            let accounts_close = format!("/api/v1/accounts/{}/close", beta.account_id);
            api.post(&accounts_close, &manage, json!({"reason": "Départ"}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "non_zero_balance");
            assert_eq!(
                state_of(&api, &beta_owner).await["remaining"]["settled"],
                false
            );
            // The manager moves the remainder to the guarantee fund and closes: only a
            // manager, only with the balance as it is now, with a reason within 280
            // characters; a refusal moves nothing.
            let fund_before = api
                .get("/api/v1/guarantee-fund", &manage)
                .await
                .ok(StatusCode::OK)["balance"]
                .clone();
            api.post(&close, &compta, settle("0.03"))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let problem = api
                .post(&close, &manage, settle("0.05"))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "balance", "{problem}");
            assert_eq!(problem["errors"][0]["code"], "not_the_balance", "{problem}");
            for reason in ["é".repeat(281), String::new()] {
                let problem = api
                    .post(
                        &close,
                        &manage,
                        json!({"balance": "0.03", "reason": reason}),
                    )
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "reason", "{problem}");
            }
            // A frozen account cannot be debited: the closing is refused as a whole, and the
            // account stays open.
            let freeze = format!("/api/v1/accounts/{}/freeze", beta.account_id);
            api.post(&freeze, &manage, json!({"reason": "Litige"}))
                .await
                .ok(StatusCode::OK);
            api.post(&close, &manage, settle("0.03"))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "account_frozen");
            let unfreeze = format!("/api/v1/accounts/{}/unfreeze", beta.account_id);
            api.post(&unfreeze, &manage, json!({"reason": "Litige réglé"}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                api.get("/api/v1/guarantee-fund", &manage)
                    .await
                    .ok(StatusCode::OK)["balance"],
                fund_before
            );
            assert_eq!(logged(&api, &manage, "member.departure_settle").await, 0);
            assert_eq!(logged(&api, &manage, "member.close").await, 0);
            let closed = api
                .post(
                    &close,
                    &manage,
                    json!({"balance": "0.03", "reason": "é".repeat(280)}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(closed["to_fund"], "0.03");
            assert_eq!(closed["notice"]["status"], "closed");
            assert_eq!(closed["notice"]["decided_by"], "gestion@troc.fr");
            let fund_after = api
                .get("/api/v1/guarantee-fund", &manage)
                .await
                .ok(StatusCode::OK)["balance"]
                .clone();
            let cents = |v: &Value| -> i64 {
                (v.as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64
            };
            assert_eq!(cents(&fund_after) - cents(&fund_before), 3);
            assert_eq!(logged(&api, &manage, "member.departure_settle").await, 1);
            assert_eq!(logged(&api, &manage, "member.close").await, 1);
            let account = api
                .get(&format!("/api/v1/accounts/{}", beta.account_id), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(account["status"], "closed");
            assert_eq!(account["balance"], "0.00");
            // The member reads the adjustment in its history, with the reason.
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/transactions", beta.account_id),
                    &beta_owner,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(history["items"][0]["amount"], "-0.03", "{history}");
            assert_eq!(
                history["items"][0]["reference"],
                format!("departure:{notice}")
            );
            api.post(&close, &manage, settle("0.00"))
                .await
                .problem(StatusCode::CONFLICT, "already_decided");
            let beta_state = state_of(&api, &beta_owner).await;
            assert_eq!(beta_state["items"][0]["id"], notice);
            assert_eq!(beta_state["items"][0]["status"], "closed");
            assert_eq!(beta_state["remaining"]["open_listings"], 0);
            // Closed, the offer is gone from the market.
            api.get(&format!("/api/v1/offers/{beta_offer}"), &owner)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            let listing = web::market::get(&store, beta_offer).await.unwrap().unwrap();
            assert!(!listing.open);
            assert!(leaving(&api, &manage).await.is_empty());
            // A closed account gives no notice.
            api.post(DEPARTURES, &beta_owner, json!({}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "account_closed");

            // The data package carries the notices.
            let package = api.get("/api/v1/company/data", &owner_read).await;
            let notices: Vec<i64> = package
                .text
                .lines()
                .filter_map(|line| {
                    let record: Value = serde_json::from_str(line).unwrap();
                    (record["record"] == "departure")
                        .then(|| record["data"]["id"].as_i64().unwrap())
                })
                .collect();
            assert_eq!(notices, vec![third, second, first]);
        }
    }
);

story!(
    members_give_notice_of_departure_on_the_web,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
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

            // The network's rules say how one leaves, to everyone.
            owner
                .get("/rules")
                .await
                .assert_contains("id=\"rules-departure\">Une entreprise peut quitter le réseau");
            // The company page leads to the page; the owner gets the form, the others read.
            owner
                .get("/company")
                .await
                .assert_contains("href=\"/departure\"");
            let page = owner.get("/departure").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"dep-form\"");
            page.assert_contains("id=\"dep-settled\"");
            for reader in [&mut staff_user, &mut accountant] {
                let page = reader.get("/departure").await;
                assert_eq!(page.status, StatusCode::OK);
                page.assert_contains("id=\"dep-owner-only\"");
                assert!(!page.body.contains("id=\"dep-form\""));
                let refused = reader.post("/departure", &[("message", "Départ")]).await;
                assert_eq!(refused.status, StatusCode::FORBIDDEN);
            }
            assert_eq!(
                manager.get("/departure").await.status,
                StatusCode::FORBIDDEN
            );

            // Alpha owes 252.50 (250.00 and the fund's 1 %) and has an open listing.
            let api = Api::new(state.clone());
            let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            pays(&api, &alpha_pay, &beta, "250.00").await;
            offer(&api, &alpha_pay, "Conseil").await;

            // A message one past its limit is refused in words, keeps what was typed, and
            // records nothing.
            let long = format!("<b>{}", "x".repeat(DEPARTURE_MESSAGE_LEN_MAX - 2));
            let page = owner
                .post("/departure", &[("message", long.as_str())])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("1000 caractères au plus.");
            page.assert_contains("&#60;b&#62;xxx");
            assert!(departures::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .is_none());

            // Given: the page shows the notice and what is left; the message is escaped.
            let page = owner
                .post("/departure", &[("message", "<b>Cessation</b>")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"dep-done\"");
            page.assert_contains("id=\"dep-pending\"");
            page.assert_contains("&#60;b&#62;Cessation");
            assert!(!page.body.contains("<b>Cessation"));
            page.assert_contains("Solde négatif à rembourser");
            page.assert_contains("252,50");
            page.assert_contains(
                "id=\"dep-listings\">Annonces ouvertes (fermées avec le compte) : 1",
            );
            assert!(!page.body.contains("id=\"dep-settled\""));
            page.assert_contains("href=\"/market/for-you\" id=\"dep-for-you\"");
            assert!(!page.body.contains("id=\"dep-form\""));
            let id = departures::pending_of(&store, alpha.id)
                .await
                .unwrap()
                .expect("the notice waits")
                .id;
            // Every user of the company is reminded on the dashboard.
            for user in [&mut owner, &mut staff_user] {
                user.get("/dashboard")
                    .await
                    .assert_contains("Votre préavis de départ est en attente");
            }

            // The console: counted on the landing page, listed with what blocks the
            // closing, and named on the member's page.
            manager
                .get("/admin")
                .await
                .assert_contains("id=\"leaving-count\">1<");
            let reviews = manager.get("/admin/reviews").await;
            let section = reviews
                .body
                .split("id=\"leaving\"")
                .nth(1)
                .unwrap()
                .split("</section>")
                .next()
                .unwrap()
                .to_owned();
            assert!(section.contains("Alpha SARL"), "{section}");
            assert!(section.contains("Solde négatif à rembourser"), "{section}");
            manager
                .get(&format!("/admin/members/{}", alpha.id))
                .await
                .assert_contains("id=\"member-departure\"");

            // Withdrawn: the company stays; withdrawing again is refused in words.
            let page = owner.post(&format!("/departure/{id}/withdraw"), &[]).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"dep-done\"");
            page.assert_contains("id=\"dep-history\"");
            page.assert_contains("id=\"dep-form\"");
            let again = owner.post(&format!("/departure/{id}/withdraw"), &[]).await;
            assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
            again.assert_contains("déjà été retirée");
            manager
                .get("/admin")
                .await
                .assert_contains("id=\"leaving-count\">0<");

            // Notice again; the member defaults and is written off: the notice is closed
            // with its account, and the listing with it.
            owner.post("/departure", &[("message", "")]).await;
            // In debt, the member page offers no closing but the default; a forged closing
            // is refused in words.
            let member_page = format!("/admin/members/{}", alpha.id);
            let page = manager.get(&member_page).await;
            page.assert_contains("id=\"departure-in-debt\"");
            assert!(!page.body.contains("id=\"departure-form\""));
            let refused = manager
                .post(
                    &format!("/admin/members/{}/departure", alpha.id),
                    &[
                        ("token", "t-1"),
                        ("balance", "-252.50"),
                        ("reason", "Départ"),
                    ],
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            refused.assert_contains("Le solde du membre est négatif");
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            api.post(
                &format!("/api/v1/members/{}/default", alpha.id),
                &manage,
                json!({"reason": "Liquidation judiciaire"}),
            )
            .await
            .ok(StatusCode::OK);
            let notices = departures::member_departures(&store, alpha.id)
                .await
                .unwrap();
            assert_eq!(notices[0].status.as_str(), "closed");
            assert_eq!(notices[0].decided_by.as_deref(), Some("gestion@troc.fr"));
            let page = owner.get("/departure").await;
            page.assert_contains("id=\"dep-closed\"");
            assert!(!page.body.contains("id=\"dep-form\""));
            let remaining = departures::remaining(&store, alpha.id, ledger::Amount::ZERO)
                .await
                .unwrap();
            assert_eq!(remaining.open_listings, 0);

            // Beta leaves with 245.00 (250.00 less the 2 % commission): the member page
            // offers to move it to the guarantee fund and close; a stale balance is refused.
            let (beta_owner, _) = people::find_login(&store, "owner@beta.fr")
                .await
                .unwrap()
                .unwrap();
            departures::ask(&store, &beta_owner, &beta, "Fin d'activité")
                .await
                .unwrap();
            let member_page = format!("/admin/members/{}", beta.id);
            let page = manager.get(&member_page).await;
            page.assert_contains("id=\"departure-to-fund\"");
            page.assert_contains("245,00");
            page.assert_contains("Fin d&#39;activité");
            let close = format!("/admin/members/{}/departure", beta.id);
            let stale = manager
                .post(
                    &close,
                    &[
                        ("token", "t-2"),
                        ("balance", "200.00"),
                        ("reason", "Départ"),
                    ],
                )
                .await;
            assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
            stale.assert_contains("ce n&#39;est plus le solde du compte");
            assert_eq!(crate::web_front::balance(&store, &beta).await, 24_500);
            let done = manager
                .post(
                    &close,
                    &[
                        ("token", "t-3"),
                        ("balance", "245.00"),
                        ("reason", "Départ"),
                    ],
                )
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
            assert_eq!(crate::web_front::balance(&store, &beta).await, 0);
            let page = manager.get(&member_page).await;
            assert!(!page.body.contains("id=\"departure\""));
            let notices = departures::member_departures(&store, beta.id)
                .await
                .unwrap();
            assert_eq!(notices[0].status.as_str(), "closed");
        }
    }
);

story!(
    what_is_left_leaves_out_payment_requests_past_their_expiry,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            // Beta asks Alpha twice: one request waits, the other is past its expiry and
            // the sweep has not marked it yet.
            let now = chrono::Utc::now().timestamp();
            for (form_token, expires_at) in [("waits", now + 86_400), ("past", now - 1)] {
                web::trade::create_request(
                    &store,
                    &web::trade::NewRequest {
                        seller_member_id: beta.id,
                        buyer_member_id: alpha.id,
                        amount_minor: 1_000,
                        reference: "FA-1",
                        memo: "",
                        due_date: "",
                        expires_at,
                        form_token,
                    },
                )
                .await
                .unwrap();
            }
            let state = state_of(&api, &owner_read).await;
            assert_eq!(state["remaining"]["requests_waiting"], 1, "{state}");
            let left = departures::remaining(&store, beta.id, ledger::Amount::ZERO)
                .await
                .unwrap();
            assert_eq!(left.requests_waiting, 1);

            // Both give notice, Beta first: the review list reads them together (one read
            // of what is left for all), oldest notice first, each with its own figures.
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let alpha_owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
            pays(&api, &alpha_owner, &beta, "10.00").await;
            for owner in [&beta_owner, &alpha_owner] {
                api.post(DEPARTURES, owner, json!({}))
                    .await
                    .ok(StatusCode::CREATED);
            }
            let list = leaving(&api, &manage).await;
            assert_eq!(list.len(), 2, "{list:?}");
            assert_eq!(list[0]["member_id"], beta.id);
            assert_eq!(list[0]["balance"], "9.50");
            assert_eq!(list[0]["remaining"]["requests_waiting"], 1);
            assert_eq!(list[1]["member_id"], alpha.id);
            assert_eq!(list[1]["balance"], "-10.10");
            assert_eq!(list[1]["remaining"]["requests_waiting"], 1);
            assert_eq!(list[1]["remaining"]["settled"], false);
        }
    }
);
