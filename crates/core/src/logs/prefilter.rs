//! The byte prefilter: in logs where failures are rare, almost every line can be skipped by
//! looking for a few byte strings with SIMD search (aho-corasick's Teddy, memchr's memmem)
//! instead of parsing it. Only lines holding a needle reach the parser.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Needle counts up to which [`Prefilter::Few`] is used.
const MAX_FEW: usize = 4;
/// Needles shorter than this are left to aho-corasick (memmem shines on long needles).
const MIN_FEW_LEN: usize = 5;

/// Finds the lines of a buffer worth parsing.
#[derive(Debug)]
pub enum Prefilter {
    /// Every line.
    All,
    One(Box<memchr::memmem::Finder<'static>>),
    /// A few long needles, each with its own memmem search: for two or three needles
    /// aho-corasick falls back to a start-byte prefilter, which a `"` makes useless in JSON.
    Few(Vec<memchr::memmem::Finder<'static>>),
    Many(AhoCorasick),
}

impl Prefilter {
    pub fn new(needles: Option<Vec<Vec<u8>>>, ignore_case: bool) -> Self {
        match needles {
            None => Prefilter::All,
            Some(n)
                if (2..=MAX_FEW).contains(&n.len())
                    && !ignore_case
                    && n.iter().all(|x| x.len() >= MIN_FEW_LEN) =>
            {
                Prefilter::Few(
                    n.iter()
                        .map(|x| memchr::memmem::Finder::new(x).into_owned())
                        .collect(),
                )
            }
            Some(n) if n.len() == 1 && !ignore_case => {
                Prefilter::One(Box::new(memchr::memmem::Finder::new(&n[0]).into_owned()))
            }
            // Needles built from a user's mapping may exceed the automaton's limits: then
            // every line is parsed (slower, never wrong).
            Some(n) => match AhoCorasickBuilder::new()
                .ascii_case_insensitive(ignore_case)
                .match_kind(MatchKind::LeftmostFirst)
                .build(&n)
            {
                Ok(ac) => Prefilter::Many(ac),
                Err(_) => Prefilter::All,
            },
        }
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        match self {
            Prefilter::Few(_) => unreachable!("Few is searched in for_each_line"),
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
        if let Prefilter::Few(finders) = self {
            // Each needle's next hit, searched again only once the scan has passed it.
            let mut next: Vec<Option<usize>> = finders.iter().map(|x| x.find(buf)).collect();
            while let Some(hit) = next.iter().flatten().min().copied() {
                let end = Self::emit_line(buf, hit, &mut f);
                let from = end + 1;
                if from >= buf.len() {
                    break;
                }
                for (i, n) in next.iter_mut().enumerate() {
                    if n.is_some_and(|p| p < from) {
                        *n = finders[i].find(&buf[from..]).map(|p| from + p);
                    }
                }
            }
            return;
        }
        let mut from = 0usize;
        while let Some(hit) = self.find(buf, from) {
            let end = Self::emit_line(buf, hit, &mut f);
            from = end + 1;
            if from >= buf.len() {
                break;
            }
        }
    }
}

impl Prefilter {
    /// Calls `f` with the line around `hit`; returns where the line ends.
    fn emit_line(buf: &[u8], hit: usize, f: &mut impl FnMut(usize, &[u8])) -> usize {
        let start = memchr::memrchr(b'\n', &buf[..hit]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &buf[hit..]).map_or(buf.len(), |i| hit + i);
        let line = &buf[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            f(start, line);
        }
        end
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
    fn few_long_needles_find_the_same_lines_as_aho_corasick() {
        let buf = b"{\"usage\":1}\nnope\n{\"isApiErrorMessage\":true,\"usage\":0}\nx\n{\"apiErrorStatus\":402}";
        let needles = vec![b"\"usage\"".to_vec(), b"piError".to_vec()];
        let few = Prefilter::new(Some(needles.clone()), false);
        assert!(
            matches!(few, Prefilter::Few(_)),
            "two long needles take the memmem path"
        );
        let ac = Prefilter::Many(aho_corasick::AhoCorasick::new(&needles).unwrap());
        assert_eq!(
            lines(&few, buf),
            lines(&ac, buf),
            "both paths yield the same lines"
        );
        assert_eq!(
            lines(&few, buf).len(),
            3,
            "a line with both needles is yielded once"
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
