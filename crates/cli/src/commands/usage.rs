//! `cliffwatch usage`: token usage and cost from agent logs, per day and model.

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
                d.model.clone().unwrap_or_else(|| d.provider.clone()),
                d.requests.to_string(),
                d.input_tokens.to_string(),
                d.output_tokens.to_string(),
                d.cache_creation_tokens.to_string(),
                d.cache_read_tokens.to_string(),
                format!("${:.2}", d.cost),
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
    let total: f64 = days.iter().map(|d| d.cost).sum();
    println!("Total: ${total:.2}");
    Ok(())
}
