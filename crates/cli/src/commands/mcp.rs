//! `cliffwatch mcp`: a Model Context Protocol server on stdio (the official Rust SDK, `rmcp`),
//! so an agent can ask before it spends. Four read-only tools, each parse → one
//! `cliffwatch_core::api` call → show: `list_accounts` (`status --json`), `get_runway`
//! (`forecast --json` of one account), `recent_402s` (`events --json`, bounded) and
//! `can_afford` (`api::agent::can_afford`). What the core answers goes through
//! `api::agent::shown` (the one redactor); a core error reaches the client as a tool error
//! `{kind, message}`. Standard output carries only JSON-RPC: nothing here prints.

use crate::Context;
use cliffwatch_core::api::{agent, overview};
use cliffwatch_core::clock::SystemClock;
use cliffwatch_core::secrets::MemoryStore;
use cliffwatch_core::{Cliffwatch, Error};
use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::schemars::JsonSchema;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::sync::Arc;

const LIST_ACCOUNTS: &str = "list_accounts";
const GET_RUNWAY: &str = "get_runway";
const RECENT_402S: &str = "recent_402s";
const CAN_AFFORD: &str = "can_afford";

/// What the client is told at `initialize`.
const INSTRUCTIONS: &str = "Cliffwatch watches API-key balances, 402 Payment Required answers \
and when each balance runs out. Read-only; keys are never shown. Before a costly run, call \
can_afford; get_runway gives the runway band; recent_402s says why requests were refused. \
Accounts are named by their label (list_accounts).";

/// `get_runway`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct RunwayArgs {
    /// The account's label, as list_accounts gives it (accounts[].account.label).
    account: String,
}

/// `recent_402s`' input.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct RecentArgs {
    /// Only this account's events (its label); all accounts' and unlinked logs' when absent.
    account: Option<String>,
    /// Only events at or after this time, RFC 3339 (2026-12-01T00:00:00Z).
    since: Option<String>,
    /// At most this many events, newest first: 1 to 200, 20 when absent.
    limit: Option<i64>,
}

/// `can_afford`'s input: the account and exactly one of `hours` or `amount`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct AffordArgs {
    /// The account's label, as list_accounts gives it.
    account: String,
    /// Will it last this many more hours at the current burn? (Or give amount.)
    hours: Option<f64>,
    /// Does what is left cover this much more spend, in the account's unit? (Or give hours.)
    amount: Option<f64>,
}

/// The tools as `tools/list` gives them. Their descriptions are written for an agent: what
/// each answers, and in which units.
fn tools() -> Result<Vec<Tool>, Error> {
    let schema = |r: Result<_, String>| {
        r.map_err(|e| Error::Internal(format!("a tool's input schema is invalid: {e}")))
    };
    let read_only = ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false);
    let tool = |name: &'static str, description: &'static str, input| {
        Tool::new(name, description, input).annotate(read_only.clone())
    };
    Ok(vec![
        tool(
            LIST_ACCOUNTS,
            "Lists the accounts Cliffwatch watches (one API key at one provider each) with the \
             latest balance reading. Answers {generated_at, accounts: [{account: {label, provider, \
             state, …}, provider_name, latest: {remaining, limit, used, unit, observed_at, \
             resets_at} | null, top_up_url}]}. Name an account by account.label in the other \
             tools. state: ok, out_of_credit, invalid_key, error or unknown (not polled yet). \
             unit: a lower-case currency code (usd, cny, eur) or a count (credits, characters, \
             searches, requests, tokens). Same JSON as `cliffwatch status --json`, with the \
             account's secret reference REDACTED: never a key.",
            schema_for_empty_input(),
        ),
        tool(
            GET_RUNWAY,
            "How long one account's balance lasts at the current burn. Answers remaining (in \
             unit, at the latest reading observed_at), rate_per_day (typical spend per day, in \
             unit), runway_hours {p10, p50, p90}: hours from as_of until it reaches zero (p10 \
             the early, pessimistic end of the band, p50 the median, p90 the late end), \
             exhausts_at (the median, RFC 3339), resets_at and runs_out_before_reset for a \
             resetting quota, state (ok: a runway is known; learning: under 24 h of readings; \
             idle: over 30 days left; out_of_credit; unknown: no reading) and message (the \
             forecast in plain words). Same JSON as `cliffwatch forecast --json`.",
            schema(schema_for_input::<RunwayArgs>())?,
        ),
        tool(
            RECENT_402S,
            "The 402 history, newest first: requests refused for payment (HTTP 402 and the \
             disguised ones, such as a 429 insufficient_quota) and other failed requests, from \
             polls and request logs. Each event: occurred_at, account_id, provider, host, url \
             (keys redacted), status, outcome (out_of_credit: the wallet or quota is empty; \
             payment_required: a price was asked, e.g. an x402 challenge; also rate_limited, \
             unauthorized, forbidden, server_error, client_error, bad_response), code, message, \
             and payment: null or the parsed payment {protocol (x402, l402, mpp, pay_per_crawl, \
             json), stage (challenge, failed, paid), amount (a decimal string in currency), \
             amount_atomic, currency, network, pay_to, resource, …}. Same JSON as `cliffwatch \
             events --json`, in {events: […]}.",
            schema(schema_for_input::<RecentArgs>())?,
        ),
        tool(
            CAN_AFFORD,
            "Ask before you spend: will this account last `hours` more hours, or cover `amount` \
             more spend (in the account's unit: dollars for usd, credits for credits), at the \
             current burn? Give exactly one of hours or amount. answer: yes (even the early, \
             pessimistic P10 end of the runway band lasts that long; for an amount, what is \
             left now covers it), no (it may or will run out first, it is more than is left, or \
             the account is out of credit) or unknown (no forecast yet: learning, no reading); \
             reason says why in plain words. Also: runway_hours {p10, p50, p90} (hours from \
             now), remaining, left_now and, for a covered amount, runway_after_hours (the band \
             left after spending it).",
            schema(schema_for_input::<AffordArgs>())?,
        ),
    ])
}

/// The server: the open data directory and its tools.
#[derive(Debug, Clone)]
struct Server {
    cw: Cliffwatch,
    tools: Arc<Vec<Tool>>,
}

pub async fn run(ctx: &Context) -> cliffwatch_core::Result<()> {
    let dir = cliffwatch_core::paths::data_dir(ctx.data_dir.as_deref())?;
    // An empty keychain: the tools read balances, forecasts and events and never a key, so this
    // process holds no way to fetch one.
    let cw = Cliffwatch::open(&dir, Arc::new(MemoryStore::new()), Arc::new(SystemClock)).await?;
    let server = Server {
        cw,
        tools: Arc::new(tools()?),
    };
    let running = server
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|e| Error::InvalidInput(format!("the MCP session did not start: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::Internal(format!("the MCP server stopped abnormally ({e})")))?;
    Ok(())
}

impl Server {
    async fn call(
        &self,
        name: &str,
        args: serde_json::Value,
    ) -> cliffwatch_core::Result<serde_json::Value> {
        let cw = &self.cw;
        match name {
            LIST_ACCOUNTS => agent::shown(&overview::status(cw).await?),
            GET_RUNWAY => {
                let a: RunwayArgs = parse(name, args)?;
                agent::shown(&agent::runway(cw, &a.account).await?)
            }
            RECENT_402S => {
                let a: RecentArgs = parse(name, args)?;
                let since = a.since.as_deref().map(rfc3339).transpose()?;
                let events = agent::recent_402s(cw, a.account.as_deref(), since, a.limit).await?;
                Ok(serde_json::json!({ "events": agent::shown(&events)? }))
            }
            CAN_AFFORD => {
                let a: AffordArgs = parse(name, args)?;
                let ask = agent::Ask::from_parts(a.hours, a.amount)?;
                agent::shown(&agent::can_afford(cw, &a.account, ask).await?)
            }
            _ => Err(Error::InvalidInput(format!("no tool named `{name}`"))),
        }
    }
}

/// A tool's arguments, or the client's error naming what is wrong with them.
fn parse<T: DeserializeOwned>(tool: &str, args: serde_json::Value) -> cliffwatch_core::Result<T> {
    serde_json::from_value(args).map_err(|e| {
        Error::InvalidInput(format!(
            "{tool}: the arguments do not fit its input schema: {e}"
        ))
    })
}

fn rfc3339(s: &str) -> cliffwatch_core::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            Error::InvalidInput(
                "`since` must be an RFC 3339 time, such as 2026-12-01T00:00:00Z".into(),
            )
        })
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cliffwatch", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.as_ref();
        if self.get_tool(name).is_none() {
            // The protocol's answer to an unknown tool (-32602), not a tool error.
            let shown: String = name.chars().take(80).collect();
            let shown = cliffwatch_core::redact::redact_text(&shown);
            let tools = format!("{LIST_ACCOUNTS}, {GET_RUNWAY}, {RECENT_402S} and {CAN_AFFORD}");
            return Err(ErrorData::invalid_params(
                format!("no tool named `{shown}`: the tools are {tools}"),
                None,
            ));
        }
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let result = match self.call(name, args).await {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => CallToolResult::structured_error(agent::shown_error(&e)),
        };
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tool says what it answers and takes an object schema a client can fill in.
    #[test]
    fn every_tool_has_a_description_and_an_object_input_schema() {
        let tools = tools().expect("the schemas are valid");
        let names: Vec<_> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, [LIST_ACCOUNTS, GET_RUNWAY, RECENT_402S, CAN_AFFORD]);
        for t in &tools {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&serde_json::json!("object")),
                "{}",
                t.name
            );
            assert!(
                t.description.as_ref().is_some_and(|d| d.len() > 80),
                "{}",
                t.name
            );
            assert_eq!(
                t.annotations.as_ref().and_then(|a| a.read_only_hint),
                Some(true)
            );
        }
        let afford = serde_json::Value::Object(tools[3].input_schema.as_ref().clone());
        assert_eq!(
            afford["required"],
            serde_json::json!(["account"]),
            "{afford}"
        );
        assert!(afford["properties"]["hours"].is_object(), "{afford}");
    }

    #[test]
    fn arguments_that_do_not_fit_are_the_clients_error() {
        let e = parse::<RunwayArgs>(GET_RUNWAY, serde_json::json!({"acount": "main"})).unwrap_err();
        assert_eq!(e.kind(), "invalid_input");
        let e = parse::<RecentArgs>(RECENT_402S, serde_json::json!({"limit": "lots"})).unwrap_err();
        assert_eq!(e.kind(), "invalid_input");
        assert!(rfc3339("yesterday").is_err());
        assert!(rfc3339("2026-12-01T00:00:00Z").is_ok());
    }
}
