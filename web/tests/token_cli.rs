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

/// A new database holding network managers with these emails.
fn managers(runtime: &tokio::runtime::Runtime, url: &str, emails: &[&str]) {
    runtime.block_on(async {
        let store = web::store::Store::connect(url).await.expect("store");
        for email in emails {
            web::people::create_user(
                &store,
                email,
                "a long password",
                "Gestion",
                web::people::Role::Manager,
                None,
            )
            .await
            .expect("query")
            .expect("created");
        }
        store.close().await;
    });
}

#[test]
fn token_create_prints_the_token_on_the_last_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    managers(&runtime, &url, &["gestion@troc.fr"]);
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

#[test]
fn the_operator_lists_and_revokes_tokens_with_expiry() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("troc.db").display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    managers(&runtime, &url, &["gestion@troc.fr", "compta@troc.fr"]);
    let create = |email: &str, extra: &[&str]| {
        let mut args = vec!["token", "create", "--email", email, "--scope", "manage"];
        args.extend_from_slice(extra);
        troc(&url, &args)
    };
    // The lifetime's limits: 1 to 3650 days; past them, refused and nothing created.
    let max = web::tokens::TOKEN_LIFETIME_DAYS_MAX;
    for bad in ["0".to_owned(), (max + 1).to_string(), "-1".to_owned()] {
        let flag = format!("--expires-in-days={bad}");
        let (ok, out, err) = create("gestion@troc.fr", &[&flag]);
        assert!(!ok, "{bad}: {out}");
        assert!(err.contains("1 to 3650 days"), "{bad}: {err}");
    }
    let (ok, out, err) = troc(&url, &["token", "list"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "only the header: {out}");

    let (ok, out, err) = create(
        "gestion@troc.fr",
        &["--expires-in-days", &max.to_string(), "--name", "sync"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("expires 20"), "{out}");
    let expiring = out.lines().last().unwrap().to_owned();
    let (ok, out, err) = create("compta@troc.fr", &[]);
    assert!(ok, "{err}");
    assert!(out.contains("never expires"), "{out}");
    let forever = out.lines().last().unwrap().to_owned();

    // The list: every user's tokens, never the tokens themselves.
    let (ok, out, err) = troc(&url, &["token", "list"]);
    assert!(ok, "{err}");
    assert!(!out.contains(&expiring) && !out.contains(&forever));
    let lines: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0][1..5],
        ["gestion@troc.fr", "sync", "manage", "active"]
    );
    assert!(
        lines[0][7].starts_with("20") && lines[0][7].ends_with('Z'),
        "{out}"
    );
    assert_eq!(lines[1][1], "compta@troc.fr");
    assert_eq!(lines[1][7], "never");
    // One user's.
    let (ok, out, _) = troc(&url, &["token", "list", "--email", "compta@troc.fr"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("compta@troc.fr") && !out.contains("gestion@troc.fr"));
    let (ok, _, err) = troc(&url, &["token", "list", "--email", "nobody@troc.fr"]);
    assert!(!ok && err.contains("no user"), "{err}");

    // Revoke: the token stops working, the list says so, the action log records it.
    let id = lines[0][0];
    let (ok, out, err) = troc(&url, &["token", "revoke", "--id", id, "--reason", "leaked"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("revoked") && out.contains("gestion@troc.fr"),
        "{out}"
    );
    let (ok, out, _) = troc(&url, &["token", "list"]);
    assert!(ok);
    assert!(out.lines().nth(1).unwrap().contains("\trevoked\t"), "{out}");
    // Again, or an id that does not exist: refused, nothing more recorded.
    let (ok, _, err) = troc(&url, &["token", "revoke", "--id", id]);
    assert!(!ok && err.contains("already revoked"), "{err}");
    let (ok, _, err) = troc(&url, &["token", "revoke", "--id", "999"]);
    assert!(!ok && err.contains("no API token has the id 999"), "{err}");
    runtime.block_on(async {
        let store = web::store::Store::connect(&url).await.expect("store");
        assert!(matches!(
            web::tokens::find(&store, &expiring, Default::default())
                .await
                .unwrap(),
            web::tokens::Found::Revoked
        ));
        assert!(matches!(
            web::tokens::find(&store, &forever, Default::default())
                .await
                .unwrap(),
            web::tokens::Found::Valid(_)
        ));
        let log = |action: &str| {
            let filter = web::store::ActionFilter {
                action: Some(action.to_owned()),
                ..Default::default()
            };
            let store = store.clone();
            async move { store.actions(&filter, 10).await.unwrap() }
        };
        let created = log("token.create").await;
        assert_eq!(created.len(), 2);
        assert!(created.iter().all(|e| e.actor == "cli"));
        let revoked = log("token.revoke").await;
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0].reason, "leaked");
        assert_eq!(revoked[0].before["state"], "active");
        assert_eq!(revoked[0].after["state"], "revoked");
        assert_eq!(revoked[0].after["user"], "gestion@troc.fr");
        // Nothing in the log holds a token.
        for entry in created.iter().chain(&revoked) {
            let text = format!("{} {}", entry.before, entry.after);
            assert!(!text.contains("troc_"), "{text}");
        }
        store.close().await;
    });
}
