//! `cliffwatch export balances|events|usage|alerts --format csv|json [--since] [--account]
//! [--output FILE]`: the data as a file, for a spreadsheet, a script or another Cliffwatch.

use crate::{when, Context};
use cliffwatch_core::api::{accounts, export};
use std::io::Write;
use std::path::PathBuf;

pub async fn run(
    ctx: &Context,
    what: String,
    format: String,
    since: Option<String>,
    account: Option<String>,
    output: Option<PathBuf>,
) -> cliffwatch_core::Result<()> {
    let what = export::Dataset::parse(&what)?;
    let format = export::ExportFormat::parse(&format)?;
    let cw = ctx.open().await?;
    let query = export::ExportQuery {
        since: since
            .as_deref()
            .map(|s| when::parse(s, cw.clock().now()))
            .transpose()?,
        account: match account {
            Some(label) => Some(accounts::get(&cw, &label).await?.id),
            None => None,
        },
    };
    let text = export::export(&cw, what, format, &query).await?;
    let written = match &output {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    written.map_err(|e| {
        cliffwatch_core::Error::InvalidInput(format!(
            "cannot write the export{}: {e}",
            output
                .as_ref()
                .map(|p| format!(" to {}", p.display()))
                .unwrap_or_default()
        ))
    })
}
