//! The `troc` binary: a thin shell over the `web` library.

use clap::{Parser, Subcommand};
use web::store::bench::{self, Scenario};
use web::store::{Store, DATABASE_URL_DEFAULT};

#[derive(Parser)]
#[command(
    name = "troc",
    version,
    about = "Troc: a mutual-credit ledger for barter networks"
)]
struct Cli {
    /// The database: sqlite://PATH (created on first run) or postgres://...
    #[arg(long, global = true, env = "TROC_DATABASE_URL", default_value = DATABASE_URL_DEFAULT)]
    database_url: String,
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
    /// Apply pending database migrations and exit.
    Migrate,
    /// Measure durable payments per second and the dashboard read (see docs/performance.md).
    /// Writes only to an empty database or to its own scratch network.
    Bench {
        /// Seconds per payment case.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent submitters, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 64])]
        submitters: Vec<usize>,
        /// Scenarios, comma-separated: uniform, hot_account, dashboard.
        #[arg(long, value_delimiter = ',', default_values_t = ["uniform".to_owned(), "hot_account".to_owned(), "dashboard".to_owned()])]
        scenarios: Vec<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Random payments that print each acknowledgement (the crash-safety tests use it).
    #[command(hide = true)]
    Load {
        #[arg(long, default_value_t = 20)]
        accounts: usize,
        #[arg(long, default_value_t = 8)]
        submitters: usize,
        /// Payments per submitter.
        #[arg(long, default_value_t = 1_000)]
        payments: usize,
        /// Prefix of the idempotency keys (one per run).
        #[arg(long)]
        prefix: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TROC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Command::Serve { .. } = cli.command {
        eprintln!(
            "troc {}: the server is not built yet. The ledger core and the store work \
             (see README.md, `cargo test`); the web front is next.",
            env!("CARGO_PKG_VERSION")
        );
        return std::process::ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("troc: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url).await?;
    match cli.command {
        Command::Serve { .. } => unreachable!("handled before the runtime starts"),
        Command::Migrate => println!("migrations applied ({})", store.kind().as_str()),
        Command::Load {
            accounts,
            submitters,
            payments,
            prefix,
        } => web::store::load::run(&store, accounts, submitters, payments, &prefix).await?,
        Command::Bench {
            seconds,
            submitters,
            scenarios,
            json,
        } => {
            let scenarios = scenarios
                .iter()
                .map(|s| {
                    Scenario::parse(s).ok_or_else(|| anyhow::anyhow!("unknown scenario {s:?}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if !json {
                println!(
                    "{:<9} {:<12} {:>10} {:>16} {:>9}",
                    "backend", "scenario", "submitters", "payments/s", "p99 ms"
                );
            }
            for scenario in scenarios {
                if scenario == Scenario::Dashboard {
                    let result = bench::dashboard(&store).await?;
                    if json {
                        println!("{}", serde_json::to_string(&result)?);
                    } else {
                        println!(
                            "{:<9} {:<12} {} postings: {} reads/s, p50 {} ms, p99 {} ms",
                            result.backend,
                            result.scenario,
                            result.postings,
                            result.reads_per_sec,
                            result.p50_ms,
                            result.p99_ms
                        );
                    }
                    continue;
                }
                for &count in &submitters {
                    let result = bench::payments(&store, scenario, count, seconds).await?;
                    if json {
                        println!("{}", serde_json::to_string(&result)?);
                    } else {
                        println!(
                            "{:<9} {:<12} {:>10} {:>16} {:>9}",
                            result.backend,
                            result.scenario,
                            result.submitters,
                            result.payments_per_sec,
                            result.p99_ms
                        );
                    }
                }
            }
        }
    }
    store.close().await;
    Ok(())
}
