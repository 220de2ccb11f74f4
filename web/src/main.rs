//! The `troc` binary. Until the storage and web issues land it only says so, honestly.

use clap::{Parser, Subcommand};

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
    }
}
