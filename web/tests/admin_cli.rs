//! `troc admin create`: the first network manager, with the password read from standard
//! input; no default password, too-short passwords and duplicate emails refused.

use std::io::Write;
use std::process::{Command, Stdio};

const TROC: &str = env!("CARGO_BIN_EXE_troc");

fn admin_create(url: &str, email: &str, password: &str) -> (bool, String) {
    let mut child = Command::new(TROC)
        .args(["--database-url", url, "admin", "create", "--email", email])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("troc starts");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write the password");
    let output = child.wait_with_output().expect("troc ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn admin_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let short = "x".repeat(web::people::PASSWORD_LEN_MIN - 1);
    let (ok, text) = admin_create(&url, "boss@troc.fr", &short);
    assert!(!ok, "{text}");
    assert!(text.contains("must have 12 to 256 characters"), "{text}");
    let exact = "y".repeat(web::people::PASSWORD_LEN_MIN);
    let (ok, text) = admin_create(&url, "Boss@Troc.fr", &exact);
    assert!(ok, "{text}");
    assert!(
        text.contains("network manager boss@troc.fr created"),
        "{text}"
    );
    let (ok, text) = admin_create(&url, "boss@troc.fr", &exact);
    assert!(!ok, "{text}");
    assert!(text.contains("already exists"), "{text}");
    let (ok, text) = admin_create(&url, "not-an-email", &exact);
    assert!(!ok, "{text}");
    assert!(text.contains("invalid email"), "{text}");

    // The password works through the web login.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = web::store::Store::connect(&url).await.expect("store");
        let (user, hash) = web::people::find_login(&store, "boss@troc.fr")
            .await
            .expect("query")
            .expect("the manager exists");
        assert_eq!(user.role, web::people::Role::Manager);
        assert!(web::people::verify_password(&exact, &hash));
        assert!(!hash.contains(&exact), "only a hash is stored");
        store.close().await;
    });
}
