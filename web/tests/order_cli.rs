//! `troc order keygen` and `troc order sign` with the real binary: the key file is the
//! owner's alone and never overwritten, and the signed body the binary prints is paid as it
//! is by `POST /api/v1/signed-payments` (the API's own stories are in the `tests` crate).

use std::process::{Command, Output};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use ledger::{AccountId, Amount, Policy};
use tower::ServiceExt;
use web::http::{AppState, Config, CookieSecurity};
use web::people::{self, Profile, Role};
use web::store::Store;

const TROC: &str = env!("CARGO_BIN_EXE_troc");

fn troc(args: &[&str]) -> Output {
    Command::new(TROC).args(args).output().expect("troc runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A member company with its owner, and its account.
async fn member(store: &Store, name: &str, siren: &str, email: &str) -> AccountId {
    let profile = Profile {
        name: name.to_owned(),
        siren: siren.to_owned(),
        address: "1 rue de la Paix".into(),
        city: "Lyon".into(),
        postcode: "69001".into(),
        sector: "informatique".into(),
        description: String::new(),
        contact: email.to_owned(),
    };
    let member = people::create_member_with_account(store, &profile, Amount::from_units(1_000))
        .await
        .unwrap();
    people::create_user(
        store,
        email,
        "a long password",
        name,
        Role::Owner,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    member.account()
}

fn luhn_siren(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_made_and_an_order_signed_by_the_binary_are_paid_by_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("alpha.key");
    let key_path = key_file.to_str().unwrap();

    // keygen: one line, the public key; the file is owner-only and never overwritten.
    let made = troc(&["order", "keygen", "--out", key_path]);
    assert!(made.status.success(), "{made:?}");
    let public_key = stdout(&made);
    assert_eq!(public_key.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let secret = std::fs::read_to_string(&key_file).unwrap();
    let again = troc(&["order", "keygen", "--out", key_path]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), secret);

    // A network with two members; Alpha registers the key.
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let store = Store::connect(&url).await.unwrap();
    store
        .create_network("Réseau", Policy::default())
        .await
        .unwrap();
    let alpha = member(&store, "Alpha", &luhn_siren(1), "owner@alpha.fr").await;
    let beta = member(&store, "Beta", &luhn_siren(2), "owner@beta.fr").await;
    store
        .register_member_key(alpha, &public_key, "owner@example.com")
        .await
        .unwrap();
    let (beta_owner, _) = people::find_login(&store, "owner@beta.fr")
        .await
        .unwrap()
        .unwrap();
    let (_, token) = web::tokens::create(
        &store,
        &beta_owner,
        "cheques",
        web::tokens::Scope::Pay,
        web::tokens::Lifetime::UNLIMITED,
    )
    .await
    .unwrap();

    // sign: the body of the API's request, which Beta (the payee) posts like a cheque.
    let (payer, payee) = (alpha.0.to_string(), beta.0.to_string());
    let sign = |amount: &str, extra: &[&str]| {
        let mut args = vec![
            "order",
            "sign",
            "--key",
            key_path,
            "--payer",
            &payer,
            "--payee",
            &payee,
            "--amount",
            amount,
            "--reference",
            "FA-2026-001",
        ];
        args.extend_from_slice(extra);
        troc(&args)
    };
    let signed = sign("25.50", &[]);
    assert!(signed.status.success(), "{signed:?}");
    let body = stdout(&signed);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["public_key"], public_key.as_str());
    assert!(json["idempotency_key"]
        .as_str()
        .unwrap()
        .starts_with("order-"));

    let app = web::http::app(AppState::new(
        store.clone(),
        Config::new(CookieSecurity::Plain, "http://troc.test"),
    ));
    let post = |body: String| {
        let app = app.clone();
        let token = token.clone();
        async move {
            let request = Request::post("/api/v1/signed-payments")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
            )
        }
    };
    let (status, done) = post(body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["amount"], "25.50");
    let beta_balance = store.account(beta).await.unwrap().unwrap().balance();
    assert!(beta_balance.is_positive());
    // Paid once: the same body again is the same transaction.
    let (status, again) = post(body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["transaction_id"], done["transaction_id"]);
    assert_eq!(
        store.account(beta).await.unwrap().unwrap().balance(),
        beta_balance
    );
    // An explicit key and expiry; the signed order verifies in `troc verify` terms.
    let keyed = sign(
        "1",
        &[
            "--idempotency-key",
            "order-fa-2",
            "--expires-in-hours",
            "744",
        ],
    );
    assert!(keyed.status.success(), "{keyed:?}");
    let (status, _) = post(stdout(&keyed)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        store
            .verify_ledger()
            .await
            .unwrap()
            .unwrap()
            .signed_payments,
        2
    );

    // Bad arguments stop with status 2 and a message naming the flag; nothing printed.
    for (amount, extra, flag) in [
        ("0", &[][..], "--amount"),
        (
            "1",
            &["--expires-in-hours", "745"][..],
            "--expires-in-hours",
        ),
        (
            "1",
            &["--idempotency-key", "pay-3"][..],
            "--idempotency-key",
        ),
    ] {
        let refused = sign(amount, extra);
        assert_eq!(refused.status.code(), Some(2), "{refused:?}");
        assert!(stdout(&refused).is_empty());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(flag),
            "{refused:?}"
        );
    }
    store.close().await;
}
