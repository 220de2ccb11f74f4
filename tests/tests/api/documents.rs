//! Exports through the API, and the OpenAPI document and page.

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use tests::story;
use web::store::ActionNote;
use web::tokens::Scope;

use super::{balance, logged, member_accountant, pays, setup, texts, token};

/// Every operation the API serves: the document must list exactly these.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/accounting/mapping"),
    ("put", "/api/v1/accounting/mapping"),
    ("get", "/api/v1/accounting/member-mapping"),
    ("put", "/api/v1/accounting/member-mapping"),
    ("get", "/api/v1/accounts/{id}"),
    ("post", "/api/v1/accounts/{id}/close"),
    ("put", "/api/v1/accounts/{id}/credit-limit"),
    ("post", "/api/v1/accounts/{id}/freeze"),
    ("get", "/api/v1/accounts/{id}/keys"),
    ("post", "/api/v1/accounts/{id}/keys"),
    ("post", "/api/v1/accounts/{id}/keys/{public_key}/revoke"),
    ("get", "/api/v1/accounts/{id}/limit-history"),
    ("get", "/api/v1/accounts/{id}/transactions"),
    ("post", "/api/v1/accounts/{id}/unfreeze"),
    ("get", "/api/v1/action-log"),
    ("get", "/api/v1/announcements"),
    ("post", "/api/v1/announcements"),
    ("post", "/api/v1/announcements/{id}/withdraw"),
    ("get", "/api/v1/applications"),
    ("get", "/api/v1/applications/{id}"),
    ("post", "/api/v1/applications/{id}/approve"),
    ("post", "/api/v1/applications/{id}/refuse"),
    ("get", "/api/v1/brokering"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("put", "/api/v1/categories/{code}"),
    ("get", "/api/v1/company"),
    ("get", "/api/v1/company/actions"),
    ("put", "/api/v1/company"),
    ("post", "/api/v1/company/invitations"),
    ("put", "/api/v1/company/privacy"),
    ("put", "/api/v1/company/users/{id}/payment-limit"),
    ("get", "/api/v1/company/users"),
    ("post", "/api/v1/company/users/{id}/remove"),
    ("get", "/api/v1/directory"),
    ("get", "/api/v1/docs"),
    ("get", "/api/v1/exports/{format}"),
    ("get", "/api/v1/guarantee-fund"),
    ("get", "/api/v1/guarantee-fund/stress"),
    ("get", "/api/v1/guarantee-fund/written-off"),
    ("get", "/api/v1/me"),
    ("put", "/api/v1/me/notices"),
    ("get", "/api/v1/members"),
    ("post", "/api/v1/members"),
    ("post", "/api/v1/members/import"),
    ("post", "/api/v1/members/import/{batch}/finish"),
    ("get", "/api/v1/members/import/unfinished"),
    ("get", "/api/v1/members/{id}"),
    ("put", "/api/v1/members/{id}/category"),
    ("post", "/api/v1/members/{id}/default"),
    ("post", "/api/v1/members/{id}/invitation"),
    ("post", "/api/v1/members/{id}/recovery"),
    ("put", "/api/v1/members/{id}/review"),
    ("get", "/api/v1/company/data"),
    ("get", "/api/v1/departures"),
    ("post", "/api/v1/departures"),
    ("post", "/api/v1/departures/{id}/close"),
    ("post", "/api/v1/departures/{id}/withdraw"),
    ("get", "/api/v1/disputes"),
    ("post", "/api/v1/disputes"),
    ("get", "/api/v1/disputes/{id}"),
    ("post", "/api/v1/disputes/{id}/decide"),
    ("post", "/api/v1/disputes/{id}/reply"),
    ("post", "/api/v1/disputes/{id}/withdraw"),
    ("get", "/api/v1/limit-requests"),
    ("post", "/api/v1/limit-requests"),
    ("get", "/api/v1/limit-requests/{id}"),
    ("post", "/api/v1/limit-requests/{id}/decline"),
    ("post", "/api/v1/limit-requests/{id}/grant"),
    ("post", "/api/v1/limit-requests/{id}/withdraw"),
    ("get", "/api/v1/members/{id}/tokens"),
    ("post", "/api/v1/members/{id}/tokens/{token_id}/revoke"),
    ("put", "/api/v1/members/{id}/turnover"),
    ("get", "/api/v1/network"),
    ("get", "/api/v1/network/accounts"),
    ("put", "/api/v1/network/siren"),
    ("get", "/api/v1/network/stats"),
    ("get", "/api/v1/network/two-step"),
    ("put", "/api/v1/network/two-step"),
    ("get", "/api/v1/offers"),
    ("post", "/api/v1/offers"),
    ("get", "/api/v1/offers/{id}"),
    ("put", "/api/v1/offers/{id}"),
    ("post", "/api/v1/offers/{id}/close"),
    ("post", "/api/v1/offers/{id}/order"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/orders/{id}"),
    ("post", "/api/v1/orders/{id}/cancel"),
    ("post", "/api/v1/orders/{id}/deliver"),
    ("get", "/api/v1/outside-invoices"),
    ("post", "/api/v1/outside-invoices"),
    ("post", "/api/v1/outside-invoices/{id}/close"),
    ("post", "/api/v1/outside-invoices/{id}/confirm"),
    ("post", "/api/v1/outside-invoices/{id}/reject"),
    ("get", "/api/v1/payment-requests"),
    ("post", "/api/v1/payment-requests"),
    ("get", "/api/v1/payment-requests/{id}"),
    ("post", "/api/v1/payment-requests/{id}/accept"),
    ("post", "/api/v1/payment-requests/{id}/decline"),
    ("get", "/api/v1/payment-approvals"),
    ("post", "/api/v1/payment-approvals"),
    ("get", "/api/v1/payment-approvals/{id}"),
    ("post", "/api/v1/payment-approvals/{id}/approve"),
    ("post", "/api/v1/payment-approvals/{id}/decline"),
    ("post", "/api/v1/payment-approvals/{id}/withdraw"),
    ("post", "/api/v1/payments"),
    ("get", "/api/v1/transactions/{id}"),
    ("post", "/api/v1/transactions/{id}/refund"),
    ("post", "/api/v1/transactions/{id}/reverse"),
    ("get", "/api/v1/period-locks"),
    ("post", "/api/v1/period-locks"),
    ("get", "/api/v1/reports/statement"),
    ("get", "/api/v1/reports/summary"),
    ("get", "/api/v1/reports/trial-balance"),
    ("get", "/api/v1/reviews"),
    ("put", "/api/v1/reviews/settings"),
    ("get", "/api/v1/setoff-runs"),
    ("post", "/api/v1/setoff-runs"),
    ("get", "/api/v1/setoff-runs/{id}"),
    ("get", "/api/v1/rules"),
    ("post", "/api/v1/rules"),
    ("post", "/api/v1/signed-payments"),
    ("get", "/api/v1/invoices"),
    ("post", "/api/v1/invoices"),
    ("get", "/api/v1/invoices/{id}"),
    ("get", "/api/v1/invoices/{id}/cii"),
    ("get", "/api/v1/invoices/cii.zip"),
    ("get", "/api/v1/company/invoice-mentions"),
    ("put", "/api/v1/company/invoice-mentions"),
    ("post", "/api/v1/invoices/{id}/credit-note"),
    ("get", "/api/v1/standing-orders"),
    ("post", "/api/v1/standing-orders"),
    ("get", "/api/v1/standing-orders/{id}"),
    ("post", "/api/v1/standing-orders/{id}/cancel"),
    ("get", "/api/v1/suggestions"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens/{id}/revoke"),
    ("get", "/api/v1/wants"),
    ("post", "/api/v1/wants"),
    ("get", "/api/v1/wants/{id}"),
    ("put", "/api/v1/wants/{id}"),
    ("post", "/api/v1/wants/{id}/close"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("post", "/api/v1/webhooks/{id}/remove"),
    ("post", "/api/v1/webhooks/{id}/enable"),
    ("post", "/api/v1/webhooks/{id}/ping"),
];

story!(openapi_document_lists_every_route, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _, _) = setup(&url).await;
        let answer = api
            .send(Method::GET, "/api/v1/openapi.json", None, &[], None)
            .await;
        let document = answer.ok(StatusCode::OK);
        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
        // The signed order's body is one schema, shared with `troc order sign` and the page.
        let body = &document["paths"]["/api/v1/signed-payments"]["post"]["requestBody"];
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/SignedPaymentBody"
        );
        let schema = &document["components"]["schemas"]["SignedPaymentBody"];
        for field in [
            "payer",
            "payee",
            "amount",
            "idempotency_key",
            "expires_at",
            "signature",
        ] {
            assert!(schema["properties"][field].is_object(), "{field}");
        }
        let mut listed = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    listed.push((method.clone(), path.clone()));
                }
            }
        }
        listed.sort();
        let mut expected: Vec<(String, String)> = OPERATIONS
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        expected.sort();
        assert_eq!(listed, expected);
        // Every listed operation is served: without a token it answers 401 (or the document).
        for (method, path) in OPERATIONS {
            let concrete = path.replace("{id}", "1").replace("{format}", "fec");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = api
                .send(method.clone(), &concrete, None, &[], Some("{}".into()))
                .await;
            let expected = if path.ends_with("openapi.json") || path.ends_with("/docs") {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(
                answer.status, expected,
                "{method} {concrete}: {}",
                answer.text
            );
            // ... and the document says so, with the problem it is, and declares the token.
            let operation = &document["paths"][path][method.as_str().to_lowercase()];
            let unauthorized = &operation["responses"]["401"];
            if expected == StatusCode::UNAUTHORIZED {
                assert_eq!(operation["security"], json!([{"bearer": []}]), "{path}");
                assert_eq!(
                    unauthorized["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}"
                );
            } else {
                assert!(unauthorized.is_null(), "{path}");
            }
            // A write's key may have been used for another request: 409, said by every write.
            if [Method::POST, Method::PUT].contains(&method) {
                let conflict = &operation["responses"]["409"];
                assert!(
                    conflict["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("Idempotency-Key")),
                    "{method} {path}: {conflict}"
                );
            }
        }
        // Amounts are strings in the schemas, the bearer scheme is declared.
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["PaymentBody"]["properties"]["amount"]["type"],
            "string"
        );
        assert_eq!(
            schemas["AccountBody"]["properties"]["balance"]["type"],
            "string"
        );
        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        // The human page, drawn from the same document.
        let page = api
            .send(
                Method::GET,
                "/api/v1/docs",
                None,
                &[("accept-language", "en")],
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        for (_, path) in OPERATIONS {
            assert!(page.text.contains(path), "{path} missing from the page");
        }
        assert!(!page.text.contains("https://"), "no external resource");
        store.close().await;
    }
});

story!(exports_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        api.post(
            "/api/v1/payments",
            &pay,
            json!({"payee": beta.id, "amount": "100"}),
        )
        .await
        .ok(StatusCode::CREATED);
        // A FEC needs its period locked: through yesterday (Paris).
        let yesterday =
            web::export::calendar::day_of(chrono::Utc::now()) - chrono::Duration::days(1);
        store
            .lock_period(yesterday, "comptable", chrono::Utc::now())
            .await
            .unwrap();
        let query = format!(
            "from={}&to={yesterday}",
            yesterday - chrono::Duration::days(30)
        );
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        // Without the network's SIREN: a problem with its code.
        api.get(&format!("/api/v1/exports/fec?{query}"), &accountant)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "no_siren");
        let note = ActionNote::new(None, "cli", web::store::SIREN_ACTION, "").unwrap();
        store
            .set_network_siren(&web::export::Siren::new("552100554").unwrap(), note)
            .await
            .unwrap();
        let fec = api
            .get(&format!("/api/v1/exports/fec?{query}"), &accountant)
            .await;
        assert_eq!(fec.status, StatusCode::OK, "{}", fec.text);
        assert!(
            fec.text.starts_with("JournalCode|JournalLib|"),
            "{}",
            fec.text
        );
        let hledger = api
            .get(
                &format!("/api/v1/exports/hledger?{query}&member={}", alpha.id),
                &accountant,
            )
            .await;
        assert_eq!(hledger.status, StatusCode::OK, "{}", hledger.text);
        // A member's owner gets its own books, not another's; staff get none.
        let owner = token(&store, "owner@alpha.fr", Scope::Read).await;
        let own = api
            .get(&format!("/api/v1/exports/csv?{query}"), &owner)
            .await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.text);
        api.get(
            &format!("/api/v1/exports/csv?{query}&member={}", beta.id),
            &owner,
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        let staff = token(&store, "staff@alpha.fr", Scope::Read).await;
        api.get(&format!("/api/v1/exports/csv?{query}"), &staff)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let expert = member_accountant(&store, &alpha).await;
        let books = api
            .get(&format!("/api/v1/exports/fec?{query}"), &expert)
            .await;
        assert_eq!(books.status, StatusCode::OK, "{}", books.text);
        // Bad inputs.
        api.get(&format!("/api/v1/exports/xls?{query}"), &accountant)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let problem = api
            .get(
                "/api/v1/exports/fec?from=2026-13-01&to=2026-12-31",
                &accountant,
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "from");
        api.get(
            &format!("/api/v1/exports/fec?{query}&member=999999"),
            &accountant,
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        store.close().await;
    }
});

story!(periods_are_locked_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let today = web::export::calendar::day_of(chrono::Utc::now());
        let day = |back: i64| {
            (today - chrono::Duration::days(back))
                .format("%Y-%m-%d")
                .to_string()
        };
        let listed = api
            .get("/api/v1/period-locks", &owner_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(listed["items"], json!([]));

        // Members do not lock; the network's accountant does, with a reason up to 500.
        api.post(
            "/api/v1/period-locks",
            &owner_pay,
            json!({"through": day(10)}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
        for (body, field) in [
            (json!({"through": "2026-13-01"}), "through"),
            (json!({"reason": "x"}), "through"),
            (
                json!({"through": day(10), "reason": "r".repeat(501)}),
                "reason",
            ),
        ] {
            let problem = api
                .post("/api/v1/period-locks", &accountant, body)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field);
        }
        api.post(
            "/api/v1/period-locks",
            &accountant,
            json!({"through": day(0)}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "period_not_over");
        assert!(store.locked_through().await.unwrap().is_none());
        let locked = api
            .post(
                "/api/v1/period-locks",
                &accountant,
                json!({"through": day(10), "reason": "r".repeat(500)}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(locked["through"], day(10));
        // Locks only move forward.
        for back in [10, 11] {
            api.post(
                "/api/v1/period-locks",
                &manage,
                json!({"through": day(back)}),
            )
            .await
            .problem(StatusCode::CONFLICT, "already_locked");
        }
        api.post("/api/v1/period-locks", &manage, json!({"through": day(1)}))
            .await
            .ok(StatusCode::CREATED);
        let listed = api
            .get("/api/v1/period-locks", &owner_read)
            .await
            .ok(StatusCode::OK);
        let days = texts(&listed["items"], "through");
        assert_eq!(days, [day(10), day(1)]);
        assert_eq!(
            store.locked_through().await.unwrap(),
            Some(today - chrono::Duration::days(1))
        );
        // On the record, with who and why.
        let log = api
            .get("/api/v1/action-log?limit=2", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(log["items"][0]["actor"], "gestion@troc.fr");
        assert_eq!(log["items"][1]["actor"], "compta@troc.fr");
        assert_eq!(log["items"][1]["reason"], "r".repeat(500));
        store.close().await;
    }
});

story!(reports_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        for (amount, reference) in [("100", "F-1"), ("40.50", "F-2")] {
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": amount, "reference": reference}),
            )
            .await
            .ok(StatusCode::CREATED);
        }
        let today = web::export::calendar::day_of(chrono::Utc::now());
        let from = today - chrono::Duration::days(10);
        let query = format!("from={from}&to={today}");
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let owner = token(&store, "owner@alpha.fr", Scope::Read).await;
        let staff = token(&store, "staff@alpha.fr", Scope::Read).await;

        // Alpha's statement, as its owner reads it: two purchases and the running balance.
        let statement = api
            .get(&format!("/api/v1/reports/statement?{query}"), &owner)
            .await
            .ok(StatusCode::OK);
        assert_eq!(statement["member_id"], alpha.id);
        assert_eq!(statement["opening_balance"], "0.00");
        let lines = statement["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["reference"], "F-1");
        assert_eq!(lines[0]["kind"], "payment");
        assert_eq!(lines[0]["counterparty"], "Beta & Fils <SAS>");
        // The buyer pays the fund's contribution (1 %) on top of the price.
        assert_eq!(lines[0]["amount"], "-101.00");
        assert_eq!(lines[0]["fund_contribution"], "-1.00");
        assert_eq!(lines[0]["balance"], "-101.00");
        let minor = |v: &serde_json::Value| {
            ledger::Amount::parse_signed(v.as_str().unwrap())
                .unwrap()
                .minor()
        };
        let second = minor(&lines[1]["amount"]);
        assert_eq!(
            second - minor(&lines[1]["fund_contribution"]) - minor(&lines[1]["commission"]),
            -4_050
        );
        assert_eq!(minor(&lines[1]["balance"]), -10_100 + second);
        assert_eq!(minor(&statement["debits"]), -10_100 + second);
        assert_eq!(statement["credits"], "0.00");
        let closing = ledger::Amount::from_minor(balance(&store, &alpha).await).to_plain();
        assert_eq!(statement["closing_balance"], closing.as_str());
        // The accountant names the member; the same statement.
        let same = api
            .get(
                &format!("/api/v1/reports/statement?{query}&member={}", alpha.id),
                &accountant,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(same, statement);
        let problem = api
            .get(&format!("/api/v1/reports/statement?{query}"), &accountant)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "member");
        // Another member's books answer 404; staff read none.
        for report in ["statement", "trial-balance"] {
            api.get(
                &format!("/api/v1/reports/{report}?{query}&member={}", beta.id),
                &owner,
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
            api.get(&format!("/api/v1/reports/{report}?{query}"), &staff)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }

        // The network's trial balance balances; Alpha's shows its account.
        let network = api
            .get(
                &format!("/api/v1/reports/trial-balance?{query}"),
                &accountant,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(network["member_id"], serde_json::Value::Null);
        assert_eq!(network["debit_total"], network["credit_total"]);
        assert_ne!(network["debit_total"], "0.00");
        assert!(!network["rows"].as_array().unwrap().is_empty());
        let own = api
            .get(&format!("/api/v1/reports/trial-balance?{query}"), &owner)
            .await
            .ok(StatusCode::OK);
        assert_eq!(own["member_id"], alpha.id);
        assert_eq!(own["debit_total"], own["credit_total"]);

        // The period: at most PERIOD_DAYS_MAX days, both included, `from` not after `to`.
        let longest = today - chrono::Duration::days(web::export::PERIOD_DAYS_MAX - 1);
        api.get(
            &format!("/api/v1/reports/trial-balance?from={longest}&to={today}"),
            &accountant,
        )
        .await
        .ok(StatusCode::OK);
        let too_long = longest - chrono::Duration::days(1);
        for query in [
            format!("from={too_long}&to={today}"),
            format!("from={today}&to={from}"),
            format!("from=2026-13-01&to={today}"),
            format!("to={today}"),
        ] {
            api.get(
                &format!("/api/v1/reports/trial-balance?{query}"),
                &accountant,
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        store.close().await;
    }
});

// A member's annual summary: what its accountant books for the year, from the same builder
// as the accounting page's, for the member itself or the network's staff naming it.
story!(annual_summary_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        use chrono::Datelike;
        let (store, api, alpha, beta) = setup(&url).await;
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        for amount in ["100", "40.50"] {
            api.post(
                "/api/v1/payments",
                &pay,
                json!({"payee": beta.id, "amount": amount}),
            )
            .await
            .ok(StatusCode::CREATED);
        }
        let year = web::export::calendar::day_of(chrono::Utc::now()).year();
        let owner = token(&store, "owner@alpha.fr", Scope::Read).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let staff = token(&store, "staff@alpha.fr", Scope::Read).await;
        let minor = |v: &serde_json::Value| {
            ledger::Amount::parse_signed(v.as_str().unwrap())
                .unwrap()
                .minor()
        };
        // The figures add up to the closing balance, which is the ledger's.
        let adds_up = |s: &serde_json::Value| {
            minor(&s["opening_balance"]) + minor(&s["sales"])
                - minor(&s["purchases"])
                - minor(&s["commissions"])
                - minor(&s["fees"])
                - minor(&s["fund_contributions"])
                + minor(&s["other"])
                == minor(&s["closing_balance"])
        };

        // The buyer's own, as its owner reads it.
        let mine = api
            .get(&format!("/api/v1/reports/summary?year={year}"), &owner)
            .await
            .ok(StatusCode::OK);
        assert_eq!(mine["year"], year);
        assert_eq!(mine["member_id"], alpha.id);
        assert_eq!(mine["opening_balance"], "0.00");
        assert_eq!(mine["purchases"], "140.50");
        assert_eq!(mine["sales"], "0.00");
        assert_ne!(mine["fund_contributions"], "0.00");
        assert_eq!(mine["transactions"], 2);
        assert!(adds_up(&mine), "{mine}");
        assert_eq!(
            minor(&mine["closing_balance"]),
            balance(&store, &alpha).await
        );

        // The seller's, as the network's accountant names it.
        let theirs = api
            .get(
                &format!("/api/v1/reports/summary?year={year}&member={}", beta.id),
                &accountant,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(theirs["member_id"], beta.id);
        assert_eq!(theirs["sales"], "140.50");
        assert_eq!(theirs["purchases"], "0.00");
        assert!(adds_up(&theirs), "{theirs}");
        assert_eq!(
            minor(&theirs["closing_balance"]),
            balance(&store, &beta).await
        );

        // Last year: nothing yet; the year's bounds are accepted, one past them refused.
        let before = api
            .get(
                &format!("/api/v1/reports/summary?year={}", year - 1),
                &owner,
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(before["closing_balance"], "0.00");
        assert_eq!(before["transactions"], 0);
        for bound in [
            web::http::accounting::SUMMARY_YEAR_MIN,
            web::http::accounting::SUMMARY_YEAR_MAX,
        ] {
            api.get(&format!("/api/v1/reports/summary?year={bound}"), &owner)
                .await
                .ok(StatusCode::OK);
        }
        for bad in [
            "?year=1999",
            "?year=3000",
            "?year=2026.5",
            "?year=deux",
            "?year=",
            "",
        ] {
            let problem = api
                .get(&format!("/api/v1/reports/summary{bad}"), &owner)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "year", "{bad}");
        }
        // The network's staff name the member; another member's books are not found; the
        // company's staff read none.
        let problem = api
            .get(&format!("/api/v1/reports/summary?year={year}"), &accountant)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "member");
        api.get(
            &format!("/api/v1/reports/summary?year={year}&member={}", beta.id),
            &owner,
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        api.get(&format!("/api/v1/reports/summary?year={year}"), &staff)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        store.close().await;
    }
});

story!(the_network_siren_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let member = token(&store, "owner@alpha.fr", Scope::Read).await;
        let network = api.get("/api/v1/network", &member).await.ok(StatusCode::OK);
        assert!(!network["name"].as_str().unwrap().is_empty());
        assert_eq!(network["siren"], serde_json::Value::Null);
        for caller in [&accountant, &member] {
            api.put(
                "/api/v1/network/siren",
                caller,
                json!({"siren": "552100554"}),
            )
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        // Nine digits that fail the Luhn check, eight, ten: refused, nothing set.
        for bad in ["552100555", "55210055", "5521005540"] {
            let problem = api
                .put("/api/v1/network/siren", &manage, json!({"siren": bad}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "siren");
        }
        assert!(store.network_siren().await.unwrap().is_none());
        let set = api
            .put(
                "/api/v1/network/siren",
                &manage,
                json!({"siren": " 552100554 "}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(set["siren"], "552100554");
        assert_eq!(
            store.network_siren().await.unwrap().unwrap().as_str(),
            "552100554"
        );
        assert_eq!(logged(&api, &accountant, "network.siren").await, 1);
        store.close().await;
    }
});

story!(the_account_mapping_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = setup(&url).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
        let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
        // The defaults until one is stored.
        let mapping = api
            .get("/api/v1/accounting/mapping", &accountant)
            .await
            .ok(StatusCode::OK);
        assert_eq!(mapping["operator"]["commission"]["num"], "706000");
        assert_eq!(mapping["member_default"]["customers"]["num"], "411100");
        api.get("/api/v1/accounting/mapping", &owner)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.put("/api/v1/accounting/mapping", &owner, mapping.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // A class 9 account, a label one past 100 characters: refused, the field named,
        // nothing stored.
        let mut bad = mapping.clone();
        bad["operator"]["commission"]["num"] = json!("906000");
        let problem = api
            .put("/api/v1/accounting/mapping", &accountant, bad)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "operator.commission");
        let mut long = mapping.clone();
        long["member_default"]["suppliers"]["label"] = json!("é".repeat(101));
        let problem = api
            .put("/api/v1/accounting/mapping", &accountant, long)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "member_default.suppliers");
        assert_eq!(
            store
                .account_mapping()
                .await
                .unwrap()
                .operator
                .commission
                .num(),
            "706000"
        );

        // The accountant's chart: a commission account of its own, a 100-character label.
        let mut chart = mapping.clone();
        chart["operator"]["commission"] = json!({"num": "706500", "label": "Commissions barter"});
        chart["member_default"]["suppliers"]["label"] = json!("é".repeat(100));
        let stored = api
            .put("/api/v1/accounting/mapping", &accountant, chart)
            .await
            .ok(StatusCode::OK);
        assert_eq!(stored["operator"]["commission"]["num"], "706500");
        let read = api
            .get("/api/v1/accounting/mapping", &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(read, stored);
        assert_eq!(
            store
                .account_mapping()
                .await
                .unwrap()
                .operator
                .commission
                .num(),
            "706500"
        );
        assert_eq!(logged(&api, &manage, "accounting.mapping").await, 1);
        store.close().await;
    }
});

story!(
    a_member_keeps_its_own_chart_of_accounts,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let accountant = token(&store, "compta@troc.fr", Scope::Manage).await;
            let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let staff = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let expert = member_accountant(&store, &alpha).await;

            let own = api
                .get("/api/v1/accounting/member-mapping", &expert)
                .await
                .ok(StatusCode::OK);
            assert_eq!(own["member_id"], alpha.id);
            assert_eq!(own["own"], false);
            assert_eq!(own["mapping"]["customers"]["num"], "411100");
            // The network's staff name the member; a member cannot read another's.
            let read = api
                .get(
                    &format!("/api/v1/accounting/member-mapping?member={}", alpha.id),
                    &accountant,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(read, own);
            api.get("/api/v1/accounting/member-mapping", &accountant)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            api.get(
                &format!("/api/v1/accounting/member-mapping?member={}", beta.id),
                &owner_read,
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");

            // The company's accountant sets a chart with its read token; the owner needs pay;
            // staff and the network's staff may not.
            let mut chart = own["mapping"].clone();
            chart["barter"] = json!({"single": {"num": "517000", "label": "Compte barter"}});
            let body = json!({"mapping": chart});
            for caller in [&owner_read, &staff, &accountant] {
                api.put("/api/v1/accounting/member-mapping", caller, body.clone())
                    .await
                    .problem(StatusCode::FORBIDDEN, "forbidden");
            }
            let mut bad = body.clone();
            bad["mapping"]["customers"]["num"] = json!("41");
            let problem = api
                .put("/api/v1/accounting/member-mapping", &expert, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "mapping.customers");
            let set = api
                .put("/api/v1/accounting/member-mapping", &expert, body.clone())
                .await
                .ok(StatusCode::OK);
            assert_eq!(set["own"], true);
            assert_eq!(set["mapping"]["barter"]["single"]["num"], "517000");
            // Beta still uses the network's default.
            let beta_chart = api
                .get(
                    &format!("/api/v1/accounting/member-mapping?member={}", beta.id),
                    &accountant,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(beta_chart["own"], false);
            // The owner drops it: the default again.
            let reset = api
                .put(
                    "/api/v1/accounting/member-mapping",
                    &owner_pay,
                    json!({"mapping": null}),
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(reset["own"], false);
            assert_eq!(reset["mapping"], own["mapping"]);
            assert_eq!(
                logged(&api, &accountant, "accounting.member_mapping").await,
                2
            );
            store.close().await;
        }
    }
);

/// The `.rs` files under `dir`, recursively (a bounded walk: the source tree is small).
fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
        assert!(found.len() < 10_000, "the walk is bounded");
    }
}

/// utoipa names a component schema after its type (or `#[schema(as = ...)]`); two types of
/// one name silently become one schema, and every answer of the other then "violates" the
/// document (the fuzzer found `TransactionItem` twice). Every name must be unique.
#[test]
fn openapi_schema_names_are_unique() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut names: Vec<(String, String)> = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            let item = lines[n + 1..]
                .iter()
                .take(40)
                .find_map(|l| {
                    let l = l.trim_start();
                    if let Some(rest) = l.strip_prefix("#[schema(as = ") {
                        renamed = rest.split(')').next().map(str::to_owned);
                    }
                    ["pub struct ", "pub enum ", "struct ", "enum "]
                        .iter()
                        .find_map(|p| l.strip_prefix(p))
                        .map(|rest| {
                            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                                .next()
                                .unwrap()
                                .to_owned()
                        })
                })
                .unwrap_or_else(|| panic!("a type after {}:{}", file.display(), n + 1));
            let name = renamed.unwrap_or(item);
            names.push((name, format!("{}:{}", file.display(), n + 1)));
        }
    }
    assert!(names.len() > 50, "found {} schemas", names.len());
    names.sort();
    for pair in names.windows(2) {
        assert_ne!(pair[0].0, pair[1].0, "{} and {}", pair[0].1, pair[1].1);
    }
}

/// Every `$ref` under `value`, recursively (the document is a tree of bounded depth).
fn references<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                found.push(target);
            }
            map.values().for_each(|v| references(v, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// The words of a schema that lists them (`enum`), following one reference.
fn words(schemas: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
    let schema = match schema["$ref"].as_str() {
        Some(target) => &schemas[target.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    schema["enum"]
        .as_array()
        .map(|words| {
            words
                .iter()
                .map(|w| w.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The served OpenAPI document.
async fn openapi_document(api: &super::Api) -> serde_json::Value {
    api.send(Method::GET, "/api/v1/openapi.json", None, &[], None)
        .await
        .ok(StatusCode::OK)
}

// The document holds together: every `$ref` resolves (a schema named only by a query
// parameter is registered too), no two operations share an id, and every link names an
// operation of the document and parameters it takes (schemathesis follows the links).
story!(
    openapi_references_ids_and_links_hold,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, _, _) = setup(&url).await;
            let document = openapi_document(&api).await;
            let schemas = &document["components"]["schemas"];
            // Every reference resolves (a schema named only by a query parameter is registered).
            let mut targets = Vec::new();
            references(&document, &mut targets);
            assert!(targets.len() > 200, "{} references", targets.len());
            for target in &targets {
                let name = target
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("{target}"));
                assert!(schemas[name].is_object(), "{target} is not in the document");
            }

            // Operation ids are unique (OpenAPI requires it; links name their target by it), and
            // every link names an operation of the document and only parameters it takes.
            let mut operations = std::collections::BTreeMap::new();
            for (path, item) in document["paths"].as_object().unwrap() {
                for (method, operation) in item.as_object().unwrap() {
                    if let Some(id) = operation["operationId"].as_str() {
                        let before = operations.insert(id.to_owned(), operation.clone());
                        assert!(before.is_none(), "operationId {id} twice ({method} {path})");
                    }
                }
            }
            assert!(operations.len() > 100, "{} operations", operations.len());
            let mut linked = 0;
            for operation in operations.values() {
                for answer in operation["responses"].as_object().unwrap().values() {
                    for link in answer["links"]
                        .as_object()
                        .into_iter()
                        .flat_map(|l| l.values())
                    {
                        let target = link["operationId"].as_str().unwrap();
                        let target = operations.get(target).unwrap_or_else(|| panic!("{target}"));
                        for name in link["parameters"].as_object().unwrap().keys() {
                            let takes = target["parameters"].as_array().into_iter().flatten();
                            assert!(takes.clone().any(|p| p["name"] == *name), "{name}: {link}");
                        }
                        linked += 1;
                    }
                }
            }
            assert!(linked >= 20, "{linked} links");

            store.close().await;
        }
    }
);

// The words a string parameter takes (`enum`, docs/api.md "What the document promises")
// are what the server accepts: clients and the fuzzer built from the document send them.
story!(
    openapi_words_are_what_the_server_accepts,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, _, _) = setup(&url).await;
            let document = openapi_document(&api).await;
            let schemas = &document["components"]["schemas"];
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let manager = token(&store, "gestion@troc.fr", Scope::Manage).await;
            // Query parameters with words: each word is answered 200 to the member's owner or to
            // the manager; a word not in the list is answered 200 to neither.
            let mut lists = 0;
            for (path, item) in document["paths"].as_object().unwrap() {
                let Some(parameters) = item["get"]["parameters"].as_array() else {
                    continue;
                };
                if path.contains('{') {
                    continue;
                }
                for parameter in parameters.iter().filter(|p| p["in"] == "query") {
                    let name = parameter["name"].as_str().unwrap();
                    let listed = words(schemas, &parameter["schema"]);
                    if listed.is_empty() {
                        continue;
                    }
                    lists += 1;
                    for word in listed.iter().map(String::as_str).chain(["not-a-word"]) {
                        let uri = format!("{path}?{name}={word}");
                        let statuses = [
                            api.get(&uri, &owner).await.status,
                            api.get(&uri, &manager).await.status,
                        ];
                        let served = statuses.contains(&StatusCode::OK);
                        assert_eq!(served, word != "not-a-word", "{uri}: {statuses:?}");
                    }
                }
            }
            assert!(lists >= 7, "{lists} query parameters with words");
            // The export's format, in its path: each word is a file (or a reason why not, such
            // as the network's SIREN not being set), another word is not found.
            let export = &document["paths"]["/api/v1/exports/{format}"]["get"]["parameters"];
            let format = export
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "format")
                .unwrap();
            let formats = words(schemas, &format["schema"]);
            assert_eq!(formats.len(), 5, "{formats:?}");
            for word in formats.iter().map(String::as_str).chain(["not-a-word"]) {
                let uri = format!("/api/v1/exports/{word}?from=2026-01-01&to=2026-12-31");
                let status = api.get(&uri, &owner).await.status;
                assert_eq!(
                    status == StatusCode::NOT_FOUND,
                    word == "not-a-word",
                    "{uri}"
                );
            }

            // Words of bodies: the code that reads them knows each one.
            let property =
                |body: &str, field: &str| words(schemas, &schemas[body]["properties"][field]);
            let every = property("StandingOrderBody", "every");
            assert_eq!(every.len(), 2);
            assert!(every
                .iter()
                .all(|w| web::standing::Every::parse(w).is_some()));
            let payers = property("RulesChangeBody", "fund_payer");
            assert_eq!(payers.len(), 2);
            assert!(payers.iter().all(|w| ledger::FundPayer::parse(w).is_some()));
            let sectors = property("ListingBody", "category");
            assert_eq!(sectors.len(), web::people::SECTORS.len());
            assert!(sectors.iter().all(|w| web::people::is_sector(w)));
            // Words of answers: what the server writes is one of them (the fuzzer checks every
            // answer against the document), and the code reads each back.
            let user_roles = property("Me", "role");
            assert_eq!(user_roles.len(), 5);
            assert!(user_roles
                .iter()
                .all(|w| web::people::Role::parse(w).is_some()));
            assert_eq!(every, property("StandingOrderItem", "every"));
            assert_eq!(payers, property("RulesVersion", "fund_payer"));
            assert_eq!(
                property("StaffInvitationBody", "role"),
                property("StaffInvitation", "role")
            );
            let scopes = property("Me", "scope");
            assert_eq!(scopes, property("TokenItem", "scope"));
            assert!(scopes.iter().all(|w| Scope::parse(w).is_some()));
            let roles = property("StaffInvitationBody", "role");
            assert_eq!(roles.len(), 2);
            for (n, role) in roles.iter().enumerate() {
                let body = json!({"email": format!("invited{n}@alpha.fr"), "role": role});
                api.post("/api/v1/company/invitations", &owner, body)
                    .await
                    .ok(StatusCode::CREATED);
            }

            store.close().await;
        }
    }
);

// The shapes the document gives (`pattern`) to cursors, the Idempotency-Key and amounts
// are no looser than the server: what they let through is accepted, and what the server
// refuses they refuse.
story!(
    openapi_shapes_are_what_the_server_accepts,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let document = openapi_document(&api).await;
            let schemas = &document["components"]["schemas"];
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            // Cursors: the shape of `after` is the shape of the `next` the server hands out.
            let mut cursors = Vec::new();
            for item in document["paths"].as_object().unwrap().values() {
                for parameter in item["get"]["parameters"].as_array().into_iter().flatten() {
                    if parameter["name"] == "after" {
                        cursors.push(parameter["schema"]["pattern"].as_str().unwrap().to_owned());
                    }
                }
            }
            cursors.dedup();
            assert_eq!(cursors.len(), 1, "{cursors:?}");
            let cursor = regex::Regex::new(&cursors[0]).unwrap();
            let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
            for _ in 0..2 {
                pays(&api, &beta_owner, &alpha, "1.00").await;
            }
            let history = format!("/api/v1/accounts/{}/transactions", alpha.account_id);
            let page = api
                .get(&format!("{history}?limit=1"), &owner)
                .await
                .ok(StatusCode::OK);
            let next = page["next"].as_str().unwrap();
            assert!(cursor.is_match(next), "{next}");
            api.get(&format!("{history}?limit=1&after={next}"), &owner)
                .await
                .ok(StatusCode::OK);
            for refused in ["0", "-1", "", "x1"] {
                assert!(!cursor.is_match(refused), "{refused:?}");
                api.get(&format!("{history}?after={refused}"), &owner)
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            }

            // The Idempotency-Key of every write: one shape, at the limit and one past it.
            let mut keys = Vec::new();
            for item in document["paths"].as_object().unwrap().values() {
                for method in ["post", "put"] {
                    if item[method].is_null() {
                        continue;
                    }
                    let header = item[method]["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|p| p["name"] == "Idempotency-Key")
                        .unwrap_or_else(|| panic!("no Idempotency-Key: {method} {item}"));
                    assert_eq!(header["schema"]["maxLength"], 255);
                    assert_eq!(header["schema"]["type"], "string", "{method} {item}");
                    assert_eq!(header["in"], "header");
                    keys.push(header["schema"]["pattern"].as_str().unwrap().to_owned());
                }
            }
            assert!(keys.len() > 50, "{} writes", keys.len());
            keys.dedup();
            assert_eq!(keys.len(), 1, "{keys:?}");
            let key = regex::Regex::new(&keys[0]).unwrap();
            let payment = json!({"payee": beta.id, "amount": "1.00"});
            for (sample, accepted) in [
                ("~".repeat(255), true),
                ("!".to_owned(), true),
                ("~".repeat(256), false),
                ("a b".to_owned(), false),
                ("é".to_owned(), false),
            ] {
                assert_eq!(key.is_match(&sample), accepted, "{sample:?}");
                let answer = api
                    .send(
                        Method::POST,
                        "/api/v1/payments",
                        Some(&owner),
                        &[("idempotency-key", &sample)],
                        Some(payment.to_string()),
                    )
                    .await;
                if accepted {
                    answer.ok(StatusCode::CREATED);
                } else {
                    answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                }
            }

            // Amounts in bodies: whatever a documented pattern lets through, the server reads;
            // where the pattern refuses zero, the server takes it as a positive amount.
            let mut patterns = Vec::new();
            for schema in schemas.as_object().unwrap().values() {
                for (field, property) in schema["properties"].as_object().into_iter().flatten() {
                    let amount_field = ["amount", "price", "credit_limit", "max_balance"]
                        .contains(&field.as_str());
                    if let (true, Some(pattern)) = (amount_field, property["pattern"].as_str()) {
                        patterns.push(pattern.to_owned());
                    }
                }
            }
            patterns.sort();
            let uses = patterns.len();
            patterns.dedup();
            assert!(
                uses >= 15 && patterns.len() == 2,
                "{uses} uses of {patterns:?}"
            );
            let samples = [
                "0",
                "0.0",
                "0.00",
                "0.01",
                "0.1",
                "0.5",
                "0.10",
                "1",
                "1.5",
                "12.50",
                "012",
                "999999999999999",
                "999999999999999.99",
                "1000000000000000",
                "1.",
                ".5",
                "1.234",
                "-1",
                "+1",
                "1e3",
                " 1",
                "12,50",
            ];
            let mut positive = 0;
            for pattern in &patterns {
                let shape = regex::Regex::new(pattern).unwrap();
                let zero_refused = !shape.is_match("0");
                positive += usize::from(zero_refused);
                for sample in samples.iter().filter(|s| shape.is_match(s)) {
                    use web::http::api::types;
                    assert!(types::amount("a", sample).is_ok(), "{pattern}: {sample}");
                    if zero_refused {
                        assert!(
                            types::positive_amount("a", sample).is_ok(),
                            "{pattern}: {sample}"
                        );
                    }
                }
            }
            assert_eq!(positive, 1, "one pattern for positive amounts");

            // Integers: JSON Schema counts `2.0` as the integer 2, and so does the server.
            assert_eq!(
                schemas["PaymentBody"]["properties"]["payee"]["type"],
                "integer"
            );
            let whole = format!(r#"{{"payee": {}.0, "amount": "1.00"}}"#, beta.id);
            let paid = api
                .send(
                    Method::POST,
                    "/api/v1/payments",
                    Some(&owner),
                    &[],
                    Some(whole),
                )
                .await
                .ok(StatusCode::CREATED);
            let shown = api
                .get(
                    &format!("/api/v1/transactions/{}", paid["transaction_id"]),
                    &owner,
                )
                .await
                .ok(StatusCode::OK);
            let credited = shown["postings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["account_id"] == beta.account().0 && p["amount"] == "1.00");
            assert!(credited, "the payee's account credited: {shown}");
            let fraction = format!(r#"{{"payee": {}.5, "amount": "1.00"}}"#, beta.id);
            let problem = api
                .send(
                    Method::POST,
                    "/api/v1/payments",
                    Some(&owner),
                    &[],
                    Some(fraction),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "payee");
            store.close().await;
        }
    }
);

// Every write the document says takes an `Idempotency-Key` reads it: a malformed key is
// refused on that field, for a caller the operation lets in.
story!(
    every_write_reads_its_idempotency_key,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, _beta) = setup(&url).await;
            let callers = [
                token(&store, "gestion@troc.fr", Scope::Manage).await,
                token(&store, "owner@alpha.fr", Scope::Pay).await,
                token(&store, "owner@alpha.fr", Scope::Read).await,
                token(&store, "staff@alpha.fr", Scope::Pay).await,
            ];
            let categories = api
                .get("/api/v1/categories", &callers[0])
                .await
                .ok(StatusCode::OK);
            let code = categories["items"][0]["code"].as_str().unwrap().to_owned();
            let mut unread = Vec::new();
            for (method, path) in OPERATIONS {
                if !["post", "put"].contains(method) {
                    continue;
                }
                let id = if path.starts_with("/api/v1/accounts/") {
                    alpha.account().0.to_string()
                } else {
                    "1".to_owned()
                };
                let concrete = path
                    .replace("{id}", &id)
                    .replace("{batch}", "1")
                    .replace("{code}", &code)
                    .replace("{token_id}", "1")
                    .replace("{public_key}", &"0".repeat(64));
                let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut read = false;
                for caller in &callers {
                    let answer = api
                        .send(
                            verb.clone(),
                            &concrete,
                            Some(caller),
                            &[("idempotency-key", "a b")],
                            Some("{}".into()),
                        )
                        .await;
                    if answer.status == StatusCode::UNPROCESSABLE_ENTITY
                        && answer.text.contains("\"field\":\"Idempotency-Key\"")
                    {
                        read = true;
                        break;
                    }
                }
                if !read {
                    let answer = api
                        .send(
                            verb.clone(),
                            &concrete,
                            Some(&callers[1]),
                            &[("idempotency-key", "a b")],
                            Some("{}".into()),
                        )
                        .await;
                    unread.push(format!(
                        "{method} {path}: {} {}",
                        answer.status, answer.text
                    ));
                }
            }
            assert!(unread.is_empty(), "{unread:#?}");
            store.close().await;
        }
    }
);
