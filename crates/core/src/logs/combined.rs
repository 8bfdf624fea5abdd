//! nginx/Apache access logs: the combined format, the common format (no referer/user agent),
//! and the usual variants (an `X-Forwarded-For` chain or a quoted one in place of the remote
//! address, a leading virtual host, a trailing `"$http_x_forwarded_for"`).

use super::{Format, Located, LogFormat, ParseCx, Record, Request};

#[derive(Debug)]
pub struct Combined;

/// A parsed access-log line.
#[derive(Debug, PartialEq)]
pub struct Line<'a> {
    pub vhost: Option<&'a str>,
    pub time: &'a str,
    pub method: Option<&'a str>,
    pub target: Option<&'a str>,
    pub status: u16,
}

/// Parses one line; `None` when it is not an access-log line (or is malformed: a line without
/// the ident and user fields is rejected, as Apache never writes one).
pub fn parse(line: &str) -> Option<Line<'_>> {
    let open = line.find(" [")?;
    let close = open + line[open..].find("] ")?;
    let prefix = &line[..open];
    let time = &line[open + 2..close];
    if time.len() < 20 || time.as_bytes()[2] != b'/' {
        return None;
    }
    // remote, ident, user: at least three fields (a quoted XFF chain counts as one field).
    let unquoted = match prefix.strip_prefix('"') {
        Some(rest) => rest.split_once('"').map_or(rest, |(_, after)| after),
        None => prefix,
    };
    let fields: Vec<&str> = unquoted.split_ascii_whitespace().collect();
    let quoted = prefix.starts_with('"');
    if fields.len() + usize::from(quoted) < 3 {
        return None;
    }
    let vhost = (!quoted
        && fields.len() >= 4
        && !fields[0].ends_with(',')
        && fields[0].contains('.')
        && fields[0].bytes().any(|b| b.is_ascii_alphabetic())
        && fields[1].parse::<std::net::IpAddr>().is_ok())
    .then_some(fields[0]);
    let rest = line[close + 2..].strip_prefix('"')?;
    let qend = rest.find("\" ")?;
    let request = &rest[..qend];
    let after = &rest[qend + 2..];
    let status_str = after.split(' ').next()?;
    if status_str.len() != 3 {
        return None;
    }
    let status: u16 = status_str.parse().ok()?;
    let mut parts = request.split(' ');
    let (method, target) = match (parts.next(), parts.next()) {
        (Some(m), Some(t)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => {
            (Some(m), Some(t))
        }
        _ => (None, None),
    };
    Some(Line {
        vhost,
        time,
        method,
        target,
        status,
    })
}

impl LogFormat for Combined {
    fn format(&self) -> Format {
        Format::Combined
    }

    fn sniff(&self, line: &[u8]) -> bool {
        std::str::from_utf8(line).ok().and_then(parse).is_some()
    }

    /// The status follows the request's closing quote: `" 4xx` / `" 5xx`.
    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        Some(vec![b"\" 4".to_vec(), b"\" 5".to_vec()])
    }

    fn parse_line(&self, line: &[u8], offset: u64, _cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let line = String::from_utf8_lossy(line);
        let Some(l) = parse(&line) else { return };
        let host = l
            .vhost
            .map(|v| v.split(':').next().unwrap_or(v).to_ascii_lowercase());
        let url = l.target.map(|t| match (&host, t.starts_with('/')) {
            (Some(h), true) => format!("https://{h}{t}"),
            _ => t.to_owned(),
        });
        out.push(Located {
            offset,
            record: Record::Request(Request {
                time: super::time::parse_clf(l.time),
                status: l.status,
                method: l.method.map(str::to_owned),
                url,
                host,
                ..Default::default()
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support::*;

    #[test]
    fn lnav_access_log() {
        let (st, rejected) =
            status_counts(Format::Combined, "access-log/lnav__logfile_access_log.0");
        assert_eq!(
            st,
            counts(&[(200, 2), (404, 1)]),
            "SOURCES.md: 200, 404, 200"
        );
        assert_eq!(rejected, 0);
    }

    #[test]
    fn lnav_bad_access_log_rejects_the_line_without_ident_and_user() {
        let (st, rejected) = status_counts(
            Format::Combined,
            "access-log/lnav__logfile_bad_access_log.0",
        );
        assert_eq!(st.values().sum::<usize>(), 2, "SOURCES.md: 2 parsed");
        assert_eq!(rejected, 1, "SOURCES.md: 1 rejected");
    }

    #[test]
    fn lnav_shop_access_log() {
        let (st, rejected) = status_counts(
            Format::Combined,
            "access-log/lnav__logfile_shop_access_log.0",
        );
        assert_eq!(
            st,
            counts(&[(200, 938), (404, 24), (302, 20), (301, 11), (304, 7)]),
            "SOURCES.md counts for 1000 nginx lines with a trailing XFF field"
        );
        assert_eq!(rejected, 0);
    }

    #[test]
    fn beats_nginx_edge_cases() {
        let (st, rejected) = status_counts(
            Format::Combined,
            "access-log/beats__nginx__access__test.log",
        );
        assert_eq!(
            st,
            counts(&[(200, 4), (404, 2), (400, 1)]),
            "XFF chains, IPv6, empty request"
        );
        assert_eq!(rejected, 0);
    }

    #[test]
    fn beats_apache_edge_cases() {
        let (st, rejected) = status_counts(
            Format::Combined,
            "access-log/beats__apache__access__test.log",
        );
        assert_eq!(
            st,
            counts(&[(404, 3), (408, 2), (200, 2)]),
            "common + combined, `-` request, vhost"
        );
        assert_eq!(rejected, 0);
    }

    #[test]
    fn vhost_prefix_becomes_the_host() {
        let l = parse(r#"vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] "GET / HTTP/1.1" 200 3 "-" "x""#).unwrap();
        assert_eq!(l.vhost, Some("vhost1.domaine.fr"));
        let l = parse(r#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /o HTTP/1.1" 200 5 "-" "x""#).unwrap();
        assert_eq!(l.vhost, None, "an XFF chain is not a vhost");
    }

    #[test]
    fn fixtures_402_and_disguised() {
        let ev = fixture_events(Format::Combined, "combined/proxy_access.log");
        assert_fixture_outcomes(&ev);
    }
}
