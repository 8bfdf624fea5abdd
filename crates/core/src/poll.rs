//! Polling: one account ([`poll_account`]), all of them at once ([`poll_all`]), a dry run that
//! stores nothing ([`test_account`]), and the background [`Scheduler`] that keeps every account
//! fresh without being rude to the providers.
//!
//! What a poll stores: every reading becomes a balance sample (a rise is marked as a top-up by
//! `db::balance_samples::insert`); the account's state follows the answer (401 → invalid key,
//! out of credit → out of credit plus a cliff event with what the body said). A 402 is never
//! retried at speed: the scheduler drops that account to a slow cadence that notices a top-up.
//!
//! The scheduler's decisions are pure functions of the last answer, the account's settings and
//! an injected random number ([`next_delay`]); time comes from the [`Cliffwatch`] clock.
//!
//! Why one file of ~1,000 lines: polling one account, the pure scheduling decisions and the
//! scheduler task share the `LastPoll` vocabulary and the persisted schedule; split, each half
//! would re-export the other's types. The three parts are marked by section rules.

use crate::db;
use crate::http::{Http, HttpConfig};
use crate::model::{
    AccountId, AccountState, BalanceSample, CliffEvent, ErrorDto, EventOrigin, Outcome, Unit,
};
use crate::providers::{self, PollContext, PollError, ProviderInfo, Reading};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use ts_rs::TS;

/// What one poll of one account produced, as `poll --once --json` prints it and the UI gets it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PollResult {
    pub account: String,
    pub account_id: AccountId,
    pub provider: String,
    pub polled_at: DateTime<Utc>,
    pub remaining: Option<f64>,
    pub limit: Option<f64>,
    pub used: Option<f64>,
    pub unit: Option<Unit>,
    /// Upper-case ISO 4217 code when the unit is money (`USD`), else `None`.
    pub currency: Option<String>,
    pub resets_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// The reading rose since the previous one: a top-up or a period reset.
    pub is_topup: bool,
    /// The account's state after this poll.
    pub state: AccountState,
    pub error: Option<ErrorDto>,
    /// Why this account was not polled (`poll --once` holds back a rejected key and an account
    /// polled too recently); `None` when it was.
    pub skipped: Option<String>,
    /// What the scheduler needs to know about the answer; not part of the JSON.
    #[serde(skip)]
    #[ts(skip)]
    pub last: LastPoll,
}

impl PollResult {
    /// An account left alone by [`poll_due`], with the reason.
    fn skipped(a: &crate::model::Account, now: DateTime<Utc>, why: String) -> Self {
        PollResult {
            skipped: Some(why),
            ..PollResult::nothing_yet(a, now)
        }
    }

    /// The result of a poll of `a` at `now` before anything is known of its answer.
    fn nothing_yet(a: &crate::model::Account, now: DateTime<Utc>) -> Self {
        PollResult {
            account: a.label.clone(),
            account_id: a.id,
            provider: a.provider.clone(),
            polled_at: now,
            remaining: None,
            limit: None,
            used: None,
            unit: None,
            currency: None,
            resets_at: None,
            note: None,
            is_topup: false,
            state: a.state,
            error: None,
            skipped: None,
            last: LastPoll::Ok,
        }
    }
}

/// The kind of answer a poll got, as far as scheduling is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastPoll {
    #[default]
    Ok,
    /// Out of credit. `transient`: the provider says it clears by itself (OpenRouter's
    /// in-flight budget), with an optional `Retry-After`.
    OutOfCredit {
        transient: bool,
        retry_after: Option<Duration>,
    },
    /// 401: the key is wrong; polling waits for the user to edit the account.
    InvalidKey,
    /// 429 (with `Retry-After` when given).
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeout, connection error, bad or oversized answer: back off and retry.
    Transient,
    /// Another refusal (403, other 4xx, missing option or budget): retry only slowly.
    Refused,
}

/// Polls one account now, stores the reading (or the state and cliff event), and returns what
/// happened. `Err` only for store or lookup failures (no such account, database error);
/// provider failures are in [`PollResult::error`].
pub async fn poll_account(cw: &Cliffwatch, label: &str) -> Result<PollResult> {
    poll_account_with(cw, shared_http()?, label).await
}

/// [`poll_account`] with a given HTTP client (tests use short timeouts).
pub async fn poll_account_with(cw: &Cliffwatch, http: &Http, label: &str) -> Result<PollResult> {
    run(cw, http, label, Store::Yes).await
}

/// One live poll that stores nothing: for `account test NAME`.
pub async fn test_account(cw: &Cliffwatch, label: &str) -> Result<PollResult> {
    run(cw, shared_http()?, label, Store::No).await
}

/// [`test_account`] with a given HTTP client.
pub async fn test_account_with(cw: &Cliffwatch, http: &Http, label: &str) -> Result<PollResult> {
    run(cw, http, label, Store::No).await
}

/// How many accounts are polled at once. Each poll is one small request (a few for paginated
/// spend reports); 8 keeps a laptop's connection pool and the 2-core CI box comfortable.
pub const MAX_CONCURRENT_POLLS: usize = 8;

/// Polls every account concurrently; a slow provider holds up only its own account (each
/// request has the client's total timeout). Results are in label order.
pub async fn poll_all(cw: &Cliffwatch) -> Result<Vec<PollResult>> {
    poll_all_with(cw, shared_http()?).await
}

/// [`poll_all`] with a given HTTP client.
pub async fn poll_all_with(cw: &Cliffwatch, http: &Http) -> Result<Vec<PollResult>> {
    let labels: Vec<String> = db::accounts::list(cw.pool())
        .await?
        .into_iter()
        .map(|s| s.account.label)
        .collect();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_POLLS));
    let mut set = JoinSet::new();
    for label in labels {
        let (cw, http, permits) = (cw.clone(), http.clone(), permits.clone());
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            poll_account_with(&cw, &http, &label).await
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(r)) => out.push(r),
            // An account removed while polling is not an error of the whole run.
            Ok(Err(Error::AccountNotFound(_))) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(Error::Malformed(format!("a poll task failed: {e}"))),
        }
    }
    out.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(out)
}

/// Requests in flight to one provider host at most (per process).
pub const MAX_PER_HOST: usize = 2;

async fn host_permit(base_url: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
    static HOSTS: OnceLock<
        std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::Semaphore>>>,
    > = OnceLock::new();
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let sem = {
        let mut map = HOSTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(host)
            .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_PER_HOST)))
            .clone()
    };
    sem.acquire_owned().await.ok()
}

/// Why [`poll_due`] left an account alone, or `None` when it may be polled now.
fn hold_reason(
    account: &crate::model::Account,
    schedule: Option<&db::poll_schedule::Schedule>,
    now: DateTime<Utc>,
) -> Option<String> {
    let edited = |s: &db::poll_schedule::Schedule| {
        s.seen_updated_at
            .is_some_and(|seen| account.updated_at > seen)
    };
    match schedule {
        Some(s) if edited(s) => None,
        Some(s) if s.waiting => Some(
            "skipped: the provider rejected this key; edit the account (a new key) or use --force"
                .into(),
        ),
        Some(s) if s.hold_until > now => Some(format!(
            "skipped: polled too recently for the provider's limits; next allowed at {}",
            s.hold_until
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        None if account.state == AccountState::InvalidKey => Some(
            "skipped: the provider rejected this key; edit the account (a new key) or use --force"
                .into(),
        ),
        _ => None,
    }
}

/// `poll --once`: polls every account that may be polled now, politely: a rejected key is not
/// sent again until the account is edited, and no account is polled before its provider's
/// minimum interval or `Retry-After` has passed. `force` polls every account regardless.
/// Skipped accounts are in the results with [`PollResult::skipped`] saying why.
pub async fn poll_due(cw: &Cliffwatch, force: bool) -> Result<Vec<PollResult>> {
    poll_due_with(cw, shared_http()?, force, &SchedulerConfig::default()).await
}

/// [`poll_due`] with a given HTTP client and cadence.
pub async fn poll_due_with(
    cw: &Cliffwatch,
    http: &Http,
    force: bool,
    cfg: &SchedulerConfig,
) -> Result<Vec<PollResult>> {
    let now = cw.clock().now();
    let schedules = db::poll_schedule::all(cw.pool()).await?;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_POLLS));
    let mut set = JoinSet::new();
    let mut out = Vec::new();
    for stored in db::accounts::list(cw.pool()).await? {
        let a = stored.account;
        let schedule = schedules.get(&a.id).copied();
        if let Some(why) = (!force)
            .then(|| hold_reason(&a, schedule.as_ref(), now))
            .flatten()
        {
            out.push(PollResult::skipped(&a, now, why));
            continue;
        }
        let (cw, http, permits, cfg) = (cw.clone(), http.clone(), permits.clone(), *cfg);
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let r = poll_account_with(&cw, &http, &a.label).await?;
            let failures = schedule.map_or(0, |s| s.failures);
            remember(&cw, &cfg, &r, failures, fastrand::f64()).await?;
            Ok::<_, Error>(r)
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(r)) => out.push(r),
            Ok(Err(Error::AccountNotFound(_))) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Malformed("a poll task ended abnormally".into())),
        }
    }
    out.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(out)
}

/// The consecutive transient failures after `last`, given the count before it.
fn failures_after(last: LastPoll, before: u32) -> u32 {
    match last {
        LastPoll::Transient
        | LastPoll::RateLimited { retry_after: None }
        | LastPoll::OutOfCredit {
            transient: true,
            retry_after: None,
        } => before.saturating_add(1),
        _ => 0,
    }
}

/// The schedule after poll `r` (whose account had `failures_before` consecutive transient
/// failures), or `None` when the account is gone. Pure but for the account lookup.
pub fn schedule_after(
    cfg: &SchedulerConfig,
    info: &ProviderInfo,
    account: &crate::model::Account,
    r: &PollResult,
    failures_before: u32,
    jitter: f64,
) -> db::poll_schedule::Schedule {
    let failures = failures_after(r.last, failures_before);
    let delay = next_delay(cfg, info, account.poll_interval_s, r.last, failures, jitter);
    let span = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1));
    // The hold is what the provider asked for: its floor, or a Retry-After above it.
    let hold = match r.last {
        LastPoll::RateLimited {
            retry_after: Some(ra),
        }
        | LastPoll::OutOfCredit {
            retry_after: Some(ra),
            ..
        } => ra.max(provider_floor(info)),
        _ => provider_floor(info),
    };
    db::poll_schedule::Schedule {
        account_id: account.id,
        next_due_at: r.polled_at + span(delay.unwrap_or(cfg.out_of_credit_interval)),
        hold_until: r.polled_at + span(hold),
        failures,
        waiting: delay.is_none(),
        seen_updated_at: Some(account.updated_at),
    }
}

/// Persists the schedule after poll `r`, so the next start (or `poll --once`) knows it.
async fn remember(
    cw: &Cliffwatch,
    cfg: &SchedulerConfig,
    r: &PollResult,
    failures_before: u32,
    jitter: f64,
) -> Result<Option<db::poll_schedule::Schedule>> {
    if r.note.as_deref() == Some(KEY_REPLACED) {
        return Ok(None);
    }
    let Ok(info) = providers::find(&r.provider) else {
        return Ok(None);
    };
    let Ok(stored) = db::accounts::get(cw.pool(), r.account_id).await else {
        return Ok(None);
    };
    let s = schedule_after(cfg, info, &stored.account, r, failures_before, jitter);
    db::poll_schedule::set(cw.pool(), &s).await?;
    Ok(Some(s))
}

/// One HTTP client for the process, so connections and TLS sessions are reused across polls.
fn shared_http() -> Result<&'static Http> {
    static HTTP: OnceLock<Http> = OnceLock::new();
    if let Some(h) = HTTP.get() {
        return Ok(h);
    }
    let http = Http::new(HttpConfig::default())
        .map_err(|e| Error::InvalidInput(format!("cannot start the HTTP client: {e}")))?;
    Ok(HTTP.get_or_init(|| http))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Yes,
    No,
}

/// What a poll says when the account's key was replaced while it ran.
const KEY_REPLACED: &str = "the key was replaced during this poll: its answer was not stored";

/// Whether the account still has the key this poll read. An answer about a key replaced while
/// the request was in flight (a 401 from the revoked old key) must not mark the new key
/// rejected: such a result is not stored.
async fn key_unchanged(
    db: impl sqlx::SqliteExecutor<'_>,
    id: crate::model::AccountId,
    used: &crate::secrets::SecretRef,
) -> Result<bool> {
    Ok(db::accounts::get(db, id).await?.secret_ref == *used)
}

async fn run(cw: &Cliffwatch, http: &Http, label: &str, store: Store) -> Result<PollResult> {
    let stored = db::accounts::get_by_label(cw.pool(), label).await?;
    let account = stored.account;
    let used_key = stored.secret_ref;
    let info = providers::find(&account.provider)?;
    let adapter = providers::adapter(&account.provider)?;
    let now = cw.clock().now();
    let mut result = PollResult::nothing_yet(&account, now);

    let secret = match cw.secret_for(label).await {
        Ok(s) => s,
        Err(e @ (Error::AccountNotFound(_) | Error::Database(_))) => return Err(e),
        Err(e) => {
            // The keychain is locked or the env var is gone: nothing was asked of the provider.
            let mut dto = ErrorDto::from(&e);
            dto.message = crate::redact::redact_text(&dto.message);
            result.error = Some(dto);
            result.last = LastPoll::Refused;
            if store == Store::Yes && key_unchanged(cw.pool(), account.id, &used_key).await? {
                result.state = AccountState::Error;
                db::accounts::set_state(
                    cw.pool(),
                    account.id,
                    AccountState::Error,
                    Some(&e.to_string()),
                    now,
                )
                .await?;
            }
            return Ok(result);
        }
    };
    let base_url = account
        .base_url
        .clone()
        .unwrap_or_else(|| info.default_base_url.to_owned());
    let ctx = PollContext {
        info,
        account: &account,
        secret: secret.as_ref(),
        base_url: &base_url,
        now,
    };
    // At most MAX_PER_HOST requests in flight to one provider host, whoever asks (the
    // scheduler, `poll --once`, a test from the window): 25 keys at one provider are not 25
    // simultaneous requests.
    let _host_permit = host_permit(&base_url).await;
    let outcome = adapter
        .poll(&ctx, http)
        .await
        .and_then(|r| checked(info, r));
    drop(_host_permit);

    match outcome {
        Ok(reading) => {
            let exhausted = reading.remaining.is_some_and(|r| r <= 0.0);
            result.state = if exhausted {
                AccountState::OutOfCredit
            } else {
                AccountState::Ok
            };
            result.last = if exhausted {
                LastPoll::OutOfCredit {
                    transient: false,
                    retry_after: None,
                }
            } else {
                LastPoll::Ok
            };
            let message = exhausted.then(|| {
                format!(
                    "{} reports a balance at or below zero: top up at {}",
                    info.name, info.top_up_url
                )
            });
            let sample = BalanceSample {
                account_id: account.id,
                observed_at: now,
                remaining: reading.remaining,
                limit: reading.limit,
                used: reading.used,
                unit: reading.unit.clone(),
                resets_at: reading.resets_at,
                is_topup: false,
            };
            if store == Store::Yes {
                let mut tx = crate::db::begin_write(cw.pool()).await?;
                if !key_unchanged(&mut *tx, account.id, &used_key).await? {
                    result.note = Some(KEY_REPLACED.into());
                    return Ok(result);
                }
                let stored = db::balance_samples::insert(&mut tx, sample).await?;
                db::accounts::set_state(
                    &mut *tx,
                    account.id,
                    result.state,
                    message.as_deref(),
                    now,
                )
                .await?;
                tx.commit().await?;
                result.is_topup = stored.is_topup;
            }
            fill_reading(&mut result, reading);
        }
        Err(e) => {
            let (state, last) = state_after(&e);
            result.last = last;
            result.error = Some(ErrorDto {
                kind: e.kind().into(),
                // The message quotes the provider's answer, which may echo the key.
                message: crate::redact::redact_text(&e.to_string()),
            });
            if store == Store::Yes {
                let mut tx = crate::db::begin_write(cw.pool()).await?;
                if !key_unchanged(&mut *tx, account.id, &used_key).await? {
                    result.note = Some(KEY_REPLACED.into());
                    return Ok(result);
                }
                let new_state = state.unwrap_or(account.state);
                // One cliff event per fall off the cliff, not one per slow re-poll while the
                // account stays empty.
                if new_state == AccountState::OutOfCredit
                    && account.state != AccountState::OutOfCredit
                {
                    db::cliff_events::insert(
                        &mut *tx,
                        &cliff_event(&account.provider, account.id, &base_url, now, &e),
                    )
                    .await?;
                }
                db::accounts::set_state(&mut *tx, account.id, new_state, Some(&e.to_string()), now)
                    .await?;
                tx.commit().await?;
                result.state = new_state;
            }
        }
    }
    Ok(result)
}

/// Refuses a reading the store could not read back (a unit that is not a unit, a NaN).
fn checked(info: &ProviderInfo, r: Reading) -> std::result::Result<Reading, PollError> {
    let finite = [r.remaining, r.limit, r.used]
        .into_iter()
        .flatten()
        .all(f64::is_finite);
    if Unit::parse(r.unit.as_str()).is_err() || !finite {
        return Err(PollError::BadResponse {
            message: format!(
                "{}'s answer gave an amount Cliffwatch cannot store (unit `{}`): please report it",
                info.name, r.unit
            ),
        });
    }
    Ok(r)
}

fn fill_reading(result: &mut PollResult, r: Reading) {
    result.remaining = r.remaining;
    result.limit = r.limit;
    result.used = r.used;
    result.currency = r
        .unit
        .is_money()
        .then(|| r.unit.as_str().to_ascii_uppercase());
    result.unit = Some(r.unit);
    result.resets_at = r.resets_at;
    result.note = r.note;
}

/// The account state (None = leave it) and the scheduling class a failed poll leads to.
fn state_after(e: &PollError) -> (Option<AccountState>, LastPoll) {
    match e {
        PollError::OutOfCredit { classification, .. } if classification.transient => (
            None,
            LastPoll::OutOfCredit {
                transient: true,
                retry_after: classification.retry_after,
            },
        ),
        PollError::OutOfCredit { .. } => (
            Some(AccountState::OutOfCredit),
            LastPoll::OutOfCredit {
                transient: false,
                retry_after: None,
            },
        ),
        PollError::InvalidKey { .. } => (Some(AccountState::InvalidKey), LastPoll::InvalidKey),
        PollError::RateLimited { retry_after, .. } => (
            None,
            LastPoll::RateLimited {
                retry_after: *retry_after,
            },
        ),
        PollError::Server { .. } | PollError::BadResponse { .. } => {
            (Some(AccountState::Error), LastPoll::Transient)
        }
        PollError::Http(h) if h.is_transient() => (Some(AccountState::Error), LastPoll::Transient),
        PollError::Http(_)
        | PollError::Forbidden { .. }
        | PollError::Rejected { .. }
        | PollError::Config { .. } => (Some(AccountState::Error), LastPoll::Refused),
    }
}

fn cliff_event(
    provider: &str,
    account: AccountId,
    base_url: &str,
    now: DateTime<Utc>,
    e: &PollError,
) -> CliffEvent {
    let c = e.classification();
    let mut event = CliffEvent {
        id: None,
        account_id: Some(account),
        provider: Some(provider.to_owned()),
        occurred_at: now,
        origin: EventOrigin::Poll,
        outcome: c.map_or(Outcome::OutOfCredit, |c| c.outcome),
        status: e.status().map(i64::from),
        method: None,
        host: url::Url::parse(base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned)),
        // Not the URL: some providers take the key in the query string.
        url: None,
        code: c.and_then(|c| c.code.clone()),
        message: c
            .and_then(|c| c.message.clone())
            .or_else(|| Some(e.to_string())),
        quota: c.and_then(|c| c.quota.clone()),
        payment: c.and_then(|c| c.payment.clone()),
        log_file_id: None,
        byte_offset: None,
    };
    crate::redact::redact_event(&mut event);
    event
}

// ---------------------------------------------------------------------------------------------
// Scheduling decisions (pure)
// ---------------------------------------------------------------------------------------------

/// The scheduler's knobs. The defaults are what the desktop app uses.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// Interval for an account that sets none. 5 min: balances move slowly; a spend forecast
    /// needs a point every few minutes, not every second.
    pub default_interval: Duration,
    /// After an out-of-credit answer: slow, but soon enough to notice a top-up within the
    /// half hour.
    pub out_of_credit_interval: Duration,
    /// First retry after a 5xx/timeout; doubles each time up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Each delay is stretched by up to this fraction at random, so accounts polled together
    /// drift apart and never hit a provider in lockstep. Jitter only ever adds.
    pub jitter: f64,
    /// How often the loop looks for due accounts and newly added ones.
    pub tick: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            default_interval: Duration::from_secs(5 * 60),
            out_of_credit_interval: Duration::from_secs(30 * 60),
            first_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(60 * 60),
            jitter: 0.1,
            tick: Duration::from_secs(5),
        }
    }
}

/// The normal interval of an account: its own setting or the default, never below what the
/// provider allows (Anti-Captcha 30 s, ScrapingBee 10 s …).
pub fn base_interval(
    cfg: &SchedulerConfig,
    info: &ProviderInfo,
    own_interval_s: Option<i64>,
) -> Duration {
    let own = own_interval_s
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64));
    own.unwrap_or(cfg.default_interval)
        .max(provider_floor(info))
}

fn provider_floor(info: &ProviderInfo) -> Duration {
    Duration::from_secs(u64::from(info.min_poll_interval_s))
}

/// How long to wait before polling an account again after `last`. `failures` counts the
/// consecutive transient failures including this one; `jitter` is a sample in `[0, 1)`.
/// `None`: do not poll again until the user edits the account (a rejected key).
pub fn next_delay(
    cfg: &SchedulerConfig,
    info: &ProviderInfo,
    own_interval_s: Option<i64>,
    last: LastPoll,
    failures: u32,
    jitter: f64,
) -> Option<Duration> {
    let base = base_interval(cfg, info, own_interval_s);
    let floor = provider_floor(info);
    let backoff = || {
        let exp = failures.saturating_sub(1).min(20);
        cfg.first_backoff
            .saturating_mul(1u32 << exp)
            .min(cfg.max_backoff)
            .max(floor)
    };
    let delay = match last {
        LastPoll::Ok => base,
        LastPoll::OutOfCredit {
            transient: false, ..
        } => cfg.out_of_credit_interval.max(base),
        // The provider says when; without a hint, back off as for a transient failure.
        LastPoll::OutOfCredit {
            transient: true,
            retry_after,
        } => retry_after.map_or_else(backoff, |r| r.max(floor)),
        LastPoll::RateLimited {
            retry_after: Some(r),
        } => r.max(floor),
        LastPoll::RateLimited { retry_after: None } | LastPoll::Transient => backoff(),
        LastPoll::Refused => cfg.out_of_credit_interval.max(base),
        LastPoll::InvalidKey => return None,
    };
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Some(delay.mul_f64(1.0 + cfg.jitter.max(0.0) * j))
}

// ---------------------------------------------------------------------------------------------
// The scheduler task
// ---------------------------------------------------------------------------------------------

/// What the scheduler can be told.
#[derive(Debug, Clone)]
pub enum Command {
    /// Poll now: one account by label, or every account (`None`). Also wakes an account that
    /// waits for an edit or sits in a slow cadence.
    RefreshNow(Option<String>),
    /// New knobs (the settings changed): later polls use them, and an account due later than
    /// the new interval from now is brought forward to it.
    Configure(SchedulerConfig),
    Stop,
}

/// How long [`Scheduler::stop`] waits for polls in flight before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The background poller. Dropping it stops the task; [`Scheduler::stop`] stops it gracefully.
#[derive(Debug)]
pub struct Scheduler {
    commands: mpsc::Sender<Command>,
    results: broadcast::Sender<PollResult>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Scheduler {
    /// Starts polling every account of `cw` on its own cadence. Must be called inside a tokio
    /// runtime.
    pub fn start(cw: Cliffwatch, http: Http, config: SchedulerConfig) -> Self {
        let (tx, rx) = mpsc::channel(32);
        let (results, _) = broadcast::channel(64);
        let task = tokio::spawn(scheduler_loop(cw, http, config, rx, results.clone()));
        Self {
            commands: tx,
            results,
            task: Some(task),
        }
    }

    /// Every poll result, as it happens (the desktop shell forwards them as events).
    pub fn subscribe(&self) -> broadcast::Receiver<PollResult> {
        self.results.subscribe()
    }

    /// Polls one account (by label) or all accounts now.
    pub async fn refresh_now(&self, label: Option<&str>) {
        let _ = self
            .commands
            .send(Command::RefreshNow(label.map(str::to_owned)))
            .await;
    }

    /// Changes the knobs without a restart (see [`Command::Configure`]).
    pub async fn configure(&self, config: SchedulerConfig) {
        let _ = self.commands.send(Command::Configure(config)).await;
    }

    /// Stops the task, letting polls in flight finish for up to 5 s.
    pub async fn stop(mut self) {
        let _ = self.commands.send(Command::Stop).await;
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Per-account scheduling memory.
#[derive(Debug, Clone, Copy)]
struct Slot {
    due: DateTime<Utc>,
    failures: u32,
    /// After a rejected key: poll again only once the account is edited (or on refresh-now).
    waiting: bool,
    /// The account's `updated_at` after our last poll wrote its state. A later value means
    /// someone edited the account (new key, budget, interval): poll it now, afresh.
    seen: Option<DateTime<Utc>>,
    in_flight: bool,
}

async fn scheduler_loop(
    cw: Cliffwatch,
    http: Http,
    mut cfg: SchedulerConfig,
    mut commands: mpsc::Receiver<Command>,
    results: broadcast::Sender<PollResult>,
) {
    let mut slots: HashMap<AccountId, Slot> = HashMap::new();
    // What the previous run (or `poll --once`) left: a restart polls only what is due, keeps
    // the backoff, and does not send a rejected key again.
    let mut remembered = db::poll_schedule::all(cw.pool()).await.unwrap_or_default();
    let mut overdue: u32 = 0;
    let mut polls: JoinSet<(AccountId, Result<PollResult>)> = JoinSet::new();
    let mut tick = tokio::time::interval(cfg.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut forced: Option<Option<String>> = None;
    let mut reconfigured = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            cmd = commands.recv() => match cmd {
                Some(Command::RefreshNow(label)) => forced = Some(label),
                Some(Command::Configure(new)) => {
                    cfg = new;
                    reconfigured = true;
                }
                Some(Command::Stop) | None => break,
            },
            Some(joined) = polls.join_next(), if !polls.is_empty() => {
                if let Ok((id, res)) = joined {
                    settle(&cw, &cfg, &mut slots, id, res, &results).await;
                }
                continue;
            }
        }
        let Ok(accounts) = db::accounts::list(cw.pool()).await else {
            continue;
        };
        let now = cw.clock().now();
        slots.retain(|id, _| accounts.iter().any(|a| a.account.id == *id));
        for stored in accounts {
            let a = stored.account;
            let slot = slots
                .entry(a.id)
                .or_insert_with(|| first_slot(&a, remembered.remove(&a.id), now, &mut overdue));
            let forced_here = match &forced {
                Some(None) => true,
                Some(Some(label)) => *label == a.label,
                None => false,
            };
            let edited = !slot.in_flight && slot.seen.is_some_and(|seen| a.updated_at > seen);
            if edited {
                *slot = Slot {
                    due: now,
                    failures: 0,
                    waiting: false,
                    seen: Some(a.updated_at),
                    in_flight: false,
                };
            }
            if forced_here {
                slot.waiting = false;
            }
            if reconfigured && !slot.in_flight && !slot.waiting && slot.failures == 0 {
                // A shorter interval takes effect now, not after the wait the old one set.
                if let Ok(info) = providers::find(&a.provider) {
                    let interval = base_interval(&cfg, info, a.poll_interval_s);
                    slot.due = slot
                        .due
                        .min(now + chrono::Duration::from_std(interval).unwrap_or_default());
                }
            }
            if slot.waiting || slot.in_flight || !(forced_here || now >= slot.due) {
                continue;
            }
            // Still due: picked up at a later tick once a poll in flight finishes.
            if polls.len() >= MAX_CONCURRENT_POLLS {
                continue;
            }
            slot.in_flight = true;
            let (cw, http, label, id) = (cw.clone(), http.clone(), a.label.clone(), a.id);
            polls.spawn(async move { (id, poll_account_with(&cw, &http, &label).await) });
        }
        forced = None;
        reconfigured = false;
    }
    // Bounded by Scheduler::stop's timeout; dropping the JoinSet aborts what is left.
    while let Some(joined) = polls.join_next().await {
        if let Ok((id, res)) = joined {
            settle(&cw, &cfg, &mut slots, id, res, &results).await;
        }
    }
}

/// Accounts found overdue at start are spread this far apart, so a machine that wakes after a
/// night does not send every account's request in the same second.
const START_SPREAD: chrono::Duration = chrono::Duration::seconds(2);

/// The first slot of an account this run: from its remembered schedule when there is one
/// (overdue ones spread out by [`START_SPREAD`]), else due now, or waiting when its key was
/// already rejected.
fn first_slot(
    a: &crate::model::Account,
    remembered: Option<db::poll_schedule::Schedule>,
    now: DateTime<Utc>,
    overdue: &mut u32,
) -> Slot {
    let mut spread = || {
        let d = now + START_SPREAD * i32::try_from(*overdue).unwrap_or(i32::MAX / 2);
        *overdue = overdue.saturating_add(1);
        d
    };
    match remembered {
        Some(s) => Slot {
            due: if s.next_due_at > now {
                s.next_due_at
            } else {
                spread().max(s.hold_until)
            },
            failures: s.failures,
            waiting: s.waiting,
            seen: s.seen_updated_at,
            in_flight: false,
        },
        None => Slot {
            due: spread(),
            failures: 0,
            waiting: a.state == AccountState::InvalidKey,
            seen: Some(a.updated_at),
            in_flight: false,
        },
    }
}

async fn settle(
    cw: &Cliffwatch,
    cfg: &SchedulerConfig,
    slots: &mut HashMap<AccountId, Slot>,
    id: AccountId,
    res: Result<PollResult>,
    results: &broadcast::Sender<PollResult>,
) {
    let now = cw.clock().now();
    let Some(slot) = slots.get_mut(&id) else {
        return;
    };
    slot.in_flight = false;
    let Ok(r) = res else {
        // A database hiccup: try again at the normal cadence.
        slot.due = now + chrono::Duration::from_std(cfg.default_interval).unwrap_or_default();
        return;
    };
    match remember(cw, cfg, &r, slot.failures, fastrand::f64()).await {
        Ok(Some(s)) => {
            slot.failures = s.failures;
            slot.waiting = s.waiting;
            slot.due = s.next_due_at;
            slot.seen = s.seen_updated_at;
        }
        // The account is gone, or its key was replaced mid-poll (then it is due again now).
        Ok(None) => slot.due = now,
        Err(_) => {
            slot.due = now + chrono::Duration::from_std(cfg.default_interval).unwrap_or_default();
        }
    }
    let _ = results.send(r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn info(min_s: u32) -> ProviderInfo {
        ProviderInfo {
            min_poll_interval_s: min_s,
            ..*providers::find("deepseek").unwrap()
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[rstest]
    #[case::ok_default(60, None, LastPoll::Ok, 0, Some(S(300)))]
    #[case::ok_own_interval(60, Some(120), LastPoll::Ok, 0, Some(S(120)))]
    #[case::own_interval_never_below_provider_floor(30, Some(5), LastPoll::Ok, 0, Some(S(30)))]
    #[case::out_of_credit_is_slow(60, None, LastPoll::OutOfCredit { transient: false, retry_after: None }, 0, Some(S(1800)))]
    #[case::out_of_credit_never_faster_than_own_slow_interval(60, Some(3600), LastPoll::OutOfCredit { transient: false, retry_after: None }, 0, Some(S(3600)))]
    #[case::transient_402_honours_retry_after_above_floor(60, None, LastPoll::OutOfCredit { transient: true, retry_after: Some(S(3)) }, 1, Some(S(60)))]
    #[case::transient_402_retry_after(10, None, LastPoll::OutOfCredit { transient: true, retry_after: Some(S(45)) }, 1, Some(S(45)))]
    #[case::rate_limited_retry_after(60, None, LastPoll::RateLimited { retry_after: Some(S(600)) }, 1, Some(S(600)))]
    #[case::rate_limited_retry_after_below_floor(30, None, LastPoll::RateLimited { retry_after: Some(S(1)) }, 1, Some(S(30)))]
    #[case::rate_limited_without_hint_backs_off(10, None, LastPoll::RateLimited { retry_after: None }, 2, Some(S(120)))]
    #[case::first_failure(10, None, LastPoll::Transient, 1, Some(S(60)))]
    #[case::second_failure_doubles(10, None, LastPoll::Transient, 2, Some(S(120)))]
    #[case::sixth_failure(10, None, LastPoll::Transient, 6, Some(S(1920)))]
    #[case::backoff_is_capped(10, None, LastPoll::Transient, 7, Some(S(3600)))]
    #[case::huge_failure_count_does_not_overflow(
        10,
        None,
        LastPoll::Transient,
        u32::MAX,
        Some(S(3600))
    )]
    #[case::backoff_never_below_floor(120, None, LastPoll::Transient, 1, Some(S(120)))]
    #[case::refused_is_slow(60, None, LastPoll::Refused, 0, Some(S(1800)))]
    #[case::invalid_key_waits_for_an_edit(60, None, LastPoll::InvalidKey, 0, None)]
    fn scheduling_decisions(
        #[case] floor_s: u32,
        #[case] own: Option<i64>,
        #[case] last: LastPoll,
        #[case] failures: u32,
        #[case] expected: Option<Duration>,
    ) {
        let cfg = SchedulerConfig::default();
        assert_eq!(
            next_delay(&cfg, &info(floor_s), own, last, failures, 0.0),
            expected,
            "{last:?} after {failures} failures"
        );
    }

    #[rstest]
    #[case(LastPoll::Ok)]
    #[case(LastPoll::Transient)]
    #[case(LastPoll::OutOfCredit { transient: false, retry_after: None })]
    #[case(LastPoll::RateLimited { retry_after: Some(S(30)) })]
    fn jitter_only_stretches_and_by_at_most_the_fraction(#[case] last: LastPoll) {
        let cfg = SchedulerConfig::default();
        let i = info(30);
        let plain = next_delay(&cfg, &i, None, last, 1, 0.0).unwrap();
        let most = next_delay(&cfg, &i, None, last, 1, 0.999_999).unwrap();
        assert!(
            most >= plain,
            "jitter never shortens a delay (the provider floor holds)"
        );
        assert!(
            most <= plain.mul_f64(1.0 + cfg.jitter),
            "jitter is at most {}",
            cfg.jitter
        );
        assert!(
            most > plain,
            "jitter does something, so accounts drift apart"
        );
        let nan = next_delay(&cfg, &i, None, last, 1, f64::NAN).unwrap();
        assert_eq!(nan, plain, "a bad random sample is ignored, not propagated");
    }

    #[test]
    fn provider_floors_from_the_catalog_hold() {
        let cfg = SchedulerConfig::default();
        let anti = providers::find("anticaptcha").unwrap();
        assert_eq!(
            base_interval(&cfg, anti, Some(1)),
            S(30),
            "Anti-Captcha: at most once per 30 s"
        );
        let bee = providers::find("scrapingbee").unwrap();
        assert_eq!(
            base_interval(&cfg, bee, Some(1)),
            S(10),
            "ScrapingBee: 6 calls per minute"
        );
        assert_eq!(
            base_interval(&cfg, bee, Some(0)),
            S(300),
            "0 means unset, not 'as fast as possible'"
        );
    }

    #[test]
    fn failure_kinds_map_to_states_and_cadences() {
        use crate::classify::Classification;
        let c = |transient: bool| {
            Box::new(Classification {
                outcome: Outcome::OutOfCredit,
                retry_after: Some(S(3)),
                transient,
                code: None,
                message: None,
                quota: None,
                payment: None,
            })
        };
        let hard = PollError::OutOfCredit {
            status: 402,
            classification: c(false),
            message: "x".into(),
        };
        assert_eq!(
            state_after(&hard).0,
            Some(AccountState::OutOfCredit),
            "a hard 402 marks the account"
        );
        let soft = PollError::OutOfCredit {
            status: 402,
            classification: c(true),
            message: "x".into(),
        };
        assert_eq!(
            state_after(&soft).0,
            None,
            "a transient 402 leaves the state alone"
        );
        assert_eq!(
            state_after(&soft).1,
            LastPoll::OutOfCredit {
                transient: true,
                retry_after: Some(S(3))
            }
        );
        let timeout = PollError::Http(crate::http::HttpError::Timeout {
            host: "h".into(),
            seconds: 1,
        });
        assert_eq!(
            state_after(&timeout).1,
            LastPoll::Transient,
            "timeouts back off"
        );
        let redirect = PollError::Http(crate::http::HttpError::Redirect {
            host: "h".into(),
            to: "e".into(),
        });
        assert_eq!(
            state_after(&redirect).1,
            LastPoll::Refused,
            "a cross-host redirect is not retried fast"
        );
    }
}
