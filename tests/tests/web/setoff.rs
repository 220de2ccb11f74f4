//! Set-off of outside invoices on the pages: members declare the euro invoices other
//! members owe them on `/setoff`, the debtors confirm or reject them, the creditors close
//! them; a manager runs the set-off on `/admin/setoff`, which cancels on each invoice of a
//! cycle the same amount and leaves every company's position unchanged.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use ledger::Amount;
use tests::story;
use web::setoff::{self, InvoiceStatus, OutsideInvoice};

use crate::web_front::client::{Client, Page};
use crate::web_front::PASSWORD;

/// Posts the declaring form of `/setoff` as `client`.
async fn declare(client: &mut Client, debtor: &str, number: &str, amount: &str, due: &str) -> Page {
    client
        .post(
            "/setoff/invoices",
            &[
                ("debtor", debtor),
                ("number", number),
                ("amount", amount),
                ("due_on", due),
            ],
        )
        .await
}

/// The invoice numbered `number` that `member_id` issued or owes.
async fn invoice(store: &web::store::Store, member_id: i64, number: &str) -> OutsideInvoice {
    setoff::of_member(store, member_id, setoff::OF_MEMBER_MAX)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.number == number)
        .unwrap_or_else(|| panic!("no invoice {number}"))
}

/// What each company is owed less what it owes, on the invoices still owed.
async fn positions(store: &web::store::Store, members: &[i64]) -> Vec<i64> {
    let mut out = Vec::new();
    for &m in members {
        let invoices = setoff::of_member(store, m, setoff::OF_MEMBER_MAX)
            .await
            .unwrap();
        let owed: i64 = invoices
            .iter()
            .filter(|i| i.status == InvoiceStatus::Confirmed || i.status == InvoiceStatus::Cleared)
            .map(|i| {
                if i.creditor_member_id == m {
                    i.open.minor()
                } else {
                    -i.open.minor()
                }
            })
            .sum();
        out.push(owed);
    }
    out
}

story!(outside_invoices_are_set_off, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, beta) = crate::web_front::two_members(&url).await;
        let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
        crate::api::staff(&store).await;
        let today = Utc::now().date_naive();
        let day = |days: i64| (today + Duration::days(days)).to_string();
        let mut a = Client::new(state.clone());
        a.login("owner@alpha.fr", PASSWORD).await;
        let mut b = a.sibling();
        b.login("owner@beta.fr", PASSWORD).await;
        let mut g = a.sibling();
        g.login("staff@gamma.fr", PASSWORD).await;
        let (alpha_id, beta_id, gamma_id) = (
            alpha.id.to_string(),
            beta.id.to_string(),
            gamma.id.to_string(),
        );

        // The page and the menu; nothing yet.
        let page = a.get("/setoff").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("id=\"setoff-declare\"");
        page.assert_contains("Aucune facture.");
        page.assert_contains(&format!(
            "<option value=\"{beta_id}\">Beta &#38; Fils &#60;SAS&#62;</option>"
        ));
        assert!(!page.body.contains(&format!("<option value=\"{alpha_id}\"")));
        a.get("/dashboard")
            .await
            .assert_contains("href=\"/setoff\"");

        // Refused, each field named, what was typed kept, nothing declared.
        let long = "n".repeat(setoff::NUMBER_LEN_MAX + 1);
        for (debtor, number, amount, due, says) in [
            ("", "F-1", "1000", day(30), "Débiteur"),
            (alpha_id.as_str(), "F-1", "1000", day(30), "Débiteur"),
            ("999999", "F-1", "1000", day(30), "Débiteur"),
            ("abc", "F-1", "1000", day(30), "Débiteur"),
            (beta_id.as_str(), "", "1000", day(30), "Numéro de facture"),
            (
                beta_id.as_str(),
                long.as_str(),
                "1000",
                day(30),
                "Numéro de facture",
            ),
            (beta_id.as_str(), "F-1", "", day(30), "Montant"),
            (beta_id.as_str(), "F-1", "0", day(30), "Montant"),
            (beta_id.as_str(), "F-1", "-5", day(30), "Montant"),
            (beta_id.as_str(), "F-1", "douze", day(30), "Montant"),
            (beta_id.as_str(), "F-1", "100000000,01", day(30), "Montant"),
            (beta_id.as_str(), "F-1", "1000", day(-366), "Échéance"),
            (beta_id.as_str(), "F-1", "1000", day(366), "Échéance"),
            (
                beta_id.as_str(),
                "F-1",
                "1000",
                "2026-13-01".to_owned(),
                "Échéance",
            ),
        ] {
            let page = declare(&mut a, debtor, number, amount, &due).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
            page.assert_contains(&format!("{says} : "));
            assert!(setoff::of_member(&store, alpha.id, 10)
                .await
                .unwrap()
                .is_empty());
        }
        let page = declare(&mut a, &beta_id, "F<1>", "abc", &day(1)).await;
        page.assert_contains("value=\"F&#60;1&#62;\"");

        // At the limits: a number of 40 characters, 100 000 000,00, due a year either way.
        let forty = "N".repeat(setoff::NUMBER_LEN_MAX);
        for (number, due) in [(forty.as_str(), day(-365)), ("MAX", day(365))] {
            let page = declare(&mut a, &beta_id, number, "100 000 000,00", &due).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("La facture est déclarée");
        }
        let max = invoice(&store, alpha.id, "MAX").await;
        assert_eq!(max.amount, setoff::amount_max());
        assert_eq!(max.status, InvoiceStatus::Declared);
        // The same number twice is refused.
        let page = declare(&mut a, &beta_id, "MAX", "10", &day(1)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Vous avez déjà déclaré une facture sous ce numéro.");
        // The creditor closes them (a reason is required; the debtor may not close).
        for number in [forty.as_str(), "MAX"] {
            let id = invoice(&store, alpha.id, number).await.id;
            let path = format!("/setoff/invoices/{id}/close");
            let page = b.post(&path, &[("reason", "Payée")]).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            let page = a.post(&path, &[("reason", " ")]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Motif : obligatoire.");
            let page = a.post(&path, &[("reason", "Erreur de saisie")]).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Facture clôturée.");
            let page = a.post(&path, &[("reason", "Encore")]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("déjà été confirmée, refusée, clôturée ou compensée");
        }
        assert_eq!(
            invoice(&store, beta.id, "MAX").await.note.as_deref(),
            Some("Erreur de saisie")
        );

        // A cycle: Beta owes Alpha 1 000, Gamma owes Beta 700, Alpha owes Gamma 500.
        let page = declare(&mut a, &beta_id, "A-1", "1 000,00", &day(30)).await;
        assert_eq!(page.status, StatusCode::OK);
        let page = declare(&mut b, &gamma_id, "B-1", "700", &day(30)).await;
        assert_eq!(page.status, StatusCode::OK);
        let page = declare(&mut g, &alpha_id, "G-1", "500.00", &day(30)).await;
        assert_eq!(page.status, StatusCode::OK);
        // And one Gamma rejects, with a reason Alpha reads.
        let page = declare(&mut a, &gamma_id, "A-2", "300", &day(30)).await;
        assert_eq!(page.status, StatusCode::OK);

        // The debtors' dashboards say how many they have to answer (Gamma: B-1 and A-2).
        let dashboard = b.get("/dashboard").await;
        dashboard.assert_contains("href=\"/setoff#setoff-received\"");
        dashboard
            .assert_contains("Factures d&#39;autres membres à confirmer pour la compensation : 1");
        g.get("/dashboard")
            .await
            .assert_contains("Factures d&#39;autres membres à confirmer pour la compensation : 2");

        // The debtor sees it to confirm; a third company does not see it, and its posts are
        // 404; confirmed once.
        let a1 = invoice(&store, alpha.id, "A-1").await;
        let page = b.get("/setoff").await;
        page.assert_contains(&format!("action=\"/setoff/invoices/{}/confirm\"", a1.id));
        assert!(!a
            .get("/setoff")
            .await
            .body
            .contains(&format!("/setoff/invoices/{}/confirm", a1.id)));
        assert!(!g.get("/setoff").await.body.contains("A-1"));
        let confirm = |id: i64| format!("/setoff/invoices/{id}/confirm");
        assert_eq!(
            g.post(&confirm(a1.id), &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            a.post(&confirm(a1.id), &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.post("/setoff/invoices/abc/confirm", &[]).await.status,
            StatusCode::NOT_FOUND
        );
        let page = b.post(&confirm(a1.id), &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Facture confirmée");
        let page = b.post(&confirm(a1.id), &[]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!b
            .get("/dashboard")
            .await
            .body
            .contains("id=\"setoff-link\""));
        let b1 = invoice(&store, beta.id, "B-1").await;
        assert_eq!(g.post(&confirm(b1.id), &[]).await.status, StatusCode::OK);
        let g1 = invoice(&store, gamma.id, "G-1").await;
        assert_eq!(a.post(&confirm(g1.id), &[]).await.status, StatusCode::OK);
        let a2 = invoice(&store, alpha.id, "A-2").await;
        let reject = format!("/setoff/invoices/{}/reject", a2.id);
        let page = g.post(&reject, &[("reason", "")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = g
            .post(&reject, &[("reason", "Jamais reçu <la> marchandise")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Facture refusée");
        let page = a.get("/setoff").await;
        page.assert_contains("refusée par le débiteur");
        page.assert_contains("Jamais reçu &#60;la&#62; marchandise");
        assert_eq!(
            g.post(&confirm(a2.id), &[]).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        // The console: members are refused; the accountant reads without the form; the
        // manager sees what a run would cancel now.
        assert_eq!(a.get("/admin/setoff").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            a.post("/admin/setoff", &[("reason", "x")]).await.status,
            StatusCode::FORBIDDEN
        );
        let mut manager = a.sibling();
        manager.login("gestion@troc.fr", PASSWORD).await;
        let mut accountant = a.sibling();
        accountant.login("compta@troc.fr", PASSWORD).await;
        manager
            .get("/admin")
            .await
            .assert_contains("href=\"/admin/setoff\"");
        let page = accountant.get("/admin/setoff").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("id=\"setoff-run\""));
        assert_eq!(
            accountant
                .post("/admin/setoff", &[("reason", "x")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let page = manager.get("/admin/setoff").await;
        page.assert_contains("id=\"setoff-run\"");
        page.assert_contains("<dd id=\"setoff-invoices\">3</dd>");
        page.assert_contains("<dd id=\"setoff-owed\">2 200,00</dd>");
        page.assert_contains("<dd id=\"setoff-would-clear\">1 500,00</dd>");
        page.assert_contains("<dd id=\"setoff-cleared-invoices\">3</dd>");
        let members = [alpha.id, beta.id, gamma.id];
        let before = positions(&store, &members).await;
        assert_eq!(before, vec![50_000, -30_000, -20_000]);

        // A reason is required (one of 501 characters too); then it runs, once.
        for reason in [String::new(), "r".repeat(501)] {
            let page = manager.post("/admin/setoff", &[("reason", &reason)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Motif : ");
        }
        assert!(setoff::of_member(&store, alpha.id, 10)
            .await
            .unwrap()
            .iter()
            .all(|i| i.open == i.amount));
        let page = manager
            .post("/admin/setoff", &[("reason", &"r".repeat(500))])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location.clone().unwrap();
        assert!(location.starts_with("/admin/setoff/"), "{location}");
        let run = accountant.get(&location).await;
        assert_eq!(run.status, StatusCode::OK);
        run.assert_contains("<dd id=\"setoff-run-cleared\">1 500,00</dd>");
        for number in ["A-1", "B-1", "G-1"] {
            run.assert_contains(&format!("<td>{number}</td>"));
        }
        assert!(!run.body.contains("<td>A-2</td>"));
        assert_eq!(a.get(&location).await.status, StatusCode::FORBIDDEN);
        // The run's lines as CSV for the network's staff; each company's own, with its side.
        run.assert_contains(&format!("href=\"{location}/lines.csv\""));
        let csv = accountant.get(&format!("{location}/lines.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv
            .body
            .starts_with("run,run_at,invoice_id,number,creditor,debtor,amount\r\n"));
        assert_eq!(csv.body.lines().count(), 4, "{}", csv.body);
        assert!(csv
            .body
            .contains(",\"A-1\",\"Alpha SARL\",\"Beta & Fils <SAS>\",500.00\r\n"));
        let csv_path = format!("{location}/lines.csv");
        assert_eq!(a.get(&csv_path).await.status, StatusCode::FORBIDDEN);
        let mine = g.get("/setoff/lines.csv").await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(mine.body.lines().count(), 3, "{}", mine.body);
        assert!(mine
            .body
            .contains(",\"G-1\",\"Gamma\",\"Alpha SARL\",creditor,500.00\r\n"));
        assert!(mine
            .body
            .contains(",\"B-1\",\"Beta & Fils <SAS>\",\"Gamma\",debtor,500.00\r\n"));
        assert!(!mine.body.contains("A-1"));
        assert_eq!(
            manager.get("/admin/setoff/999999").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            manager.get("/admin/setoff/x").await.status,
            StatusCode::NOT_FOUND
        );

        // 500 off each invoice; the positions have not moved; G-1 is cleared.
        assert_eq!(
            invoice(&store, alpha.id, "A-1").await.open,
            Amount::from_units(500)
        );
        assert_eq!(
            invoice(&store, beta.id, "B-1").await.open,
            Amount::from_units(200)
        );
        let g1 = invoice(&store, gamma.id, "G-1").await;
        assert_eq!(g1.open, Amount::ZERO);
        assert_eq!(g1.status, InvoiceStatus::Cleared);
        assert_eq!(positions(&store, &members).await, before);
        let page = g.get("/setoff").await;
        page.assert_contains("entièrement compensée");
        page.assert_contains("<td class=\"num\">500,00</td></tr>");
        assert!(!g
            .get("/setoff")
            .await
            .body
            .contains("<td>A-1</td><td>Alpha"));

        // Nothing more to set off: refused, nothing recorded.
        let page = manager.post("/admin/setoff", &[("reason", "Encore")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Aucune compensation n&#39;est possible");
        let runs = web::setoff::runs(
            &store,
            &web::console::Actor::new(0, "compta@troc.fr", web::people::Role::Accountant),
        )
        .await
        .unwrap();
        assert_eq!(runs.len(), 1);
        let log = manager.get("/admin/log").await;
        log.assert_contains("setoff.run");

        // A cleared invoice is not closed; a confirmed one is, its set-off kept.
        let close = format!("/setoff/invoices/{}/close", g1.id);
        assert_eq!(
            g.post(&close, &[("reason", "x")]).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let a1 = invoice(&store, alpha.id, "A-1").await;
        let page = a
            .post(
                &format!("/setoff/invoices/{}/close", a1.id),
                &[("reason", "Payée en euros")],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let a1 = invoice(&store, alpha.id, "A-1").await;
        assert_eq!(
            (a1.status, a1.open),
            (InvoiceStatus::Closed, Amount::from_units(500))
        );
        assert_eq!(
            setoff::lines_of_member(&store, alpha.id, 10)
                .await
                .unwrap()
                .len(),
            2
        );

        // The set-off's record cannot be changed, even with SQL.
        web::dispatch!(store.backend(), pool => {
            for sql in [
                "UPDATE setoff_runs SET cleared_minor = 0",
                "DELETE FROM setoff_lines",
                "UPDATE setoff_lines SET amount_minor = 1",
            ] {
                assert!(sqlx::query(sql).execute(pool).await.is_err(), "{sql}");
            }
        });
        store.close().await;
    }
});

story!(
    a_company_declares_at_most_so_many_outside_invoices,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = crate::web_front::two_members(&url).await;
            let today = Utc::now().date_naive();
            let (owner, _) = web::people::find_login(&store, "owner@alpha.fr")
                .await
                .unwrap()
                .unwrap();
            let new = |n: i64| setoff::NewInvoice {
                debtor: beta.id.to_string(),
                number: format!("F-{n}"),
                amount: "10".into(),
                due_on: today.to_string(),
            };
            for n in 1..=setoff::OPEN_PER_MEMBER_MAX {
                setoff::declare(&store, &owner, &alpha, &new(n), today)
                    .await
                    .unwrap();
            }
            let mut a = Client::new(state.clone());
            a.login("owner@alpha.fr", PASSWORD).await;
            let page = declare(
                &mut a,
                &beta.id.to_string(),
                "F-0",
                "10",
                &today.to_string(),
            )
            .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("nombre maximal de factures en attente ou dues");
            // One closed makes room again.
            let first = invoice(&store, alpha.id, "F-1").await;
            setoff::close(&store, &owner, &alpha, first.id, "Payée")
                .await
                .unwrap();
            let page = declare(
                &mut a,
                &beta.id.to_string(),
                "F-0",
                "10",
                &today.to_string(),
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            // The member accountant reads the page, without the forms, and may not post.
            web::people::create_user(
                &store,
                "expert@alpha.fr",
                PASSWORD,
                "Expert",
                web::people::Role::MemberAccountant,
                Some(alpha.id),
            )
            .await
            .unwrap()
            .unwrap();
            let mut expert = a.sibling();
            expert.login("expert@alpha.fr", PASSWORD).await;
            let page = expert.get("/setoff").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("F-0");
            assert!(!page.body.contains("id=\"setoff-declare\""));
            assert!(!page.body.contains("/close\""));
            let page = declare(
                &mut expert,
                &beta.id.to_string(),
                "X-1",
                "10",
                &today.to_string(),
            )
            .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            store.close().await;
        }
    }
);

story!(
    a_run_takes_at_most_so_many_invoices,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _state, alpha, beta) = crate::web_front::two_members(&url).await;
            let gamma = crate::web_front::member(&store, 3, "Gamma", "gamma", 1_000).await;
            crate::api::staff(&store).await;
            let ring = [alpha.id, beta.id, gamma.id];
            // One more confirmed invoice than a run takes, in triangles of 1,00: invoice n is
            // owed by ring[n % 3] to ring[(n + 1) % 3]. Written with SQL, 500 a statement.
            let total = setoff::RUN_INVOICES_MAX + 1;
            for first in (0..total).step_by(500) {
                let rows: Vec<usize> = (first..total.min(first + 500)).collect();
                let values: Vec<String> = rows
                    .iter()
                    .enumerate()
                    .map(|(k, _)| {
                        let p = 3 * k;
                        format!(
                            "(${}, ${}, ${}, 100, 100, '2027-01-31', 'confirmed', 'test', 0)",
                            p + 1,
                            p + 2,
                            p + 3
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO outside_invoices (debtor_member_id, creditor_member_id, number, \
                 amount_minor, open_minor, due_on, status, declared_by, declared_at) VALUES {}",
                    values.join(", ")
                );
                web::dispatch!(store.backend(), pool => {
                    let mut query = sqlx::query(&sql);
                    for n in &rows {
                        query = query.bind(ring[n % 3]).bind(ring[(n + 1) % 3]).bind(format!("T-{n}"));
                    }
                    query.execute(pool).await.unwrap();
                });
            }
            let manager = web::console::Actor::new(
                web::people::find_login(&store, "gestion@troc.fr")
                    .await
                    .unwrap()
                    .unwrap()
                    .0
                    .id,
                "gestion@troc.fr",
                web::people::Role::Manager,
            );
            // The run takes the oldest 5 000: 1 666 whole triangles and two invoices of the last.
            let preview = setoff::preview(&store, &manager).await.unwrap();
            assert_eq!(preview.invoices, setoff::RUN_INVOICES_MAX as i64);
            assert_eq!(preview.cleared, Amount::from_units(4_998));
            let run = setoff::run(&store, &manager, "Mensuelle").await.unwrap();
            assert_eq!(
                (run.invoices, run.cleared),
                (5_000, Amount::from_units(4_998))
            );
            let lines = setoff::run_lines(&store, &manager, run.id).await.unwrap();
            assert_eq!(lines.len(), 4_998);
            assert!(lines.iter().all(|l| l.amount == Amount::from_units(1)));
            // The next run takes the rest: the last triangle.
            let preview = setoff::preview(&store, &manager).await.unwrap();
            assert_eq!(
                (preview.invoices, preview.cleared),
                (3, Amount::from_units(3))
            );
            let run = setoff::run(&store, &manager, "Reste").await.unwrap();
            assert_eq!(run.cleared, Amount::from_units(3));
            let cleared: i64 = web::dispatch!(store.backend(), pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM outside_invoices WHERE status = 'cleared' \
                     AND open_minor = 0")
                    .fetch_one(pool).await.unwrap()
            });
            assert_eq!(cleared, total as i64);
            assert!(matches!(
                setoff::run(&store, &manager, "Encore").await,
                Err(web::console::ConsoleError::Conflict(
                    web::console::Conflict::NothingToSetOff
                ))
            ));
            store.close().await;
        }
    }
);
