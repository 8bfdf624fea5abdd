//! HAR 1.2 files (browser devtools, Playwright, mitmproxy, Insomnia): one JSON document whose
//! entries hold requests and responses with their bodies, so disguised 402s (a 200 with
//! `ERROR_ZERO_BALANCE`, a 429 with `insufficient_quota`) can be seen. Lenient: a UTF-8 BOM,
//! status 0 for failed requests, and `content` that is an array instead of an object.

use super::{Format, Located, LogFormat, ParseCx, Record, Request};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Debug)]
pub struct Har;

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(borrow)]
    log: Log<'a>,
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow, default)]
    entries: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "startedDateTime")]
    started: Option<String>,
    request: Option<Req>,
    response: Option<Resp>,
}

#[derive(Deserialize)]
struct Req {
    method: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: serde_json::Value,
}

#[derive(Deserialize)]
struct Resp {
    #[serde(default)]
    status: serde_json::Value,
    #[serde(default)]
    headers: serde_json::Value,
    #[serde(default)]
    content: serde_json::Value,
}

/// The response body: `content.text`, base64-decoded when `content.encoding` says so.
fn body(content: &serde_json::Value) -> Option<Vec<u8>> {
    let text = content.get("text")?.as_str()?;
    if content.get("encoding").and_then(|e| e.as_str()) == Some("base64") {
        return base64_decode(text);
    }
    Some(text.as_bytes().to_vec())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl LogFormat for Har {
    fn format(&self) -> Format {
        Format::Har
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let head = &head[..head.len().min(4096)];
        memchr::memmem::find(head, b"\"log\"").is_some()
            && (memchr::memmem::find(head, b"\"version\"").is_some()
                || memchr::memmem::find(head, b"\"entries\"").is_some())
    }

    fn is_document(&self) -> bool {
        true
    }

    fn parse_line(&self, _: &[u8], _: u64, _: &mut ParseCx<'_>, _: &mut Vec<Located>) {}

    fn parse_document(&self, doc: &[u8], _cx: &mut ParseCx<'_>, out: &mut Vec<Located>) -> bool {
        let bom = if doc.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = &doc[bom..];
        let Ok(d) = serde_json::from_slice::<Doc<'_>>(text) else {
            return false;
        };
        for raw in d.log.entries {
            let offset = (raw.get().as_ptr() as usize - doc.as_ptr() as usize) as u64;
            let Ok(e) = serde_json::from_str::<Entry>(raw.get()) else {
                continue;
            };
            let resp = e.response;
            let status = resp
                .as_ref()
                .and_then(|r| super::json_status(&r.status))
                .unwrap_or(0);
            let req = e.request;
            out.push(Located {
                offset,
                record: Record::Request(Request {
                    time: e
                        .started
                        .as_deref()
                        .and_then(|t| super::time::parse_text(t, chrono_tz::UTC)),
                    status,
                    method: req.as_ref().and_then(|r| r.method.clone()),
                    request_headers: req
                        .as_ref()
                        .map(|r| super::header_list(&r.headers))
                        .unwrap_or_default(),
                    url: req.and_then(|r| r.url),
                    host: None,
                    headers: resp
                        .as_ref()
                        .map(|r| super::header_list(&r.headers))
                        .unwrap_or_default(),
                    body: resp.as_ref().and_then(|r| body(&r.content)),
                    note: None,
                    echo: false,
                }),
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support::*;

    #[rstest::rstest]
    #[case("har/mitmproxy__har_files__firefox.har", &[(200, 10), (304, 4)])]
    #[case("har/mitmproxy__har_files__with-bom.har", &[(200, 1)])]
    #[case("har/mitmproxy__har_files__insomnia.har", &[(200, 1)])]
    #[case("har/mitmproxy__flows__error_log.har", &[(0, 1), (405, 1)])]
    #[case("har/mitmproxy__flows__incomplete_log.har", &[(0, 4)])]
    fn real_har_files(#[case] file: &str, #[case] want: &[(u16, usize)]) {
        let (st, _) = status_counts(Format::Har, file);
        assert_eq!(st, counts(want), "SOURCES.md counts for {file}");
    }

    #[test]
    fn chrome_har_has_200_304_and_0() {
        let (st, _) = status_counts(Format::Har, "har/mitmproxy__har_files__chrome.har");
        for s in [200, 304, 0] {
            assert!(
                st.contains_key(&s),
                "SOURCES.md: chrome.har has status {s}: {st:?}"
            );
        }
        assert!(
            st.keys().all(|s| [200, 304, 0].contains(s)),
            "only 200, 304, 0: {st:?}"
        );
    }

    #[test]
    fn failed_requests_are_not_events_but_405_is() {
        let ev = sample_events(Format::Har, "har/mitmproxy__flows__error_log.har");
        assert_eq!(
            ev.len(),
            1,
            "status 0 (no answer) is not a cliff; the 405 is a client error"
        );
        assert_eq!(ev[0].status, Some(405));
    }

    #[test]
    fn entry_offsets_point_into_the_file() {
        let bytes = std::fs::read(sample("har/mitmproxy__har_files__with-bom.har")).unwrap();
        let recs = crate::logs::parse_bytes(&Har, &bytes, chrono_tz::UTC, &mut Default::default());
        let off = recs[0].offset as usize;
        assert_eq!(
            bytes[off], b'{',
            "the dedupe offset is where the entry starts, BOM included"
        );
    }

    #[test]
    fn base64_bodies_decode() {
        assert_eq!(base64_decode("eyJhIjoxfQ==").unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn fixtures_402_and_disguised() {
        let ev = fixture_events(Format::Har, "har/api.har");
        assert_fixture_outcomes(&ev);
    }
}
