//! Company profile, staff invitations, roles, the directory and the manager's page.

use axum::http::StatusCode;
use tests::story;
use web::people::{self, Role};

use super::client::Client;
use super::{balance, siren, two_members, PASSWORD};

fn link_token(body: &str) -> String {
    let start = body.find("/invitation/").unwrap() + "/invitation/".len();
    body[start..start + 64].to_owned()
}

story!(
    owners_invite_staff_and_staff_cannot_do_owner_things,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, alpha, beta) = two_members(&url).await;
            let mut staff = Client::new(state);
            staff.login("staff@alpha.fr", PASSWORD).await;
            let page = staff.get("/company").await;
            page.assert_contains("Seul le dirigeant");
            let profile = [
                ("name", "Pirate"),
                ("address", "x"),
                ("city", "x"),
                ("postcode", "75001"),
                ("sector", "btp"),
                ("contact", "x"),
            ];
            assert_eq!(
                staff.post("/company", &profile).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                staff
                    .post("/company/privacy", &[("hide_balance", "1")])
                    .await
                    .status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                staff
                    .post("/company/invite", &[("email", "x@y.fr")])
                    .await
                    .status,
                StatusCode::FORBIDDEN
            );
            // Members are not managers.
            assert_eq!(staff.get("/admin").await.status, StatusCode::FORBIDDEN);

            let mut owner = staff.sibling();
            owner.login("owner@alpha.fr", PASSWORD).await;
            let page = owner
                .post("/company/invite", &[("email", "new@alpha.fr")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("http://troc.test/invitation/");
            let token = link_token(&page.body);
            let page = owner
                .post("/company/invite", &[("email", "staff@alpha.fr")])
                .await;
            page.assert_contains("Cette adresse e-mail est déjà utilisée.");

            // The invited person sets a password and lands in Alpha as staff.
            let mut newcomer = staff.sibling();
            let page = newcomer.get(&format!("/invitation/{token}")).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("new@alpha.fr");
            let page = newcomer
                .post(
                    &format!("/invitation/{token}"),
                    &[
                        ("display_name", "Nouveau"),
                        ("new", "short"),
                        ("confirm", "short"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            let page = newcomer
                .post(
                    &format!("/invitation/{token}"),
                    &[
                        ("display_name", "Nouveau"),
                        ("new", PASSWORD),
                        ("confirm", PASSWORD),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            newcomer
                .get("/dashboard")
                .await
                .assert_contains("Alpha SARL");
            // The link works once.
            let mut late = staff.sibling();
            assert_eq!(
                late.get(&format!("/invitation/{token}")).await.status,
                StatusCode::NOT_FOUND
            );
            let (user, _) = people::find_login(&store, "new@alpha.fr")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(user.role, Role::Staff);

            // The owner edits the profile; a bad postcode is refused with the input kept.
            let bad = [
                ("name", "Alpha SAS"),
                ("address", "2 rue"),
                ("city", "Lyon"),
                ("postcode", "6900"),
                ("sector", "btp"),
                ("contact", "c@a.fr"),
            ];
            let page = owner.post("/company", &bad).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Le code postal doit comporter 5 chiffres.");
            page.assert_contains("value=\"Alpha SAS\"");
            let good = [
                ("name", "Alpha SAS"),
                ("address", "2 rue"),
                ("city", "Lyon"),
                ("postcode", "69002"),
                ("sector", "btp"),
                ("contact", "c@a.fr"),
            ];
            owner
                .post("/company", &good)
                .await
                .assert_contains("Enregistré.");

            // Privacy: a hidden balance shows as hidden, leaving the directory removes the line.
            let mut viewer = staff.sibling();
            viewer.login("owner@beta.fr", PASSWORD).await;
            viewer.get("/directory").await.assert_contains("Alpha SAS");
            // Balances are shown (read in one go for the whole list): Alpha pays Beta 12.34.
            let pay = ledger::Operation::Payment {
                payer: ledger::AccountId(alpha.account_id as u64),
                payee: ledger::AccountId(beta.account_id as u64),
                amount: ledger::Amount::from_minor(1_234),
                reference: String::new(),
                memo: "annuaire".into(),
            };
            let key = ledger::IdempotencyKey::new("directory-pay".to_owned()).unwrap();
            assert!(store
                .submit(web::store::Submission::new(key, pay))
                .await
                .unwrap()
                .is_ok());
            let page = viewer.get("/directory").await;
            let row_of = |name: &str| {
                let start = page
                    .body
                    .find(name)
                    .unwrap_or_else(|| panic!("{name}: {}", page.body));
                page.body[start..].split("</tr>").next().unwrap().to_owned()
            };
            for (name, member) in [("<td>Alpha SAS", &alpha), ("<td>Beta &#38; Fils", &beta)] {
                let shown = ledger::Amount::from_minor(balance(&store, member).await).to_french();
                assert!(shown != "0,00", "{name} has moved money");
                assert!(row_of(name).contains(&shown), "{shown}: {}", row_of(name));
            }
            owner
                .post("/company/privacy", &[("hide_balance", "1")])
                .await;
            let page = viewer.get("/directory").await;
            page.assert_contains("masqué");
            owner
                .post("/company/privacy", &[("leave_directory", "1")])
                .await;
            assert!(!viewer.get("/directory").await.body.contains("Alpha SAS"));
            store.close().await;
        }
    }
);

story!(managers_invite_member_companies, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _alpha, _beta) = two_members(&url).await;
        people::create_user(
            &store,
            "gestion@troc.test",
            PASSWORD,
            "Gestion",
            Role::Manager,
            None,
        )
        .await
        .unwrap()
        .unwrap();
        people::create_user(
            &store,
            "compta@troc.test",
            PASSWORD,
            "Compta",
            Role::Accountant,
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let mut manager = Client::new(state);
        manager.login("gestion@troc.test", PASSWORD).await;
        assert_eq!(manager.get("/").await.location.as_deref(), Some("/admin"));
        // Managers have no member account: member pages are forbidden.
        assert_eq!(
            manager.get("/dashboard").await.status,
            StatusCode::FORBIDDEN
        );
        let good_siren = siren(7);
        let mut bad_siren = good_siren.clone();
        let last = bad_siren.pop().unwrap();
        bad_siren.push(if last == '9' {
            '0'
        } else {
            (last as u8 + 1) as char
        });
        let fields = |siren: &str| {
            vec![
                ("siren", siren.to_owned()),
                ("name", "Delta Transports".to_owned()),
                ("address", "3 quai".to_owned()),
                ("city", "Nantes".to_owned()),
                ("postcode", "44000".to_owned()),
                ("sector", "transport".to_owned()),
                ("contact", "02 00 00 00 00".to_owned()),
                ("owner_email", "patron@delta.fr".to_owned()),
                ("credit_limit", "2 000".to_owned()),
            ]
        };
        let as_refs = |v: &Vec<(&'static str, String)>| {
            v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
        };
        let bad = as_refs(&fields(&bad_siren));
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = manager.post("/admin/members", &bad).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("clé de Luhn");
        let good = as_refs(&fields(&good_siren));
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = manager.post("/admin/members", &good).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = link_token(&page.body);
        // The same SIREN twice is refused.
        let page = manager.post("/admin/members", &good).await;
        page.assert_contains("ce SIREN est déjà membre.");

        let mut owner = manager.sibling();
        owner.get(&format!("/invitation/{token}")).await;
        owner
            .post(
                &format!("/invitation/{token}"),
                &[
                    ("display_name", "Patron"),
                    ("new", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        let page = owner.get("/dashboard").await;
        page.assert_contains("Delta Transports");
        page.assert_contains("2 000,00");

        // The accountant reads the members' list but cannot invite.
        let mut accountant = manager.sibling();
        accountant.login("compta@troc.test", PASSWORD).await;
        let page = accountant.get("/admin/members").await;
        page.assert_contains("Delta Transports");
        assert!(!page.body.contains("/admin/members/new"));
        assert_eq!(
            accountant.post("/admin/members", &good).await.status,
            StatusCode::FORBIDDEN
        );
        store.close().await;
    }
});
