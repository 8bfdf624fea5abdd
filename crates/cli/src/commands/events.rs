//! `cliffwatch events`: the 402 history (and other failed requests) from polls and logs.

use crate::{output, when, Context};
use cliffwatch_core::api::{accounts, history, history::EventQuery};
use cliffwatch_core::model::{CliffEvent, Outcome};

pub async fn run(
    ctx: &Context,
    since: Option<String>,
    account: Option<String>,
    outcome: Option<String>,
    limit: Option<i64>,
) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let now = cw.clock().now();
    let query = EventQuery {
        since: since.as_deref().map(|s| when::parse(s, now)).transpose()?,
        account: match account {
            Some(label) => Some(accounts::get(&cw, &label).await?.id),
            None => None,
        },
        provider: None,
        until: None,
        outcome: outcome.as_deref().map(Outcome::parse).transpose().map_err(|_| {
            cliffwatch_core::Error::InvalidInput(
                "--outcome takes out_of_credit, payment_required, rate_limited, unauthorized, forbidden, server_error, client_error or bad_response".into(),
            )
        })?,
        limit,
    };
    let events = history::cliff_events(&cw, &query).await?;
    if ctx.json {
        return output::json(&events);
    }
    if events.is_empty() {
        println!("No events.");
        return Ok(());
    }
    print_events(&events);
    Ok(())
}

/// The payment in words ("x402 v2 0.01 USDC eip155:8453 → 0x2096…287C"), as the core words it.
fn payment(e: &CliffEvent) -> String {
    let Some(v) = cliffwatch_core::payments::view(e.payment.as_ref()) else {
        return String::new();
    };
    let mut parts = vec![v.protocol];
    parts.extend(v.price);
    match (v.network, v.pay_to) {
        (Some(n), Some(to)) => parts.push(format!("{n} → {to}")),
        (Some(n), None) => parts.push(n),
        (None, Some(to)) => parts.push(format!("→ {to}")),
        (None, None) => {}
    }
    parts.join(" ")
}

/// One line per event, newest first, for people.
pub fn print_events(events: &[CliffEvent]) {
    if events.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into()),
                e.outcome.as_str().into(),
                e.provider
                    .clone()
                    .or_else(|| e.host.clone())
                    .unwrap_or_else(|| "—".into()),
                e.code.clone().unwrap_or_default(),
                payment(e),
                e.message
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(70)
                    .collect(),
            ]
        })
        .collect();
    output::table(
        &[
            "TIME (UTC)",
            "STATUS",
            "OUTCOME",
            "PROVIDER",
            "CODE",
            "PAYMENT",
            "MESSAGE",
        ],
        &rows,
    );
}
