//! Exports read from a real database (both backends): keyset streaming in (time, id) order,
//! period locks enforced on the write path, and the CLI's runner.

use std::collections::BTreeMap;

use chrono::Utc;
use ledger::{
    AccountId, Amount, ChargeKind, FeePolicy, FundPayer, IdempotencyKey, Operation, Outcome, Policy,
};
use tests::fec_check::check_fec;
use tests::seed::{at, date};
use tests::story;
use web::export::run::{run_export, ExportCommand};
use web::export::{AccountMapping, ExportHeader, Format, Period, Scope, Siren};
use web::store::{Store, StoreError, Submission};

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

fn pay(payer: AccountId, payee: AccountId, minor: i64, memo: &str) -> Operation {
    Operation::Payment {
        payer,
        payee,
        amount: Amount::from_minor(minor),
        reference: format!("INV-{minor}"),
        memo: memo.into(),
    }
}

async fn submit_at(
    store: &Store,
    name: &str,
    time: chrono::DateTime<Utc>,
    op: Operation,
) -> Result<Outcome, StoreError> {
    store
        .submit(Submission::new(key(name), op).at(time))
        .await
        .map(|decision| decision.unwrap_or_else(|r| panic!("{name} rejected: {r}")))
}

/// A network with fees and 4 members, and a year of activity dated through `Submission::at`.
async fn seeded_store(store: &Store) -> Vec<AccountId> {
    let policy = Policy {
        fees: FeePolicy::new(500, Amount::ZERO, 100, FundPayer::Buyer).unwrap(),
        ..Policy::default()
    };
    store.create_network("Réseau test", policy).await.unwrap();
    let mut members = Vec::new();
    for _ in 0..4 {
        members.push(
            store
                .open_account(Amount::from_units(10_000), None)
                .await
                .unwrap()
                .id(),
        );
    }
    let (a, b, c, d) = (members[0], members[1], members[2], members[3]);
    submit_at(
        store,
        "open-a",
        at(2025, 1, 2, 9),
        Operation::OpeningBalance {
            account: a,
            amount: Amount::from_units(500),
            memo: "reprise".into(),
        },
    )
    .await
    .unwrap();
    submit_at(
        store,
        "fee-b",
        at(2025, 1, 5, 9),
        Operation::Charge {
            kind: ChargeKind::Fee,
            payer: b,
            amount: Amount::from_units(235),
            reference: "COT".into(),
            memo: "cotisation".into(),
        },
    )
    .await
    .unwrap();
    submit_at(
        store,
        "p1",
        at(2025, 2, 1, 9),
        pay(b, a, 120_000, "site | web"),
    )
    .await
    .unwrap();
    let wrong = submit_at(store, "p2", at(2025, 3, 1, 9), pay(c, b, 50_000, "erreur"))
        .await
        .unwrap();
    let Outcome::Posted { tx } = wrong else {
        panic!("{wrong:?}")
    };
    submit_at(
        store,
        "r2",
        at(2025, 3, 2, 9),
        Operation::Reverse {
            transaction: tx,
            memo: "annulation".into(),
        },
    )
    .await
    .unwrap();
    submit_at(store, "p3", at(2025, 5, 1, 9), pay(d, c, 300_000, "achat"))
        .await
        .unwrap();
    submit_at(
        store,
        "w-d",
        at(2025, 8, 1, 9),
        Operation::WriteOff {
            account: d,
            reason: "liquidation".into(),
            actor: "gestionnaire".into(),
        },
    )
    .await
    .unwrap();
    submit_at(
        store,
        "rec-d",
        at(2025, 9, 1, 9),
        Operation::Recovery {
            account: d,
            amount: Amount::from_units(100),
            memo: "dividende".into(),
        },
    )
    .await
    .unwrap();
    submit_at(
        store,
        "p4",
        at(2025, 10, 1, 9),
        pay(a, c, 40_000, "\"quoted\"; memo"),
    )
    .await
    .unwrap();
    members
}

async fn balances(store: &Store) -> BTreeMap<AccountId, i64> {
    store
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id(), a.balance().minor()))
        .collect()
}

fn header(store_locks: Vec<web::export::PeriodLock>, scope: Scope) -> ExportHeader {
    ExportHeader::new(
        Siren::new("552100554").unwrap(),
        "Réseau test",
        Period::new(date(2025, 1, 1), date(2025, 12, 31)).unwrap(),
        scope,
        store_locks,
        at(2026, 2, 1, 12),
    )
    .unwrap()
}

story!(
    locked_periods_refuse_new_entries_and_date_the_fec,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let members = seeded_store(&store).await;
            let (a, b) = (members[0], members[1]);
            let now = Utc::now();
            // Locking checks its input and changes nothing when refused.
            assert!(matches!(
                store
                    .lock_period(web::export::calendar::day_of(now), "comptable", now)
                    .await,
                Err(StoreError::Invalid(_))
            ));
            assert!(matches!(
                store.lock_period(date(2025, 6, 30), "", now).await,
                Err(StoreError::Invalid(_))
            ));
            assert!(matches!(
                store
                    .lock_period(
                        date(2025, 6, 30),
                        &"x".repeat(ledger::ACTOR_LEN_MAX + 1),
                        now
                    )
                    .await,
                Err(StoreError::Invalid(_))
            ));
            assert_eq!(store.locked_through().await.unwrap(), None);
            let lock = store
                .lock_period(date(2025, 6, 30), &"x".repeat(ledger::ACTOR_LEN_MAX), now)
                .await
                .unwrap();
            assert_eq!(
                store.locked_through().await.unwrap(),
                Some(date(2025, 6, 30))
            );
            assert!(matches!(
                store.lock_period(date(2025, 6, 30), "comptable", now).await,
                Err(StoreError::Invalid(_))
            ));
            assert!(matches!(
                store.lock_period(date(2025, 3, 31), "comptable", now).await,
                Err(StoreError::Invalid(_))
            ));
            // Nothing can be dated inside the locked period, up to its last instant (the
            // Paris midnight: 22:00 UTC in summer): the ledger decides it (`period_locked`),
            // in the batch that read the lock.
            let before = balances(&store).await;
            let next_day = web::export::calendar::start_of(date(2025, 7, 1));
            assert_eq!(next_day, at(2025, 6, 30, 22));
            let last_instant = next_day - chrono::Duration::microseconds(1);
            let refused = store
                .submit(
                    Submission::new(key("late-1"), pay(a, b, 100, "trop tard")).at(last_instant),
                )
                .await
                .unwrap();
            let locked = ledger::Rejection::PeriodLocked {
                through: date(2025, 6, 30),
            };
            assert_eq!(refused, Err(locked.clone()));
            assert_eq!(locked.code(), "period_locked");
            assert_eq!(balances(&store).await, before);
            // In a batch, only the dated-inside operation is refused; the next day is open.
            let answers = store
                .submit_batch(vec![
                    Submission::new(key("late-2"), pay(a, b, 100, "trop tard"))
                        .at(at(2025, 1, 10, 9)),
                    Submission::new(key("ok-2"), pay(a, b, 100, "à temps")).at(next_day),
                ])
                .await
                .unwrap();
            assert!(
                matches!(&answers[0], Ok(Err(r)) if *r == locked),
                "{:?}",
                answers[0]
            );
            assert!(
                matches!(answers[1], Ok(Ok(Outcome::Posted { .. }))),
                "{:?}",
                answers[1]
            );
            let second = store
                .lock_period(date(2025, 12, 31), "comptable", now)
                .await
                .unwrap();
            let locks = store.period_locks().await.unwrap();
            assert_eq!(locks, vec![lock, second]);
            // Member a has a company profile (the web front's table): its SIREN names the books.
            web::dispatch!(store.backend(), pool => {
                sqlx::query(
                    "INSERT INTO members (account_id, name, siren, address, city, postcode, \
                     sector, description, contact, created_at) \
                     VALUES ($1, $2, '732829320', '', '', '', '', '', '', 0)",
                )
                .bind(a.0 as i64)
                .bind("Atelier | Dupré")
                .execute(pool)
                .await
                .unwrap();
            });
            // The FEC from the database: legal, balanced, numbered, ValidDate from the locks.
            let directory = store.export_directory().await.unwrap();
            let h = header(locks.clone(), Scope::Network);
            let name = h.fec_file_name();
            let (bytes, summary) = store
                .export(
                    h,
                    &AccountMapping::default(),
                    Format::Fec,
                    &directory,
                    Vec::new(),
                    |_| {},
                )
                .await
                .unwrap();
            let stats = check_fec(&name, &bytes, date(2025, 1, 1), date(2025, 12, 31))
                .unwrap_or_else(|e| panic!("{e:#?}"));
            assert_eq!(summary.transactions, 10);
            let closing = balances(&store).await;
            assert_eq!(summary.closing, closing);
            for (id, balance) in &closing {
                if *id == members[0] || *id == members[1] || *id == members[2] || *id == members[3]
                {
                    let aux = if *id == a {
                        "732829320".to_owned()
                    } else {
                        format!("M{id}")
                    };
                    let books = stats
                        .balances
                        .get(&format!("467100:{aux}"))
                        .copied()
                        .unwrap_or(0)
                        + stats
                            .balances
                            .get(&format!("468100:{aux}"))
                            .copied()
                            .unwrap_or(0);
                    assert_eq!(-books, *balance, "member {id}");
                }
            }
            let text = String::from_utf8(bytes).unwrap();
            let first_half_valid = web::export::calendar::day_of(lock.locked_at)
                .format("%Y%m%d")
                .to_string();
            assert!(text
                .lines()
                .filter(|l| l.contains("|20250201|"))
                .all(|l| l.contains(&format!("|{first_half_valid}||"))));
            // A member's books from the database.
            let info = directory.get(a).unwrap().clone();
            let h = header(locks, Scope::Member(info));
            let name = h.fec_file_name();
            assert_eq!(name, "732829320FEC20251231.txt");
            let (bytes, _) = store
                .export(
                    h,
                    &AccountMapping::default(),
                    Format::Fec,
                    &directory,
                    Vec::new(),
                    |_| {},
                )
                .await
                .unwrap();
            let stats = check_fec(&name, &bytes, date(2025, 1, 1), date(2025, 12, 31))
                .unwrap_or_else(|e| panic!("{e:#?}"));
            let position = stats.balances.get("467100").copied().unwrap_or(0)
                + stats.balances.get("468100").copied().unwrap_or(0);
            assert_eq!(position, closing[&a]);
            store.close().await;
        }
    }
);

story!(
    exports_stream_thousands_of_tied_timestamps_in_order,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let policy = Policy {
                fees: FeePolicy::new(500, Amount::ZERO, 100, FundPayer::Seller).unwrap(),
                ..Policy::default()
            };
            store.create_network("Réseau volume", policy).await.unwrap();
            let mut members = Vec::new();
            for _ in 0..10 {
                members.push(
                    store
                        .open_account(Amount::from_units(1_000_000), None)
                        .await
                        .unwrap()
                        .id(),
                );
            }
            // 3,400 payments of 6 postings each (~20,000 postings), on only 7 distinct times, so
            // that pages end in the middle of runs of equal times.
            let total = 3_400;
            let mut submissions = Vec::new();
            for i in 0..total {
                let payer = members[i % 10];
                let payee = members[(i * 7 + 3) % 10];
                let payee = if payee == payer {
                    members[(i + 1) % 10]
                } else {
                    payee
                };
                let time = at(2025, 3, 1 + (i % 7) as u32, 12);
                submissions.push(
                    Submission::new(
                        key(&format!("v-{i}")),
                        pay(payer, payee, 1_000 + i as i64, "volume"),
                    )
                    .at(time),
                );
            }
            for chunk in submissions.chunks(web::store::SUBMISSIONS_PER_CALL_MAX) {
                for answer in store.submit_batch(chunk.to_vec()).await.unwrap() {
                    assert!(
                        matches!(answer, Ok(Ok(Outcome::Posted { .. }))),
                        "{answer:?}"
                    );
                }
            }
            let directory = store.export_directory().await.unwrap();
            let mut progress = Vec::new();
            let h = ExportHeader::new(
                Siren::new("552100554").unwrap(),
                "Réseau volume",
                Period::new(date(2025, 3, 3), date(2025, 12, 31)).unwrap(),
                Scope::Network,
                vec![],
                at(2026, 1, 1, 0),
            )
            .unwrap();
            let (bytes, summary) = store
                .export(
                    h,
                    &AccountMapping::default(),
                    Format::Hledger,
                    &directory,
                    Vec::new(),
                    |p| progress.push(p),
                )
                .await
                .unwrap();
            // Days 1 and 2 are carried into the opening entry, days 3 to 7 exported.
            let in_period = (0..total).filter(|i| i % 7 >= 2).count() as u64;
            assert_eq!(summary.transactions, in_period);
            assert_eq!(summary.entries, in_period + 1);
            assert_eq!(progress.last().unwrap().done, total as u64);
            assert_eq!(progress.last().unwrap().total, total as u64);
            assert!(progress.len() > 4, "read in pages");
            let mut stored = balances(&store).await;
            stored.retain(|_, b| *b != 0);
            assert_eq!(summary.closing, stored);
            // Every transaction appears once: the tx tags are exactly the period's ids.
            let text = String::from_utf8(bytes).unwrap();
            let tags: std::collections::BTreeSet<&str> = text
                .lines()
                .filter_map(|l| l.split(", tx:").nth(1))
                .collect();
            assert_eq!(tags.len() as u64, in_period);
            if let Some(hledger) = tests::external_tool("hledger") {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("volume.journal");
                std::fs::write(&file, &text).unwrap();
                let out = std::process::Command::new(hledger)
                    .args(["-f", file.to_str().unwrap(), "check", "-s", "ordereddates"])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            store.close().await;
        }
    }
);

story!(
    the_cli_runner_writes_the_legal_file_name_with_progress,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let members = seeded_store(&store).await;
            store
                .lock_period(date(2025, 12, 31), "comptable", Utc::now())
                .await
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let command = ExportCommand {
                format: Format::Fec,
                from: date(2025, 1, 1),
                to: date(2025, 12, 31),
                member: None,
                out: dir.path().to_owned(),
                siren: Some("552100554".into()),
                mapping: None,
            };
            let mut progress = Vec::new();
            let path = run_export(&store, command.clone(), &mut progress)
                .await
                .unwrap();
            assert_eq!(path, dir.path().join("552100554FEC20251231.txt"));
            let bytes = std::fs::read(&path).unwrap();
            check_fec(
                "552100554FEC20251231.txt",
                &bytes,
                date(2025, 1, 1),
                date(2025, 12, 31),
            )
            .unwrap_or_else(|e| panic!("{e:#?}"));
            let progress = String::from_utf8(progress).unwrap();
            assert!(progress.contains("(100 %)"), "{progress}");
            assert!(
                progress.contains("export: 9 transactions, 9 entries"),
                "{progress}"
            );
            // A mapping file up to 1 MiB is read; one byte more is refused.
            let json = AccountMapping::default().to_json();
            let limit = web::export::run::MAPPING_FILE_BYTES_MAX as usize;
            let at_limit = dir.path().join("mapping.json");
            std::fs::write(
                &at_limit,
                format!("{json}{}", " ".repeat(limit - json.len())),
            )
            .unwrap();
            let with_mapping = ExportCommand {
                mapping: Some(at_limit.clone()),
                out: dir.path().join("mapped.txt"),
                ..command.clone()
            };
            run_export(&store, with_mapping.clone(), &mut Vec::new())
                .await
                .unwrap();
            assert_eq!(
                std::fs::read(dir.path().join("mapped.txt")).unwrap(),
                std::fs::read(&path).unwrap()
            );
            std::fs::write(
                &at_limit,
                format!("{json}{}", " ".repeat(limit + 1 - json.len())),
            )
            .unwrap();
            assert!(run_export(&store, with_mapping, &mut Vec::new())
                .await
                .unwrap_err()
                .to_string()
                .contains("larger than"));
            // Bad inputs: clear errors, and no file left behind.
            let bad = ExportCommand {
                siren: Some("55210055".into()),
                ..command.clone()
            };
            assert!(run_export(&store, bad, &mut Vec::new())
                .await
                .unwrap_err()
                .to_string()
                .contains("SIREN"));
            let ofx_network = ExportCommand {
                format: Format::Ofx,
                out: dir.path().join("n.ofx"),
                ..command.clone()
            };
            assert!(run_export(&store, ofx_network, &mut Vec::new())
                .await
                .is_err());
            assert!(!dir.path().join("n.ofx").exists() && !dir.path().join("n.part").exists());
            let not_member = ExportCommand {
                member: Some("1".into()),
                ..command.clone()
            };
            assert!(run_export(&store, not_member, &mut Vec::new())
                .await
                .is_err());
            let unlocked = ExportCommand {
                from: date(2026, 1, 1),
                to: date(2026, 3, 31),
                ..command.clone()
            };
            assert!(run_export(&store, unlocked, &mut Vec::new())
                .await
                .unwrap_err()
                .to_string()
                .contains("not locked"));
            let member = ExportCommand {
                format: Format::Ofx,
                member: Some(members[0].0.to_string()),
                out: dir.path().join("a.ofx"),
                ..command
            };
            run_export(&store, member, &mut Vec::new()).await.unwrap();
            assert!(std::fs::read_to_string(dir.path().join("a.ofx"))
                .unwrap()
                .contains("<FITID>T"));
            store.close().await;
        }
    }
);

story!(
    the_database_still_refuses_what_is_dated_inside_a_locked_period,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // Defense in depth: the ledger decides `period_locked`, and the trigger of
            // migration 0010 (0017 on PostgreSQL) refuses the same rows written by raw SQL.
            let store = Store::connect(&url).await.unwrap();
            let members = seeded_store(&store).await;
            let (a, b) = (members[0], members[1]);
            store
                .lock_period(date(2025, 12, 31), "comptable", Utc::now())
                .await
                .unwrap();
            let kind = store.kind();
            let statements = |id: i64, time: &str| -> Vec<String> {
                let tx_row = format!(
                    "INSERT INTO transactions (id, seq, kind, time, reference, memo, \
                     posting_count, hash) VALUES ({id}, {id}, 'adjustment', '{time}', '', 'raw', \
                     2, '{}')",
                    "0".repeat(64)
                );
                let posting = |n: i64, account: AccountId, amount: i64| match kind {
                    web::store::BackendKind::Sqlite => format!(
                        "INSERT INTO postings (tx_id, n, account_id, amount, leg, time) \
                         VALUES ({id}, {n}, {account}, {amount}, 'principal', '{time}')"
                    ),
                    web::store::BackendKind::Postgres => format!(
                        "INSERT INTO postings (tx_id, n, posting_count, account_id, amount, leg, \
                         time) VALUES ({id}, {n}, 2, {account}, {amount}, 'principal', '{time}')"
                    ),
                };
                match kind {
                    web::store::BackendKind::Sqlite => {
                        vec![posting(0, a, -100), posting(1, b, 100), tx_row]
                    }
                    web::store::BackendKind::Postgres => {
                        vec![tx_row, posting(0, a, -100), posting(1, b, 100)]
                    }
                }
            };
            let raw = |sql: Vec<String>| {
                let store = store.clone();
                async move {
                    web::dispatch!(store.backend(), pool => {
                        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
                        for statement in &sql {
                            sqlx::query(statement)
                                .execute(&mut *tx)
                                .await
                                .map_err(|e| e.to_string())?;
                        }
                        tx.commit().await.map_err(|e| e.to_string())
                    })
                }
            };
            // The lock ends at the Paris midnight: 23:00 UTC on 31 December.
            let inside = raw(statements(900_001, "2025-12-31T22:59:59.999999+00:00")).await;
            let refused = inside.unwrap_err();
            assert!(
                refused.contains("inside a locked period")
                    || refused.contains("inside the period locked through"),
                "{refused}"
            );
            // Control: the same rows dated the next day are accepted by the database.
            let next = "2025-12-31T23:00:00+00:00";
            raw(statements(900_002, next)).await.unwrap();
            // The write path's form: several transactions in ONE statement (checked once per
            // statement on PostgreSQL since migration 0017). One row inside the lock, first or
            // last, refuses the whole statement.
            let inside = "2025-12-31T22:59:59.999999+00:00";
            let one_statement = |rows: [(i64, &str); 2]| -> Vec<String> {
                let values: Vec<String> = rows
                    .iter()
                    .map(|(id, time)| {
                        format!(
                            "({id}, {id}, 'adjustment', '{time}', '', 'raw', 2, '{}')",
                            "0".repeat(64)
                        )
                    })
                    .collect();
                let tx_rows = format!(
                    "INSERT INTO transactions (id, seq, kind, time, reference, memo, \
                     posting_count, hash) VALUES {}",
                    values.join(", ")
                );
                let postings: Vec<String> = rows
                    .iter()
                    .flat_map(|(id, time)| statements(*id, time))
                    .filter(|sql| sql.starts_with("INSERT INTO postings"))
                    .collect();
                match kind {
                    web::store::BackendKind::Sqlite => {
                        postings.into_iter().chain([tx_rows]).collect()
                    }
                    web::store::BackendKind::Postgres => {
                        [tx_rows].into_iter().chain(postings).collect()
                    }
                }
            };
            for rows in [
                [(900_003, inside), (900_004, next)],
                [(900_005, next), (900_006, inside)],
            ] {
                let refused = raw(one_statement(rows)).await.unwrap_err();
                assert!(refused.contains("inside"), "{refused}");
            }
            let raw_rows: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE memo = 'raw'")
                    .fetch_one(pool)
                    .await
                    .unwrap()
            });
            assert_eq!(raw_rows, 1, "only the control's row is in");
            raw(one_statement([(900_007, next), (900_008, next)]))
                .await
                .unwrap();
            store.close().await;
        }
    }
);

story!(
    a_lock_made_before_migration_0014_keeps_its_utc_days,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            // A lock written by an older binary has no `ends_at`: its days were UTC days, and
            // both the ledger and the trigger keep them so.
            let store = Store::connect(&url).await.unwrap();
            let members = seeded_store(&store).await;
            let (a, b) = (members[0], members[1]);
            web::dispatch!(store.backend(), pool => {
                sqlx::query(
                    "INSERT INTO period_locks (through, locked_at, actor) VALUES ($1, $2, 'old')",
                )
                .bind(date(2025, 10, 31))
                .bind(at(2025, 11, 5, 9))
                .execute(pool)
                .await
                .unwrap();
            });
            let late = at(2025, 10, 31, 23) + chrono::Duration::minutes(30);
            let refused = store
                .submit(Submission::new(key("old-late"), pay(a, b, 100, "x")).at(late))
                .await
                .unwrap();
            assert_eq!(
                refused,
                Err(ledger::Rejection::PeriodLocked {
                    through: date(2025, 10, 31)
                })
            );
            let answer = store
                .submit(
                    Submission::new(key("old-open"), pay(a, b, 100, "x")).at(at(2025, 11, 1, 0)),
                )
                .await
                .unwrap();
            assert!(matches!(answer, Ok(Outcome::Posted { .. })), "{answer:?}");
            // A new lock ends at the Paris midnight (23:00 UTC in winter).
            store
                .lock_period(date(2025, 11, 30), "comptable", Utc::now())
                .await
                .unwrap();
            let refused = store
                .submit(
                    Submission::new(key("new-late"), pay(a, b, 100, "x"))
                        .at(at(2025, 11, 30, 22) + chrono::Duration::minutes(59)),
                )
                .await
                .unwrap();
            assert!(matches!(
                refused,
                Err(ledger::Rejection::PeriodLocked { .. })
            ));
            let answer = store
                .submit(
                    Submission::new(key("new-open"), pay(a, b, 100, "x")).at(at(2025, 11, 30, 23)),
                )
                .await
                .unwrap();
            assert!(matches!(answer, Ok(Outcome::Posted { .. })), "{answer:?}");
            store.close().await;
        }
    }
);

story!(at_most_ten_thousand_period_locks, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let store = Store::connect(&url).await.unwrap();
        seeded_store(&store).await;
        let max = web::export::LOCKS_MAX as i64;
        // max − 1 daily locks from 1990 on, written directly; the store adds the last one.
        let sql = match store.kind() {
            web::store::BackendKind::Sqlite => format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
                     INSERT INTO period_locks (through, locked_at, actor) \
                     SELECT date('1990-01-01', '+' || i || ' days'), '2024-01-01T00:00:00+00:00', \
                     'old' FROM n",
                max - 2
            ),
            web::store::BackendKind::Postgres => format!(
                "INSERT INTO period_locks (through, locked_at, actor) \
                     SELECT DATE '1990-01-01' + i, TIMESTAMPTZ '2024-01-01 00:00:00+00', 'old' \
                     FROM generate_series(0, {}) AS i",
                max - 2
            ),
        };
        web::dispatch!(store.backend(), pool => {
            sqlx::query(&sql).execute(pool).await.unwrap();
        });
        assert_eq!(store.period_locks().await.unwrap().len() as i64, max - 1);
        let last = date(1990, 1, 1) + chrono::Duration::days(max - 1);
        store
            .lock_period(last, "comptable", Utc::now())
            .await
            .unwrap();
        assert!(matches!(
            store
                .lock_period(last + chrono::Duration::days(1), "comptable", Utc::now())
                .await,
            Err(StoreError::Invalid(_))
        ));
        let locks = store.period_locks().await.unwrap();
        assert_eq!(locks.len() as i64, max);
        // An export header takes them all.
        let directory = store.export_directory().await.unwrap();
        let (bytes, _) = store
            .export(
                header(locks, Scope::Network),
                &AccountMapping::default(),
                Format::Hledger,
                &directory,
                Vec::new(),
                |_| {},
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!bytes.is_empty());
        store.close().await;
    }
});
