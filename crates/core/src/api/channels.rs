//! Alert channels: add (from the CLI or Settings), list, test and remove. A channel's secret
//! (webhook URL, topic URL, bot token) goes to the keychain or stays in the environment
//! variable the user names, exactly like an account's key; listings show where it lives and at
//! most its last four characters.

use super::accounts::SecretInput;
use crate::alerts::channels::{self, AlertMessage, ChannelKind, ChannelOptions, Verdict};
use crate::alerts::Severity;
use crate::db;
use crate::events::Change;
use crate::secrets::{Secret, SecretRef};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the user gives to add a channel.
#[derive(Debug)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub label: String,
    pub secret: SecretInput,
    /// The least severe alert the channel is told of.
    pub min_severity: Severity,
    pub options: ChannelOptions,
}

/// What Settings sends to add a channel. The secret crosses from the webview once, here, and
/// goes straight to the keychain; it never comes back.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct ChannelForm {
    pub kind: ChannelKind,
    pub label: String,
    /// The webhook or topic URL, or the bot token; absent for `command`.
    pub secret: Option<String>,
    pub min_severity: Severity,
    pub options: ChannelOptions,
}

impl std::fmt::Debug for ChannelForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelForm")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A channel as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChannelRow {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: ChannelKind,
    pub label: String,
    /// "keychain …b3f9", "env $SLACK_HOOK", "none".
    pub secret: String,
    pub min_severity: Severity,
    pub options: ChannelOptions,
    pub created_at: DateTime<Utc>,
    /// The newest delivery to this channel, if any.
    pub last_delivery: Option<DeliveryRow>,
}

/// One alert's delivery to one channel, as `alerts --json` and Settings show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DeliveryRow {
    pub alert_id: crate::model::AlertId,
    pub channel: String,
    pub kind: ChannelKind,
    /// `pending` (queued or waiting to retry), `delivered` or `failed` (given up).
    pub state: String,
    #[ts(type = "number")]
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed (redacted).
    pub last_error: Option<String>,
}

impl DeliveryRow {
    pub(crate) fn from_db(d: db::channels::Delivery) -> Option<Self> {
        Some(DeliveryRow {
            alert_id: d.alert_id,
            kind: ChannelKind::parse(&d.channel_kind).ok()?,
            channel: d.channel_label,
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            last_error: d.last_error,
        })
    }
}

/// What `channel test` came to.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChannelTest {
    pub label: String,
    pub delivered: bool,
    /// "delivered", or why not (redacted).
    pub message: String,
}

/// A kind of channel as Settings offers it: what its secret is (`None`: it has none).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChannelKindInfo {
    pub kind: ChannelKind,
    /// "the webhook URL", "the bot token (from BotFather)"; null for `command`.
    pub secret_is: Option<String>,
}

/// Every kind of channel, in the order Settings lists them.
pub fn kinds() -> Vec<ChannelKindInfo> {
    ChannelKind::ALL
        .into_iter()
        .map(|kind| ChannelKindInfo {
            kind,
            secret_is: kind.secret_is().map(str::to_owned),
        })
        .collect()
}

impl ChannelForm {
    pub fn into_new_channel(self) -> Result<NewChannel> {
        let secret = match self.secret.filter(|s| !s.trim().is_empty()) {
            Some(s) => SecretInput::Keychain(Secret::new(s.trim())?),
            None => SecretInput::None,
        };
        Ok(NewChannel {
            kind: self.kind,
            label: self.label,
            secret,
            min_severity: self.min_severity,
            options: self.options,
        })
    }
}

fn validate_label(label: &str) -> Result<()> {
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "a channel label must be 1 to 64 printable characters".into(),
        ));
    }
    Ok(())
}

/// Checks and stores a new channel; its secret goes to the keychain (or stays in the named
/// variable), never to the database.
pub async fn add(cw: &Cliffwatch, new: NewChannel) -> Result<ChannelRow> {
    let label = new.label.trim().to_owned();
    validate_label(&label)?;
    let options = ChannelOptions {
        chat_id: new.options.chat_id.filter(|c| !c.trim().is_empty()),
        api_base: new.options.api_base.filter(|c| !c.trim().is_empty()),
        program: new.options.program.filter(|c| !c.trim().is_empty()),
        args: new.options.args,
    };
    let checked = match &new.secret {
        SecretInput::Keychain(s) => Some(s.clone()),
        SecretInput::Env(var) => Some(crate::secrets::read_env_secret(var)?),
        SecretInput::None => None,
    };
    channels::check(new.kind, checked.as_ref(), &options)?;
    drop(checked);
    if db::channels::get_by_label(cw.pool(), &label)
        .await?
        .is_some()
    {
        return Err(Error::InvalidInput(format!(
            "a channel named `{label}` exists: pick another --label, or remove it first"
        )));
    }
    let (secret_ref, hint) = cw.store_secret(&new.secret).await?;
    let options_json =
        serde_json::to_value(&options).map_err(|e| Error::Malformed(e.to_string()))?;
    let inserted = db::channels::insert(
        cw.pool(),
        &db::channels::NewChannel {
            kind: new.kind.as_str(),
            label: &label,
            secret_ref: &secret_ref.to_db(),
            secret_hint: hint.as_deref(),
            min_severity: new.min_severity.as_str(),
            options: &options_json,
            now: cw.clock().now(),
        },
    )
    .await;
    match inserted {
        Ok(Some(_)) => {
            cw.announce(Change::Settings);
            get(cw, &label).await
        }
        other => {
            if let SecretRef::Keychain(id) = secret_ref {
                let _ = cw.keychain_delete(id).await;
            }
            other?;
            Err(Error::InvalidInput(format!(
                "a channel named `{label}` exists: pick another --label"
            )))
        }
    }
}

/// Adds a channel from Settings.
pub async fn add_form(cw: &Cliffwatch, form: ChannelForm) -> Result<ChannelRow> {
    add(cw, form.into_new_channel()?).await
}

fn row(c: db::channels::StoredChannel, last: Option<DeliveryRow>) -> Result<ChannelRow> {
    let secret = match SecretRef::from_db(&c.secret_ref)? {
        SecretRef::Keychain(_) => format!("keychain {}", c.secret_hint.as_deref().unwrap_or("")),
        other => other.describe(),
    };
    Ok(ChannelRow {
        id: c.id,
        kind: ChannelKind::parse(&c.kind)?,
        secret: secret.trim().to_owned(),
        min_severity: Severity::parse(&c.min_severity).unwrap_or(Severity::Warning),
        options: serde_json::from_value(c.options).unwrap_or_default(),
        label: c.label,
        created_at: c.created_at,
        last_delivery: last,
    })
}

/// Every channel, with its newest delivery.
pub async fn list(cw: &Cliffwatch) -> Result<Vec<ChannelRow>> {
    let latest = db::channels::latest_per_channel(cw.pool()).await?;
    db::channels::list(cw.pool())
        .await?
        .into_iter()
        .map(|c| {
            let last = latest
                .iter()
                .find(|d| d.channel_id == c.id)
                .cloned()
                .and_then(DeliveryRow::from_db);
            row(c, last)
        })
        .collect()
}

async fn stored(cw: &Cliffwatch, label: &str) -> Result<db::channels::StoredChannel> {
    db::channels::get_by_label(cw.pool(), label)
        .await?
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "no channel named `{label}`: run `cliffwatch channel list` to see them"
            ))
        })
}

/// One channel by label.
pub async fn get(cw: &Cliffwatch, label: &str) -> Result<ChannelRow> {
    let c = stored(cw, label).await?;
    list(cw)
        .await?
        .into_iter()
        .find(|r| r.id == c.id)
        .ok_or_else(|| Error::Malformed(format!("channel `{label}` vanished")))
}

/// Removes a channel, its deliveries and its secret.
pub async fn remove(cw: &Cliffwatch, label: &str) -> Result<ChannelRow> {
    let row = get(cw, label).await?;
    let c = stored(cw, label).await?;
    db::channels::remove(cw.pool(), c.id).await?;
    cw.announce(Change::Settings);
    if let SecretRef::Keychain(id) = SecretRef::from_db(&c.secret_ref)? {
        cw.keychain_delete(id).await?;
    }
    Ok(row)
}

/// The label of the channel with this id (Settings names channels by id).
async fn label_of(cw: &Cliffwatch, id: i64) -> Result<String> {
    db::channels::list(cw.pool())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.label)
        .ok_or_else(|| Error::InvalidInput(format!("no channel #{id}")))
}

/// Removes a channel by id (Settings).
pub async fn remove_by_id(cw: &Cliffwatch, id: i64) -> Result<ChannelRow> {
    remove(cw, &label_of(cw, id).await?).await
}

/// Sends a test message to a channel now and says whether it arrived.
pub async fn test(cw: &Cliffwatch, label: &str) -> Result<ChannelTest> {
    let c = stored(cw, label).await?;
    let target = channels::target(cw, &c).await?;
    let http = channels::http_client()?;
    let verdict = channels::send(&http, &AlertMessage::test(cw.clock().now()), &target).await;
    let (delivered, message) = match verdict {
        Verdict::Delivered => (true, "delivered".to_owned()),
        Verdict::Retry { error, .. } | Verdict::Refused(error) => (false, error),
    };
    Ok(ChannelTest {
        label: c.label,
        delivered,
        message: crate::redact::redact_text(&message),
    })
}

/// Tests a channel by id (Settings).
pub async fn test_by_id(cw: &Cliffwatch, id: i64) -> Result<ChannelTest> {
    test(cw, &label_of(cw, id).await?).await
}

/// Sends what is due on every channel (the engine calls this).
pub async fn deliver_due(cw: &Cliffwatch, http: &crate::http::Http) -> Result<usize> {
    let sent = channels::deliver_due(cw, http, cw.clock().now()).await?;
    if !sent.is_empty() {
        cw.announce(Change::Data);
    }
    Ok(sent.len())
}
