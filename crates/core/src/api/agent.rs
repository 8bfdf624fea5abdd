//! Agent: what a program asks before it spends (the MCP server's tools, `cliffwatch mcp`).
//! One account's runway, the recent 402s with their parsed payments, and [`can_afford`]: will
//! this account last N more hours, or cover an amount, at the current burn — answered yes, no
//! or unknown with the P10/P50/P90 band and a reason in plain words. The answers reuse the
//! CLI's `--json` shapes (`forecast --json`, `events --json`), and [`shown`] runs everything an
//! agent is shown through the one redactor.

use super::{history, overview};
use crate::forecast::{runway_words, Forecast, ForecastState, RunwayHours, IDLE_AFTER_HOURS};
use crate::format::format_amount;
use crate::model::{Account, AccountState, CliffEvent};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many events [`recent_402s`] answers when the caller does not say: a page an agent reads
/// at once.
pub const RECENT_LIMIT: i64 = 20;
/// The most [`recent_402s`] answers in one call: 200 events are ~200 KB of JSON, already more
/// than an agent's context wants.
pub const RECENT_MAX: i64 = 200;

/// One account's forecast as `cliffwatch forecast --json` prints it (the same serialiser), as
/// of `cw`'s clock.
pub async fn runway(cw: &Cliffwatch, account: &str) -> Result<serde_json::Value> {
    let now = cw.clock().now();
    overview::forecasts_json(cw, Some(account), now)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::AccountNotFound(account.to_owned()))
}

/// The newest cliff events (402s, disguised 402s, prices asked and the other failed requests
/// `cliffwatch events` lists), newest first, as stored: of one account (by label) or all, at or
/// after `since`, at most `limit` (1 to [`RECENT_MAX`], [`RECENT_LIMIT`] when absent).
pub async fn recent_402s(
    cw: &Cliffwatch,
    account: Option<&str>,
    since: Option<DateTime<Utc>>,
    limit: Option<i64>,
) -> Result<Vec<CliffEvent>> {
    let limit = limit.unwrap_or(RECENT_LIMIT);
    if !(1..=RECENT_MAX).contains(&limit) {
        return Err(Error::InvalidInput(format!(
            "limit must be between 1 and {RECENT_MAX} (got {limit})"
        )));
    }
    let account = match account {
        Some(label) => Some(super::accounts::get(cw, label).await?.id),
        None => None,
    };
    history::cliff_events(
        cw,
        &history::EventQuery {
            account,
            since,
            limit: Some(limit),
            ..history::EventQuery::default()
        },
    )
    .await
}

/// What an agent asks [`can_afford`]: will the account last this many more hours, or cover this
/// much more spend (in the account's unit)? Serialised as `{"hours": 12}` or `{"amount": 5}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    Hours(f64),
    Amount(f64),
}

impl Ask {
    /// The ask from a tool's two optional inputs: exactly one, finite and above zero.
    pub fn from_parts(hours: Option<f64>, amount: Option<f64>) -> Result<Ask> {
        let (name, value, ask) = match (hours, amount) {
            (Some(h), None) => ("hours", h, Ask::Hours(h)),
            (None, Some(a)) => ("amount", a, Ask::Amount(a)),
            _ => {
                return Err(Error::InvalidInput(
                    "give exactly one of `hours` (more hours it must last) or `amount` (more \
                     spend, in the account's unit)"
                        .into(),
                ))
            }
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::InvalidInput(format!(
                "`{name}` must be a number above zero (got {value})"
            )));
        }
        Ok(ask)
    }
}

/// The answer of [`can_afford`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// It lasts even at the early (pessimistic, P10) end of the runway band, or the amount is
    /// covered by what is left.
    Yes,
    /// It may or will run out first, it is out of credit, or the amount is more than is left.
    No,
    /// No forecast to answer from (learning, no reading, spend-only without a budget).
    Unknown,
}

/// Whether an account affords an [`Ask`], with the forecast it stands on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Affordability {
    pub account: String,
    pub provider: String,
    pub ask: Ask,
    pub answer: Answer,
    /// Why, in plain words ("lasts: 12 h is inside even the early end of the band …").
    pub reason: String,
    /// The time the answer is for.
    pub as_of: DateTime<Utc>,
    pub unit: Option<String>,
    /// What was left at the latest reading (`observed_at`), in `unit`.
    pub remaining: Option<f64>,
    pub observed_at: Option<DateTime<Utc>>,
    /// Typical spend per day now, in `unit`.
    pub rate_per_day: Option<f64>,
    /// Hours from `as_of` until zero at the current burn: P10 early, P50 median, P90 late.
    pub runway_hours: Option<RunwayHours>,
    /// An amount ask: what is estimated to be left now (the latest reading less the spend since
    /// at `rate_per_day`).
    pub left_now: Option<f64>,
    /// An amount ask that is covered: the runway band left after spending it.
    pub runway_after_hours: Option<RunwayHours>,
    pub state: ForecastState,
}

/// Whether `account` (by label) affords `ask` at the current burn, as of `cw`'s clock.
pub async fn can_afford(cw: &Cliffwatch, account: &str, ask: Ask) -> Result<Affordability> {
    let now = cw.clock().now();
    let (a, f) = overview::forecasts(cw, Some(account), now)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::AccountNotFound(account.to_owned()))?;
    Ok(afford(&a, &f, ask))
}

/// [`can_afford`] of a forecast. Pure. An hours ask is "yes" only when the early (P10) end of
/// the band lasts that long (the end the runway alerts use: an agent that spends on the median
/// runs dry half the time), or when the quota resets within it and P10 reaches the reset.
pub fn afford(account: &Account, f: &Forecast, ask: Ask) -> Affordability {
    let unit = f.unit.as_ref().map(|u| u.as_str().to_owned());
    let mut out = Affordability {
        account: account.label.clone(),
        provider: account.provider.clone(),
        ask,
        answer: Answer::Unknown,
        reason: String::new(),
        as_of: f.as_of,
        unit: unit.clone(),
        remaining: f.remaining,
        observed_at: f.observed_at,
        rate_per_day: f.rate_per_day,
        runway_hours: f.runway_hours,
        left_now: None,
        runway_after_hours: None,
        state: f.state,
    };
    let unit = unit.unwrap_or_default();
    if f.state == ForecastState::OutOfCredit || account.state == AccountState::OutOfCredit {
        out.answer = Answer::No;
        out.reason = if f.state == ForecastState::OutOfCredit {
            "out of credit: nothing is left until a top-up".into()
        } else {
            "the provider answered out of credit at the latest poll: top up first".into()
        };
        return out;
    }
    if f.state == ForecastState::Ok && f.runway_hours.is_some_and(|r| r.p90 <= 0.0) {
        // The logs show more spent since the latest reading than it said was left.
        out.answer = Answer::No;
        out.reason = f.message.clone();
        return out;
    }
    let (answer, reason) = match ask {
        Ask::Hours(h) => hours_answer(f, h),
        Ask::Amount(a) => {
            let (answer, reason, left, after) = amount_answer(f, a, &unit);
            out.left_now = left;
            out.runway_after_hours = after;
            (answer, reason)
        }
    };
    out.answer = answer;
    out.reason = reason;
    out
}

fn hours_answer(f: &Forecast, h: f64) -> (Answer, String) {
    let ask = match hours_text(h).as_str() {
        "1" => "1 more hour".to_owned(),
        t => format!("{t} more hours"),
    };
    const IDLE: &str =
        "almost nothing is being spent: more than 30 days are left at the current rate";
    let r = match (f.state, f.runway_hours) {
        (ForecastState::Idle, _) if h <= IDLE_AFTER_HOURS => {
            return (Answer::Yes, format!("lasts {ask}: {IDLE}"));
        }
        (ForecastState::Idle, _) => {
            let why = "and a forecast looks no further than that";
            return (
                Answer::Unknown,
                format!("{IDLE}, {why}; {ask} is beyond it"),
            );
        }
        (ForecastState::Ok, Some(r)) => r,
        _ => {
            let why = format!("no runway to answer from: {}", f.message);
            return (Answer::Unknown, why);
        }
    };
    let band = format!(
        "{} (P10 {} h, P50 {} h, P90 {} h)",
        runway_words(&r),
        hours_text(r.p10),
        hours_text(r.p50),
        hours_text(r.p90)
    );
    // A quota that resets before the ask ends only has to last until the reset.
    let to_reset = f
        .resets_at
        .map(|t| (t - f.as_of).num_seconds() as f64 / 3600.0)
        .filter(|to_reset| *to_reset < h);
    if let Some(to_reset) = to_reset.filter(|t| r.p10 >= *t) {
        let reset = format!("the quota resets in {} h", hours_text(to_reset));
        let why = "even the early end of the band reaches the reset";
        return (
            Answer::Yes,
            format!("lasts {ask}: {reset}, and {why}; {band}"),
        );
    }
    if h <= r.p10 {
        let why = format!("lasts {ask}, even at the early end of the band: {band}");
        (Answer::Yes, why)
    } else if h <= r.p50 {
        let why = "is past the early end of the band, though within the median";
        (Answer::No, format!("not safely: {ask} {why}; {band}"))
    } else {
        let why = format!("runs out before {ask} at the current burn: {band}");
        (Answer::No, why)
    }
}

/// (answer, reason, left now, band after spending it).
fn amount_answer(
    f: &Forecast,
    amount: f64,
    unit: &str,
) -> (Answer, String, Option<f64>, Option<RunwayHours>) {
    let (Some(remaining), Some(at)) = (f.remaining, f.observed_at) else {
        return (
            Answer::Unknown,
            format!("nothing is known to be left: {}", f.message),
            None,
            None,
        );
    };
    let since = ((f.as_of - at).num_seconds() as f64 / 3600.0).max(0.0);
    let burned = f.rate_per_day.map_or(0.0, |r| r.max(0.0) / 24.0 * since);
    let left = (remaining - burned).max(0.0);
    let ask = format_amount(amount, unit);
    let left_text = format_amount(left, unit);
    if amount > left {
        return (
            Answer::No,
            format!(
                "{ask} is more than is left: about {left_text} left now (the latest reading, \
                 {}, less the spend since at the current burn)",
                format_amount(remaining, unit)
            ),
            Some(left),
            None,
        );
    }
    match (f.state, f.runway_hours) {
        (ForecastState::Ok, Some(r)) if left > 0.0 => {
            let share = (left - amount) / left;
            let after = RunwayHours {
                p10: r.p10 * share,
                p50: r.p50 * share,
                p90: r.p90 * share,
            };
            (
                Answer::Yes,
                format!(
                    "covered: about {left_text} left now; after spending {ask}, {} at the \
                     current burn (P10 {} h, P50 {} h, P90 {} h)",
                    runway_words(&after),
                    hours_text(after.p10),
                    hours_text(after.p50),
                    hours_text(after.p90)
                ),
                Some(left),
                Some(after),
            )
        }
        (ForecastState::Idle, _) => (
            Answer::Yes,
            format!("covered: about {left_text} left now, and almost nothing is being spent"),
            Some(left),
            None,
        ),
        _ => (
            Answer::Yes,
            format!(
                "covered by the {left_text} left at the latest reading; no runway yet: {}",
                f.message
            ),
            Some(left),
            None,
        ),
    }
}

/// Hours as people write them: "0.5", "6", "129".
fn hours_text(h: f64) -> String {
    if h < 10.0 {
        let s = format!("{h:.1}");
        s.trim_end_matches(".0").to_owned()
    } else {
        format!("{h:.0}")
    }
}

/// `value` as an agent is shown it: its JSON with every string through the one redactor
/// ([`crate::redact::redact_json`]: secret-named fields become `REDACTED`, keys in text and
/// URLs are cut out). The store holds only redacted events and secret references; this is the
/// second lock on the door for a host that hands data to another program.
pub fn shown<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(value)
        .map_err(|e| Error::Malformed(format!("cannot encode JSON: {e}")))?;
    crate::redact::redact_json(&mut v);
    Ok(v)
}

/// An error as an agent is shown it: `{kind, message}`, the message redacted.
pub fn shown_error(e: &Error) -> serde_json::Value {
    serde_json::json!({
        "kind": e.kind(),
        "message": crate::redact::redact_text(&e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::model::{AccountId, EventOrigin, Outcome, Unit};
    use chrono::Duration;
    use rstest::rstest;

    fn forecast(state: ForecastState, r: Option<(f64, f64, f64)>) -> Forecast {
        Forecast {
            account_id: AccountId(1),
            as_of: t0(),
            remaining: Some(100.0),
            unit: Some(Unit::usd()),
            observed_at: Some(t0()),
            rate_per_day: Some(24.0),
            runway_hours: r.map(|(p10, p50, p90)| RunwayHours { p10, p50, p90 }),
            exhausts_at: None,
            resets_at: None,
            runs_out_before_reset: None,
            state,
            message: "a message".into(),
            history_hours: 48.0,
            calibrated_with: 0,
            refined_by_logs: None,
            basis: String::new(),
        }
    }

    async fn main_account() -> (tempfile::TempDir, Cliffwatch, Account) {
        let (tmp, cw) = open().await;
        account(&cw, "openrouter", "main").await;
        let a = super::super::accounts::get(&cw, "main").await.unwrap();
        (tmp, cw, a)
    }

    #[rstest]
    #[case::inside_p10(ForecastState::Ok, Some((80.0, 100.0, 120.0)), 50.0, Answer::Yes)]
    #[case::at_p10(ForecastState::Ok, Some((80.0, 100.0, 120.0)), 80.0, Answer::Yes)]
    #[case::past_p10_within_median(ForecastState::Ok, Some((80.0, 100.0, 120.0)), 90.0, Answer::No)]
    #[case::past_the_band(ForecastState::Ok, Some((80.0, 100.0, 120.0)), 500.0, Answer::No)]
    #[case::idle_within_30_days(ForecastState::Idle, None, 700.0, Answer::Yes)]
    #[case::idle_past_30_days(ForecastState::Idle, None, 1000.0, Answer::Unknown)]
    #[case::learning(ForecastState::Learning, None, 1.0, Answer::Unknown)]
    #[case::no_reading(ForecastState::Unknown, None, 1.0, Answer::Unknown)]
    #[case::out_of_credit(ForecastState::OutOfCredit, Some((0.0, 0.0, 0.0)), 1.0, Answer::No)]
    #[case::logs_spent_it_since(ForecastState::Ok, Some((0.0, 0.0, 0.0)), 0.1, Answer::No)]
    #[tokio::test]
    async fn hours_are_answered_from_the_early_end_of_the_band(
        #[case] state: ForecastState,
        #[case] runway: Option<(f64, f64, f64)>,
        #[case] hours: f64,
        #[case] want: Answer,
    ) {
        let (_tmp, _cw, a) = main_account().await;
        let got = afford(&a, &forecast(state, runway), Ask::Hours(hours));
        assert_eq!(
            got.answer, want,
            "an agent spends on P10, not on the median: {}",
            got.reason
        );
        assert!(!got.reason.is_empty(), "every answer says why");
        assert_eq!(got.runway_hours, forecast(state, runway).runway_hours);
    }

    /// A quota that resets before the ask ends lasts if even P10 reaches the reset.
    #[tokio::test]
    async fn a_reset_inside_the_ask_counts() {
        let (_tmp, _cw, a) = main_account().await;
        let mut f = forecast(ForecastState::Ok, Some((30.0, 40.0, 50.0)));
        f.resets_at = Some(t0() + Duration::hours(24));
        let got = afford(&a, &f, Ask::Hours(100.0));
        assert_eq!(got.answer, Answer::Yes, "{}", got.reason);
        assert!(got.reason.contains("resets in 24 h"), "{}", got.reason);
        f.resets_at = Some(t0() + Duration::hours(35));
        let got = afford(&a, &f, Ask::Hours(100.0));
        assert_eq!(
            got.answer,
            Answer::No,
            "P10 (30 h) runs out before the reset (35 h): {}",
            got.reason
        );
    }

    #[rstest]
    // 100 left at the reading, 24 a day: an hour later ~99 are left.
    #[case::covered(0, 10.0, Answer::Yes, Some(100.0))]
    #[case::more_than_is_left(0, 150.0, Answer::No, Some(100.0))]
    #[case::spent_since_the_reading(12, 95.0, Answer::No, Some(88.0))]
    #[case::all_of_it(0, 100.0, Answer::Yes, Some(100.0))]
    #[tokio::test]
    async fn amounts_are_answered_from_what_is_left_now(
        #[case] hours_since_reading: i64,
        #[case] amount: f64,
        #[case] want: Answer,
        #[case] left: Option<f64>,
    ) {
        let (_tmp, _cw, a) = main_account().await;
        let mut f = forecast(ForecastState::Ok, Some((80.0, 100.0, 120.0)));
        f.as_of = t0() + Duration::hours(hours_since_reading);
        let got = afford(&a, &f, Ask::Amount(amount));
        assert_eq!(got.answer, want, "{}", got.reason);
        assert_eq!(got.left_now, left, "the reading less the burn since");
        if want == Answer::Yes {
            let after = got
                .runway_after_hours
                .expect("a covered amount comes with the band after it");
            let share = (left.unwrap() - amount) / left.unwrap();
            assert!(
                (after.p50 - 100.0 * share).abs() < 1e-9 && after.p10 <= after.p90,
                "spending a share of what is left takes that share of the runway: {after:?}"
            );
            assert!(
                got.reason.contains('$'),
                "amounts in the account's unit: {}",
                got.reason
            );
        } else {
            assert_eq!(got.runway_after_hours, None);
        }
    }

    #[tokio::test]
    async fn amounts_without_a_reading_are_unknown_and_out_of_credit_is_no() {
        let (_tmp, _cw, mut a) = main_account().await;
        let mut f = forecast(ForecastState::Unknown, None);
        f.remaining = None;
        f.observed_at = None;
        assert_eq!(
            afford(&a, &f, Ask::Amount(1.0)).answer,
            Answer::Unknown,
            "nothing known to be left"
        );
        a.state = AccountState::OutOfCredit;
        let got = afford(
            &a,
            &forecast(ForecastState::Ok, Some((80.0, 100.0, 120.0))),
            Ask::Amount(1.0),
        );
        assert_eq!(
            got.answer,
            Answer::No,
            "the provider's own out-of-credit answer wins over an older forecast"
        );
    }

    #[rstest]
    #[case(Some(1.0), None, true)]
    #[case(None, Some(2.5), true)]
    #[case(None, None, false)]
    #[case(Some(1.0), Some(1.0), false)]
    #[case(Some(0.0), None, false)]
    #[case(Some(-3.0), None, false)]
    #[case(None, Some(f64::NAN), false)]
    #[case(Some(f64::INFINITY), None, false)]
    fn an_ask_is_exactly_one_positive_number(
        #[case] hours: Option<f64>,
        #[case] amount: Option<f64>,
        #[case] ok: bool,
    ) {
        let got = Ask::from_parts(hours, amount);
        assert_eq!(got.is_ok(), ok, "{got:?}");
        if let Err(e) = got {
            assert_eq!(e.kind(), "invalid_input", "the client's error, said so");
        }
    }

    #[tokio::test]
    async fn can_afford_and_runway_read_the_same_forecast_as_the_cli() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openrouter", "main").await;
        drain(&cw, id, 48, 100.0, 1.0).await;
        let shown_runway = runway(&cw, "main").await.unwrap();
        let cli = overview::forecasts_json(&cw, Some("main"), t0())
            .await
            .unwrap();
        assert_eq!(shown_runway, cli[0], "one serialiser: forecast --json");
        let small = can_afford(&cw, "main", Ask::Hours(1.0)).await.unwrap();
        assert_eq!(small.answer, Answer::Yes, "{}", small.reason);
        let huge = can_afford(&cw, "main", Ask::Hours(10_000.0)).await.unwrap();
        assert_eq!(huge.answer, Answer::No, "{}", huge.reason);
        let broke = can_afford(&cw, "main", Ask::Amount(1e6)).await.unwrap();
        assert_eq!(broke.answer, Answer::No, "{}", broke.reason);
        let e = can_afford(&cw, "nobody", Ask::Hours(1.0))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "account_not_found");
        let e = runway(&cw, "nobody").await.unwrap_err();
        assert_eq!(e.kind(), "account_not_found", "an unknown label is said so");
    }

    #[tokio::test]
    async fn recent_402s_are_bounded_and_filtered_by_account() {
        let (_tmp, cw) = open().await;
        let main = account(&cw, "openrouter", "main").await;
        account(&cw, "deepseek", "other").await;
        for i in 0..3 {
            let event = CliffEvent {
                id: None,
                account_id: Some(main),
                provider: Some("openrouter".into()),
                occurred_at: t0() - Duration::hours(i),
                origin: EventOrigin::Poll,
                outcome: Outcome::OutOfCredit,
                status: Some(402),
                method: None,
                host: Some("openrouter.ai".into()),
                url: None,
                code: None,
                message: Some("Insufficient credits".into()),
                quota: None,
                payment: None,
                log_file_id: None,
                byte_offset: None,
            };
            crate::db::cliff_events::insert(cw.pool(), &event)
                .await
                .unwrap();
        }
        let all = recent_402s(&cw, None, None, None).await.unwrap();
        assert_eq!(all.len(), 3);
        assert!(
            all[0].occurred_at > all[1].occurred_at,
            "newest first, as `events --json`"
        );
        let two = recent_402s(&cw, Some("main"), None, Some(2)).await.unwrap();
        assert_eq!(two.len(), 2, "the limit applies");
        let since = recent_402s(&cw, None, Some(t0() - Duration::minutes(90)), None)
            .await
            .unwrap();
        assert_eq!(since.len(), 2, "since applies");
        assert!(recent_402s(&cw, Some("other"), None, None)
            .await
            .unwrap()
            .is_empty());
        for bad in [0, -1, RECENT_MAX + 1] {
            let e = recent_402s(&cw, None, None, Some(bad)).await.unwrap_err();
            assert_eq!(e.kind(), "invalid_input", "limit {bad} is out of bounds");
        }
        assert_eq!(
            recent_402s(&cw, Some("nobody"), None, None)
                .await
                .unwrap_err()
                .kind(),
            "account_not_found"
        );
    }

    /// Whatever reaches an agent went through the redactor, even if a key slipped past the
    /// store's own redaction.
    #[test]
    fn what_an_agent_is_shown_is_redacted() {
        let key = "sk-or-v1-0123456789abcdef0123456789abcdef";
        let v = shown(&serde_json::json!({
            "message": format!("rejected {key}"),
            "url": format!("https://x.example/v1?api_key={key}"),
            "nested": [{"api_key": "plain"}],
            "remaining": 12.5,
        }))
        .unwrap();
        let text = v.to_string();
        assert!(!text.contains(key), "{text}");
        assert!(!text.contains("plain"), "secret-named fields go: {text}");
        assert_eq!(v["remaining"], 12.5, "numbers are untouched");
        let e = shown_error(&Error::InvalidInput(format!("bad {key}")));
        assert_eq!(e["kind"], "invalid_input");
        assert!(!e.to_string().contains(key), "{e}");
    }
}
