//! The `troc` binary: a thin command line over the `web` library.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use web::audit::cli as audit;
use web::export::run::{run_export, ExportCommand};
use web::export::{CsvOptions, Format};
use web::http::{AppState, Config, CookieSecurity, OpenData};
use web::people::{self, Role};
use web::store::bench::{self, Scenario};
use web::store::{Store, DATABASE_URL_DEFAULT};

/// mimalloc instead of the system allocator: a request allocates many small short-lived
/// values across tokio's worker threads (docs/performance.md, "Eighth HTTP run").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// A TOML file of settings (keys: the TROC_* variables' names without the prefix, in
    /// lower case). Flags win over the environment, which wins over the file.
    #[arg(long, global = true, env = "TROC_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    writes: WriteArgs,
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
        /// Publish the anonymous open-data page at /open-data (off by default).
        #[arg(long, env = "TROC_OPEN_DATA")]
        open_data: bool,
        #[command(flatten)]
        key: audit::KeyArgs,
        /// Sign a checkpoint after this many transactions (docs/audit.md).
        #[arg(long, env = "TROC_CHECKPOINT_EVERY", default_value_t = web::audit::CHECKPOINT_EVERY_DEFAULT)]
        checkpoint_every: u64,
        /// Where members' webhooks may point: `public` (HTTPS to public addresses) or `any`
        /// (also plain HTTP and private addresses: members' servers on the operator's own
        /// network).
        #[arg(long, env = "TROC_WEBHOOK_TARGETS", value_enum, default_value_t = web::webhooks::Targets::Public)]
        webhook_targets: web::webhooks::Targets,
        /// The SMTP relay that sends e-mail (password reset links, invitations):
        /// `smtps://USER:PASSWORD@HOST:465`, `smtp://HOST:587?tls=required` (STARTTLS) or
        /// `smtp://HOST:25` (unencrypted, a relay on the same machine). Unset: no e-mail.
        #[arg(long, env = "TROC_SMTP_URL", requires = "mail_from")]
        smtp_url: Option<String>,
        /// The sender of the e-mails, `Name <address>` or an address.
        #[arg(long, env = "TROC_MAIL_FROM", requires = "smtp_url")]
        mail_from: Option<String>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Administration commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// API tokens (docs/api.md).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the effective settings and where each comes from (secrets masked).
    Config,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Take a consistent online backup of the live SQLite database into a new file.
    Backup {
        /// The backup file to create (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup file as the SQLite database (stop the server first).
    Restore {
        /// The backup file, checked before anything is replaced.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Copy a whole network from SQLite into a new, empty PostgreSQL database, then check the
    /// copy (row counts and digests per table, invariants, hash chain). Stop the server first.
    MigrateData {
        /// The source: sqlite://PATH.
        #[arg(long)]
        from: String,
        /// The target: postgres://... (an empty database).
        #[arg(long)]
        to: String,
    },
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
    /// Check the hash chain, checkpoints, payer signatures and balances (or a bundle).
    Verify(audit::VerifyArgs),
    /// Sign a checkpoint of the chain's head now.
    Checkpoint(audit::KeyArgs),
    /// The network's signing key.
    Keys {
        #[command(subcommand)]
        command: audit::KeysCommand,
    },
    /// A member's signed payment orders: make a key, sign an order (opens no database).
    Order {
        #[command(subcommand)]
        command: web::audit::orders::OrderCommand,
    },
    /// Export data: the accountant's files (fec, hledger, beancount, csv, ofx) or an audit
    /// bundle.
    Export {
        #[command(subcommand)]
        what: Export,
    },
}

/// Rate limits, trusted proxies and the shutdown grace period of `troc serve`
/// (docs/operations.md).
#[derive(Args)]
struct LimitArgs {
    /// Login attempts per client IP: COUNT/WINDOW (20/1m, 5/15m, 100/30s, 1000/1h) or off.
    #[arg(long, env = "TROC_RATE_LIMIT_LOGIN", default_value = "20/1m")]
    rate_limit_login: web::http::limits::RateLimit,
    /// Requests that move money (pay, accept a request, order, deliver, cancel) per client
    /// IP: COUNT/WINDOW or off.
    #[arg(long, env = "TROC_RATE_LIMIT_PAYMENTS", default_value = "60/1m")]
    rate_limit_payments: web::http::limits::RateLimit,
    /// Payments through the JSON API per token: COUNT/WINDOW or off.
    #[arg(long, env = "TROC_RATE_LIMIT_API_PAYMENTS", default_value = "120/1m")]
    rate_limit_api_payments: web::http::limits::RateLimit,
    /// Reverse proxies whose X-Forwarded-For is believed (addresses or networks,
    /// comma-separated: 127.0.0.1,::1,10.0.0.0/8). Empty: the header is ignored.
    #[arg(long, env = "TROC_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: web::http::limits::TrustedProxies,
    /// After SIGTERM, seconds that requests in flight may take before the server stops.
    #[arg(long, env = "TROC_SHUTDOWN_GRACE_SECONDS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    shutdown_grace_seconds: u64,
}

/// The group-commit writer's settings (docs/storage.md, "Group commit").
#[derive(Args)]
struct WriteArgs {
    /// Group commit: most operations in one write batch.
    #[arg(long, global = true, env = "TROC_BATCH_OPS_MAX", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=web::store::BATCH_OPS_MAX_LIMIT as u64))]
    batch_ops_max: u64,
    /// Group commit: longest wait, in milliseconds, for a batch to fill.
    #[arg(long, global = true, env = "TROC_BATCH_WAIT_MS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=web::store::BATCH_WAIT_MAX_LIMIT.as_millis() as u64))]
    batch_wait_ms: u64,
}

impl WriteArgs {
    fn options(&self) -> web::store::StoreOptions {
        web::store::StoreOptions {
            batch_ops_max: self.batch_ops_max as usize,
            batch_wait_max: std::time::Duration::from_millis(self.batch_wait_ms),
            ..web::store::StoreOptions::default()
        }
    }
}

impl LimitArgs {
    fn settings(&self) -> web::http::limits::LimitSettings {
        web::http::limits::LimitSettings {
            login_per_ip: self.rate_limit_login,
            payments_per_ip: self.rate_limit_payments,
            api_payments_per_token: self.rate_limit_api_payments,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Export {
    /// A self-contained audit bundle, verifiable offline with `troc verify --bundle`.
    Audit(audit::ExportAuditArgs),
    /// FEC (Fichier des Écritures Comptables): the period must be locked.
    Fec(BooksArgs),
    /// hledger journal.
    Hledger(BooksArgs),
    /// Beancount ledger.
    Beancount(BooksArgs),
    /// CSV, one row per posting.
    Csv(BooksArgs),
    /// OFX statement of one member's account (needs --member).
    Ofx(BooksArgs),
}

/// The accountant exports' arguments: the network's books, or one member's.
#[derive(Args)]
struct BooksArgs {
    /// First day of the period (YYYY-MM-DD, in the network's calendar: docs/exports.md).
    #[arg(long)]
    from: NaiveDate,
    /// Last day of the period, included.
    #[arg(long)]
    to: NaiveDate,
    /// A member (its SIREN, or its account id): export that member's books. Without it,
    /// the network's books.
    #[arg(long)]
    member: Option<String>,
    /// The output file, or an existing directory (the file is then named after the books,
    /// e.g. `<SIREN>FEC<AAAAMMJJ>.txt`).
    #[arg(long)]
    out: PathBuf,
    /// The network operator's SIREN (9 digits); without it, the one a manager set on the
    /// web's accounting page.
    #[arg(long, env = "TROC_NETWORK_SIREN")]
    siren: Option<String>,
    /// A JSON account mapping (see docs/exports.md); otherwise the one stored on the web
    /// (the French PCG defaults when nothing is stored).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// CSV dates and decimals: `french` (31/12/2025, 1234,50) or `iso` (2025-12-31, 1234.50).
    #[arg(long, value_enum, default_value_t = CsvStyle::French)]
    csv_style: CsvStyle,
}

#[derive(Clone, Copy, ValueEnum)]
enum CsvStyle {
    French,
    Iso,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for any user; the token is printed alone on the last line (shown
    /// once: only its hash is stored).
    Create {
        #[arg(long)]
        email: String,
        /// `read`, `pay` or `manage` (which ones a user may hold depends on their role).
        #[arg(long)]
        scope: String,
        /// The token's name, shown in the user's token list.
        #[arg(long, default_value = "troc token create")]
        name: String,
        /// Days until the token stops working (1 to 3650); without it, the token works
        /// until it is revoked.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List API tokens (never the tokens themselves: only their names, scopes and dates),
    /// of every user or of one.
    List {
        /// Only this user's tokens.
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke any user's API token (a leaked token, a user who left); recorded in the
    /// action log.
    Revoke {
        /// The token's id, as `troc token list` shows it.
        #[arg(long)]
        id: i64,
        /// Why, for the action log.
        #[arg(long, default_value = "revoked by the operator")]
        reason: String,
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
    /// Turn off the two-step login of a user who lost its phone and its recovery codes (a
    /// network manager or accountant; a member's user asks its manager). Logged as
    /// `user.two_step_off` by `cli`; the user turns it on again at its next login if the
    /// network requires it.
    TwoStepOff {
        #[arg(long)]
        email: String,
        /// Why, in the action log (who asked, how it was checked).
        #[arg(long)]
        reason: String,
    },
}

/// Logs go to standard error (standard output carries results: `troc load` prints
/// acknowledgements there, `troc bench --json` its figures). `TROC_LOG` filters them
/// (default `info,sqlx=warn`); `TROC_LOG_FORMAT=json` writes one JSON object per line.
fn init_logging(default_filter: &str) -> Result<(), String> {
    let filter = match std::env::var("TROC_LOG") {
        Ok(directives) => tracing_subscriber::EnvFilter::try_new(&directives)
            .map_err(|e| format!("invalid TROC_LOG {directives:?}: {e}"))?,
        Err(_) => tracing_subscriber::EnvFilter::new(default_filter),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("TROC_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().init(),
        Ok("text") | Err(_) => builder.init(),
        Ok(other) => {
            return Err(format!(
                "invalid TROC_LOG_FORMAT {other:?}: use text or json"
            ))
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // The settings file goes under the environment, before clap reads either.
    let args: Vec<String> = std::env::args().collect();
    let config_file = web::config::config_path(&args);
    if let Some(path) = &config_file {
        if let Err(error) = web::config::apply_file(path) {
            eprintln!("troc: {error}");
            return ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    // migrate-data reads whole tables in one statement each: sqlx's slow-statement warnings
    // would only interleave with its progress lines.
    let default_filter = match cli.command {
        Command::MigrateData { .. } => "info,sqlx=error",
        _ => "info,sqlx=warn",
    };
    if let Err(error) = init_logging(default_filter) {
        eprintln!("troc: {error}");
        return ExitCode::from(2);
    }
    if let Command::Config = cli.command {
        return print_config(config_file.as_deref(), &cli.database_url);
    }
    // An audit bundle is verified offline: no database at all.
    if let Command::Verify(audit::VerifyArgs {
        bundle: Some(dir), ..
    }) = &cli.command
    {
        return audit::verify_bundle(dir);
    }
    if let Command::Order { command } = &cli.command {
        return order(command);
    }
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
    if let Command::Restore { from, force } = &cli.command {
        // The target database may not exist yet, or must not be opened while it is replaced.
        let overwrite = if *force {
            web::ops::backup::Overwrite::Replace
        } else {
            web::ops::backup::Overwrite::Refuse
        };
        let report = web::ops::backup::restore(from, &cli.database_url, overwrite).await?;
        println!(
            "restored {} ({} transactions, invariants hold)",
            report.path.display(),
            report.transactions
        );
        return Ok(());
    }
    if let Command::MigrateData { from, to } = &cli.command {
        // Two databases of its own; the default one is not opened.
        return migrate_data(from, to).await;
    }
    let store = Store::connect_with(&cli.database_url, cli.writes.options()).await?;
    match cli.command {
        Command::Serve {
            demo,
            addr,
            secure_cookies,
            base_url,
            open_data,
            key,
            checkpoint_every,
            webhook_targets,
            smtp_url,
            mail_from,
            limits,
        } => {
            let mailer = match (smtp_url, mail_from) {
                (Some(url), Some(from)) => Some(web::mail::Mailer::new(&url, &from)?),
                _ => None,
            };
            // Bound first, so that `--addr 127.0.0.1:0` gets a free port whose address is
            // known to the invitation links and printed below.
            let listener = web::http::bind(addr).await?;
            let local = listener.local_addr()?;
            // The network key is created at first start, outside the database.
            let key_file = key.key_file(&cli.database_url);
            let (network_key, created) = web::audit::key_file::load_or_create_key(&key_file)?;
            if created {
                tracing::info!(path = %key_file.display(), "network signing key created");
            }
            store.ensure_network_key(&network_key).await?;
            let webhooks = web::webhooks::Sender::new(network_key.clone(), webhook_targets)?;
            let (stop_checkpoints, checkpoints_stopped) = tokio::sync::watch::channel(false);
            let checkpointer = tokio::spawn(web::audit::run_checkpointer_until(
                store.clone(),
                network_key,
                checkpoint_every.max(1),
                web::audit::CHECKPOINT_POLL,
                async move {
                    let mut stopped = checkpoints_stopped;
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            ));
            let security = if secure_cookies {
                CookieSecurity::Secure
            } else {
                CookieSecurity::Plain
            };
            let base_url = base_url.unwrap_or_else(|| format!("http://{local}"));
            let open_data = if open_data {
                OpenData::Published
            } else {
                OpenData::Off
            };
            let config = Config::new(security, &base_url)
                .with_shutdown_grace(std::time::Duration::from_secs(
                    limits.shutdown_grace_seconds,
                ))
                .with_open_data(open_data)
                .with_webhook_targets(webhook_targets);
            let mut state = AppState::new(store.clone(), config)
                .with_limits(&limits.settings())
                .with_webhooks(webhooks);
            if let Some(mailer) = mailer {
                tracing::info!("e-mail on");
                state = state.with_mail(mailer);
            }
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
            web::http::serve_on(state, listener).await?;
            // Shutdown, in order: requests have finished (serve_on); the checkpointer
            // finishes a checkpoint it is signing; the writer commits what is queued, then
            // gives its connection back and the pool closes.
            let _ = stop_checkpoints.send(true);
            let _ = checkpointer.await;
            store.close().await;
            tracing::info!("stopped");
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
        Command::Admin {
            command: AdminCommand::TwoStepOff { email, reason },
        } => {
            let email = people::normalize_email(&email);
            let done = web::totp::turn_off_by_operator(&store, &email, &reason).await;
            store.close().await;
            anyhow::ensure!(done?, "no user {email} with two-step login on");
            println!("two-step login of {email} turned off");
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    scope,
                    name,
                    expires_in_days,
                },
        } => {
            let scope = web::tokens::Scope::parse(scope.trim())
                .ok_or_else(|| anyhow::anyhow!("the scope must be read, pay or manage"))?;
            let lifetime = match expires_in_days {
                None => web::tokens::Lifetime::UNLIMITED,
                Some(days) => web::tokens::Lifetime::days(days)?,
            };
            let found = people::user_by_email(&store, &email).await?;
            let Some(user) = found else {
                store.close().await;
                anyhow::bail!("no user with the email {email}");
            };
            let created =
                web::tokens::create_as_operator(&store, &user, &name, scope, lifetime).await;
            store.close().await;
            let (row, token) = created?;
            let expiry = match row.expires_at {
                Some(t) => format!("expires {}", unix_utc(t)),
                None => "never expires".to_owned(),
            };
            println!(
                "{} token {:?} (id {}) created for {}, {expiry}; it is shown once:",
                scope.as_str(),
                row.name,
                row.id,
                user.email
            );
            println!("{token}");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::List { email },
        } => {
            let listing = match email {
                None => web::tokens::Listing::Everyone,
                Some(email) => match people::user_by_email(&store, &email).await? {
                    Some(user) => web::tokens::Listing::User(user.id),
                    None => {
                        store.close().await;
                        anyhow::bail!("no user with the email {email}");
                    }
                },
            };
            let listed = web::tokens::list(&store, listing).await;
            store.close().await;
            let (tokens, more) = listed?;
            let now = people::now_unix();
            println!("id\tuser\tname\tscope\tstate\tcreated\tlast_used\texpires");
            for listed in &tokens {
                let t = &listed.token;
                let when = |time: Option<i64>| time.map(unix_utc).unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    listed.email,
                    t.name.replace(['\t', '\n', '\r'], " "),
                    t.scope.as_str(),
                    t.state(now).as_str(),
                    unix_utc(t.created_at),
                    when(t.last_used_at),
                    t.expires_at.map(unix_utc).unwrap_or_else(|| "never".into()),
                );
            }
            if more {
                eprintln!(
                    "only the first {} tokens are listed: give --email for one user's",
                    web::tokens::TOKENS_LIST_MAX
                );
            }
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Revoke { id, reason },
        } => {
            let revoked =
                web::tokens::revoke_by(&store, id, web::tokens::Revoker::Operator, &reason).await;
            store.close().await;
            let listed = revoked?;
            println!(
                "token {} ({:?}, {}) of {} revoked",
                listed.token.id,
                listed.token.name,
                listed.token.scope.as_str(),
                listed.email
            );
            Ok(())
        }
        Command::Migrate => {
            println!("migrations applied ({})", store.kind().as_str());
            store.close().await;
            Ok(())
        }
        Command::Backup { out } => {
            let report = web::ops::backup::backup(&store, &out).await?;
            store.close().await;
            println!(
                "backup written to {} ({} bytes, {} transactions, invariants hold)",
                report.path.display(),
                report.bytes,
                report.transactions
            );
            Ok(())
        }
        Command::Restore { .. } => unreachable!("restore runs before the store is opened"),
        Command::MigrateData { .. } => unreachable!("migrate-data opens its own databases"),
        Command::Config => unreachable!("config runs before the runtime starts"),
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
        Command::Export { what } => {
            let (format, args) = match what {
                Export::Fec(args) => (Format::Fec, args),
                Export::Hledger(args) => (Format::Hledger, args),
                Export::Beancount(args) => (Format::Beancount, args),
                Export::Ofx(args) => (Format::Ofx, args),
                Export::Csv(args) => {
                    let options = match args.csv_style {
                        CsvStyle::French => CsvOptions::FRENCH,
                        CsvStyle::Iso => CsvOptions::ISO,
                    };
                    (Format::Csv(options), args)
                }
                Export::Audit(args) => {
                    let result = audit::export_audit(&store, &args).await;
                    store.close().await;
                    return result;
                }
            };
            let command = ExportCommand {
                format,
                from: args.from,
                to: args.to,
                member: args.member,
                out: args.out,
                siren: args.siren,
                mapping: args.mapping,
            };
            let result = run_export(&store, command, &mut std::io::stderr()).await;
            store.close().await;
            result.map(|_| ())
        }
        Command::Verify(_) => audit::verify(&store).await,
        Command::Checkpoint(args) => audit::checkpoint(&store, &cli.database_url, &args).await,
        Command::Keys { command } => audit::keys(&store, &cli.database_url, command).await,
        Command::Order { .. } => unreachable!("order runs before the runtime starts"),
    }
}

/// `troc order keygen` prints the public key; `troc order sign` the API's JSON body.
fn order(command: &web::audit::orders::OrderCommand) -> ExitCode {
    use web::audit::orders::{self, OrderCommand};
    let printed = match command {
        OrderCommand::Keygen { out } => orders::keygen(out),
        OrderCommand::Sign(args) => orders::sign(args, chrono::Utc::now())
            .map(|body| serde_json::to_string(&body).expect("an order serialises")),
    };
    match printed {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("troc order: {error}");
            ExitCode::from(2)
        }
    }
}

/// `troc migrate-data`: progress on standard error, the per-table report on standard output.
async fn migrate_data(from: &str, to: &str) -> anyhow::Result<()> {
    let report = web::ops::migrate::migrate_data(from, to, &mut std::io::stderr()).await?;
    println!(
        "{:<20} {:>12}  digest (SHA-256, equal on both sides)",
        "table", "rows"
    );
    for table in &report.tables {
        println!("{:<20} {:>12}  {}", table.name, table.rows, table.digest);
    }
    println!(
        "copied and verified: {} transactions, head {}, {} checkpoints, {} accounts",
        report.verified.transactions,
        report.verified.head,
        report.verified.checkpoints,
        report.verified.accounts
    );
    Ok(())
}

/// `troc config`: every setting, its effective value and its source.
fn print_config(file: Option<&std::path::Path>, database_url: &str) -> ExitCode {
    let rows = match web::config::effective(file) {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("troc: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = file {
        println!("# configuration file: {}", path.display());
    }
    for (key, value, source) in rows {
        let (value, source) =
            if key == "database_url" && value != web::config::mask_secrets(database_url) {
                (web::config::mask_secrets(database_url), "flag")
            } else {
                (value, source)
            };
        println!("{key} = {value:?}  # {source}");
    }
    ExitCode::SUCCESS
}

/// Unix seconds as `2026-12-03T15:04:05Z` (the command line's lists).
fn unix_utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_commit_flags_reach_the_store_options() {
        let cli = Cli::parse_from([
            "troc",
            "--batch-ops-max",
            "8",
            "--batch-wait-ms",
            "0",
            "migrate",
        ]);
        let options = cli.writes.options();
        assert_eq!(options.batch_ops_max, 8);
        assert_eq!(options.batch_wait_max, std::time::Duration::ZERO);
        assert!(options.validate().is_ok());
        let defaults = Cli::parse_from(["troc", "migrate"]).writes.options();
        assert_eq!(defaults, web::store::StoreOptions::default());
    }
}
