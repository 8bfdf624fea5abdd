//! Each kind against a loopback receiver speaking its wire format (wiremock), the verdicts on
//! receivers' answers, backoff, and a pass where one channel hangs while the others deliver.

use super::*;
use chrono::TimeZone;
use serde_json::{json, Value};
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap()
}

/// A critical runway alert on an OpenRouter account, with text a receiver must not read as
/// markup or mentions.
fn message() -> AlertMessage {
    AlertMessage {
        version: 1,
        alert_id: AlertId(7),
        kind: "runway_critical".into(),
        severity: Severity::Critical,
        title: "OpenRouter · main: may run out within a day".into(),
        body: "$5.20 left — ~14 h left <@everyone> & co.".into(),
        account: Some("main".into()),
        provider: Some("openrouter".into()),
        subject: None,
        remaining: Some(5.2),
        unit: Some("usd".into()),
        remaining_text: Some("$5.20".into()),
        burn_per_day: Some(8.9),
        runway_hours: Some(RunwayBand {
            p10: 9.0,
            p50: 14.0,
            p90: 20.0,
        }),
        top_up_url: Some("https://openrouter.ai/settings/credits".into()),
        time: t0(),
        test: false,
    }
}

fn target(kind: ChannelKind, secret: Option<&str>, options: ChannelOptions) -> Target {
    Target {
        kind,
        label: "ops".into(),
        secret: secret.map(|s| Secret::new(s).unwrap()),
        options,
    }
}

fn http() -> Http {
    http_client().unwrap()
}

async fn only_body(server: &MockServer) -> Value {
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1, "one request");
    serde_json::from_slice(&got[0].body).unwrap()
}

#[tokio::test]
async fn webhook_posts_the_documented_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/cw"))
        .and(header("content-type", "application/json"))
        .and(header("x-cliffwatch-event", "alert"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Webhook,
        Some(&format!("{}/hooks/cw?token=s3cr3t", server.uri())),
        ChannelOptions::default(),
    );
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let body = only_body(&server).await;
    assert_eq!(body, serde_json::to_value(message()).unwrap());
    for field in [
        "alert_id",
        "kind",
        "severity",
        "account",
        "provider",
        "remaining",
        "runway_hours",
        "top_up_url",
        "time",
    ] {
        assert!(body.get(field).is_some(), "{field} is in the body");
    }
    assert_eq!(
        body["runway_hours"],
        json!({"p10": 9.0, "p50": 14.0, "p90": 20.0})
    );
    assert_eq!(body["time"], "2026-12-02T03:00:00Z");
}

#[tokio::test]
async fn slack_gets_text_blocks_and_a_top_up_button_with_mrkdwn_escaped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/xyz"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Slack,
        Some(&format!("{}/services/T0/B0/xyz", server.uri())),
        ChannelOptions::default(),
    );
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let body = only_body(&server).await;
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains("may run out within a day"));
    let section = &body["blocks"][0];
    assert_eq!(section["type"], "section");
    assert_eq!(section["text"]["type"], "mrkdwn");
    let text = section["text"]["text"].as_str().unwrap();
    assert!(text.starts_with("*OpenRouter · main"), "{text}");
    assert!(text.contains("&lt;@everyone&gt; &amp; co."), "{text}");
    assert!(!text.contains("<@everyone>"), "no mention survives: {text}");
    assert!(text.contains("Runway 9 h (P10)"), "{text}");
    let button = &body["blocks"][1]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(button["text"]["text"], "Top up");
    assert_eq!(button["url"], "https://openrouter.ai/settings/credits");
}

#[tokio::test]
async fn slack_refusals_are_final_and_name_what_slack_said() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&server)
        .await;
    let secret = format!("{}/services/T0/B0/secretpart", server.uri());
    let t = target(ChannelKind::Slack, Some(&secret), ChannelOptions::default());
    let Verdict::Refused(why) = send(&http(), &message(), &t).await else {
        panic!("a deleted webhook is not retried")
    };
    assert!(
        why.contains("HTTP 404") && why.contains("no_service"),
        "{why}"
    );
    assert!(
        !why.contains("secretpart"),
        "the URL is not in the error: {why}"
    );
}

#[tokio::test]
async fn discord_gets_one_embed_with_mentions_disabled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/webhooks/1/tok"))
        .and(body_partial_json(
            json!({"allowed_mentions": {"parse": []}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Discord,
        Some(&format!("{}/api/webhooks/1/tok", server.uri())),
        ChannelOptions::default(),
    );
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let body = only_body(&server).await;
    let embed = &body["embeds"][0];
    assert_eq!(
        embed["title"],
        "OpenRouter · main: may run out within a day"
    );
    assert_eq!(embed["url"], "https://openrouter.ai/settings/credits");
    assert_eq!(embed["color"], 0xD92D20);
    assert_eq!(embed["timestamp"], "2026-12-02T03:00:00+00:00");
    assert_eq!(embed["fields"][0]["name"], "Remaining");
    assert_eq!(embed["fields"][0]["value"], "$5.20");
    assert_eq!(embed["fields"][1]["name"], "Runway");
}

#[tokio::test]
async fn discord_rate_limit_is_retried_after_what_it_says() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(
                    json!({"message": "You are being rate limited.", "retry_after": 7.0}),
                ),
        )
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Discord,
        Some(&format!("{}/api/webhooks/1/tok", server.uri())),
        ChannelOptions::default(),
    );
    match send(&http(), &message(), &t).await {
        Verdict::Retry { after, error } => {
            assert_eq!(after, Some(Duration::from_secs(7)));
            assert!(error.contains("429"), "{error}");
        }
        other => panic!("a 429 is retried, got {other:?}"),
    }
}

#[tokio::test]
async fn ntfy_publishes_json_to_the_server_root_with_priority_and_a_top_up_action() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "abc", "event": "message"})),
        )
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Ntfy,
        Some(&format!("{}/cliffwatch-ops_42", server.uri())),
        ChannelOptions::default(),
    );
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let body = only_body(&server).await;
    assert_eq!(body["topic"], "cliffwatch-ops_42");
    assert_eq!(body["title"], "OpenRouter · main: may run out within a day");
    assert_eq!(body["priority"], 5);
    assert_eq!(body["tags"][0], "rotating_light");
    assert_eq!(body["click"], "https://openrouter.ai/settings/credits");
    assert_eq!(
        body["actions"][0],
        json!({"action": "view", "label": "Top up", "url": "https://openrouter.ai/settings/credits", "clear": true})
    );
}

#[test]
fn an_ntfy_topic_under_a_path_keeps_its_server_path() {
    let s = Secret::new("https://push.example.com/ntfy/alerts").unwrap();
    let (root, topic) = ntfy_split_for_tests(&s);
    assert_eq!(root.as_str(), "https://push.example.com/ntfy/");
    assert_eq!(topic, "alerts");
    for bad in [
        "https://ntfy.sh/",
        "https://ntfy.sh/a%20b",
        "ftp://ntfy.sh/x",
    ] {
        assert!(
            check(
                ChannelKind::Ntfy,
                Some(&Secret::new(bad).unwrap()),
                &ChannelOptions::default()
            )
            .is_err(),
            "{bad} is refused"
        );
    }
}

fn ntfy_split_for_tests(s: &Secret) -> (url::Url, String) {
    // The format's own parsing, through the request it builds.
    let t = Target {
        kind: ChannelKind::Ntfy,
        label: "n".into(),
        secret: Some(s.clone()),
        options: ChannelOptions::default(),
    };
    let Ok(Outgoing::Http(req)) = format_of(ChannelKind::Ntfy).build(&message(), &t) else {
        panic!("ntfy builds a request")
    };
    let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
    (req.url, body["topic"].as_str().unwrap().to_owned())
}

fn telegram_options(server: &MockServer) -> ChannelOptions {
    ChannelOptions {
        chat_id: Some("-1001234567890".into()),
        api_base: Some(server.uri()),
        ..Default::default()
    }
}

#[tokio::test]
async fn telegram_sends_plain_text_and_an_inline_top_up_button() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bot123456:AAHsecretTOKEN_x-y/sendMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": {"message_id": 1}})),
        )
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Telegram,
        Some("123456:AAHsecretTOKEN_x-y"),
        telegram_options(&server),
    );
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let body = only_body(&server).await;
    assert_eq!(body["chat_id"], "-1001234567890");
    assert!(
        body.get("parse_mode").is_none(),
        "plain text: nothing is markup"
    );
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("OpenRouter · main: may run out within a day\n$5.20 left"),
        "{text}"
    );
    assert_eq!(
        body["reply_markup"]["inline_keyboard"][0][0],
        json!({"text": "Top up", "url": "https://openrouter.ai/settings/credits"})
    );
}

#[tokio::test]
async fn telegram_refusals_say_what_telegram_said_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        ))
        .mount(&server)
        .await;
    let t = target(
        ChannelKind::Telegram,
        Some("123456:AAHsecretTOKEN_x-y"),
        telegram_options(&server),
    );
    let Verdict::Refused(why) = send(&http(), &message(), &t).await else {
        panic!("a wrong chat is not retried")
    };
    assert!(why.contains("chat not found"), "{why}");
    assert!(!why.contains("AAHsecretTOKEN"), "{why}");
}

#[test]
fn telegram_needs_a_token_and_a_chat() {
    let token = Secret::new("123456:AAHsecretTOKEN").unwrap();
    let chat = ChannelOptions {
        chat_id: Some("@ops_alerts".into()),
        ..Default::default()
    };
    assert!(check(ChannelKind::Telegram, Some(&token), &chat).is_ok());
    assert!(check(
        ChannelKind::Telegram,
        Some(&token),
        &ChannelOptions::default()
    )
    .is_err());
    let not_a_token = Secret::new("https://api.telegram.org/bot1:x").unwrap();
    assert!(check(ChannelKind::Telegram, Some(&not_a_token), &chat).is_err());
    assert!(
        check(ChannelKind::Telegram, None, &chat).is_err(),
        "no secret"
    );
}

#[test]
fn plain_http_is_refused_off_this_machine_for_slack_and_discord() {
    for kind in [ChannelKind::Slack, ChannelKind::Discord] {
        let s = Secret::new("http://hooks.example.com/x").unwrap();
        let e = check(kind, Some(&s), &ChannelOptions::default()).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let local = Secret::new("http://127.0.0.1:9/x").unwrap();
        assert!(check(kind, Some(&local), &ChannelOptions::default()).is_ok());
    }
    let lan = Secret::new("http://192.168.1.5:8080/hook").unwrap();
    assert!(check(ChannelKind::Webhook, Some(&lan), &ChannelOptions::default()).is_ok());
}

fn tee_to(file: &std::path::Path) -> ChannelOptions {
    ChannelOptions {
        program: Some("tee".into()),
        args: vec![file.display().to_string()],
        ..Default::default()
    }
}

#[tokio::test]
async fn command_gets_the_message_on_stdin_as_argv_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    // A file name a shell would expand or split: run without a shell, it is one argument.
    let file = dir.path().join("alert $HOME; rm -rf x.json");
    let t = target(ChannelKind::Command, None, tee_to(&file));
    assert_eq!(send(&http(), &message(), &t).await, Verdict::Delivered);
    let got: AlertMessage = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(got, message());
}

#[tokio::test]
async fn command_failures_are_retried_with_its_stderr_and_a_missing_program_is_refused() {
    let failing = target(
        ChannelKind::Command,
        None,
        ChannelOptions {
            program: Some("sh".into()),
            args: vec!["-c".into(), "echo 'no route to pager' >&2; exit 3".into()],
            ..Default::default()
        },
    );
    match send(&http(), &message(), &failing).await {
        Verdict::Retry { error, .. } => {
            assert!(
                error.contains("code 3") && error.contains("no route to pager"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    let missing = target(
        ChannelKind::Command,
        None,
        ChannelOptions {
            program: Some("/nonexistent/cliffwatch-hook".into()),
            ..Default::default()
        },
    );
    assert!(matches!(
        send(&http(), &message(), &missing).await,
        Verdict::Refused(_)
    ));
}

#[tokio::test]
async fn a_command_that_hangs_is_stopped_at_its_limit() {
    let v = command::run("sleep", &["30".into()], b"{}", Duration::from_millis(300)).await;
    match v {
        Verdict::Retry { error, .. } => assert!(error.contains("was stopped"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_are_judged_alike_for_every_kind() {
    let resp = |status: u16, headers: &[(&str, &str)]| http::Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: Vec::new(),
        host: "hooks.example".into(),
    };
    let f = format_of(ChannelKind::Webhook);
    assert_eq!(judge(f, &resp(204, &[])), Verdict::Delivered);
    for s in [400, 401, 403, 404, 410] {
        assert!(
            matches!(judge(f, &resp(s, &[])), Verdict::Refused(_)),
            "{s}"
        );
    }
    for s in [408, 500, 502, 503] {
        assert!(
            matches!(judge(f, &resp(s, &[])), Verdict::Retry { after: None, .. }),
            "{s}"
        );
    }
    assert!(matches!(
        judge(f, &resp(429, &[("Retry-After", "120")])),
        Verdict::Retry { after: Some(d), .. } if d == Duration::from_secs(120)
    ));
    // Telegram's 200 without "ok": true is not a delivery.
    assert!(matches!(
        judge(format_of(ChannelKind::Telegram), &resp(200, &[])),
        Verdict::Retry { .. }
    ));
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    for attempts in 0..20 {
        let d = backoff(attempts, None);
        let base = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(attempts.min(16) as u32))
            .min(MAX_BACKOFF);
        assert!(
            d >= base.mul_f64(0.8) && d <= base.mul_f64(1.2).min(MAX_BACKOFF),
            "{attempts}: {d:?}"
        );
    }
    assert!(backoff(0, Some(Duration::from_secs(600))) >= Duration::from_secs(600));
    assert_eq!(
        backoff(0, Some(Duration::from_secs(86_400))),
        MAX_BACKOFF,
        "a receiver cannot park a delivery for a day"
    );
}

/// A store with three webhook channels: one that answers, one that fails, one that hangs.
#[tokio::test]
async fn one_pass_delivers_retries_and_never_waits_on_a_hanging_channel() {
    use crate::secrets::MemoryStore;
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(crate::clock::ManualClock::new(t0()));
    let cw = Cliffwatch::open(tmp.path(), Arc::new(MemoryStore::default()), clock.clone())
        .await
        .unwrap();
    let good = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&good)
        .await;
    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&bad)
        .await;
    let hanging = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&hanging)
        .await;
    for (label, server) in [("good", &good), ("bad", &bad), ("hanging", &hanging)] {
        crate::api::channels::add(
            &cw,
            crate::api::channels::NewChannel {
                kind: ChannelKind::Webhook,
                label: label.into(),
                secret: crate::api::accounts::SecretInput::Keychain(
                    Secret::new(format!("{}/hook", server.uri())).unwrap(),
                ),
                min_severity: Severity::Warning,
                options: ChannelOptions::default(),
            },
        )
        .await
        .unwrap();
    }
    let alert = db::alerts::insert(
        cw.pool(),
        &db::alerts::NewAlert {
            account_id: None,
            kind: "unpaid_challenges",
            severity: "warning",
            title: "t",
            body: "b",
            now: t0(),
            subject: Some("api.example"),
        },
    )
    .await
    .unwrap();
    let mut msg = message();
    msg.alert_id = alert;
    queue(cw.pool(), &msg, t0()).await.unwrap();

    let pass = {
        let cw = cw.clone();
        tokio::spawn(async move { deliver_due(&cw, &http(), t0()).await })
    };
    // The good channel hears of it while the hanging one still holds its request open.
    let started = std::time::Instant::now();
    while good.received_requests().await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the good channel was not held up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !pass.is_finished(),
        "the hanging channel is still waited on"
    );
    let sent = pass.await.unwrap().unwrap();
    assert_eq!(sent.len(), 3);
    let rows = crate::api::history::alerts(&cw, true).await.unwrap();
    let d = &rows[0].deliveries;
    let state = |label: &str| d.iter().find(|r| r.channel == label).unwrap().clone();
    assert_eq!(state("good").state, "delivered");
    let bad_row = state("bad");
    assert_eq!(bad_row.state, "pending");
    assert!(bad_row.last_error.as_deref().unwrap().contains("HTTP 503"));
    assert!(bad_row.next_attempt_at.unwrap() > t0() + chrono::Duration::seconds(20));
    let hung = state("hanging");
    assert_eq!(hung.state, "pending", "a timeout is retried");
    assert!(
        hung.last_error
            .as_deref()
            .unwrap()
            .contains("did not answer"),
        "{:?}",
        hung.last_error
    );

    crate::api::channels::remove(&cw, "hanging").await.unwrap();
    // Nothing is due before the backoff; the good channel is never told twice.
    assert!(
        deliver_due(&cw, &http(), t0() + chrono::Duration::seconds(10))
            .await
            .unwrap()
            .is_empty()
    );
    // Retried until the cap, then given up.
    let mut now = t0();
    for _ in 0..MAX_ATTEMPTS {
        now += chrono::Duration::hours(2);
        let sent = deliver_due(&cw, &http(), now).await.unwrap();
        if sent.iter().all(|s| s.channel != "bad") {
            break;
        }
    }
    let bad_row = crate::api::history::alerts(&cw, true).await.unwrap()[0]
        .deliveries
        .iter()
        .find(|r| r.channel == "bad")
        .unwrap()
        .clone();
    assert_eq!(bad_row.state, "failed");
    assert_eq!(bad_row.attempts, MAX_ATTEMPTS);
    assert_eq!(good.received_requests().await.unwrap().len(), 1);
}
