//! The recording proxy's side of the front door ([`crate::proxy`] is the host): where a route
//! goes, whether an account's breaker is open, what the proxy answers instead of forwarding,
//! and what an exchange it saw amounts to — an event through the one classifier and redactor,
//! usage priced like a log's — stored in one transaction per batch.

use crate::db;
use crate::events::Change;
use crate::logs::prices::PriceTable;
use crate::logs::{self, Request};
use crate::model::{Account, AccountId, CliffEvent, EventOrigin, Outcome, UsageRecord};
use crate::proxy::usage::Found;
use crate::{providers, Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use url::Url;

/// Where `/a/<label>/…` goes, and what the breaker knows of the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub account_id: AccountId,
    pub label: String,
    pub provider: String,
    /// The account's base URL, or its provider's.
    pub base: Url,
    pub breaker: bool,
    pub top_up_url: Option<String>,
    /// Out of credit since then (whether or not its breaker is on).
    pub out_since: Option<DateTime<Utc>>,
}

/// Every account's route, by label. An account whose base URL does not parse has none.
pub async fn routes(cw: &Cliffwatch) -> Result<HashMap<String, Route>> {
    let pool = cw.pool();
    let mut out_since = db::accounts::out_of_credit_since(pool, None).await?;
    let mut routes = HashMap::new();
    for stored in db::accounts::list(pool).await? {
        let a = stored.account;
        let info = providers::find(&a.provider).ok();
        let base = a
            .base_url
            .as_deref()
            .or(info.map(|i| i.default_base_url))
            .and_then(|u| Url::parse(u).ok());
        let Some(base) = base else { continue };
        routes.insert(
            a.label.clone(),
            Route {
                account_id: a.id,
                provider: a.provider.clone(),
                base,
                breaker: a.breaker,
                top_up_url: info
                    .map(|i| i.top_up_url)
                    .filter(|u| u.starts_with("https://"))
                    .map(Into::into),
                out_since: out_since.remove(&a.id),
                label: a.label,
            },
        );
    }
    Ok(routes)
}

/// Turns an account's breaker on or off (the account's switch in the window).
pub async fn set_breaker(cw: &Cliffwatch, id: AccountId, on: bool) -> Result<Account> {
    db::accounts::set_breaker(cw.pool(), id, on).await?;
    cw.announce(Change::Accounts);
    Ok(db::accounts::get(cw.pool(), id).await?.account)
}

/// [`set_breaker`] by label (`cliffwatch account breaker LABEL on|off`).
pub async fn set_breaker_for(cw: &Cliffwatch, label: &str, on: bool) -> Result<Account> {
    let id = db::accounts::get_by_label(cw.pool(), label)
        .await?
        .account
        .id;
    set_breaker(cw, id, on).await
}

/// The local answer of an open breaker: a 402 whose JSON body (OpenAI's error shape, so SDKs
/// show its message) says which account, since when, and where to top up.
pub fn breaker_answer(route: &Route, since: DateTime<Utc>) -> serde_json::Value {
    let top_up = route
        .top_up_url
        .as_deref()
        .map(|u| format!(" Top up at {u}."))
        .unwrap_or_default();
    serde_json::json!({
        "error": {
            "type": "cliffwatch_breaker_open",
            "code": "insufficient_quota",
            "message": format!(
                "Cliffwatch's breaker for account `{}` is open: it has been out of credit since {} \
                 and this request was not sent.{top_up} The breaker closes when a balance poll \
                 sees the top-up.",
                route.label,
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            "account": route.label,
            "since": since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "top_up_url": route.top_up_url,
        }
    })
}

/// An answer the proxy passed on, as the recorder saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub account_id: Option<AccountId>,
    /// The account's provider (or an `--upstream` name's guess from its host).
    pub provider: Option<String>,
    pub at: DateTime<Utc>,
    pub method: String,
    /// The upstream URL (redacted before it is stored).
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Read for what a paid request paid; never stored.
    pub request_headers: Vec<(String, String)>,
    /// The start of the body (decoded), for an answer that is not 2xx or a JSON 2xx.
    pub body: Option<Vec<u8>>,
    pub usage: Option<Found>,
}

/// What an exchange amounts to in the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    pub event: Option<CliffEvent>,
    pub usage: Option<UsageRecord>,
}

impl Recorded {
    /// The account is now known out of credit.
    pub fn out_of_credit(&self) -> Option<(AccountId, DateTime<Utc>)> {
        let e = self.event.as_ref()?;
        (e.outcome == Outcome::OutOfCredit)
            .then_some(())
            .and(e.account_id.map(|id| (id, e.occurred_at)))
    }
}

/// Classifies an exchange as a logged request is classified (the same classifier, payment
/// readers and redactor), and prices its usage with the price table unless the answer states
/// a cost.
pub fn recorded(x: Exchange, prices: &PriceTable) -> Recorded {
    let req = Request {
        time: Some(x.at),
        status: x.status,
        method: Some(x.method),
        host: logs::host_of(&x.url),
        url: Some(x.url),
        headers: x.headers,
        request_headers: x.request_headers,
        body: x.body,
        note: None,
        echo: false,
    };
    let seen = logs::request_seen(&req, x.at);
    let event = seen.event.map(|mut e| {
        e.account_id = x.account_id;
        e.origin = EventOrigin::Proxy;
        if e.provider.is_none() {
            e.provider = x.provider.clone();
        }
        e
    });
    let provider = x.provider.clone().unwrap_or_else(|| "proxy".into());
    let usage = match (x.usage, seen.spend) {
        (Some(f), _) if (200..300).contains(&x.status) => {
            let u = logs::Usage {
                time: Some(x.at),
                provider: "proxy",
                model: f.model.clone(),
                input_tokens: f.input_tokens,
                output_tokens: f.output_tokens,
                cache_creation_tokens: f.cache_creation_tokens,
                cache_read_tokens: f.cache_read_tokens,
                reasoning_tokens: f.reasoning_tokens,
                logged_cost: f.cost,
                key: None,
            };
            let cost = f.cost.or_else(|| prices.cost(&u));
            Some(UsageRecord {
                account_id: x.account_id,
                source_id: None,
                occurred_at: x.at,
                dedupe_key: match &f.id {
                    Some(id) => format!("proxy:{provider}:{id}"),
                    None => format!("proxy:{}", uuid::Uuid::new_v4()),
                },
                provider,
                model: f.model,
                input_tokens: f.input_tokens,
                output_tokens: f.output_tokens,
                cache_creation_tokens: f.cache_creation_tokens,
                cache_read_tokens: f.cache_read_tokens,
                reasoning_tokens: f.reasoning_tokens,
                currency: cost.map(|_| prices.currency.clone()),
                cost,
                host: None,
                protocol: None,
            })
        }
        (_, Some(spend)) => Some(spend.usage_record(
            x.account_id,
            None,
            Some(provider),
            format!("proxy:{}", uuid::Uuid::new_v4()),
        )),
        _ => None,
    };
    Recorded { event, usage }
}

/// Stores a batch of recorded exchanges in one transaction and tells the engine. Returns how
/// many events were stored.
pub async fn record(cw: &Cliffwatch, batch: &[Recorded]) -> Result<usize> {
    if batch.iter().all(|r| r.event.is_none() && r.usage.is_none()) {
        return Ok(0);
    }
    let mut tx = db::begin_write(cw.pool()).await?;
    let mut events = 0;
    for r in batch {
        if let Some(e) = &r.event {
            if db::cliff_events::insert(&mut *tx, e).await?.is_some() {
                events += 1;
            }
        }
    }
    let usage: Vec<UsageRecord> = batch
        .iter()
        .filter_map(|r| r.usage.clone())
        .filter(|u| crate::clock::storable(u.occurred_at))
        .collect();
    db::usage_records::upsert_many(&mut tx, usage).await?;
    tx.commit().await?;
    cw.announce(Change::Data);
    Ok(events)
}

/// Checks an `--upstream NAME=https://host` route: a plain name and a base URL keys may be
/// sent to (https, or http on loopback).
pub fn upstream(text: &str) -> Result<(String, Url)> {
    let (name, url) = text.split_once('=').ok_or_else(|| {
        Error::InvalidInput(format!(
            "`{text}` is not NAME=URL: write it like --upstream search=https://api.example.com"
        ))
    })?;
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::InvalidInput(format!(
            "`{name}` is not an upstream name: use letters, digits, - _ and ."
        )));
    }
    let url = crate::urls::validate_base_url(url)?;
    let url = Url::parse(&url).map_err(|e| Error::InvalidInput(format!("`{url}`: {e}")))?;
    Ok((name.to_owned(), url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_support::open;

    fn exchange(status: u16, body: &str) -> Exchange {
        Exchange {
            account_id: Some(AccountId(1)),
            provider: Some("openai".into()),
            at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 10, 0, 0).unwrap(),
            method: "POST".into(),
            url: "https://api.openai.com/v1/chat/completions?api_key=sk-live-0123456789abcdef"
                .into(),
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            request_headers: vec![(
                "authorization".into(),
                "Bearer sk-proj-abcdefghijklmnop0123".into(),
            )],
            body: Some(body.as_bytes().to_vec()),
            usage: None,
        }
    }

    #[test]
    fn a_disguised_402_is_an_out_of_credit_event_without_the_key() {
        let r = recorded(
            exchange(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            ),
            &PriceTable::shipped(),
        );
        let e = r.event.as_ref().expect("an event");
        assert_eq!(
            e.outcome,
            Outcome::OutOfCredit,
            "OpenAI's 429 insufficient_quota"
        );
        assert_eq!(e.origin, EventOrigin::Proxy);
        assert_eq!(r.out_of_credit().map(|(id, _)| id), Some(AccountId(1)));
        let shown = serde_json::to_string(e).unwrap();
        assert!(
            !shown.contains("0123456789abcdef"),
            "the URL's key is redacted: {shown}"
        );
        assert!(
            !shown.contains("abcdefghijklmnop"),
            "request headers are never stored"
        );
    }

    #[test]
    fn usage_is_priced_when_the_answer_states_no_cost() {
        let mut x = exchange(200, "{}");
        x.usage = Some(Found {
            id: Some("chatcmpl-9".into()),
            model: Some("gpt-4o-mini".into()),
            input_tokens: 1_000_000,
            output_tokens: 0,
            ..Found::default()
        });
        let r = recorded(x, &PriceTable::shipped());
        assert!(r.event.is_none(), "a 2xx with usage is no event");
        let u = r.usage.expect("usage");
        assert_eq!(
            u.dedupe_key, "proxy:openai:chatcmpl-9",
            "one record per answer id"
        );
        assert!(
            u.cost.is_some_and(|c| c > 0.0),
            "priced from the table: {:?}",
            u.cost
        );
    }

    #[tokio::test]
    async fn a_proxy_402_opens_the_breaker_until_a_topup() {
        let (_dir, cw) = open().await;
        let id = crate::api::test_support::account(&cw, "openrouter", "or").await;
        set_breaker_for(&cw, "or", true).await.unwrap();
        let now = cw.clock().now();
        let mut x = exchange(
            402,
            r#"{"error":{"message":"Insufficient credits","code":402}}"#,
        );
        x.account_id = Some(id);
        x.at = now;
        let r = recorded(x, &PriceTable::shipped());
        assert_eq!(record(&cw, &[r]).await.unwrap(), 1);
        let route = routes(&cw).await.unwrap().remove("or").unwrap();
        assert!(route.breaker);
        assert_eq!(route.out_since, Some(now), "open since the recorded 402");
        let status = crate::api::overview::status(&cw).await.unwrap();
        assert_eq!(
            status.accounts[0].breaker_open_since,
            Some(now),
            "status shows it"
        );
        let body = breaker_answer(&route, now).to_string();
        assert!(
            body.contains("`or`") && body.contains("openrouter.ai"),
            "{body}"
        );

        let mut tx = cw.pool().begin().await.unwrap();
        for (m, v) in [(1, 0.0), (2, 25.0)] {
            let s = crate::model::BalanceSample {
                account_id: id,
                observed_at: now + chrono::Duration::minutes(m),
                remaining: Some(v),
                limit: None,
                used: None,
                unit: crate::model::Unit::usd(),
                resets_at: None,
                is_topup: false,
            };
            db::balance_samples::insert(&mut tx, s).await.unwrap();
        }
        tx.commit().await.unwrap();
        let route = routes(&cw).await.unwrap().remove("or").unwrap();
        assert_eq!(
            route.out_since, None,
            "a poll that saw the top-up closes it"
        );
    }

    #[tokio::test]
    async fn a_paid_answer_after_the_402_closes_the_breaker_where_no_balance_is_polled() {
        // OpenAI has no balance endpoint: no top-up reading ever comes, so an answer that was
        // served and paid for (a usage record after the 402) is what says credit is back.
        let (_dir, cw) = open().await;
        let id = crate::api::test_support::account(&cw, "openai", "org").await;
        set_breaker_for(&cw, "org", true).await.unwrap();
        let t0 = cw.clock().now();
        let out = |at| {
            let mut x = exchange(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            );
            x.account_id = Some(id);
            x.at = at;
            recorded(x, &PriceTable::shipped())
        };
        record(&cw, &[out(t0)]).await.unwrap();
        async fn since(cw: &Cliffwatch) -> Option<DateTime<Utc>> {
            routes(cw).await.unwrap().remove("org").unwrap().out_since
        }
        assert_eq!(since(&cw).await, Some(t0), "open since the disguised 402");

        let mut paid = exchange(200, "{}");
        paid.account_id = Some(id);
        paid.at = t0 + chrono::Duration::minutes(5);
        paid.usage = Some(Found {
            id: Some("chatcmpl-after".into()),
            model: Some("gpt-4o-mini".into()),
            input_tokens: 10,
            output_tokens: 2,
            ..Found::default()
        });
        record(&cw, &[recorded(paid, &PriceTable::shipped())])
            .await
            .unwrap();
        assert_eq!(since(&cw).await, None, "a paid answer after it closes it");
        let status = crate::api::overview::status(&cw).await.unwrap();
        assert_eq!(status.accounts[0].breaker_open_since, None);

        let t1 = t0 + chrono::Duration::minutes(9);
        record(&cw, &[out(t1)]).await.unwrap();
        assert_eq!(since(&cw).await, Some(t1), "the next 402 opens it again");
    }

    #[test]
    fn upstream_routes_are_checked() {
        let (name, url) = upstream("search=https://api.example.com/v2").unwrap();
        assert_eq!(
            (name.as_str(), url.as_str()),
            ("search", "https://api.example.com/v2")
        );
        assert!(upstream("nope").is_err());
        assert!(upstream("a b=https://x.example").is_err());
        assert!(
            upstream("x=http://example.com").is_err(),
            "plain http only on loopback"
        );
    }
}
