//! The console's pages: roles, CSRF, escaping, and each action through its form.

use axum::http::StatusCode;
use ledger::{Amount, IdempotencyKey, Operation};
use tests::story;
use web::people::Member;
use web::store::{ActionFilter, ActionNote, Store, Submission};

use super::{staff, PASSWORD};
use crate::web_front::client::{Client, Page};
use crate::web_front::two_members;

/// The site with Alpha and Beta (members), a manager and an accountant, logged in.
async fn site(url: &str) -> (Store, Member, Member, Client, Client) {
    let (store, state, alpha, beta) = two_members(url).await;
    staff(&store).await;
    let mut manager = Client::new(state);
    manager.login("gestion@troc.test", PASSWORD).await;
    let mut accountant = manager.sibling();
    accountant.login("compta@troc.test", PASSWORD).await;
    (store, alpha, beta, manager, accountant)
}

fn pay(store: &Store, from: &Member, to: &Member, units: i64, key: &str) -> Submission {
    let _ = store;
    Submission::new(
        IdempotencyKey::new(key).unwrap(),
        Operation::Payment {
            payer: ledger::AccountId(from.account_id as u64),
            payee: ledger::AccountId(to.account_id as u64),
            amount: Amount::from_units(units),
            reference: String::new(),
            memo: String::new(),
        },
    )
}

fn assert_status(page: &Page, status: StatusCode, what: &str) {
    assert_eq!(page.status, status, "{what}: {}", page.body);
}

story!(
    console_pages_are_for_network_staff_only,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, alpha, _beta, mut manager, mut accountant) = site(&url).await;
            let id = alpha.id;
            let application = web::console::applications::apply(
                &store,
                &web::console::applications::ApplicationForm {
                    name: "Candidat".into(),
                    siren: crate::web_front::siren(40),
                    email: "candidat@x.fr".into(),
                    contact: "x".into(),
                    address: "x".into(),
                    city: "x".into(),
                    postcode: "75001".into(),
                    sector: "btp".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let (owner, _) = web::people::find_login(&store, "owner@alpha.fr")
                .await
                .unwrap()
                .unwrap();
            let asked = web::console::limit_requests::ask(
                &store,
                &owner,
                &alpha,
                web::console::limit_requests::Wanted::credit_limit(Amount::from_units(4_000)),
                "Achats",
            )
            .await
            .unwrap()
            .id;
            let reads = [
                "/admin".to_owned(),
                "/admin/members".to_owned(),
                format!("/admin/members/{id}"),
                format!("/admin/members/{id}/limits.csv"),
                "/admin/categories".to_owned(),
                "/admin/applications".to_owned(),
                format!("/admin/applications/{application}"),
                "/admin/limit-requests".to_owned(),
                format!("/admin/limit-requests/{asked}"),
                "/admin/import".to_owned(),
                "/admin/reviews".to_owned(),
                "/admin/log".to_owned(),
                "/admin/log.csv".to_owned(),
            ];
            let acts = [
                "/admin/members".to_owned(),
                format!("/admin/members/{id}/limits"),
                format!("/admin/members/{id}/status"),
                format!("/admin/members/{id}/category"),
                format!("/admin/members/{id}/turnover"),
                format!("/admin/members/{id}/review"),
                format!("/admin/members/{id}/invite"),
                "/admin/categories".to_owned(),
                "/admin/categories/1".to_owned(),
                format!("/admin/applications/{application}/approve"),
                format!("/admin/applications/{application}/refuse"),
                format!("/admin/limit-requests/{asked}/grant"),
                format!("/admin/limit-requests/{asked}/decline"),
                "/admin/import/1/finish".to_owned(),
                "/admin/settings".to_owned(),
            ];
            let fields = [
                ("credit_limit", "5000"),
                ("reason", "try"),
                ("action", "freeze"),
                ("category", "standard"),
                ("name", "x"),
                ("near_limit_pct", "50"),
                ("negative_days", "10"),
                ("growth_months", "3"),
                ("turnover_share_bp", "500"),
                ("sales_months", "12"),
                ("sales_share_bp", "10000"),
            ];
            for login in ["owner@alpha.fr", "staff@alpha.fr"] {
                let mut member = manager.sibling();
                member.login(login, PASSWORD).await;
                for path in reads.iter().chain(["/admin/members/new".to_owned()].iter()) {
                    assert_status(&member.get(path).await, StatusCode::FORBIDDEN, path);
                }
                for path in &acts {
                    assert_status(
                        &member.post(path, &fields).await,
                        StatusCode::FORBIDDEN,
                        path,
                    );
                }
                let page = member
                    .post_multipart("/admin/import", &[], ("file", b"x"))
                    .await;
                assert_status(&page, StatusCode::FORBIDDEN, "import");
            }
            for path in &reads {
                assert_status(&accountant.get(path).await, StatusCode::OK, path);
            }
            // The accountant reads without forms, and cannot act.
            let page = accountant.get(&format!("/admin/members/{id}")).await;
            assert!(
                !page.body.contains("/limits\""),
                "no limit form for accountants"
            );
            page.assert_contains("Lecture seule");
            for path in &acts {
                assert_status(
                    &accountant.post(path, &fields).await,
                    StatusCode::FORBIDDEN,
                    path,
                );
            }
            let page = accountant
                .post_multipart("/admin/import", &[], ("file", b"x"))
                .await;
            assert_status(&page, StatusCode::FORBIDDEN, "import");
            assert_status(
                &accountant.get("/admin/members/new").await,
                StatusCode::FORBIDDEN,
                "new member form",
            );
            // Nothing was changed by any of it.
            let account = store
                .account(ledger::AccountId(alpha.account_id as u64))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(account.credit_limit(), Amount::from_units(1_000));
            assert_eq!(account.status(), ledger::AccountStatus::Active);
            let still = web::console::limit_requests::pending_of(&store, id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(still.id, asked);
            assert!(store
                .actions(&ActionFilter::default(), 10)
                .await
                .unwrap()
                .is_empty());
            // The landing page links every section, this half's and the other's.
            let page = manager.get("/admin").await;
            for link in [
                "/admin/members",
                "/admin/applications",
                "/admin/limit-requests",
                "/admin/import",
                "/admin/categories",
                "/admin/reviews",
                "/admin/log",
                "/admin/fees",
                "/admin/fund",
                "/admin/stats",
            ] {
                page.assert_contains(&format!("href=\"{link}\""));
            }
            store.close().await;
        }
    }
);

story!(console_forms_need_the_csrf_token, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, alpha, _beta, mut manager, _) = site(&url).await;
        let id = alpha.id;
        for path in [
            format!("/admin/members/{id}/limits"),
            format!("/admin/members/{id}/status"),
            "/admin/settings".to_owned(),
            "/admin/members".to_owned(),
        ] {
            let page = manager
                .post(
                    &path,
                    &[
                        ("csrf", "wrong"),
                        ("credit_limit", "9000"),
                        ("reason", "x"),
                        ("action", "freeze"),
                    ],
                )
                .await;
            assert_status(&page, StatusCode::FORBIDDEN, &path);
        }
        let csv = format!(
            "name,siren,email\nGamma,{},g@g.fr\n",
            crate::web_front::siren(30)
        );
        let page = manager
            .post_multipart("/admin/import", &[("csrf", "")], ("file", csv.as_bytes()))
            .await;
        assert_status(&page, StatusCode::FORBIDDEN, "import without a token");
        let page = manager
            .post_multipart(
                "/admin/import",
                &[("csrf", "wrong")],
                ("file", csv.as_bytes()),
            )
            .await;
        assert_status(&page, StatusCode::FORBIDDEN, "import with a wrong token");
        let mut visitor = manager.sibling();
        let page = visitor.post("/apply", &[("name", "x")]).await;
        assert_status(&page, StatusCode::FORBIDDEN, "apply without a session");
        assert_eq!(web::people::members(&store, 10).await.unwrap().len(), 2);
        assert!(store
            .actions(&ActionFilter::default(), 10)
            .await
            .unwrap()
            .is_empty());
        store.close().await;
    }
});

story!(
    a_manager_runs_a_member_from_its_page,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, alpha, beta, mut manager, _) = site(&url).await;
            let page_path = format!("/admin/members/{}", alpha.id);
            let page = manager.get(&page_path).await;
            assert_status(&page, StatusCode::OK, "member page");
            // A wrong amount: 422, the message, what was typed kept; nothing changed.
            let page = manager
                .post(
                    &format!("{page_path}/limits"),
                    &[
                        ("credit_limit", "douze"),
                        ("max_balance", ""),
                        ("reason", "revue"),
                    ],
                )
                .await;
            assert_status(&page, StatusCode::UNPROCESSABLE_ENTITY, "bad amount");
            page.assert_contains("montant invalide");
            page.assert_contains("value=\"douze\"");
            // At the maximum, then one past it.
            let max = web::console::LIMIT_MAX.to_plain();
            let past = Amount::from_minor(web::console::LIMIT_MAX.minor() + 1).to_plain();
            let page = manager
                .post(
                    &format!("{page_path}/limits"),
                    &[("credit_limit", past.as_str()), ("reason", "revue")],
                )
                .await;
            assert_status(&page, StatusCode::UNPROCESSABLE_ENTITY, "past the max");
            manager.get(&page_path).await;
            let page = manager
                .post(
                    &format!("{page_path}/limits"),
                    &[("credit_limit", max.as_str()), ("reason", "revue annuelle")],
                )
                .await;
            assert_status(&page, StatusCode::SEE_OTHER, "limits at the max");
            manager.get(&page_path).await;
            let page = manager
                .post(
                    &format!("{page_path}/limits"),
                    &[
                        ("credit_limit", "2 500"),
                        ("max_balance", "50000"),
                        ("reason", "retour à la normale"),
                    ],
                )
                .await;
            assert_status(&page, StatusCode::SEE_OTHER, "limits");
            let page = manager.get(&page_path).await;
            page.assert_contains("2 500,00");
            page.assert_contains("retour à la normale");
            page.assert_contains("revue annuelle");
            let csv = manager.get(&format!("{page_path}/limits.csv")).await;
            assert_eq!(csv.content_type.as_deref(), Some("text/csv; charset=utf-8"));
            assert_eq!(
                csv.body.lines().count(),
                1 + 2,
                "header and the two changes"
            );
            assert!(
                csv.body
                    .contains("\"retour à la normale\",10000000.00,2500.00,,50000.00,false"),
                "{}",
                csv.body
            );

            // Alpha spends: the default workflow link appears, closing is refused with the
            // ledger's reason.
            store
                .submit(pay(&store, &alpha, &beta, 300, "p1"))
                .await
                .unwrap()
                .unwrap();
            manager.get(&page_path).await;
            let page = manager
                .post(
                    &format!("{page_path}/status"),
                    &[("action", "close"), ("reason", "départ")],
                )
                .await;
            assert_status(&page, StatusCode::UNPROCESSABLE_ENTITY, "close refused");
            page.assert_contains("ne peut être clôturé qu&#39;à solde nul");
            page.assert_contains(&format!("href=\"/admin/members/{}/default\"", alpha.id));
            // A reason is required.
            let page = manager
                .post(
                    &format!("{page_path}/status"),
                    &[("action", "freeze"), ("reason", " ")],
                )
                .await;
            assert_status(&page, StatusCode::UNPROCESSABLE_ENTITY, "no reason");
            manager.get(&page_path).await;
            let page = manager
                .post(
                    &format!("{page_path}/status"),
                    &[("action", "freeze"), ("reason", "impayés")],
                )
                .await;
            assert_status(&page, StatusCode::SEE_OTHER, "freeze");
            let page = manager.get(&page_path).await;
            page.assert_contains("id=\"member-status\">Gelé");
            manager
                .post(
                    &format!("{page_path}/status"),
                    &[("action", "unfreeze"), ("reason", "réglé")],
                )
                .await;

            // Category, turnover, review date, a new invitation link.
            web::console::categories::create(
                &store,
                &web::console::Actor::new(1, "x@x.fr", web::people::Role::Manager),
                &web::console::categories::CategoryInput {
                    code: "grande".into(),
                    name: "Grande entreprise".into(),
                    credit_limit: Amount::from_units(20_000),
                    max_balance: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
            manager.get(&page_path).await;
            assert_status(
                &manager
                    .post(&format!("{page_path}/category"), &[("category", "grande")])
                    .await,
                StatusCode::SEE_OTHER,
                "category",
            );
            assert_status(
                &manager
                    .post(&format!("{page_path}/turnover"), &[("turnover", "200 000")])
                    .await,
                StatusCode::SEE_OTHER,
                "turnover",
            );
            let page = manager
                .post(
                    &format!("{page_path}/review"),
                    &[("next_review", "2026-13-01")],
                )
                .await;
            assert_status(&page, StatusCode::UNPROCESSABLE_ENTITY, "bad date");
            manager.get(&page_path).await;
            assert_status(
                &manager
                    .post(
                        &format!("{page_path}/review"),
                        &[("next_review", "2020-01-31")],
                    )
                    .await,
                StatusCode::SEE_OTHER,
                "review date",
            );
            let page = manager
                .post(
                    &format!("{page_path}/invite"),
                    &[("email", "nouveau@alpha.fr")],
                )
                .await;
            assert_status(&page, StatusCode::OK, "invite");
            page.assert_contains("http://troc.test/invitation/");
            let page = manager.get(&page_path).await;
            page.assert_contains("Grande entreprise");
            page.assert_contains("200 000,00");
            page.assert_contains("2020-01-31");
            let reviews = manager.get("/admin/reviews").await;
            let due = &reviews.body[reviews.body.find("id=\"reviews-due\"").unwrap()..];
            assert!(due.contains("Alpha SARL"), "{due}");
            // Every action is in the log, with its actor.
            let logged: Vec<String> = store
                .actions(
                    &ActionFilter {
                        member_id: Some(alpha.id),
                        ..ActionFilter::default()
                    },
                    50,
                )
                .await
                .unwrap()
                .into_iter()
                .rev()
                .map(|e| {
                    assert_eq!(e.actor, "gestion@troc.test");
                    e.action
                })
                .collect();
            assert_eq!(
                logged,
                [
                    "limits.set",
                    "limits.set",
                    "member.freeze",
                    "member.unfreeze",
                    "member.category",
                    "member.turnover",
                    "member.review",
                    "member.invite"
                ]
            );
            store.close().await;
        }
    }
);

story!(company_names_stay_text_everywhere, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, _alpha, beta, mut manager, _) = site(&url).await;
        // Beta is "Beta & Fils <SAS>"; a new member gets a script for a name.
        manager.get("/admin/members/new").await;
        let page = manager
            .post(
                "/admin/members",
                &[
                    ("siren", crate::web_front::siren(20).as_str()),
                    ("name", "<script>alert(1)</script>"),
                    ("owner_email", "xss@x.fr"),
                    ("category", "standard"),
                ],
            )
            .await;
        assert_status(&page, StatusCode::OK, "created");
        page.assert_contains("&#60;script&#62;alert(1)&#60;/script&#62;");
        store
            .record_action(
                ActionNote::new(None, "gestion@troc.test", "member.review", "<b>bold</b>")
                    .unwrap()
                    .member(beta.id),
            )
            .await
            .unwrap();
        for path in [
            "/admin/members".to_owned(),
            format!("/admin/members/{}", beta.id),
            "/admin/log".to_owned(),
        ] {
            let page = manager.get(&path).await;
            assert!(!page.body.contains("<script>alert"), "{path}");
            assert!(!page.body.contains("<SAS>"), "{path}");
            assert!(!page.body.contains("<b>bold"), "{path}");
        }
        manager
            .get("/admin/members")
            .await
            .assert_contains("&#60;script&#62;");
        manager
            .get("/admin/log")
            .await
            .assert_contains("&#60;b&#62;bold");
        store.close().await;
    }
});
