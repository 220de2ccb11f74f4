//! The accounting pages through the HTTP app (both backends): downloads of every format for
//! each role's scope, streaming and its limit, the printable reports against the ledger,
//! the network SIREN, and period locks from the web.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use ledger::{AccountId, Amount, ChargeKind, IdempotencyKey, Operation, Outcome, Rejection};
use tests::fec_check::check_fec;
use tests::seed::{at, date};
use tests::story;
use tower::ServiceExt;
use web::http::AppState;
use web::people::{self, Member, Role};
use web::store::{ActionFilter, ActionNote, Store, Submission, LOCK_ACTION, SIREN_ACTION};

use crate::web_front::client::{self, Client};
use crate::web_front::{member, network, PASSWORD};

pub const NETWORK_SIREN: &str = "552100554";
pub const MANAGER: &str = "gestion@reseau.fr";
pub const ACCOUNTANT: &str = "compta@reseau.fr";
pub const ALPHA_ACCOUNTANT: &str = "expert@cabinet.fr";

/// Whether the fixture locks 2025 (the FEC needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Through2025,
    Nothing,
}

/// Whether the fixture stores the network's SIREN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SirenSet {
    Yes,
    No,
}

pub struct Fixture {
    pub store: Store,
    pub state: AppState,
    pub alpha: Member,
    pub beta: Member,
    pub gamma: Member,
}

impl Fixture {
    pub fn client(&self) -> Client {
        Client::new(self.state.clone())
    }

    pub async fn login(&self, email: &str) -> Client {
        let mut client = self.client();
        client.login(email, PASSWORD).await;
        client
    }

    pub async fn balance(&self, m: &Member) -> i64 {
        crate::web_front::balance(&self.store, m).await
    }

    pub async fn balances(&self) -> BTreeMap<AccountId, i64> {
        self.store
            .accounts()
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id(), a.balance().minor()))
            .collect()
    }
}

pub fn account(m: &Member) -> AccountId {
    AccountId(m.account_id as u64)
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

fn pay(payer: &Member, payee: &Member, units: i64) -> Operation {
    Operation::Payment {
        payer: account(payer),
        payee: account(payee),
        amount: Amount::from_units(units),
        reference: format!("FA-{units}"),
        memo: "prestation".into(),
    }
}

async fn posted_at(
    store: &Store,
    name: &str,
    time: chrono::DateTime<Utc>,
    op: Operation,
) -> Outcome {
    store
        .submit(Submission::new(key(name), op).at(time))
        .await
        .unwrap()
        .unwrap_or_else(|r| panic!("{name} refused: {r}"))
}

/// A network (2 % commission, minimum 0,50, paid by the seller; 1 % to the fund, paid by the
/// buyer), three members and their users, the network's manager and accountant, Alpha's
/// accountant, and a year of back-dated activity whose figures for Alpha are worked out by
/// hand in `alpha_2025_summary_by_hand`. Nothing is dated after 2025.
pub async fn fixture(url: &str, locked: Locked, siren: SirenSet) -> Fixture {
    let (store, state) = client::state(url).await;
    network(&store).await;
    let alpha = member(&store, 1, "Alpha SARL", "alpha", 1_000).await;
    let beta = member(&store, 2, "Beta & Fils <SAS>", "beta", 5_000).await;
    let gamma = member(&store, 3, "Gamma | Conseil", "gamma", 5_000).await;
    for (email, role, member_id) in [
        (MANAGER, Role::Manager, None),
        (ACCOUNTANT, Role::Accountant, None),
        (ALPHA_ACCOUNTANT, Role::MemberAccountant, Some(alpha.id)),
    ] {
        people::create_user(&store, email, PASSWORD, email, role, member_id)
            .await
            .unwrap()
            .unwrap();
    }
    // 2024: Alpha sells 50,00 to Beta (commission 1,00): Alpha opens 2025 at 49,00.
    posted_at(
        &store,
        "s-2024",
        at(2024, 12, 20, 10),
        pay(&beta, &alpha, 50),
    )
    .await;
    posted_at(
        &store,
        "open-alpha",
        at(2025, 1, 2, 9),
        Operation::OpeningBalance {
            account: account(&alpha),
            amount: Amount::from_units(100),
            memo: "reprise".into(),
        },
    )
    .await;
    posted_at(
        &store,
        "fee-alpha",
        at(2025, 1, 5, 9),
        Operation::Charge {
            kind: ChargeKind::Fee,
            payer: account(&alpha),
            amount: Amount::from_units(50),
            reference: "COT-2025".into(),
            memo: "cotisation".into(),
        },
    )
    .await;
    posted_at(
        &store,
        "s-beta",
        at(2025, 2, 3, 14),
        pay(&beta, &alpha, 1_000),
    )
    .await;
    posted_at(
        &store,
        "p-gamma",
        at(2025, 3, 10, 9),
        pay(&alpha, &gamma, 200),
    )
    .await;
    let Outcome::Posted { tx } = posted_at(
        &store,
        "s-gamma",
        at(2025, 4, 1, 9),
        pay(&gamma, &alpha, 300),
    )
    .await
    else {
        panic!("posted")
    };
    posted_at(
        &store,
        "r-gamma",
        at(2025, 4, 2, 9),
        Operation::Reverse {
            transaction: tx,
            memo: "erreur".into(),
        },
    )
    .await;
    posted_at(
        &store,
        "g-beta",
        at(2025, 6, 15, 9),
        pay(&gamma, &beta, 120),
    )
    .await;
    if locked == Locked::Through2025 {
        store
            .lock_period(date(2025, 12, 31), "comptable", Utc::now())
            .await
            .unwrap();
    }
    if siren == SirenSet::Yes {
        let note = ActionNote::new(None, "cli", SIREN_ACTION, "").unwrap();
        store
            .set_network_siren(&web::export::Siren::new(NETWORK_SIREN).unwrap(), note)
            .await
            .unwrap();
    }
    Fixture {
        store,
        state,
        alpha,
        beta,
        gamma,
    }
}

pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8")
    }

    pub fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    pub fn file_name(&self) -> String {
        let disposition = self.header(header::CONTENT_DISPOSITION);
        assert!(
            disposition.starts_with("attachment; filename=\""),
            "{disposition}"
        );
        disposition["attachment; filename=\"".len()..disposition.len() - 1].to_owned()
    }
}

pub fn request(client: &Client, path: &str) -> Request<Body> {
    let mut builder = Request::builder().method("GET").uri(path);
    if let Some(session) = &client.session {
        builder = builder.header(header::COOKIE, format!("troc_session={session}"));
    }
    if let Some(lang) = &client.accept_language {
        builder = builder.header(header::ACCEPT_LANGUAGE, lang.as_str());
    }
    builder.body(Body::empty()).unwrap()
}

/// A GET with the client's session, keeping the response headers and raw bytes.
pub async fn fetch(state: &AppState, client: &Client, path: &str) -> Fetched {
    let response = web::http::app(state.clone())
        .oneshot(request(client, path))
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Fetched {
        status,
        headers,
        body,
    }
}

pub(crate) fn export_path(format: &str, from: &str, to: &str, member: Option<&Member>) -> String {
    let member = member.map(|m| m.id.to_string()).unwrap_or_default();
    format!("/accounting/export?format={format}&from={from}&to={to}&member={member}&dates=french")
}

pub(crate) const FY: (&str, &str) = ("2025-01-01", "2025-12-31");

fn run_tool(tool: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Runs `hledger check` and `bean-check` on downloaded files (skipped, loudly, outside CI
/// when a tool is missing: `tests::external_tool`).
pub(crate) fn check_with_tools(journal: &str, beancount: &str) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(hledger) = tests::external_tool("hledger") {
        let file = dir.path().join("books.journal");
        std::fs::write(&file, journal).unwrap();
        let (ok, out) = run_tool(
            &hledger,
            &["-f", file.to_str().unwrap(), "check", "-s", "ordereddates"],
        );
        assert!(ok, "hledger check: {out}\n{journal}");
    }
    if let Some(bean_check) = tests::external_tool("bean-check") {
        let file = dir.path().join("books.beancount");
        std::fs::write(&file, beancount).unwrap();
        let (ok, out) = run_tool(&bean_check, &[file.to_str().unwrap()]);
        assert!(ok, "bean-check: {out}\n{beancount}");
    }
}

/// Downloads every format of one set of books and checks each file.
async fn download_all(f: &Fixture, client: &Client, books: Option<&Member>, fec_name: &str) {
    let (from, to) = FY;
    let fec = fetch(&f.state, client, &export_path("fec", from, to, books)).await;
    assert_eq!(fec.status, StatusCode::OK, "{}", fec.text());
    assert_eq!(
        fec.header(header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert_eq!(fec.header(header::CACHE_CONTROL), "no-store");
    assert_eq!(fec.file_name(), fec_name);
    check_fec(fec_name, &fec.body, date(2025, 1, 1), date(2025, 12, 31))
        .unwrap_or_else(|e| panic!("{e:#?}\n{}", fec.text()));
    let books_siren = &fec_name[..9];
    let journal = fetch(&f.state, client, &export_path("hledger", from, to, books)).await;
    assert_eq!(journal.status, StatusCode::OK);
    assert_eq!(
        journal.file_name(),
        format!("{books_siren}-20250101-20251231.journal")
    );
    let beancount = fetch(&f.state, client, &export_path("beancount", from, to, books)).await;
    assert_eq!(beancount.status, StatusCode::OK);
    assert!(beancount.file_name().ends_with(".beancount"));
    check_with_tools(&journal.text(), &beancount.text());
    let csv = fetch(&f.state, client, &export_path("csv", from, to, books)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
    assert!(csv.file_name().ends_with(".csv"));
    let text = csv.text();
    assert!(text.starts_with("date;transaction;"), "{text}");
    assert!(
        text.contains("\n05/01/2025;") || text.contains("\n02/01/2025;"),
        "{text}"
    );
    let iso = fetch(
        &f.state,
        client,
        &export_path("csv", from, to, books).replace("dates=french", "dates=iso"),
    )
    .await;
    assert!(iso.text().contains("\n2025-02-03;"), "{}", iso.text());
    let ofx = fetch(&f.state, client, &export_path("ofx", from, to, books)).await;
    match books {
        Some(_) => {
            assert_eq!(ofx.status, StatusCode::OK);
            assert_eq!(ofx.header(header::CONTENT_TYPE), "application/x-ofx");
            assert!(ofx.text().contains("<FITID>T"));
            assert!(ofx.file_name().ends_with(".ofx"));
        }
        None => {
            assert_eq!(ofx.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                ofx.text().contains("choisissez un membre"),
                "{}",
                ofx.text()
            );
        }
    }
}

story!(
    every_role_downloads_every_format_of_its_own_books,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Through2025, SirenSet::Yes).await;
            let alpha_fec = format!("{}FEC20251231.txt", f.alpha.siren);
            let network_fec = format!("{NETWORK_SIREN}FEC20251231.txt");
            // The network's manager and accountant: the network's books, or any member's.
            for email in [MANAGER, ACCOUNTANT] {
                let client = f.login(email).await;
                download_all(&f, &client, None, &network_fec).await;
                download_all(&f, &client, Some(&f.alpha), &alpha_fec).await;
            }
            // A member's owner and its accountant: their own books, with or without the id.
            for email in ["owner@alpha.fr", ALPHA_ACCOUNTANT] {
                let client = f.login(email).await;
                download_all(&f, &client, Some(&f.alpha), &alpha_fec).await;
                let own = fetch(&f.state, &client, &export_path("fec", FY.0, FY.1, None)).await;
                assert_eq!(own.status, StatusCode::OK);
                assert_eq!(
                    own.file_name(),
                    alpha_fec,
                    "no member given: their own books"
                );
                // Another member's books: 404, like a member that does not exist.
                for other in [f.beta.id.to_string(), "999999".into(), "x".into()] {
                    let path = format!(
                        "/accounting/export?format=fec&from=2025-01-01&to=2025-12-31&member={other}"
                    );
                    let page = fetch(&f.state, &client, &path).await;
                    assert_eq!(page.status, StatusCode::NOT_FOUND, "{email} {other}");
                }
            }
            // Staff have the history and its CSV, not the books.
            let staff = f.login("staff@alpha.fr").await;
            let page = fetch(&f.state, &staff, &export_path("fec", FY.0, FY.1, None)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert_eq!(
                fetch(&f.state, &staff, "/accounting").await.status,
                StatusCode::FORBIDDEN
            );
            // Visitors log in first.
            let page = fetch(&f.state, &f.client(), &export_path("csv", FY.0, FY.1, None)).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            // The network's manager gets a 404 for a member that does not exist.
            let manager = f.login(MANAGER).await;
            let path = "/accounting/export?format=csv&from=2025-01-01&to=2025-12-31&member=999999";
            assert_eq!(
                fetch(&f.state, &manager, path).await.status,
                StatusCode::NOT_FOUND
            );
            f.store.close().await;
        }
    }
);

story!(
    bad_download_requests_are_refused_in_the_users_language,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::No).await;
            let mut owner = f.login("owner@alpha.fr").await;
            let before = f.balances().await;
            let refused = |page: &Fetched, status: StatusCode, text: &str| {
                assert_eq!(page.status, status, "{}", page.text());
                let body = page.text();
                assert!(body.contains(text), "expected {text:?} in {body}");
                assert_eq!(page.header(header::CONTENT_DISPOSITION), "");
            };
            let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
            // No SIREN for the network yet: said plainly.
            let page = fetch(&f.state, &owner, &export_path("csv", FY.0, FY.1, None)).await;
            refused(
                &page,
                unprocessable,
                "SIREN de l&#39;opérateur du réseau n&#39;est pas renseigné",
            );
            let note = ActionNote::new(None, "cli", SIREN_ACTION, "").unwrap();
            f.store
                .set_network_siren(&web::export::Siren::new(NETWORK_SIREN).unwrap(), note)
                .await
                .unwrap();
            // The form is drawn again with what was typed.
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/export?format=csv&from=2025-12-31&to=2025-01-01&member=",
            )
            .await;
            refused(
                &page,
                unprocessable,
                "La date de début est après la date de fin.",
            );
            assert!(page.text().contains("value=\"2025-12-31\""));
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/export?format=csv&from=2025-13-01&to=2025-12-31",
            )
            .await;
            refused(&page, unprocessable, "Date invalide");
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/export?format=xls&from=2025-01-01&to=2025-12-31",
            )
            .await;
            refused(&page, unprocessable, "Format inconnu.");
            // The FEC needs the period locked through its last day.
            let page = fetch(&f.state, &owner, &export_path("fec", FY.0, FY.1, None)).await;
            refused(&page, unprocessable, "verrouillez d&#39;abord la période");
            // The period limit: 3 660 days pass, one more does not.
            let max = web::export::PERIOD_DAYS_MAX;
            let from = date(2016, 1, 1);
            let at_max = (from + Duration::days(max - 1))
                .format("%Y-%m-%d")
                .to_string();
            let past_max = (from + Duration::days(max)).format("%Y-%m-%d").to_string();
            let page = fetch(
                &f.state,
                &owner,
                &export_path("hledger", "2016-01-01", &at_max, None),
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let page = fetch(
                &f.state,
                &owner,
                &export_path("hledger", "2016-01-01", &past_max, None),
            )
            .await;
            refused(
                &page,
                unprocessable,
                &format!("La période dépasse {max} jours."),
            );
            // The same in English (the user's own choice wins).
            owner.post("/lang", &[("lang", "en")]).await;
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/export?format=csv&from=2025-12-31&to=2025-01-01",
            )
            .await;
            refused(
                &page,
                unprocessable,
                "The start date is after the end date.",
            );
            let page = fetch(&f.state, &owner, &export_path("fec", FY.0, FY.1, None)).await;
            refused(&page, unprocessable, "lock the period first");
            assert_eq!(f.balances().await, before, "a download changes nothing");
            f.store.close().await;
        }
    }
);

story!(
    downloads_stream_page_by_page_and_are_limited,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
            // 2,400 more payments in 2025: three pages of the store's 1,000.
            let mut submissions = Vec::new();
            for i in 0..2_400u32 {
                let (payer, payee) = if i % 2 == 0 {
                    (&f.beta, &f.gamma)
                } else {
                    (&f.gamma, &f.beta)
                };
                let time = at(2025, 7, 1, 0) + Duration::seconds(i64::from(i) * 600);
                submissions.push(
                    Submission::new(key(&format!("bulk-{i}")), pay(payer, payee, 1)).at(time),
                );
            }
            for chunk in submissions.chunks(web::store::SUBMISSIONS_PER_CALL_MAX) {
                for answer in f.store.submit_batch(chunk.to_vec()).await.unwrap() {
                    assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
                }
            }
            let manager = f.login(MANAGER).await;
            let path = export_path("csv", FY.0, FY.1, None);
            let response = web::http::app(f.state.clone())
                .oneshot(request(&manager, &path))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert!(
                response.headers().get(header::CONTENT_LENGTH).is_none(),
                "streamed, not built in memory first"
            );
            let mut body = response.into_body();
            let mut frames = 0;
            let mut bytes = Vec::new();
            while let Some(frame) = body.frame().await {
                let data = frame.unwrap().into_data().unwrap();
                frames += 1;
                bytes.extend_from_slice(&data);
            }
            assert!(frames >= 3, "one chunk per page at least: {frames}");
            let rows = String::from_utf8(bytes).unwrap().lines().count();
            // Header + every posting of the period (the bulk payments have 4 postings each).
            assert!(rows > 2_400 * 4, "{rows}");

            // At most DOWNLOADS_CONCURRENT_MAX at once: each unread body holds its place.
            let max = web::export::download::DOWNLOADS_CONCURRENT_MAX;
            let mut held = Vec::new();
            for _ in 0..max {
                let response = web::http::app(f.state.clone())
                    .oneshot(request(&manager, &path))
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                held.push(response);
            }
            assert_eq!(f.state.downloads.available(), 0);
            let busy = fetch(&f.state, &manager, &path).await;
            assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                busy.text().contains("Trop de téléchargements"),
                "{}",
                busy.text()
            );
            // A finished (or abandoned) download frees its place.
            drop(held.pop());
            let again = fetch(&f.state, &manager, &path).await;
            assert_eq!(again.status, StatusCode::OK);
            assert_eq!(again.text().lines().count(), rows);
            drop(held);
            for _ in 0..50 {
                if f.state.downloads.available() == max {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            assert_eq!(f.state.downloads.available(), max);
            f.store.close().await;
        }
    }
);

/// `data-NAME="VALUE"` of the element whose attributes contain `marker`.
fn attr(body: &str, marker: &str, name: &str) -> i64 {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {body}"));
    let rest = &body[start..];
    let tag_end = rest.find('>').unwrap();
    let needle = format!("data-{name}=\"");
    let at = rest[..tag_end]
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} on {marker}"))
        + needle.len();
    let end = rest[at..].find('"').unwrap() + at;
    rest[at..end].parse().unwrap()
}

/// Every trial-balance row as (account, aux) → (opening, debit, credit, closing).
fn trial_rows(body: &str) -> BTreeMap<(String, String), (i64, i64, i64, i64)> {
    let mut rows = BTreeMap::new();
    for piece in body.split("<tr data-account=\"").skip(1) {
        let account = piece[..piece.find('"').unwrap()].to_owned();
        let aux_at = piece.find("data-aux=\"").unwrap() + "data-aux=\"".len();
        let aux = piece[aux_at..aux_at + piece[aux_at..].find('"').unwrap()].to_owned();
        let marker = format!("data-account=\"{account}\" data-aux=\"{aux}\"");
        let whole = format!(
            "<tr {marker}{}",
            &piece[piece.find("\" data-opening").unwrap()..]
        );
        let value = |name| attr(&whole, &marker, name);
        rows.insert(
            (account, aux),
            (
                value("opening"),
                value("debit"),
                value("credit"),
                value("closing"),
            ),
        );
    }
    rows
}

story!(
    the_html_trial_balance_equals_the_ledger,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
            let balances = f.balances().await;
            let system = f.store.system_accounts().await.unwrap();
            let accountant = f.login(ACCOUNTANT).await;
            let page = fetch(
                &f.state,
                &accountant,
                "/accounting/trial-balance?from=2025-01-01&to=2025-12-31&member=",
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let body = page.text();
            assert!(body.contains("Balance générale"));
            assert!(body.contains("@media print") || body.contains("troc.css"));
            let rows = trial_rows(&body);
            let debit_total = attr(&body, "id=\"trial-totals\"", "debit");
            let credit_total = attr(&body, "id=\"trial-totals\"", "credit");
            assert_eq!(debit_total, credit_total, "the books balance");
            assert_eq!(debit_total, rows.values().map(|r| r.1).sum::<i64>());
            let closing_sum: i64 = rows.values().map(|r| r.3).sum();
            assert_eq!(closing_sum, 0);
            let get = |account: &str, aux: &str| {
                rows.get(&(account.to_owned(), aux.to_owned()))
                    .map(|r| r.3)
                    .unwrap_or(0)
            };
            // Each member: 467100 + 468100 on its SIREN is minus its ledger balance.
            for m in [&f.alpha, &f.beta, &f.gamma] {
                let books = get("467100", &m.siren) + get("468100", &m.siren);
                assert_eq!(-books, balances[&account(m)], "{}", m.name);
            }
            // The fund on 165000 and the fees on 706xxx (this year's only: 2024 is carried).
            assert_eq!(-get("165000", ""), balances[&system.fund]);
            let fees_2024 = 100; // the 2024 sale's commission, 1,00
            assert_eq!(
                -(get("706000", "") + get("706100", "")),
                balances[&system.fees] - fees_2024
            );
            assert_eq!(-(get("110000", "") + get("119000", "")), fees_2024);
            // A member's own trial balance, from its side: its barter position is its balance.
            let owner = f.login("owner@alpha.fr").await;
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/trial-balance?from=2025-01-01&to=2025-12-31",
            )
            .await;
            assert_eq!(page.status, StatusCode::OK);
            let rows = trial_rows(&page.text());
            let position: i64 = rows
                .iter()
                .filter(|((a, _), _)| a == "467100" || a == "468100")
                .map(|(_, r)| r.3)
                .sum();
            assert_eq!(position, balances[&account(&f.alpha)]);
            let opening: i64 = rows
                .iter()
                .filter(|((a, _), _)| a == "467100" || a == "468100")
                .map(|(_, r)| r.0)
                .sum();
            assert_eq!(opening, 4_900, "the 2024 sale, net of its commission");
            // Beta's customers' auxiliary on 411100: nothing; Alpha's customer Beta: sold to it.
            assert!(rows
                .keys()
                .any(|(a, aux)| a == "411100" && aux == &f.beta.siren));
            // The same report for another member: 404; bad dates: the form again.
            let path = format!(
                "/accounting/trial-balance?from=2025-01-01&to=2025-12-31&member={}",
                f.beta.id
            );
            assert_eq!(
                fetch(&f.state, &owner, &path).await.status,
                StatusCode::NOT_FOUND
            );
            let page = fetch(
                &f.state,
                &owner,
                "/accounting/trial-balance?from=2025-12-31&to=2025-01-01",
            )
            .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            f.store.close().await;
        }
    }
);

story!(alpha_2025_summary_by_hand, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
        // Alpha in 2025, from the fixture:
        //   opening        49,00 = the 2024 sale of 50,00 less its 2 % commission (1,00)
        //   sales       1 000,00 (to Beta) + 300,00 (to Gamma) − 300,00 (reversed)
        //   purchases     200,00 (from Gamma)
        //   commissions    20,00 (2 % of 1 000,00; the reversed sale's 6,00 came back)
        //   fees           50,00 (the membership fee)
        //   fund            2,00 (1 % of its 200,00 purchase, paid by the buyer)
        //   other         100,00 (the opening balance brought in)
        //   closing       877,00 = 49 + 1 000 − 200 − 20 − 50 − 2 + 100
        let expected = [
            ("opening", 4_900),
            ("sales", 100_000),
            ("purchases", 20_000),
            ("commissions", 2_000),
            ("fees", 5_000),
            ("fund", 200),
            ("other", 10_000),
            ("closing", 87_700),
        ];
        assert_eq!(f.balance(&f.alpha).await, 87_700);
        for (email, member) in [
            (ALPHA_ACCOUNTANT, String::new()),
            ("owner@alpha.fr", f.alpha.id.to_string()),
            (ACCOUNTANT, f.alpha.id.to_string()),
            (MANAGER, f.alpha.id.to_string()),
        ] {
            let client = f.login(email).await;
            let path = format!("/accounting/summary?year=2025&member={member}");
            let page = fetch(&f.state, &client, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{email}: {}", page.text());
            let body = page.text();
            for (id, minor) in expected {
                assert_eq!(attr(&body, &format!("id=\"{id}\""), "minor"), minor, "{id}");
            }
            assert_eq!(attr(&body, "id=\"transactions\"", "count"), 6);
            assert!(body.contains("id=\"check\">OK<"));
            assert!(body.contains("877,00"));
            assert!(body.contains("Synthèse annuelle 2025"));
        }
        // 2026: nothing happened; the opening is the 2025 closing.
        let accountant = f.login(ALPHA_ACCOUNTANT).await;
        let body = fetch(&f.state, &accountant, "/accounting/summary?year=2026")
            .await
            .text();
        assert_eq!(attr(&body, "id=\"opening\"", "minor"), 87_700);
        assert_eq!(attr(&body, "id=\"sales\"", "minor"), 0);
        // Another member, a bad year, a network user without a member.
        let path = format!("/accounting/summary?year=2025&member={}", f.beta.id);
        assert_eq!(
            fetch(&f.state, &accountant, &path).await.status,
            StatusCode::NOT_FOUND
        );
        for year in ["2000", "2999"] {
            let path = format!("/accounting/summary?year={year}");
            let page = fetch(&f.state, &accountant, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{year}");
        }
        for year in ["1999", "3000", "abc", ""] {
            let page = fetch(
                &f.state,
                &accountant,
                &format!("/accounting/summary?year={year}"),
            )
            .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{year}");
            assert!(page.text().contains("Année invalide."));
        }
        let network_accountant = f.login(ACCOUNTANT).await;
        let page = fetch(
            &f.state,
            &network_accountant,
            "/accounting/summary?year=2025",
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text().contains("Choisissez un membre."));
        f.store.close().await;
    }
});

story!(
    the_member_statement_comes_from_the_export_module,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
            let accountant = f.login(ALPHA_ACCOUNTANT).await;
            let page = fetch(
                &f.state,
                &accountant,
                "/accounting/statement?from=2025-01-01&to=2025-12-31",
            )
            .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let body = page.text();
            assert_eq!(attr(&body, "id=\"opening\"", "minor"), 4_900);
            assert_eq!(
                attr(&body, "id=\"closing\"", "minor"),
                f.balance(&f.alpha).await
            );
            assert_eq!(body.matches("<tr data-tx=").count(), 6);
            // The lines add up from the opening to the closing balance.
            let lines: i64 = body
                .split("<tr data-tx=")
                .skip(1)
                .map(|piece| attr(&format!("<tr data-tx={piece}"), "<tr data-tx=", "minor"))
                .sum();
            assert_eq!(4_900 + lines, 87_700);
            assert!(
                body.contains("Beta &#38; Fils &#60;SAS&#62;"),
                "escaped names: {body}"
            );
            // The network's accountant picks a member; without one, the form says so.
            let network = f.login(ACCOUNTANT).await;
            let path = format!(
                "/accounting/statement?from=2025-01-01&to=2025-12-31&member={}",
                f.gamma.id
            );
            let page = fetch(&f.state, &network, &path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(
                attr(&page.text(), "id=\"closing\"", "minor"),
                f.balance(&f.gamma).await
            );
            let page = fetch(
                &f.state,
                &network,
                "/accounting/statement?from=2025-01-01&to=2025-12-31",
            )
            .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(page.text().contains("Choisissez un membre."));
            let path = format!(
                "/accounting/statement?from=2025-01-01&to=2025-12-31&member={}",
                f.gamma.id
            );
            assert_eq!(
                fetch(&f.state, &accountant, &path).await.status,
                StatusCode::NOT_FOUND
            );
            f.store.close().await;
        }
    }
);

story!(
    the_network_siren_is_set_by_a_manager_checked_and_logged,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Through2025, SirenSet::No).await;
            let mut manager = f.login(MANAGER).await;
            let page = manager.get("/accounting").await;
            page.assert_contains("Non renseigné");
            // Refused, with the value kept and nothing stored: bad Luhn key, 8 and 10 digits,
            // letters, empty.
            for bad in ["552100555", "55210055", "5521005540", "55210055a", ""] {
                let page = manager.post("/accounting/siren", &[("siren", bad)]).await;
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
                page.assert_contains("clé de Luhn");
                page.assert_contains(&format!("value=\"{bad}\""));
                assert_eq!(f.store.network_siren().await.unwrap(), None);
            }
            let page = manager
                .post("/accounting/siren", &[("siren", " 552100554 ")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("SIREN enregistré.");
            page.assert_contains("id=\"network-siren\">552100554<");
            assert_eq!(
                f.store.network_siren().await.unwrap().unwrap().as_str(),
                NETWORK_SIREN
            );
            manager
                .post("/accounting/siren", &[("siren", "732829320")])
                .await;
            let filter = ActionFilter {
                action: Some(SIREN_ACTION.into()),
                ..ActionFilter::default()
            };
            let logged = f.store.actions(&filter, 10).await.unwrap();
            assert_eq!(logged.len(), 2);
            assert_eq!(logged[0].actor, MANAGER);
            assert_eq!(logged[0].before["siren"], "552100554");
            assert_eq!(logged[0].after["siren"], "732829320");
            assert_eq!(logged[1].before["siren"], serde_json::Value::Null);
            // Only a manager; a form needs its CSRF token.
            for email in [
                ACCOUNTANT,
                "owner@alpha.fr",
                ALPHA_ACCOUNTANT,
                "staff@alpha.fr",
            ] {
                let mut client = f.login(email).await;
                let page = client
                    .post("/accounting/siren", &[("siren", "552100554")])
                    .await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
            }
            let page = manager
                .post(
                    "/accounting/siren",
                    &[("siren", "552100554"), ("csrf", "forged")],
                )
                .await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert_eq!(
                f.store.network_siren().await.unwrap().unwrap().as_str(),
                "732829320"
            );
            // The web's downloads and the CLI use it; the CLI's flag still overrides it.
            let download = fetch(&f.state, &manager, &export_path("fec", FY.0, FY.1, None)).await;
            assert_eq!(download.file_name(), "732829320FEC20251231.txt");
            let dir = tempfile::tempdir().unwrap();
            let command = web::export::run::ExportCommand {
                format: web::export::Format::Fec,
                from: date(2025, 1, 1),
                to: date(2025, 12, 31),
                member: None,
                out: dir.path().to_owned(),
                siren: None,
                mapping: None,
            };
            let path = web::export::run::run_export(&f.store, command.clone(), &mut Vec::new())
                .await
                .unwrap();
            assert_eq!(path, dir.path().join("732829320FEC20251231.txt"));
            let overridden = web::export::run::ExportCommand {
                siren: Some(NETWORK_SIREN.into()),
                ..command
            };
            let path = web::export::run::run_export(&f.store, overridden, &mut Vec::new())
                .await
                .unwrap();
            assert_eq!(path, dir.path().join("552100554FEC20251231.txt"));
            f.store.close().await;
        }
    }
);

story!(
    periods_are_locked_from_the_web_and_back_dating_is_then_refused,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
            let mut accountant = f.login(ACCOUNTANT).await;
            let page = accountant.get("/accounting/locks").await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Aucune période verrouillée.");
            // Bad requests redraw the form (422) and lock nothing.
            let today = web::export::calendar::day_of(Utc::now());
            let reason_at_max = "r".repeat(web::store::ACTION_REASON_LEN_MAX);
            let reason_past_max = "r".repeat(web::store::ACTION_REASON_LEN_MAX + 1);
            let today_text = today.format("%Y-%m-%d").to_string();
            for (through, reason, message) in [
                ("2025-02-30", "", "Date invalide"),
                (
                    today_text.as_str(),
                    "",
                    "On ne peut verrouiller qu&#39;une période terminée",
                ),
                (
                    "2025-12-31",
                    reason_past_max.as_str(),
                    "500 caractères au plus.",
                ),
            ] {
                let page = accountant
                    .post(
                        "/accounting/locks",
                        &[("through", through), ("reason", reason)],
                    )
                    .await;
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{through}");
                page.assert_contains(message);
                assert_eq!(f.store.locked_through().await.unwrap(), None);
            }
            // The first step asks for confirmation and locks nothing yet.
            let page = accountant
                .post(
                    "/accounting/locks",
                    &[("through", "2025-12-31"), ("reason", &reason_at_max)],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK);
            page.assert_contains("Confirmer le verrouillage");
            page.assert_contains("id=\"lock-through\">31/12/2025<");
            assert_eq!(f.store.locked_through().await.unwrap(), None);
            let page = accountant
                .post(
                    "/accounting/locks/confirm",
                    &[("through", "2025-12-31"), ("reason", &reason_at_max)],
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.assert_contains("Période verrouillée.");
            page.assert_contains("31/12/2025");
            assert_eq!(
                f.store.locked_through().await.unwrap(),
                Some(date(2025, 12, 31))
            );
            let filter = ActionFilter {
                action: Some(LOCK_ACTION.into()),
                ..ActionFilter::default()
            };
            let logged = f.store.actions(&filter, 10).await.unwrap();
            assert_eq!(logged.len(), 1);
            assert_eq!(logged[0].actor, ACCOUNTANT);
            assert_eq!(logged[0].reason, reason_at_max);
            assert_eq!(logged[0].after["locked_through"], "2025-12-31");
            // A lock that does not move forward is refused, with the last locked day.
            let page = accountant
                .post("/accounting/locks/confirm", &[("through", "2025-06-30")])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("déjà verrouillée jusqu&#39;au 31/12/2025");
            // Now a back-dated payment is refused by the ledger (period_locked), and nothing
            // changes; the web says why in the user's language. The last minute of 2025 in
            // Paris is 22:59 UTC.
            let before = f.balances().await;
            let answer = f
                .store
                .submit(
                    Submission::new(key("late"), pay(&f.beta, &f.alpha, 10))
                        .at(at(2025, 12, 31, 22) + Duration::minutes(59)),
                )
                .await
                .unwrap();
            let Err(rejection) = answer else {
                panic!("accepted: {answer:?}")
            };
            assert_eq!(rejection.code(), "period_locked");
            assert_eq!(
                rejection,
                Rejection::PeriodLocked {
                    through: date(2025, 12, 31)
                }
            );
            assert_eq!(f.balances().await, before);
            let t = web::http::i18n::Tr {
                lang: web::http::i18n::Lang::Fr,
            };
            assert!(t
                .rejection(&rejection)
                .contains("verrouillée jusqu'au 31/12/2025"));
            // The day after is open (from 23:00 UTC); the FEC of 2025 can now be downloaded.
            f.store
                .submit(
                    Submission::new(key("on-time"), pay(&f.beta, &f.alpha, 10))
                        .at(at(2025, 12, 31, 23)),
                )
                .await
                .unwrap()
                .unwrap();
            let fec = fetch(&f.state, &accountant, &export_path("fec", FY.0, FY.1, None)).await;
            assert_eq!(fec.status, StatusCode::OK);
            // Managers lock too; members and their accountants do not.
            let manager = f.login(MANAGER).await;
            assert_eq!(
                fetch(&f.state, &manager, "/accounting/locks").await.status,
                StatusCode::OK
            );
            for email in ["owner@alpha.fr", ALPHA_ACCOUNTANT, "staff@alpha.fr"] {
                let mut client = f.login(email).await;
                assert_eq!(
                    fetch(&f.state, &client, "/accounting/locks").await.status,
                    StatusCode::FORBIDDEN,
                    "{email}"
                );
                client.get("/account").await;
                for path in ["/accounting/locks", "/accounting/locks/confirm"] {
                    let page = client.post(path, &[("through", "2026-01-01")]).await;
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{email} {path}");
                }
            }
            assert_eq!(
                f.store.locked_through().await.unwrap(),
                Some(date(2025, 12, 31))
            );
            f.store.close().await;
        }
    }
);

story!(
    the_locks_page_lists_the_last_hundred,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let f = fixture(&url, Locked::Nothing, SirenSet::Yes).await;
            let max = web::http::accounting::LOCKS_LISTED_MAX;
            let first = date(2020, 1, 1);
            for i in 0..max as i64 {
                f.store
                    .lock_period(first + Duration::days(i), "comptable", Utc::now())
                    .await
                    .unwrap();
            }
            let manager = f.login(MANAGER).await;
            let body = fetch(&f.state, &manager, "/accounting/locks").await.text();
            let table = &body[body.find("id=\"locks\"").unwrap()..];
            assert_eq!(table.matches("<tr><td>").count(), max);
            assert!(!body.contains("(+"));
            f.store
                .lock_period(first + Duration::days(max as i64), "comptable", Utc::now())
                .await
                .unwrap();
            let body = fetch(&f.state, &manager, "/accounting/locks").await.text();
            let table = &body[body.find("id=\"locks\"").unwrap()..];
            assert_eq!(table.matches("<tr><td>").count(), max);
            assert!(body.contains("(+1)"));
            // Newest first: the last lock heads the list, the first one is not shown.
            let newest = (first + Duration::days(max as i64))
                .format("%d/%m/%Y")
                .to_string();
            assert!(table.find(&newest).unwrap() < table.find("<tr><td>").unwrap() + 20);
            assert!(!table.contains("01/01/2020"));
            f.store.close().await;
        }
    }
);
