//! `cliffwatch forecast`: when each balance runs out, with a P10–P90 band.

use crate::{output, when, Context};

pub async fn run(
    ctx: &Context,
    account: Option<String>,
    as_of: Option<String>,
) -> cliffwatch_core::Result<()> {
    let cw = ctx.open().await?;
    let now = cw.clock().now();
    // `--as-of` answers with only the readings up to that time: a backtest on your own history.
    let as_of = as_of
        .as_deref()
        .map(|s| when::parse(s, now))
        .transpose()?
        .unwrap_or(now);
    let rows: Vec<_> = cliffwatch_core::api::overview::forecasts(&cw, account.as_deref(), as_of)
        .await?
        .into_iter()
        .map(|(a, f)| (a.label, a.provider, f))
        .collect();
    if ctx.json {
        let out =
            cliffwatch_core::api::overview::forecasts_json(&cw, account.as_deref(), as_of).await?;
        return output::json(&out);
    }
    if rows.is_empty() {
        println!("No accounts yet.");
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, provider, f)| {
            let unit = f
                .unit
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default();
            vec![
                label.clone(),
                provider.clone(),
                output::amount(f.remaining, &unit),
                f.rate_per_day
                    .map(|r| format!("{}/day", output::amount(Some(r), &unit)))
                    .unwrap_or_else(|| "—".into()),
                format!("{:?}", f.state)
                    .to_lowercase()
                    .replace("outofcredit", "out_of_credit"),
                f.message.clone(),
                f.basis.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "ACCOUNT",
            "PROVIDER",
            "REMAINING",
            "BURN",
            "STATE",
            "RUNWAY",
            "BASED ON",
        ],
        &table,
    );
    Ok(())
}
