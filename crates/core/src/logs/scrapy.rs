//! Scrapy's log: `Crawled (402) <GET url> (referer: …)`, `Ignoring response <402 url>: …`,
//! `Gave up retrying <GET url> (failed 3 times): 402 Payment Required`, and the stats dump's
//! `'downloader/response_status_count/402': 3`. Scrapy writes local time without a zone.

use super::{Format, Located, LogFormat, ParseCx, Record, Request};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Recent failed requests remembered to tell a repeat from a new request.
const RECENT: usize = 32;

/// One failed request is logged up to three times (`Gave up retrying`, `Crawled`, `Ignoring
/// response`, depending on the log level); the stats dump counts them once more. This memory
/// keeps the recent ones so that each is stored once, and the statuses already seen so that the
/// stats dump adds only what the lines did not show (at INFO level there are no `Crawled` lines).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScrapyMemory {
    recent: VecDeque<String>,
    seen: Vec<u16>,
}

#[derive(Debug)]
pub struct Scrapy;

fn between<'a>(s: &'a str, open: &str, close: char) -> Option<&'a str> {
    let i = s.find(open)? + open.len();
    let j = s[i..].find(close)?;
    Some(&s[i..i + j])
}

fn method_url(inner: &str) -> (Option<String>, Option<String>) {
    match inner.split_once(' ') {
        Some((m, u)) if m.bytes().all(|b| b.is_ascii_uppercase()) => {
            (Some(m.into()), Some(u.into()))
        }
        _ => (None, Some(inner.to_owned())),
    }
}

pub fn parse(s: &str) -> Option<Request> {
    if let Some(i) = s.find("Crawled (") {
        let rest = &s[i + 9..];
        let status: u16 = rest.split(')').next()?.parse().ok()?;
        let (method, url) = method_url(between(rest, "<", '>')?);
        return Some(Request {
            status,
            method,
            url,
            ..Default::default()
        });
    }
    if let Some(i) = s.find("Ignoring response <") {
        let inner = between(&s[i..], "<", '>')?;
        let (st, url) = inner.split_once(' ')?;
        return Some(Request {
            status: st.parse().ok()?,
            url: Some(url.to_owned()),
            note: s[i..].split_once(">: ").map(|(_, n)| n.trim().to_owned()),
            ..Default::default()
        });
    }
    if let Some(i) = s.find("Gave up retrying <") {
        let rest = &s[i..];
        let (method, url) = method_url(between(rest, "<", '>')?);
        let reason = rest.split_once("): ").map(|(_, r)| r.trim())?;
        let status = reason
            .split(' ')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        return Some(Request {
            status,
            method,
            url,
            note: Some(reason.to_owned()),
            ..Default::default()
        });
    }
    if let Some(i) = s.find("response_status_count/") {
        let rest = &s[i + 22..];
        let status: u16 = rest.get(..3)?.parse().ok()?;
        let n: u64 = rest[3..]
            .trim_start_matches(['\'', '"', ':', ' '])
            .trim_end_matches(',')
            .trim_end_matches('}')
            .trim()
            .parse()
            .ok()?;
        return Some(Request {
            status,
            note: Some(format!("Scrapy stats: {n} responses with status {status}")),
            ..Default::default()
        });
    }
    None
}

impl LogFormat for Scrapy {
    fn format(&self) -> Format {
        Format::Scrapy
    }

    fn sniff(&self, line: &[u8]) -> bool {
        let s = String::from_utf8_lossy(line);
        s.contains("[scrapy.")
            || s.contains("] INFO: Scrapy ")
            || (s.contains("Crawled (") && parse(&s).is_some())
    }

    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        Some(
            [
                "Crawled (4",
                "Crawled (5",
                "Ignoring response <",
                "Gave up retrying",
                "status_count/4",
                "status_count/5",
            ]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        )
    }

    fn parse_line(&self, line: &[u8], offset: u64, cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let s = String::from_utf8_lossy(line);
        let Some(mut req) = parse(&s) else { return };
        req.time = super::time::leading_asctime(&s, cx.zone).map(|(t, _)| t);
        let mem = cx.memory.scrapy.get_or_insert_with(Default::default);
        if req.url.is_some() {
            let key = format!("{} {}", req.status, req.url.as_deref().unwrap_or_default());
            if mem.recent.contains(&key) {
                req.echo = true;
            } else {
                if mem.recent.len() == RECENT {
                    mem.recent.pop_front();
                }
                mem.recent.push_back(key);
            }
            if !mem.seen.contains(&req.status) {
                mem.seen.push(req.status);
            }
        } else if mem.seen.contains(&req.status) {
            // A stats count of a status the lines already showed one by one.
            req.echo = true;
        }
        out.push(Located {
            offset,
            record: Record::Request(req),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_line_kinds() {
        let c = parse("2026-11-21 10:00:00 [scrapy.core.engine] DEBUG: Crawled (402) <GET https://api.zenrows.com/v1/?apikey=k&url=x> (referer: None)").unwrap();
        assert_eq!((c.status, c.method.as_deref()), (402, Some("GET")));
        let i = parse("2026-11-21 10:00:01 [scrapy.spidermiddlewares.httperror] INFO: Ignoring response <403 https://api.scraperapi.com/?api_key=k>: HTTP status code is not handled or not allowed").unwrap();
        assert_eq!(i.status, 403);
        let g = parse("2026-11-21 10:00:02 [scrapy.downloadermiddlewares.retry] ERROR: Gave up retrying <GET https://x.com/> (failed 3 times): 503 Service Unavailable").unwrap();
        assert_eq!(g.status, 503, "status comes from the reason");
        let s = parse(" 'downloader/response_status_count/402': 7,").unwrap();
        assert_eq!(s.status, 402);
        assert!(
            s.note.unwrap().contains('7'),
            "the count is kept in the note"
        );
    }

    #[test]
    fn fixtures_402_and_disguised() {
        let ev = crate::logs::test_support::fixture_events(Format::Scrapy, "scrapy/crawl.log");
        crate::logs::test_support::assert_fixture_outcomes(&ev);
    }
}
