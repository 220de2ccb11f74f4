//! Webhooks (`web::webhooks`, docs/api.md "Webhooks"): a member's owner registers URLs; the
//! server posts the account's transactions to them, oldest first, signed with the network
//! key, retries with a growing wait, disables a webhook after too many failures and sends
//! what waited once it is enabled again; refusals change nothing; other companies' webhooks
//! are 404.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use serde_json::{json, Value};
use tests::story;
use web::http::{AppState, Config, CookieSecurity};
use web::store::Store;
use web::tokens::Scope;
use web::webhooks::{self, Sender, Targets};

use super::{member_accountant, pays, setup, token, Api, PASSWORD};
use crate::web_front::client::Client;

const WEBHOOKS: &str = "/api/v1/webhooks";

/// One POST a receiver got: its headers and body.
type Received = (HeaderMap, Vec<u8>);

/// A receiver on 127.0.0.1: it keeps what it is sent and answers with `status`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        *receiver.status.lock().unwrap() = 200;
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(Receiver::take))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    async fn take(
        State(receiver): State<Receiver>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> StatusCode {
        receiver.got.lock().unwrap().push((headers, body.to_vec()));
        StatusCode::from_u16(*receiver.status.lock().unwrap()).unwrap()
    }

    fn answer(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// The body of delivery `n` (from 0), its signature checked with `key` (hex).
    fn body(&self, n: usize, key: &str) -> Value {
        let (headers, body) = self.got.lock().unwrap()[n].clone();
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["troc-key"].to_str().unwrap(), key);
        let signature = headers["troc-signature"].to_str().unwrap();
        let (t, sig) = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",ed25519="))
            .unwrap_or_else(|| panic!("{signature}"));
        let key: [u8; 32] = hex::decode(key).unwrap().try_into().unwrap();
        let key = VerifyingKey::from_bytes(&key).unwrap();
        let sig: [u8; 64] = hex::decode(sig).unwrap().try_into().unwrap();
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(&body);
        key.verify(&signed, &Signature::from_bytes(&sig))
            .expect("the delivery is signed by the network key");
        // The same body with another time, or altered, does not verify.
        let mut forged = format!("{}.", t.parse::<i64>().unwrap() + 1).into_bytes();
        forged.extend_from_slice(&body);
        assert!(key.verify(&forged, &Signature::from_bytes(&sig)).is_err());
        serde_json::from_slice(&body).unwrap()
    }
}

/// The transactions of a delivery's events, in order.
fn tx_ids(body: &Value) -> Vec<i64> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "transaction");
            e["transaction"]["id"].as_i64().unwrap()
        })
        .collect()
}

/// Each event's transaction is the account's history item of the API, as it is.
async fn as_in_history(api: &Api, token: &str, account_id: i64, body: &Value) {
    let history = api
        .get(
            &format!("/api/v1/accounts/{account_id}/transactions?limit=200"),
            token,
        )
        .await
        .ok(StatusCode::OK);
    for event in body["events"].as_array().unwrap() {
        let item = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["id"] == event["transaction"]["id"])
            .unwrap_or_else(|| panic!("{event} not in {history}"));
        assert_eq!(&event["transaction"], item);
    }
}

async fn sql(store: &Store, statement: &str) -> u64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(statement).execute(pool).await.unwrap().rows_affected()
    })
}

async fn count(store: &Store, query: &str) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar(query).fetch_one(pool).await.unwrap()
    })
}

/// An app whose webhooks may point anywhere (the receivers of these stories are local).
fn app_anywhere(store: &Store) -> AppState {
    AppState::new(
        store.clone(),
        Config::new(CookieSecurity::Plain, "http://troc.test").with_webhook_targets(Targets::Any),
    )
}

story!(
    webhooks_deliver_the_accounts_transactions,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, public_api, alpha, beta) = setup(&url).await;
            let key = SigningKey::from_bytes(&[9; 32]);
            store.ensure_network_key(&key).await.unwrap();
            let key_hex = hex::encode(key.verifying_key().to_bytes());
            let sender = Sender::new(key.clone(), Targets::Any).unwrap();
            let api = Api::new(app_anywhere(&store));
            let owner = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
            let staff = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let beta_owner = token(&store, "owner@beta.fr", Scope::Pay).await;
            let beta_pay = token(&store, "staff@beta.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            let expert = member_accountant(&store, &alpha).await;
            let (receiver, hook_url) = Receiver::start().await;

            // A payment before the webhook exists is not sent.
            pays(&api, &owner, &beta, "1.00").await;

            // Refusals, which register nothing: by default a webhook is HTTPS to a public
            // address; a URL that is not one, too long, or of a caller who is not the owner.
            for (wrong, code) in [
                (hook_url.as_str(), "invalid_url"),
                ("https://127.0.0.1/hook", "private_address"),
                ("https://localhost/hook", "private_address"),
                ("https://10.0.0.7/hook", "private_address"),
                ("https://[::1]/hook", "private_address"),
                (
                    "https://169.254.169.254/latest/meta-data",
                    "private_address",
                ),
                ("https://user:secret@erp.example.fr/hook", "invalid_url"),
                ("not a url", "invalid_url"),
                ("", "required"),
            ] {
                let problem = public_api
                    .post(WEBHOOKS, &owner, json!({ "url": wrong }))
                    .await
                    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert_eq!(problem["field"], "url", "{wrong} {problem}");
                assert_eq!(problem["errors"][0]["code"], code, "{wrong} {problem}");
            }
            let long = format!(
                "https://erp.example.fr/{}",
                "a".repeat(webhooks::URL_LEN_MAX - 22)
            );
            assert_eq!(long.len(), webhooks::URL_LEN_MAX + 1);
            public_api
                .post(WEBHOOKS, &owner, json!({ "url": long }))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            for other in [&staff, &owner_read, &expert, &manage] {
                let answer = api.post(WEBHOOKS, other, json!({ "url": hook_url })).await;
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
            }
            assert_eq!(count(&store, "SELECT COUNT(*) FROM webhooks").await, 0);

            // The owner registers one at the longest URL and the receiver's; five at most.
            let longest = &long[..webhooks::URL_LEN_MAX];
            let at_max = public_api
                .post(WEBHOOKS, &owner, json!({ "url": longest }))
                .await
                .ok(StatusCode::CREATED);
            assert_eq!(at_max["url"], longest);
            let hook = api
                .post(WEBHOOKS, &owner, json!({ "url": format!("  {hook_url} ") }))
                .await
                .ok(StatusCode::CREATED);
            let id = hook["id"].as_i64().unwrap();
            assert_eq!(hook["url"], hook_url.as_str(), "trimmed");
            assert_eq!(hook["status"], "active");
            assert_eq!(hook["created_by"], "owner@alpha.fr");
            assert_eq!(hook["waiting"], 0);
            for n in 0..2 {
                api.post(
                    WEBHOOKS,
                    &owner,
                    json!({ "url": format!("https://erp{n}.example.fr/") }),
                )
                .await
                .ok(StatusCode::CREATED);
            }
            // Two at once for the fifth place: one gets it.
            let (a, b) = tokio::join!(
                api.post(
                    WEBHOOKS,
                    &owner,
                    json!({ "url": "https://erp7.example.fr/" })
                ),
                api.post(
                    WEBHOOKS,
                    &owner,
                    json!({ "url": "https://erp8.example.fr/" })
                )
            );
            let mut statuses = vec![a.status, b.status];
            statuses.sort();
            assert_eq!(statuses, vec![StatusCode::CREATED, StatusCode::CONFLICT]);
            api.post(
                WEBHOOKS,
                &owner,
                json!({ "url": "https://erp9.example.fr/" }),
            )
            .await
            .problem(StatusCode::CONFLICT, "too_many_webhooks");
            // The extra ones go again (and their queues with them).
            let list = api.get(WEBHOOKS, &staff).await.ok(StatusCode::OK);
            assert_eq!(list["items"].as_array().unwrap().len(), 5);
            assert_eq!(list["public_keys"][0], key_hex.as_str());
            for item in list["items"].as_array().unwrap() {
                if item["id"] != id {
                    let path = format!("{WEBHOOKS}/{}/remove", item["id"]);
                    api.post(&path, &staff, json!({}))
                        .await
                        .problem(StatusCode::FORBIDDEN, "forbidden");
                    api.post(&path, &owner, json!({})).await.ok(StatusCode::OK);
                }
            }
            let list = api.get(WEBHOOKS, &expert).await.ok(StatusCode::OK);
            assert_eq!(crate::api::ids(&list, "id"), vec![id]);

            // Another company sees none of them, and cannot reach Alpha's.
            let theirs = api.get(WEBHOOKS, &beta_pay).await.ok(StatusCode::OK);
            assert!(theirs["items"].as_array().unwrap().is_empty());
            for path in [format!("{WEBHOOKS}/{id}"), format!("{WEBHOOKS}/999999")] {
                api.get(&path, &beta_owner)
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            for action in ["remove", "enable"] {
                api.post(&format!("{WEBHOOKS}/{id}/{action}"), &beta_owner, json!({}))
                    .await
                    .problem(StatusCode::NOT_FOUND, "not_found");
            }
            api.get(&format!("{WEBHOOKS}/x"), &owner)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");

            // Two transactions on Alpha's account, then one round: one signed POST with both,
            // oldest first, signed from Alpha's side; Beta's own payment elsewhere is not sent.
            let sent = pays(&api, &owner, &beta, "12.50").await;
            let received = pays(&api, &beta_pay, &alpha, "30.00").await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 100).await;
            pays(&api, &beta_pay, &gamma, "2.00").await;
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!(
                (
                    round.queued,
                    round.delivered,
                    round.events_delivered,
                    round.failed
                ),
                (2, 1, 2, 0)
            );
            assert_eq!(receiver.count(), 1);
            let body = receiver.body(0, &key_hex);
            assert_eq!(body["webhook_id"], id);
            assert_eq!(body["account_id"], alpha.account_id);
            assert_eq!(tx_ids(&body), vec![sent, received]);
            as_in_history(&api, &owner, alpha.account_id, &body).await;
            let first = &body["events"][0];
            assert!(first["transaction"]["amount"]
                .as_str()
                .unwrap()
                .starts_with("-12."));
            // The seller receives 30.00 less the 2 % commission.
            assert_eq!(body["events"][1]["transaction"]["amount"], "29.40");
            assert_eq!(first["transaction"]["counterparty"]["member_id"], beta.id);
            assert_eq!(
                first["transaction"]["counterparty"]["name"],
                "Beta & Fils <SAS>"
            );
            assert_eq!(first["transaction"]["reference"], "FA-9");
            assert_eq!(first["transaction"]["entered_by"], "owner@alpha.fr");
            assert_eq!(body["events"][1]["transaction"]["id"], received);
            let (first_id, second_id) = (
                body["events"][0]["id"].as_i64().unwrap(),
                body["events"][1]["id"].as_i64().unwrap(),
            );
            assert!(first_id < second_id, "{body}");
            let headers = receiver.got.lock().unwrap()[0].0.clone();
            assert_eq!(headers["troc-webhook"].to_str().unwrap(), id.to_string());

            // Nothing new: nothing sent.
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!(round, webhooks::Round::default());
            assert_eq!(receiver.count(), 1);

            // The receiver fails: the event waits, the attempt is recorded, the next waits 10 s.
            receiver.answer(500);
            let four = pays(&api, &owner, &beta, "4.00").await;
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!((round.delivered, round.failed), (0, 1));
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["webhook"]["failures"], 1);
            assert_eq!(detail["webhook"]["waiting"], 1);
            assert!(detail["webhook"]["next_attempt_at"].is_string(), "{detail}");
            assert_eq!(detail["deliveries"][0]["status_code"], 500);
            assert_eq!(detail["deliveries"][0]["delivered"], false);
            assert_eq!(detail["deliveries"][0]["error"], "HTTP 500");
            assert_eq!(detail["deliveries"][1]["delivered"], true);
            assert_eq!(detail["deliveries"][1]["events"], 2);
            webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!(
                receiver.count(),
                2,
                "not tried again before its wait is over"
            );

            // Its wait over, it is tried again and delivered.
            receiver.answer(204);
            sql(&store, "UPDATE webhooks SET next_attempt_at = 0").await;
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!((round.delivered, round.events_delivered), (1, 1));
            assert_eq!(tx_ids(&receiver.body(2, &key_hex)), vec![four]);
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["webhook"]["failures"], 0);
            assert_eq!(detail["webhook"]["waiting"], 0);
            assert!(detail["webhook"]["last_success_at"].is_string());

            // Failing FAILURES_MAX times in a row disables it; what happens meanwhile is not
            // queued; enabled again, it sends what waited.
            receiver.answer(503);
            let five = pays(&api, &owner, &beta, "5.00").await;
            sql(
                &store,
                &format!(
                    "UPDATE webhooks SET failures = {}",
                    webhooks::FAILURES_MAX - 1
                ),
            )
            .await;
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!(round.failed, 1);
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["webhook"]["status"], "disabled");
            assert!(detail["webhook"]["disabled_at"].is_string());
            pays(&api, &owner, &beta, "6.00").await;
            webhooks::run_round(&store, &sender).await.unwrap();
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["webhook"]["waiting"], 1, "only the 5.00 waits");
            let tried = receiver.count();
            api.post(&format!("{WEBHOOKS}/{id}/enable"), &staff, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            let enabled = api
                .post(&format!("{WEBHOOKS}/{id}/enable"), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(enabled["status"], "active");
            assert_eq!(enabled["failures"], 0);
            receiver.answer(200);
            webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!(receiver.count(), tried + 1);
            assert_eq!(tx_ids(&receiver.body(tried, &key_hex)), vec![five]);

            // Two processes' rounds at once: every event is delivered once.
            let mut paid = Vec::new();
            for amount in ["7.00", "8.00", "9.00"] {
                paid.push(pays(&api, &owner, &beta, amount).await);
            }
            let before = receiver.count();
            let other_process = Sender::new(key.clone(), Targets::Any).unwrap();
            let (a, b) = tokio::join!(
                webhooks::run_round(&store, &sender),
                webhooks::run_round(&store, &other_process)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.queued + b.queued, 3);
            assert_eq!(a.events_delivered + b.events_delivered, 3);
            let sent: Vec<i64> = (before..receiver.count())
                .flat_map(|n| tx_ids(&receiver.body(n, &key_hex)))
                .collect();
            assert_eq!(sent, paid);

            // A backlog goes out in one round, 100 events per POST, in order.
            // (Three more tokens: a token makes at most 120 payments a minute.)
            let mut payers = Vec::new();
            for _ in 0..3 {
                payers.push(token(&store, "owner@alpha.fr", Scope::Pay).await);
            }
            let mut backlog = Vec::new();
            for n in 0..205 {
                backlog.push(pays(&api, &payers[n % 3], &beta, "1.00").await);
            }
            let before = receiver.count();
            let round = webhooks::run_round(&store, &sender).await.unwrap();
            assert_eq!((round.delivered, round.events_delivered), (3, 205));
            let sizes: Vec<usize> = (before..receiver.count())
                .map(|n| tx_ids(&receiver.body(n, &key_hex)).len())
                .collect();
            assert_eq!(sizes, vec![100, 100, 5]);
            let sent: Vec<i64> = (before..receiver.count())
                .flat_map(|n| tx_ids(&receiver.body(n, &key_hex)))
                .collect();
            assert_eq!(sent, backlog);

            // A sender limited to public targets refuses a private address it finds stored
            // (registered while any was allowed), without connecting.
            let public_sender = Sender::new(key.clone(), Targets::Public).unwrap();
            pays(&api, &owner, &beta, "10.00").await;
            let before = receiver.count();
            let round = webhooks::run_round(&store, &public_sender).await.unwrap();
            assert_eq!(round.failed, 1);
            assert_eq!(
                receiver.count(),
                before,
                "nothing reached the private address"
            );
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["deliveries"][0]["status_code"], Value::Null);
            assert!(
                detail["deliveries"][0]["error"]
                    .as_str()
                    .unwrap()
                    .contains("address refused"),
                "{detail}"
            );

            // A receiver that is not there: the attempt says it could not connect.
            let closed = {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                listener.local_addr().unwrap()
            };
            let gone = api
                .post(
                    WEBHOOKS,
                    &owner,
                    json!({ "url": format!("http://{closed}/hook") }),
                )
                .await
                .ok(StatusCode::CREATED);
            pays(&api, &owner, &beta, "11.00").await;
            sql(&store, "UPDATE webhooks SET next_attempt_at = 0").await;
            webhooks::run_round(&store, &sender).await.unwrap();
            let detail = api
                .get(&format!("{WEBHOOKS}/{}", gone["id"]), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(detail["webhook"]["failures"], 1);
            assert!(
                detail["deliveries"][0]["error"]
                    .as_str()
                    .unwrap()
                    .contains("could not connect"),
                "{detail}"
            );

            // At most 20 attempts are kept per webhook.
            receiver.answer(500);
            pays(&api, &owner, &beta, "12.00").await;
            for _ in 0..(webhooks::DELIVERIES_KEPT + 3) {
                sql(
                    &store,
                    "UPDATE webhooks SET next_attempt_at = 0, failures = 0",
                )
                .await;
                webhooks::run_round(&store, &sender).await.unwrap();
            }
            let detail = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(
                detail["deliveries"].as_array().unwrap().len() as i64,
                webhooks::DELIVERIES_KEPT
            );
            assert_eq!(
                count(
                    &store,
                    &format!("SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = {id}")
                )
                .await,
                webhooks::DELIVERIES_KEPT
            );

            // The owner tests a webhook: one signed `ping` event now, recorded with the
            // attempts, the queue and failures left alone; a server that delivers no
            // webhook answers 503.
            let ping = format!("{WEBHOOKS}/{id}/ping");
            api.post(&ping, &owner, json!({}))
                .await
                .problem(StatusCode::SERVICE_UNAVAILABLE, "webhooks_off");
            let delivering = Api::new(app_anywhere(&store).with_webhooks(sender.clone()));
            let before = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            receiver.answer(200);
            let n = receiver.count();
            let attempt = delivering
                .post(&ping, &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(attempt["delivered"], true);
            assert_eq!(attempt["status_code"], 200);
            assert_eq!(
                (attempt["first_event"].as_i64(), attempt["events"].as_i64()),
                (Some(0), Some(1))
            );
            let body = receiver.body(n, &key_hex);
            assert_eq!(body["events"], json!([{"id": 0, "type": "ping"}]));
            assert_eq!(body["webhook_id"], id);
            let after = api
                .get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .ok(StatusCode::OK);
            assert_eq!(after["deliveries"][0]["first_event"], 0);
            assert_eq!(after["deliveries"][0]["delivered"], true);
            assert_eq!(after["webhook"]["waiting"], before["webhook"]["waiting"]);
            assert_eq!(after["webhook"]["failures"], before["webhook"]["failures"]);
            delivering
                .post(&ping, &staff, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
            delivering
                .post(&ping, &beta_owner, json!({}))
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            assert_eq!(receiver.count(), n + 1);

            // The company's data package carries its webhooks.
            let package = api.get("/api/v1/company/data", &owner_read).await;
            assert_eq!(package.status, StatusCode::OK);
            let records: Vec<Value> = package
                .text
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|r| r["record"] == "webhook")
                .collect();
            assert_eq!(records.len(), 2, "{}", package.text);
            assert_eq!(records[0]["data"]["id"], id);
            assert_eq!(records[0]["data"]["url"], hook_url.as_str());

            // Removed, with its queue and its attempts.
            let removed = api
                .post(&format!("{WEBHOOKS}/{id}/remove"), &owner, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(removed["id"], id);
            api.get(&format!("{WEBHOOKS}/{id}"), &owner)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
            for table in ["webhook_events", "webhook_deliveries"] {
                assert_eq!(
                    count(
                        &store,
                        &format!("SELECT COUNT(*) FROM {table} WHERE webhook_id = {id}")
                    )
                    .await,
                    0
                );
            }
        }
    }
);

story!(webhooks_page_and_server_loop, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _, alpha, beta) = setup(&url).await;
        let key = SigningKey::from_bytes(&[5; 32]);
        store.ensure_network_key(&key).await.unwrap();
        let key_hex = hex::encode(key.verifying_key().to_bytes());
        let (receiver, hook_url) = Receiver::start().await;

        // The owner's page: the key, the form; a refusal is worded and keeps what was typed.
        let mut owner = Client::new(web::http::AppState::new(
            store.clone(),
            Config::new(CookieSecurity::Plain, "http://troc.test"),
        ));
        owner.login("owner@alpha.fr", PASSWORD).await;
        let page = owner.get("/settings/webhooks").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&key_hex), "the signing key is shown");
        assert!(page.body.contains("action=\"/settings/webhooks\""));
        let refused = owner
            .post(
                "/settings/webhooks",
                &[("url", "http://erp.example.fr/<b>")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("adresse https://"),
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("value=\"http://erp.example.fr/&#60;b&#62;\""),
            "{}",
            refused.body
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM webhooks").await, 0);

        // With any target allowed (the operator's setting), the owner registers the
        // receiver; the staff user sees it and may not add, remove or enable.
        let state = app_anywhere(&store);
        let mut owner = Client::new(state.clone());
        owner.login("owner@alpha.fr", PASSWORD).await;
        owner.get("/settings/webhooks").await;
        let added = owner
            .post("/settings/webhooks", &[("url", &hook_url)])
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let id: i64 = count(&store, "SELECT MAX(id) FROM webhooks").await;
        let mut staff = Client::new(state.clone());
        staff.login("staff@alpha.fr", PASSWORD).await;
        let page = staff.get("/settings/webhooks").await;
        assert!(page.body.contains(&hook_url));
        assert!(!page.body.contains("action=\"/settings/webhooks\""));
        for path in [
            "/settings/webhooks".to_owned(),
            format!("/settings/webhooks/{id}/remove"),
            format!("/settings/webhooks/{id}/enable"),
        ] {
            let refused = staff
                .post(&path, &[("url", "https://erp.example.fr/")])
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
        // Beta's owner cannot act on Alpha's webhook.
        let mut beta_owner = Client::new(state.clone());
        beta_owner.login("owner@beta.fr", PASSWORD).await;
        beta_owner.get("/settings/webhooks").await;
        let refused = beta_owner
            .post(&format!("/settings/webhooks/{id}/remove"), &[])
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        // The server as `troc serve` runs it delivers on its own, every round.
        let sender = Sender::new(key, Targets::Any)
            .unwrap()
            .with_interval(std::time::Duration::from_millis(50));
        let listener = web::http::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
        let delivering = state.clone().with_webhooks(sender);
        let server = tokio::spawn(web::http::serve_until(
            delivering.clone(),
            listener,
            async move {
                let _ = stop_requested.await;
            },
        ));
        let api = Api::new(state);
        let pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let three = pays(&api, &pay, &beta, "3.00").await;
        let mut rounds = 0;
        while receiver.count() == 0 {
            rounds += 1;
            assert!(rounds <= 200, "no delivery within 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let body = receiver.body(0, &key_hex);
        assert_eq!(body["account_id"], alpha.account_id);
        assert_eq!(tx_ids(&body), vec![three]);
        // The process's metrics count it (the registry is shared by the tests running at
        // once: at least this one).
        let metrics = api.get("/metrics", &pay).await;
        let delivered = metrics
            .text
            .lines()
            .find_map(|l| l.strip_prefix("troc_webhook_posts_total{outcome=\"delivered\"} "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{}", metrics.text));
        assert!(delivered >= 1);
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(30), server)
            .await
            .expect("the server stops within its grace period")
            .unwrap()
            .unwrap();

        // The page shows the attempt.
        let page = owner.get("/settings/webhooks").await;
        assert!(page.body.contains("class=\"delivered\""), "{}", page.body);

        // The owner's test button: a server that delivers no webhook says so; one that
        // does sends a ping at once, shown with the attempts; staff may not.
        let ping = format!("/settings/webhooks/{id}/ping");
        assert!(page.body.contains(&format!("action=\"{ping}\"")));
        let off = owner.post(&ping, &[]).await;
        assert_eq!(off.status, StatusCode::SERVICE_UNAVAILABLE);
        let mut tester = Client::new(delivering.clone());
        tester.login("owner@alpha.fr", PASSWORD).await;
        tester.get("/settings/webhooks").await;
        let sent = tester.post(&ping, &[]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        assert_eq!(receiver.count(), 2);
        let body = receiver.body(1, &key_hex);
        assert_eq!(body["events"], json!([{"id": 0, "type": "ping"}]));
        let page = tester.get("/settings/webhooks").await;
        assert_eq!(page.body.matches("class=\"delivered\"").count(), 2);
        let mut staff_tester = Client::new(delivering);
        staff_tester.login("staff@alpha.fr", PASSWORD).await;
        staff_tester.get("/settings/webhooks").await;
        assert!(!staff_tester
            .get("/settings/webhooks")
            .await
            .body
            .contains(&ping));
        assert_eq!(
            staff_tester.post(&ping, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(receiver.count(), 2);

        // The owner removes the webhook.
        let removed = owner
            .post(&format!("/settings/webhooks/{id}/remove"), &[])
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM webhooks").await, 0);
    }
});
