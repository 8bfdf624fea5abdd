//! `cliffwatch settings [--json]` and `cliffwatch settings set KEY VALUE`: what the Settings
//! screen shows and saves, for a machine without a window. A running `watch` (or app) re-reads
//! them at its next change or restart.

use crate::{output, Context};
use clap::Subcommand;
use cliffwatch_core::api::settings::{self, Settings};

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Set one setting: poll_interval_s, notifications, theme, quiet_hours, listen, rules.*
    /// (run `cliffwatch settings` to see them all).
    Set { key: String, value: String },
}

pub async fn run(ctx: &Context, cmd: Option<SettingsCmd>) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let s = match cmd {
        Some(SettingsCmd::Set { key, value }) => settings::set(&cw, &key, &value).await?,
        None => settings::get(&cw).await?,
    };
    if ctx.json {
        return output::json(&s);
    }
    print(&s);
    Ok(())
}

fn print(s: &Settings) {
    let hours = |h: f64| format!("{h} h");
    let optional =
        |v: Option<f64>, suffix: &str| v.map_or_else(|| "none".into(), |v| format!("{v}{suffix}"));
    let quiet = s.quiet_hours.as_ref().map_or_else(
        || "off".into(),
        |q| {
            let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            let zone = q
                .zone
                .clone()
                .unwrap_or_else(|| format!("UTC{:+}min", q.utc_offset_minutes));
            format!("{}-{} {zone}", hm(q.start_minute), hm(q.end_minute))
        },
    );
    let r = &s.rules;
    let values = [
        s.poll_interval_s.to_string(),
        s.notifications.to_string(),
        format!("{:?}", s.theme).to_lowercase(),
        quiet,
        s.listen.clone().unwrap_or_else(|| "off".into()),
        hours(r.runway_warning_hours),
        hours(r.runway_critical_hours),
        optional(r.low_balance_percent, " %"),
        optional(r.low_balance_amount, ""),
        hours(r.poll_failing_hours),
        r.enabled.to_string(),
        r.unpaid_challenges_per_hour
            .map_or_else(|| "off".into(), |n| n.to_string()),
    ];
    let rows: Vec<Vec<String>> = settings::KEYS
        .iter()
        .zip(values)
        .map(|((key, what), value)| {
            vec![
                (*key).to_owned(),
                output::clean(&value).into_owned(),
                (*what).to_owned(),
            ]
        })
        .collect();
    output::table(&["KEY", "VALUE", "MEANING"], &rows);
}
