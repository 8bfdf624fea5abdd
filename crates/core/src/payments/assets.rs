//! Decimals of what a price is in: ISO 4217 minor units for fiat, and the stablecoin contracts
//! x402 and MPP servers name, by network. An asset not in these tables keeps its atomic amount
//! and is said to have unknown decimals; nothing is guessed.
//!
//! Sources: ISO 4217 (minor units); the x402 reference implementation's default assets
//! (coinbase/x402 at dd927a2: `go/mechanisms/evm/constants.go`, `go/mechanisms/evm/v1/
//! network.go`, `go/mechanisms/svm/constants.go`, `python/legacy/src/x402/chains.py`,
//! `typescript/packages/legacy/x402/src/types/shared/evm/config.ts`). EURC has no contract in
//! those tables, so it is not listed: a price in it says "decimals unknown".

/// Fiat currencies and their minor units (ISO 4217). Codes not listed here with 2 decimals
/// would be guessed, so only common ones are listed.
static FIAT: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("CNY", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("INR", 2),
    ("BRL", 2),
    ("MXN", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("ZAR", 2),
    ("TRY", 2),
    ("ILS", 2),
    ("AED", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("VND", 0),
    ("CLP", 0),
    ("ISK", 0),
    ("HUF", 2),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("TND", 3),
];

/// Minor units of an ISO 4217 code, in any case (MPP compares currencies case-insensitively).
pub fn fiat_decimals(code: &str) -> Option<u32> {
    FIAT.iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
        .map(|(_, d)| *d)
}

/// A token contract on a network.
struct Token {
    /// Network names as x402 v1 writes them and as CAIP-2.
    networks: &'static [&'static str],
    address: &'static str,
    symbol: &'static str,
    decimals: u32,
}

static TOKENS: &[Token] = &[
    Token {
        networks: &["base", "eip155:8453"],
        address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["base-sepolia", "eip155:84532"],
        address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["avalanche", "eip155:43114"],
        address: "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["avalanche-fuji", "eip155:43113"],
        address: "0x5425890298aed601595a70AB815c96711a31Bc65",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["polygon", "eip155:137"],
        address: "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["polygon-amoy", "eip155:80002"],
        address: "0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["arbitrum", "eip155:42161"],
        address: "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["arbitrum-sepolia", "eip155:421614"],
        address: "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["monad", "eip155:143"],
        address: "0x754704Bc059F8C67012fEd69BC8A327a5aafb603",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["sei", "eip155:1329"],
        address: "0xe15fc38f6d8c56af07bbcbe3baf5708a2bf42392",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["sei-testnet", "eip155:1328"],
        address: "0x4fcf1784b31630811181f670aea7a7bef803eaed",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["iotex", "eip155:4689"],
        address: "0xcdf79194c6c285077a58da47641d4dbe51f63542",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["stable", "eip155:988"],
        address: "0x779Ded0c9e1022225f8E0630b35a9b54bE713736",
        symbol: "USDT0",
        decimals: 6,
    },
    Token {
        networks: &["megaeth", "eip155:4326"],
        address: "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7",
        symbol: "MegaUSD",
        decimals: 18,
    },
    Token {
        networks: &["solana", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"],
        address: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
        symbol: "USDC",
        decimals: 6,
    },
    Token {
        networks: &["solana-devnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"],
        address: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
        symbol: "USDC",
        decimals: 6,
    },
];

/// What an asset is: its symbol and decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub symbol: String,
    pub decimals: u32,
}

/// Looks up `asset` (a contract address, a mint, or a currency code) on `network`. EVM
/// addresses compare without case (checksums are case); Solana mints are case-sensitive.
pub fn lookup(network: Option<&str>, asset: &str) -> Option<Known> {
    let asset = asset.trim();
    // Lightning amounts (MPP's lightning method, L402) are in satoshi.
    if asset.eq_ignore_ascii_case("sat") || asset.eq_ignore_ascii_case("sats") {
        return Some(Known {
            symbol: "sat".into(),
            decimals: 0,
        });
    }
    if let Some(d) = fiat_decimals(asset) {
        return Some(Known {
            symbol: asset.to_ascii_uppercase(),
            decimals: d,
        });
    }
    let evm = asset.starts_with("0x");
    TOKENS
        .iter()
        .find(|t| {
            let same = if evm {
                t.address.eq_ignore_ascii_case(asset)
            } else {
                t.address == asset
            };
            same && network.is_none_or(|n| t.networks.iter().any(|m| m.eq_ignore_ascii_case(n)))
        })
        .map(|t| Known {
            symbol: t.symbol.into(),
            decimals: t.decimals,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_assets_have_decimals_and_unknown_ones_do_not() {
        let usdc = lookup(
            Some("eip155:8453"),
            "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
        );
        assert_eq!(
            usdc,
            Some(Known {
                symbol: "USDC".into(),
                decimals: 6
            })
        );
        assert_eq!(
            lookup(Some("base"), "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913").map(|k| k.decimals),
            Some(6)
        );
        assert_eq!(
            lookup(
                Some("eip155:137"),
                "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
            ),
            None,
            "Base's USDC address means nothing on Polygon"
        );
        assert_eq!(
            lookup(None, "usd").map(|k| (k.symbol, k.decimals)),
            Some(("USD".into(), 2))
        );
        assert_eq!(lookup(None, "JPY").map(|k| k.decimals), Some(0));
        assert_eq!(lookup(Some("eip155:8453"), "0xdeadbeef"), None);
    }
}
