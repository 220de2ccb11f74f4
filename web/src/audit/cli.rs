//! The audit commands of the `troc` binary. Exit codes: 0 all holds, 1 a check failed (the
//! message names the first broken link), 2 the command could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Args, Subcommand};

use super::key_file::{default_key_file, load_key, load_or_create_key, PendingKey};
use crate::store::{Store, DATABASE_URL_DEFAULT};

/// The database the command works on. Not a flag of its own: `main` fills it from the
/// binary's global `--database-url` / `TROC_DATABASE_URL`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    #[arg(skip = DATABASE_URL_DEFAULT.to_owned())]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The network's signing key file (default: network-key.ed25519 next to the SQLite
    /// file, or data/network-key.ed25519).
    #[arg(long, env = "TROC_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

impl KeyArgs {
    fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| default_key_file(&self.database.database_url))
    }
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Verify an audit bundle offline instead of the database.
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
    #[command(flatten)]
    pub database: DatabaseArgs,
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn failed(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("troc: {message}");
    ExitCode::from(2)
}

/// `troc verify [--database-url URL] [--bundle DIR]`.
pub fn verify(args: VerifyArgs) -> ExitCode {
    if let Some(dir) = args.bundle {
        return match super::bundle::verify_bundle(&dir) {
            Ok(s) => {
                println!(
                    "OK: bundle holds {} transactions (seq {}..={}), {} checkpoints verified, \
                     {} signed payments; end {}",
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
                println!("BROKEN: {problem}");
                ExitCode::FAILURE
            }
        };
    }
    runtime().block_on(async {
        let store = match Store::connect(&args.database.database_url).await {
            Ok(store) => store,
            Err(e) => return failed(e),
        };
        let code = match store.verify_ledger().await {
            Ok(Ok(s)) => {
                println!(
                    "OK: {} transactions, head {}, {} checkpoints, {} signed payments, {} \
                     accounts",
                    s.transactions, s.head, s.checkpoints, s.signed_payments, s.accounts
                );
                ExitCode::SUCCESS
            }
            Ok(Err(broken)) => {
                println!("BROKEN: {broken}");
                ExitCode::FAILURE
            }
            Err(e) => failed(e),
        };
        store.close().await;
        code
    })
}

/// `troc checkpoint`: sign the current head now.
pub fn checkpoint(args: KeyArgs) -> ExitCode {
    let path = args.key_file();
    let key = match load_or_create_key(&path) {
        Ok((key, created)) => {
            if created {
                eprintln!("created the network key {}", path.display());
            }
            key
        }
        Err(e) => return failed(e),
    };
    runtime().block_on(async {
        let store = match Store::connect(&args.database.database_url).await {
            Ok(store) => store,
            Err(e) => return failed(e),
        };
        let code = match store.create_checkpoint(&key, Utc::now()).await {
            Ok(Some(c)) => {
                println!(
                    "checkpoint seq {} head {} signed by {}",
                    c.checkpoint.seq, c.checkpoint.head, c.checkpoint.public_key
                );
                ExitCode::SUCCESS
            }
            Ok(None) => {
                println!("nothing new since the last checkpoint");
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        };
        store.close().await;
        code
    })
}

/// `troc keys rotate|show`.
pub fn keys(command: KeysCommand) -> ExitCode {
    match command {
        KeysCommand::Show(args) => match load_or_create_key(&args.key_file()) {
            Ok((key, _)) => {
                println!("{}", ledger::audit::public_key_hex(&key));
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
        KeysCommand::Rotate(args) => {
            let path = args.key_file();
            let old = match load_key(&path) {
                Ok(key) => key,
                Err(e) => return failed(e),
            };
            runtime().block_on(async {
                let store = match Store::connect(&args.database.database_url).await {
                    Ok(store) => store,
                    Err(e) => return failed(e),
                };
                let code = async {
                    // The old key signs everything up to now before it retires.
                    store.create_checkpoint(&old, Utc::now()).await?;
                    let pending = PendingKey::generate(&path)
                        .map_err(|e| crate::store::StoreError::Invalid(e.to_string()))?;
                    store.rotate_network_key(&old, pending.key()).await?;
                    let new = pending
                        .install()
                        .map_err(|e| crate::store::StoreError::Invalid(e.to_string()))?;
                    println!(
                        "rotated: {} retired, {} active",
                        ledger::audit::public_key_hex(&old),
                        ledger::audit::public_key_hex(&new)
                    );
                    Ok::<_, crate::store::StoreError>(())
                }
                .await;
                store.close().await;
                match code {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => failed(e),
                }
            })
        }
    }
}

/// `troc export audit --from DAY --to DAY --out DIR`.
pub fn export_audit(args: ExportAuditArgs) -> ExitCode {
    let from = Utc.from_utc_datetime(&args.from.and_hms_opt(0, 0, 0).expect("midnight"));
    let Some(to_day) = args.to.succ_opt() else {
        return failed("--to is out of range");
    };
    let to = Utc.from_utc_datetime(&to_day.and_hms_opt(0, 0, 0).expect("midnight"));
    runtime().block_on(async {
        let store = match Store::connect(&args.database.database_url).await {
            Ok(store) => store,
            Err(e) => return failed(e),
        };
        let result = super::bundle::export(&store, from, to, &args.out).await;
        store.close().await;
        match result {
            Ok(m) => {
                println!(
                    "exported {} transactions (seq {}..={}) to {}",
                    m.transactions,
                    m.first_seq,
                    m.last_seq,
                    args.out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        }
    })
}
