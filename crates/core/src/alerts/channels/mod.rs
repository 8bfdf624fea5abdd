//! Alert channels: where an alert goes besides the desktop — a webhook, Slack, Discord, ntfy,
//! Telegram, or a local program. One module per kind behind [`Format`]; adding a kind is one
//! file and one line in [`format_of`].
//!
//! An alert is *queued* for every channel that wants its severity at the moment the desktop
//! would be told ([`super::evaluate_with`]: the same episode, quiet-hours, snooze and pause
//! rules), as an [`AlertMessage`] stored with the delivery. [`deliver_due`] then sends what is
//! due, every channel at once and each with its own time limit, so a slow or failing channel
//! never holds up another or the desktop. A failure is retried with capped, jittered backoff
//! (a 429's `Retry-After` is honoured, capped too); a refusal that will not change (a deleted
//! webhook, a wrong token) fails at once. Every attempt is recorded and shown by `alerts --json`.
//!
//! A channel's secret (webhook or topic URL, bot token) comes from the keychain or an
//! environment variable at the moment of sending, and is never stored, logged or shown: errors
//! name the host, and every stored error goes through the redactor.

mod command;
mod discord;
mod ntfy;
mod slack;
mod telegram;
mod webhook;

use crate::alerts::Severity;
use crate::db::{self, channels::Attempt};
use crate::http::{self, Http, HttpError};
use crate::model::AlertId;
use crate::secrets::{Secret, SecretRef};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ts_rs::TS;

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChannelKind {
    Webhook,
    Slack,
    Discord,
    Ntfy,
    Telegram,
    Command,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 6] = [
        ChannelKind::Webhook,
        ChannelKind::Slack,
        ChannelKind::Discord,
        ChannelKind::Ntfy,
        ChannelKind::Telegram,
        ChannelKind::Command,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Discord => "discord",
            ChannelKind::Ntfy => "ntfy",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Command => "command",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown channel kind `{s}`: use one of {}",
                    Self::ALL.map(Self::as_str).join(", ")
                ))
            })
    }

    /// What the secret of this kind is, for help and errors; `None` when it has none.
    pub fn secret_is(self) -> Option<&'static str> {
        format_of(self).secret_is()
    }
}

/// The runway band of an alert's account, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RunwayBand {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// What a channel is told: the body a webhook receives as JSON, and a `command` on stdin.
/// Version 1; fields are only ever added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertMessage {
    /// The format's version: 1.
    pub version: u32,
    pub alert_id: AlertId,
    /// `low_balance`, `runway_warning`, `runway_critical`, `out_of_credit`, `key_invalid`,
    /// `poll_failing`, `unpaid_challenges`.
    pub kind: String,
    pub severity: Severity,
    /// "OpenRouter · main: may run out within a day".
    pub title: String,
    pub body: String,
    /// The account's label (null for an alert about a host, such as unpaid challenges).
    pub account: Option<String>,
    /// The provider's id (`openrouter`).
    pub provider: Option<String>,
    /// The host an alert without an account is about.
    pub subject: Option<String>,
    /// What is left at the latest reading, in `unit`.
    pub remaining: Option<f64>,
    pub unit: Option<String>,
    /// `remaining` as the app shows it ("$5.20", "1,234 credits").
    pub remaining_text: Option<String>,
    /// Burn per day in `unit`.
    pub burn_per_day: Option<f64>,
    pub runway_hours: Option<RunwayBand>,
    /// The provider's billing page.
    pub top_up_url: Option<String>,
    /// When the alert was raised.
    pub time: DateTime<Utc>,
    /// True for `channel test`.
    pub test: bool,
}

impl AlertMessage {
    /// The message `channel test` sends.
    pub fn test(now: DateTime<Utc>) -> Self {
        AlertMessage {
            version: 1,
            alert_id: AlertId(0),
            kind: "test".into(),
            severity: Severity::Info,
            title: "Cliffwatch · test: this channel works".into(),
            body: "A test from `cliffwatch channel test`. Alerts will arrive here like this one."
                .into(),
            account: None,
            provider: None,
            subject: None,
            remaining: None,
            unit: None,
            remaining_text: None,
            burn_per_day: None,
            runway_hours: None,
            top_up_url: None,
            time: now,
            test: true,
        }
    }

    /// The text lines most formats send: title, body, and the band when there is one.
    fn band_text(&self) -> Option<String> {
        self.runway_hours.map(|r| {
            format!(
                "Runway {} (P10) · {} (P50) · {} (P90)",
                hours(r.p10),
                hours(r.p50),
                hours(r.p90)
            )
        })
    }

    /// Title, body and band as plain text.
    fn plain_text(&self) -> String {
        let mut s = format!("{}\n{}", self.title, self.body);
        if let Some(b) = self.band_text() {
            s.push('\n');
            s.push_str(&b);
        }
        s
    }
}

fn hours(h: f64) -> String {
    if !h.is_finite() {
        "—".into()
    } else if h < 48.0 {
        format!("{h:.0} h")
    } else {
        format!("{:.1} d", h / 24.0)
    }
}

/// What an alert is about, for its message.
#[derive(Debug, Clone, Copy)]
pub enum About<'a> {
    Account(&'a crate::model::Account, &'a crate::forecast::Forecast),
    /// A host (unpaid payment challenges).
    Host(&'a str),
}

/// The message channels get for a notification the desktop gets.
pub fn message_for(n: &super::Notification, about: About<'_>, now: DateTime<Utc>) -> AlertMessage {
    let redact = |s: &str| crate::redact::redact_text(s);
    let mut m = AlertMessage {
        version: 1,
        alert_id: n.alert_id,
        kind: n.kind.as_str().to_owned(),
        severity: n.severity,
        title: redact(&n.title),
        body: redact(&n.body),
        account: None,
        provider: None,
        subject: None,
        remaining: None,
        unit: None,
        remaining_text: None,
        burn_per_day: None,
        runway_hours: None,
        top_up_url: n.top_up_url.clone(),
        time: now,
        test: false,
    };
    match about {
        About::Account(a, f) => {
            m.account = Some(redact(&a.label));
            m.provider = Some(a.provider.clone());
            m.remaining = f.remaining;
            m.unit = f.unit.as_ref().map(|u| u.as_str().to_owned());
            m.remaining_text = f
                .remaining
                .zip(f.unit.as_ref())
                .map(|(r, u)| crate::format::format_amount(r, u.as_str()));
            m.burn_per_day = f.rate_per_day;
            m.runway_hours = f.runway_hours.map(|r| RunwayBand {
                p10: r.p10,
                p50: r.p50,
                p90: r.p90,
            });
        }
        About::Host(h) => m.subject = Some(redact(h)),
    }
    m
}

/// Queues a message for every channel that wants its severity (once per alert and channel).
pub async fn queue(pool: &sqlx::SqlitePool, msg: &AlertMessage, now: DateTime<Utc>) -> Result<()> {
    let payload =
        serde_json::to_string(msg).map_err(|e| Error::Malformed(format!("alert message: {e}")))?;
    let rank = match msg.severity {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Critical => 2,
    };
    db::channels::enqueue(pool, msg.alert_id, rank, &payload, now).await?;
    Ok(())
}

/// A channel as the sender needs it: its kind, its options and its secret, just fetched.
#[derive(Debug)]
pub struct Target {
    pub kind: ChannelKind,
    pub label: String,
    pub secret: Option<Secret>,
    pub options: ChannelOptions,
}

/// What a channel keeps besides its secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChannelOptions {
    /// Telegram: the chat to post to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub chat_id: Option<String>,
    /// Telegram: a self-hosted Bot API server instead of api.telegram.org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub api_base: Option<String>,
    /// `command`: the program (a path or a name on PATH), run without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub program: Option<String>,
    /// `command`: its arguments, as given.
    #[serde(default)]
    pub args: Vec<String>,
}

/// What a format asks to be done.
#[derive(Debug)]
pub enum Outgoing {
    Http(http::Request),
    /// Run `program` with `args` (no shell), `stdin` on its standard input.
    Program {
        program: String,
        args: Vec<String>,
        stdin: Vec<u8>,
    },
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered,
    /// Try again (after at least this long, when the receiver said).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// It will not work by trying again: the URL, token or program is wrong.
    Refused(String),
}

/// One kind of channel: how an alert becomes a request, and what the answer means.
trait Format: Sync {
    /// What the secret is ("the incoming-webhook URL"); `None` for kinds without one.
    fn secret_is(&self) -> Option<&'static str>;
    /// Checks a new channel's secret and options, before anything is stored.
    fn check(&self, secret: Option<&Secret>, options: &ChannelOptions) -> Result<()>;
    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing>;
    /// A 2xx answer: delivered, unless the receiver's own format says otherwise.
    fn judge_ok(&self, resp: &http::Response) -> Verdict {
        let _ = resp;
        Verdict::Delivered
    }
}

fn format_of(kind: ChannelKind) -> &'static dyn Format {
    match kind {
        ChannelKind::Webhook => &webhook::Webhook,
        ChannelKind::Slack => &slack::Slack,
        ChannelKind::Discord => &discord::Discord,
        ChannelKind::Ntfy => &ntfy::Ntfy,
        ChannelKind::Telegram => &telegram::Telegram,
        ChannelKind::Command => &command::Command,
    }
}

/// Checks a channel's secret and options for its kind.
pub fn check(kind: ChannelKind, secret: Option<&Secret>, options: &ChannelOptions) -> Result<()> {
    let f = format_of(kind);
    match (f.secret_is(), secret) {
        (Some(what), None) => {
            return Err(Error::InvalidInput(format!(
            "a {} channel needs {what}: give it with --secret-stdin (piped in) or --secret-env VAR",
            kind.as_str()
        )))
        }
        (None, Some(_)) => {
            return Err(Error::InvalidInput(format!(
                "a {} channel has no secret: leave out --secret-stdin and --secret-env",
                kind.as_str()
            )))
        }
        _ => {}
    }
    f.check(secret, options)
}

/// The longest one delivery may take (connect, send, answer).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a `command` may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 10;
/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Deliveries sent by one [`deliver_due`] pass at most.
const PER_PASS: i64 = 64;

/// The HTTP client channels send with: short time limits, small answers.
pub fn http_client() -> Result<Http> {
    Http::new(http::HttpConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: SEND_TIMEOUT,
        max_body: 64 * 1024,
    })
    .map_err(|e| Error::InvalidInput(format!("cannot start the HTTP client: {e}")))
}

/// Sends one message to one target and says what came of it. Never panics; the error text
/// names the host, not the URL.
pub async fn send(http: &Http, msg: &AlertMessage, target: &Target) -> Verdict {
    let f = format_of(target.kind);
    let outgoing = match f.build(msg, target) {
        Ok(o) => o,
        Err(e) => return Verdict::Refused(e.to_string()),
    };
    match outgoing {
        Outgoing::Http(req) => match http.send(req).await {
            Ok(resp) => judge(f, &resp),
            Err(e) => transport_verdict(&e),
        },
        Outgoing::Program {
            program,
            args,
            stdin,
        } => command::run(&program, &args, &stdin, COMMAND_TIMEOUT).await,
    }
}

fn transport_verdict(e: &HttpError) -> Verdict {
    if e.is_transient() {
        Verdict::Retry {
            after: None,
            error: e.to_string(),
        }
    } else {
        Verdict::Refused(e.to_string())
    }
}

/// What an HTTP answer means for any kind: 2xx per the format, 429 with its `Retry-After`,
/// 5xx and 408 again later, and the refusals that say the URL or token is wrong fail at once.
fn judge(f: &dyn Format, resp: &http::Response) -> Verdict {
    let host = &resp.host;
    let said = receiver_said(&resp.body);
    match resp.status {
        200..=299 => f.judge_ok(resp),
        429 => Verdict::Retry {
            after: resp
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            error: format!("{host} is rate-limiting (HTTP 429){said}"),
        },
        400 | 401 | 403 | 404 | 410 => Verdict::Refused(format!(
            "{host} refused the message (HTTP {}){said}: check the channel's URL or token, or remove the channel and add it again",
            resp.status
        )),
        s => Verdict::Retry {
            after: None,
            error: format!("{host} answered HTTP {s}{said}"),
        },
    }
}

/// A short, printable, redacted excerpt of a receiver's answer: ": no_service".
fn receiver_said(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(160)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::redact::redact_text(clean))
    }
}

/// How long to wait before try number `attempts + 1`: doubling from [`FIRST_BACKOFF`], capped
/// at [`MAX_BACKOFF`], with ±20 % jitter so that many channels do not retry in step; a
/// receiver's `Retry-After` is waited at least, capped too.
pub fn backoff(attempts: i64, retry_after: Option<Duration>) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    let base = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF);
    let jitter = 0.8 + fastrand::f64() * 0.4;
    let wait = base.mul_f64(jitter).min(MAX_BACKOFF);
    match retry_after {
        Some(r) => wait.max(r.min(MAX_BACKOFF)),
        None => wait,
    }
}

/// What one delivery came to in a [`deliver_due`] pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub alert_id: AlertId,
    pub channel: String,
    pub verdict: Verdict,
}

/// Sends every delivery due at `now`, all at once, and records each attempt. A channel whose
/// secret cannot be read is retried like a failed send (the keychain may be locked).
pub async fn deliver_due(cw: &Cliffwatch, http: &Http, now: DateTime<Utc>) -> Result<Vec<Sent>> {
    let due = db::channels::due(cw.pool(), now, PER_PASS).await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let channels = db::channels::list(cw.pool()).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for d in due {
        let Some(stored) = channels.iter().find(|c| c.id == d.channel_id).cloned() else {
            continue;
        };
        let cw = cw.clone();
        let http = http.clone();
        tasks.spawn(async move {
            let verdict = match serde_json::from_str::<AlertMessage>(&d.payload) {
                Err(e) => Verdict::Refused(format!("the stored message cannot be read: {e}")),
                Ok(msg) => match target(&cw, &stored).await {
                    Err(e) => Verdict::Retry {
                        after: None,
                        error: e.to_string(),
                    },
                    Ok(t) => {
                        // Each send has its own limit on top of the client's, so that one
                        // stuck program or receiver cannot hold the pass.
                        let limit = SEND_TIMEOUT.max(COMMAND_TIMEOUT) + Duration::from_secs(5);
                        tokio::time::timeout(limit, send(&http, &msg, &t))
                            .await
                            .unwrap_or_else(|_| Verdict::Retry {
                                after: None,
                                error: format!("no answer within {} s", limit.as_secs()),
                            })
                    }
                },
            };
            (d, verdict)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((d, verdict)) = joined else { continue };
        let attempt = match &verdict {
            Verdict::Delivered => Attempt::Delivered,
            Verdict::Retry { error, .. } if d.attempts + 1 >= MAX_ATTEMPTS => Attempt::Failed {
                error: error.as_str(),
            },
            Verdict::Retry { after, error } => Attempt::Retry {
                at: now
                    + chrono::Duration::from_std(backoff(d.attempts, *after))
                        .unwrap_or_else(|_| chrono::Duration::hours(1)),
                error: error.as_str(),
            },
            Verdict::Refused(error) => Attempt::Failed {
                error: error.as_str(),
            },
        };
        db::channels::record(cw.pool(), d.alert_id, d.channel_id, &attempt, now).await?;
        out.push(Sent {
            alert_id: d.alert_id,
            channel: d.channel_label,
            verdict,
        });
    }
    Ok(out)
}

/// A stored channel with its secret fetched.
pub(crate) async fn target(
    cw: &Cliffwatch,
    stored: &db::channels::StoredChannel,
) -> Result<Target> {
    let kind = ChannelKind::parse(&stored.kind)?;
    let options: ChannelOptions = serde_json::from_value(stored.options.clone())
        .map_err(|e| Error::Malformed(format!("options of channel `{}`: {e}", stored.label)))?;
    let secret_ref = SecretRef::from_db(&stored.secret_ref)?;
    let secret = cw
        .resolve_secret(secret_ref, &format!("channel {}", stored.label))
        .await?;
    Ok(Target {
        kind,
        label: stored.label.clone(),
        secret,
        options,
    })
}

/// Cuts `s` to at most `max` characters, with an ellipsis when it was longer (receivers
/// refuse over-long fields: Discord's title is 256, Telegram's text 4096).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Parses a secret that is a URL: http(s) only, and https unless the host is loopback (a test
/// receiver or a local relay) or `plain_http_ok` (self-hosted on a LAN, such as ntfy).
fn secret_url(secret: Option<&Secret>, what: &str, plain_http_ok: bool) -> Result<url::Url> {
    let raw = secret.map(Secret::expose).unwrap_or_default();
    let url = url::Url::parse(raw).map_err(|_| {
        Error::InvalidInput(format!(
            "{what} is not a URL (it should start with https://)"
        ))
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if plain_http_ok || crate::urls::is_loopback(&url) => Ok(url),
        "http" => Err(Error::InvalidInput(format!(
            "{what} must use https:// (plain http is refused except on this machine)"
        ))),
        other => Err(Error::InvalidInput(format!(
            "{what} must be an https:// URL, not {other}:"
        ))),
    }
}

#[cfg(test)]
mod tests;
