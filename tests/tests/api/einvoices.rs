//! Each invoice and credit note as a structured e-invoice (CII, the XML of the Factur-X
//! profile EN 16931): what the seller sold sets its billing frame, the figures are the
//! invoice's, the same readers as the invoice; the Factur-X XSD, the EN 16931 rules and the
//! French rules accept it (`scripts/einvoice-check.py`), and refuse a broken copy.

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use chrono::{Datelike, Utc};
use serde_json::{json, Value};
use tests::story;
use web::tokens::Scope;

use super::{member_accountant, setup, token, Api, PASSWORD};
use crate::web_front::client::Client;

const INVOICES: &str = "/api/v1/invoices";

async fn paid(api: &Api, token: &str, payee: i64, amount: &str) -> i64 {
    api.post(
        "/api/v1/payments",
        token,
        json!({"payee": payee, "amount": amount, "reference": "DEVIS-7", "memo": "Maintenance"}),
    )
    .await
    .ok(StatusCode::CREATED)["transaction_id"]
        .as_i64()
        .unwrap()
}

async fn issue(api: &Api, token: &str, body: Value) -> Value {
    api.post(INVOICES, token, body)
        .await
        .ok(StatusCode::CREATED)
}

/// The e-invoice of invoice `id` read with `token`: its file name and text.
async fn einvoice(api: &Api, token: &str, id: &Value) -> (String, String) {
    let answer = api.get(&format!("{INVOICES}/{id}/cii"), token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.headers[CONTENT_TYPE].to_str().unwrap(),
        "application/xml; charset=utf-8"
    );
    let disposition = answer.headers[CONTENT_DISPOSITION].to_str().unwrap();
    let name = disposition
        .strip_prefix("attachment; filename=\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{disposition}"))
        .to_owned();
    (name, answer.text.clone())
}

fn has(xml: &str, fragment: &str) {
    assert!(xml.contains(fragment), "{fragment} not in\n{xml}");
}

story!(invoices_are_structured_e_invoices, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let alpha_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
        let gamma_read = token(&store, "owner@gamma.fr", Scope::Read).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let expert = member_accountant(&store, &alpha).await;
        let year = Utc::now().year();

        // Three sales, said to be goods, not said (the API leaves it optional), and both
        // goods and services at 0 %.
        let first = paid(&api, &alpha_pay, beta.id, "120.00").await;
        let second = paid(&api, &alpha_pay, beta.id, "100.03").await;
        let third = paid(&api, &alpha_pay, beta.id, "50.00").await;
        for wrong in ["software", "", "Goods"] {
            let problem = api
                .post(
                    INVOICES,
                    &beta_pay,
                    json!({"transaction_id": first, "description": "x", "vat_bp": 2000, "supply": wrong}),
                )
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "supply", "{problem}");
        }
        // Beta's owner writes the legal mentions its invoices carry: at most 500 characters;
        // its staff may not.
        let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
        const MENTIONS: &str = "/api/v1/company/invoice-mentions";
        api.put(MENTIONS, &beta_pay, json!({"mentions": "x"}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let problem = api
            .put(MENTIONS, &beta_owner, json!({"mentions": "m".repeat(501)}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "mentions");
        let longest = api
            .put(MENTIONS, &beta_owner, json!({"mentions": "m".repeat(500)}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(longest["mentions"].as_str().unwrap().len(), 500);
        let legal = "SAS au capital de 5 000 €, RCS Lyon <B> & Cie";
        let saved = api
            .put(
                MENTIONS,
                &beta_owner,
                json!({"mentions": format!("  {legal} ")}),
            )
            .await
            .ok(StatusCode::OK);
        assert_eq!(saved["mentions"], legal, "trimmed");
        assert_eq!(
            api.get(MENTIONS, &beta_pay).await.ok(StatusCode::OK)["mentions"],
            legal
        );
        assert_eq!(
            api.get(MENTIONS, &alpha_read).await.ok(StatusCode::OK)["mentions"],
            "",
            "each company its own"
        );
        let goods = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": first, "description": "Pièces & main-d'œuvre <lot 3>",
                   "vat_bp": 2000, "supply": "goods"}),
        )
        .await;
        assert_eq!(goods["supply"], "goods");
        assert_eq!(goods["seller_mentions"], legal);
        // Removed: the invoices issued from now on carry none; the one before keeps its own.
        api.put(MENTIONS, &beta_owner, json!({"mentions": ""}))
            .await
            .ok(StatusCode::OK);
        let unsaid = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": second, "description": "Vis", "vat_bp": 550}),
        )
        .await;
        assert!(unsaid["supply"].is_null(), "{unsaid}");
        assert_eq!(unsaid["seller_mentions"], "");
        assert_eq!(
            api.get(&format!("{INVOICES}/{}", goods["id"]), &alpha_read)
                .await
                .ok(StatusCode::OK)["seller_mentions"],
            legal
        );
        let exempt = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": third, "description": "Formation", "vat_bp": 0,
                   "supply": "mixed"}),
        )
        .await;

        // Several lines: a meal at 10 % and its wine at 20 %, adding up to the payment.
        let fourth = paid(&api, &alpha_pay, beta.id, "120.00").await;
        let line = |description: &str, vat_bp: i64, total: &str| json!({"description": description, "vat_bp": vat_bp, "total": total});
        let several = |lines: Vec<Value>| json!({"transaction_id": fourth, "supply": "mixed", "lines": lines});
        // Refused, each named, nothing issued.
        for (body, field, code, at_line) in [
            (
                several(vec![
                    line("Repas", 1000, "96.00"),
                    line("Vin", 2000, "23.99"),
                ]),
                "lines",
                "lines_do_not_add_up",
                None,
            ),
            (
                several(vec![line("Repas", 1000, "96.00"), line(" ", 2000, "24.00")]),
                "description",
                "required",
                Some(2),
            ),
            (
                several(vec![
                    line("Repas", 1000, "96.00"),
                    line("Vin", 10001, "24.00"),
                ]),
                "vat_bp",
                "out_of_range",
                Some(2),
            ),
            (
                several(vec![line("Repas", 1000, "96.00"), line("Vin", 2000, "0")]),
                "total",
                "invalid_amount",
                Some(2),
            ),
            (
                several(vec![line("Repas", 1000, "96.00"), line("Vin", 2000, "abc")]),
                "total",
                "invalid_amount",
                Some(2),
            ),
            (
                several((0..21).map(|_| line("Vis", 2000, "1.00")).collect()),
                "lines",
                "",
                None,
            ),
            (
                json!({"transaction_id": fourth, "description": "Repas", "vat_bp": 1000,
                       "lines": [line("Repas", 1000, "120.00")]}),
                "lines",
                "",
                None,
            ),
            (several(vec![]), "lines", "no_lines", None),
        ] {
            let problem = api
                .post(INVOICES, &beta_pay, body.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{body} {problem}");
            if !code.is_empty() {
                let errors = problem["errors"].as_array().unwrap();
                assert_eq!(errors[0]["code"], code, "{problem}");
                assert_eq!(errors[0]["line"].as_u64(), at_line, "{problem}");
            }
        }
        let meal = issue(
            &api,
            &beta_pay,
            several(vec![
                line("Repas", 1000, "96.00"),
                line("Vin", 2000, "24.00"),
            ]),
        )
        .await;
        assert_eq!(meal["description"], "Repas");
        assert_eq!(
            (&meal["net"], &meal["vat"], &meal["total"]),
            (&json!("107.27"), &json!("12.73"), &json!("120.00"))
        );
        let lines = meal["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (
                &lines[1]["description"],
                &lines[1]["vat_bp"],
                &lines[1]["net"],
                &lines[1]["vat"]
            ),
            (&json!("Vin"), &json!(2000), &json!("20.00"), &json!("4.00"))
        );
        assert_eq!(
            api.get(&format!("{INVOICES}/{}", meal["id"]), &alpha_read)
                .await
                .ok(StatusCode::OK),
            meal
        );
        // Nobody changes a line, not even with SQL.
        for sql in [
            "UPDATE invoice_lines SET total = 1",
            "DELETE FROM invoice_lines",
        ] {
            let refused = web::dispatch!(store.backend(), pool => {
                sqlx::query(sql).execute(pool).await.map(|_| ()).map_err(|e| e.to_string())
            })
            .expect_err(sql);
            assert!(refused.contains("append-only"), "{sql}: {refused}");
        }
        // A one-line invoice lists its line too.
        assert_eq!(goods["lines"][0]["total"], "120.00");
        let (_, meal_xml) = einvoice(&api, &beta_pay, &meal["id"]).await;
        assert_eq!(
            meal_xml
                .matches("<ram:IncludedSupplyChainTradeLineItem>")
                .count(),
            2
        );
        has(&meal_xml, "<ram:LineID>2</ram:LineID>");
        has(&meal_xml, "<ram:BasisAmount>87.27</ram:BasisAmount>");
        has(
            &meal_xml,
            "<ram:CalculatedAmount>8.73</ram:CalculatedAmount>",
        );
        has(&meal_xml, "<ram:BasisAmount>20.00</ram:BasisAmount>");
        has(
            &meal_xml,
            "<ram:CalculatedAmount>4.00</ram:CalculatedAmount>",
        );
        has(
            &meal_xml,
            "<ram:TaxTotalAmount currencyID=\"EUR\">12.73</ram:TaxTotalAmount>",
        );

        // The goods' e-invoice: its number as the file's name, the frame of goods already
        // paid, the invoice's figures, settled by clearing, nothing due.
        let (name, xml) = einvoice(&api, &beta_pay, &goods["id"]).await;
        assert_eq!(name, format!("FA-{year}-00001.xml"));
        has(&xml, &format!("<ram:ID>FA-{year}-00001</ram:ID>"));
        has(&xml, "<ram:ID>B2</ram:ID>");
        has(&xml, "<ram:ID>urn:cen.eu:en16931:2017</ram:ID>");
        has(&xml, "<ram:TypeCode>380</ram:TypeCode>");
        has(
            &xml,
            &format!(
                "<udt:DateTimeString format=\"102\">{}</udt:DateTimeString>",
                Utc::now().format("%Y%m%d")
            ),
        );
        has(
            &xml,
            "<ram:Name>Pièces &amp; main-d'œuvre &lt;lot 3&gt;</ram:Name>",
        );
        has(&xml, "<ram:LineTotalAmount>100.00</ram:LineTotalAmount>");
        has(
            &xml,
            "<ram:TaxBasisTotalAmount>100.00</ram:TaxBasisTotalAmount>",
        );
        has(
            &xml,
            "<ram:TaxTotalAmount currencyID=\"EUR\">20.00</ram:TaxTotalAmount>",
        );
        has(&xml, "<ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>");
        has(
            &xml,
            "<ram:TotalPrepaidAmount>120.00</ram:TotalPrepaidAmount>",
        );
        has(&xml, "<ram:DuePayableAmount>0.00</ram:DuePayableAmount>");
        has(&xml, "<ram:CategoryCode>S</ram:CategoryCode>");
        has(&xml, "<ram:TypeCode>97</ram:TypeCode>");
        has(&xml, &format!("(transaction n° {first})"));
        // The parties as the invoice copied them: the seller's VAT number from its SIREN.
        has(&xml, "<ram:Name>Beta &amp; Fils &lt;SAS&gt;</ram:Name>");
        has(
            &xml,
            "<ram:Description>SAS au capital de 5 000 €, RCS Lyon &lt;B&gt; &amp; Cie</ram:Description>",
        );
        has(
            &xml,
            &format!(
                "<ram:ID schemeID=\"VA\">{}</ram:ID>",
                web::einvoice::vat_number(&beta.siren).unwrap()
            ),
        );
        for siren in [&beta.siren, &alpha.siren] {
            has(&xml, &format!("<ram:ID schemeID=\"0002\">{siren}</ram:ID>"));
            has(
                &xml,
                &format!("<ram:URIID schemeID=\"0225\">{siren}</ram:URIID>"),
            );
        }
        has(&xml, "<ram:PostcodeCode>69001</ram:PostcodeCode>");
        has(&xml, "<ram:CityName>Lyon</ram:CityName>");
        assert_eq!(
            xml.matches("schemeID=\"VA\"").count(),
            1,
            "the buyer's is not given"
        );

        // Not said: goods and services. 100.03 at 5.5 %: the net 94.82 (rounded half up),
        // the VAT the rest, 5.21, a cent under 94.82 × 5.5 % (5.2151): within the cent
        // EN 16931 allows, and the total is what was paid.
        let (_, unsaid_xml) = einvoice(&api, &beta_pay, &unsaid["id"]).await;
        has(&unsaid_xml, "<ram:ID>M2</ram:ID>");
        // No mentions, no element: the only description is the payment terms'.
        assert_eq!(unsaid_xml.matches("<ram:Description>").count(), 1);
        assert_eq!(xml.matches("<ram:Description>").count(), 2);
        has(
            &unsaid_xml,
            "<ram:RateApplicablePercent>5.50</ram:RateApplicablePercent>",
        );
        has(&unsaid_xml, "<ram:BasisAmount>94.82</ram:BasisAmount>");
        has(
            &unsaid_xml,
            "<ram:CalculatedAmount>5.21</ram:CalculatedAmount>",
        );
        has(
            &unsaid_xml,
            "<ram:GrandTotalAmount>100.03</ram:GrandTotalAmount>",
        );
        // 0 %: exempt, with its reason.
        let (_, exempt_xml) = einvoice(&api, &beta_pay, &exempt["id"]).await;
        has(&exempt_xml, "<ram:ID>M2</ram:ID>");
        has(&exempt_xml, "<ram:CategoryCode>E</ram:CategoryCode>");
        has(
            &exempt_xml,
            &format!(
                "<ram:ExemptionReason>{}</ram:ExemptionReason>",
                web::einvoice::EXEMPTION_REASON
            ),
        );
        has(
            &exempt_xml,
            "<ram:TaxTotalAmount currencyID=\"EUR\">0.00</ram:TaxTotalAmount>",
        );

        // Refunded and credited: the credit note names the invoice it cancels.
        api.post(
            &format!("/api/v1/transactions/{first}/refund"),
            &beta_pay,
            json!({"memo": "Retour"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let note = api
            .post(
                &format!("{INVOICES}/{}/credit-note", goods["id"]),
                &beta_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(note["supply"], "goods", "copied from its invoice");
        let (note_name, note_xml) = einvoice(&api, &beta_pay, &note["id"]).await;
        assert_eq!(note_name, format!("AV-{year}-00001.xml"));
        has(&note_xml, "<ram:TypeCode>381</ram:TypeCode>");
        has(&note_xml, "<ram:ID>B2</ram:ID>");
        has(
            &note_xml,
            &format!("<ram:IssuerAssignedID>FA-{year}-00001</ram:IssuerAssignedID>"),
        );
        has(
            &note_xml,
            "<ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>",
        );

        // The same readers as the invoice: both companies' users and the network's staff;
        // a stranger and an unknown id get 404.
        for reader in [&alpha_read, &expert, &manage] {
            assert_eq!(einvoice(&api, reader, &goods["id"]).await.1, xml);
        }
        for (path, reader) in [
            (format!("{INVOICES}/{}/cii", goods["id"]), &gamma_read),
            (format!("{INVOICES}/999999/cii"), &beta_pay),
            (format!("{INVOICES}/x/cii"), &beta_pay),
        ] {
            api.get(&path, reader)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }

        // The checkers a French platform runs accept all five, and refuse a broken copy.
        if let Some(checker) = tests::einvoice_checker() {
            let dir = tempfile::tempdir().unwrap();
            let mut files = Vec::new();
            for (name, text) in [
                ("goods.xml", &xml),
                ("unsaid.xml", &unsaid_xml),
                ("exempt.xml", &exempt_xml),
                ("note.xml", &note_xml),
                ("meal.xml", &meal_xml),
            ] {
                let path = dir.path().join(name);
                std::fs::write(&path, text).unwrap();
                files.push(path);
            }
            let (ok, out) = tests::check_einvoices(&checker, &files);
            assert!(ok, "{out}");
            let passed = out.lines().filter(|l| l.starts_with("ok ")).count();
            assert_eq!(passed, 5, "{out}");
            // Not even a warning (an empty element, say).
            assert!(!out.contains("warning"), "{out}");
            let broken = dir.path().join("broken.xml");
            std::fs::write(
                &broken,
                xml.replace(
                    "<ram:GrandTotalAmount>120.00</ram:GrandTotalAmount>",
                    "<ram:GrandTotalAmount>120.01</ram:GrandTotalAmount>",
                ),
            )
            .unwrap();
            let (ok, out) = tests::check_einvoices(&checker, &[broken]);
            assert!(!ok, "{out}");
            assert!(out.contains("BR-CO-15"), "{out}");
        }

        // On the pages: the invoice links its e-invoice, the same file for the same readers.
        let mut seller = Client::new(api.state().clone());
        seller.login("owner@beta.fr", PASSWORD).await;
        let mut buyer = seller.sibling();
        buyer.login("owner@alpha.fr", PASSWORD).await;
        let mut stranger = seller.sibling();
        stranger.login("owner@gamma.fr", PASSWORD).await;
        let at = format!("/invoices/{}", goods["id"]);
        let page = seller.get(&at).await;
        page.assert_contains(&format!("href=\"{at}/cii.xml\""));
        page.assert_contains("id=\"inv-supply\">Livraison de biens<");
        page.assert_contains(
            "id=\"inv-seller-mentions\">SAS au capital de 5 000 €, RCS Lyon &#60;B&#62; &#38; Cie<",
        );
        // Several lines: each, the totals, the VAT by rate.
        let page = buyer.get(&format!("/invoices/{}", meal["id"])).await;
        page.assert_contains(
            "<td>Vin</td><td class=\"num\">20,00</td><td class=\"num\">20,00 %</td>",
        );
        page.assert_contains("id=\"inv-net\">107,27<");
        page.assert_contains("id=\"inv-vat-by-rate\"");
        page.assert_contains(
            "<td class=\"num\">10,00 %</td><td class=\"num\">87,27</td><td class=\"num\">8,73</td>",
        );
        // The legal mentions on the list page: the owner's form, refused past 500 characters
        // (worded, the text kept), saved; its staff reads them and may not post.
        let list = seller.get("/invoices").await;
        list.assert_contains("id=\"mentions-form\"");
        let long = "m".repeat(501);
        let page = seller
            .post("/invoices/mentions", &[("mentions", long.as_str())])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Mentions légales : ");
        page.assert_contains(&format!(">{long}</textarea>"));
        let page = seller
            .post("/invoices/mentions", &[("mentions", "SARL <Martin>")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Enregistré.");
        page.assert_contains(">SARL &#60;Martin&#62;</textarea>");
        // The data package carries them.
        let package = api
            .get("/api/v1/company/data", &beta_pay)
            .await
            .text
            .clone();
        let record = package
            .lines()
            .find(|l| l.contains("\"record\":\"invoice_mentions\""))
            .unwrap_or_else(|| panic!("{package}"));
        assert!(record.contains("SARL <Martin>"), "{record}");
        let mut beta_staff = seller.sibling();
        beta_staff.login("staff@beta.fr", PASSWORD).await;
        let list = beta_staff.get("/invoices").await;
        list.assert_contains("id=\"mentions-text\">SARL &#60;Martin&#62;<");
        assert!(!list.body.contains("mentions-form"));
        assert_eq!(
            beta_staff
                .post("/invoices/mentions", &[("mentions", "x")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // The list names the first line and counts the others.
        seller
            .get("/invoices")
            .await
            .assert_contains("Repas <small class=\"muted\">(+1 ligne(s) de plus)</small>");
        // One rate: no breakdown.
        assert!(!seller.get(&at).await.body.contains("inv-vat-by-rate"));

        // A period's e-invoices in one ZIP: the same files as one by one, oldest first.
        let today = Utc::now().date_naive();
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let period = format!("from={}&to={}", day(today), day(today));
        let answer = api
            .get(&format!("{INVOICES}/cii.zip?{period}"), &beta_pay)
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(
            answer.headers[CONTENT_TYPE].to_str().unwrap(),
            "application/zip"
        );
        let files = unzip(&answer.bytes);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [1, 2, 3, 4]
                .iter()
                .map(|n| format!("FA-{year}-0000{n}.xml"))
                .chain([format!("AV-{year}-00001.xml")])
                .collect::<Vec<_>>()
        );
        assert_eq!(files[0].1, xml);
        assert_eq!(files[3].1, meal_xml);
        assert_eq!(files[4].1, note_xml);
        // By default: from the first day of last month to today.
        let default = api.get(&format!("{INVOICES}/cii.zip"), &beta_pay).await;
        assert_eq!(unzip(&default.bytes), files);
        // The buyer's side holds the same; the network's staff name the member; a stranger
        // has none.
        let received = api
            .get(
                &format!("{INVOICES}/cii.zip?{period}&side=received"),
                &alpha_read,
            )
            .await;
        assert_eq!(unzip(&received.bytes), files);
        let by_manager = api
            .get(
                &format!("{INVOICES}/cii.zip?{period}&member={}", beta.id),
                &manage,
            )
            .await;
        assert_eq!(unzip(&by_manager.bytes), files);
        let none = api
            .get(&format!("{INVOICES}/cii.zip?{period}"), &gamma_read)
            .await;
        assert_eq!(none.status, StatusCode::OK);
        assert!(unzip(&none.bytes).is_empty());
        // 366 days, both ends included, is the longest period; one more day is refused.
        let longest = format!(
            "from={}&to={}",
            day(today - chrono::Duration::days(365)),
            day(today)
        );
        let answer = api
            .get(&format!("{INVOICES}/cii.zip?{longest}"), &beta_pay)
            .await;
        assert_eq!(unzip(&answer.bytes).len(), 5);
        for (query, token, field) in [
            (
                format!(
                    "from={}&to={}",
                    day(today - chrono::Duration::days(366)),
                    day(today)
                ),
                &beta_pay,
                "to",
            ),
            (
                format!(
                    "from={}&to={}",
                    day(today),
                    day(today - chrono::Duration::days(1))
                ),
                &beta_pay,
                "to",
            ),
            (
                format!("from=2026-02-30&to={}", day(today)),
                &beta_pay,
                "from",
            ),
            (
                format!("from={}&to=31/12/2026", day(today)),
                &beta_pay,
                "to",
            ),
            (format!("{period}&side=all"), &beta_pay, "side"),
            (format!("{period}&member={}", alpha.id), &beta_pay, "member"),
            (period.clone(), &manage, "member"),
        ] {
            let problem = api
                .get(&format!("{INVOICES}/cii.zip?{query}"), token)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{query} {problem}");
        }

        // The form takes several lines too; their refusals are worded, line by line, and
        // keep what was typed.
        let fifth = paid(&api, &alpha_pay, beta.id, "120.00").await.to_string();
        let form = seller.get(&format!("/invoices/new?tx={fifth}")).await;
        form.assert_contains("name=\"amount_6\"");
        assert!(!form.body.contains("name=\"amount_7\""));
        let meal_form = |amount_2: &'static str| {
            [
                ("tx", fifth.as_str()),
                ("supply", "mixed"),
                ("description", "Menu"),
                ("vat", "10"),
                ("amount", "100"),
                ("description_2", "Vin <rouge>"),
                ("vat_2", "20"),
                ("amount_2", amount_2),
            ]
        };
        for (amount_2, message) in [
            (
                "19,99",
                "Lignes : les montants des lignes font 119,99, le paiement 120,00",
            ),
            ("x", "Ligne 2 — Montant TTC : un montant positif"),
        ] {
            let page = seller.post("/invoices", &meal_form(amount_2)).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount_2}");
            page.assert_contains(message);
            page.assert_contains("value=\"Vin &#60;rouge&#62;\"");
            page.assert_contains(&format!("value=\"{amount_2}\""));
        }
        let page = seller.post("/invoices", &meal_form("20")).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = seller.get(page.location.as_deref().unwrap()).await;
        page.assert_contains("<td>Vin &#60;rouge&#62;</td>");
        page.assert_contains("id=\"inv-total\">120,00<");
        page.assert_contains("id=\"inv-vat-by-rate\"");
        // Not said: the page does not claim it.
        assert!(!seller
            .get(&format!("/invoices/{}", unsaid["id"]))
            .await
            .body
            .contains("inv-supply"));
        for reader in [&mut seller, &mut buyer] {
            let file = reader.get(&format!("{at}/cii.xml")).await;
            assert_eq!(file.status, StatusCode::OK);
            assert_eq!(
                file.headers[CONTENT_TYPE].to_str().unwrap(),
                "application/xml; charset=utf-8"
            );
            assert_eq!(file.body, xml);
        }
        for path in [
            format!("{at}/cii.xml"),
            "/invoices/999999/cii.xml".to_owned(),
        ] {
            assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);
        }
        // On the pages: the list proposes the last month; the archive for the period typed;
        // a bad period worded on the list.
        let list = seller.get("/invoices").await;
        list.assert_contains("id=\"einvoices-form\"");
        let first_of_month = today.with_day(1).unwrap();
        let last_month_end = first_of_month.pred_opt().unwrap();
        list.assert_contains(&format!("value=\"{}\"", day(last_month_end)));
        list.assert_contains(&format!(
            "value=\"{}\"",
            day(last_month_end.with_day(1).unwrap())
        ));
        let file = seller
            .get(&format!("/invoices/einvoices.zip?side=issued&{period}"))
            .await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(
            file.headers[CONTENT_TYPE].to_str().unwrap(),
            "application/zip"
        );
        assert_eq!(unzip(&file.bytes).len(), 6, "the invoice of the form too");
        let mut expert = seller.sibling();
        expert.login("expert@alpha.fr", PASSWORD).await;
        let file = expert
            .get(&format!("/invoices/einvoices.zip?side=received&{period}"))
            .await;
        assert_eq!(unzip(&file.bytes).len(), 6);
        for (query, message) in [
            (
                format!(
                    "from={}&to={}",
                    day(today),
                    day(today - chrono::Duration::days(1))
                ),
                "la date de fin précède la date de début",
            ),
            (
                format!(
                    "from={}&to={}",
                    day(today - chrono::Duration::days(366)),
                    day(today)
                ),
                "366 jours au plus",
            ),
            (
                "from=x&to=%3Cy%3E".to_owned(),
                "deux dates au format AAAA-MM-JJ",
            ),
        ] {
            let page = seller
                .get(&format!("/invoices/einvoices.zip?{query}"))
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            page.assert_contains(message);
        }
        assert_eq!(
            stranger
                .get(&format!("/invoices/einvoices.zip?side=all&{period}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        store.close().await;
    }
});

/// The files of a ZIP archive, in order: each name and text.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP file");
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            (file.name().unwrap().to_string(), text)
        })
        .collect()
}

story!(
    an_archive_holds_at_most_500_e_invoices,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
            // 500 invoices of January 2020, written straight in the table (append-only: INSERT
            // is allowed), then one more.
            let insert = |from: i64, to: i64| {
                format!(
                "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) \
                 INSERT INTO invoices (seller_member_id, buyer_member_id, kind, tx_id, year, seq, \
                 number, issued_on, paid_at, description, vat_bp, total, net, vat, seller_name, \
                 seller_siren, seller_address, buyer_name, buyer_siren, buyer_address, created_by, \
                 created_at) SELECT {}, {}, 'invoice', 1000000 + i, 2020, i, 'FA-2020-' || i, \
                 '2020-01-15', 1579046400, 'Vis', 2000, 120, 100, 20, 'Beta', '{}', \
                 '1 rue, 69001 Lyon', 'Alpha', '{}', '2 rue, 69002 Lyon', 'staff@beta.fr', 0 FROM n",
                beta.id, alpha.id, beta.siren, alpha.siren
            )
            };
            let run = |sql: String| {
                let store = store.clone();
                async move {
                    web::dispatch!(store.backend(), pool => {
                        sqlx::query(&sql).execute(pool).await.unwrap().rows_affected()
                    })
                }
            };
            assert_eq!(run(insert(1, 500)).await, 500);
            let january = format!("{INVOICES}/cii.zip?from=2020-01-01&to=2020-01-31");
            let answer = api.get(&january, &beta_pay).await;
            assert_eq!(answer.status, StatusCode::OK);
            let files = unzip(&answer.bytes);
            assert_eq!(files.len(), web::invoices::ARCHIVE_INVOICES_MAX);
            assert_eq!(files[499].0, "FA-2020-500.xml");
            assert_eq!(run(insert(501, 501)).await, 1);
            let problem = api
                .get(&january, &beta_pay)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], "to", "{problem}");
            // A shorter period that holds fewer passes.
            let answer = api
                .get(
                    &format!("{INVOICES}/cii.zip?from=2020-01-16&to=2020-01-31"),
                    &beta_pay,
                )
                .await;
            assert!(unzip(&answer.bytes).is_empty());
            store.close().await;
        }
    }
);
