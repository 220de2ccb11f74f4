//! The published keys and checkpoints over HTTP.

use axum::http::StatusCode;
use chrono::Utc;
use tests::story;

use super::{signing_key, six_payments};
use crate::web_front::client::Client;

story!(
    checkpoints_are_published_as_json_and_a_page,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _, chain) = six_payments(&url).await;
            store
                .create_checkpoint(&signing_key(1), Utc::now())
                .await
                .unwrap()
                .unwrap();
            let state = web::http::AppState::new(
                store.clone(),
                web::http::Config::new(web::http::CookieSecurity::Plain, "http://localhost"),
            );
            let mut visitor = Client::new(state);
            let page = visitor.get("/audit/checkpoints.json").await;
            assert_eq!(page.status, StatusCode::OK);
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            let checkpoints = json["checkpoints"].as_array().unwrap();
            assert_eq!(checkpoints.len(), 2);
            assert_eq!(checkpoints[1]["checkpoint"]["seq"], 6);
            assert_eq!(
                checkpoints[1]["checkpoint"]["head"],
                hex::encode(chain[5].hash)
            );
            let key = ledger::audit::public_key_hex(&signing_key(1));
            assert_eq!(json["network_keys"][0]["public_key"], key.as_str());
            // Paging: after seq 4 only the second.
            let page = visitor.get("/audit/checkpoints.json?after=4").await;
            let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
            assert_eq!(json["checkpoints"].as_array().unwrap().len(), 1);
            assert_eq!(
                visitor.get("/audit/checkpoints.json?after=x").await.status,
                StatusCode::BAD_REQUEST
            );
            let page = visitor.get("/audit").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains(&key);
            page.assert_contains(&hex::encode(chain[5].hash));
            store.close().await;
        }
    }
);
