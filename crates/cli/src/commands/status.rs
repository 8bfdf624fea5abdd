//! `cliffwatch status`: every account with its latest reading.

use crate::{output, Context};

pub async fn run(ctx: &Context) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let report = cliffwatch_core::api::overview::status(&cw).await?;
    if ctx.json {
        return output::json(&report);
    }
    if report.accounts.is_empty() {
        println!("No accounts yet. Add one with:");
        println!("  cliffwatch account add --provider openrouter --label main --secret-stdin");
        println!("(`cliffwatch providers` lists the provider ids.)");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = report
        .accounts
        .iter()
        .map(|s| {
            let (remaining, polled) = match &s.latest {
                Some(l) => (
                    output::amount(l.remaining, l.unit.as_str()),
                    l.observed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                ),
                None => ("—".into(), "never".into()),
            };
            let state = match s.breaker_open_since {
                Some(_) => format!("{}, breaker open", s.account.state.as_str()),
                None => s.account.state.as_str().into(),
            };
            vec![
                s.account.label.clone(),
                s.provider_name.clone(),
                state,
                remaining,
                polled,
            ]
        })
        .collect();
    output::table(
        &["ACCOUNT", "PROVIDER", "STATE", "REMAINING", "LAST POLL"],
        &rows,
    );
    for s in &report.accounts {
        if let Some(since) = s.breaker_open_since {
            println!(
                "Breaker open for `{label}` since {}: the proxy answers its requests with a 402 \
                 itself until it has credit again (`cliffwatch account breaker {label} off` lets \
                 them through).",
                since.format("%Y-%m-%d %H:%M UTC"),
                label = s.account.label,
            );
        }
    }
    Ok(())
}
