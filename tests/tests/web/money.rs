//! Dashboard, payments (confirmation, rejection, idempotency), history, statement, CSV.

use axum::http::StatusCode;
use tests::story;

use super::client::{hidden_value, Client};
use super::{balance, two_members, PASSWORD};

story!(pay_a_member_end_to_end, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        let mut browser = Client::new(state);
        browser.login("owner@alpha.fr", PASSWORD).await;
        assert_eq!(
            browser.get("/").await.location.as_deref(),
            Some("/dashboard")
        );
        let page = browser.get("/dashboard").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Alpha SARL");
        page.assert_contains("1 000,00");

        let page = browser.get("/pay").await;
        assert_eq!(page.status, StatusCode::OK);
        let token = hidden_value(&page.body, "token").unwrap();
        assert_eq!(token.len(), 64);
        // The payee's name is escaped in the list.
        page.assert_contains("Beta &#38; Fils &#60;SAS&#62;");
        let beta_id = beta.id.to_string();
        let fields = [
            ("payee", beta_id.as_str()),
            ("amount", "100,00"),
            ("reference", "FA-2026-001"),
            ("memo", "Maintenance <script>alert(1)</script>"),
            ("token", token.as_str()),
        ];
        let page = browser.post("/pay/confirm", &fields).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        // 2 % commission (paid by the seller), 1 % fund contribution paid by the buyer.
        page.assert_contains("id=\"commission\">2,00");
        page.assert_contains("id=\"fund\">1,00");
        page.assert_contains("id=\"resulting-balance\">-101,00");
        page.assert_contains("id=\"resulting-available\">899,00");
        page.assert_contains("Maintenance &#60;script&#62;alert(1)&#60;/script&#62;");
        assert!(!page.body.contains("<script>alert(1)"));
        // Nothing is paid by the confirmation page.
        assert_eq!(balance(&store, &alpha).await, 0);

        let page = browser.post("/pay", &fields).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("Paiement effectué.");
        page.assert_contains("id=\"balance\">-101,00");
        assert_eq!(balance(&store, &alpha).await, -10_100);
        assert_eq!(balance(&store, &beta).await, 9_800);

        // A double click or a replayed POST pays nothing more and shows the same result.
        let again = browser.post("/pay", &fields).await;
        assert_eq!(again.status, StatusCode::OK);
        again.assert_contains("Paiement effectué.");
        assert_eq!(balance(&store, &alpha).await, -10_100);

        // The dashboard and the history show it; the memo stays text.
        let page = browser.get("/dashboard").await;
        page.assert_contains("-101,00");
        page.assert_contains("<polyline");
        // The recent list names the counterparty (read for the listed lines only).
        page.assert_contains("Beta &#38; Fils &#60;SAS&#62;");
        let page = browser.get("/history").await;
        page.assert_contains("FA-2026-001");
        page.assert_contains("Maintenance &#60;script&#62;");
        assert!(!page.body.contains("<script>alert"));
        // The payee sees the sale.
        let mut seller = browser.sibling();
        seller.login("owner@beta.fr", PASSWORD).await;
        let page = seller.get("/history").await;
        page.assert_contains("98,00");
        page.assert_contains("Alpha SARL");
        store.close().await;
    }
});

story!(
    refused_payments_keep_what_was_typed,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let mut browser = Client::new(state);
            browser.login("owner@beta.fr", PASSWORD).await;
            let page = browser.get("/pay").await;
            let token = hidden_value(&page.body, "token").unwrap();
            let alpha_id = alpha.id.to_string();
            // Beta's limit is 500: 600 (+ 6 fund contribution) is refused with the figures.
            let fields = [
                ("payee", alpha_id.as_str()),
                ("amount", "600"),
                ("reference", "REF-9"),
                ("memo", "trop cher"),
                ("token", token.as_str()),
            ];
            let page = browser.post("/pay/confirm", &fields).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Crédit insuffisant : disponible 500,00, demandé 606,00");
            page.assert_contains("value=\"600\"");
            page.assert_contains("value=\"REF-9\"");
            page.assert_contains(">trop cher</textarea>");
            // Submitted directly (skipping the confirmation), the ledger refuses it the same way.
            let page = browser.post("/pay", &fields).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Crédit insuffisant : disponible 500,00, demandé 606,00");
            assert_eq!(balance(&store, &beta).await, 0);
            // In English too.
            browser.post("/lang", &[("lang", "en")]).await;
            let page = browser.post("/pay/confirm", &fields).await;
            page.assert_contains("Insufficient credit: available 500.00, requested 606.00");

            // Field errors: bad amount, unknown payee, memo and reference at and past their limits.
            let memo_max = "é".repeat(ledger::MEMO_LEN_MAX);
            let reference_max = "R".repeat(ledger::REFERENCE_LEN_MAX);
            let ok = [
                ("payee", alpha_id.as_str()),
                ("amount", "1"),
                ("reference", reference_max.as_str()),
                ("memo", memo_max.as_str()),
                ("token", token.as_str()),
            ];
            assert_eq!(
                browser.post("/pay/confirm", &ok).await.status,
                StatusCode::OK
            );
            let memo_long = "é".repeat(ledger::MEMO_LEN_MAX + 1);
            let reference_long = "R".repeat(ledger::REFERENCE_LEN_MAX + 1);
            let page = browser
                .post(
                    "/pay/confirm",
                    &[
                        ("payee", alpha_id.as_str()),
                        ("amount", "1"),
                        ("memo", memo_long.as_str()),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("The memo is 281 characters long, the maximum is 280.");
            let page = browser
                .post(
                    "/pay/confirm",
                    &[
                        ("payee", alpha_id.as_str()),
                        ("amount", "1"),
                        ("reference", reference_long.as_str()),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("The reference is 65 characters long, the maximum is 64.");
            let page = browser
                .post(
                    "/pay/confirm",
                    &[
                        ("payee", alpha_id.as_str()),
                        ("amount", "1,234"),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            page.assert_contains("Invalid amount");
            let beta_id = beta.id.to_string();
            let page = browser
                .post(
                    "/pay/confirm",
                    &[
                        ("payee", beta_id.as_str()),
                        ("amount", "1"),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            page.assert_contains("Unknown member.");
            let page = browser
                .post(
                    "/pay",
                    &[
                        ("payee", alpha_id.as_str()),
                        ("amount", "1"),
                        ("token", "short"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            assert_eq!(balance(&store, &beta).await, 0);
            store.close().await;
        }
    }
);

story!(
    history_filters_pages_statement_and_csv,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let mut browser = Client::new(state);
            browser.login("staff@alpha.fr", PASSWORD).await;
            let beta_id = beta.id.to_string();
            for n in 1..=3 {
                let page = browser.get("/pay").await;
                let token = hidden_value(&page.body, "token").unwrap();
                let amount = format!("{n}0");
                let reference = format!("FACT-{n}");
                let page = browser
                    .post(
                        "/pay",
                        &[
                            ("payee", beta_id.as_str()),
                            ("amount", amount.as_str()),
                            ("reference", reference.as_str()),
                            ("memo", "=SUM(A1)"),
                            ("token", token.as_str()),
                        ],
                    )
                    .await;
                assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            }
            // Keyset pages of 2: FACT-3, FACT-2, then FACT-1.
            let page = browser.get("/history?size=2").await;
            page.assert_contains("FACT-3");
            page.assert_contains("FACT-2");
            assert!(!page.body.contains("FACT-1"));
            let start = page
                .body
                .find("rel=\"next\"")
                .map(|_| page.body.find("href=\"/history?").unwrap())
                .unwrap();
            let href = &page.body[start + 6..];
            let href = href[..href.find('"').unwrap()].replace("&#38;", "&");
            let page = browser.get(&href).await;
            page.assert_contains("FACT-1");
            assert!(!page.body.contains("FACT-2"));
            // Page size limit: 100 is accepted, 101 refused, 0 refused.
            assert_eq!(
                browser.get("/history?size=100").await.status,
                StatusCode::OK
            );
            assert_eq!(
                browser.get("/history?size=101").await.status,
                StatusCode::BAD_REQUEST
            );
            assert_eq!(
                browser.get("/history?size=0").await.status,
                StatusCode::BAD_REQUEST
            );
            // Filters: by kind and counterparty (all three), by a period in the past (none).
            let account = beta.account_id.to_string();
            let page = browser
                .get(&format!("/history?kind=payment&counterparty={account}"))
                .await;
            page.assert_contains("FACT-1");
            page.assert_contains("FACT-3");
            let page = browser.get("/history?from=2020-01-01&to=2020-12-31").await;
            assert!(!page.body.contains("FACT-"));
            assert_eq!(
                browser.get("/history?kind=nonsense").await.status,
                StatusCode::BAD_REQUEST
            );
            assert_eq!(
                browser.get("/history?from=2020-13-01").await.status,
                StatusCode::BAD_REQUEST
            );
            // A system account is not a counterparty one can filter on.
            assert_eq!(
                browser.get("/history?counterparty=1").await.status,
                StatusCode::BAD_REQUEST
            );

            // The CSV holds one's own lines, and a memo that looks like a formula is defused.
            let page = browser.get("/history.csv").await;
            assert_eq!(
                page.content_type.as_deref(),
                Some("text/csv; charset=utf-8")
            );
            assert_eq!(page.body.lines().count(), 4);
            assert!(page.body.contains("\"'=SUM(A1)\""), "{}", page.body);
            assert!(page.body.contains(",-30.30,"), "{}", page.body);

            // The statement of this month: opening 0, closing the balance.
            let page = browser.get("/statement").await;
            page.assert_contains("id=\"opening\">0,00");
            let closing = format!(
                "id=\"closing\">{}",
                ledger::Amount::from_minor(balance(&store, &alpha).await).to_french()
            );
            page.assert_contains(&closing);
            assert_eq!(
                browser.get("/statement?month=2026-13").await.status,
                StatusCode::BAD_REQUEST
            );
            let page = browser.get("/statement?month=2020-01").await;
            page.assert_contains("id=\"opening\">0,00");
            page.assert_contains("id=\"closing\">0,00");

            // The rules page is public.
            let mut visitor = browser.sibling();
            let page = visitor.get("/rules").await;
            page.assert_contains("2,00 %");
            page.assert_contains("1,00 %");
            store.close().await;
        }
    }
);

// A payment whose order the payer signed is marked as such in both parties' history and
// monthly statement; an ordinary payment is not (issue 7: statements mark signed payments).
story!(
    signed_payments_are_marked_in_history_and_statements,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let payer = ledger::AccountId(alpha.account_id as u64);
            let payee = ledger::AccountId(beta.account_id as u64);
            let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
            let public_key = ledger::audit::public_key_hex(&key);
            store
                .register_member_key(payer, &public_key, "owner@example.com")
                .await
                .unwrap();
            let order = ledger::audit::PaymentOrder {
                payer,
                payee,
                amount: ledger::Amount::from_units(42),
                reference: "SIGNED-1".into(),
                idempotency_key: ledger::IdempotencyKey::new("order-signed-1").unwrap(),
                expires_at: chrono::Utc::now() + chrono::Duration::minutes(10),
            };
            let signature = ledger::audit::sign_order(&key, &order);
            store
                .submit_signed_order(&order, &public_key, &signature)
                .await
                .unwrap()
                .unwrap();
            store
                .submit(web::store::Submission::new(
                    ledger::IdempotencyKey::new("unsigned-1").unwrap(),
                    ledger::Operation::Payment {
                        payer,
                        payee,
                        amount: ledger::Amount::from_units(5),
                        reference: "PLAIN-1".into(),
                        memo: String::new(),
                    },
                ))
                .await
                .unwrap()
                .unwrap();
            for (login, path) in [
                ("owner@alpha.fr", "/history"),
                ("owner@alpha.fr", "/statement"),
                ("owner@beta.fr", "/history"),
            ] {
                let mut browser = Client::new(state.clone());
                browser.login(login, PASSWORD).await;
                let page = browser.get(path).await;
                assert_eq!(page.status, StatusCode::OK);
                page.assert_contains("SIGNED-1 <span class=\"signed\"");
                page.assert_contains("Ordre signé par le payeur");
                page.assert_contains("PLAIN-1</td>");
            }
        }
    }
);

story!(
    limits_warn_on_the_dashboard_and_a_payees_upper_limit_stays_private,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            crate::api::staff(&store).await;
            let api = crate::api::Api::new(state.clone());
            let manage =
                crate::api::token(&store, "gestion@troc.fr", web::tokens::Scope::Manage).await;
            let alpha_pay =
                crate::api::token(&store, "owner@alpha.fr", web::tokens::Scope::Pay).await;
            // Beta may hold at most 1 000.
            api.put(
                &format!("/api/v1/accounts/{}/credit-limit", beta.account_id),
                &manage,
                serde_json::json!({"credit_limit": "500.00", "max_balance": "1000.00",
                                   "reason": "Règle du réseau"}),
            )
            .await
            .ok(StatusCode::OK);
            let mut buyer = Client::new(state.clone());
            buyer.login("owner@alpha.fr", PASSWORD).await;
            let mut seller = buyer.sibling();
            seller.login("owner@beta.fr", PASSWORD).await;
            let near_credit = "Vous avez utilisé plus de 80 % de votre découvert autorisé.";
            let near_max = "Votre solde dépasse 80 % de votre plafond";

            // Nothing to report yet; the upper limit is a figure of Beta's, not Alpha's.
            let page = buyer.get("/dashboard").await;
            assert!(!page.body.contains(near_credit) && !page.body.contains(near_max));
            assert!(!page.body.contains("id=\"max-balance\""));
            let page = seller.get("/dashboard").await;
            assert!(!page.body.contains(near_credit) && !page.body.contains(near_max));
            page.assert_contains("id=\"max-balance\">1 000,00</div>");
            page.assert_contains("href=\"/credit-limit\"");

            // 800 paid: Alpha owes 808 of 1 000 (the fund's 1 %), Beta holds 784 of 1 000
            // (2 % commission): under 80 % for Beta only.
            crate::api::pays(&api, &alpha_pay, &beta, "800.00").await;
            buyer.get("/dashboard").await.assert_contains(near_credit);
            let page = seller.get("/dashboard").await;
            assert!(!page.body.contains(near_max), "784 is not past 80 %");
            // 30 more: Beta holds 813.40, past 80 % of its upper limit.
            crate::api::pays(&api, &alpha_pay, &beta, "30.00").await;
            let page = seller.get("/dashboard").await;
            page.assert_contains(near_max);
            assert!(!page.body.contains(near_credit));
            let page = buyer.get("/dashboard").await;
            assert!(!page.body.contains(near_max));
            let mut english = seller.sibling();
            english.login("owner@beta.fr", PASSWORD).await;
            english.post("/lang", &[("lang", "en")]).await;
            english
                .get("/dashboard")
                .await
                .assert_contains("Your balance is above 80% of your upper limit");
            assert_eq!(balance(&store, &beta).await, 81_340);
            assert_eq!(balance(&store, &alpha).await, -83_830);
            // What Beta can still receive, on its page (in English: Beta's owner chose it
            // above) and through the API; none for Alpha.
            seller
                .get("/credit-limit")
                .await
                .assert_contains("id=\"lr-receivable\">186.60</td>");
            assert!(!buyer
                .get("/credit-limit")
                .await
                .body
                .contains("id=\"lr-receivable\""));
            let account = api
                .get(&format!("/api/v1/accounts/{}", beta.account_id), &manage)
                .await
                .ok(StatusCode::OK);
            assert_eq!(account["receivable"], "186.60", "{account}");

            // Past Beta's upper limit, a payment is refused, without telling the payer Beta's
            // figures (its limit and the balance it would reach give its balance away).
            api.put(
                &format!("/api/v1/accounts/{}/credit-limit", alpha.account_id),
                &manage,
                serde_json::json!({"credit_limit": "5000.00", "reason": "Revue"}),
            )
            .await
            .ok(StatusCode::OK);
            let problem = api
                .post(
                    "/api/v1/payments",
                    &alpha_pay,
                    serde_json::json!({"payee": beta.id, "amount": "200.00"}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "over_upper_limit");
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains("upper limit"), "{problem}");
            for figure in ["1000", "1009", "813", "1,000", "1 000"] {
                assert!(!detail.contains(figure), "{figure} in {problem}");
            }
            let page = buyer.get("/pay").await;
            let token = hidden_value(&page.body, "token").unwrap();
            let beta_id = beta.id.to_string();
            let page = buyer
                .post(
                    "/pay",
                    &[
                        ("payee", beta_id.as_str()),
                        ("amount", "200"),
                        ("token", token.as_str()),
                    ],
                )
                .await;
            page.assert_contains("Le bénéficiaire dépasserait son plafond");
            for figure in ["1 000,00", "1 009,40", "813,40"] {
                assert!(!page.body.contains(figure), "{figure} shown to the payer");
            }
            assert_eq!(balance(&store, &beta).await, 81_340);
            assert_eq!(balance(&store, &alpha).await, -83_830);
            store.close().await;
        }
    }
);
