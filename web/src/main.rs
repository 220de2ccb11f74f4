//! The `troc` binary. Until the storage and web issues land it only says so, honestly.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use web::export::run::{run_export, ExportCommand};
use web::export::{CsvOptions, Format};

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
    /// Export the ledger for an accountant: the network's books, or one member's.
    Export {
        format: FormatArg,
        /// First day of the period (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: NaiveDate,
        /// Last day of the period, included.
        #[arg(long)]
        to: NaiveDate,
        /// A member account id: export that member's books (OFX needs one).
        #[arg(long)]
        member: Option<u64>,
        /// The output file, or an existing directory (the file is then named after the
        /// books, e.g. `<SIREN>FEC<AAAAMMJJ>.txt`).
        #[arg(long)]
        out: PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = web::store::DATABASE_URL_DEFAULT)]
        database_url: String,
        /// The network operator's SIREN (9 digits).
        #[arg(long, env = "TROC_NETWORK_SIREN")]
        siren: String,
        /// A JSON account mapping (see docs/exports.md); French PCG defaults otherwise.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// CSV dates and decimals: `french` (31/12/2025, 1234,50) or `iso` (2025-12-31, 1234.50).
        #[arg(long, value_enum, default_value_t = CsvStyle::French)]
        csv_style: CsvStyle,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Fec,
    Hledger,
    Beancount,
    Csv,
    Ofx,
}

#[derive(Clone, Copy, ValueEnum)]
enum CsvStyle {
    French,
    Iso,
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
        Command::Export {
            format,
            from,
            to,
            member,
            out,
            database_url,
            siren,
            mapping,
            csv_style,
        } => {
            let format = match format {
                FormatArg::Fec => Format::Fec,
                FormatArg::Hledger => Format::Hledger,
                FormatArg::Beancount => Format::Beancount,
                FormatArg::Ofx => Format::Ofx,
                FormatArg::Csv => Format::Csv(match csv_style {
                    CsvStyle::French => CsvOptions::FRENCH,
                    CsvStyle::Iso => CsvOptions::ISO,
                }),
            };
            let command = ExportCommand {
                format,
                from,
                to,
                member,
                out,
                database_url,
                siren,
                mapping,
            };
            let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
            match runtime.block_on(run_export(command, &mut std::io::stderr())) {
                Ok(_) => std::process::ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("troc export: {error}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}
