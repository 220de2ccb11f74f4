//! Issue 8's acceptance stories, each in its own headless Chromium on a fresh SQLite
//! database: a member posts an offer and pays, a payment request is accepted, a manager
//! changes a credit limit, an accountant downloads a FEC file. Each reads what the page
//! shows and cross-checks the database through the `Store`.

use anyhow::{ensure, Context, Result};
use chrono::NaiveDate;
use ledger::AccountId;
use web::people::Member;
use web::store::Store;
use web::trade::RequestStatus;

use super::{Browser, Page, Site};
use crate::exports::accounting::{fixture, Locked, SirenSet, ACCOUNTANT, NETWORK_SIREN};
use crate::web_front::{two_members, PASSWORD};

async fn balance(store: &Store, member: &Member) -> Result<i64> {
    Ok(crate::web_front::balance(store, member).await)
}

async fn credit_limit(store: &Store, member: &Member) -> Result<i64> {
    let account = store
        .account(AccountId(member.account_id as u64))
        .await?
        .context("the member's account")?;
    Ok(account.credit_limit().minor())
}

/// The number in a path like `/market/12`.
fn id_in(path: &str, prefix: &str) -> Result<i64> {
    path.strip_prefix(prefix)
        .and_then(|rest| rest.parse().ok())
        .with_context(|| format!("{path} is not {prefix}ID"))
}

/// Balance and available credit as the dashboard shows them.
async fn dashboard_figures(page: &Page) -> Result<(String, String)> {
    page.goto("/dashboard").await?;
    Ok((page.text("#balance").await?, page.text("#available").await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_posts_an_offer_and_pays() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = tests::TestDb::sqlite().await;
    let (store, state, alpha, beta) = two_members(db.url()).await;
    let site = Site::serve(state).await;
    let db_store = store.clone();
    browser
        .story("member_posts_an_offer_and_pays", &site, |page| async move {
            let store = db_store;
            page.login("owner@alpha.fr", PASSWORD).await?;
            page.wait_path("/dashboard", |p| p == "/dashboard").await?;
            ensure!(page.text("h1").await? == "Alpha SARL");
            let balance_before = page.text("#balance").await?;
            ensure!(balance_before == "0,00", "balance before: {balance_before}");
            ensure!(page.text("#available").await? == "1 000,00");

            // An offer on the marketplace, through the form (the city, the sector and the end
            // date come filled in).
            page.click("a[href='/market']").await?;
            page.wait_path("/market", |p| p == "/market").await?;
            page.goto("/market/new").await?;
            page.select("#kind", "offer").await?;
            page.fill("#title", "Impression de 500 brochures A5")
                .await?;
            page.fill(
                "#description",
                "Quadrichromie, papier recyclé, livraison à Lyon.",
            )
            .await?;
            page.fill("#price", "350").await?;
            page.click("form[action='/market'] button[type=submit]")
                .await?;
            let path = page
                .wait_path("the new listing's page", |p| {
                    p.strip_prefix("/market/")
                        .is_some_and(|id| id.parse::<i64>().is_ok())
                })
                .await?;
            let listing_id = id_in(&path, "/market/")?;
            page.wait_text("h1", "Impression de 500 brochures A5")
                .await?;
            let price = page.text("#price").await?;
            ensure!(price.starts_with("350,00"), "price shown: {price}");
            let listing = web::market::get(&store, listing_id)
                .await?
                .context("the listing is stored")?;
            ensure!(listing.member_id == alpha.id && listing.open);
            ensure!(listing.kind == web::market::Kind::Offer);
            ensure!(listing.price_minor == Some(35_000));
            // It is on the marketplace.
            page.goto("/market").await?;
            page.expect_text("Impression de 500 brochures A5").await?;

            // Pay Beta 120,00: the form, the confirmation page, then confirm.
            page.goto("/pay").await?;
            page.select("#payee", &beta.id.to_string()).await?;
            page.fill("#amount", "120").await?;
            page.fill("#reference", "FA-2026-042").await?;
            page.fill("#memo", "Maintenance du parc").await?;
            page.click("form[action='/pay/confirm'] button[type=submit]")
                .await?;
            page.wait_path("/pay/confirm", |p| p == "/pay/confirm")
                .await?;
            // 2 % commission paid by the seller, 1 % to the fund paid by the buyer.
            ensure!(page.text("#commission").await? == "2,40");
            ensure!(page.text("#fund").await? == "1,20");
            ensure!(page.text("#resulting-balance").await? == "-121,20");
            ensure!(page.text("#resulting-available").await? == "878,80");
            // The confirmation page pays nothing.
            ensure!(balance(&store, &alpha).await? == 0);
            page.click("form[action='/pay'] button[type=submit]")
                .await?;
            page.wait_text("h1", "Paiement effectué.").await?;
            page.expect_text("Beta & Fils <SAS> — 120,00").await?;

            // The dashboard shows the new balance.
            let (balance_after, available_after) = dashboard_figures(&page).await?;
            ensure!(
                balance_after == "-121,20",
                "balance after: {balance_after} (before: {balance_before})"
            );
            ensure!(available_after == "878,80", "available: {available_after}");
            page.expect_text("FA-2026-042").await?;
            ensure!(balance(&store, &alpha).await? == -12_120);
            ensure!(balance(&store, &beta).await? == 11_760);
            Ok(())
        })
        .await;
    store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_request_is_accepted() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = tests::TestDb::sqlite().await;
    let (store, state, alpha, beta) = two_members(db.url()).await;
    let site = Site::serve(state).await;
    let db_store = store.clone();
    browser
        .story("a_payment_request_is_accepted", &site, |page| async move {
            let store = db_store;
            // Alpha, the seller, asks Beta for 80,00.
            page.login("staff@alpha.fr", PASSWORD).await?;
            let (alpha_before, _) = dashboard_figures(&page).await?;
            ensure!(alpha_before == "0,00");
            page.goto("/requests").await?;
            page.select("#payee", &beta.id.to_string()).await?;
            page.fill("#amount", "80").await?;
            page.fill("#reference", "DEV-2026-007").await?;
            page.fill("#memo", "Traduction du catalogue").await?;
            let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(30))
                .format("%Y-%m-%d")
                .to_string();
            page.set_date("due_date", &due).await?;
            page.click("form[action='/requests'] button[type=submit]")
                .await?;
            page.expect_text("DEV-2026-007").await?;
            let href = page
                .attr("a[href^='/requests/']", "href")
                .await?
                .context("a link")?;
            let request_id = id_in(&href, "/requests/")?;
            let request = web::trade::request(&store, request_id)
                .await?
                .context("the request is stored")?;
            ensure!(request.seller_member_id == alpha.id && request.buyer_member_id == beta.id);
            ensure!(request.amount_minor == 8_000 && request.status == RequestStatus::Open);
            page.logout().await?;

            // Beta sees it on the dashboard, opens it and accepts it.
            page.login("owner@beta.fr", PASSWORD).await?;
            let (beta_before, _) = dashboard_figures(&page).await?;
            ensure!(beta_before == "0,00");
            page.click(&format!("a[href='/requests/{request_id}']"))
                .await?;
            page.wait_path("the request's page", |p| p == href).await?;
            ensure!(page.text("#status").await? == "À payer");
            page.expect_text("DEV-2026-007").await?;
            page.click(&format!(
                "form[action='/requests/{request_id}/accept'] button[type=submit]"
            ))
            .await?;
            page.wait_text("#status", "Payée").await?;
            // Beta paid 80,00 and 1 % to the fund.
            let (beta_after, _) = dashboard_figures(&page).await?;
            ensure!(beta_after == "-80,80", "Beta's balance after: {beta_after}");
            page.logout().await?;

            // Alpha received 80,00 less its 2 % commission.
            page.login("staff@alpha.fr", PASSWORD).await?;
            let (alpha_after, _) = dashboard_figures(&page).await?;
            ensure!(
                alpha_after == "78,40",
                "Alpha's balance after: {alpha_after}"
            );
            let request = web::trade::request(&store, request_id)
                .await?
                .context("the request")?;
            ensure!(request.status == RequestStatus::Paid && request.tx_id.is_some());
            ensure!(balance(&store, &alpha).await? == 7_840);
            ensure!(balance(&store, &beta).await? == -8_080);
            Ok(())
        })
        .await;
    store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_changes_a_credit_limit() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = tests::TestDb::sqlite().await;
    let (store, state, _alpha, beta) = two_members(db.url()).await;
    crate::console::staff(&store).await;
    let site = Site::serve(state).await;
    let db_store = store.clone();
    browser
        .story(
            "a_manager_changes_a_credit_limit",
            &site,
            |page| async move {
                let store = db_store;
                // What Beta may spend before.
                page.login("owner@beta.fr", PASSWORD).await?;
                let (_, available_before) = dashboard_figures(&page).await?;
                ensure!(available_before == "500,00", "before: {available_before}");
                page.logout().await?;

                page.login("gestion@troc.test", PASSWORD).await?;
                page.wait_path("/admin", |p| p == "/admin").await?;
                page.click("a[href='/admin/members']").await?;
                page.click(&format!("a[href='/admin/members/{}']", beta.id))
                    .await?;
                page.wait_path("Beta's page", |p| {
                    p == format!("/admin/members/{}", beta.id)
                })
                .await?;
                ensure!(page.text("#member-limit").await? == "500,00");
                page.fill("#credit_limit", "750").await?;
                page.fill("#limits-reason", "Chiffre d'affaires en hausse")
                    .await?;
                page.click("#limits button[type=submit]").await?;
                page.wait_text("#member-limit", "750,00").await?;
                // The limit history's last line says who, why, before and after.
                let last = page.text("#limit-history tbody tr:last-child").await?;
                for part in [
                    "gestion@troc.test",
                    "Chiffre d'affaires en hausse",
                    "500,00",
                    "750,00",
                ] {
                    ensure!(
                        last.contains(part),
                        "{part:?} not in the history line {last:?}"
                    );
                }
                ensure!(credit_limit(&store, &beta).await? == 75_000);
                page.logout().await?;

                // Beta may now spend 750,00.
                page.login("owner@beta.fr", PASSWORD).await?;
                let (_, available_after) = dashboard_figures(&page).await?;
                ensure!(available_after == "750,00", "after: {available_after}");
                Ok(())
            },
        )
        .await;
    store.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accountant_downloads_a_fec_file() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = tests::TestDb::sqlite().await;
    // A year of activity in 2025, locked through 2025-12-31, and the network's SIREN.
    let f = fixture(db.url(), Locked::Through2025, SirenSet::Yes).await;
    let site = Site::serve(f.state.clone()).await;
    browser
        .story(
            "an_accountant_downloads_a_fec_file",
            &site,
            |page| async move {
                page.login(ACCOUNTANT, PASSWORD).await?;
                page.click("a[href='/accounting']").await?;
                page.wait_path("/accounting", |p| p == "/accounting")
                    .await?;
                ensure!(page.text("#network-siren").await? == NETWORK_SIREN);
                // The 2025 fiscal year.
                page.set_date("from", "2025-01-01").await?;
                page.set_date("to", "2025-12-31").await?;
                page.click("button[name=format][value=fec]").await?;
                let (name, bytes) = page.downloaded().await?;
                ensure!(
                    name == format!("{NETWORK_SIREN}FEC20251231.txt"),
                    "file name {name}"
                );
                // <SIREN>FEC<AAAAMMJJ>.txt
                ensure!(name.len() == 24 && name[9..12] == *"FEC" && name.ends_with(".txt"));
                let text = String::from_utf8(bytes.clone()).context("UTF-8")?;
                let header = text.lines().next().unwrap_or_default();
                ensure!(
                    header
                        == "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|\
                        CompAuxNum|CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|\
                        EcritureLet|DateLet|ValidDate|Montantdevise|Idevise",
                    "FEC header: {header}"
                );
                ensure!(header.split('|').count() == 18);
                let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
                let stats = tests::fec_check::check_fec(&name, &bytes, day(1, 1), day(12, 31))
                    .map_err(|errors| anyhow::anyhow!("FEC checker: {errors:?}"))?;
                ensure!(stats.entries > 0, "an empty FEC");
                // The download left the page where it was.
                ensure!(page.path().await? == "/accounting");
                Ok(())
            },
        )
        .await;
    f.store.close().await;
    db.cleanup().await;
}
