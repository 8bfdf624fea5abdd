//! Log watching: reads the user's own request logs and agent transcripts, turns failed requests
//! (402s and disguised 402s above all) into [`CliffEvent`]s and agent token usage into
//! [`UsageRecord`]s.
//!
//! One module per format, each behind [`LogFormat`]; [`detect_format`] picks one from the first
//! lines of a file. [`scan`] reads sources incrementally (a persisted identity and byte offset per
//! file, see `tail`), and [`Watcher`] re-scans when files change. Every batch of events is
//! committed in the same transaction as the offset that produced it, so a crash (even `kill -9`)
//! never loses a line or counts one twice.

mod caddy;
mod claude_code;
mod codex;
mod combined;
mod har;
mod json_skim;
mod jsonl;
mod prefilter;
pub mod prices;
mod python_http;
mod scrapy;
mod tail;
pub mod time;
mod watch;

#[doc(hidden)]
pub use claude_code::check_skim as check_claude_skim;

pub use crate::redact::redact_url;
pub use jsonl::JsonlMapping;
pub use tail::{
    add_source, daily_usage, events, expand_home, list_sources, matching_files, read_head,
    remove_source, scan, scan_all, scan_all_until, scan_source, usage_totals, FileReport, Progress,
    ProgressFn, ScanOptions, ScanReport, SourceError, DEFAULT_BATCH_BYTES,
};
pub use watch::{Watcher, WatcherCommand, WatcherEvent, WatcherSink, COALESCE, RESCAN_EVERY};

use crate::classify::{classify, provider_for_host, Observation};
use crate::model::{CliffEvent, EventOrigin, Outcome};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The log formats Cliffwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Scrapy,
    Har,
    Combined,
    Caddy,
    Jsonl,
    PythonHttp,
    ClaudeCode,
    Codex,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Scrapy,
        Format::Har,
        Format::Combined,
        Format::Caddy,
        Format::Jsonl,
        Format::PythonHttp,
        Format::ClaudeCode,
        Format::Codex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Scrapy => "scrapy",
            Format::Har => "har",
            Format::Combined => "combined",
            Format::Caddy => "caddy",
            Format::Jsonl => "jsonl",
            Format::PythonHttp => "python-http",
            Format::ClaudeCode => "claude-code",
            Format::Codex => "codex",
        }
    }

    /// Parses a format name; `auto` (or `None` from the caller) means "detect".
    pub fn parse(s: &str) -> Result<Option<Format>> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .map(Some)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown log format `{s}`: use auto or one of {}",
                    Format::ALL.map(Format::as_str).join(", ")
                ))
            })
    }

    /// Agent transcripts carry usage, not HTTP requests.
    pub fn is_agent_log(self) -> bool {
        matches!(self, Format::ClaudeCode | Format::Codex)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One HTTP request as a log line describes it, before classification.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub time: Option<DateTime<Utc>>,
    /// 0 when the request got no response (HAR).
    pub status: u16,
    pub method: Option<String>,
    /// A full URL when the log has one, else the path.
    pub url: Option<String>,
    pub host: Option<String>,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Request headers, where the log has them: read for what a paid request paid, never
    /// stored.
    pub request_headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Text the log line adds (a Scrapy stats count, an error note).
    pub note: Option<String>,
    /// The line repeats a request an earlier line already logged (Scrapy's `Ignoring response`
    /// after `Crawled`): parsed and counted, never stored twice.
    pub echo: bool,
}

/// A failed API call recorded by an agent (Claude Code `isApiErrorMessage`, Codex
/// `usage_limit_exceeded`), already classified by what the agent wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentError {
    pub time: Option<DateTime<Utc>>,
    pub provider: &'static str,
    pub status: Option<u16>,
    pub outcome: Outcome,
    pub code: Option<String>,
    pub message: Option<String>,
    pub quota: Option<String>,
}

/// Token usage of one agent request.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub time: Option<DateTime<Utc>>,
    pub provider: &'static str,
    pub model: Option<String>,
    /// Input tokens not read from a cache.
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    /// Part of `output_tokens` (Codex reports reasoning inside output).
    pub reasoning_tokens: i64,
    /// A cost the log itself states (Claude Code's `costUSD`), preferred over the price table.
    pub logged_cost: Option<f64>,
    /// message id + request id when the log has them; else the file and offset are the key.
    pub key: Option<String>,
}

/// A Codex rate-limit reading: how much of a window is used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateLimit {
    pub time: Option<DateTime<Utc>>,
    pub window_minutes: Option<i64>,
    pub used_percent: f64,
    pub resets_at: Option<DateTime<Utc>>,
}

/// What a line (or a HAR entry) holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Request(Request),
    AgentError(AgentError),
    Usage(Usage),
    RateLimit(RateLimit),
}

/// A record and the byte offset of the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub offset: u64,
    pub record: Record,
}

/// Per-file parser memory that must survive a restart (Codex's cumulative totals); persisted
/// with the offset, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileMemory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex: Option<codex::CodexMemory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrapy: Option<scrapy::ScrapyMemory>,
}

/// What a parser needs besides the bytes.
#[derive(Debug)]
pub struct ParseCx<'a> {
    /// Zone of timestamps written without an offset.
    pub zone: Tz,
    pub memory: &'a mut FileMemory,
}

/// One log format. Line formats parse one complete line at a time; document formats (HAR)
/// parse the whole file.
pub trait LogFormat: Send + Sync + std::fmt::Debug {
    fn format(&self) -> Format;
    /// Whether this line (one of the first non-empty lines of a file) looks like this format.
    fn sniff(&self, line: &[u8]) -> bool;
    /// Byte strings at least one of which every interesting line contains; lines with none are
    /// skipped without parsing. `None`: every line matters.
    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        None
    }
    /// Whether needles are matched ignoring ASCII case.
    fn needles_ignore_case(&self) -> bool {
        false
    }
    /// Whether the file is one document (parsed whole, when complete) rather than lines.
    fn is_document(&self) -> bool {
        false
    }
    /// Parses one line (without its newline) that starts at `offset`.
    fn parse_line(&self, line: &[u8], offset: u64, cx: &mut ParseCx<'_>, out: &mut Vec<Located>);
    /// Parses a whole document. Returns false when it is not complete yet.
    fn parse_document(&self, _doc: &[u8], _cx: &mut ParseCx<'_>, _out: &mut Vec<Located>) -> bool {
        false
    }
}

/// The parser for a format; `options` is a source's options (the jsonl mapping).
pub fn parser(format: Format, options: &serde_json::Value) -> Result<Box<dyn LogFormat>> {
    Ok(match format {
        Format::Scrapy => Box::new(scrapy::Scrapy),
        Format::Har => Box::new(har::Har),
        Format::Combined => Box::new(combined::Combined),
        Format::Caddy => Box::new(caddy::Caddy),
        Format::Jsonl => Box::new(jsonl::Jsonl::new(JsonlMapping::from_options(options)?)),
        Format::PythonHttp => Box::new(python_http::PythonHttp),
        Format::ClaudeCode => Box::new(claude_code::ClaudeCode),
        Format::Codex => Box::new(codex::Codex),
    })
}

/// Where agent transcripts live on this machine, as source patterns: Claude Code under
/// `$CLAUDE_CONFIG_DIR` (a comma-separated list) or `~/.claude` and `~/.config/claude`, Codex
/// under `$CODEX_HOME` or `~/.codex`. Only directories that exist are returned.
pub fn default_agent_sources() -> Vec<(String, Format)> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let mut out = Vec::new();
    let claude_dirs: Vec<std::path::PathBuf> = match std::env::var("CLAUDE_CONFIG_DIR") {
        Ok(v) if !v.trim().is_empty() => v.split(',').map(|d| d.trim().into()).collect(),
        _ => home
            .iter()
            .flat_map(|h| [h.join(".claude"), h.join(".config/claude")])
            .collect(),
    };
    for d in claude_dirs {
        let projects = d.join("projects");
        if projects.is_dir() {
            out.push((
                format!("{}/**/*.jsonl", projects.display()),
                Format::ClaudeCode,
            ));
        }
    }
    let codex = match std::env::var("CODEX_HOME") {
        Ok(v) if !v.trim().is_empty() => Some(std::path::PathBuf::from(v.trim())),
        _ => home.map(|h| h.join(".codex")),
    };
    if let Some(sessions) = codex.map(|c| c.join("sessions")).filter(|s| s.is_dir()) {
        out.push((
            format!("{}/**/rollout-*.jsonl", sessions.display()),
            Format::Codex,
        ));
    }
    out
}

/// How many leading lines [`detect_format_bytes`] looks at.
pub const DETECT_LINES: usize = 20;

/// Guesses the format from the first lines of `head`: the format most of them look like wins,
/// most specific first (agent transcripts before generic JSON lines).
pub fn detect_format_bytes(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let trimmed = head.trim_ascii_start();
    if trimmed.starts_with(b"{") && har::Har.sniff(trimmed) {
        return Some(Format::Har);
    }
    let order = [
        Format::ClaudeCode,
        Format::Codex,
        Format::Caddy,
        Format::Scrapy,
        Format::PythonHttp,
        Format::Combined,
        Format::Jsonl,
    ];
    let parsers: Vec<Box<dyn LogFormat>> = order
        .iter()
        .map(|f| parser(*f, &serde_json::Value::Null).expect("defaults are valid"))
        .collect();
    let mut votes = [0usize; 7];
    for line in head
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(DETECT_LINES)
    {
        for (i, p) in parsers.iter().enumerate() {
            if p.sniff(line) {
                votes[i] += 1;
                break;
            }
        }
    }
    let best = votes
        .iter()
        .enumerate()
        .max_by_key(|(i, v)| (**v, usize::MAX - *i))?;
    (*best.1 > 0).then(|| order[best.0])
}

/// Guesses the format of a file from its first 64 KiB (decompressed for `.gz`).
pub fn detect_format(path: &Path) -> Result<Option<Format>> {
    let head = tail::read_head(path, 64 * 1024)
        .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", path.display())))?;
    Ok(detect_format_bytes(&head))
}

/// Parses a whole buffer with no prefilter and no database: every record, in order. This is
/// what tests and `--dry-run` use; [`scan`] uses the same parsers behind the prefilter.
pub fn parse_bytes(
    format: &dyn LogFormat,
    bytes: &[u8],
    zone: Tz,
    memory: &mut FileMemory,
) -> Vec<Located> {
    let mut out = Vec::new();
    let mut cx = ParseCx { zone, memory };
    if format.is_document() {
        format.parse_document(bytes, &mut cx, &mut out);
        return out;
    }
    let mut start = 0usize;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = trim_cr(&bytes[start..end]);
        if !line.is_empty() {
            format.parse_line(line, start as u64, &mut cx, &mut out);
        }
        start = end + 1;
    }
    out
}

/// [`parse_bytes`] the way a scan reads lines: through the format's prefilter, so lines the
/// prefilter skips are skipped here too (the fuzz targets check scans with it).
pub fn parse_bytes_as_scanned(
    format: &dyn LogFormat,
    bytes: &[u8],
    zone: Tz,
    memory: &mut FileMemory,
) -> Vec<Located> {
    if format.is_document() {
        return parse_bytes(format, bytes, zone, memory);
    }
    let mut out = Vec::new();
    let mut cx = ParseCx { zone, memory };
    prefilter::Prefilter::new(format.needles(), format.needles_ignore_case())
        .for_each_line(bytes, |at, line| {
            format.parse_line(line, at as u64, &mut cx, &mut out)
        });
    out
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Host of a URL (`https://api.x.com:443/p` → `api.x.com`), if it has one.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Headers as logs write them: an object of name → value or list of values (Caddy, most JSON
/// loggers), or a list of `{name, value}` (HAR). Every value of a repeated header is kept
/// (several `WWW-Authenticate` challenges); bounded, and values that are not text are skipped.
pub fn header_list(v: &serde_json::Value) -> Vec<(String, String)> {
    const MAX: usize = 200;
    let mut out = Vec::new();
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) => out.push((k.clone(), s.clone())),
                    serde_json::Value::Array(vs) => out.extend(
                        vs.iter()
                            .filter_map(|x| x.as_str())
                            .map(|s| (k.clone(), s.to_owned())),
                    ),
                    serde_json::Value::Number(n) => out.push((k.clone(), n.to_string())),
                    _ => {}
                }
                if out.len() >= MAX {
                    break;
                }
            }
        }
        serde_json::Value::Array(items) => {
            out.extend(items.iter().take(MAX).filter_map(|h| {
                Some((
                    h.get("name")?.as_str()?.to_owned(),
                    h.get("value")?.as_str()?.to_owned(),
                ))
            }));
        }
        _ => {}
    }
    out.truncate(MAX);
    out
}

/// Whether a successful answer carries a payment receipt (it is then spend, not nothing).
pub(crate) fn has_receipt(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(k, _)| {
        [
            "payment-response",
            "x-payment-response",
            "payment-receipt",
            "crawler-charged",
        ]
        .iter()
        .any(|n| k.eq_ignore_ascii_case(n))
    })
}

/// A paid answer: what was paid, to whom, when.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    pub time: DateTime<Utc>,
    pub host: Option<String>,
    pub provider: Option<String>,
    pub payment: crate::payments::Payment,
}

impl Spend {
    /// The payment as a usage record: the amount in its asset, where and how it was paid. A
    /// settlement's transaction names the payment wherever it is seen (the same payment in a
    /// HAR, in Caddy's log and through the proxy is one record); else `fallback_key` does.
    /// The provider is the paid host's, else `provider`, else the host, else the protocol.
    pub fn usage_record(
        self,
        account_id: Option<crate::model::AccountId>,
        source_id: Option<crate::model::LogSourceId>,
        provider: Option<String>,
        fallback_key: String,
    ) -> crate::model::UsageRecord {
        let p = self.payment;
        let protocol = p.protocol.as_str().to_owned();
        crate::model::UsageRecord {
            account_id,
            source_id,
            occurred_at: self.time,
            provider: self
                .provider
                .or(provider)
                .or_else(|| self.host.clone())
                .unwrap_or_else(|| protocol.clone()),
            model: None,
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_tokens: 0,
            cache_read_tokens: 0,
            reasoning_tokens: 0,
            cost: p.amount_f64(),
            currency: p.currency.clone(),
            host: self.host,
            dedupe_key: match &p.transaction {
                Some(tx) => format!("pay:{protocol}:{tx}"),
                None => fallback_key,
            },
            protocol: Some(protocol),
        }
    }
}

/// What one logged request amounts to: a stored event when it failed (or was asked to pay),
/// spend when it was paid, or nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    pub event: Option<CliffEvent>,
    pub spend: Option<Spend>,
}

/// Turns a parsed request into a stored event when it failed (or is a disguised 402).
/// 1xx–3xx answers without a body, and requests that got no answer (status 0), are not events.
pub fn request_event(req: &Request, fallback_time: DateTime<Utc>) -> Option<CliffEvent> {
    request_seen(req, fallback_time).event
}

/// [`request_event`], and the spend of a paid answer (an x402 `PAYMENT-RESPONSE` that
/// succeeded, an MPP `Payment-Receipt`, pay-per-crawl's `crawler-charged`).
pub fn request_seen(req: &Request, fallback_time: DateTime<Utc>) -> Seen {
    let receipt = req.status < 400 && has_receipt(&req.headers);
    if req.echo || req.status == 0 || (req.status < 400 && req.body.is_none() && !receipt) {
        return Seen::default();
    }
    let host = req
        .host
        .clone()
        .or_else(|| req.url.as_deref().and_then(host_of));
    // A path with a known host (pino's req.url + Host header) becomes a full URL.
    let url = match (&req.url, &host) {
        (Some(u), Some(h)) if u.starts_with('/') => Some(format!("https://{h}{u}")),
        (u, _) => u.clone(),
    };
    let provider = host.as_deref().and_then(provider_for_host);
    let c = classify(&Observation {
        provider,
        host: host.as_deref(),
        status: req.status,
        headers: &req.headers,
        request_headers: &req.request_headers,
        body: req.body.as_deref().unwrap_or_default(),
    });
    if req.status < 400 && c.outcome != Outcome::OutOfCredit {
        // A 200 is only an event when its body is a disguised 402; an HTML page in a browser
        // HAR is just a page. A paid one is spend.
        let spend = c
            .payment()
            .filter(|p| p.stage == crate::payments::Stage::Paid)
            .map(|mut payment| {
                crate::redact::redact_payment(&mut payment);
                Spend {
                    time: req.time.unwrap_or(fallback_time),
                    host: host.clone(),
                    provider: provider.map(str::to_owned),
                    payment,
                }
            });
        return Seen { event: None, spend };
    }
    let mut event = CliffEvent {
        id: None,
        account_id: None,
        provider: provider.map(str::to_owned),
        occurred_at: req.time.unwrap_or(fallback_time),
        origin: EventOrigin::Log,
        outcome: c.outcome,
        status: Some(i64::from(req.status)),
        method: req.method.clone(),
        host,
        url: url.as_deref().map(redact_url),
        code: c.code,
        message: c.message.or_else(|| req.note.clone()),
        quota: c.quota,
        payment: c.payment,
        log_file_id: None,
        byte_offset: None,
    };
    // Previews show events that are never stored, so they are redacted here as well as in
    // `cliff_events::insert`.
    crate::redact::redact_event(&mut event);
    Seen {
        event: Some(event),
        spend: None,
    }
}

/// An agent's API error as a stored event.
pub fn agent_event(e: &AgentError, fallback_time: DateTime<Utc>) -> CliffEvent {
    let mut event = CliffEvent {
        id: None,
        account_id: None,
        provider: Some(e.provider.to_owned()),
        occurred_at: e.time.unwrap_or(fallback_time),
        origin: EventOrigin::Log,
        outcome: e.outcome,
        status: e.status.map(i64::from),
        method: None,
        host: None,
        url: None,
        code: e.code.clone(),
        message: e.message.clone(),
        quota: e.quota.clone(),
        payment: None,
        log_file_id: None,
        byte_offset: None,
    };
    crate::redact::redact_event(&mut event);
    event
}

/// The value of a JSON pointer as a status code (a number or a numeric string).
fn json_status(v: &serde_json::Value) -> Option<u16> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod scan_tests;
#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(
                Format::parse(f.as_str()).unwrap(),
                Some(f),
                "the CLI takes as_str names"
            );
        }
        assert_eq!(Format::parse("auto").unwrap(), None, "auto means detect");
        assert_eq!(Format::parse("nope").unwrap_err().kind(), "invalid_input");
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of("https://API.scraperapi.com:443/?x=1").as_deref(),
            Some("api.scraperapi.com")
        );
        assert_eq!(host_of("http://u:p@[::1]:8080/p").as_deref(), Some("::1"));
        assert_eq!(host_of("/relative/path"), None, "a path alone has no host");
    }

    #[test]
    fn success_without_body_is_not_an_event_but_402_is() {
        let mut r = Request {
            status: 200,
            ..Default::default()
        };
        assert!(
            request_event(&r, Utc::now_for_tests()).is_none(),
            "a 200 line is not a cliff"
        );
        r.status = 402;
        r.url = Some("https://api.firecrawl.dev/v1/scrape?api_key=fc-123".into());
        let e = request_event(&r, Utc::now_for_tests()).expect("a 402 is always an event");
        assert_eq!(e.outcome, Outcome::OutOfCredit);
        assert_eq!(
            e.host.as_deref(),
            Some("api.firecrawl.dev"),
            "host is taken from the URL"
        );
        assert_eq!(
            e.provider.as_deref(),
            Some("firecrawl"),
            "host maps to the provider"
        );
        assert!(
            !e.url.unwrap().contains("fc-123"),
            "the key in the query is redacted"
        );
    }

    trait NowForTests {
        fn now_for_tests() -> DateTime<Utc>;
    }
    impl NowForTests for Utc {
        fn now_for_tests() -> DateTime<Utc> {
            use chrono::TimeZone;
            Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
        }
    }
}
