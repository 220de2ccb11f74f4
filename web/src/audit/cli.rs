//! The audit commands of the `troc` binary (`verify`, `checkpoint`, `keys`, `export audit`).
//! A failed check is an error whose message names the first broken link (non-zero exit).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Args, Subcommand};

use super::key_file::{default_key_file, load_key, load_or_create_key, PendingKey};
use crate::store::Store;

#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// The network's signing key file (default: network-key.ed25519 next to the SQLite
    /// file, or data/network-key.ed25519).
    #[arg(long, env = "TROC_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

impl KeyArgs {
    pub fn key_file(&self, database_url: &str) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| default_key_file(database_url))
    }
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Verify an audit bundle offline instead of the database (no database is opened).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Replace the network signing key; older public keys stay to verify old checkpoints.
    Rotate(KeyArgs),
    /// Print the network's public key (creating the key on first use).
    Show(KeyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportAuditArgs {
    /// First day (UTC) of the period, e.g. 2026-01-01.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (UTC) of the period, included.
    #[arg(long)]
    pub to: NaiveDate,
    /// The directory to write the bundle into (created; must be empty).
    #[arg(long)]
    pub out: PathBuf,
}

/// `troc verify --bundle DIR`: exit 0 when the bundle holds, 1 naming the first problem.
pub fn verify_bundle(dir: &Path) -> ExitCode {
    match super::bundle::verify_bundle(dir) {
        Ok(s) => {
            println!(
                "OK: bundle holds {} transactions (seq {}..={}), {} checkpoints verified, {} \
                 signed payments; its end is {}",
                s.transactions,
                s.first_seq,
                s.last_seq,
                s.checkpoints,
                s.signed_payments,
                if s.end_signed {
                    "covered by a signed checkpoint"
                } else {
                    "NOT yet covered by a signed checkpoint"
                }
            );
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("troc: BROKEN: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// `troc verify`: the whole database.
pub async fn verify(store: &Store) -> anyhow::Result<()> {
    let result = store.verify_ledger().await?;
    store.close().await;
    match result {
        Ok(s) => {
            println!(
                "OK: {} transactions, head {}, {} checkpoints, {} signed payments, {} accounts",
                s.transactions, s.head, s.checkpoints, s.signed_payments, s.accounts
            );
            Ok(())
        }
        Err(broken) => anyhow::bail!("BROKEN: {broken}"),
    }
}

/// `troc checkpoint`: sign the current head now (creating the key on first start).
pub async fn checkpoint(store: &Store, database_url: &str, args: &KeyArgs) -> anyhow::Result<()> {
    let path = args.key_file(database_url);
    let (key, created) = load_or_create_key(&path)?;
    if created {
        eprintln!("created the network key {}", path.display());
    }
    let signed = store.create_checkpoint(&key, Utc::now()).await;
    store.close().await;
    match signed? {
        Some(c) => println!(
            "checkpoint seq {} head {} signed by {}",
            c.checkpoint.seq, c.checkpoint.head, c.checkpoint.public_key
        ),
        None => println!("nothing new since the last checkpoint"),
    }
    Ok(())
}

/// `troc keys rotate|show`.
pub async fn keys(store: &Store, database_url: &str, command: KeysCommand) -> anyhow::Result<()> {
    let result = match command {
        KeysCommand::Show(args) => {
            let (key, _) = load_or_create_key(&args.key_file(database_url))?;
            store.ensure_network_key(&key).await?;
            println!("{}", ledger::audit::public_key_hex(&key));
            Ok(())
        }
        KeysCommand::Rotate(args) => rotate(store, &args.key_file(database_url)).await,
    };
    store.close().await;
    result
}

async fn rotate(store: &Store, path: &Path) -> anyhow::Result<()> {
    let old = load_key(path)?;
    // The old key signs everything up to now before it retires.
    store.create_checkpoint(&old, Utc::now()).await?;
    let pending = PendingKey::generate(path)?;
    store.rotate_network_key(&old, pending.key()).await?;
    let new = pending.install()?;
    println!(
        "rotated: {} retired, {} active",
        ledger::audit::public_key_hex(&old),
        ledger::audit::public_key_hex(&new)
    );
    Ok(())
}

/// `troc export audit --from DAY --to DAY --out DIR`.
pub async fn export_audit(store: &Store, args: &ExportAuditArgs) -> anyhow::Result<()> {
    let midnight =
        |day: NaiveDate| Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"));
    let to = args
        .to
        .succ_opt()
        .ok_or_else(|| anyhow::anyhow!("--to is out of range"))?;
    let result = super::bundle::export(store, midnight(args.from), midnight(to), &args.out).await;
    store.close().await;
    let m = result?;
    println!(
        "exported {} transactions (seq {}..={}) to {}",
        m.transactions,
        m.first_seq,
        m.last_seq,
        args.out.display()
    );
    Ok(())
}
