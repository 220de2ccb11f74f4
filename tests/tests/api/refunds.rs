//! Refunds: the payee of a payment gives it back in full, over the API and on the web; the
//! ledger reverses it (fees included), once, and every refusal changes nothing.

use axum::http::StatusCode;
use serde_json::json;
use tests::story;
use web::tokens::Scope;

use super::{
    ledger_state, member_accountant, pays, setup, staff, token, two_members, Api, PASSWORD,
};
use crate::web_front::client::{hidden_value, Client};

fn refund_path(tx: i64) -> String {
    format!("/api/v1/transactions/{tx}/refund")
}

story!(payees_refund_payments_over_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
        let beta_read = token(&store, "owner@beta.fr", Scope::Read).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let zero = ledger_state(&store, &alpha, &beta).await;
        let tx = pays(&api, &alpha_pay, &beta, "100.00").await;
        let paid = ledger_state(&store, &alpha, &beta).await;
        assert_ne!(paid.0, zero.0);

        // Only the payee's owner or staff, with a pay token; anyone else: 403 or 404.
        api.post(&refund_path(tx), &alpha_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(&refund_path(tx), &beta_read, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(&refund_path(tx), &manage, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        for missing in ["999999", "0", "x"] {
            api.post(
                &format!("/api/v1/transactions/{missing}/refund"),
                &beta_pay,
                json!({}),
            )
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        }
        // The memo: at the limit is fine, one past it is refused and changes nothing.
        let long = json!({"memo": "m".repeat(281)});
        let problem = api
            .post(&refund_path(tx), &beta_pay, long)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "memo", "{problem}");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

        // Refunded in full: both balances back where they were, fees included.
        let memo = "m".repeat(280);
        let done = api
            .post_key(
                &refund_path(tx),
                &beta_pay,
                "refund-1",
                json!({"memo": memo}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(done["reverses"], tx);
        assert_eq!(done["status"], "completed");
        let (a, b, seq) = ledger_state(&store, &alpha, &beta).await;
        assert_eq!((a, b, seq), (zero.0, zero.1, paid.2 + 1));
        assert_eq!(done["balance"], "0.00");
        // The same key and body: the same answer; the payer sees the refund and its memo.
        let again = api
            .post_key(
                &refund_path(tx),
                &beta_pay,
                "refund-1",
                json!({"memo": memo}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again, done);
        let history = api
            .get(
                &format!("/api/v1/accounts/{}/transactions", alpha.account_id),
                &alpha_pay,
            )
            .await
            .ok(StatusCode::OK);
        let refund = &history["items"][0];
        assert_eq!(refund["id"], done["transaction_id"]);
        assert_eq!(refund["kind"], "reversal");
        assert_eq!(refund["memo"], memo.as_str());
        assert_eq!(refund["reference"], "FA-9");
        assert_eq!(refund["reverses"], tx);
        assert!(refund["reversed_by"].is_null());
        // The payment itself says it was reversed, and by which transaction.
        let original = &history["items"][1];
        assert_eq!(original["id"], tx);
        assert_eq!(original["reversed_by"], done["transaction_id"]);
        assert!(original["reverses"].is_null());
        // Once only; and a refund is not a payment received.
        api.post(&refund_path(tx), &beta_pay, json!({}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "already_reversed");
        let reversal = done["transaction_id"].as_i64().unwrap();
        api.post(&refund_path(reversal), &alpha_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, (a, b, seq));

        // Giving back needs the credit, like any debit: Beta spends what it received and
        // more, then cannot refund; nothing changes.
        let tx = pays(&api, &alpha_pay, &beta, "200.00").await;
        api.post(
            "/api/v1/payments",
            &beta_pay,
            json!({"payee": alpha.id, "amount": "680.00"}),
        )
        .await
        .ok(StatusCode::CREATED);
        let before = ledger_state(&store, &alpha, &beta).await;
        api.post(&refund_path(tx), &beta_pay, json!({}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);
        let summary = store.verify_ledger().await.unwrap().unwrap();
        assert_eq!(summary.transactions, seq + 2);
        store.close().await;
    }
});

fn refund_link(tx: i64) -> String {
    format!("href=\"/payments/{tx}/refund\"")
}

story!(payees_refund_payments_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state_, alpha, beta) = two_members(&url).await;
        staff(&store).await;
        let api = Api::new(state_.clone());
        let alpha_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let zero = ledger_state(&store, &alpha, &beta).await;
        let tx = pays(&api, &alpha_pay, &beta, "40.00").await;
        let paid = ledger_state(&store, &alpha, &beta).await;
        let path = format!("/payments/{tx}/refund");

        // The payee's history offers the refund; the payer's does not.
        let mut payee = Client::new(state_.clone());
        payee.login("owner@beta.fr", PASSWORD).await;
        let history = payee.get("/history").await;
        history.assert_contains(&refund_link(tx));
        // Each line names its transaction, so a member can quote it.
        history.assert_contains(&format!("n° {tx}</small>"));
        payee
            .get("/dashboard")
            .await
            .assert_contains(&refund_link(tx));
        let mut payer = Client::new(state_.clone());
        payer.login("owner@alpha.fr", PASSWORD).await;
        assert!(!payer.get("/history").await.body.contains(&refund_link(tx)));
        assert_eq!(payer.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            payer
                .post(&path, &[("token", &"a".repeat(64))])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        for other in ["/payments/999999/refund", "/payments/x/refund"] {
            assert_eq!(payee.get(other).await.status, StatusCode::NOT_FOUND);
        }
        member_accountant(&store, &alpha).await;
        let mut accountant = Client::new(state_.clone());
        accountant.login("expert@alpha.fr", PASSWORD).await;
        assert!(!accountant.get("/history").await.body.contains("/refund\""));
        assert_eq!(accountant.get(&path).await.status, StatusCode::FORBIDDEN);

        // The page shows the payment before anything happens.
        let page = payee.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Rembourser un paiement reçu");
        page.assert_contains("<td>Alpha SARL</td>");
        page.assert_contains("<td>40,00</td>");
        page.assert_contains("<td>palettes</td>");
        // Exactly what moves: Beta gives back 40,00 less its 2 % commission (at least 0,50),
        // Alpha gets back 40,00 and its 1 % fund contribution.
        page.assert_contains("id=\"refund-debited\">39,20</td>");
        page.assert_contains("id=\"refund-credited\">40,40</td>");
        let form_token = hidden_value(&page.body, "token").unwrap();

        // Refusals: a memo one past the limit (kept, escaped), a bad form token, a forged
        // CSRF token; nothing changes.
        let long = format!("<b>{}", "m".repeat(278));
        let page = payee
            .post(&path, &[("token", &form_token), ("memo", &long)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Le motif dépasse 280 caractères");
        page.assert_contains("&#60;b&#62;mmm");
        assert_eq!(
            payee.post(&path, &[("token", "short")]).await.status,
            StatusCode::BAD_REQUEST
        );
        let page = payee
            .post(&path, &[("token", &form_token), ("csrf", "forged")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(ledger_state(&store, &alpha, &beta).await, paid);

        // Refunded (at the memo's limit), once, even if the form is sent twice.
        let memo = format!("<b>{}", "m".repeat(277));
        let page = payee
            .post(&path, &[("token", &form_token), ("memo", &memo)])
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.assert_contains("id=\"refund-done\"");
        let back = ledger_state(&store, &alpha, &beta).await;
        assert_eq!((back.0, back.1, back.2), (zero.0, zero.1, paid.2 + 1));
        let page = payee
            .post(&path, &[("token", &form_token), ("memo", &memo)])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(ledger_state(&store, &alpha, &beta).await, back);
        // Afterwards the page says so and has no form; another form token is refused by the
        // ledger, in the user's language.
        let page = payee.get(&path).await;
        page.assert_contains("id=\"refund-already\"");
        assert!(!page.body.contains("name=\"token\""));
        // The history marks the payment as reversed and offers no refund any more.
        let history = payee.get("/history").await;
        assert!(!history.body.contains(&refund_link(tx)));
        history.assert_contains("class=\"muted reversed\">annulée</small>");
        let page = payee.post(&path, &[("token", &"b".repeat(64))]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà été annulée");
        payee.post("/lang", &[("lang", "en")]).await;
        let page = payee.post(&path, &[("token", &"c".repeat(64))]).await;
        page.assert_contains("was already reversed");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, back);
        // The payer sees the refund and its memo, escaped.
        let history = payer.get("/history").await;
        history.assert_contains("&#60;b&#62;mmm");
        store.close().await;
    }
});
