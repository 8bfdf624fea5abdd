//! `cliffwatch channel …`: where alerts go besides the desktop — add, list, test, remove.
//! Secrets (webhook URLs, topic URLs, bot tokens) are read from stdin or named by environment
//! variable, never taken from the command line.

use crate::{output, Context};
use clap::{Args, Subcommand};
use cliffwatch_core::alerts::channels::{ChannelKind, ChannelOptions};
use cliffwatch_core::alerts::Severity;
use cliffwatch_core::api::accounts::SecretInput;
use cliffwatch_core::api::channels::{self, ChannelRow, NewChannel};
use cliffwatch_core::Error;

#[derive(Debug, Subcommand)]
pub enum ChannelCmd {
    /// Add a channel: webhook, slack, discord, ntfy, telegram or command.
    Add(AddArgs),
    /// The channels, with their last delivery.
    List,
    /// Send a test message to a channel now.
    Test { label: String },
    /// Remove a channel (and its secret from the keychain).
    Remove { label: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// webhook | slack | discord | ntfy | telegram | command
    #[arg(long)]
    kind: String,
    /// A name for this channel ("ops-slack").
    #[arg(long)]
    label: String,
    /// Read the secret (webhook URL, topic URL, bot token) from this environment variable at
    /// every use; only the name is stored.
    #[arg(long, value_name = "VAR", conflicts_with = "secret_stdin")]
    secret_env: Option<String>,
    /// Read the secret from the first line of standard input into the OS keychain.
    #[arg(long)]
    secret_stdin: bool,
    /// The least severe alert sent here: info, warning (default) or critical.
    #[arg(long, value_name = "SEVERITY", default_value = "warning")]
    min_severity: String,
    /// Telegram: the chat id (a number, -100… for groups, or @channelname).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    chat_id: Option<String>,
    /// Telegram: a self-hosted Bot API server instead of https://api.telegram.org.
    #[arg(long, value_name = "URL")]
    api_base: Option<String>,
    /// command: the program to run (no shell); it gets the alert as JSON on stdin.
    #[arg(long, value_name = "PATH")]
    program: Option<String>,
    /// command: one argument for the program (repeat for more).
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    args: Vec<String>,
}

pub async fn run(ctx: &Context, cmd: ChannelCmd) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    match cmd {
        ChannelCmd::Add(a) => {
            let kind = ChannelKind::parse(&a.kind)?;
            let secret = if let Some(var) = a.secret_env {
                SecretInput::Env(var)
            } else if a.secret_stdin {
                SecretInput::Keychain(super::account::read_stdin_secret()?)
            } else {
                SecretInput::None
            };
            let row = channels::add(
                &cw,
                NewChannel {
                    kind,
                    label: a.label,
                    secret,
                    min_severity: severity(&a.min_severity)?,
                    options: ChannelOptions {
                        chat_id: a.chat_id,
                        api_base: a.api_base,
                        program: a.program,
                        args: a.args,
                    },
                },
            )
            .await?;
            if ctx.json {
                return output::json(&row);
            }
            println!(
                "Added {} channel `{}` ({}; {} and above). Try it: cliffwatch channel test {}",
                row.kind.as_str(),
                output::clean(&row.label),
                row.secret,
                row.min_severity.as_str(),
                output::clean(&row.label)
            );
            Ok(())
        }
        ChannelCmd::List => {
            let rows = channels::list(&cw).await?;
            if ctx.json {
                return output::json(&rows);
            }
            if rows.is_empty() {
                println!("No channels: alerts go to the desktop only. Add one with `cliffwatch channel add --kind slack --label ops --secret-stdin`.");
                return Ok(());
            }
            output::table(
                &[
                    "LABEL",
                    "KIND",
                    "SECRET",
                    "MIN SEVERITY",
                    "TARGET",
                    "LAST DELIVERY",
                ],
                &rows.iter().map(line).collect::<Vec<_>>(),
            );
            Ok(())
        }
        ChannelCmd::Test { label } => {
            let t = channels::test(&cw, &label).await?;
            if ctx.json {
                return output::json(&t);
            }
            if t.delivered {
                println!(
                    "Sent a test message to `{}`: delivered.",
                    output::clean(&t.label)
                );
                Ok(())
            } else {
                Err(Error::InvalidInput(format!(
                    "the test message to `{}` was not delivered: {}",
                    t.label, t.message
                )))
            }
        }
        ChannelCmd::Remove { label } => {
            let row = channels::remove(&cw, &label).await?;
            if ctx.json {
                return output::json(&row);
            }
            println!("Removed channel `{}`.", output::clean(&row.label));
            Ok(())
        }
    }
}

fn severity(s: &str) -> cliffwatch_core::Result<Severity> {
    Severity::parse(s).ok_or_else(|| {
        Error::InvalidInput(format!(
            "--min-severity takes info, warning or critical, not `{s}`"
        ))
    })
}

fn line(r: &ChannelRow) -> Vec<String> {
    let target = match r.kind {
        ChannelKind::Telegram => format!("chat {}", r.options.chat_id.as_deref().unwrap_or("?")),
        ChannelKind::Command => {
            let mut s = r.options.program.clone().unwrap_or_default();
            for a in &r.options.args {
                s.push(' ');
                s.push_str(a);
            }
            s
        }
        _ => "-".into(),
    };
    let last = r.last_delivery.as_ref().map_or_else(
        || "-".to_owned(),
        |d| match (&d.state[..], &d.last_error) {
            ("delivered", _) => format!(
                "delivered {}",
                d.delivered_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            ),
            (state, Some(e)) => format!("{state} ({} tries): {e}", d.attempts),
            (state, None) => state.to_owned(),
        },
    );
    vec![
        r.label.clone(),
        r.kind.as_str().to_owned(),
        r.secret.clone(),
        r.min_severity.as_str().to_owned(),
        target,
        last,
    ]
}
