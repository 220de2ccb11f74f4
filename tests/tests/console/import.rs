//! CSV import of members: all or nothing.

use ledger::{Amount, Policy};
use tests::story;
use web::console::import::{import_members, import_members_with_pause, IMPORT_LINES_MAX};
use web::console::{ConsoleError, Field, LineIssue, Problem};
use web::store::{ActionFilter, Store};

use super::{network, new_member, siren, staff};

/// Everything an import could write, counted.
async fn footprint(store: &Store) -> (i64, i64, i64, i64, i64) {
    web::dispatch!(store.backend(), pool => {
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
        };
        (
            count("SELECT COUNT(*) FROM members").await,
            count("SELECT COUNT(*) FROM invitations").await,
            count("SELECT COUNT(*) FROM postings").await,
            count("SELECT COUNT(*) FROM limit_changes").await,
            count("SELECT COUNT(*) FROM action_log").await,
        )
    })
}

fn report(error: ConsoleError) -> Vec<LineIssue> {
    match error {
        ConsoleError::InvalidFile(issues) => issues,
        other => panic!("expected a report, got {other:?}"),
    }
}

fn file(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("name;siren;email;category;credit_limit;opening_balance\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.into_bytes()
}

fn line(n: u32, limit: &str, opening: &str) -> String {
    format!("Membre {n};{};m{n}@import.fr;;{limit};{opening}", siren(n))
}

story!(
    a_file_with_one_bad_line_writes_nothing,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, accountant) = staff(&store).await;
            let before = footprint(&store).await;
            let mut bad_siren = siren(3);
            bad_siren.replace_range(8..9, if bad_siren.ends_with('0') { "1" } else { "0" });
            let lines = vec![
                line(1, "2 000", "-150,50"),
                line(2, "", ""),
                format!("Membre 3;{bad_siren};m3@import.fr;;;"),
                line(4, "", ""),
            ];
            let error = import_members(&store, &manager, &file(&lines))
                .await
                .unwrap_err();
            assert_eq!(
                report(error),
                vec![LineIssue {
                    line: Some(4),
                    field: Some(Field::Siren),
                    problem: Problem::InvalidSiren
                }]
            );
            assert_eq!(footprint(&store).await, before, "nothing written");
            assert!(matches!(
                import_members(&store, &accountant, &file(&lines)).await,
                Err(ConsoleError::Forbidden)
            ));

            // Duplicates in the file and against the database, a debt above the limit, an
            // unknown category: every bad line is reported.
            web::console::members::create_member(&store, &manager, new_member(9, "Déjà là"))
                .await
                .unwrap();
            let before = footprint(&store).await;
            let lines = vec![
                line(1, "100", "-100,01"),
                format!("Autre;{};m1@import.fr;;;", siren(1)),
                line(9, "", ""),
                format!("Membre 5;{};m5@import.fr;inconnue;;", siren(5)),
                line(6, "100", "-100"),
            ];
            let found: Vec<(Option<u64>, Problem)> = report(
                import_members(&store, &manager, &file(&lines))
                    .await
                    .unwrap_err(),
            )
            .into_iter()
            .map(|i| (i.line, i.problem))
            .collect();
            assert_eq!(
                found,
                vec![
                    (
                        Some(2),
                        Problem::OpeningDebtAboveLimit {
                            limit: Amount::from_units(100)
                        }
                    ),
                    (Some(3), Problem::DuplicateInFile { line: 2 }),
                    (Some(3), Problem::DuplicateInFile { line: 2 }),
                    (Some(4), Problem::SirenTaken),
                    (Some(5), Problem::UnknownCategory),
                ]
            );
            assert_eq!(footprint(&store).await, before);

            // The same file corrected goes in whole, with opening balances against the
            // migration account.
            let lines = vec![
                line(1, "2 000", "-150,50"),
                line(2, "", "300"),
                line(3, "", ""),
            ];
            let created = import_members(&store, &manager, &file(&lines))
                .await
                .unwrap();
            assert_eq!(created.len(), 3);
            let balances: Vec<i64> = {
                let mut out = Vec::new();
                for c in &created {
                    out.push(
                        store
                            .account(c.account_id)
                            .await
                            .unwrap()
                            .unwrap()
                            .balance()
                            .minor(),
                    );
                }
                out
            };
            assert_eq!(balances, [-15_050, 30_000, 0]);
            let system = store.system_accounts().await.unwrap();
            let migration = store.account(system.migration).await.unwrap().unwrap();
            assert_eq!(migration.balance().minor(), 15_050 - 30_000);
            let first = store.account(created[0].account_id).await.unwrap().unwrap();
            assert_eq!(first.credit_limit(), Amount::from_units(2_000));
            assert!(store.check_invariants().await.unwrap().is_ok());
            let imports = store
                .actions(
                    &ActionFilter {
                        action: Some("members.import".into()),
                        ..ActionFilter::default()
                    },
                    10,
                )
                .await
                .unwrap();
            assert_eq!(imports.len(), 1);
            assert_eq!(imports[0].after["lines"], 3);
            store.close().await;
        }
    }
);

story!(
    a_ledger_refusal_after_the_checks_undoes_the_whole_import,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, _) = staff(&store).await;
            let before = footprint(&store).await;
            let accounts_before = store.accounts().await.unwrap().len();
            let lines = vec![line(1, "", "50"), line(2, "5 000", "-4 000")];
            // The rules change between the checks and the writes: at most 1 000 per
            // operation from now on, so line 3's opening balance is refused.
            let lower = async {
                let mut policy: Policy = store.policy().await.unwrap();
                policy.amount_per_tx_max = Amount::from_units(1_000);
                store.set_policy(policy).await.unwrap();
            };
            let error = import_members_with_pause(&store, &manager, &file(&lines), lower)
                .await
                .unwrap_err();
            let issues = report(error);
            assert_eq!(issues.len(), 1);
            assert_eq!(issues[0].line, Some(3));
            assert_eq!(issues[0].problem.code(), "amount_above_maximum");
            // No member, no invitation, no posting, no limit change, no action record; the
            // accounts opened for it are closed and empty.
            assert_eq!(footprint(&store).await, before);
            let accounts = store.accounts().await.unwrap();
            assert_eq!(accounts.len(), accounts_before + 2);
            for account in &accounts[accounts_before..] {
                assert_eq!(account.status(), ledger::AccountStatus::Closed);
                assert!(account.balance().is_zero());
            }
            assert!(store.check_invariants().await.unwrap().is_ok());
            store.close().await;
        }
    }
);

story!(
    an_import_at_the_line_limit_goes_in_whole,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let (manager, _) = staff(&store).await;
            let lines: Vec<String> = (1..=IMPORT_LINES_MAX as u32)
                .map(|n| line(n, "", if n % 2 == 0 { "10" } else { "" }))
                .collect();
            let created = import_members(&store, &manager, &file(&lines))
                .await
                .unwrap();
            assert_eq!(created.len(), IMPORT_LINES_MAX);
            let (members, invitations, postings, limits, _) = footprint(&store).await;
            assert_eq!(members, IMPORT_LINES_MAX as i64);
            assert_eq!(invitations, IMPORT_LINES_MAX as i64);
            assert_eq!(postings, IMPORT_LINES_MAX as i64); // 250 opening balances, 2 legs each
            assert_eq!(limits, IMPORT_LINES_MAX as i64);
            let mut past: Vec<String> = (1..=IMPORT_LINES_MAX as u32 + 1)
                .map(|n| line(n + 1_000, "", ""))
                .collect();
            past.truncate(IMPORT_LINES_MAX + 1);
            let error = import_members(&store, &manager, &file(&past))
                .await
                .unwrap_err();
            assert_eq!(
                report(error)[0].problem,
                Problem::TooManyLines {
                    max: IMPORT_LINES_MAX
                }
            );
            store.close().await;
        }
    }
);
