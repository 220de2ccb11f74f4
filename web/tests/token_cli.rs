//! `troc token create`: a token for any user, alone on the last line of the output.

use std::process::Command;

const TROC: &str = env!("CARGO_BIN_EXE_troc");

fn troc(url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(TROC)
        .args(["--database-url", url])
        .args(args)
        .output()
        .expect("troc runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn token_create_prints_the_token_on_the_last_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = web::store::Store::connect(&url).await.expect("store");
        web::people::create_user(
            &store,
            "gestion@troc.fr",
            "a long password",
            "Gestion",
            web::people::Role::Manager,
            None,
        )
        .await
        .expect("query")
        .expect("created");
        store.close().await;
    });
    let (ok, out, err) = troc(
        &url,
        &[
            "token",
            "create",
            "--email",
            "Gestion@troc.fr",
            "--scope",
            "manage",
            "--name",
            "ci",
        ],
    );
    assert!(ok, "{out}{err}");
    let last = out.lines().last().expect("a last line");
    assert!(web::tokens::looks_like_token(last), "{out}");
    // Only the hash is stored, under the user, with the name and scope.
    runtime.block_on(async {
        let store = web::store::Store::connect(&url).await.expect("store");
        match web::tokens::find(&store, last).await.expect("query") {
            web::tokens::Found::Valid(row, user, member) => {
                assert_eq!(user.email, "gestion@troc.fr");
                // The network's manager acts for no member company.
                assert!(member.is_none());
                assert_eq!(row.name, "ci");
                assert_eq!(row.scope, web::tokens::Scope::Manage);
            }
            other => panic!("{other:?}"),
        }
        store.close().await;
    });
    // Refusals: an unknown user, an unknown scope, a scope the role may not hold.
    let (ok, _, err) = troc(
        &url,
        &[
            "token",
            "create",
            "--email",
            "nobody@troc.fr",
            "--scope",
            "read",
        ],
    );
    assert!(!ok && err.contains("no user"), "{err}");
    let (ok, _, err) = troc(
        &url,
        &[
            "token",
            "create",
            "--email",
            "gestion@troc.fr",
            "--scope",
            "root",
        ],
    );
    assert!(!ok && err.contains("read, pay or manage"), "{err}");
    let (ok, _, err) = troc(
        &url,
        &[
            "token",
            "create",
            "--email",
            "gestion@troc.fr",
            "--scope",
            "pay",
        ],
    );
    assert!(!ok && err.contains("may not hold"), "{err}");
}
