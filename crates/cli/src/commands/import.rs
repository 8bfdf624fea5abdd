//! `cliffwatch import balances FILE.csv --account A`: balance history kept elsewhere.

use crate::{output, Context};
use clap::Subcommand;
use cliffwatch_core::model::Unit;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import `time,remaining` rows (a provider dashboard export, your own script's log).
    Balances {
        file: PathBuf,
        /// The account the history belongs to.
        #[arg(long, value_name = "LABEL")]
        account: String,
        /// The unit of `remaining` (default: the unit of the account's latest reading).
        #[arg(long)]
        unit: Option<String>,
    },
}

pub async fn run(ctx: &Context, cmd: ImportCmd) -> cliffwatch_core::Result<()> {
    let ImportCmd::Balances {
        file,
        account,
        unit,
    } = cmd;
    let unit = unit.as_deref().map(Unit::parse).transpose()?;
    let f = std::fs::File::open(&file).map_err(|e| {
        cliffwatch_core::Error::InvalidInput(format!("cannot read {}: {e}", file.display()))
    })?;
    let cw = ctx.open().await?;
    let report = cliffwatch_core::api::accounts::import_balances(
        &cw,
        &account,
        std::io::BufReader::new(f),
        unit,
    )
    .await?;
    if ctx.json {
        return output::json(&report);
    }
    println!(
        "Imported {} reading(s) into `{}` ({} already present, {} top-up(s) or reset(s)).",
        report.imported,
        output::clean(&account),
        report.duplicates,
        report.top_ups
    );
    Ok(())
}
