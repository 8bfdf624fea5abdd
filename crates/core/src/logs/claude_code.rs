//! Claude Code transcripts (`~/.claude/projects/**/*.jsonl`, or under `CLAUDE_CONFIG_DIR`).
//!
//! Assistant lines carry the token usage of one API request. Claude Code writes the same message
//! several times as it streams (same `message.id` and `requestId`, growing `output_tokens`), so
//! the key is message id + request id and the store keeps the largest usage, never a sum.
//! Lines flagged `isApiErrorMessage` are failed API calls (a 402, `billing_error`, "credit
//! balance is too low", a 429) and become cliff events.
//!
//! Speed: the bulky lines (tool results, file snapshots) hold no usage; the prefilter skips them
//! unparsed. The usage lines left are read by a skim ([`super::json_skim`]: the few fields it
//! wants, every other value checked and stepped over, nothing built), which leaves any line it
//! is not sure of to serde_json; a fuzz target holds the two to the same answers.

use super::json_skim::{once, Cursor};
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

impl Line<'_> {
    /// A failed API call: a cliff event, not usage.
    fn is_error(&self) -> bool {
        self.is_api_error || self.api_error_status.is_some()
    }
}

/// When a line was written (`timestamp`, RFC 3339 in UTC).
fn time_of(timestamp: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    timestamp.and_then(|t| super::time::parse_text(t, chrono_tz::UTC))
}

#[derive(Deserialize)]
struct Message<'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    usage: Option<TokenUsage>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize, Default, Debug, PartialEq, Clone, Copy)]
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
        // Most lines that reach here are plain assistant writes: the skim reads them.
        match skim(line) {
            Some(Some(hot)) => return out.push(usage_record(&hot, offset)),
            Some(None) => return,
            None => {}
        }
        let Ok(l) = serde_json::from_slice::<Line<'_>>(line) else {
            return;
        };
        if l.is_error() {
            out.push(Located {
                offset,
                record: Record::AgentError(api_error(&l, time_of(l.timestamp))),
            });
            return;
        }
        if let Some(hot) = Hot::of(&l) {
            out.push(usage_record(&hot, offset));
        }
    }
}

/// What a usage line carries, read by the skim or by serde_json.
#[derive(Debug, Default, PartialEq)]
struct Hot<'a> {
    timestamp: Option<&'a str>,
    request_id: Option<&'a str>,
    id: Option<&'a str>,
    model: Option<&'a str>,
    usage: TokenUsage,
    cost_usd: Option<f64>,
}

impl<'a> Hot<'a> {
    /// The usage of a line serde_json read, if it has one (and is not an API error).
    fn of(l: &Line<'a>) -> Option<Self> {
        if l.is_error() {
            return None;
        }
        let m = l.message.as_ref()?;
        let u = m.usage.as_ref()?;
        Some(Hot {
            timestamp: l.timestamp,
            request_id: l.request_id,
            id: m.id,
            model: m.model,
            usage: *u,
            cost_usd: l.cost_usd,
        })
    }
}

fn usage_record(h: &Hot<'_>, offset: u64) -> Located {
    let key = match (h.id, h.request_id) {
        (Some(id), Some(req)) => Some(format!("claude:{id}:{req}")),
        _ => None,
    };
    let u = &h.usage;
    Located {
        offset,
        record: Record::Usage(Usage {
            time: time_of(h.timestamp),
            provider: PROVIDER,
            model: h.model.map(str::to_owned),
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_creation_tokens: u.cache_creation_input_tokens,
            cache_read_tokens: u.cache_read_input_tokens,
            reasoning_tokens: 0,
            logged_cost: h.cost_usd,
            key,
        }),
    }
}

/// The fast read of a line: `Some(Some(usage))`, `Some(None)` for a line with no usage, or
/// `None` when serde_json must decide (an API error, an escape or a duplicate in a field read
/// here, a value of an unexpected kind, bytes that are not UTF-8, anything malformed). What it
/// answers is what serde_json would (the `claude_skim` fuzz target and the tests check).
fn skim(line: &[u8]) -> Option<Option<Hot<'_>>> {
    let mut c = Cursor::new(std::str::from_utf8(line).ok()?);
    let mut h = Hot::default();
    let (mut seen, mut has_usage) = (0u16, false);
    c.object(|c, key| {
        let bit = match key {
            b"timestamp" => 1,
            b"requestId" => 2,
            b"message" => 4,
            b"costUSD" => 8,
            b"isApiErrorMessage" => 16,
            b"apiErrorStatus" => 32,
            b"error" => 64,
            _ => return c.skip(),
        };
        once(&mut seen, bit)?;
        match bit {
            1 => h.timestamp = opt_str(c)?,
            2 => h.request_id = opt_str(c)?,
            4 if c.null() => {}
            4 => has_usage = message(c, &mut h)?,
            8 if c.null() => {}
            8 => h.cost_usd = Some(serde_json::from_slice(c.number()?).ok()?),
            16 if c.boolean()? => return None, // an API error: serde_json reads those
            16 => {}
            32 if c.null() => {}
            32 => return None,
            _ => c.skip()?,
        }
        Some(())
    })?;
    c.end()?;
    Some(has_usage.then_some(h))
}

fn opt_str<'a>(c: &mut Cursor<'a>) -> Option<Option<&'a str>> {
    if c.null() {
        return Some(None);
    }
    c.plain_str().map(Some)
}

/// Reads a message object into `h`; whether it held usage.
fn message<'a>(c: &mut Cursor<'a>, h: &mut Hot<'a>) -> Option<bool> {
    let (mut seen, mut has_usage) = (0u16, false);
    c.object(|c, key| {
        let bit = match key {
            b"id" => 1,
            b"model" => 2,
            b"usage" => 4,
            b"content" => 8,
            _ => return c.skip(),
        };
        once(&mut seen, bit)?;
        match bit {
            1 => h.id = opt_str(c)?,
            2 => h.model = opt_str(c)?,
            4 if c.null() => {}
            4 => {
                has_usage = true;
                h.usage = usage(c)?;
            }
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(has_usage)
}

fn usage(c: &mut Cursor<'_>) -> Option<TokenUsage> {
    let mut u = TokenUsage::default();
    let mut seen = 0u16;
    c.object(|c, key| {
        let (bit, slot) = match key {
            b"input_tokens" => (1, &mut u.input_tokens),
            b"output_tokens" => (2, &mut u.output_tokens),
            b"cache_creation_input_tokens" => (4, &mut u.cache_creation_input_tokens),
            b"cache_read_input_tokens" => (8, &mut u.cache_read_input_tokens),
            _ => return c.skip(),
        };
        once(&mut seen, bit)?;
        *slot = super::json_skim::int(c.number()?)?;
        Some(())
    })?;
    Some(u)
}

/// Checks the skim against serde_json on one line: where the skim answers, serde_json must
/// give the same usage (for the fuzz target; panics on a difference).
#[doc(hidden)]
pub fn check_skim(line: &[u8]) {
    let Some(fast) = skim(line) else { return };
    let slow = serde_json::from_slice::<Line<'_>>(line);
    let slow = match &slow {
        Ok(l) => l,
        Err(e) => panic!("the skim read a line serde_json refuses ({e}): {fast:?}"),
    };
    // An API error would be a cliff event on serde_json's path: the skim must not drop it.
    assert!(
        !slow.is_error(),
        "the skim answered for an API error line: {fast:?}"
    );
    assert_eq!(fast, Hot::of(slow), "the skim and serde_json differ");
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

    /// Every line of the real transcripts: the skim gives serde_json's answer, and it answers
    /// for every usage line in them, or it would buy nothing.
    #[test]
    fn the_skim_reads_real_transcripts_as_serde_json_does() {
        let (mut usage_lines, mut skimmed) = (0, 0);
        let dir = sample("claude-code");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("log-samples/claude-code")
            .map(|e| e.expect("an entry").path())
            .collect();
        files.push(fixture("claude-code/api-errors.jsonl"));
        for path in files {
            let bytes = std::fs::read(&path).expect("a sample");
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                check_skim(line);
                let slow = serde_json::from_slice::<Line<'_>>(line).ok();
                if slow.as_ref().and_then(Hot::of).is_some() {
                    usage_lines += 1;
                    skimmed += usize::from(matches!(skim(line), Some(Some(_))));
                }
            }
        }
        assert!(
            usage_lines >= 20,
            "the samples have usage lines ({usage_lines})"
        );
        assert!(
            skimmed == usage_lines,
            "the skim read {skimmed} of {usage_lines} usage lines"
        );
    }

    #[rstest::rstest]
    #[case::plain(br#"{"timestamp":"2026-10-01T08:00:00.000Z","requestId":"r","message":{"id":"m","model":"claude-opus-4-6","usage":{"input_tokens":3,"output_tokens":5,"cache_creation":{"x":1}}}}"#, Some(true))]
    #[case::no_usage(
        br#"{"type":"user","message":{"role":"user","content":"usage"}}"#,
        Some(false)
    )]
    #[case::usage_null(br#"{"message":{"usage":null}}"#, Some(false))]
    #[case::message_null(br#"{"message":null,"usage":{"input_tokens":1}}"#, Some(false))]
    #[case::cost(br#"{"costUSD":0.1234567890123,"message":{"usage":{}}}"#, Some(true))]
    #[case::api_error(br#"{"isApiErrorMessage":true,"message":{"usage":{}}}"#, None)]
    #[case::api_status(br#"{"apiErrorStatus":402,"message":{"usage":{}}}"#, None)]
    #[case::not_an_error(
        br#"{"isApiErrorMessage":false,"apiErrorStatus":null,"message":{"usage":{}}}"#,
        Some(true)
    )]
    #[case::escaped_field(br#"{"requestId":"r\u0031","message":{"usage":{}}}"#, None)]
    #[case::escaped_key(br#"{"time\u0073tamp":"x","message":{"usage":{}}}"#, None)]
    #[case::escaped_elsewhere(
        br#"{"cwd":"C:\\x\u00e9","message":{"content":"a\"b","usage":{}}}"#,
        Some(true)
    )]
    #[case::repeated_field(br#"{"message":{"usage":{"input_tokens":1,"input_tokens":2}}}"#, None)]
    #[case::repeated_unknown(br#"{"a":1,"a":2,"message":{"usage":{}}}"#, Some(true))]
    #[case::float_tokens(br#"{"message":{"usage":{"input_tokens":1.0}}}"#, None)]
    #[case::null_tokens(br#"{"message":{"usage":{"input_tokens":null}}}"#, None)]
    #[case::huge_tokens(
        br#"{"message":{"usage":{"input_tokens":99999999999999999999}}}"#,
        None
    )]
    #[case::negative_zero(br#"{"message":{"usage":{"input_tokens":-0}}}"#, None)]
    #[case::wrong_kind(br#"{"timestamp":5,"message":{"usage":{}}}"#, None)]
    #[case::message_list(br#"{"message":[null,null,{}]}"#, None)]
    #[case::trailing(br#"{"message":{"usage":{}}} x"#, None)]
    #[case::cut(br#"{"message":{"usage":{"input_tokens":1"#, None)]
    #[case::not_utf8(b"{\"cwd\":\"\xff\",\"message\":{\"usage\":{}}}", None)]
    #[case::control_byte(b"{\"cwd\":\"a\tb\",\"message\":{\"usage\":{}}}", None)]
    #[case::top_level_list(b"[1,2]", None)]
    #[case::lone_surrogate_skipped(br#"{"cwd":"\ud800","message":{"usage":{}}}"#, Some(true))]
    #[case::repeated_content(br#"{"message":{"content":1,"content":2,"usage":{}}}"#, None)]
    #[case::repeated_error(br#"{"error":1,"error":2,"message":{"usage":{}}}"#, None)]
    #[case::error_null(br#"{"isApiErrorMessage":null,"message":{"usage":{}}}"#, None)]
    #[case::negative_tokens(br#"{"message":{"usage":{"input_tokens":-5}}}"#, Some(true))]
    #[case::spaced(
        b" {\t\"message\" :\r\n{ \"usage\" : { \"input_tokens\" : 1 } } } ",
        Some(true)
    )]
    fn the_skim_answers_only_where_it_agrees(#[case] line: &[u8], #[case] answers: Option<bool>) {
        check_skim(line);
        let got = skim(line).map(|h| h.is_some());
        assert_eq!(got, answers, "{}", String::from_utf8_lossy(line));
    }

    #[test]
    fn deep_content_is_left_to_serde_json() {
        let deep = format!(
            r#"{{"message":{{"content":{}{},"usage":{{}}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        check_skim(deep.as_bytes());
        assert_eq!(skim(deep.as_bytes()).map(|h| h.is_some()), None);
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
