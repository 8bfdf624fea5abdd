//! The byte prefilter: in logs where failures are rare, almost every line can be skipped by
//! looking for a few byte strings with SIMD search (aho-corasick's Teddy, memchr's memmem)
//! instead of parsing it. Only lines holding a needle reach the parser.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Finds the lines of a buffer worth parsing.
#[derive(Debug)]
pub enum Prefilter {
    /// Every line.
    All,
    One(Box<memchr::memmem::Finder<'static>>),
    Many(AhoCorasick),
}

impl Prefilter {
    pub fn new(needles: Option<Vec<Vec<u8>>>, ignore_case: bool) -> Self {
        match needles {
            None => Prefilter::All,
            Some(n) if n.len() == 1 && !ignore_case => {
                Prefilter::One(Box::new(memchr::memmem::Finder::new(&n[0]).into_owned()))
            }
            Some(n) => Prefilter::Many(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(ignore_case)
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&n)
                    .expect("prefilter needles are valid"),
            ),
        }
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        match self {
            Prefilter::All => (from < hay.len()).then_some(from),
            Prefilter::One(f) => f.find(&hay[from..]).map(|i| from + i),
            Prefilter::Many(ac) => ac
                .find(aho_corasick::Input::new(hay).span(from..hay.len()))
                .map(|m| m.start()),
        }
    }

    /// Calls `f(line_start, line)` for every line of `buf` (complete lines, each ending in
    /// `\n` or at the end of `buf`) that holds a needle, in order, each line once.
    pub fn for_each_line(&self, buf: &[u8], mut f: impl FnMut(usize, &[u8])) {
        let mut from = 0usize;
        while let Some(hit) = self.find(buf, from) {
            let start = memchr::memrchr(b'\n', &buf[..hit]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &buf[hit..]).map_or(buf.len(), |i| hit + i);
            let line = &buf[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                f(start, line);
            }
            from = end + 1;
            if from >= buf.len() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: &Prefilter, buf: &[u8]) -> Vec<(usize, String)> {
        let mut v = Vec::new();
        p.for_each_line(buf, |o, l| {
            v.push((o, String::from_utf8_lossy(l).into_owned()))
        });
        v
    }

    #[test]
    fn only_lines_with_a_needle_each_once() {
        let buf = b"a 200\nb \" 402 \" 404\nc 200\r\nd \" 503\n";
        let p = Prefilter::new(Some(vec![b"\" 4".to_vec(), b"\" 5".to_vec()]), false);
        assert_eq!(
            lines(&p, buf),
            vec![(6, "b \" 402 \" 404".into()), (27, "d \" 503".into())],
            "two needles on one line yield it once, with its byte offset"
        );
    }

    #[test]
    fn all_yields_every_nonempty_line() {
        let p = Prefilter::new(None, false);
        assert_eq!(lines(&p, b"x\n\ny\n").len(), 2, "empty lines are skipped");
    }

    #[test]
    fn case_insensitive_needles() {
        let p = Prefilter::new(Some(vec![b"quota".to_vec(), b"credit".to_vec()]), true);
        assert_eq!(lines(&p, b"ok\nInsufficient QUOTA\nfine\n").len(), 1);
    }
}
