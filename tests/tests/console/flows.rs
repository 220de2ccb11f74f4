//! Applications, the import page, the audit-log page, the review lists and the suggested
//! limit.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use ledger::{AccountId, Amount, IdempotencyKey, Operation};
use tests::story;
use web::console::import::IMPORT_FILE_LEN_MAX;
use web::console::members::{self, LimitsChange};
use web::console::settings::{self, Settings};
use web::console::{reviews, suggest, RequestKey, Target};
use web::people::Member;
use web::store::{ActionFilter, ActionNote, Store, Submission};

use super::{staff, PASSWORD};
use crate::web_front::client::Client;
use crate::web_front::{siren, two_members};

async fn site(url: &str) -> (Store, Member, Member, Client) {
    let (store, state, alpha, beta) = two_members(url).await;
    staff(&store).await;
    let mut manager = Client::new(state);
    manager.login("gestion@troc.test", PASSWORD).await;
    (store, alpha, beta, manager)
}

fn account(member: &Member) -> AccountId {
    AccountId(member.account_id as u64)
}

/// A payment decided as of `days_ago` days before now.
async fn pay_at(store: &Store, from: &Member, to: &Member, units: i64, days_ago: i64, key: &str) {
    let submission = Submission::new(
        IdempotencyKey::new(key).unwrap(),
        Operation::Payment {
            payer: account(from),
            payee: account(to),
            amount: Amount::from_units(units),
            reference: String::new(),
            memo: String::new(),
        },
    )
    .at(Utc::now() - Duration::days(days_ago));
    store.submit(submission).await.unwrap().unwrap();
}

story!(
    applications_are_approved_or_refused_once,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _alpha, _beta, mut manager) = site(&url).await;
            let mut visitor = manager.sibling();
            let page = visitor.get("/apply").await;
            assert_eq!(page.status, StatusCode::OK);
            let form = |siren: &str, email: &str, name: &str| {
                vec![
                    ("name", name.to_owned()),
                    ("siren", siren.to_owned()),
                    ("email", email.to_owned()),
                    ("contact", "04 00 00 00 00".to_owned()),
                    ("address", "1 place Bellecour".to_owned()),
                    ("city", "Lyon".to_owned()),
                    ("postcode", "69002".to_owned()),
                    ("sector", "conseil".to_owned()),
                    ("turnover", "250 000".to_owned()),
                    ("message", "Bonjour".to_owned()),
                ]
            };
            let send = |v: &Vec<(&'static str, String)>| {
                v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
            };
            let refs = |v: &Vec<(&'static str, String)>| send(v);
            let good = refs(&form(&siren(50), "dirigeant@omega.fr", "Omega Conseil"));
            let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
            // A SIREN already a member's is refused, the form kept.
            let taken = refs(&form(&siren(1), "x@omega.fr", "Copie"));
            let taken: Vec<(&str, &str)> = taken.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = visitor.post("/apply", &taken).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("ce SIREN est déjà membre.");
            page.assert_contains("value=\"Copie\"");
            let page = visitor.post("/apply", &good).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("Candidature envoyée.");
            // Twice: one is waiting already.
            visitor.get("/apply").await;
            let page = visitor.post("/apply", &good).await;
            page.assert_contains("une candidature de ce SIREN est déjà en attente.");
            let other = refs(&form(&siren(51), "dirigeant@psi.fr", "Psi Formation"));
            let other: Vec<(&str, &str)> = other.iter().map(|(k, v)| (*k, v.as_str())).collect();
            visitor.get("/apply").await;
            visitor
                .post("/apply", &other)
                .await
                .assert_contains("Candidature envoyée.");

            let list = manager.get("/admin/applications?status=pending").await;
            list.assert_contains("Omega Conseil");
            list.assert_contains("Psi Formation");
            let ids: Vec<i64> = web::console::applications::list(
                &store,
                &web::console::Actor::new(0, "x@x.fr", web::people::Role::Accountant),
                None,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
            let (psi, omega) = (ids[0], ids[1]);
            manager.get(&format!("/admin/applications/{omega}")).await;
            let page = manager
                .post(
                    &format!("/admin/applications/{omega}/approve"),
                    &[
                        ("category", "standard"),
                        ("credit_limit", "3 000"),
                        ("reason", "dossier complet"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("http://troc.test/invitation/");
            page.assert_contains("Acceptée");
            let page = manager
                .post(
                    &format!("/admin/applications/{omega}/approve"),
                    &[("category", "standard")],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Cette candidature a déjà été traitée.");
            // Refusing needs a reason.
            let page = manager
                .post(
                    &format!("/admin/applications/{psi}/refuse"),
                    &[("reason", "")],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            let page = manager
                .post(
                    &format!("/admin/applications/{psi}/refuse"),
                    &[("reason", "hors zone")],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            manager
                .get(&format!("/admin/applications/{psi}"))
                .await
                .assert_contains("hors zone");
            // The new member has the typed limit and the declared turnover.
            let member = web::people::members(&store, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.name == "Omega Conseil")
                .unwrap();
            let omega_account = store.account(account(&member)).await.unwrap().unwrap();
            assert_eq!(omega_account.credit_limit(), Amount::from_units(3_000));
            let actions: Vec<String> = store
                .actions(&ActionFilter::default(), 20)
                .await
                .unwrap()
                .into_iter()
                .rev()
                .map(|e| e.action)
                .collect();
            assert_eq!(
                actions,
                [
                    "limits.set",
                    "member.create",
                    "application.approve",
                    "application.refuse"
                ]
            );
            store.close().await;
        }
    }
);

story!(
    the_import_page_reports_every_bad_line,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _alpha, _beta, mut manager) = site(&url).await;
            manager.get("/admin/import").await;
            let bad = format!(
                "name,siren,email,credit_limit\nGamma,{},g@g.fr,100\nDelta,123456789,d@d.fr,abc\n",
                siren(60)
            );
            let page = manager
                .post_multipart("/admin/import", &[], ("file", bad.as_bytes()))
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                page.body
            );
            page.assert_contains("Rien n&#39;a été importé.");
            page.assert_contains("Ligne 3 — Découvert autorisé : montant invalide");
            page.assert_contains("Ligne 3 — SIREN : SIREN invalide");
            assert_eq!(web::people::members(&store, 10).await.unwrap().len(), 2);
            // In English too.
            let mut english = manager.sibling();
            english.accept_language = Some("en".into());
            english.login("gestion@troc.test", PASSWORD).await;
            let (user, _) = web::people::find_login(&store, "gestion@troc.test")
                .await
                .unwrap()
                .unwrap();
            web::people::set_lang(&store, user.id, "en").await.unwrap();
            english.get("/admin/import").await;
            let page = english
                .post_multipart("/admin/import", &[], ("file", bad.as_bytes()))
                .await;
            page.assert_contains("Line 3 — Credit limit: invalid amount");
            web::people::set_lang(&store, user.id, "fr").await.unwrap();

            // A file of exactly the largest size goes in; one byte more is refused.
            let mut at_max = format!("name,siren,email\nGamma,{},g@g.fr\n", siren(60));
            while at_max.len() < IMPORT_FILE_LEN_MAX {
                at_max.push('\n');
            }
            let mut past = at_max.clone();
            past.push('\n');
            manager.get("/admin/import").await;
            let page = manager
                .post_multipart("/admin/import", &[], ("file", past.as_bytes()))
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("fichier trop volumineux");
            let page = manager
                .post_multipart("/admin/import", &[], ("file", at_max.as_bytes()))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains(
                "Gamma : <code class=\"invitation-link\">http://troc.test/invitation/",
            );
            assert_eq!(web::people::members(&store, 10).await.unwrap().len(), 3);
            store.close().await;
        }
    }
);

story!(
    the_log_page_filters_pages_and_exports,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, alpha, beta, mut manager) = site(&url).await;
            for n in 0..55 {
                let (action, member) = if n % 5 == 0 {
                    ("member.review", beta.id)
                } else {
                    ("member.turnover", alpha.id)
                };
                let note = ActionNote::new(None, "gestion@troc.test", action, &format!("n{n}"))
                    .unwrap()
                    .member(member);
                store.record_action(note).await.unwrap();
            }
            let page = manager.get("/admin/log").await;
            assert_eq!(page.body.matches("<tr><td>").count(), 50, "one page");
            page.assert_contains(">n54<");
            assert!(!page.body.contains(">n4<"));
            let start = page.body.find("/admin/log?").unwrap();
            let end = start + page.body[start..].find('"').unwrap();
            let next = page.body[start..end]
                .replace("&amp;", "&")
                .replace("&#38;", "&");
            let older = manager.get(&next).await;
            assert_eq!(older.body.matches("<tr><td>").count(), 5, "{next}");
            older.assert_contains(">n0<");
            let filtered = manager
                .get(&format!(
                    "/admin/log?action=member.review&member={}",
                    beta.id
                ))
                .await;
            assert_eq!(filtered.body.matches("<tr><td>").count(), 11);
            let none = manager.get("/admin/log?actor=someone@else.fr").await;
            assert_eq!(none.body.matches("<tr><td>").count(), 0);
            let tomorrow = (Utc::now() + Duration::days(1))
                .format("%Y-%m-%d")
                .to_string();
            let none = manager.get(&format!("/admin/log?from={tomorrow}")).await;
            assert_eq!(none.body.matches("<tr><td>").count(), 0);
            let bad = manager.get("/admin/log?from=hier").await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
            let csv = manager.get("/admin/log.csv?action=member.review").await;
            assert_eq!(csv.content_type.as_deref(), Some("text/csv; charset=utf-8"));
            let lines: Vec<&str> = csv.body.lines().collect();
            assert_eq!(lines.len(), 1 + 11);
            assert!(lines[0].starts_with("id,time,actor,action"));
            assert!(lines[1].contains("\"member.review\""));
            store.close().await;
        }
    }
);

story!(
    review_lists_and_the_suggested_limit_follow_their_rules,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, alpha, beta, mut manager) = site(&url).await;
            let (actor, reader) = {
                let (m, a) = (
                    web::console::Actor::new(1, "gestion@troc.test", web::people::Role::Manager),
                    web::console::Actor::new(2, "compta@troc.test", web::people::Role::Accountant),
                );
                (m, a)
            };
            // Beta (limit 500) spends 400 a long time ago: 80 % of its limit (with fees,
            // a little more), negative for 400 days. Alpha sells to Beta over three months.
            pay_at(&store, &beta, &alpha, 100, 400, "b1").await;
            pay_at(&store, &beta, &alpha, 100, 80, "b2").await;
            pay_at(&store, &beta, &alpha, 100, 50, "b3").await;
            pay_at(&store, &beta, &alpha, 100, 10, "b4").await;
            let defaults = Settings::default();
            let now = Utc::now();
            let near = reviews::near_limit(&store, &reader, &defaults)
                .await
                .unwrap();
            let names: Vec<&str> = near.iter().map(|n| n.row.member.name.as_str()).collect();
            assert_eq!(names, ["Beta & Fils <SAS>"]);
            assert!(near[0].used_pct >= 80);
            let long = reviews::negative_too_long(&store, &reader, &defaults, now)
                .await
                .unwrap();
            assert_eq!(long.len(), 1);
            assert!(long[0].days >= 400);
            let stricter = Settings {
                negative_days: 500,
                ..defaults
            };
            assert!(reviews::negative_too_long(&store, &reader, &stricter, now)
                .await
                .unwrap()
                .is_empty());
            let growing = reviews::growing(&store, &reader, &defaults, now)
                .await
                .unwrap();
            assert_eq!(growing.len(), 1);
            assert_eq!(growing[0].row.member.id, alpha.id);
            assert_eq!(growing[0].balances.len(), 4);
            // Over 15 periods (450 days) Alpha starts at zero and stays flat for months: not
            // listed.
            let longer = Settings {
                growth_months: 15,
                ..defaults
            };
            assert!(reviews::growing(&store, &reader, &longer, now)
                .await
                .unwrap()
                .is_empty());
            // A limit raised above the use takes Beta off the "near" list.
            members::set_limits(
                &store,
                &actor,
                Target::Member(beta.id),
                LimitsChange {
                    credit_limit: Amount::from_units(5_000),
                    max_balance: None,
                    reason: "revue".into(),
                },
                &RequestKey::random(),
            )
            .await
            .unwrap();
            assert!(reviews::near_limit(&store, &reader, &defaults)
                .await
                .unwrap()
                .is_empty());

            // Suggested limit for Alpha: sales of the last 12 × 30 days are 300 (the sale
            // 400 days ago is out), turnover 200 000 → 10 000; cap = max(300, 1 000) = 1 000.
            members::set_turnover(&store, &actor, alpha.id, Some(Amount::from_units(200_000)))
                .await
                .unwrap();
            let s = suggest::suggest(&store, &reader, alpha.id, now)
                .await
                .unwrap();
            assert_eq!(s.sales, Amount::from_units(300));
            assert_eq!(s.from_turnover, Some(Amount::from_units(10_000)));
            assert_eq!(s.trading_cap, Amount::from_units(1_000));
            assert_eq!(s.suggested, Some(Amount::from_units(1_000)));
            // With 24 periods of sales (400) counted at 1 000 %, the cap is 4 000, below the
            // turnover share: 4 000.
            settings::update(
                &store,
                &actor,
                &Settings {
                    sales_months: 24,
                    sales_share_bp: 100_000,
                    ..defaults
                },
            )
            .await
            .unwrap();
            let s = suggest::suggest(&store, &reader, alpha.id, now)
                .await
                .unwrap();
            assert_eq!(s.sales, Amount::from_units(400));
            assert_eq!(s.suggested, Some(Amount::from_units(4_000)));
            // The page explains it and pre-fills the form; nothing changes until posted.
            let page = manager.get(&format!("/admin/members/{}", alpha.id)).await;
            page.assert_contains("id=\"suggested-limit\"><strong>4 000,00");
            let page = manager
                .get(&format!("/admin/members/{}?suggest=1", alpha.id))
                .await;
            page.assert_contains(
                "name=\"credit_limit\" inputmode=\"decimal\" required value=\"4000.00\"",
            );
            let unchanged = store.account(account(&alpha)).await.unwrap().unwrap();
            assert_eq!(unchanged.credit_limit(), Amount::from_units(1_000));
            // The review page lists them, and the settings form refuses a value out of
            // range (at the limit, then one past it). Alpha holds 392 (400 sold, less the
            // 2 % commission): with an upper limit of 490, exactly 80 % of it, it is near it.
            let page = manager.get("/admin/reviews").await;
            let near_max_part = &page.body[page.body.find("id=\"near-max\"").unwrap()..];
            let near_max_part = &near_max_part[..near_max_part.find("</section>").unwrap()];
            assert!(!near_max_part.contains("Alpha SARL"), "no upper limit yet");
            for (max, listed) in [(490, true), (491, false)] {
                members::set_limits(
                    &store,
                    &actor,
                    Target::Member(alpha.id),
                    LimitsChange {
                        credit_limit: Amount::from_units(1_000),
                        max_balance: Some(Amount::from_units(max)),
                        reason: "plafond".into(),
                    },
                    &RequestKey::random(),
                )
                .await
                .unwrap();
                let near = reviews::lists(&store, &reader, &defaults, Utc::now())
                    .await
                    .unwrap()
                    .near_max;
                assert_eq!(near.len(), usize::from(listed), "upper limit {max}");
                manager
                    .get("/admin")
                    .await
                    .assert_contains(&format!("id=\"near-max-count\">{}<", usize::from(listed)));
                if listed {
                    assert_eq!(near[0].used_pct, 80);
                    assert_eq!(near[0].used, Amount::from_units(392));
                    let page = manager.get("/admin/reviews").await;
                    let part = &page.body[page.body.find("id=\"near-max\"").unwrap()..];
                    let part = &part[..part.find("</section>").unwrap()];
                    assert!(part.contains("Alpha SARL"), "{part}");
                    assert!(part.contains("490,00 (80 %)"), "{part}");
                }
            }
            let page = manager.get("/admin/reviews").await;
            let growing_part = &page.body[page.body.find("id=\"growing\"").unwrap()..];
            assert!(growing_part.contains("Alpha SARL"));
            let fields = |negative: &str| {
                vec![
                    ("near_limit_pct", "80".to_owned()),
                    ("negative_days", negative.to_owned()),
                    ("growth_months", "3".to_owned()),
                    ("turnover_share_bp", "500".to_owned()),
                    ("sales_months", "12".to_owned()),
                    ("sales_share_bp", "10000".to_owned()),
                ]
            };
            let past = fields("3651");
            let past: Vec<(&str, &str)> = past.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = manager.post("/admin/settings", &past).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("entre 1 et 3650");
            // The message names the setting by its label on the form.
            page.assert_contains("Règle de retour à zéro (jours)");
            manager.get("/admin/reviews").await;
            let at = fields("3650");
            let at: Vec<(&str, &str)> = at.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(
                manager.post("/admin/settings", &at).await.status,
                StatusCode::SEE_OTHER
            );
            assert_eq!(settings::get(&store).await.unwrap().negative_days, 3650);
            let changes = store
                .actions(
                    &ActionFilter {
                        action: Some("settings.change".into()),
                        ..ActionFilter::default()
                    },
                    10,
                )
                .await
                .unwrap();
            assert_eq!(changes.len(), 2);
            assert_eq!(changes[0].before["negative_days"], 365);
            assert_eq!(changes[0].after["negative_days"], 3650);
            store.close().await;
        }
    }
);
