//! What a 2xx answer says it cost, read from a copy of the body as it streams past: the
//! `usage` of an OpenAI-compatible answer (chat completions, the Responses API, OpenRouter's
//! `usage.cost`) or an Anthropic message, in one JSON document or in server-sent events (the
//! final chunk of `stream: true`, Anthropic's `message_start` + `message_delta`).
//!
//! Bounded for any body: a JSON document is read up to [`MAX_JSON`], one SSE event up to
//! [`MAX_EVENT`] (a longer line is skipped to its end, however long), gzip and deflate are
//! decoded into those same bounds (a bomb stops at the cap), and nothing here panics on bytes.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::io::Write;

/// The fields of an answer (or of its `response` / `message`) that usage is read from; every
/// other field is skipped unbuilt, so an 8 MiB answer of `[0,0,0,…]` costs its bytes, not a
/// tree of hundreds of MB.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

/// A field small enough to build: an id, a model name, a `usage` object.
const MAX_FIELD: usize = 64 * 1024;

fn small(raw: Option<&RawValue>) -> Option<Value> {
    let raw = raw?.get();
    if raw.len() > MAX_FIELD {
        return None;
    }
    serde_json::from_str(raw).ok()
}

/// The largest JSON answer read for its usage; larger ones are forwarded but not read.
pub const MAX_JSON: usize = 8 * 1024 * 1024;
/// The largest single server-sent event read.
pub const MAX_EVENT: usize = 1024 * 1024;
/// The most decoded bytes of an SSE stream looked at (a long completion is a few MB).
pub const MAX_STREAM: usize = 256 * 1024 * 1024;

/// Tokens and cost as the answer states them; fields the answer does not have stay 0/`None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// The answer's id (`chatcmpl-…`, `msg_…`, `resp_…`): one record per answer.
    pub id: Option<String>,
    pub model: Option<String>,
    /// Input tokens not read from a cache.
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub reasoning_tokens: i64,
    /// A cost the provider states (OpenRouter's `usage.cost`, in USD).
    pub cost: Option<f64>,
}

/// How the body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Json,
    EventStream,
}

impl Framing {
    /// From a `Content-Type`: JSON (`application/json`, `…+json`) or `text/event-stream`; other
    /// bodies (files, pages) are not read.
    pub fn of(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence == "text/event-stream" {
            Some(Framing::EventStream)
        } else if essence == "application/json" || essence.ends_with("+json") {
            Some(Framing::Json)
        } else {
            None
        }
    }
}

/// How the body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Deflate,
}

impl Coding {
    /// From a `Content-Encoding`; `None` for a coding this reader does not decode (br, zstd,
    /// several codings).
    pub fn of(content_encoding: Option<&str>) -> Option<Self> {
        match content_encoding
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("" | "identity") => Some(Coding::Identity),
            Some("gzip" | "x-gzip") => Some(Coding::Gzip),
            Some("deflate") => Some(Coding::Deflate),
            Some(_) => None,
        }
    }
}

/// Reads usage from a body fed in chunks of any size.
pub struct UsageReader {
    decoder: Decoder,
    /// The compressed data was corrupt or expanded past the caps: nothing more is fed.
    stopped: bool,
}

impl std::fmt::Debug for UsageReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageReader")
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

enum Decoder {
    Identity(Sink),
    Gzip(Box<flate2::write::GzDecoder<Sink>>),
    Deflate(Box<flate2::write::ZlibDecoder<Sink>>),
}

/// The decoded body's consumer.
struct Sink {
    framing: Framing,
    /// The JSON document, or the SSE line being read.
    buf: Vec<u8>,
    /// The current SSE event's `data` lines.
    data: Vec<u8>,
    /// Skipping an SSE line longer than [`MAX_EVENT`] to its end.
    skipping: bool,
    /// The last byte seen was a CR: an LF right after it (in the next chunk) ends nothing.
    after_cr: bool,
    /// A JSON body over [`MAX_JSON`], or a stream over [`MAX_STREAM`]: nothing more is read.
    over: bool,
    seen: usize,
    found: Found,
    any: bool,
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.take(bytes);
        // A bomb's expansion stops here: past the caps the decoder is told nothing more fits.
        if self.over {
            return Err(std::io::Error::other("over the cap"));
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl UsageReader {
    pub fn new(framing: Framing, coding: Coding) -> Self {
        let sink = Sink::new(framing);
        let decoder = match coding {
            Coding::Identity => Decoder::Identity(sink),
            Coding::Gzip => Decoder::Gzip(Box::new(flate2::write::GzDecoder::new(sink))),
            Coding::Deflate => Decoder::Deflate(Box::new(flate2::write::ZlibDecoder::new(sink))),
        };
        UsageReader {
            decoder,
            stopped: false,
        }
    }

    /// One more piece of the body, as it came off the wire.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.stopped {
            return;
        }
        let ok = match &mut self.decoder {
            Decoder::Identity(s) => {
                s.take(chunk);
                true
            }
            Decoder::Gzip(d) => d.write_all(chunk).is_ok(),
            Decoder::Deflate(d) => d.write_all(chunk).is_ok(),
        };
        self.stopped = !ok;
    }

    /// The body ended (or the client went away): the usage it stated, if any.
    pub fn finish(self) -> Option<Found> {
        let stopped = self.stopped;
        let mut sink = match self.decoder {
            Decoder::Identity(s) => s,
            Decoder::Gzip(mut d) => {
                if !stopped {
                    let _ = d.try_finish();
                }
                std::mem::replace(d.get_mut(), Sink::new(Framing::Json))
            }
            Decoder::Deflate(mut d) => {
                if !stopped {
                    let _ = d.try_finish();
                }
                std::mem::replace(d.get_mut(), Sink::new(Framing::Json))
            }
        };
        sink.end();
        sink.any.then_some(sink.found)
    }
}

impl Sink {
    fn new(framing: Framing) -> Self {
        Sink {
            framing,
            buf: Vec::new(),
            data: Vec::new(),
            skipping: false,
            after_cr: false,
            over: false,
            seen: 0,
            found: Found::default(),
            any: false,
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        if self.over {
            return;
        }
        self.seen = self.seen.saturating_add(bytes.len());
        match self.framing {
            Framing::Json => {
                if self.buf.len() + bytes.len() > MAX_JSON {
                    self.over = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(bytes);
                }
            }
            Framing::EventStream => {
                if self.seen > MAX_STREAM {
                    self.over = true;
                    return;
                }
                self.lines(bytes);
            }
        }
    }

    /// Splits SSE lines (LF, CRLF or CR, a CRLF split across chunks included); a blank line
    /// ends an event.
    fn lines(&mut self, mut bytes: &[u8]) {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while !bytes.is_empty() {
            match memchr::memchr2(b'\n', b'\r', bytes) {
                Some(i) => {
                    let head = bytes.get(..i).unwrap_or_default();
                    let tail = bytes.get(i..).unwrap_or_default();
                    if !self.skipping {
                        self.buf.extend_from_slice(head);
                    }
                    let skip = match tail {
                        [b'\r', b'\n', ..] => 2,
                        [b'\r'] => {
                            self.after_cr = true;
                            1
                        }
                        _ => 1,
                    };
                    bytes = tail.get(skip..).unwrap_or_default();
                    let line = std::mem::take(&mut self.buf);
                    if self.skipping {
                        self.skipping = false;
                    } else {
                        self.line(&line);
                    }
                }
                None => {
                    if !self.skipping {
                        if self.buf.len() + bytes.len() > MAX_EVENT {
                            self.buf.clear();
                            self.skipping = true;
                        } else {
                            self.buf.extend_from_slice(bytes);
                        }
                    }
                    bytes = &[];
                }
            }
        }
    }

    fn line(&mut self, line: &[u8]) {
        if line.is_empty() {
            self.dispatch();
            return;
        }
        let Some(rest) = line.strip_prefix(b"data:") else {
            // `event:`, `id:`, `retry:`, comments: the event's JSON says what it is.
            return;
        };
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        if self.data.len() + rest.len() + 1 > MAX_EVENT {
            self.data.clear();
            return;
        }
        if !self.data.is_empty() {
            self.data.push(b'\n');
        }
        self.data.extend_from_slice(rest);
    }

    fn dispatch(&mut self) {
        let data = std::mem::take(&mut self.data);
        if data.is_empty() || data == b"[DONE]" {
            return;
        }
        self.document(&data);
    }

    fn end(&mut self) {
        match self.framing {
            Framing::Json if !self.over => {
                let buf = std::mem::take(&mut self.buf);
                self.document(&buf);
            }
            Framing::Json => {}
            Framing::EventStream => {
                // A stream cut without its final blank line: its last event still counts.
                if !self.skipping && !self.buf.is_empty() {
                    let line = std::mem::take(&mut self.buf);
                    self.line(&line);
                }
                self.dispatch();
            }
        }
    }

    /// One JSON document or event: an answer (`usage` at the top), a Responses-API event
    /// (`response.usage`) or Anthropic's `message_start` (`message.usage`).
    fn document(&mut self, bytes: &[u8]) {
        let Ok(top) = serde_json::from_slice::<Skim<'_>>(bytes) else {
            return;
        };
        let inner = top
            .response
            .or(top.message)
            .and_then(|raw| serde_json::from_str::<Skim<'_>>(raw.get()).ok());
        for holder in [Some(&top), inner.as_ref()].into_iter().flatten() {
            if self.found.id.is_none() {
                self.found.id = text(small(holder.id).as_ref());
            }
            if self.found.model.is_none() {
                self.found.model = text(small(holder.model).as_ref());
            }
            if let Some(u) = small(holder.usage).filter(Value::is_object) {
                self.usage(&u);
            }
        }
    }

    /// Merges one `usage` object: counts are cumulative in every stream shape (Anthropic's
    /// `message_delta` repeats the output so far), so the largest seen is kept, never a sum.
    fn usage(&mut self, u: &Value) {
        let n = |ptr: &str| u.pointer(ptr).and_then(count);
        let f = &mut self.found;
        let cached = n("/prompt_tokens_details/cached_tokens")
            .or_else(|| n("/input_tokens_details/cached_tokens"))
            .unwrap_or(0);
        // OpenAI's prompt/input counts include the cached part; Anthropic's input_tokens do not
        // (its cache reads are their own field).
        let input = match (n("/prompt_tokens"), n("/input_tokens")) {
            (Some(p), _) => Some(p.saturating_sub(cached)),
            (None, Some(i)) if n("/input_tokens_details/cached_tokens").is_some() => {
                Some(i.saturating_sub(cached))
            }
            (None, i) => i,
        };
        let output = n("/completion_tokens").or_else(|| n("/output_tokens"));
        let cache_read = n("/cache_read_input_tokens").unwrap_or(cached);
        let cache_creation = n("/cache_creation_input_tokens").unwrap_or(0);
        let reasoning = n("/completion_tokens_details/reasoning_tokens")
            .or_else(|| n("/output_tokens_details/reasoning_tokens"))
            .unwrap_or(0);
        if input.is_none() && output.is_none() {
            return;
        }
        self.any = true;
        f.input_tokens = f.input_tokens.max(input.unwrap_or(0));
        f.output_tokens = f.output_tokens.max(output.unwrap_or(0));
        f.cache_read_tokens = f.cache_read_tokens.max(cache_read);
        f.cache_creation_tokens = f.cache_creation_tokens.max(cache_creation);
        f.reasoning_tokens = f.reasoning_tokens.max(reasoning);
        if let Some(c) = u
            .get("cost")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite() && *c >= 0.0)
        {
            f.cost = Some(f.cost.map_or(c, |old| old.max(c)));
        }
    }
}

/// A token count: a non-negative whole number (a numeric string counts), clamped to what the
/// store keeps.
fn count(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(n.clamp(0, crate::db::usage_records::MAX_TOKENS))
}

/// A short single-line text field (an id, a model name), control characters dropped.
fn text(v: Option<&Value>) -> Option<String> {
    let s: String = v?
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(framing: Framing, body: &[u8], chunk: usize) -> Option<Found> {
        let mut r = UsageReader::new(framing, Coding::Identity);
        for c in body.chunks(chunk.max(1)) {
            r.feed(c);
        }
        r.finish()
    }

    const CHAT: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":20},"completion_tokens_details":{"reasoning_tokens":5}}}"#;

    #[test]
    fn an_openai_answer_splits_cached_input_out() {
        let f = read(Framing::Json, CHAT.as_bytes(), 7).expect("usage");
        assert_eq!(f.id.as_deref(), Some("chatcmpl-1"));
        assert_eq!(f.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
        assert_eq!(
            (
                f.input_tokens,
                f.cache_read_tokens,
                f.output_tokens,
                f.reasoning_tokens
            ),
            (100, 20, 30, 5),
            "prompt_tokens includes the cached part"
        );
        assert_eq!(
            f.cost, None,
            "OpenAI states no cost: the price table prices it"
        );
    }

    #[test]
    fn the_final_chunk_of_a_stream_has_the_usage_in_any_chunking() {
        let body = "data: {\"id\":\"chatcmpl-2\",\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
             data: {\"id\":\"chatcmpl-2\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\r\n\r\n\
             data: [DONE]\n\n";
        for chunk in [1, 3, 17, body.len()] {
            let f = read(Framing::EventStream, body.as_bytes(), chunk).expect("usage");
            assert_eq!((f.input_tokens, f.output_tokens), (9, 2), "chunk {chunk}");
            assert_eq!(f.id.as_deref(), Some("chatcmpl-2"));
        }
    }

    #[test]
    fn openrouter_states_its_cost() {
        let body = br#"{"id":"gen-1","model":"openai/gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14,"cost":0.00012}}"#;
        let f = read(Framing::Json, body, 64).expect("usage");
        assert_eq!(f.cost, Some(0.00012));
    }

    #[test]
    fn an_anthropic_stream_merges_start_and_delta() {
        let body = "event: message_start\n\
            data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":400,\"output_tokens\":1}}}\n\n\
            event: content_block_delta\n\
            data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n\
            event: message_delta\n\
            data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n";
        let f = read(Framing::EventStream, body.as_bytes(), 5).expect("usage");
        assert_eq!(f.id.as_deref(), Some("msg_1"));
        assert_eq!(
            (
                f.input_tokens,
                f.cache_creation_tokens,
                f.cache_read_tokens,
                f.output_tokens
            ),
            (25, 100, 400, 15),
            "output is cumulative: the largest, not a sum"
        );
    }

    #[test]
    fn the_responses_api_nests_usage_in_the_completed_event() {
        let body = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":10},\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":3}}}}\n\n";
        let f = read(Framing::EventStream, body.as_bytes(), 4).expect("usage");
        assert_eq!(
            (f.input_tokens, f.cache_read_tokens, f.output_tokens),
            (40, 10, 7)
        );
        assert_eq!(f.id.as_deref(), Some("resp_1"));
    }

    #[test]
    fn gzip_is_decoded_and_a_bomb_stops_at_the_cap() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(CHAT.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let mut r = UsageReader::new(Framing::Json, Coding::Gzip);
        for c in gz.chunks(5) {
            r.feed(c);
        }
        assert_eq!(r.finish().expect("usage").output_tokens, 30);

        // 64 MiB of zeros in about 64 KiB: read only to the cap, then given up, no usage.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b'0'; 1024 * 1024];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        let mut r = UsageReader::new(Framing::Json, Coding::Gzip);
        r.feed(&bomb);
        assert_eq!(r.finish(), None, "a body over the cap is not read");
    }

    #[test]
    fn a_bulky_answer_is_skimmed_for_its_usage_not_built_into_a_tree() {
        // 7 MB of small values (a tree of them would be ~30× that) before the usage; an id
        // too long to be one is dropped, the usage is still read.
        let bulk = "0,".repeat(3_500_000);
        let long_id = "x".repeat(MAX_FIELD + 1);
        let body = format!(
            r#"{{"id":"{long_id}","data":[{bulk}0],"model":"m","usage":{{"prompt_tokens":7,"completion_tokens":3}}}}"#
        );
        assert!(body.len() < MAX_JSON);
        let f = read(Framing::Json, body.as_bytes(), 1 << 16).expect("usage read");
        assert_eq!((f.input_tokens, f.output_tokens), (7, 3));
        assert_eq!(f.id, None, "an id over {MAX_FIELD} bytes is not one");
        assert_eq!(f.model.as_deref(), Some("m"));
        // A `usage` that is not an object, or a `response` that is not one, gives nothing.
        for odd in [
            r#"{"usage":[1,2,3]}"#,
            r#"{"response":"text","usage":null}"#,
            r#"{"message":{"usage":"12"}}"#,
        ] {
            assert_eq!(read(Framing::Json, odd.as_bytes(), 7), None, "{odd}");
        }
    }

    #[test]
    fn hostile_bodies_give_nothing_and_never_panic() {
        assert_eq!(
            read(Framing::Json, b"<html>502 Bad Gateway</html>", 3),
            None
        );
        assert_eq!(
            read(
                Framing::Json,
                b"{\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":\"1e999\"}}",
                3
            )
            .map(|f| f.input_tokens),
            Some(0),
            "negative counts clamp to 0"
        );
        let endless = vec![b'a'; 3 * MAX_EVENT];
        let mut body = b"data: ".to_vec();
        body.extend_from_slice(&endless);
        body.extend_from_slice(
            b"\n\ndata: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n",
        );
        let f = read(Framing::EventStream, &body, 4096).expect("the event after an endless line");
        assert_eq!(f.output_tokens, 1);
        let mut r = UsageReader::new(Framing::Json, Coding::Gzip);
        r.feed(b"\x1f\x8b not really gzip");
        assert_eq!(r.finish(), None, "corrupt gzip: nothing read, no panic");
    }

    #[test]
    fn framing_and_coding_come_from_headers() {
        assert_eq!(
            Framing::of("application/json; charset=utf-8"),
            Some(Framing::Json)
        );
        assert_eq!(Framing::of("application/problem+json"), Some(Framing::Json));
        assert_eq!(Framing::of("text/event-stream"), Some(Framing::EventStream));
        assert_eq!(Framing::of("application/octet-stream"), None);
        assert_eq!(Coding::of(Some("GZIP")), Some(Coding::Gzip));
        assert_eq!(Coding::of(Some("br")), None);
        assert_eq!(Coding::of(None), Some(Coding::Identity));
    }
}
