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
        let second = paid(&api, &alpha_pay, beta.id, "1.00").await;
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
        let goods = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": first, "description": "Pièces & main-d'œuvre <lot 3>",
                   "vat_bp": 2000, "supply": "goods"}),
        )
        .await;
        assert_eq!(goods["supply"], "goods");
        let unsaid = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": second, "description": "Vis", "vat_bp": 550}),
        )
        .await;
        assert!(unsaid["supply"].is_null(), "{unsaid}");
        let exempt = issue(
            &api,
            &beta_pay,
            json!({"transaction_id": third, "description": "Formation", "vat_bp": 0,
                   "supply": "mixed"}),
        )
        .await;

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

        // Not said: goods and services; 5.5 %.
        let (_, unsaid_xml) = einvoice(&api, &beta_pay, &unsaid["id"]).await;
        has(&unsaid_xml, "<ram:ID>M2</ram:ID>");
        has(
            &unsaid_xml,
            "<ram:RateApplicablePercent>5.50</ram:RateApplicablePercent>",
        );
        has(
            &unsaid_xml,
            "<ram:GrandTotalAmount>1.00</ram:GrandTotalAmount>",
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

        // The checkers a French platform runs accept all four, and refuse a broken copy.
        if let Some(checker) = tests::einvoice_checker() {
            let dir = tempfile::tempdir().unwrap();
            let mut files = Vec::new();
            for (name, text) in [
                ("goods.xml", &xml),
                ("unsaid.xml", &unsaid_xml),
                ("exempt.xml", &exempt_xml),
                ("note.xml", &note_xml),
            ] {
                let path = dir.path().join(name);
                std::fs::write(&path, text).unwrap();
                files.push(path);
            }
            let (ok, out) = tests::check_einvoices(&checker, &files);
            assert!(ok, "{out}");
            let passed = out.lines().filter(|l| l.starts_with("ok ")).count();
            assert_eq!(passed, 4, "{out}");
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
        store.close().await;
    }
});
