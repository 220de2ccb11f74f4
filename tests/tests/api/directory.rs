//! The members' directory and the fee rules through the API.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use ledger::{Amount, FundPayer};
use serde_json::{json, Value};
use tests::story;
use web::actor::Actor;
use web::network::fees::{self, FeeChange};
use web::network::Reason;
use web::people::{self, Role};
use web::store::Effective;
use web::tokens::Scope;

use super::{ids, member_accountant, setup, token};

async fn alpha_pay_token(store: &web::store::Store) -> String {
    token(store, "owner@alpha.fr", Scope::Pay).await
}

fn members(page: &Value) -> Vec<i64> {
    ids(page, "member_id")
}

story!(
    the_directory_lists_who_chose_to_appear,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
            let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
            api.post(
                "/api/v1/payments",
                &beta_pay,
                json!({"payee": alpha.id, "amount": "10"}),
            )
            .await
            .ok(StatusCode::CREATED);

            let page = api
                .get("/api/v1/directory", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(members(&page), [alpha.id, beta.id]);
            assert_eq!(
                ids(&page, "account_id"),
                [alpha.account_id, beta.account_id]
            );
            assert_eq!(page["next"], Value::Null);
            let first = &page["items"][0];
            assert_eq!(first["name"], "Alpha SARL");
            assert_eq!(first["sector"], "informatique");
            assert_eq!(first["city"], "Lyon");
            // 10.00 sold, less the least commission (0.50).
            assert_eq!(first["balance"], "9.50");
            assert_eq!(page["items"][1]["name"], "Beta & Fils <SAS>");
            // The network's staff read it too.
            api.get("/api/v1/directory", &manager)
                .await
                .ok(StatusCode::OK);

            // Beta hides its balance, then leaves the directory.
            people::update_privacy(&store, beta.id, true, true)
                .await
                .unwrap();
            let page = api
                .get("/api/v1/directory", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(page["items"][1]["balance"], Value::Null);
            assert_eq!(page["items"][0]["balance"], "9.50");
            people::update_privacy(&store, beta.id, true, false)
                .await
                .unwrap();
            let page = api
                .get("/api/v1/directory", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(members(&page), [alpha.id]);
            people::update_privacy(&store, beta.id, false, true)
                .await
                .unwrap();

            // Keyset pages, a sector, and bad parameters.
            let first = api
                .get("/api/v1/directory?limit=1", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(members(&first), [alpha.id]);
            let next = first["next"].as_str().unwrap().to_owned();
            let rest = api
                .get(
                    &format!("/api/v1/directory?limit=200&after={next}"),
                    &alpha_read,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(members(&rest), [beta.id]);
            assert_eq!(rest["next"], Value::Null);
            let sector = api
                .get("/api/v1/directory?sector=btp", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert!(members(&sector).is_empty());
            let sector = api
                .get("/api/v1/directory?sector=informatique", &alpha_read)
                .await
                .ok(StatusCode::OK);
            assert_eq!(members(&sector), [alpha.id, beta.id]);
            for (bad, field) in [
                ("sector=nope", "sector"),
                ("limit=201", "limit"),
                ("limit=0", "limit"),
                ("after=x", "after"),
            ] {
                let problem = api
                    .get(&format!("/api/v1/directory?{bad}"), &alpha_read)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], field, "{bad}");
            }
            // A member accountant does not see the directory, as on the page.
            let expert = member_accountant(&store, &alpha).await;
            api.get("/api/v1/directory", &expert)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            store.close().await;
        }
    }
);

story!(the_fee_rules_and_announced_changes, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let rules = api
            .get("/api/v1/rules", &alpha_read)
            .await
            .ok(StatusCode::OK);
        let in_force = &rules["in_force"];
        assert_eq!(in_force["version"], 1);
        assert_eq!(in_force["effective_from"], Value::Null);
        assert_eq!(in_force["commission_bp"], 200);
        assert_eq!(in_force["commission_min"], "0.50");
        assert_eq!(in_force["fund_bp"], 100);
        assert_eq!(in_force["fund_payer"], "buyer");
        assert_eq!(in_force["amount_per_tx_max"], "100000.00");
        assert_eq!(rules["upcoming"], json!([]));

        // The manager announces a change for next month: members see it coming.
        let at = Utc::now() + Duration::days(30);
        let at = DateTime::from_timestamp(at.timestamp(), 0).unwrap();
        let change = FeeChange::new(
            fees::fee_policy(300, Amount::from_minor(100), 50, FundPayer::Seller).unwrap(),
            Effective::At(at),
            Reason::parse("Assemblée générale").unwrap(),
        );
        let manager = Actor::new(None, "gestion@troc.fr", Role::Manager);
        fees::schedule_change(&store, &manager, &change)
            .await
            .unwrap();
        let rules = api
            .get("/api/v1/rules", &alpha_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(rules["in_force"]["commission_bp"], 200);
        let upcoming = &rules["upcoming"][0];
        assert_eq!(upcoming["version"], 2);
        assert_eq!(
            upcoming["effective_from"],
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        assert_eq!(upcoming["commission_bp"], 300);
        assert_eq!(upcoming["commission_min"], "1.00");
        assert_eq!(upcoming["fund_bp"], 50);
        assert_eq!(upcoming["fund_payer"], "seller");
        api.send(axum::http::Method::GET, "/api/v1/rules", None, &[], None)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");

        // The same through the API, by the manager's manage token: a later change.
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let later = at + Duration::days(31);
        let body = json!({"commission_bp": 5000, "commission_min": "0", "fund_bp": 0,
                          "fund_payer": "buyer", "reason": "AG de printemps",
                          "effective_from": later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
        for caller in [&accountant, &alpha_pay_token(&store).await] {
            api.post("/api/v1/rules", caller, body.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        // Each bad field, named; rates at 5000 taken and at 5001 refused; nothing scheduled.
        let mut bad_cases = Vec::new();
        for (field, value) in [
            ("commission_bp", json!(5001)),
            ("fund_bp", json!(5001)),
            ("commission_min", json!("-1")),
            ("commission_min", json!(1)),
            ("fund_payer", json!("nobody")),
            ("effective_from", json!("demain")),
            ("reason", json!("")),
            ("reason", json!("r".repeat(501))),
        ] {
            let mut bad = body.clone();
            bad[field] = value;
            bad_cases.push((field, bad));
        }
        for (field, bad) in bad_cases {
            let problem = api
                .post("/api/v1/rules", &manage, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        let mut past = body.clone();
        past["effective_from"] = json!("2020-01-01T00:00:00Z");
        api.post("/api/v1/rules", &manage, past)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "effective_in_past");
        let mut early = body.clone();
        early["effective_from"] =
            json!((at - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        api.post("/api/v1/rules", &manage, early)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "before_scheduled_change");
        assert_eq!(
            api.get("/api/v1/rules", &alpha_read)
                .await
                .ok(StatusCode::OK)["upcoming"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let mut longest = body.clone();
        longest["reason"] = json!("r".repeat(500));
        let scheduled = api
            .post("/api/v1/rules", &manage, longest)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(scheduled["version"], 3);
        assert_eq!(scheduled["commission_bp"], 5000);
        assert_eq!(scheduled["commission_min"], "0.00");
        let rules = api
            .get("/api/v1/rules", &alpha_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(rules["upcoming"][1]["version"], 3);
        assert_eq!(rules["upcoming"][1]["fund_bp"], 0);
        // On the record.
        let log = api
            .get("/api/v1/action-log?limit=1", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(log["items"][0]["actor"], "gestion@troc.fr");
        assert_eq!(log["items"][0]["reason"], "r".repeat(500));
        store.close().await;
    }
});

story!(a_company_sets_what_it_shows, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
        let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
        let beta_staff = token(&store, "staff@beta.fr", Scope::Pay).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let company = api
            .get("/api/v1/company", &beta_staff)
            .await
            .ok(StatusCode::OK);
        assert_eq!(company["member_id"], beta.id);
        assert_eq!(company["account_id"], beta.account_id);
        assert_eq!(company["name"], "Beta & Fils <SAS>");
        assert_eq!(company["hide_balance"], false);
        assert_eq!(company["in_directory"], true);
        api.get("/api/v1/company", &manager)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Only the owner, with a pay token; a bad body changes nothing.
        let privacy = json!({"hide_balance": true, "in_directory": true});
        for caller in [&beta_staff, &beta_read] {
            api.put("/api/v1/company/privacy", caller, privacy.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        let problem = api
            .put(
                "/api/v1/company/privacy",
                &beta_owner,
                json!({"hide_balance": "yes", "in_directory": true}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "hide_balance");
        let set = api
            .put("/api/v1/company/privacy", &beta_owner, privacy)
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["hide_balance"], true);
        let page = api
            .get("/api/v1/directory", &alpha_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(members(&page), [alpha.id, beta.id]);
        assert_eq!(page["items"][1]["balance"], Value::Null);
        // Out of the directory altogether.
        api.put(
            "/api/v1/company/privacy",
            &beta_owner,
            json!({"hide_balance": true, "in_directory": false}),
        )
        .await
        .ok(StatusCode::OK);
        let page = api
            .get("/api/v1/directory", &alpha_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(members(&page), [alpha.id]);
        store.close().await;
    }
});

story!(the_owner_edits_the_company_profile, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
        let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
        let beta_staff = token(&store, "staff@beta.fr", Scope::Pay).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let profile = json!({
            "name": "Beta Frères",
            "address": "3 quai <Rive>",
            "city": "Nantes",
            "postcode": "44000",
            "sector": "commerce",
            "description": "Traiteur",
            "contact": "contact@beta.fr",
        });
        // Only the owner, with a pay token.
        for caller in [&beta_staff, &beta_read, &manager] {
            api.put("/api/v1/company", caller, profile.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        let unchanged = api
            .get("/api/v1/company", &beta_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(unchanged["name"], "Beta & Fils <SAS>");

        // Every bad field is named at once, and nothing changes. The limits: a name of 200
        // characters is accepted and of 201 refused, a description of 2,000 and 2,001.
        let mut bad = profile.clone();
        bad["name"] = json!("n".repeat(201));
        bad["address"] = json!("   ");
        bad["postcode"] = json!("4400");
        bad["sector"] = json!("nothing");
        bad["description"] = json!("d".repeat(2_001));
        let problem = api
            .put("/api/v1/company", &beta_owner, bad)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let fields: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        for expected in [
            ("name", "too_long"),
            ("address", "required"),
            ("postcode", "invalid_postcode"),
            ("sector", "invalid_choice"),
            ("description", "too_long"),
        ] {
            assert!(fields.contains(&expected), "{expected:?} in {fields:?}");
        }
        let mut missing = profile.clone();
        missing.as_object_mut().unwrap().remove("contact");
        let problem = api
            .put("/api/v1/company", &beta_owner, missing)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "contact");
        assert_eq!(
            api.get("/api/v1/company", &beta_read).await.json()["name"],
            "Beta & Fils <SAS>"
        );

        let mut longest = profile.clone();
        longest["name"] = json!("n".repeat(200));
        longest["description"] = json!("d".repeat(2_000));
        let saved = api
            .put("/api/v1/company", &beta_owner, longest)
            .await
            .ok(StatusCode::OK);
        assert_eq!(saved["name"].as_str().unwrap().chars().count(), 200);
        let saved = api
            .put("/api/v1/company", &beta_owner, profile)
            .await
            .ok(StatusCode::OK);
        assert_eq!(saved["name"], "Beta Frères");
        assert_eq!(saved["address"], "3 quai <Rive>");
        assert_eq!(saved["postcode"], "44000");
        assert_eq!(saved["sector"], "commerce");
        // The SIREN is the company's identity: the profile does not change it.
        assert_eq!(saved["siren"], unchanged["siren"]);
        // Everyone sees the new profile: the directory (by sector) and the company.
        let page = api
            .get("/api/v1/directory?sector=commerce", &alpha_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(members(&page), [beta.id]);
        assert_eq!(page["items"][0]["name"], "Beta Frères");
        assert_eq!(page["items"][0]["city"], "Nantes");
        let stored = people::member(&store, beta.id).await.unwrap().unwrap();
        assert_eq!(stored.description, "Traiteur");
        assert_eq!(
            people::member(&store, alpha.id)
                .await
                .unwrap()
                .unwrap()
                .name,
            "Alpha SARL"
        );
        store.close().await;
    }
});

story!(the_owner_manages_the_company_users, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
        let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
        let beta_staff = token(&store, "staff@beta.fr", Scope::Pay).await;
        let alpha_owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let emails = |page: &Value| -> Vec<String> {
            let mut emails: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned())
                .collect();
            emails.sort();
            emails
        };
        // Every user of the company sees who works for it.
        let users = api
            .get("/api/v1/company/users", &beta_staff)
            .await
            .ok(StatusCode::OK);
        assert_eq!(emails(&users), ["owner@beta.fr", "staff@beta.fr"]);
        api.get("/api/v1/company/users", &manager)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Only the owner invites, with a pay token; bad input changes nothing.
        let invitation = json!({"email": "Compta@Beta.fr", "role": "member_accountant"});
        for caller in [&beta_staff, &beta_read, &manager] {
            api.post("/api/v1/company/invitations", caller, invitation.clone())
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        for (body, field) in [
            (json!({"email": "compta@beta.fr", "role": "owner"}), "role"),
            (json!({"email": "compta", "role": "staff"}), "email"),
            (json!({"email": "owner@alpha.fr", "role": "staff"}), "email"),
        ] {
            let problem = api
                .post("/api/v1/company/invitations", &beta_owner, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        let created = api
            .post("/api/v1/company/invitations", &beta_owner, invitation)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(created["email"], "compta@beta.fr");
        assert_eq!(created["role"], "member_accountant");
        let url = created["invitation_url"].as_str().unwrap();
        let link = url.strip_prefix("http://troc.test/invitation/").unwrap();
        let pending = people::find_invitation(&store, link)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pending.email, "compta@beta.fr");
        assert_eq!(pending.role, Role::MemberAccountant);
        assert_eq!(pending.member_id, Some(beta.id));

        // Removing: not the owner, not someone of another company, not by the staff.
        let staff_id = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "staff@beta.fr")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let owner_id = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "owner@beta.fr")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let remove = |id: i64| format!("/api/v1/company/users/{id}/remove");
        api.post(&remove(staff_id), &beta_staff, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(&remove(staff_id), &alpha_owner, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(&remove(owner_id), &beta_owner, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let left = api
            .post(&remove(staff_id), &beta_owner, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(emails(&left), ["owner@beta.fr"]);
        // Gone with its tokens; removing it again finds no one.
        api.get("/api/v1/me", &beta_staff)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
        api.post(&remove(staff_id), &beta_owner, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        assert!(people::find_login(&store, "staff@beta.fr")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            people::users_of_member(&store, alpha.id)
                .await
                .unwrap()
                .len(),
            2
        );
        store.close().await;
    }
});
