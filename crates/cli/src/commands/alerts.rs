//! `cliffwatch alerts`: alerts raised, and snoozing them.

use crate::{output, Context};
use clap::Subcommand;
use cliffwatch_core::alerts::Snooze;
use cliffwatch_core::model::AlertId;

#[derive(Debug, Subcommand)]
pub enum AlertsCmd {
    /// Snooze an alert: 1h, 1d or top-up (until the account is topped up).
    Snooze {
        id: i64,
        #[arg(long = "for", value_name = "1h|1d|top-up", default_value = "1h")]
        duration: String,
    },
}

pub async fn run(ctx: &Context, cmd: Option<AlertsCmd>, all: bool) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    if let Some(AlertsCmd::Snooze { id, duration }) = cmd {
        let how = match duration.as_str() {
            "1h" => Snooze::Hour,
            "1d" => Snooze::Day,
            "top-up" => Snooze::UntilTopUp,
            other => {
                return Err(cliffwatch_core::Error::InvalidInput(format!(
                    "--for takes 1h, 1d or top-up, not `{other}`"
                )))
            }
        };
        let alert = cliffwatch_core::api::history::snooze(&cw, AlertId(id), how).await?;
        return if ctx.json {
            output::json(&alert)
        } else {
            println!("Snoozed alert {id}: {}", output::clean(&alert.title));
            Ok(())
        };
    }
    let alerts = cliffwatch_core::api::history::alerts(&cw, all).await?;
    if ctx.json {
        return output::json(&alerts);
    }
    if alerts.is_empty() {
        println!("No open alerts.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|row| {
            let a = &row.alert;
            let told = row
                .deliveries
                .iter()
                .map(|d| format!("{} {}", d.channel, d.state))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                a.id.to_string(),
                a.raised_at.format("%Y-%m-%d %H:%M").to_string(),
                a.severity.clone(),
                a.state.clone(),
                a.title.clone(),
                a.body.clone(),
                if told.is_empty() {
                    "-".to_owned()
                } else {
                    told
                },
            ]
        })
        .collect();
    output::table(
        &[
            "ID",
            "RAISED (UTC)",
            "SEVERITY",
            "STATE",
            "TITLE",
            "DETAIL",
            "CHANNELS",
        ],
        &rows,
    );
    Ok(())
}
