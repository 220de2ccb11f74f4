//! `troc migrate-data` through the real binary: a SQLite network with members, payments and
//! a checkpoint moves to an empty PostgreSQL database; progress on standard error, the
//! per-table report on standard output, `troc verify` passes on the copy; a second run is
//! refused, and so is a target that is not PostgreSQL. Needs `TROC_TEST_POSTGRES_URL`.

mod common;

use common::{members, troc, Fresh};
use ledger::{AccountId, Amount, IdempotencyKey, Operation};
use web::store::{Store, Submission};

fn run(args: &[&str]) -> (bool, String, String) {
    let output = troc().args(args).output().expect("troc runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_data_through_the_binary() {
    let source = Fresh::sqlite();
    let store = Store::connect(&source.url).await.unwrap();
    let members = members(&store, 4, 1_000).await;
    for n in 0..40 {
        let payer = AccountId(members[n % 4].account_id as u64);
        let payee = AccountId(members[(n + 1) % 4].account_id as u64);
        store
            .submit(Submission::new(
                IdempotencyKey::new(format!("cli-{n}")).unwrap(),
                Operation::Payment {
                    payer,
                    payee,
                    amount: Amount::from_units(3),
                    reference: String::new(),
                    memo: String::new(),
                },
            ))
            .await
            .unwrap()
            .unwrap();
    }
    store.close().await;
    let key = source.key_file();
    let key = key.to_str().unwrap();
    let (ok, out, err) = run(&[
        "checkpoint",
        "--database-url",
        &source.url,
        "--key-file",
        key,
    ]);
    assert!(ok, "{out}{err}");

    let (ok, _, err) = run(&["migrate-data", "--from", &source.url, "--to", &source.url]);
    assert!(!ok);
    assert!(err.contains("--to must be a PostgreSQL database"), "{err}");

    let Some(target) = Fresh::postgres("migrate_cli").await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: troc migrate-data to PostgreSQL skipped");
        return;
    };
    let (ok, out, err) = run(&["migrate-data", "--from", &source.url, "--to", &target.url]);
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("migrate-data: transactions: 40 rows copied"),
        "{err}"
    );
    assert!(
        err.contains("every table has the same rows and digest"),
        "{err}"
    );
    for table in web::ops::migrate::TABLES {
        assert!(
            out.lines().any(|l| l.starts_with(table.name)),
            "{} is not in the report:\n{out}",
            table.name
        );
    }
    assert!(
        out.contains("copied and verified: 40 transactions"),
        "{out}"
    );
    let (ok, verified, err) = run(&["verify", "--database-url", &target.url]);
    assert!(ok, "{verified}{err}");
    assert!(verified.contains("OK: 40 transactions"), "{verified}");
    assert!(verified.contains("1 checkpoints"), "{verified}");
    // The source's verification agrees, head included.
    let (ok, source_verified, _) = run(&["verify", "--database-url", &source.url]);
    assert!(ok);
    assert_eq!(source_verified, verified);

    let (ok, _, err) = run(&["migrate-data", "--from", &source.url, "--to", &target.url]);
    assert!(!ok);
    assert!(err.contains("the target database is not empty"), "{err}");
    target.drop_database().await;
}
