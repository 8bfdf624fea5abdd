//! `cliffwatch`: the headless command line over cliffwatch-core, for servers, scripts and
//! tests. Every read command takes `--json`; JSON field names are stable and documented in the
//! README. Failures print one sentence on stderr and exit non-zero.

mod commands;
mod output;
mod progress;
mod when;

use clap::{Parser, Subcommand};
use cliffwatch_core::clock::SystemClock;
use cliffwatch_core::secrets::os_keychain;
use cliffwatch_core::Cliffwatch;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Sees the HTTP 402 cliff coming: balances, 402 history and runway for your API keys.
#[derive(Debug, Parser)]
#[command(name = "cliffwatch", version, about, max_term_width = 100)]
pub struct Cli {
    /// Data directory (default: the OS app-data folder).
    #[arg(long, global = true, env = "CLIFFWATCH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, list, test or remove accounts (one API key at one provider).
    #[command(subcommand)]
    Account(commands::account::AccountCmd),
    /// Every account with its latest balance.
    Status,
    /// The supported providers, with the key each needs and its unit.
    Providers,
    /// Watch request logs and agent transcripts: add, list, scan.
    #[command(subcommand)]
    Logs(commands::logs::LogsCmd),
    /// The 402 history: out-of-credit and other failed requests from polls and logs.
    Events {
        /// Only events at or after this time (RFC 3339, a date, or an age such as 24h or 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only this account's events.
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Only this outcome (out_of_credit, rate_limited, unauthorized …).
        #[arg(long)]
        outcome: Option<String>,
        /// At most this many events, newest first.
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Poll every account's balance (`--once`: one round, concurrently, then exit). Politely:
    /// a key the provider rejected is not sent again until the account is edited, and no
    /// account is polled again before its provider's minimum interval or Retry-After.
    Poll {
        /// One round and exit (the only mode; `watch` polls continuously).
        #[arg(long, required = true)]
        once: bool,
        /// Poll every account now, rejected keys and recently polled ones included.
        #[arg(long)]
        force: bool,
    },
    /// Run in the foreground: poll, watch logs, forecast and alert until Ctrl-C or SIGTERM.
    Watch {
        /// Print alerts only, no desktop notifications.
        #[arg(long)]
        no_desktop: bool,
        /// Watch the demo instead: loopback providers draining on a compressed clock, in a
        /// temporary data directory (no API key needed, your data untouched).
        #[arg(long)]
        demo: bool,
        /// Real milliseconds per 30 demo minutes (default 1000); for tests.
        #[arg(long, hide = true, requires = "demo")]
        demo_tick_ms: Option<u64>,
        /// Serve the read API (/metrics, /v1/status, /v1/forecast, /v1/events, /v1/alerts) here,
        /// e.g. 127.0.0.1:9402 (port 0 picks one and prints it).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        /// The bearer token the API requires, read from this environment variable; needed for
        /// an address that is not loopback.
        #[arg(long, value_name = "VAR", requires = "listen")]
        token_env: Option<String>,
        /// Also run the recording proxy here (e.g. 127.0.0.1:8402), whatever the `proxy`
        /// setting says.
        #[arg(long, value_name = "ADDR:PORT")]
        proxy: Option<std::net::SocketAddr>,
        /// A proxy route `/u/NAME/…` to an API that has no account (repeatable).
        #[arg(long, value_name = "NAME=URL", requires = "proxy")]
        upstream: Vec<String>,
    },
    /// A local recording proxy: point an SDK's base URL at http://127.0.0.1:8402/a/<account>
    /// and every status, 402 and token cost of that client is recorded as it passes (the
    /// client's own key passes through; none is added or stored).
    Proxy {
        /// Where to listen (loopback only).
        #[arg(long, value_name = "ADDR:PORT", default_value = cliffwatch_core::proxy::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// A route `/u/NAME/…` to an API that has no account (repeatable).
        #[arg(long, value_name = "NAME=URL")]
        upstream: Vec<String>,
    },
    /// When each balance runs out: remaining, burn per day, runway P10/P50/P90.
    Forecast {
        /// Only this account.
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Forecast with only the readings up to this time (a backtest on your own history).
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// Export balances, events, usage or alerts as CSV or JSON (a balances CSV reads back
    /// through `import balances`).
    Export {
        /// balances, events, usage or alerts.
        what: String,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Only rows at or after this time (RFC 3339, a date, or an age such as 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only this account's rows (balances, events, alerts).
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Import history: `import balances FILE.csv --account A` (columns time,remaining).
    #[command(subcommand)]
    Import(commands::import::ImportCmd),
    /// Where alerts go besides the desktop: webhook, Slack, Discord, ntfy, Telegram, a program.
    #[command(subcommand)]
    Channel(commands::channel::ChannelCmd),
    /// Alerts raised (open ones; --all for the history), and `alerts snooze ID --for 1h`.
    Alerts {
        #[command(subcommand)]
        cmd: Option<commands::alerts::AlertsCmd>,
        /// Include resolved alerts.
        #[arg(long)]
        all: bool,
    },
    /// The settings (poll interval, notifications, alert thresholds, quiet hours), and
    /// `settings set KEY VALUE`.
    Settings {
        #[command(subcommand)]
        cmd: Option<commands::settings::SettingsCmd>,
    },
    /// Serve the Model Context Protocol on stdio, so an agent can ask before it spends:
    /// list_accounts, get_runway, recent_402s, can_afford (read-only; keys are never shown).
    Mcp,
    /// Token usage and cost from agent logs (Claude Code, Codex), per day and model.
    Usage {
        /// Only usage at or after this time (RFC 3339, a date, or an age such as 24h or 7d).
        #[arg(long)]
        since: Option<String>,
    },
}

/// Runs the CLI and maps any error to one sentence on stderr and a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> cliffwatch_core::Result<()> {
    let ctx = Context {
        data_dir: cli.data_dir,
        json: cli.json,
    };
    match cli.command {
        Command::Account(cmd) => commands::account::run(&ctx, cmd).await,
        Command::Status => commands::status::run(&ctx).await,
        Command::Providers => commands::providers::run(&ctx),
        Command::Logs(cmd) => commands::logs::run(&ctx, cmd).await,
        Command::Events {
            since,
            account,
            outcome,
            limit,
        } => commands::events::run(&ctx, since, account, outcome, limit).await,
        Command::Usage { since } => commands::usage::run(&ctx, since).await,
        Command::Mcp => commands::mcp::run(&ctx).await,
        Command::Poll { force, .. } => commands::poll::once(&ctx, force).await,
        Command::Watch {
            no_desktop,
            demo,
            demo_tick_ms,
            listen,
            token_env,
            proxy,
            upstream,
        } => {
            let listen = listen.map(|addr| commands::watch::Listen { addr, token_env });
            let proxy = proxy.map(|addr| (addr, upstream));
            commands::watch::run(&ctx, no_desktop, demo, demo_tick_ms, listen, proxy).await
        }
        Command::Proxy { listen, upstream } => commands::proxy::run(&ctx, listen, upstream).await,
        Command::Forecast { account, as_of } => commands::forecast::run(&ctx, account, as_of).await,
        Command::Import(cmd) => commands::import::run(&ctx, cmd).await,
        Command::Export {
            what,
            format,
            since,
            account,
            output,
        } => commands::export::run(&ctx, what, format, since, account, output).await,
        Command::Channel(cmd) => commands::channel::run(&ctx, cmd).await,
        Command::Alerts { cmd, all } => commands::alerts::run(&ctx, cmd, all).await,
        Command::Settings { cmd } => commands::settings::run(&ctx, cmd).await,
    }
}

/// What every command gets: where the data is and how to print.
#[derive(Debug)]
pub struct Context {
    pub data_dir: Option<PathBuf>,
    pub json: bool,
}

impl Context {
    /// Opens the data directory with the real keychain and the wall clock.
    pub async fn open(&self) -> cliffwatch_core::Result<Cliffwatch> {
        let dir = cliffwatch_core::paths::data_dir(self.data_dir.as_deref())?;
        Cliffwatch::open(&dir, os_keychain(), Arc::new(SystemClock)).await
    }
}
