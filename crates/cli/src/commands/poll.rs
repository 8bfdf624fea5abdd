//! `cliffwatch poll --once` and `cliffwatch account test`: live polls of the providers.

use crate::{output, Context};
use cliffwatch_core::poll::{self, PollResult};

/// Polls every account that may be polled now (all of them with `force`), concurrently, and
/// prints each reading, classified error or reason for skipping.
pub async fn once(ctx: &Context, force: bool) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let results = poll::poll_due(&cw, force).await?;
    if ctx.json {
        return output::json(&results);
    }
    if results.is_empty() {
        println!("No accounts to poll: `cliffwatch account add --help` shows how to add one.");
        return Ok(());
    }
    print_results(&results);
    Ok(())
}

/// One live poll of one account, stored like any other.
pub async fn test(ctx: &Context, label: &str) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let result = poll::test_account(&cw, label).await?;
    if ctx.json {
        output::json(&result)?;
    } else {
        print_results(std::slice::from_ref(&result));
    }
    match &result.error {
        // The test itself worked; a failed poll is still a failed test for scripts.
        Some(e) => Err(cliffwatch_core::Error::InvalidInput(format!(
            "{label}: {}",
            e.message
        ))),
        None => Ok(()),
    }
}

pub fn print_results(results: &[PollResult]) {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let unit = r
                .unit
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default();
            let what = match (&r.skipped, &r.error) {
                (Some(why), _) => why.clone(),
                (None, Some(e)) => format!("{}: {}", e.kind, e.message),
                (None, None) => format!(
                    "{}{}",
                    output::amount(r.remaining, &unit),
                    r.limit
                        .map(|l| format!(" of {}", output::amount(Some(l), &unit)))
                        .unwrap_or_default()
                ),
            };
            vec![
                r.account.clone(),
                r.provider.clone(),
                r.state.as_str().into(),
                what,
            ]
        })
        .collect();
    output::table(
        &["ACCOUNT", "PROVIDER", "STATE", "REMAINING / ERROR"],
        &rows,
    );
}
