//! `cliffwatch usage`: token usage and cost from agent logs, per day and model, and pay-per-call
//! spend (paid x402 / MPP / pay-per-crawl answers) per day and host.

use crate::{output, when, Context};
use cliffwatch_core::api::history;

pub async fn run(ctx: &Context, since: Option<String>) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let since = since
        .as_deref()
        .map(|s| when::parse(s, cw.clock().now()))
        .transpose()?;
    let days = history::usage_by_day(&cw, since).await?;
    if ctx.json {
        return output::json(&days);
    }
    if days.is_empty() {
        println!("No usage yet: `cliffwatch logs scan '~/.claude/projects/**/*.jsonl'` imports Claude Code transcripts.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = days
        .iter()
        .map(|d| {
            vec![
                d.day.clone(),
                match (&d.protocol, &d.host) {
                    (Some(p), Some(h)) => format!("{p} payments to {h}"),
                    (Some(p), None) => format!("{p} payments"),
                    _ => d.model.clone().unwrap_or_else(|| d.provider.clone()),
                },
                d.requests.to_string(),
                d.input_tokens.to_string(),
                d.output_tokens.to_string(),
                d.cache_creation_tokens.to_string(),
                d.cache_read_tokens.to_string(),
                match d.currency.as_deref() {
                    Some(c) if d.protocol.is_some() => {
                        format!("{} {c}", cliffwatch_core::format::decimal(d.cost))
                    }
                    _ => format!("${:.2}", d.cost),
                },
            ]
        })
        .collect();
    output::table(
        &[
            "DAY",
            "MODEL",
            "REQUESTS",
            "INPUT",
            "OUTPUT",
            "CACHE WRITE",
            "CACHE READ",
            "COST",
        ],
        &rows,
    );
    let total: f64 = days
        .iter()
        .filter(|d| d.protocol.is_none())
        .map(|d| d.cost)
        .sum();
    println!("Total: ${total:.2} (token costs; payments are listed in their own currency)");
    Ok(())
}
