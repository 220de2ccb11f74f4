//! The `troc` binary. Until the storage and web issues land it only says so, honestly.

use clap::{Parser, Subcommand};
use web::audit::cli as audit;

#[derive(Parser)]
#[command(
    name = "troc",
    version,
    about = "Troc: a mutual-credit ledger for barter networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web site and API (not built yet).
    Serve {
        /// Seed a demo network when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Check the hash chain, checkpoints, payer signatures and balances (or a bundle).
    Verify(audit::VerifyArgs),
    /// Sign a checkpoint of the chain's head now.
    Checkpoint(audit::KeyArgs),
    /// The network's signing key.
    Keys {
        #[command(subcommand)]
        command: audit::KeysCommand,
    },
    /// Export data.
    Export {
        #[command(subcommand)]
        what: Export,
    },
}

#[derive(Subcommand)]
enum Export {
    /// A self-contained audit bundle, verifiable offline with `troc verify --bundle`.
    Audit(audit::ExportAuditArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { .. } => {
            eprintln!(
                "troc {}: the server is not built yet. The ledger core works \
                 (see README.md, `cargo test -p ledger`); storage and the web front are next.",
                env!("CARGO_PKG_VERSION")
            );
            std::process::ExitCode::FAILURE
        }
        Command::Verify(args) => audit::verify(args),
        Command::Checkpoint(args) => audit::checkpoint(args),
        Command::Keys { command } => audit::keys(command),
        Command::Export {
            what: Export::Audit(args),
        } => audit::export_audit(args),
    }
}
