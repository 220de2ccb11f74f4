//! Export memory and speed at scale (run by hand, not in CI; figures in docs/performance.md).
//!
//! ```text
//! cargo run --release -p web --example export_memory -- seed sqlite:///tmp/troc-export.db 1000000
//! cargo run --release -p web --example export_memory -- export sqlite:///tmp/troc-export.db fec
//! ```
//! cargo run --release -p web --example export_memory -- download sqlite:///tmp/troc-export.db fec
//! ```
//! `download` streams the same export as the web's download button does
//! (`export::download::download`: a spawned export feeding an HTTP body through a bounded
//! channel) and reads the body as a client would, slowly (a pause every 16 chunks), so
//! the export has to wait for it.
//!
//! ```text
//! `seed` writes payments (6 postings each: principal, commission, fund contribution) dated
//! through 2025 until the ledger holds at least the requested number of postings, and locks
//! 2025. `export` streams the 2025 export of the whole network to a sink and prints the time,
//! the postings per second and the process's peak resident memory (VmHWM): run it on
//! databases of different sizes to see that the peak does not grow with the postings.

use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use ledger::{Amount, FeePolicy, FundPayer, IdempotencyKey, Operation, Policy};
use web::export::{AccountMapping, CsvOptions, ExportHeader, Format, Period, Scope, Siren};
use web::store::{Store, Submission, SUBMISSIONS_PER_CALL_MAX};

const MEMBERS: usize = 200;
const POSTINGS_PER_PAYMENT: u64 = 6;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn seed(store: &Store, postings: u64) -> anyhow::Result<()> {
    let policy = Policy {
        fees: FeePolicy::new(500, Amount::ZERO, 100, FundPayer::Buyer)?,
        ..Policy::default()
    };
    store.create_network("Réseau volume", policy).await?;
    let mut members = Vec::with_capacity(MEMBERS);
    for _ in 0..MEMBERS {
        members.push(
            store
                .open_account(Amount::from_units(1_000_000_000), None)
                .await?
                .id(),
        );
    }
    let payments = postings.div_ceil(POSTINGS_PER_PAYMENT);
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let step =
        Duration::seconds(365 * 86_400 / payments.max(1) as i64).max(Duration::milliseconds(1));
    let began = Instant::now();
    let mut batch = Vec::with_capacity(SUBMISSIONS_PER_CALL_MAX);
    for i in 0..payments {
        let payer = members[(i as usize) % MEMBERS];
        let payee = members[(i as usize * 7 + 1) % MEMBERS];
        let payee = if payee == payer {
            members[(i as usize + 1) % MEMBERS]
        } else {
            payee
        };
        let op = Operation::Payment {
            payer,
            payee,
            amount: Amount::from_minor(1_000 + (i % 10_000) as i64),
            reference: format!("FA-{i}"),
            memo: "volume".into(),
        };
        let time = start + step * i as i32;
        batch.push(Submission::new(IdempotencyKey::new(format!("vol-{i}"))?, op).at(time));
        if batch.len() == SUBMISSIONS_PER_CALL_MAX || i + 1 == payments {
            for answer in store.submit_batch(std::mem::take(&mut batch)).await? {
                answer??;
            }
        }
    }
    store
        .lock_period(
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            "bench",
            Utc::now(),
        )
        .await?;
    println!(
        "seeded {payments} payments ({} postings) in {:.1} s",
        payments * POSTINGS_PER_PAYMENT,
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn export(store: &Store, format: Format) -> anyhow::Result<()> {
    let directory = store.export_directory().await?;
    let header = ExportHeader::new(
        Siren::new("552100554")?,
        "Réseau volume",
        Period::new(
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        )?,
        Scope::Network,
        store.period_locks().await?,
        Utc::now(),
    )?;
    let before = peak_rss_kib();
    let began = Instant::now();
    let (_, summary) = store
        .export(
            header,
            &AccountMapping::default(),
            format,
            &directory,
            std::io::sink(),
            |_| {},
        )
        .await?;
    let seconds = began.elapsed().as_secs_f64();
    let postings = summary.transactions * POSTINGS_PER_PAYMENT;
    println!(
        "exported {} transactions ({postings} postings, {} lines) in {seconds:.1} s: {:.0} postings/s; \
         peak RSS {} MiB before the export, {} MiB after",
        summary.transactions,
        summary.lines,
        postings as f64 / seconds,
        before / 1024,
        peak_rss_kib() / 1024
    );
    Ok(())
}

async fn download(store: &Store, format: Format) -> anyhow::Result<()> {
    use http_body_util::BodyExt;
    use web::export::download::{self, Books, DownloadLimiter, DownloadRequest};
    if store.network_siren().await?.is_none() {
        let note = web::store::ActionNote::new(None, "bench", web::store::SIREN_ACTION, "")?;
        store
            .set_network_siren(&Siren::new("552100554")?, note)
            .await?;
    }
    let request = DownloadRequest {
        format,
        books: Books::Network,
        period: Period::new(
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        )?,
    };
    let before = peak_rss_kib();
    let began = Instant::now();
    let limiter = DownloadLimiter::default();
    let started = download::download(store, &limiter, request).await?;
    let mut body = started.body;
    let (mut chunks, mut bytes) = (0u64, 0u64);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Ok(data) = frame.into_data() {
            chunks += 1;
            bytes += data.len() as u64;
            if chunks % 16 == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    println!(
        "downloaded {} ({bytes} bytes in {chunks} chunks) in {:.1} s; peak RSS {} MiB before, {} MiB after",
        started.file_name,
        began.elapsed().as_secs_f64(),
        before / 1024,
        peak_rss_kib() / 1024
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "sqlite:///tmp/troc-export.db".into());
    let store = Store::connect(&url).await?;
    match args.get(1).map(String::as_str) {
        Some("seed") => {
            let postings = args
                .get(3)
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000);
            seed(&store, postings).await?;
        }
        Some(mode @ ("export" | "download")) => {
            let format = match args.get(3).map(String::as_str) {
                Some("hledger") => Format::Hledger,
                Some("beancount") => Format::Beancount,
                Some("csv") => Format::Csv(CsvOptions::FRENCH),
                _ => Format::Fec,
            };
            if mode == "export" {
                export(&store, format).await?;
            } else {
                download(&store, format).await?;
            }
        }
        _ => anyhow::bail!(
            "usage: export_memory seed URL [POSTINGS] | export|download URL [fec|hledger|beancount|csv]"
        ),
    }
    store.close().await;
    Ok(())
}
