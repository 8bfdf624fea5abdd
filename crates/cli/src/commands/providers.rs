//! `cliffwatch providers`: what Cliffwatch can poll.

use crate::{output, Context};
use cliffwatch_core::providers::PROVIDERS;

pub fn run(ctx: &Context) -> cliffwatch_core::Result<()> {
    if ctx.json {
        return output::json(&PROVIDERS);
    }
    let rows: Vec<Vec<String>> = PROVIDERS
        .iter()
        .map(|p| {
            vec![
                p.id.into(),
                p.name.into(),
                p.units.into(),
                p.key_help.into(),
                p.options
                    .iter()
                    .map(|o| format!("{}{}", o.key, if o.required { "" } else { " (optional)" }))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    output::table(
        &["ID", "NAME", "UNIT", "KEY", "OPTIONS (--option K=V)"],
        &rows,
    );
    Ok(())
}
