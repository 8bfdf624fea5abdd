//! The price table that turns agent token usage into money: shipped in the repo
//! (`prices.json`, versioned by date) and overridable per entry by `<data dir>/prices.json`.
//! Prices are USD per million tokens. A model name matches the longest key it starts with,
//! after a trailing date (`-20250514`) and a context tag (`[1m]`) are removed.

use super::Usage;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The table shipped with this build.
pub const SHIPPED: &str = include_str!("prices.json");

/// The user's override file, in the data directory.
pub const OVERRIDE_FILE: &str = "prices.json";

/// USD per million tokens of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_write: Option<f64>,
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Long-context prices: the tokens of a kind above 200 000 in one request cost these
    /// (Sonnet 4 and 4.5), the first 200 000 the base price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above_200k: Option<Tier>,
}

/// Prices above [`TIER_THRESHOLD`] tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

/// Tokens of one kind in one request above which [`Price::above_200k`] applies.
pub const TIER_THRESHOLD: i64 = 200_000;

fn tiered(tokens: i64, base: f64, above: Option<f64>) -> f64 {
    match above {
        Some(hi) if tokens > TIER_THRESHOLD => {
            TIER_THRESHOLD as f64 * base + (tokens - TIER_THRESHOLD) as f64 * hi
        }
        _ => tokens as f64 * base,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    pub version: String,
    #[serde(default = "usd")]
    pub currency: String,
    pub models: BTreeMap<String, Price>,
}

fn usd() -> String {
    "usd".into()
}

impl PriceTable {
    pub fn shipped() -> Self {
        serde_json::from_str(SHIPPED).expect("the shipped price table is valid JSON")
    }

    /// The shipped table with the entries of `<data_dir>/prices.json` (if present) laid over it.
    pub fn load(data_dir: &Path) -> Result<Self> {
        let mut t = Self::shipped();
        let path = data_dir.join(OVERRIDE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                #[derive(Deserialize)]
                struct Over {
                    version: Option<String>,
                    #[serde(default)]
                    models: BTreeMap<String, Price>,
                }
                let o: Over = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::InvalidInput(format!(
                        "{} is not a valid price table ({e}): fix it or remove it to use the shipped prices",
                        path.display()
                    ))
                })?;
                t.models.extend(
                    o.models
                        .into_iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v)),
                );
                t.version = format!(
                    "{}+{}",
                    t.version,
                    o.version.unwrap_or_else(|| "user".into())
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::DataDir { path, source: e }),
        }
        Ok(t)
    }

    /// The price of a model, if the table knows it.
    pub fn find(&self, model: &str) -> Option<&Price> {
        let m = normalize(model);
        if let Some(p) = self.models.get(&m) {
            return Some(p);
        }
        self.models
            .iter()
            .filter(|(k, _)| {
                m.starts_with(k.as_str())
                    && m[k.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == '-' || c == '.' || c == '@')
            })
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| p)
    }

    /// The cost of one request's usage, or `None` for an unknown model.
    pub fn cost(&self, u: &Usage) -> Option<f64> {
        let p = self.find(u.model.as_deref()?)?;
        let t = p.above_200k;
        let per_million = tiered(u.input_tokens, p.input, t.map(|t| t.input))
            + tiered(u.output_tokens, p.output, t.map(|t| t.output))
            + tiered(
                u.cache_creation_tokens,
                p.cache_write.unwrap_or(p.input * 1.25),
                t.map(|t| t.cache_write),
            )
            + tiered(
                u.cache_read_tokens,
                p.cache_read.unwrap_or(p.input * 0.1),
                t.map(|t| t.cache_read),
            );
        Some(per_million * 1e-6)
    }
}

fn normalize(model: &str) -> String {
    let mut m = model.trim().to_ascii_lowercase();
    if let Some((_, rest)) = m.rsplit_once('/') {
        m = rest.to_owned();
    }
    if let Some(i) = m.find('[') {
        m.truncate(i);
    }
    // A trailing -YYYYMMDD date.
    // The suffix is ASCII, so a name whose 9th-last byte is inside a character has none
    // (`get` instead of `split_at`, which would panic there).
    let cut = m.len().saturating_sub(9);
    if cut > 0
        && m.get(cut..).is_some_and(|tail| {
            tail.starts_with('-') && tail.bytes().skip(1).all(|b| b.is_ascii_digit())
        })
    {
        m.truncate(cut);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(model: &str) -> Usage {
        Usage {
            time: None,
            provider: "anthropic",
            model: Some(model.into()),
            input_tokens: 100_000,
            output_tokens: 100_000,
            cache_creation_tokens: 100_000,
            cache_read_tokens: 100_000,
            reasoning_tokens: 0,
            logged_cost: None,
            key: None,
        }
    }

    #[rstest::rstest]
    #[case("claude-sonnet-4-20250514", 3.0 + 15.0 + 3.75 + 0.3)]
    #[case("claude-opus-4-6", 5.0 + 25.0 + 6.25 + 0.5)]
    #[case("claude-opus-4-20250514", 15.0 + 75.0 + 18.75 + 1.5)]
    #[case("anthropic/claude-haiku-4-5-20251001", 1.0 + 5.0 + 1.25 + 0.1)]
    fn longest_prefix_after_date_wins(#[case] model: &str, #[case] want: f64) {
        // 100 000 tokens of each kind: a tenth of the per-million prices, below the tier.
        let got = PriceTable::shipped().cost(&usage(model)).unwrap() * 10.0;
        assert!(
            (got - want).abs() < 1e-9,
            "{model}: {got} != {want} (opus-4-6 must not take opus-4's price)"
        );
    }

    #[test]
    fn long_context_tokens_take_the_tier_price() {
        let mut u = usage("claude-sonnet-4-5-20250929");
        u.input_tokens = 0;
        u.output_tokens = 0;
        u.cache_creation_tokens = 0;
        u.cache_read_tokens = 300_000;
        let got = PriceTable::shipped().cost(&u).unwrap();
        let want = (200_000.0 * 0.3 + 100_000.0 * 0.6) * 1e-6;
        assert!(
            (got - want).abs() < 1e-12,
            "first 200k at base, the rest at the tier: {got}"
        );
    }

    #[test]
    fn unknown_models_have_no_cost() {
        assert_eq!(PriceTable::shipped().cost(&usage("<synthetic>")), None);
        assert_eq!(
            PriceTable::shipped().find("claude-sonnet-45"),
            None,
            "a prefix must end on a separator"
        );
    }

    #[test]
    fn user_override_replaces_an_entry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(OVERRIDE_FILE),
            r#"{"version":"mine","models":{"claude-sonnet-4":{"input":1,"output":1}}}"#,
        )
        .unwrap();
        let t = PriceTable::load(dir.path()).unwrap();
        assert_eq!(
            t.find("claude-sonnet-4-20250514").unwrap().input,
            1.0,
            "the user's price wins"
        );
        assert_eq!(
            t.find("claude-opus-4-6").unwrap().input,
            5.0,
            "other entries stay"
        );
        assert!(
            t.version.ends_with("+mine"),
            "the version says a user table is in force"
        );
        std::fs::write(dir.path().join(OVERRIDE_FILE), "{").unwrap();
        assert_eq!(
            PriceTable::load(dir.path()).unwrap_err().kind(),
            "invalid_input"
        );
    }
}
