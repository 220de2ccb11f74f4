//! `troc checkpoint`, `troc verify`, `troc keys`, `troc export audit` and
//! `troc verify --bundle`, with the real binary on a SQLite database (the same library
//! functions are exercised on both backends by the `tests` crate's audit stories).

use std::path::Path;
use std::process::{Command, Output};

use ledger::{Amount, IdempotencyKey, Operation, Policy};
use web::store::{Store, Submission};

const TROC: &str = env!("CARGO_BIN_EXE_troc");

fn troc(url: &str, args: &[&str]) -> Output {
    Command::new(TROC)
        .args(args)
        .env("TROC_DATABASE_URL", url)
        .env_remove("TROC_KEY_FILE")
        .output()
        .expect("troc runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_checkpoint_rotate_export_with_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let store = Store::connect(&url).await.unwrap();
    store
        .create_network("CLI", Policy::default())
        .await
        .unwrap();
    let a = store
        .open_account(Amount::from_units(100), None)
        .await
        .unwrap();
    let b = store
        .open_account(Amount::from_units(100), None)
        .await
        .unwrap();
    for i in 0..3 {
        let op = Operation::Payment {
            payer: a.id(),
            payee: b.id(),
            amount: Amount::from_units(5),
            reference: format!("R{i}"),
            memo: String::new(),
        };
        store
            .submit(Submission::new(
                IdempotencyKey::new(format!("k{i}")).unwrap(),
                op,
            ))
            .await
            .unwrap()
            .unwrap();
    }
    store.close().await;

    // First checkpoint: the key file is created next to the database, owner-only.
    let out = troc(&url, &["checkpoint"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("checkpoint seq 3"), "{}", text(&out));
    let key_file = dir.path().join("network-key.ed25519");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let out = troc(&url, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("OK: 3 transactions"), "{}", text(&out));

    // Rotation keeps the old checkpoint verifiable.
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let out = troc(&url, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_key);
    let out = troc(&url, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // A bundle, verified offline (a database URL that does not exist is never opened).
    let bundle = dir.path().join("bundle");
    let today = chrono::Utc::now().date_naive().to_string();
    let out = troc(
        &url,
        &[
            "export",
            "audit",
            "--from",
            &today,
            "--to",
            &today,
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let nowhere = "sqlite:///nonexistent-dir/never.db";
    let out = troc(nowhere, &["verify", "--bundle", bundle.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!Path::new("/nonexistent-dir").exists());
    let manifest = bundle.join("manifest.json");
    std::fs::write(&manifest, b"{}").unwrap();
    let out = troc(nowhere, &["verify", "--bundle", bundle.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("manifest.json"), "{}", text(&out));

    // Tampering: an amount changed behind the application's back.
    let store = Store::connect(&url).await.unwrap();
    web::dispatch!(store.backend(), pool => {
        sqlx::raw_sql(
            "DROP TRIGGER postings_no_update; \
             UPDATE postings SET amount = amount - 1 WHERE n = 0 AND tx_id = \
             (SELECT id FROM transactions WHERE seq = 2); \
             UPDATE postings SET amount = amount + 1 WHERE n = 1 AND tx_id = \
             (SELECT id FROM transactions WHERE seq = 2);",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    store.close().await;
    let out = troc(&url, &["verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("BROKEN: chain"), "{}", text(&out));
    assert!(text(&out).contains("(seq 2)"), "{}", text(&out));
}
