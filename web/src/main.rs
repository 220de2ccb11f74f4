//! The `troc` binary: a thin command line over the `web` library.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use web::http::{AppState, Config, CookieSecurity};
use web::people::{self, Role};
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
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
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
            if store.network_name().await?.is_none() {
                // A fresh installation: an empty network with no fees until a manager sets
                // the rules.
                store
                    .create_network("Troc", ledger::Policy::default())
                    .await?;
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
    }
}
