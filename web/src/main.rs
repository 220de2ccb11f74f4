//! The `troc` binary: a thin command line over the `web` library.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use web::export::run::{run_export, ExportCommand};
use web::export::{CsvOptions, Format};
use web::http::{AppState, Config, CookieSecurity};
use web::people::{self, Role};
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
    /// Serve the web site.
    Serve {
        /// Seed a demo network when the database is empty.
        #[arg(long)]
        demo: bool,
        /// Address to listen on.
        #[arg(long, env = "TROC_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Mark cookies `Secure` (set when the site is served over HTTPS).
        #[arg(long, env = "TROC_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The public URL of the site, used in invitation links (default: http://ADDR).
        #[arg(long, env = "TROC_BASE_URL")]
        base_url: Option<String>,
    },
    /// Administration commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
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
    /// Export the ledger for an accountant: the network's books, or one member's.
    Export {
        format: FormatArg,
        /// First day of the period (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: NaiveDate,
        /// Last day of the period, included.
        #[arg(long)]
        to: NaiveDate,
        /// A member (its SIREN, or its account id): export that member's books (OFX needs
        /// one). Without it, the network's books.
        #[arg(long)]
        member: Option<String>,
        /// The output file, or an existing directory (the file is then named after the
        /// books, e.g. `<SIREN>FEC<AAAAMMJJ>.txt`).
        #[arg(long)]
        out: PathBuf,
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

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a network manager; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// The name shown in the interface (default: the email).
        #[arg(long)]
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TROC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        // Logs go to standard error: standard output carries results (`troc load` prints
        // acknowledgements there, `troc bench --json` its figures).
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("troc: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("troc: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url).await?;
    match cli.command {
        Command::Serve {
            demo,
            addr,
            secure_cookies,
            base_url,
        } => {
            let security = if secure_cookies {
                CookieSecurity::Secure
            } else {
                CookieSecurity::Plain
            };
            let base_url = base_url.unwrap_or_else(|| format!("http://{addr}"));
            let state = AppState::new(store.clone(), Config::new(security, &base_url));
            if demo {
                web::demo::seed_if_empty(&state, &base_url).await?;
            }
            println!("Troc is listening on {base_url}");
            web::http::serve(state, addr).await?;
            store.close().await;
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            let email = people::normalize_email(&email);
            anyhow::ensure!(people::email_is_valid(&email), "invalid email {email:?}");
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(
                password.chars().count() >= people::PASSWORD_LEN_MIN
                    && password.len() <= people::PASSWORD_LEN_MAX,
                "the password (read from standard input) must have {} to {} characters",
                people::PASSWORD_LEN_MIN,
                people::PASSWORD_LEN_MAX
            );
            let name = name.unwrap_or_else(|| email.clone());
            let created =
                people::create_user(&store, &email, password, &name, Role::Manager, None).await?;
            store.close().await;
            match created {
                Some(id) => {
                    println!("network manager {email} created (user {id})");
                    Ok(())
                }
                None => anyhow::bail!("a user with the email {email} already exists"),
            }
        }
        Command::Migrate => {
            println!("migrations applied ({})", store.kind().as_str());
            store.close().await;
            Ok(())
        }
        Command::Load {
            accounts,
            submitters,
            payments,
            prefix,
        } => {
            web::store::load::run(&store, accounts, submitters, payments, &prefix).await?;
            store.close().await;
            Ok(())
        }
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
            store.close().await;
            Ok(())
        }
        Command::Export {
            format,
            from,
            to,
            member,
            out,
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
                siren,
                mapping,
            };
            let result = run_export(&store, command, &mut std::io::stderr()).await;
            store.close().await;
            result.map(|_| ())
        }
    }
}
