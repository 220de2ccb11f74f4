//! The stored account mapping (migration 0016) through the web and the CLI, on both
//! backends: saving and reading back, the exports and reports that follow it (517, the
//! provision fund), validation (422, nothing stored), limits, roles, the action log, and the
//! precedence `--mapping` > stored > defaults.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use tests::fec_check::check_fec;
use tests::seed::date;
use tests::story;
use web::export::mapping::{GlAccount, MemberMapping, OperatorMapping, ACCOUNT_LABEL_LEN_MAX};
use web::export::run::{run_export, ExportCommand};
use web::export::{AccountMapping, Format};
use web::store::{ActionFilter, MAPPING_ACTION, MEMBER_MAPPING_ACTION};

use super::accounting::{
    account, check_with_tools, export_path, fetch, fixture, Fixture, Locked, SirenSet, ACCOUNTANT,
    ALPHA_ACCOUNTANT, FY, MANAGER, NETWORK_SIREN,
};
use crate::web_front::client::Client;

fn unescape(text: &str) -> String {
    text.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The mapping form's fields as drawn (text inputs and the checked radios), without the
/// CSRF token (the client adds it).
fn form_fields(body: &str) -> BTreeMap<String, String> {
    let form = &body[body.find("id=\"mapping-form\"").expect("a mapping form")..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut fields = BTreeMap::new();
    for tag in form.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        let Some(name) = attribute(tag, "name") else {
            continue;
        };
        if name == "csrf" {
            continue;
        }
        let radio = attribute(tag, "type").as_deref() == Some("radio");
        if radio && !tag.contains(" checked") {
            continue;
        }
        fields.insert(name, attribute(tag, "value").unwrap_or_default());
    }
    fields
}

async fn post_form(
    client: &mut Client,
    path: &str,
    fields: &BTreeMap<String, String>,
) -> crate::web_front::client::Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.post(path, &pairs).await
}

/// The page's form, changed by `changes`, posted to `path`.
async fn submit(
    client: &mut Client,
    page_path: &str,
    post_path: &str,
    changes: &[(&str, &str)],
) -> crate::web_front::client::Page {
    let page = client.get(page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut fields = form_fields(&page.body);
    for (k, v) in changes {
        fields.insert((*k).to_owned(), (*v).to_owned());
    }
    post_form(client, post_path, &fields).await
}

async fn actions(f: &Fixture, action: &str) -> Vec<web::store::ActionEntry> {
    let filter = ActionFilter {
        action: Some(action.into()),
        ..ActionFilter::default()
    };
    f.store.actions(&filter, 100).await.unwrap()
}

/// Downloads a FEC, checks it, and returns its text and balances per account.
async fn fec(
    f: &Fixture,
    client: &Client,
    books: Option<&web::people::Member>,
) -> (String, BTreeMap<String, i64>) {
    let fetched = fetch(&f.state, client, &export_path("fec", FY.0, FY.1, books)).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text());
    let name = fetched.file_name();
    let stats = check_fec(&name, &fetched.body, date(2025, 1, 1), date(2025, 12, 31))
        .unwrap_or_else(|e| panic!("{e:#?}\n{}", fetched.text()));
    (fetched.text(), stats.balances)
}

/// Downloads the hledger journal and the Beancount file and runs `hledger check` and
/// `bean-check` on them; returns the journal.
async fn journal(f: &Fixture, client: &Client, books: Option<&web::people::Member>) -> String {
    let journal = fetch(&f.state, client, &export_path("hledger", FY.0, FY.1, books)).await;
    assert_eq!(journal.status, StatusCode::OK);
    let beancount = fetch(
        &f.state,
        client,
        &export_path("beancount", FY.0, FY.1, books),
    )
    .await;
    assert_eq!(beancount.status, StatusCode::OK);
    check_with_tools(&journal.text(), &beancount.text());
    journal.text()
}

fn has_account(balances: &BTreeMap<String, i64>, num: &str) -> bool {
    balances
        .keys()
        .any(|k| k == num || k.starts_with(&format!("{num}:")))
}

story!(
    the_network_mapping_is_saved_used_by_every_export_and_logged,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Through2025, SirenSet::Yes).await;
            assert_eq!(
                f.store.account_mapping().await.unwrap(),
                AccountMapping::default()
            );
            assert!(!f.store.network_mapping_stored().await.unwrap());
            let mut manager = f.login(MANAGER).await;
            let page = manager.get("/accounting").await;
            page.assert_contains("href=\"/accounting/mapping\"");
            let page = manager.get("/accounting/mapping").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Aucun choix enregistré");
            page.assert_contains("data-key=\"m_barter_debit\" data-num=\"467100\"");
            page.assert_contains("data-key=\"fund_deposits\" data-num=\"165000\"");
            // The manager books the fund as a provision and the members on 517.
            let page = submit(
                &mut manager,
                "/accounting/mapping",
                "/accounting/mapping",
                &[("fund", "provision"), ("barter", "single")],
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("Plan de comptes enregistré.");
            page.assert_contains("data-key=\"m_barter_single\" data-num=\"517000\"");
            page.assert_contains("data-key=\"fund_provision\" data-num=\"151800\"");
            assert!(!page.body.contains("data-key=\"m_barter_debit\""));
            let stored = f.store.account_mapping().await.unwrap();
            assert_eq!(stored.operator.fund, OperatorMapping::provision_fund());
            assert_eq!(
                stored.member_default.barter,
                MemberMapping::single_barter_account()
            );
            assert_eq!(
                stored.for_member(account(&f.alpha)).barter,
                MemberMapping::single_barter_account()
            );
            // Read back as it was saved: the rest of the defaults are unchanged.
            let mut expected = AccountMapping::default();
            expected.operator.fund = OperatorMapping::provision_fund();
            expected.member_default.barter = MemberMapping::single_barter_account();
            assert_eq!(stored, expected);
            // The action log: who, before and after.
            let logged = actions(&f, MAPPING_ACTION).await;
            assert_eq!(logged.len(), 1);
            assert_eq!(logged[0].actor, MANAGER);
            assert!(logged[0].before["operator"]["fund"]["deposits"].is_object());
            assert!(logged[0].after["operator"]["fund"]["provision"].is_object());
            assert_eq!(
                logged[0].after["member_default"]["barter"]["single"]["num"],
                "517000"
            );

            // The network's FEC: the fund on 151800 (provision), no 165000; still valid.
            let (_, books) = fec(&f, &manager, None).await;
            assert!(has_account(&books, "151800"), "{books:?}");
            assert!(has_account(&books, "681500"), "{books:?}");
            assert!(!has_account(&books, "165000"), "{books:?}");
            // Alpha's books: the barter lines on 517000 instead of 467100/468100.
            let (text, books) = fec(&f, &manager, Some(&f.alpha)).await;
            assert!(has_account(&books, "517000"), "{books:?}");
            assert!(!has_account(&books, "467100") && !has_account(&books, "468100"));
            assert!(text.contains("|517000|"));
            let balance = f.balance(&f.alpha).await;
            assert_eq!(books["517000"], balance);
            let journal_text = journal(&f, &manager, Some(&f.alpha)).await;
            assert!(journal_text.contains("517000"), "{journal_text}");
            assert!(!journal_text.contains("467100"));
            // The owner's download and the printable trial balance follow it too.
            let owner = f.login("owner@alpha.fr").await;
            let (_, books) = fec(&f, &owner, Some(&f.alpha)).await;
            assert!(has_account(&books, "517000"));
            let trial = fetch(
                &f.state,
                &owner,
                "/accounting/trial-balance?from=2025-01-01&to=2025-12-31&member=",
            )
            .await;
            assert_eq!(trial.status, StatusCode::OK);
            assert!(trial.text().contains("517000"));
            assert!(!trial.text().contains("467100"));

            // The CLI: the stored mapping without --mapping; a --mapping file overrides it.
            let dir = tempfile::tempdir().unwrap();
            let command = ExportCommand {
                format: Format::Fec,
                from: date(2025, 1, 1),
                to: date(2025, 12, 31),
                member: None,
                out: dir.path().join("stored.txt"),
                siren: Some(NETWORK_SIREN.into()),
                mapping: None,
            };
            run_export(&f.store, command.clone(), &mut Vec::new())
                .await
                .unwrap();
            let stored_fec = std::fs::read_to_string(dir.path().join("stored.txt")).unwrap();
            assert!(stored_fec.contains("|151800|") && !stored_fec.contains("|165000|"));
            let file = dir.path().join("defaults.json");
            std::fs::write(&file, AccountMapping::default().to_json()).unwrap();
            let with_file = ExportCommand {
                mapping: Some(file),
                out: dir.path().join("file.txt"),
                ..command
            };
            run_export(&f.store, with_file, &mut Vec::new())
                .await
                .unwrap();
            let file_fec = std::fs::read_to_string(dir.path().join("file.txt")).unwrap();
            assert!(file_fec.contains("|165000|") && !file_fec.contains("|151800|"));

            // The network accountant may change it too (back to deposits and 467/468).
            let mut accountant = f.login(ACCOUNTANT).await;
            let page = submit(
                &mut accountant,
                "/accounting/mapping",
                "/accounting/mapping",
                &[("fund", "deposits"), ("barter", "split")],
            )
            .await;
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(
                f.store.account_mapping().await.unwrap(),
                AccountMapping::default()
            );
            let logged = actions(&f, MAPPING_ACTION).await;
            assert_eq!(logged.len(), 2);
            assert_eq!(logged[0].actor, ACCOUNTANT);
            assert_eq!(logged[0].before, logged[1].after);
            let (_, books) = fec(&f, &manager, None).await;
            assert!(has_account(&books, "165000") && !has_account(&books, "151800"));
            f.store.close().await;
        }
    }
);

story!(
    invalid_accounts_are_refused_in_the_users_language_and_nothing_is_stored,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::No).await;
            let mut manager = f.login(MANAGER).await;
            let path = "/accounting/mapping";
            let refused = |page: &crate::web_front::client::Page| {
                assert_eq!(
                    page.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{}",
                    page.body
                );
            };
            // A bad number: 422, the reason by the field, the value typed kept.
            for bad in ["X17000", "917000", "51", "517 000", "517|00"] {
                let page = submit(
                    &mut manager,
                    path,
                    path,
                    &[("barter", "single"), ("m_barter_single_num", bad)],
                )
                .await;
                refused(&page);
                page.assert_contains("pas été enregistré : corrigez les champs signalés");
                page.assert_contains("data-field=\"m_barter_single\">Numéro de compte invalide");
                page.assert_contains(&format!("value=\"{bad}\""));
            }
            // In English.
            manager.post("/lang", &[("lang", "en")]).await;
            let page = submit(&mut manager, path, path, &[("op_commission_num", "")]).await;
            refused(&page);
            page.assert_contains("data-field=\"op_commission\">Invalid account number");
            manager.post("/lang", &[("lang", "fr")]).await;
            // An unknown choice.
            let page = submit(&mut manager, path, path, &[("fund", "bogus")]).await;
            refused(&page);
            page.assert_contains("data-field=\"fund\">Choix invalide.");
            // Labels: required, at most 100 characters (101 refused), numbers at most 20.
            let long = "é".repeat(ACCOUNT_LABEL_LEN_MAX + 1);
            let page = submit(&mut manager, path, path, &[("m_commission_label", &long)]).await;
            refused(&page);
            page.assert_contains("100 caractères au plus");
            let page = submit(&mut manager, path, path, &[("m_commission_label", "  ")]).await;
            refused(&page);
            let too_long = format!("622{}", "1".repeat(18));
            let page = submit(&mut manager, path, path, &[("m_commission_num", &too_long)]).await;
            refused(&page);
            // Nothing was stored, nothing logged.
            assert!(!f.store.network_mapping_stored().await.unwrap());
            assert_eq!(
                f.store.account_mapping().await.unwrap(),
                AccountMapping::default()
            );
            assert!(actions(&f, MAPPING_ACTION).await.is_empty());
            // At the limits: a 20-character number and a 100-character label are accepted.
            let at_limit = format!("622{}", "1".repeat(17));
            let label = "é".repeat(ACCOUNT_LABEL_LEN_MAX);
            let page = submit(
                &mut manager,
                path,
                path,
                &[
                    ("m_commission_num", &at_limit),
                    ("m_commission_label", &label),
                ],
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let stored = f.store.account_mapping().await.unwrap();
            assert_eq!(stored.member_default.commission.num(), at_limit);
            assert_eq!(stored.member_default.commission.label(), label);
            assert_eq!(actions(&f, MAPPING_ACTION).await.len(), 1);
            // A member's form refuses the same way, and stores nothing.
            let mut owner = f.login("owner@alpha.fr").await;
            let page = submit(
                &mut owner,
                path,
                "/accounting/mapping/member",
                &[("m_suppliers_num", "4O1100")],
            )
            .await;
            refused(&page);
            page.assert_contains("data-field=\"m_suppliers\">Numéro de compte invalide");
            assert!(f
                .store
                .account_mapping()
                .await
                .unwrap()
                .member_override(account(&f.alpha))
                .is_none());
            assert!(actions(&f, MEMBER_MAPPING_ACTION).await.is_empty());
            f.store.close().await;
        }
    }
);

story!(
    members_choose_their_own_mapping_and_nothing_else,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Through2025, SirenSet::Yes).await;
            let path = "/accounting/mapping";
            let member_path = "/accounting/mapping/member";
            // Staff: 403 everywhere.
            let mut staff = f.login("staff@alpha.fr").await;
            assert_eq!(staff.get(path).await.status, StatusCode::FORBIDDEN);
            let mut owner = f.login("owner@alpha.fr").await;
            let page = owner.get(path).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("utilise le plan de comptes par défaut du réseau");
            let fields = form_fields(&page.body);
            assert!(fields.contains_key("m_barter_debit_num"));
            assert!(
                !fields.contains_key("fund"),
                "no operator fields for a member"
            );
            let staff_fields: BTreeMap<String, String> = BTreeMap::new();
            assert_eq!(
                post_form(&mut staff, path, &staff_fields).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                post_form(&mut staff, member_path, &fields).await.status,
                StatusCode::FORBIDDEN
            );
            // The owner cannot change the network's mapping.
            let mut network_fields = fields.clone();
            network_fields.insert("fund".into(), "provision".into());
            assert_eq!(
                post_form(&mut owner, path, &network_fields).await.status,
                StatusCode::FORBIDDEN
            );
            // Nor see or change another member's.
            let other = format!("{path}?member={}", f.beta.id);
            assert_eq!(owner.get(&other).await.status, StatusCode::NOT_FOUND);
            let _ = owner.get(path).await;
            let mut beta_fields = fields.clone();
            beta_fields.insert("member".into(), f.beta.id.to_string());
            beta_fields.insert("barter".into(), "single".into());
            assert_eq!(
                post_form(&mut owner, member_path, &beta_fields)
                    .await
                    .status,
                StatusCode::FORBIDDEN
            );
            // The network's manager sees a member's mapping, read only, and cannot set it.
            let mut manager = f.login(MANAGER).await;
            let page = manager.get(&format!("{path}?member={}", f.alpha.id)).await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("id=\"effective-member\"");
            assert!(!page.body.contains("id=\"mapping-form\""));
            assert_eq!(
                manager.get(&format!("{path}?member=999999")).await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                post_form(&mut manager, member_path, &fields).await.status,
                StatusCode::FORBIDDEN
            );
            assert!(!f.store.network_mapping_stored().await.unwrap());
            assert!(actions(&f, MEMBER_MAPPING_ACTION).await.is_empty());

            // Alpha's accountant chooses 517 and its own commission account for Alpha.
            let mut expert = f.login(ALPHA_ACCOUNTANT).await;
            let page = submit(
                &mut expert,
                path,
                member_path,
                &[
                    ("barter", "single"),
                    ("m_commission_num", "622600"),
                    ("m_commission_label", "Honoraires réseau"),
                ],
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("Plan de comptes enregistré.");
            page.assert_contains("a choisi son propre plan de comptes");
            page.assert_contains("data-key=\"m_barter_single\" data-num=\"517000\"");
            let stored = f.store.account_mapping().await.unwrap();
            let alpha = stored.for_member(account(&f.alpha));
            assert_eq!(alpha.barter, MemberMapping::single_barter_account());
            assert_eq!(alpha.commission.num(), "622600");
            assert_eq!(
                stored.for_member(account(&f.beta)),
                &MemberMapping::default()
            );
            assert_eq!(stored.member_default, MemberMapping::default());
            let logged = actions(&f, MEMBER_MAPPING_ACTION).await;
            assert_eq!(logged.len(), 1);
            assert_eq!(logged[0].actor, ALPHA_ACCOUNTANT);
            assert_eq!(logged[0].member_id, Some(f.alpha.id));
            assert!(logged[0].before.is_null());
            assert_eq!(logged[0].after["commission"]["num"], "622600");

            // Alpha's books follow its choice; Beta's and the operator's do not.
            let (_, books) = fec(&f, &owner, None).await;
            assert!(has_account(&books, "517000") && has_account(&books, "622600"));
            assert!(!has_account(&books, "467100") && !has_account(&books, "622200"));
            let journal_text = journal(&f, &owner, None).await;
            assert!(journal_text.contains("517000"));
            let (_, books) = fec(&f, &manager, Some(&f.beta)).await;
            assert!(has_account(&books, "467100") || has_account(&books, "468100"));
            assert!(!has_account(&books, "517000"));
            let (_, books) = fec(&f, &manager, None).await;
            assert!(!has_account(&books, "517000"));
            // The annual summary says how the books record it.
            let summary = fetch(&f.state, &owner, "/accounting/summary?year=2025&member=").await;
            assert_eq!(summary.status, StatusCode::OK);
            assert!(
                summary
                    .text()
                    .contains("position barter 517000, clients 411100"),
                "{}",
                summary.text()
            );
            // The manager sees Alpha's effective mapping.
            let page = manager.get(&format!("{path}?member={}", f.alpha.id)).await;
            page.assert_contains("data-key=\"m_barter_single\" data-num=\"517000\"");

            // The owner goes back to the network's default.
            let page = owner.get(path).await;
            page.assert_contains("value=\"reset\"");
            let page = owner
                .post(
                    member_path,
                    &[("action", "reset"), ("member", &f.alpha.id.to_string())],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("utilise de nouveau le plan de comptes du réseau");
            assert!(f
                .store
                .account_mapping()
                .await
                .unwrap()
                .member_override(account(&f.alpha))
                .is_none());
            let logged = actions(&f, MEMBER_MAPPING_ACTION).await;
            assert_eq!(logged.len(), 2);
            assert_eq!(logged[0].actor, "owner@alpha.fr");
            assert!(logged[0].after.is_null());
            assert_eq!(logged[0].before["barter"]["single"]["num"], "517000");
            f.store.close().await;
        }
    }
);

story!(
    the_store_reads_back_what_it_saved_and_refuses_what_is_not_a_member,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::No).await;
            let note = |action: &str| web::store::ActionNote::new(None, "cli", action, "").unwrap();
            let operator = OperatorMapping {
                commission: GlAccount::new("706200", "Commissions réseau").unwrap(),
                ..OperatorMapping::default()
            };
            let members = MemberMapping {
                barter: MemberMapping::single_barter_account(),
                ..MemberMapping::default()
            };
            f.store
                .set_network_mapping(operator.clone(), members.clone(), note(MAPPING_ACTION))
                .await
                .unwrap();
            let own = MemberMapping {
                commission: GlAccount::new("622600", "Honoraires").unwrap(),
                ..MemberMapping::default()
            };
            f.store
                .set_member_mapping(
                    account(&f.beta),
                    Some(own.clone()),
                    note(MEMBER_MAPPING_ACTION),
                )
                .await
                .unwrap();
            let stored = f.store.account_mapping().await.unwrap();
            assert_eq!(stored.operator, operator);
            assert_eq!(stored.member_default, members);
            assert_eq!(stored.for_member(account(&f.beta)), &own);
            assert_eq!(stored.for_member(account(&f.alpha)), &members);
            assert_eq!(stored.overrides_len(), 1);
            // The JSON round trip (the CLI's --mapping format) gives the same mapping.
            assert_eq!(
                AccountMapping::from_json(&stored.to_json()).unwrap(),
                stored
            );
            // Only a member's account may have an override: nothing written, nothing logged.
            let fees = f.store.system_accounts().await.unwrap().fees;
            assert!(f
                .store
                .set_member_mapping(fees, Some(own.clone()), note(MEMBER_MAPPING_ACTION))
                .await
                .is_err());
            assert!(f
                .store
                .set_member_mapping(
                    ledger::AccountId(999_999),
                    Some(own),
                    note(MEMBER_MAPPING_ACTION)
                )
                .await
                .is_err());
            assert_eq!(f.store.account_mapping().await.unwrap(), stored);
            assert_eq!(actions(&f, MEMBER_MAPPING_ACTION).await.len(), 1);
            // Removing the override: back to the network's default.
            f.store
                .set_member_mapping(account(&f.beta), None, note(MEMBER_MAPPING_ACTION))
                .await
                .unwrap();
            let stored = f.store.account_mapping().await.unwrap();
            assert_eq!(stored.for_member(account(&f.beta)), &members);
            assert_eq!(actions(&f, MEMBER_MAPPING_ACTION).await.len(), 2);
            f.store.close().await;
        }
    }
);
