//! `command`: runs a program of the user's with the [`AlertMessage`] as JSON on its standard
//! input — no shell (the program and its arguments are given as they are, never parsed), its
//! output discarded, its time limited. Exit 0 is delivered; another code is retried (a script
//! may fail for a passing reason); a program that cannot be started is refused.

use super::{AlertMessage, ChannelOptions, Format, Outgoing, Target, Verdict};
use crate::secrets::Secret;
use crate::{Error, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(super) struct Command;

/// How much of the program's standard error is kept for the delivery's error.
const STDERR_KEPT: usize = 2048;

fn program(options: &ChannelOptions) -> Result<&str> {
    options
        .program
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            Error::InvalidInput(
                "a command channel needs --program PATH (and --arg for each argument)".into(),
            )
        })
}

impl Format for Command {
    fn secret_is(&self) -> Option<&'static str> {
        None
    }

    fn check(&self, _: Option<&Secret>, options: &ChannelOptions) -> Result<()> {
        let p = program(options)?;
        if options
            .args
            .iter()
            .chain([&p.to_owned()])
            .any(|a| a.contains('\0'))
        {
            return Err(Error::InvalidInput(
                "a program or argument contains a NUL byte".into(),
            ));
        }
        Ok(())
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        Ok(Outgoing::Program {
            program: program(&target.options)?.to_owned(),
            args: target.options.args.clone(),
            stdin: serde_json::to_vec(msg)
                .map_err(|e| Error::Malformed(format!("alert message: {e}")))?,
        })
    }
}

/// Runs the program; killed if it outlives `limit`.
pub(super) async fn run(program: &str, args: &[String], stdin: &[u8], limit: Duration) -> Verdict {
    let name = std::path::Path::new(program)
        .file_name()
        .map_or_else(|| program.to_owned(), |n| n.to_string_lossy().into_owned());
    let mut child = match tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Verdict::Refused(format!("cannot start `{name}`: {e}")),
    };
    let mut input = child.stdin.take();
    let mut errors = child.stderr.take();
    let work = async {
        if let Some(mut i) = input.take() {
            // A program that does not read its input is fine: a broken pipe is not a failure.
            let _ = i.write_all(stdin).await;
            drop(i);
        }
        let mut kept = Vec::new();
        if let Some(e) = errors.as_mut() {
            let mut buf = [0u8; 4096];
            loop {
                match e.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = STDERR_KEPT.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
        }
        (child.wait().await, kept)
    };
    match tokio::time::timeout(limit, work).await {
        Err(_) => Verdict::Retry {
            after: None,
            error: format!(
                "`{name}` ran for over {} s and was stopped",
                limit.as_secs()
            ),
        },
        Ok((Err(e), _)) => Verdict::Retry {
            after: None,
            error: format!("`{name}` could not be waited for: {e}"),
        },
        Ok((Ok(status), _)) if status.success() => Verdict::Delivered,
        Ok((Ok(status), stderr)) => {
            let said = super::receiver_said(&stderr);
            Verdict::Retry {
                after: None,
                error: match status.code() {
                    Some(c) => format!("`{name}` exited with code {c}{said}"),
                    None => format!("`{name}` was killed by a signal{said}"),
                },
            }
        }
    }
}
