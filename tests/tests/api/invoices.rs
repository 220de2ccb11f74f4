//! Invoices: the seller of a payment received issues its invoice (net, VAT, total, settled
//! by compensation), numbered in one unbroken series per seller and year; both companies
//! read it; nobody changes it; over the API and on the pages.

use axum::http::StatusCode;
use chrono::{Datelike, Utc};
use serde_json::{json, Value};
use tests::story;
use web::console::{Conflict, ConsoleError};
use web::invoices::{self, NewInvoice, DESCRIPTION_LEN_MAX, INVOICES_PER_YEAR_MAX};
use web::people;
use web::tokens::Scope;

use super::{member_accountant, setup, staff, token, two_members, Api, PASSWORD};
use crate::web_front::client::Client;

const INVOICES: &str = "/api/v1/invoices";

/// Pays `amount` to `payee` (a member id) with `token`; the transaction id.
async fn paid(api: &Api, token: &str, payee: i64, amount: &str) -> i64 {
    let answer = api
        .post(
            "/api/v1/payments",
            token,
            json!({"payee": payee, "amount": amount, "reference": "DEVIS-7", "memo": "Maintenance"}),
        )
        .await
        .ok(StatusCode::CREATED);
    answer["transaction_id"].as_i64().unwrap()
}

fn invoice(tx: i64, description: &str, vat_bp: i64) -> Value {
    json!({"transaction_id": tx, "description": description, "vat_bp": vat_bp})
}

async fn invoice_rows(store: &web::store::Store) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM invoices").fetch_one(pool).await.unwrap()
    })
}

async fn raw(store: &web::store::Store, sql: &str) -> Result<u64, String> {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()).map_err(|e| e.to_string())
    })
}

story!(invoices_over_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
        let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
        let gamma_pay = token(&store, "owner@gamma.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let expert = member_accountant(&store, &alpha).await;
        let year = Utc::now().year();

        // Alpha buys from Beta twice; Beta invoices its sales.
        let first = paid(&api, &alpha_pay, beta.id, "120.00").await;
        let second = paid(&api, &alpha_pay, beta.id, "1.00").await;

        // Who may issue: the seller's owner or staff with a pay token; the buyer, a stranger,
        // a read token, the network and a member accountant may not.
        for (refused, status, code) in [
            (&alpha_pay, StatusCode::NOT_FOUND, "not_found"),
            (&gamma_pay, StatusCode::NOT_FOUND, "not_found"),
            (&beta_read, StatusCode::FORBIDDEN, "forbidden"),
            (&manage, StatusCode::FORBIDDEN, "forbidden"),
            (&expert, StatusCode::FORBIDDEN, "forbidden"),
        ] {
            api.post(INVOICES, refused, invoice(first, "Maintenance", 2_000))
                .await
                .problem(status, code);
        }
        // Bad input names its field and records nothing; the description at its limit passes.
        for (body, field) in [
            (invoice(first, "", 2_000), "description"),
            (invoice(first, "   ", 2_000), "description"),
            (
                invoice(first, &"d".repeat(DESCRIPTION_LEN_MAX + 1), 2_000),
                "description",
            ),
            (invoice(first, "Maintenance", -1), "vat_bp"),
            (invoice(first, "Maintenance", 10_001), "vat_bp"),
        ] {
            let problem = api
                .post(INVOICES, &beta_pay, body.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{body} {problem}");
        }
        for missing in [999_999, 0, -4] {
            api.post(INVOICES, &beta_pay, invoice(missing, "Maintenance", 2_000))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(invoice_rows(&store).await, 0);

        // 120.00 at 20 %: 100.00 net and 20.00 of VAT, the parties as they are now.
        let issued = api
            .post_key(
                INVOICES,
                &beta_pay,
                "inv-1",
                invoice(first, "Maintenance annuelle", 2_000),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(issued["number"], format!("FA-{year}-00001"));
        assert_eq!(issued["transaction_id"], first);
        assert_eq!(
            (&issued["net"], &issued["vat"], &issued["total"]),
            (&json!("100.00"), &json!("20.00"), &json!("120.00"))
        );
        assert_eq!(issued["seller"]["member_id"], beta.id);
        assert_eq!(issued["seller"]["name"], "Beta & Fils <SAS>");
        assert_eq!(issued["seller"]["siren"], beta.siren.as_str());
        assert_eq!(
            issued["buyer"]["address"], "1 rue de la Paix, 69001 Lyon",
            "{issued}"
        );
        assert_eq!(issued["created_by"], "staff@beta.fr");
        assert_eq!(
            issued["issued_on"],
            Utc::now().format("%Y-%m-%d").to_string()
        );
        // The same key and body: the same answer; the payment has one invoice only.
        let again = api
            .post_key(
                INVOICES,
                &beta_pay,
                "inv-1",
                invoice(first, "Maintenance annuelle", 2_000),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again, issued);
        api.post(INVOICES, &beta_pay, invoice(first, "Encore", 2_000))
            .await
            .problem(StatusCode::CONFLICT, "already_invoiced");

        // The next number follows; 1.00 at 5.5 % rounds the net half up.
        let small = api
            .post(
                INVOICES,
                &beta_pay,
                invoice(second, &"d".repeat(DESCRIPTION_LEN_MAX), 550),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(small["number"], format!("FA-{year}-00002"));
        assert_eq!(
            (&small["net"], &small["vat"]),
            (&json!("0.95"), &json!("0.05"))
        );

        // A refunded payment is no sale to invoice.
        let returned = paid(&api, &alpha_pay, beta.id, "10.00").await;
        api.post(
            &format!("/api/v1/transactions/{returned}/refund"),
            &beta_pay,
            json!({"memo": "Retour"}),
        )
        .await
        .ok(StatusCode::CREATED);
        api.post(INVOICES, &beta_pay, invoice(returned, "Retour", 2_000))
            .await
            .problem(StatusCode::CONFLICT, "payment_refunded");

        // Who reads: both companies' users and the network's staff; a stranger finds none.
        let id = issued["id"].as_i64().unwrap();
        for reader in [&alpha_pay, &beta_read, &expert, &manage] {
            let shown = api
                .get(&format!("{INVOICES}/{id}"), reader)
                .await
                .ok(StatusCode::OK);
            assert_eq!(shown, issued);
        }
        api.get(&format!("{INVOICES}/{id}"), &gamma_pay)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        for missing in ["999999", "0", "x"] {
            api.get(&format!("{INVOICES}/{missing}"), &beta_pay)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }

        // Lists: issued for Beta, received for Alpha, newest first, in pages.
        let page = api
            .get(&format!("{INVOICES}?limit=1"), &beta_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(page["items"][0]["id"], small["id"]);
        let next = page["next"].as_str().unwrap().to_owned();
        let page = api
            .get(&format!("{INVOICES}?limit=1&after={next}"), &beta_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(page["items"][0]["id"], id);
        assert!(page["next"].is_null());
        let received = api
            .get(&format!("{INVOICES}?side=received"), &expert)
            .await
            .ok(StatusCode::OK);
        assert_eq!(received["items"].as_array().unwrap().len(), 2);
        let none = api
            .get(&format!("{INVOICES}?side=received"), &beta_read)
            .await
            .ok(StatusCode::OK);
        assert!(none["items"].as_array().unwrap().is_empty());
        let by_manager = api
            .get(&format!("{INVOICES}?member={}", beta.id), &manage)
            .await
            .ok(StatusCode::OK);
        assert_eq!(by_manager["items"].as_array().unwrap().len(), 2);
        for (path, token, field) in [
            (format!("{INVOICES}?side=all"), &beta_read, "side"),
            (format!("{INVOICES}?limit=201"), &beta_read, "limit"),
            (format!("{INVOICES}?limit=0"), &beta_read, "limit"),
            (format!("{INVOICES}?after=x"), &beta_read, "after"),
            (
                format!("{INVOICES}?member={}", alpha.id),
                &beta_read,
                "member",
            ),
            (INVOICES.to_owned(), &manage, "member"),
        ] {
            let problem = api
                .get(&path, token)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{path}");
        }
        api.get(
            &format!("{INVOICES}?limit={}", web::invoices::INVOICES_PAGE_MAX),
            &beta_read,
        )
        .await
        .ok(StatusCode::OK);

        // Nobody changes an invoice, not even with SQL.
        for sql in [
            format!("UPDATE invoices SET total = 1 WHERE id = {id}"),
            format!("DELETE FROM invoices WHERE id = {id}"),
        ] {
            let refused = raw(&store, &sql).await.expect_err(&sql);
            assert!(refused.contains("append-only"), "{sql}: {refused}");
        }
        assert_eq!(invoice_rows(&store).await, 2);

        // The data package carries both sides.
        let package = api
            .get("/api/v1/company/data", &alpha_pay)
            .await
            .text
            .clone();
        let received: Vec<&str> = package
            .lines()
            .filter(|l| l.contains("\"record\":\"invoice\""))
            .collect();
        assert_eq!(received.len(), 2, "{package}");

        // A credit note cancels an invoice once its payment is refunded: the seller's, once.
        let credit = |id: i64| format!("{INVOICES}/{id}/credit-note");
        api.post(&credit(id), &beta_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "payment_not_refunded");
        api.post(
            &format!("/api/v1/transactions/{first}/refund"),
            &beta_pay,
            json!({"memo": "Annulé"}),
        )
        .await
        .ok(StatusCode::CREATED);
        for (refused, status, code) in [
            (&alpha_pay, StatusCode::NOT_FOUND, "not_found"),
            (&gamma_pay, StatusCode::NOT_FOUND, "not_found"),
            (&beta_read, StatusCode::FORBIDDEN, "forbidden"),
            (&manage, StatusCode::FORBIDDEN, "forbidden"),
        ] {
            api.post(&credit(id), refused, json!({}))
                .await
                .problem(status, code);
        }
        api.post(&credit(999_999), &beta_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let note = api
            .post_key(&credit(id), &beta_pay, "credit-1", json!({}))
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(note["kind"], "credit_note");
        assert_eq!(note["credits"], id);
        assert_eq!(note["number"], format!("AV-{year}-00001"));
        assert_ne!(note["transaction_id"], first, "the refund's transaction");
        assert_eq!(
            (
                &note["net"],
                &note["vat"],
                &note["total"],
                &note["description"]
            ),
            (
                &issued["net"],
                &issued["vat"],
                &issued["total"],
                &issued["description"]
            )
        );
        let again = api
            .post_key(&credit(id), &beta_pay, "credit-1", json!({}))
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again, note);
        api.post(&credit(id), &beta_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "already_credited");
        let note_id = note["id"].as_i64().unwrap();
        api.post(&credit(note_id), &beta_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "not_creditable");
        let shown = api
            .get(&format!("{INVOICES}/{note_id}"), &alpha_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(shown, note);
        // The invoice series goes on where it was: credit notes have their own.
        assert_eq!(invoice_rows(&store).await, 3);
        // In the seller's books the invoice and the credit note are the entries' pieces
        // (the other payments keep their reference).
        let siren = web::store::ActionNote::new(None, "cli", web::store::SIREN_ACTION, "").unwrap();
        store
            .set_network_siren(&web::export::Siren::new("552100554").unwrap(), siren)
            .await
            .unwrap();
        let today_paris = web::export::calendar::day_of(Utc::now());
        let books = api
            .get(
                &format!(
                    "/api/v1/exports/hledger?from={}&to={}&member={}",
                    today_paris - chrono::Duration::days(1),
                    today_paris + chrono::Duration::days(1),
                    beta.id
                ),
                &beta_read,
            )
            .await;
        assert_eq!(books.status, StatusCode::OK, "{}", books.text);
        for piece in [
            format!("(FA-{year}-00001)"),
            format!("(FA-{year}-00002)"),
            format!("(AV-{year}-00001)"),
            "(DEVIS-7)".to_owned(),
        ] {
            assert!(books.text.contains(&piece), "{piece}: {}", books.text);
        }

        // The year's series ends at 99 999: the last number is given, then refused.
        let (owner, _) = people::find_login(&store, "owner@beta.fr")
            .await
            .unwrap()
            .unwrap();
        let last = INVOICES_PER_YEAR_MAX - 1;
        raw(
            &store,
            &format!(
                "INSERT INTO invoices (seller_member_id, buyer_member_id, kind, tx_id, year, seq, \
                 number, issued_on, paid_at, description, vat_bp, total, net, vat, seller_name, \
                 seller_siren, seller_address, buyer_name, buyer_siren, buyer_address, \
                 created_by, created_at) VALUES ({}, {}, 'invoice', 888888, {year}, {last}, \
                 'FA-x', '2026-01-01', 0, 'x', 0, 1, 1, 0, 'b', 's', 'a', 'a', 's', 'a', 'x', 0)",
                beta.id, alpha.id
            ),
        )
        .await
        .unwrap();
        let today = Utc::now().date_naive();
        let at_limit = paid(&api, &alpha_pay, beta.id, "2.00").await;
        let over = paid(&api, &alpha_pay, beta.id, "3.00").await;
        let new = |tx: i64, vat_bp: i64| {
            NewInvoice::single(ledger::TxId(tx as u64), "Pièces".into(), vat_bp, None)
        };
        // The highest rate too (100 %: half and half).
        let given = invoices::issue(
            &store,
            &owner,
            &beta,
            &new(at_limit, invoices::VAT_BP_MAX),
            today,
        )
        .await
        .unwrap();
        assert_eq!(given.number, format!("FA-{year}-99999"));
        assert_eq!((given.net.minor(), given.vat.minor()), (100, 100));
        let refused = invoices::issue(&store, &owner, &beta, &new(over, 2_000), today).await;
        assert!(
            matches!(
                refused,
                Err(ConsoleError::Conflict(Conflict::TooManyInvoices))
            ),
            "{refused:?}"
        );
        // Gamma's series is its own.
        let gamma_sale = paid(&api, &alpha_pay, gamma.id, "5.00").await;
        let theirs = api
            .post(INVOICES, &gamma_pay, invoice(gamma_sale, "Conseil", 0))
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(theirs["number"], format!("FA-{year}-00001"));
        assert_eq!(
            (&theirs["net"], &theirs["vat"]),
            (&json!("5.00"), &json!("0.00"))
        );
        store.close().await;
    }
});

story!(invoices_at_once_take_each_a_number, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, beta) = setup(&url).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let (owner, _) = people::find_login(&store, "owner@beta.fr")
            .await
            .unwrap()
            .unwrap();
        let mut txs = Vec::new();
        for _ in 0..8 {
            txs.push(paid(&api, &alpha_pay, beta.id, "1.00").await);
        }
        let today = Utc::now().date_naive();
        let mut tasks = Vec::new();
        for tx in txs.iter().copied().chain([txs[0]]) {
            let (store, owner, beta) = (store.clone(), owner.clone(), beta.clone());
            tasks.push(tokio::spawn(async move {
                let new = NewInvoice::single(
                    ledger::TxId(tx as u64),
                    "Pièce".into(),
                    2_000,
                    Some(invoices::Supply::Goods),
                );
                invoices::issue(&store, &owner, &beta, &new, today).await
            }));
        }
        let mut numbers = Vec::new();
        let mut conflicts = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(invoice) => numbers.push(invoice.seq),
                Err(ConsoleError::Conflict(Conflict::AlreadyInvoiced)) => conflicts += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        // Eight invoices numbered 1 to 8 with no gap; the payment asked twice got one.
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=8).collect::<Vec<i64>>());
        assert_eq!(conflicts, 1);
        store.close().await;
    }
});

story!(invoices_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        member_accountant(&store, &alpha).await;
        let api = Api::new(state.clone());
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let mut seller = Client::new(state.clone());
        seller.login("owner@beta.fr", PASSWORD).await;
        let mut buyer = seller.sibling();
        buyer.login("owner@alpha.fr", PASSWORD).await;
        let mut accountant = seller.sibling();
        accountant.login("expert@alpha.fr", PASSWORD).await;
        let mut manager = seller.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        let year = Utc::now().year();
        let tx = paid(&api, &alpha_pay, beta.id, "240.00").await;
        let new = format!("/invoices/new?tx={tx}");

        // The seller's history offers to invoice the payment; the buyer's does not.
        seller
            .get("/history")
            .await
            .assert_contains(&format!("href=\"{}\"", new.replace('&', "&#38;")));
        assert!(!buyer.get("/history").await.body.contains("/invoices/new"));
        let page = seller.get(&new).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"invoice-form\"");
        page.assert_contains("240,00");
        page.assert_contains("DEVIS-7 — Maintenance");
        // Only the seller's owner or staff; anyone else's payment is not found.
        assert_eq!(buyer.get(&new).await.status, StatusCode::NOT_FOUND);
        assert_eq!(accountant.get(&new).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            seller.get("/invoices/new?tx=999999").await.status,
            StatusCode::NOT_FOUND
        );
        let tx_text = tx.to_string();
        assert_eq!(
            buyer
                .post(
                    "/invoices",
                    &[
                        ("tx", &tx_text),
                        ("description", "x"),
                        ("vat", "20"),
                        ("supply", "services")
                    ]
                )
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // Refusals are worded, keep what was typed and change nothing; what was sold must
        // be said.
        let long = "d".repeat(DESCRIPTION_LEN_MAX + 1);
        for (description, vat, supply, message) in [
            ("", "20", "services", "Description : "),
            (long.as_str(), "20", "goods", "Description : "),
            (
                "<Maintenance>",
                "20",
                "",
                "Nature de la vente : choisissez biens, services ou les deux.",
            ),
            (
                "<Maintenance>",
                "20",
                "software",
                "Nature de la vente : choisissez biens, services ou les deux.",
            ),
            (
                "<Maintenance>",
                "abc",
                "mixed",
                "Taux de TVA : un pourcentage de 0 à 100",
            ),
            (
                "<Maintenance>",
                "100,01",
                "services",
                "Taux de TVA : un pourcentage de 0 à 100",
            ),
            (
                "<Maintenance>",
                "-1",
                "services",
                "Taux de TVA : un pourcentage de 0 à 100",
            ),
        ] {
            let page = seller
                .post(
                    "/invoices",
                    &[
                        ("tx", &tx_text),
                        ("description", description),
                        ("vat", vat),
                        ("supply", supply),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{vat}");
            page.assert_contains(message);
            page.assert_contains(&format!("value=\"{vat}\""));
            if supply == "goods" {
                // The choice is kept.
                page.assert_contains("value=\"goods\" checked");
            }
        }
        assert_eq!(invoice_rows(&store).await, 0);

        // Issued: the printable invoice, escaped, with its figures and the settlement.
        let page = seller
            .post(
                "/invoices",
                &[
                    ("tx", &tx_text),
                    ("description", "<Maintenance> & pièces"),
                    ("vat", "20"),
                    ("supply", "services"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let at = page.location.clone().unwrap();
        let page = seller.get(&at).await;
        page.assert_contains(&format!("id=\"inv-number\">FA-{year}-00001<"));
        page.assert_contains("&#60;Maintenance&#62; &#38; pièces");
        page.assert_contains("Beta &#38; Fils &#60;SAS&#62;");
        page.assert_contains("id=\"inv-net\">200,00<");
        page.assert_contains("id=\"inv-vat\">40,00<");
        page.assert_contains("id=\"inv-total\">240,00<");
        page.assert_contains("20,00 %");
        page.assert_contains(&format!("transaction n° {tx}"));
        page.assert_contains("acquittée par compensation");
        page.assert_contains("id=\"inv-supply\">Prestation de services<");
        page.assert_contains("escompte pour paiement anticipé.");
        page.assert_contains(&format!(
            "id=\"inv-seller-vat\">{}<",
            web::einvoice::vat_number(&beta.siren).unwrap()
        ));
        page.assert_contains(&format!("href=\"{at}/cii.xml\""));
        // The form for the same payment now leads to its invoice; the history names it.
        let page = seller.get(&new).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some(at.as_str()));
        let number_link = format!("href=\"{at}\">FA-{year}-00001</a>");
        seller.get("/history").await.assert_contains(&number_link);
        buyer.get("/history").await.assert_contains(&number_link);
        let page = seller
            .post(
                "/invoices",
                &[
                    ("tx", &tx_text),
                    ("description", "Encore"),
                    ("vat", "20"),
                    ("supply", "services"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà sa facture");

        // Who reads it: the buyer, its accountant and the network's staff; the lists.
        for reader in [&mut buyer, &mut accountant, &mut manager] {
            let page = reader.get(&at).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains(&format!("FA-{year}-00001"));
        }
        seller
            .get("/invoices")
            .await
            .assert_contains(&format!(">FA-{year}-00001</a>"));
        let received = buyer.get("/invoices?side=received").await;
        received.assert_contains(&format!(">FA-{year}-00001</a>"));
        received.assert_contains("Beta &#38; Fils &#60;SAS&#62;");
        assert!(!buyer.get("/invoices").await.body.contains("FA-"));
        assert_eq!(manager.get("/invoices").await.status, StatusCode::FORBIDDEN);
        for missing in ["/invoices/999999", "/invoices/x", "/invoices?side=all"] {
            assert_eq!(seller.get(missing).await.status, StatusCode::NOT_FOUND);
        }
        let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
        let mut stranger = seller.sibling();
        stranger.login("owner@gamma.fr", PASSWORD).await;
        assert_eq!(stranger.get(&at).await.status, StatusCode::NOT_FOUND);
        assert!(gamma.id > 0);

        // Refunded, then cancelled by a credit note from the invoice's page.
        assert!(!seller.get(&at).await.body.contains("credit-form"));
        let refund = format!("/payments/{tx}/refund");
        let page = seller.get(&refund).await;
        let token = crate::web_front::client::hidden_value(&page.body, "token").unwrap();
        let page = seller
            .post(&refund, &[("memo", "Annulé"), ("token", token.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let page = seller.get(&at).await;
        page.assert_contains("id=\"inv-refunded\"");
        page.assert_contains("id=\"credit-form\"");
        assert!(!buyer.get(&at).await.body.contains("credit-form"));
        let credit_note = format!("{at}/credit-note");
        assert_eq!(
            buyer.post(&credit_note, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let page = seller.post(&credit_note, &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let note = page.location.clone().unwrap();
        let page = buyer.get(&note).await;
        page.assert_contains(&format!("id=\"inv-number\">AV-{year}-00001<"));
        page.assert_contains(&format!("<a href=\"{at}\">FA-{year}-00001</a>"));
        page.assert_contains("id=\"inv-total\">240,00<");
        seller
            .get(&at)
            .await
            .assert_contains(&format!("<a href=\"{note}\">AV-{year}-00001</a>"));
        let page = seller.post(&credit_note, &[]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà son avoir");
        buyer
            .get("/invoices?side=received")
            .await
            .assert_contains("(avoir)");

        // An order's capture: the form proposes the listing's title and VAT rate.
        seller.get("/market/new").await;
        let page = seller
            .post(
                "/market",
                &[
                    ("kind", "offer"),
                    ("title", "Révision de chaudière"),
                    ("description", "Une visite"),
                    ("category", "informatique"),
                    ("price", "40"),
                    ("vat", "5,5"),
                    ("city", "Lyon"),
                    ("active_until", "2099-12-31"),
                ],
            )
            .await;
        let listing = page
            .location
            .clone()
            .unwrap_or_else(|| panic!("{}", page.body));
        let page = buyer.get(&listing).await;
        let token = crate::web_front::client::hidden_value(&page.body, "token").unwrap();
        let page = buyer
            .post(&format!("{listing}/order"), &[("token", token.as_str())])
            .await;
        let order = page.location.clone().unwrap();
        seller.post(&format!("{order}/deliver"), &[]).await;
        let orders = api
            .get("/api/v1/orders", &alpha_pay)
            .await
            .ok(StatusCode::OK);
        let capture = orders["items"][0]["transaction_id"].as_i64().unwrap();
        let page = seller.get(&format!("/invoices/new?tx={capture}")).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Révision de chaudière</textarea>");
        page.assert_contains("value=\"5.50\"");

        // In English.
        seller.post("/lang", &[("lang", "en")]).await;
        let page = seller.get(&at).await;
        page.assert_contains("Invoice settled by compensation");
        page.assert_contains("240.00");
        seller.post("/lang", &[("lang", "fr")]).await;
        store.close().await;
    }
});
