//! `troc serve --demo` seeds a realistic network once, and only into an empty database.

use axum::http::StatusCode;
use tests::story;

use super::client::{state, Client};

story!(demo_seeds_an_empty_database_once, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state) = state(&url).await;
        assert!(web::demo::seed_if_empty(&state, "http://troc.test")
            .await
            .unwrap());
        let members = web::people::members(&store, 1_000).await.unwrap();
        assert_eq!(members.len(), 30);
        let transactions: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM transactions").fetch_one(pool).await.unwrap()
        });
        // Most of the 400 payments fit the members' limits; some are refused by the ledger.
        assert!(transactions > 200, "{transactions}");
        assert!(store.check_invariants().await.unwrap().is_ok());
        // A second start changes nothing.
        assert!(!web::demo::seed_if_empty(&state, "http://troc.test")
            .await
            .unwrap());
        assert_eq!(web::people::members(&store, 1_000).await.unwrap().len(), 30);

        let mut browser = Client::new(state);
        browser
            .login("membre01@demo.troc", web::demo::DEMO_PASSWORD)
            .await;
        let page = browser.get("/dashboard").await;
        assert_eq!(page.status, StatusCode::OK);
        page.assert_contains("Boulangerie Martin");
        // The network's announcement of the month.
        page.assert_contains("Soirée des membres jeudi prochain");
        // Its staff user's purchase above its limit waits for the owner.
        page.assert_contains("1 paiement de votre équipe attend votre accord.");
        browser
            .get("/approvals")
            .await
            .assert_contains("DEVIS-2026-114");
        page.assert_contains("<polyline");
        page.assert_contains("DEMO-10");
        // The first member invoiced the latest payment it received, in two lines.
        let year = chrono::Utc::now().format("%Y").to_string();
        let invoices = browser.get("/invoices").await;
        invoices.assert_contains(&format!(">FA-{year}-00001</a>"));
        invoices.assert_contains("(+1 ligne(s) de plus)");
        // Its staff user pays within the 500,00 its owner allowed, and no more.
        let mut staff = browser.sibling();
        staff
            .login("equipe01@demo.troc", web::demo::DEMO_PASSWORD)
            .await;
        let company = staff.get("/company").await;
        company.assert_contains("Plafond par opération : 500,00");
        company.assert_contains("Plafond par mois : 2 000,00, dont 0,00 engagés ce mois-ci");
        let mut manager = browser.sibling();
        manager
            .login("gestion@demo.troc", web::demo::DEMO_PASSWORD)
            .await;
        manager
            .get("/admin/members")
            .await
            .assert_contains("Logistique Garnier");
        manager
            .get("/admin")
            .await
            .assert_contains("id=\"members-count\">30<");
        // The printer's euro invoice waits for the bakery's answer; the manager's set-off
        // would cancel 900,00 on each invoice of a cycle of three.
        page.assert_contains("Factures d&#39;autres membres à confirmer pour la compensation : 1");
        let setoff = manager.get("/admin/setoff").await;
        setoff.assert_contains("<dd id=\"setoff-would-clear\">2 700,00</dd>");
        setoff.assert_contains("<dd id=\"setoff-invoices\">3</dd>");
        // A credit-limit request waits in the console, from the third member.
        let page = manager.get("/admin").await;
        page.assert_contains("id=\"limit-requests-count\">1<");
        manager
            .get("/admin/limit-requests?status=pending")
            .await
            .assert_contains("8 000,00");
        // The largest creditor is near the upper limit the manager gave it: on the review
        // list, and reminded on its dashboard.
        let page = manager.get("/admin/reviews").await;
        let near_max = &page.body[page.body.find("id=\"near-max\"").unwrap()..];
        let near_max = &near_max[..near_max.find("</section>").unwrap()];
        let listed = near_max.matches("href=\"/admin/members/").count();
        assert_eq!(listed, 1, "{near_max}");
        manager
            .get("/admin")
            .await
            .assert_contains("id=\"near-max-count\">1<");
        // The ageing of the negative balances counts every demo member below zero once.
        let ageing = crate::web_front::section(&page.body, "ageing");
        let counted: usize = ageing
            .split("<tr><td>")
            .skip(1)
            .map(|row| {
                let cell = row.split("<td class=\"num\">").nth(1).expect("a count");
                cell[..cell.find('<').unwrap()].parse::<usize>().unwrap()
            })
            .sum();
        let mut below_zero = 0;
        for m in &members {
            let account = store
                .account(ledger::AccountId(m.account_id as u64))
                .await
                .unwrap()
                .unwrap();
            below_zero += usize::from(account.balance().is_negative());
        }
        assert!(below_zero > 0);
        assert_eq!(counted, below_zero, "{ageing}");
        let creditor = members
            .iter()
            .find(|m| near_max.contains(&format!("href=\"/admin/members/{}\"", m.id)))
            .expect("a demo member");
        let email = web::people::users_of_member(&store, creditor.id)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.role == web::people::Role::Owner)
            .unwrap()
            .email;
        let mut owner = manager.sibling();
        owner.login(&email, web::demo::DEMO_PASSWORD).await;
        let page = owner.get("/dashboard").await;
        page.assert_contains("Votre solde dépasse 80 % de votre plafond");
        page.assert_contains("id=\"max-balance\"");
        owner
            .get("/credit-limit")
            .await
            .assert_contains("Solde élevé : à dépenser dans le réseau");
        // The last member gave notice that it leaves: on the review list, counted on the
        // landing page, and reminded on its dashboard.
        let leaving =
            &crate::web_front::section(&manager.get("/admin/reviews").await.body, "leaving");
        let last = members.iter().max_by_key(|m| m.id).unwrap();
        assert_eq!(
            leaving.matches("href=\"/admin/members/").count(),
            1,
            "{leaving}"
        );
        assert!(leaving.contains(&format!("href=\"/admin/members/{}\"", last.id)));
        manager
            .get("/admin")
            .await
            .assert_contains("id=\"leaving-count\">1<");
        let mut last_owner = manager.sibling();
        last_owner
            .login("membre30@demo.troc", web::demo::DEMO_PASSWORD)
            .await;
        last_owner
            .get("/dashboard")
            .await
            .assert_contains("Votre préavis de départ est en attente");
        last_owner
            .get("/departure")
            .await
            .assert_contains("Cessation d&#39;activité");
        // The second member disputes a payment it made: counted and listed in the console,
        // and its seller is told on its dashboard.
        manager
            .get("/admin")
            .await
            .assert_contains("id=\"disputes-count\">1<");
        let mut ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        let open = web::console::disputes::of_member(&store, ids[1], 5)
            .await
            .unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].payer_member_id, ids[1]);
        manager
            .get("/admin/disputes")
            .await
            .assert_contains("la moitié des pièces manquait");
        let payee = web::people::users_of_member(&store, open[0].payee_member_id)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.role == web::people::Role::Owner)
            .unwrap()
            .email;
        let mut seller = manager.sibling();
        seller.login(&payee, web::demo::DEMO_PASSWORD).await;
        seller
            .get("/dashboard")
            .await
            .assert_contains("id=\"disputes-link\"");
        store.close().await;
    }
});
