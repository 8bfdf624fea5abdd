//! Claude Code transcripts (`~/.claude/projects/**/*.jsonl`, or under `CLAUDE_CONFIG_DIR`).
//!
//! Assistant lines carry the token usage of one API request. Claude Code writes the same message
//! several times as it streams (same `message.id` and `requestId`, growing `output_tokens`), so
//! the key is message id + request id and the store keeps the largest usage, never a sum.
//! Lines flagged `isApiErrorMessage` are failed API calls (a 402, `billing_error`, "credit
//! balance is too low", a 429) and become cliff events.
//!
//! Speed: the bulky lines (tool results, file snapshots) hold no usage; the prefilter skips them
//! unparsed, and `content` is borrowed raw, never built into a tree.

use super::{AgentError, Format, Located, LogFormat, ParseCx, Record, Usage};
use crate::classify::{classify, Observation};
use crate::model::Outcome;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Debug)]
pub struct ClaudeCode;

/// Provider id of Claude Code usage and errors.
pub const PROVIDER: &str = "anthropic";

#[derive(Deserialize)]
struct Line<'a> {
    timestamp: Option<&'a str>,
    #[serde(rename = "requestId")]
    request_id: Option<&'a str>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<f64>,
    #[serde(rename = "isApiErrorMessage", default)]
    is_api_error: bool,
    #[serde(rename = "apiErrorStatus")]
    api_error_status: Option<u16>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    usage: Option<TokenUsage>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct TokenUsage {
    #[serde(default)]
    input_tokens: i64,
    #[serde(default)]
    output_tokens: i64,
    #[serde(default)]
    cache_creation_input_tokens: i64,
    #[serde(default)]
    cache_read_input_tokens: i64,
}

/// The text of a message's content (a string, or the `text` of its text blocks).
fn content_text(raw: &RawValue) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Array(blocks) => {
            let t: Vec<String> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(|t| t.as_str()).map(str::to_owned))
                .collect();
            (!t.is_empty()).then(|| t.join("\n"))
        }
        _ => None,
    }
}

/// `API Error: 402 {"type":"error",…}` → (402, the JSON body).
fn split_api_error(text: &str) -> (Option<u16>, &str) {
    let Some(i) = text.find("API Error: ") else {
        return (None, text);
    };
    let rest = &text[i + 11..];
    let status = rest.get(..3).and_then(|s| s.parse().ok());
    let body = if status.is_some() {
        rest[3..].trim()
    } else {
        rest.trim()
    };
    (status, body)
}

fn api_error(l: &Line<'_>, time: Option<chrono::DateTime<chrono::Utc>>) -> AgentError {
    let text = l
        .message
        .as_ref()
        .and_then(|m| m.content)
        .and_then(content_text)
        .unwrap_or_default();
    let (text_status, body) = split_api_error(&text);
    let status = l.api_error_status.or(text_status);
    let error_kind: Option<String> = l.error.and_then(|e| {
        let v: serde_json::Value = serde_json::from_str(e.get()).ok()?;
        v.as_str().map(str::to_owned).or_else(|| {
            v.pointer("/error/type")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        })
    });
    let c = classify(&Observation {
        provider: Some(PROVIDER),
        host: None,
        status: status.unwrap_or(0),
        headers: &[],
        request_headers: &[],
        body: body.as_bytes(),
    });
    let outcome = match error_kind.as_deref() {
        Some("billing_error") => Outcome::OutOfCredit,
        Some("rate_limit" | "rate_limit_error") if c.outcome != Outcome::OutOfCredit => {
            Outcome::RateLimited
        }
        Some("authentication_failed" | "authentication_error") => Outcome::Unauthorized,
        _ if status.is_none() && c.outcome == Outcome::BadResponse => Outcome::ClientError,
        _ => c.outcome,
    };
    AgentError {
        time,
        provider: PROVIDER,
        status,
        outcome,
        code: c.code.or(error_kind),
        message: c
            .message
            .or_else(|| (!text.is_empty()).then(|| text.chars().take(500).collect())),
        quota: c.quota,
    }
}

impl LogFormat for ClaudeCode {
    fn format(&self) -> Format {
        Format::ClaudeCode
    }

    fn sniff(&self, line: &[u8]) -> bool {
        let has = |n: &[u8]| memchr::memmem::find(line, n).is_some();
        line.starts_with(b"{")
            && !has(b"\"payload\"")
            && (has(b"\"sessionId\"")
                || (has(b"\"message\"")
                    && (has(b"\"type\":\"user\"")
                        || has(b"\"type\":\"assistant\"")
                        || has(b"\"usage\"")))
                || has(b"\"type\":\"summary\"")
                || has(b"file-history-snapshot"))
    }

    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        // `piError` is in both `isApiErrorMessage` and `apiErrorStatus`: two needles, not three.
        Some(vec![b"\"usage\"".to_vec(), b"piError".to_vec()])
    }

    fn parse_line(&self, line: &[u8], offset: u64, _cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let Ok(l) = serde_json::from_slice::<Line<'_>>(line) else {
            return;
        };
        let time = l
            .timestamp
            .and_then(|t| super::time::parse_text(t, chrono_tz::UTC));
        if l.is_api_error || l.api_error_status.is_some() {
            out.push(Located {
                offset,
                record: Record::AgentError(api_error(&l, time)),
            });
            return;
        }
        let Some(m) = &l.message else { return };
        let Some(u) = &m.usage else { return };
        let key = match (m.id, l.request_id) {
            (Some(id), Some(req)) => Some(format!("claude:{id}:{req}")),
            _ => None,
        };
        out.push(Located {
            offset,
            record: Record::Usage(Usage {
                time,
                provider: PROVIDER,
                model: m.model.map(str::to_owned),
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                cache_creation_tokens: u.cache_creation_input_tokens,
                cache_read_tokens: u.cache_read_input_tokens,
                reasoning_tokens: 0,
                logged_cost: l.cost_usd,
                key,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support::*;

    #[rstest::rstest]
    #[case("claude-code/ccusage__project-alpha__session-alpha__chat.jsonl", [600, 250, 75, 70], Some(1.02))]
    #[case("claude-code/ccusage__project-beta__session-beta__chat.jsonl", [130, 60, 15, 40], Some(0.07))]
    #[case("claude-code/ccusage__test-transcript.jsonl", [3000, 150, 300, 1300], None)]
    #[case("claude-code/spotter__short.jsonl", [3, 13, 13835, 11515], None)]
    #[case("claude-code/spotter__tool_heavy.jsonl", [54, 212, 17696, 88231], None)]
    #[case("claude-code/spotter__subagents__agent-acompact-e1f845.jsonl", [3, 8, 8681, 164830], None)]
    fn real_transcripts_total_like_sources_md(
        #[case] file: &str,
        #[case] want: [i64; 4],
        #[case] logged: Option<f64>,
    ) {
        let t = usage_totals_of(Format::ClaudeCode, file);
        assert_eq!(
            [t.input, t.output, t.cache_creation, t.cache_read],
            want,
            "SOURCES.md totals for {file} (rewrites of one message keep the largest usage)"
        );
        if let Some(c) = logged {
            assert!(
                (t.logged_cost - c).abs() < 1e-9,
                "costUSD sum {} != {c}",
                t.logged_cost
            );
        }
    }

    #[test]
    fn api_error_records_are_cliff_events() {
        let ev = fixture_events(Format::ClaudeCode, "claude-code/api-errors.jsonl");
        assert_fixture_outcomes(&ev);
        assert!(
            ev.iter()
                .all(|e| e.provider.as_deref() == Some("anthropic")),
            "Claude Code talks to Anthropic"
        );
    }
}
