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
        match web::tokens::find(&store, last, Default::default())
            .await
            .expect("query")
        {
            web::tokens::Found::Valid(caller) => {
                assert_eq!(caller.user.email, "gestion@troc.fr");
                // The network's manager acts for no member company.
                assert!(caller.member.is_none());
                assert_eq!(caller.token.name, "ci");
                assert_eq!(caller.token.scope, web::tokens::Scope::Manage);
                assert_eq!(caller.remembered, None);
                // With an Idempotency-Key, the same read brings its remembered answer.
                let with_key = |key: &'static str| {
                    let store = store.clone();
                    let token = last.to_owned();
                    async move {
                        let also = web::tokens::AlsoRead {
                            idempotency_key: Some(key),
                            member_id: None,
                        };
                        match web::tokens::find(&store, &token, also).await.unwrap() {
                            web::tokens::Found::Valid(caller) => caller.remembered,
                            other => panic!("{other:?}"),
                        }
                    }
                };
                let none = web::tokens::RememberedFor {
                    key: "k-1".into(),
                    answer: None,
                };
                assert_eq!(with_key("k-1").await, Some(none));
                let answer = web::tokens::Remembered {
                    request_hash: "h".into(),
                    status: 201,
                    response: "{}".into(),
                };
                web::tokens::remember(&store, caller.user.id, "k-1", "/api/v1/x", &answer)
                    .await
                    .unwrap();
                let found = with_key("k-1").await.unwrap();
                assert_eq!((found.key.as_str(), found.answer), ("k-1", Some(answer)));
                assert_eq!(with_key("k-2").await.unwrap().answer, None);
                // A member the request names comes with the caller too (here: none has id 999).
                let also = web::tokens::AlsoRead {
                    idempotency_key: None,
                    member_id: Some(999),
                };
                match web::tokens::find(&store, last, also).await.unwrap() {
                    web::tokens::Found::Valid(caller) => assert_eq!(
                        caller.named,
                        Some(web::tokens::NamedMember {
                            id: 999,
                            member: None
                        })
                    ),
                    other => panic!("{other:?}"),
                }
                assert_eq!(caller.named, None);
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
