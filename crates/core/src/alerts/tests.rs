//! Alert rules against a real (in-memory) store with an injected clock: flapping, top-up
//! re-arm, snooze, quiet hours, and the drain that must alert warning → critical → out of
//! credit once each.

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::model::{AccountState, CliffEvent, EventOrigin};
use chrono::TimeZone;
use rstest::rstest;

struct Harness {
    pool: SqlitePool,
    id: AccountId,
    clock: ManualClock,
    notifier: MemoryNotifier,
}

impl Harness {
    /// An account created at 2026-11-16 12:00 UTC (a Monday), with `rules`.
    async fn new(rules: AlertRules) -> Self {
        let pool = db::open_in_memory().await.unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 16, 12, 0, 0).unwrap();
        let id = db::test_rows::openrouter_account(&pool, t0).await;
        set_rules(&pool, Some(id), &rules).await.unwrap();
        Harness {
            pool,
            id,
            clock: ManualClock::new(t0),
            notifier: MemoryNotifier::new(),
        }
    }

    async fn sample(&self, remaining: f64) {
        let s = db::test_rows::usd(self.id, self.clock.now(), remaining);
        db::test_rows::store(&self.pool, [s]).await;
    }

    /// Advances the clock, stores a reading, evaluates; returns the kinds notified.
    async fn step(&self, minutes: i64, remaining: Option<f64>) -> Vec<AlertKind> {
        self.clock.advance(Duration::minutes(minutes));
        if let Some(r) = remaining {
            self.sample(r).await;
        }
        evaluate(&self.pool, self.clock.now(), &self.notifier)
            .await
            .unwrap();
        self.notifier.take().into_iter().map(|n| n.kind).collect()
    }
}

/// Only the low-balance rule: runway thresholds at 0 h never fire.
fn low_below_10() -> AlertRules {
    AlertRules {
        low_balance_amount: Some(10.0),
        low_balance_percent: None,
        runway_warning_hours: 0.0,
        runway_critical_hours: 0.0,
        ..AlertRules::default()
    }
}

#[rstest]
#[case::hovering_at_the_threshold_is_one_episode(&[50.0, 9.9, 10.2, 9.8, 10.4, 9.7, 10.9, 9.6], 1)]
#[case::clearing_past_the_margin_rearms(&[50.0, 9.9, 11.5, 9.5], 2)]
#[case::a_top_up_rearms(&[50.0, 9.0, 60.0, 9.0], 2)]
#[case::a_small_rise_does_not_rearm(&[50.0, 9.0, 10.5, 9.0, 10.6, 9.0], 1)]
#[case::never_low(&[50.0, 40.0, 30.0], 0)]
fn low_balance_does_not_flap(#[case] balances: &[f64], #[case] alerts: usize) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let h = Harness::new(low_below_10()).await;
            let mut kinds = Vec::new();
            for &b in balances {
                kinds.extend(h.step(5, Some(b)).await);
            }
            assert!(
                kinds.iter().all(|k| *k == AlertKind::LowBalance),
                "only low-balance rules apply: {kinds:?}"
            );
            assert_eq!(kinds.len(), alerts, "balances {balances:?} gave {kinds:?}");
        });
}

/// (minutes later, balance, notifications expected at that step)
type Steps = &'static [(i64, f64, usize)];

#[rstest]
#[case::an_hour(Snooze::Hour, &[(30, 8.9, 0), (20, 8.8, 0), (11, 8.7, 1), (30, 8.6, 0)])]
#[case::a_day(Snooze::Day, &[(60, 8.9, 0), (22 * 60, 8.8, 0), (61, 8.7, 1)])]
#[case::until_top_up(Snooze::UntilTopUp, &[(3 * 24 * 60, 8.0, 0), (5, 60.0, 0), (5, 9.0, 1)])]
fn snooze_holds_the_alert_back(#[case] how: Snooze, #[case] steps: Steps) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let h = Harness::new(low_below_10()).await;
            h.step(0, Some(50.0)).await;
            assert_eq!(
                h.step(5, Some(9.0)).await,
                [AlertKind::LowBalance],
                "raised once"
            );
            let open = db::alerts::current(&h.pool, Some(h.id), "low_balance")
                .await
                .unwrap()
                .unwrap();
            let snoozed = snooze(&h.pool, open.id, how, h.clock.now()).await.unwrap();
            assert_eq!(snoozed.state, "snoozed");
            for (i, &(minutes, balance, want)) in steps.iter().enumerate() {
                let got = h.step(minutes, Some(balance)).await;
                assert_eq!(
                    got.len(),
                    want,
                    "{how:?}, step {i} ({minutes} min later, {balance}): {got:?}"
                );
            }
        });
}

fn quiet_at_night() -> QuietHours {
    QuietHours {
        start_minute: 22 * 60,
        end_minute: 7 * 60,
        utc_offset_minutes: 0,
        zone: None,
    }
}

#[tokio::test]
async fn quiet_hours_hold_warnings_until_morning() {
    let h = Harness::new(low_below_10()).await;
    set_quiet_hours(&h.pool, Some(quiet_at_night()))
        .await
        .unwrap();
    h.step(0, Some(50.0)).await;
    // 23:00 UTC: the balance goes low. A warning: stored, not delivered.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 16, 23, 0, 0).unwrap());
    h.sample(9.0).await;
    let raised = evaluate(&h.pool, h.clock.now(), &h.notifier).await.unwrap();
    assert_eq!(raised.len(), 1, "the alert is raised and stored at night");
    assert_eq!(
        raised[0].notified_at, None,
        "but nobody is woken for a warning"
    );
    assert!(
        h.notifier.take().is_empty(),
        "no notification during quiet hours"
    );
    assert!(h.step(60, None).await.is_empty(), "still quiet at midnight");
    // 07:05: the held warning is delivered, once.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 17, 7, 5, 0).unwrap());
    assert_eq!(
        h.step(0, None).await,
        [AlertKind::LowBalance],
        "the warning waits for the morning"
    );
    assert!(h.step(60, None).await.is_empty(), "and is not repeated");
}

#[tokio::test]
async fn a_critical_alert_at_night_goes_out_at_once_and_supersedes_the_held_warning() {
    let h = Harness::new(low_below_10()).await;
    set_quiet_hours(&h.pool, Some(quiet_at_night()))
        .await
        .unwrap();
    h.step(0, Some(50.0)).await;
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 16, 23, 0, 0).unwrap());
    assert!(h.step(0, Some(9.0)).await.is_empty(), "a warning waits");
    // The credit runs out at 02:00: critical, delivered at once.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 17, 2, 0, 0).unwrap());
    assert_eq!(
        h.step(0, Some(0.0)).await,
        [AlertKind::OutOfCredit],
        "critical alerts ignore quiet hours"
    );
    // 07:05: "balance is low" would only repeat, later and milder, what "out of credit" said.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 17, 7, 5, 0).unwrap());
    assert!(
        h.step(0, None).await.is_empty(),
        "the held warning was superseded by the out-of-credit alert"
    );
    let low = db::alerts::current(&h.pool, Some(h.id), "low_balance")
        .await
        .unwrap()
        .expect("the low-balance alert is still stored");
    assert_eq!(low.state, "open", "it stays part of the episode");
    assert!(low.notified_at.is_some(), "told with the critical one");
}

#[tokio::test]
async fn a_draining_balance_warns_then_goes_critical_then_out_of_credit_once_each() {
    // 1 USD per hour from 150, read every 15 minutes; evaluated every hour.
    let h = Harness::new(AlertRules::default()).await;
    let mut kinds = Vec::new();
    let mut first = std::collections::HashMap::new();
    for quarter in 0..=(150 * 4 + 8) {
        let remaining = (150.0 - quarter as f64 / 4.0).max(0.0);
        h.clock
            .advance(Duration::minutes(if quarter == 0 { 0 } else { 15 }));
        h.sample(remaining).await;
        if quarter % 4 == 0 {
            evaluate(&h.pool, h.clock.now(), &h.notifier).await.unwrap();
            for n in h.notifier.take() {
                first.entry(n.kind).or_insert(remaining);
                kinds.push(n.kind);
            }
        }
    }
    assert_eq!(
        kinds,
        [
            AlertKind::RunwayWarning,
            AlertKind::RunwayCritical,
            AlertKind::OutOfCredit
        ],
        "each alert once, in order of urgency"
    );
    // P10 is the early end of the band: with a few days of perfectly steady history the band
    // is still the prior's (P10 × 1/1.73 at 72 h, × 1/2.06 at 24 h: the prior is wider for
    // shorter runways), so the alerts come early, never late.
    let warned_at = first[&AlertKind::RunwayWarning];
    assert!(
        (72.0..=120.0).contains(&warned_at),
        "warned with 72–120 h left, at {warned_at}"
    );
    let critical_at = first[&AlertKind::RunwayCritical];
    assert!(
        (24.0..=50.0).contains(&critical_at),
        "critical with 24–50 h left, at {critical_at}"
    );
}

#[rstest]
#[case::invalid_key(AccountState::InvalidKey, 5, Some(AlertKind::KeyInvalid))]
#[case::failing_for_two_hours(AccountState::Error, 120, Some(AlertKind::PollFailing))]
#[case::failing_briefly(AccountState::Error, 30, None)]
#[case::healthy(AccountState::Ok, 120, None)]
fn key_and_polling_problems(
    #[case] state: AccountState,
    #[case] minutes_since_reading: i64,
    #[case] want: Option<AlertKind>,
) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let h = Harness::new(AlertRules::default()).await;
            h.sample(50.0).await;
            h.clock.advance(Duration::minutes(minutes_since_reading));
            db::accounts::set_state(&h.pool, h.id, state, None, h.clock.now())
                .await
                .unwrap();
            let got = h.step(0, None).await;
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "{state:?} after {minutes_since_reading} min"
            );
            assert!(h.step(30, None).await.is_empty(), "one alert per episode");
        });
}

#[tokio::test]
async fn a_402_from_a_log_alerts_with_a_checked_payment_link() {
    let h = Harness::new(AlertRules::default()).await;
    h.step(0, Some(50.0)).await;
    let event = CliffEvent {
        id: None,
        account_id: Some(h.id),
        provider: Some("openrouter".into()),
        occurred_at: h.clock.now() + Duration::minutes(1),
        origin: EventOrigin::Log,
        outcome: Outcome::OutOfCredit,
        status: Some(402),
        method: Some("POST".into()),
        host: Some("openrouter.ai".into()),
        url: None,
        code: None,
        message: Some("Insufficient credits".into()),
        quota: None,
        payment: Some(serde_json::json!({"payment_url": "https://pay.example.net/checkout/9"})),
        log_file_id: None,
        byte_offset: None,
    };
    db::cliff_events::insert(&h.pool, &event).await.unwrap();
    h.clock.advance(Duration::minutes(2));
    evaluate(&h.pool, h.clock.now(), &h.notifier).await.unwrap();
    let sent = h.notifier.take();
    assert_eq!(sent.len(), 1, "the 402 alerts at once: {sent:?}");
    assert_eq!(sent[0].kind, AlertKind::OutOfCredit);
    assert_eq!(
        sent[0].top_up_url.as_deref(),
        Some("https://openrouter.ai/settings/credits"),
        "the top-up action is the provider's known billing page"
    );
    let link = sent[0]
        .payment_link
        .as_ref()
        .expect("the body's link is shown");
    assert!(
        !link.provider_domain,
        "pay.example.net is not OpenRouter's: flagged"
    );
    assert!(
        link.label.contains("pay.example.net"),
        "shown with its domain: {}",
        link.label
    );
    assert!(
        sent[0].title.starts_with("OpenRouter · main"),
        "title names provider and account"
    );
}

use AlertKind::{
    KeyInvalid as Key, LowBalance as Low, OutOfCredit as Out, PollFailing as Poll,
    RunwayCritical as Crit, RunwayWarning as Warn,
};

#[rstest]
#[case::all_three_at_once(&[Low, Warn, Crit], false, None, &[Crit], 2)]
#[case::low_and_warning(&[Low, Warn], false, None, &[Warn], 1)]
#[case::low_and_out_of_credit(&[Low, Out], false, None, &[Out], 1)]
#[case::one_alone(&[Low], false, None, &[Low], 0)]
#[case::key_and_polling_are_their_own_story(&[Low, Warn, Key, Poll], false, None, &[Key, Poll, Warn], 1)]
#[case::quiet_holds_warnings_together(&[Low, Warn], true, None, &[], 0)]
#[case::quiet_critical_supersedes_held_warnings(&[Low, Warn, Crit], true, None, &[Crit], 2)]
#[case::quiet_holds_key_warning(&[Key, Out], true, None, &[Out], 0)]
#[case::low_after_critical_was_told(&[Low], false, Some(Crit), &[], 0)]
#[case::warning_after_critical_was_told(&[Low, Warn], false, Some(Crit), &[], 0)]
#[case::critical_after_a_warning_was_told(&[Crit], false, Some(Warn), &[Crit], 0)]
#[case::out_of_credit_after_critical(&[Out], false, Some(Crit), &[Out], 0)]
#[case::key_goes_out_whatever_was_told(&[Low, Key], false, Some(Out), &[Key], 0)]
fn the_most_severe_balance_alert_speaks_for_the_others(
    #[case] due: &[AlertKind],
    #[case] quiet: bool,
    #[case] told: Option<AlertKind>,
    #[case] sent: &[AlertKind],
    #[case] superseded: usize,
) {
    let due: Vec<_> = due
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, AlertId(i as i64 + 1)))
        .collect();
    let plan = plan_delivery(&due, quiet, told.and_then(AlertKind::balance_rank));
    let kinds: Vec<_> = plan.send.iter().map(|(k, ..)| *k).collect();
    assert_eq!(kinds, sent, "{due:?}, quiet {quiet}, told {told:?}");
    let silent_balance = due
        .iter()
        .filter(|(k, _)| k.balance_rank().is_some())
        .count();
    if told.is_some() && kinds.iter().all(|k| k.balance_rank().is_none()) {
        assert_eq!(plan.silent.len(), silent_balance, "told silently: {plan:?}");
    }
    let lesser: usize = plan.send.iter().map(|(.., l)| l.len()).sum();
    assert_eq!(lesser, superseded, "{due:?}, quiet {quiet}: {plan:?}");
}

/// A balance drained at 1 USD/h from 150, read every 15 minutes, that Cliffwatch first
/// evaluates when `first_seen` is left (it was not running before), then hourly until empty.
/// Each pass may deliver at most one alert of the balance story; the ones it raised but did
/// not deliver never go out later in the episode.
#[rstest]
#[case::low_warning_and_critical_at_once(20.0, 30.0, &[Crit, Out])]
#[case::low_and_warning_at_once(50.0, 60.0, &[Warn, Crit, Out])]
#[case::low_after_critical_adds_nothing(150.0, 10.0, &[Warn, Crit, Out])]
fn one_notification_per_pass_for_a_draining_balance(
    #[case] first_seen: f64,
    #[case] low_amount: f64,
    #[case] want: &[AlertKind],
) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let h = Harness::new(AlertRules {
                low_balance_amount: Some(low_amount),
                low_balance_percent: None,
                ..AlertRules::default()
            })
            .await;
            let mut passes = Vec::new();
            for quarter in 0..=(150 * 4 + 8) {
                let remaining = (150.0 - quarter as f64 / 4.0).max(0.0);
                h.clock
                    .advance(Duration::minutes(if quarter == 0 { 0 } else { 15 }));
                h.sample(remaining).await;
                if remaining <= first_seen && quarter % 4 == 0 {
                    evaluate(&h.pool, h.clock.now(), &h.notifier).await.unwrap();
                    let sent: Vec<_> = h.notifier.take().into_iter().map(|n| n.kind).collect();
                    if !sent.is_empty() {
                        passes.push((remaining, sent));
                    }
                }
            }
            assert!(
                passes.iter().all(|(_, sent)| sent.len() == 1),
                "one notification per pass: {passes:?}"
            );
            let kinds: Vec<_> = passes.iter().map(|(_, sent)| sent[0]).collect();
            assert_eq!(kinds, want, "first seen at {first_seen}: {passes:?}");
            for kind in [Low, Warn] {
                let stored = db::alerts::current(&h.pool, Some(h.id), kind.as_str())
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{kind:?} was raised (and stored) with the others"));
                assert!(
                    stored.notified_at.is_some(),
                    "and counts as told: {stored:?}"
                );
            }
        });
}

/// The out-of-credit body names what the provider really answered: a 403 or an HTTP 200
/// "zero balance" is a disguised 402, and the user looks for that status in their logs.
#[rstest]
#[case::a_real_402(
    Some(Some(402)),
    "Requests are being refused (HTTP 402): top up to resume."
)]
#[case::a_403(
    Some(Some(403)),
    "Requests are being refused (out of credit, disguised as HTTP 403): top up to resume."
)]
#[case::an_http_200(
    Some(Some(200)),
    "Requests are being refused (out of credit, disguised as HTTP 200): top up to resume."
)]
#[case::no_status(Some(None), "Requests are being refused: top up to resume.")]
#[case::only_the_balance(None, "Requests will be refused until you top up.")]
fn the_out_of_credit_body_names_the_real_status(
    #[case] event_status: Option<Option<i64>>,
    #[case] want: &str,
) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let h = Harness::new(AlertRules::default()).await;
            h.step(0, Some(50.0)).await;
            if let Some(status) = event_status {
                let event = CliffEvent {
                    id: None,
                    account_id: Some(h.id),
                    provider: Some("openrouter".into()),
                    occurred_at: h.clock.now() + Duration::minutes(1),
                    origin: EventOrigin::Poll,
                    outcome: Outcome::OutOfCredit,
                    status,
                    method: Some("GET".into()),
                    host: Some("openrouter.ai".into()),
                    url: None,
                    code: None,
                    message: None,
                    quota: None,
                    payment: None,
                    log_file_id: None,
                    byte_offset: None,
                };
                db::cliff_events::insert(&h.pool, &event).await.unwrap();
                h.step(2, None).await;
            } else {
                h.step(2, Some(0.0)).await;
            }
            let stored = db::alerts::current(&h.pool, Some(h.id), "out_of_credit")
                .await
                .unwrap()
                .expect("out of credit");
            assert!(
                stored.body.ends_with(want),
                "{event_status:?}: {:?}",
                stored.body
            );
            if event_status.flatten().is_some_and(|s| s != 402) {
                assert!(!stored.body.contains("402"), "{:?}", stored.body);
            }
        });
}

#[rstest]
#[case(5.2, "usd", "$5.20")]
#[case(1234.0, "credits", "1,234 credits")]
#[case(999.0, "searches", "999 searches")]
fn amounts_in_plain_words(#[case] v: f64, #[case] unit: &str, #[case] want: &str) {
    assert_eq!(amount(v, &Unit::parse(unit).unwrap()), want);
}

/// Channels follow the desktop's episode rules: queued once when the desktop would be told,
/// held by quiet hours like it, filtered by each channel's minimum severity, never queued
/// during a pause, and queued again when a snooze runs out.
mod channels_follow_the_episode {
    use super::*;

    async fn channel(h: &Harness, label: &str, min: &str) {
        db::channels::insert(
            &h.pool,
            &db::channels::NewChannel {
                kind: "webhook",
                label,
                secret_ref: "env:CW_TEST_HOOK",
                secret_hint: None,
                min_severity: min,
                options: &serde_json::json!({}),
                now: h.clock.now(),
            },
        )
        .await
        .unwrap();
    }

    /// (channel label, alert kind) of every delivery queued so far.
    async fn queued(h: &Harness) -> Vec<(String, String)> {
        let alerts = db::alerts::list(&h.pool, false).await.unwrap();
        let ids: Vec<AlertId> = alerts.iter().map(|a| a.id).collect();
        let mut out: Vec<(String, String)> = db::channels::of_alerts(&h.pool, &ids)
            .await
            .unwrap()
            .into_iter()
            .map(|d| {
                let kind = alerts
                    .iter()
                    .find(|a| a.id == d.alert_id)
                    .unwrap()
                    .kind
                    .clone();
                (d.channel_label, kind)
            })
            .collect();
        out.sort();
        out
    }

    #[tokio::test]
    async fn once_per_episode_and_by_minimum_severity() {
        let h = Harness::new(low_below_10()).await;
        channel(&h, "all", "info").await;
        channel(&h, "pager", "critical").await;
        h.step(0, Some(50.0)).await;
        assert_eq!(h.step(5, Some(9.0)).await, [AlertKind::LowBalance]);
        let q = queued(&h).await;
        assert_eq!(
            q,
            [("all".to_owned(), "low_balance".to_owned())],
            "a warning skips the pager"
        );
        let payload: channels::AlertMessage = serde_json::from_str(
            &db::channels::due(&h.pool, h.clock.now(), 10).await.unwrap()[0].payload,
        )
        .unwrap();
        assert_eq!(payload.account.as_deref(), Some("main"));
        assert_eq!(payload.provider.as_deref(), Some("openrouter"));
        assert_eq!(payload.remaining, Some(9.0));
        assert_eq!(payload.remaining_text.as_deref(), Some("$9.00"));
        h.step(5, Some(8.5)).await;
        h.step(5, Some(8.0)).await;
        assert_eq!(queued(&h).await.len(), 1, "the episode is told once");
        h.step(5, Some(0.0)).await;
        let q = queued(&h).await;
        assert!(
            q.contains(&("pager".to_owned(), "out_of_credit".to_owned())),
            "critical reaches the pager: {q:?}"
        );
    }

    #[tokio::test]
    async fn quiet_hours_and_pauses_hold_channels_like_the_desktop() {
        let h = Harness::new(low_below_10()).await;
        channel(&h, "all", "info").await;
        set_quiet_hours(&h.pool, Some(quiet_at_night()))
            .await
            .unwrap();
        h.step(0, Some(50.0)).await;
        h.clock
            .set(Utc.with_ymd_and_hms(2026, 11, 16, 23, 0, 0).unwrap());
        h.sample(9.0).await;
        evaluate(&h.pool, h.clock.now(), &h.notifier).await.unwrap();
        assert!(
            queued(&h).await.is_empty(),
            "a warning waits for the morning"
        );
        h.clock
            .set(Utc.with_ymd_and_hms(2026, 11, 17, 7, 5, 0).unwrap());
        evaluate_with(&h.pool, h.clock.now(), &h.notifier, Delivery::Hold, None)
            .await
            .unwrap();
        assert!(queued(&h).await.is_empty(), "paused: nothing goes out");
        evaluate_with(&h.pool, h.clock.now(), &h.notifier, Delivery::Silent, None)
            .await
            .unwrap();
        assert_eq!(
            queued(&h).await.len(),
            1,
            "desktop notifications off: channels are still told"
        );
    }

    #[tokio::test]
    async fn a_snooze_that_runs_out_is_told_again() {
        let h = Harness::new(low_below_10()).await;
        channel(&h, "all", "info").await;
        h.step(0, Some(50.0)).await;
        h.step(5, Some(9.0)).await;
        let alert = db::alerts::list(&h.pool, true).await.unwrap()[0].clone();
        let d = &db::channels::of_alerts(&h.pool, &[alert.id]).await.unwrap()[0];
        db::channels::record(
            &h.pool,
            alert.id,
            d.channel_id,
            &db::channels::Attempt::Delivered,
            h.clock.now(),
        )
        .await
        .unwrap();
        snooze(&h.pool, alert.id, Snooze::Hour, h.clock.now())
            .await
            .unwrap();
        h.step(30, None).await;
        assert_eq!(
            db::channels::of_alerts(&h.pool, &[alert.id]).await.unwrap()[0].state,
            "delivered"
        );
        h.step(40, None).await;
        let again = db::channels::of_alerts(&h.pool, &[alert.id]).await.unwrap();
        assert_eq!(again[0].state, "pending", "queued again after the snooze");
    }
}
