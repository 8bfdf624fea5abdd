//! `cliffwatch account …`: add, list and remove accounts. Keys are read from stdin or named by
//! an environment variable — never taken from the command line, where `ps` and shell history
//! would see them.

use crate::{output, Context};
use clap::{Args, Subcommand};
use cliffwatch_core::model::Account;
use cliffwatch_core::secrets::Secret;
use cliffwatch_core::{Error, NewAccount, SecretInput};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Add an account. The key goes to the OS keychain (or stays in an environment variable).
    Add(AddArgs),
    /// List accounts (the key is shown as its last 4 characters at most).
    List,
    /// Poll one account now and print the parsed reading or the classified error.
    Test {
        /// The account's label.
        label: String,
    },
    /// Replace an account's key in place (after a rotation or a 401): history and alerts stay.
    SetKey(SetKeyArgs),
    /// Remove an account and delete its key from the keychain.
    Remove {
        /// The account's label.
        label: String,
    },
    /// The proxy's circuit breaker for this account: `on` answers its clients with a local 402
    /// while it is out of credit (until a poll sees a top-up), `off` always forwards.
    Breaker {
        /// The account's label.
        label: String,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Provider id (see `cliffwatch providers`).
    #[arg(long)]
    provider: String,
    /// A name for this key, unique among your accounts ("main", "scraper-prod").
    #[arg(long)]
    label: String,
    /// Send requests here instead of the provider's default host (gateways, regions, tests).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Read the key from this environment variable at every use; only the name is stored.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["secret_stdin", "no_secret"])]
    secret_env: Option<String>,
    /// Read the key from the first line of standard input and store it in the OS keychain.
    #[arg(long, conflicts_with = "no_secret")]
    secret_stdin: bool,
    /// The endpoint needs no key (custom providers only).
    #[arg(long)]
    no_secret: bool,
    /// Prepaid amount or monthly budget, for spend-only providers (OpenAI, Anthropic).
    #[arg(long, value_name = "AMOUNT")]
    budget: Option<f64>,
    /// Deepgram: the project whose balance to read.
    #[arg(long, value_name = "ID")]
    project_id: Option<String>,
    /// Twilio: the account SID (AC…).
    #[arg(long, value_name = "SID")]
    account_sid: Option<String>,
    /// Any provider option by its key (`cliffwatch providers` lists them), e.g.
    /// `--option team_id=…` (xAI), `--option account_id=…` (Cloudflare AI Gateway),
    /// `--option login=…` (DataForSEO). Repeatable.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    option: Vec<String>,
    /// Custom provider: the request / JSON-pointer spec, as a JSON file.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SetKeyArgs {
    /// The account's label.
    label: String,
    /// Read the new key from this environment variable at every use; only the name is stored.
    #[arg(long, value_name = "VAR", conflicts_with = "secret_stdin")]
    secret_env: Option<String>,
    /// Read the new key from the first line of standard input and store it in the OS keychain.
    #[arg(long)]
    secret_stdin: bool,
}

pub async fn run(ctx: &Context, cmd: AccountCmd) -> cliffwatch_core::Result<()> {
    match cmd {
        AccountCmd::Add(args) => add(ctx, args).await,
        AccountCmd::List => list(ctx).await,
        AccountCmd::Test { label } => crate::commands::poll::test(ctx, &label).await,
        AccountCmd::SetKey(a) => {
            let secret = if let Some(var) = a.secret_env {
                SecretInput::Env(var)
            } else if a.secret_stdin {
                SecretInput::Keychain(read_stdin_secret()?)
            } else {
                return Err(Error::InvalidInput(
                    "give the new key with --secret-stdin (piped in) or --secret-env VAR; keys are never taken from the command line".into(),
                ));
            };
            let cw = ctx.open().await?;
            let account =
                cliffwatch_core::api::accounts::replace_key(&cw, &a.label, secret).await?;
            print_account(ctx, &account, |a, key| {
                format!(
                    "Replaced the key of `{}`, now in {key}; it will be polled again.",
                    a.label
                )
            })
        }
        AccountCmd::Remove { label } => {
            let cw = ctx.open().await?;
            let removed = cliffwatch_core::api::accounts::remove(&cw, &label).await?;
            if ctx.json {
                output::json(&removed)
            } else {
                println!(
                    "Removed `{}` ({}).",
                    output::clean(&removed.label),
                    output::clean(&removed.provider)
                );
                Ok(())
            }
        }
        AccountCmd::Breaker { label, state } => {
            let cw = ctx.open().await?;
            let a =
                cliffwatch_core::api::proxy::set_breaker_for(&cw, &label, state == "on").await?;
            if ctx.json {
                output::json(&a)
            } else {
                println!(
                    "Breaker for `{}`: {}.",
                    output::clean(&a.label),
                    if a.breaker {
                        "on (the proxy answers 402 itself while the account is out of credit)"
                    } else {
                        "off"
                    }
                );
                Ok(())
            }
        }
    }
}

async fn add(ctx: &Context, a: AddArgs) -> cliffwatch_core::Result<()> {
    // Check the provider before asking for a key or opening anything.
    cliffwatch_core::providers::find(&a.provider)?;
    let mut options = serde_json::Map::new();
    if let Some(p) = a.project_id {
        options.insert("project_id".into(), p.into());
    }
    if let Some(s) = a.account_sid {
        options.insert("account_sid".into(), s.into());
    }
    for kv in &a.option {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::InvalidInput(format!("--option takes KEY=VALUE, not `{kv}`")))?;
        options.insert(k.trim().to_owned(), v.trim().into());
    }
    if let Some(path) = a.spec {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::InvalidInput(format!("cannot read the spec file {}: {e}", path.display()))
        })?;
        let spec: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::InvalidInput(format!(
                "the spec file {} is not valid JSON: {e}",
                path.display()
            ))
        })?;
        options.insert("spec".into(), spec);
    }
    let secret = if let Some(var) = a.secret_env {
        SecretInput::Env(var)
    } else if a.secret_stdin {
        SecretInput::Keychain(read_stdin_secret()?)
    } else if a.no_secret {
        SecretInput::None
    } else {
        return Err(Error::InvalidInput(
            "give the key with --secret-stdin (piped in) or --secret-env VAR; keys are never taken from the command line".into(),
        ));
    };
    let cw = ctx.open().await?;
    let account = cliffwatch_core::api::accounts::add(
        &cw,
        NewAccount {
            provider: a.provider,
            label: a.label,
            base_url: a.base_url,
            secret,
            budget: a.budget,
            options,
        },
    )
    .await?;
    print_account(ctx, &account, |a, key| {
        format!("Added `{}` ({}), key in {key}.", a.label, a.provider)
    })
}

/// An added or changed account: its JSON, or `say(account, where its key is)` for people.
fn print_account(
    ctx: &Context,
    account: &Account,
    say: impl Fn(&Account, &str) -> String,
) -> cliffwatch_core::Result<()> {
    if ctx.json {
        return output::json(account);
    }
    let key = match account.secret_hint.as_deref() {
        Some(h) => format!("{} ({h})", account.secret),
        None => account.secret.clone(),
    };
    println!("{}", output::clean(&say(account, &key)));
    Ok(())
}

pub(crate) fn read_stdin_secret() -> cliffwatch_core::Result<Secret> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Error::InvalidInput(format!("cannot read the key from standard input: {e}"))
    })?;
    Secret::new(line).map_err(|_| {
        Error::InvalidInput("no key on standard input: pipe it in, e.g. `printenv KEY | cliffwatch account add … --secret-stdin`".into())
    })
}

async fn list(ctx: &Context) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let accounts = cliffwatch_core::api::accounts::list(&cw).await?;
    if ctx.json {
        return output::json(&accounts);
    }
    if accounts.is_empty() {
        println!("No accounts yet: `cliffwatch account add --help` shows how to add one.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            vec![
                a.label.clone(),
                a.provider.clone(),
                match &a.secret_hint {
                    Some(h) => format!("{} {h}", a.secret),
                    None => a.secret.clone(),
                },
                a.base_url.clone().unwrap_or_else(|| "default".into()),
                a.state.as_str().into(),
            ]
        })
        .collect();
    output::table(&["ACCOUNT", "PROVIDER", "KEY", "BASE URL", "STATE"], &rows);
    Ok(())
}
