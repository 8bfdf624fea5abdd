//! Codex CLI rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, or under `CODEX_HOME`).
//!
//! `token_count` events carry the session's *cumulative* usage; Codex repeats the same total
//! several times, so usage is the delta from the previous total, and a repeat adds nothing
//! (summing `last_token_usage` over-counts). The previous total lives in [`CodexMemory`], which is
//! stored with the file's offset so that a restart resumes the deltas exactly. `rate_limits`
//! give the used percentage of the 5-hour and weekly windows; `usage_limit_exceeded` (and a
//! window at 100 %) is the cliff.

use super::{AgentError, Format, Located, LogFormat, ParseCx, RateLimit, Record, Usage};
use crate::model::Outcome;
use serde::{Deserialize, Serialize};

#[derive(Debug)]
pub struct Codex;

/// Provider id of Codex usage.
pub const PROVIDER: &str = "openai";

/// Cumulative token counts as Codex reports them (`input_tokens` includes the cached ones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(default)]
    pub input_tokens: i64,
    #[serde(default)]
    pub cached_input_tokens: i64,
    #[serde(default)]
    pub output_tokens: i64,
    #[serde(default)]
    pub reasoning_output_tokens: i64,
    #[serde(default)]
    pub total_tokens: i64,
}

impl Totals {
    fn minus(&self, o: &Totals) -> Option<Totals> {
        // Checked: the counts come from the file, and a hostile or corrupt one may hold
        // values near i64::MIN/MAX whose difference overflows.
        let d = Totals {
            input_tokens: self.input_tokens.checked_sub(o.input_tokens)?,
            cached_input_tokens: self
                .cached_input_tokens
                .checked_sub(o.cached_input_tokens)?,
            output_tokens: self.output_tokens.checked_sub(o.output_tokens)?,
            reasoning_output_tokens: self
                .reasoning_output_tokens
                .checked_sub(o.reasoning_output_tokens)?,
            total_tokens: self.total_tokens.checked_sub(o.total_tokens)?,
        };
        (d.input_tokens >= 0
            && d.cached_input_tokens >= 0
            && d.output_tokens >= 0
            && d.reasoning_output_tokens >= 0)
            .then_some(d)
    }
}

/// What a rollout's parser remembers between lines (and restarts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodexMemory {
    pub last_total: Option<Totals>,
    pub model: Option<String>,
}

#[derive(Deserialize)]
struct Line {
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    payload: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<Totals>,
    last_token_usage: Option<Totals>,
    model: Option<String>,
}

fn rate_limits(
    v: &serde_json::Value,
    time: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<RateLimit> {
    ["primary", "secondary"]
        .iter()
        .filter_map(|k| v.get(*k))
        .filter_map(|w| {
            Some(RateLimit {
                time,
                window_minutes: w.get("window_minutes").and_then(|m| m.as_i64()),
                used_percent: w.get("used_percent")?.as_f64()?,
                resets_at: w
                    .get("resets_at")
                    .and_then(|r| r.as_f64())
                    .and_then(super::time::parse_epoch),
            })
        })
        .collect()
}

fn window_name(minutes: Option<i64>) -> String {
    match minutes {
        Some(300) => "5-hour window".into(),
        Some(10080) => "weekly window".into(),
        Some(m) => format!("{m}-minute window"),
        None => "usage window".into(),
    }
}

fn is_usage_limit(line: &[u8], p: &serde_json::Value) -> bool {
    memchr::memmem::find(line, b"usage_limit_exceeded").is_some()
        || p.get("message")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m.to_ascii_lowercase().contains("usage limit"))
}

/// An `error` event such as `unexpected status 402 Payment Required: {"error":…}`: the status
/// and the JSON body go through the shared classifier. Errors without a status (a dropped
/// stream) are not cliffs.
fn error_event(msg: &str, time: Option<chrono::DateTime<chrono::Utc>>) -> Option<AgentError> {
    let i = msg.find("status ")?;
    let status: u16 = msg.get(i + 7..i + 10)?.parse().ok()?;
    let body = msg.find('{').map_or("", |j| &msg[j..]);
    let c = crate::classify::classify(&crate::classify::Observation {
        provider: Some(PROVIDER),
        host: None,
        status,
        headers: &[],
        request_headers: &[],
        body: body.as_bytes(),
    });
    Some(AgentError {
        time,
        provider: PROVIDER,
        status: Some(status),
        outcome: c.outcome,
        code: c.code,
        message: c.message.or_else(|| Some(msg.chars().take(500).collect())),
        quota: c.quota,
    })
}

impl LogFormat for Codex {
    fn format(&self) -> Format {
        Format::Codex
    }

    fn sniff(&self, line: &[u8]) -> bool {
        let has = |n: &[u8]| memchr::memmem::find(line, n).is_some();
        line.starts_with(b"{")
            && has(b"\"payload\"")
            && (has(b"\"session_meta\"")
                || has(b"\"turn_context\"")
                || has(b"\"event_msg\"")
                || has(b"\"response_item\""))
    }

    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        Some(
            [
                "token_count",
                "turn_context",
                "usage_limit",
                "\"type\":\"error\"",
            ]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        )
    }

    fn parse_line(&self, line: &[u8], offset: u64, cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let Ok(l) = serde_json::from_slice::<Line>(line) else {
            return;
        };
        let time = l
            .timestamp
            .as_deref()
            .and_then(|t| super::time::parse_text(t, chrono_tz::UTC));
        let Some(p) = l.payload else { return };
        let mem = cx.memory.codex.get_or_insert_with(Default::default);
        let ptype = p.get("type").and_then(|t| t.as_str()).unwrap_or_default();
        if l.kind.as_deref() == Some("turn_context") {
            if let Some(m) = p.get("model").and_then(|m| m.as_str()) {
                mem.model = Some(m.to_owned());
            }
            return;
        }
        if ptype == "error" && !is_usage_limit(line, &p) {
            let msg = p
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            if let Some(e) = error_event(msg, time) {
                out.push(Located {
                    offset,
                    record: Record::AgentError(e),
                });
            }
            return;
        }
        let limit_hit = memchr::memmem::find(line, b"usage_limit_exceeded").is_some()
            || (ptype == "error"
                && p.get("message")
                    .and_then(|m| m.as_str())
                    .is_some_and(|m| m.to_ascii_lowercase().contains("usage limit")));
        if limit_hit {
            out.push(Located {
                offset,
                record: Record::AgentError(AgentError {
                    time,
                    provider: PROVIDER,
                    status: Some(429),
                    outcome: Outcome::OutOfCredit,
                    code: Some("usage_limit_exceeded".into()),
                    message: p
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(|m| m.chars().take(500).collect()),
                    quota: None,
                }),
            });
            return;
        }
        if ptype != "token_count" {
            return;
        }
        if let Some(rl) = p.get("rate_limits") {
            for r in rate_limits(rl, time) {
                if r.used_percent >= 100.0 {
                    out.push(Located {
                        offset,
                        record: Record::AgentError(AgentError {
                            time,
                            provider: PROVIDER,
                            status: None,
                            outcome: Outcome::OutOfCredit,
                            code: Some("usage_limit_reached".into()),
                            message: Some(format!(
                                "Codex {} is {}% used",
                                window_name(r.window_minutes),
                                r.used_percent
                            )),
                            quota: Some(window_name(r.window_minutes)),
                        }),
                    });
                }
                out.push(Located {
                    offset,
                    record: Record::RateLimit(r),
                });
            }
        }
        let Some(info) = p.get("info").filter(|i| !i.is_null()) else {
            return;
        };
        let Ok(info) = serde_json::from_value::<Info>(info.clone()) else {
            return;
        };
        if let Some(m) = &info.model {
            mem.model = Some(m.clone());
        }
        let delta = match (info.total_token_usage, mem.last_total) {
            (Some(t), Some(prev)) if t == prev => return,
            (Some(t), Some(prev)) => {
                mem.last_total = Some(t);
                t.minus(&prev).or(info.last_token_usage).unwrap_or(t)
            }
            (Some(t), None) => {
                mem.last_total = Some(t);
                t
            }
            (None, _) => match info.last_token_usage {
                Some(l) => l,
                None => return,
            },
        };
        if delta == Totals::default() {
            return;
        }
        out.push(Located {
            offset,
            record: Record::Usage(Usage {
                time,
                provider: PROVIDER,
                model: mem.model.clone(),
                // Uncached input; a line claiming more cached than input tokens counts none.
                input_tokens: delta
                    .input_tokens
                    .checked_sub(delta.cached_input_tokens)
                    .unwrap_or(0)
                    .max(0),
                output_tokens: delta.output_tokens,
                cache_creation_tokens: 0,
                cache_read_tokens: delta.cached_input_tokens,
                reasoning_tokens: delta.reasoning_output_tokens,
                logged_cost: None,
                key: None,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support::*;

    #[rstest::rstest]
    #[case("codex/ccusage__session-alpha.jsonl", [3500, 750, 425, 275])]
    #[case("codex/localpush__rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl", [34469, 3456, 431, 264])]
    #[case("codex/localpush__rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl", [298373, 238848, 1123, 483])]
    fn cumulative_totals_become_deltas(#[case] file: &str, #[case] want: [i64; 4]) {
        let t = usage_totals_of(Format::Codex, file);
        assert_eq!(
            [t.input + t.cache_read, t.cache_read, t.output, t.reasoning],
            want,
            "SOURCES.md final cumulative totals of {file} (in incl. cached / cached / out / reasoning); repeats add nothing"
        );
    }

    #[test]
    fn models_follow_turn_context_and_info() {
        let recs = sample_records(Format::Codex, "codex/ccusage__session-alpha.jsonl");
        let models: Vec<_> = recs
            .iter()
            .filter_map(|r| match &r.record {
                Record::Usage(u) => u.model.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            models,
            ["gpt-5.2-codex", "gpt-5.3-codex"],
            "SOURCES.md: two models"
        );
    }

    #[test]
    fn rate_limits_are_read() {
        let recs = sample_records(
            Format::Codex,
            "codex/localpush__rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
        );
        let last_primary = recs
            .iter()
            .filter_map(|r| match &r.record {
                Record::RateLimit(l) if l.window_minutes == Some(300) => Some(l.used_percent),
                _ => None,
            })
            .next_back();
        assert_eq!(
            last_primary,
            Some(19.0),
            "SOURCES.md: primary used_percent 19.0, window 300 min"
        );
    }

    #[test]
    fn usage_limit_exceeded_is_a_cliff_event() {
        let ev = fixture_events(Format::Codex, "codex/limit.jsonl");
        assert_fixture_outcomes(&ev);
    }
}
