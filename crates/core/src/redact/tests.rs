use super::*;
use crate::classify::{classify, Observation};
use crate::db::cliff_events::{self, Filter};
use crate::model::{EventOrigin, Outcome};
use rstest::rstest;
use serde_json::json;

#[rstest]
// What the redactor always did.
#[case(
    "https://api.scraperapi.com/?api_key=abc123&url=https%3A%2F%2Fx.com",
    "https://api.scraperapi.com/?api_key=REDACTED&url=https%3A%2F%2Fx.com"
)]
#[case(
    "https://g.com/v1?key=AIza&alt=json",
    "https://g.com/v1?key=REDACTED&alt=json"
)]
#[case(
    "/p?token=t&access_token=a&page=2",
    "/p?token=REDACTED&access_token=REDACTED&page=2"
)]
#[case(
    "https://x.com/p?ACCESS_TOKEN=a#frag",
    "https://x.com/p?ACCESS_TOKEN=REDACTED#frag"
)]
#[case("https://u:pw@x.com/p", "https://REDACTED@x.com/p")]
#[case("https://x.com/p?monkey=1&q=key", "https://x.com/p?monkey=1&q=key")]
#[case(
    "https://x.com/p?openai_api_key=sk-1&flag",
    "https://x.com/p?openai_api_key=REDACTED&flag"
)]
#[case(
    "https://api.elevenlabs.io/v1/x?xi-api-key=k1",
    "https://api.elevenlabs.io/v1/x?xi-api-key=REDACTED"
)]
#[case("/v1/?clientKey=k2&task=1", "/v1/?clientKey=REDACTED&task=1")]
#[case("/cb?code=c0de&state=s", "/cb?code=REDACTED&state=s")]
// The names the redactor used to miss.
#[case("/p?accessKey=PLANTED&a=1", "/p?accessKey=REDACTED&a=1")]
#[case("/p?secretKey=PLANTED", "/p?secretKey=REDACTED")]
#[case("/p?clientSecret=PLANTED", "/p?clientSecret=REDACTED")]
#[case("/p?apiSecret=PLANTED", "/p?apiSecret=REDACTED")]
#[case("/p?appKey=PLANTED", "/p?appKey=REDACTED")]
#[case("/p?pwd=PLANTED&passwd=PLANTED", "/p?pwd=REDACTED&passwd=REDACTED")]
#[case(
    "https://b.s3.amazonaws.com/o?X-Amz-Credential=AKID%2F20260101%2Fus-east-1&X-Amz-Signature=PLANTED&X-Amz-Expires=60",
    "https://b.s3.amazonaws.com/o?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=60"
)]
#[case(
    "https://storage.googleapis.com/b/o?X-Goog-Credential=PLANTED&X-Goog-Signature=PLANTED",
    "https://storage.googleapis.com/b/o?X-Goog-Credential=REDACTED&X-Goog-Signature=REDACTED"
)]
#[case(
    "/p?session_id=PLANTED&sessid=PLANTED&sid=PLANTED",
    "/p?session_id=REDACTED&sessid=REDACTED&sid=REDACTED"
)]
#[case(
    "/p?PHPSESSID=PLANTED&JSESSIONID=PLANTED&ASP.NET_SessionId=PLANTED",
    "/p?PHPSESSID=REDACTED&JSESSIONID=REDACTED&ASP.NET_SessionId=REDACTED"
)]
// `;` between pairs, and matrix parameters in the path.
#[case("/p?a=1;api_key=PLANTED;b=2", "/p?a=1;api_key=REDACTED;b=2")]
#[case(
    "https://x.com/app;jsessionid=PLANTED/page;v=2?x=1",
    "https://x.com/app;jsessionid=REDACTED/page;v=2?x=1"
)]
// Names percent-encoded (wholly or in part), `+` for `_`-less spellings.
#[case("/p?api%2Dkey=PLANTED", "/p?api%2Dkey=REDACTED")]
#[case("/p?%61pi_key=PLANTED", "/p?%61pi_key=REDACTED")]
#[case("/p?api%5fKey=PLANTED", "/p?api%5fKey=REDACTED")]
#[case("/p?api%255Fkey=PLANTED", "/p?api%255Fkey=REDACTED")]
#[case("/p?a=1&api%5fKey%3DPLANTED", "/p?a=1&REDACTED")]
#[case("/p?api+key=PLANTED", "/p?api+key=REDACTED")]
// Fragments parsed like a query.
#[case(
    "https://app.x/cb#access_token=PLANTED&token_type=bearer&id_token=PLANTED",
    "https://app.x/cb#access_token=REDACTED&token_type=bearer&id_token=REDACTED"
)]
#[case(
    "https://app.x/#/login?token=PLANTED",
    "https://app.x/#/login?token=REDACTED"
)]
#[case("https://app.x/docs#section-2", "https://app.x/docs#section-2")]
// Keys in paths.
#[case(
    "https://api.telegram.org/bot123456789:AAHk-PLANTED_x/sendMessage?chat_id=42",
    "https://api.telegram.org/botREDACTED/sendMessage?chat_id=42"
)]
#[case(
    "https://api.telegram.org/file/bot123:PLANTED/photos/1.jpg",
    "https://api.telegram.org/file/botREDACTED/photos/1.jpg"
)]
#[case(
    "https://hooks.slack.com/services/T0001ABC/B0002DEF/PLANTEDxyz",
    "https://hooks.slack.com/services/T0001ABC/B0002DEF/REDACTED"
)]
#[case(
    "https://hooks.slack.com/triggers/T0001/123/PLANTED",
    "https://hooks.slack.com/triggers/T0001/123/REDACTED"
)]
#[case(
    "/services/T0001ABC/B0002DEF/PLANTEDxyz",
    "/services/T0001ABC/B0002DEF/REDACTED"
)]
#[case(
    "https://discord.com/api/webhooks/123456789/PLANTED-tok_en",
    "https://discord.com/api/webhooks/123456789/REDACTED"
)]
#[case(
    "https://discordapp.com/api/v10/webhooks/1/PLANTED?wait=true",
    "https://discordapp.com/api/v10/webhooks/1/REDACTED?wait=true"
)]
// Userinfo with and without a scheme.
#[case("user:PLANTED@db.example.com/x", "REDACTED@db.example.com/x")]
#[case("//user:PLANTED@host/p", "//REDACTED@host/p")]
#[case("postgres://u:PLANTED@db:5432/x", "postgres://REDACTED@db:5432/x")]
// A URL percent-encoded in a parameter, and keys of known shapes in any parameter.
#[case(
    "https://api.scraperapi.com/?api_key=PLANTED&url=https%3A%2F%2Fx.com%2F%3Ftoken%3DPLANTED",
    "https://api.scraperapi.com/?api_key=REDACTED&url=https%3A%2F%2Fx.com%2F%3Ftoken%3DREDACTED"
)]
#[case(
    "https://x.com/p?q=sk-proj-PLANTED0123456789abcd",
    "https://x.com/p?q=REDACTED"
)]
#[case(
    "https://x.com/v1/sk-or-v1-PLANTED0123456789abcd/x",
    "https://x.com/v1/REDACTED/x"
)]
// Ordinary URLs stay as they are.
#[case(
    "https://openrouter.ai/settings/credits",
    "https://openrouter.ai/settings/credits"
)]
#[case(
    "https://llm.example.com/key/info?page=2&max_tokens=5",
    "https://llm.example.com/key/info?page=2&max_tokens=5"
)]
#[case("/users/@me/guilds", "/users/@me/guilds")]
fn secrets_in_urls_are_redacted(#[case] url: &str, #[case] want: &str) {
    assert_eq!(
        redact_url(url),
        want,
        "only secret values go; names, other params and the rest of the URL stay"
    );
    assert_eq!(redact_url(want), want, "redacting twice changes nothing");
}

#[rstest]
#[case(
    "Forbidden: key=PLANTED is not valid",
    "Forbidden: key=REDACTED is not valid"
)]
#[case("a=1;sid=PLANTED&x=2", "a=1;sid=REDACTED&x=2")]
#[case("api_key = PLANTED", "api_key = REDACTED")]
#[case("X-Api-Key: 7f3e9c2a41b8", "X-Api-Key: REDACTED")]
#[case("password: hunter2", "password: REDACTED")]
#[case("clientSecret:PLANTED", "clientSecret:REDACTED")]
#[case("Authorization: Bearer PLANTED", "Authorization: Bearer REDACTED")]
#[case("authorization: token abc", "authorization: token REDACTED")]
#[case("sent bearer PLANTED.x-1 upstream", "sent bearer REDACTED upstream")]
#[case("Basic dXNlcjpwYXNz", "Basic REDACTED")]
#[case(r#"{"api_key":"PLANTED","n":1}"#, r#"{"api_key":"REDACTED","n":1}"#)]
#[case(r#"{"accessKey": "PLANT\"ED"}"#, r#"{"accessKey": "REDACTED"}"#)]
#[case("{'apiKey': 'PLANTED'}", "{'apiKey': 'REDACTED'}")]
#[case(
    r#"body: "{\"token\":\"PLANTED\",\"ok\":false}""#,
    r#"body: "{\"token\":\"REDACTED\",\"ok\":false}""#
)]
#[case(
    "see https://x.com/?api_key=PLANTED.",
    "see https://x.com/?api_key=REDACTED."
)]
#[case(
    r#"{"resource":"https://api.x/?api_key=PLANTED"}"#,
    r#"{"resource":"https://api.x/?api_key=REDACTED"}"#
)]
#[case("GET /v1?token=PLANTED HTTP/1.1", "GET /v1?token=REDACTED HTTP/1.1")]
#[case(
    "connect user:PLANTED@db.example.com failed",
    "connect REDACTED@db.example.com failed"
)]
#[case("use sk-ant-api03-PLANTED0123456789 now", "use REDACTED now")]
#[case("(sk-or-v1-0123456789abcdefPLANTED)", "(REDACTED)")]
#[case("sk-proj-PLANTED0123456789abcd", "REDACTED")]
#[case("k AIzaSyA-PLANTED1234567890abcdefghijklm.", "k REDACTED.")]
#[case("xoxb-1234-5678-PLANTEDabc", "REDACTED")]
#[case("xoxp-1234-PLANTED, xoxa-2-PLANTEDzzzz", "REDACTED, REDACTED")]
#[case("token ghp_PLANTED0123456789abcdefghij!", "token REDACTED!")]
#[case("AKIAIOSFODNN7EXAMPLE", "REDACTED")]
#[case(
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTEFOVEVEIn0.c2lnbmF0dXJl ok",
    "jwt REDACTED ok"
)]
#[case("key= passwd: PLANTED", "key= passwd: REDACTED")]
#[case(
    r#"api_key = "apiSecret": "PLANTED""#,
    r#"api_key = "apiSecret": "REDACTED""#
)]
#[case("passwd: lettersonlylongsecret", "passwd: REDACTED")]
#[case("clé key=PLANTED — é", "clé key=REDACTED — é")]
#[case("日本key=PLANTED", "日本key=REDACTED")]
fn secrets_in_text_are_redacted(#[case] text: &str, #[case] want: &str) {
    assert_eq!(
        redact_text(text),
        want,
        "the secret goes, the words around it stay"
    );
    assert_eq!(redact_text(want), want, "redacting twice changes nothing");
}

#[rstest]
#[case("Monthly API calls limit reached: 1000")]
#[case("You exceeded your current quota, please check your plan and billing details.")]
#[case("Invalid API key provided. You can find your API key at https://platform.openai.com/account/api-keys.")]
#[case("Incorrect API key provided: sk-abc***xyz.")]
#[case("OpenRouter · main key: balance is low")]
#[case("The key: check it at https://openrouter.ai/keys")]
#[case("Requests are being refused (HTTP 402): top up to resume.")]
#[case("error code: 402, code=insufficient_quota")]
#[case("Bearer token missing; Basic plan exceeded")]
#[case("insufficient_quota")]
#[case("monkey=1&q=key")]
#[case("task-1234567890abcdefghijklmnop")]
#[case("max_tokens=4096 tokens=12 keys=3")]
#[case("retry at 12:30:45, mail bob@example.com")]
#[case("Key::new failed")]
#[case("résumé: ünïcödé ✓ \u{202e}evil")]
#[case("")]
fn ordinary_text_is_unchanged(#[case] text: &str) {
    assert_eq!(
        redact_text(text),
        text,
        "nothing secret here, so nothing changes"
    );
}

#[test]
fn secret_names_cover_every_spelling() {
    for name in [
        "api_key",
        "API-KEY",
        "apiKey",
        "APIKey",
        "x-api-key",
        "xi-api-key",
        "accessKey",
        "access_key",
        "secretKey",
        "clientSecret",
        "client_secret",
        "apiSecret",
        "appKey",
        "pwd",
        "passwd",
        "password",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "X-Goog-Credential",
        "session_id",
        "sessionId",
        "sessid",
        "sid",
        "PHPSESSID",
        "JSESSIONID",
        "ASP.NET_SessionId",
        "api%5Fkey",
        "api%2Dkey",
        "%61%70%69%5f%6b%65%79",
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
    ] {
        assert!(is_secret(name), "`{name}` names a secret");
    }
    for name in [
        "monkey",
        "max_tokens",
        "tokens",
        "code",
        "url",
        "page",
        "model",
        "payTo",
        "resource",
        "Content-Type",
        "Accept",
        "X-Request-Id",
    ] {
        assert!(!is_secret(name), "`{name}` is not a secret name");
    }
    assert!(
        is_secret_param("code"),
        "an OAuth code in a URL is a secret"
    );
}

#[test]
fn json_secrets_are_redacted_at_every_depth() {
    let mut v = json!({
        "x402Version": 1,
        "code": "insufficient_funds",
        "token": "PLANTED-1",
        "accepts": [{
            "scheme": "exact",
            "payTo": "0xabc",
            "resource": "https://api.x/?api_key=PLANTED-2",
            "description": "pay with Bearer PLANTED3x",
            "extra": {"clientSecret": {"nested": "PLANTED-4"}, "name": "USDC"}
        }],
        "sk-proj-PLANTED0123456789abcd": 1,
        "empty_token": null
    });
    let mut deep = json!("PLANTED-deep");
    for _ in 0..100 {
        deep = json!([deep]);
    }
    v["deep"] = deep;
    redact_json(&mut v);
    let text = v.to_string();
    assert!(
        !text.contains("PLANTED"),
        "every planted key is gone: {text}"
    );
    assert_eq!(
        v["code"], "insufficient_funds",
        "an error code is not a secret"
    );
    assert_eq!(v["accepts"][0]["payTo"], "0xabc", "payment details stay");
    assert_eq!(v["accepts"][0]["extra"]["name"], "USDC");
    assert_eq!(
        v["accepts"][0]["resource"], "https://api.x/?api_key=REDACTED",
        "a URL in a string is redacted like any URL"
    );
    assert!(v["empty_token"].is_null(), "nothing to hide in a null");
}

fn event() -> CliffEvent {
    CliffEvent {
        id: None,
        account_id: None,
        provider: Some("openrouter".into()),
        occurred_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000),
        origin: EventOrigin::Log,
        outcome: Outcome::OutOfCredit,
        status: Some(402),
        method: Some("GET".into()),
        host: Some("api.x".into()),
        url: None,
        code: None,
        message: None,
        quota: None,
        payment: None,
        log_file_id: None,
        byte_offset: None,
    }
}

#[test]
fn every_field_of_an_event_is_redacted() {
    let mut e = CliffEvent {
        url: Some("https://api.x/v1?key=PLANTED1".into()),
        code: Some("bad key=PLANTED2".into()),
        message: Some("echo: Authorization: Bearer PLANTED3".into()),
        quota: Some("token=PLANTED4".into()),
        payment: Some(json!({"uri": "https://api.x/?api_key=PLANTED5"})),
        ..event()
    };
    redact_event(&mut e);
    let text = serde_json::to_string(&e).unwrap_or_default();
    assert!(
        !text.is_empty() && !text.contains("PLANTED"),
        "no field keeps its key: {text}"
    );
    let again = {
        let mut x = e.clone();
        redact_event(&mut x);
        x
    };
    assert_eq!(again, e, "redacting an event twice changes nothing");
}

/// The leaks issue 11 found: a key echoed inside a 402 body (x402 `resource`) and in a
/// plain-text error body. Classified as the poller and the log reader do, inserted and listed
/// back: the key is in no stored column. Before the redactor ran in `insert`, both were stored
/// verbatim.
#[tokio::test]
async fn keys_echoed_in_bodies_are_not_stored() {
    let pool = crate::db::open_in_memory().await.expect("in-memory store");
    let x402 = json!({
        "x402Version": 1,
        "error": "payment required",
        "accepts": [{"scheme": "exact", "network": "base", "maxAmountRequired": "10000",
                     "resource": "https://api.x/?api_key=PLANTED_X402", "payTo": "0xabc"}]
    })
    .to_string();
    let cases: [(u16, &[u8]); 2] = [
        (402, x402.as_bytes()),
        (403, b"Forbidden: key=PLANTED_403 is not allowed here"),
    ];
    for (status, body) in cases {
        let c = classify(&Observation {
            provider: None,
            host: Some("api.x"),
            status,
            headers: &[],
            request_headers: &[],
            body,
        });
        let raw = format!("{:?}{:?}", c.message, c.payment);
        assert!(
            raw.contains("PLANTED"),
            "the classifier keeps what the body says, so the store must redact: {raw}"
        );
        let e = CliffEvent {
            code: c.code,
            message: c.message,
            quota: c.quota,
            payment: c.payment,
            status: Some(i64::from(status)),
            ..event()
        };
        cliff_events::insert(&pool, &e).await.expect("insert");
    }
    let listed = cliff_events::list(&pool, &Filter::default())
        .await
        .expect("list");
    assert_eq!(listed.len(), 2, "both events are stored");
    let text = serde_json::to_string(&listed).unwrap_or_default();
    assert!(
        !text.is_empty() && !text.contains("PLANTED"),
        "no stored column holds the key: {text}"
    );
    let stored: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT message, payment FROM cliff_events")
            .fetch_all(&pool)
            .await
            .expect("raw rows");
    assert!(
        stored
            .iter()
            .all(|(m, p)| !format!("{m:?}{p:?}").contains("PLANTED")),
        "the raw rows hold no key either: {stored:?}"
    );
    assert!(
        text.contains("https://api.x/?api_key=REDACTED") && text.contains("key=REDACTED"),
        "what is not secret stays readable: {text}"
    );
}

/// `logs::request_event` feeds previews that are never stored, so it redacts too.
#[test]
fn events_built_from_log_lines_are_redacted_before_storing() {
    let req = crate::logs::Request {
        status: 403,
        url: Some("https://api.x/v1/?apikey=PLANTED_URL".into()),
        body: Some(b"Forbidden: token=PLANTED_BODY".to_vec()),
        ..Default::default()
    };
    let e = crate::logs::request_event(&req, event().occurred_at).expect("a 403 is an event");
    let text = serde_json::to_string(&e).unwrap_or_default();
    assert!(
        !text.is_empty() && !text.contains("PLANTED"),
        "a preview shows no key: {text}"
    );
}

const NAMES: &[&str] = &[
    "api_key",
    "apikey",
    "X-Api-Key",
    "token",
    "access_token",
    "key",
    "password",
    "accessKey",
    "secretKey",
    "clientSecret",
    "apiSecret",
    "appKey",
    "pwd",
    "passwd",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Goog-Signature",
    "X-Goog-Credential",
    "session_id",
    "sessid",
    "sid",
    "PHPSESSID",
    "JSESSIONID",
    "ASP.NET_SessionId",
];

const FILLER: &[&str] = &[
    "error",
    "the",
    "request",
    "failed",
    "é",
    "日本語",
    "(HTTP",
    "402)",
    "—",
    "quota",
    "balance",
    "is",
    "low",
    "plan",
    "\u{202e}",
    "€5",
    "🙂",
    "\t",
    "\n",
    "x=1",
    "a:b",
];

fn random_key(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let len = rng.usize(16..40);
    let mut k: String = (0..len)
        .map(|i| {
            // No leading `-`/`_`, so the key starts on a word character like real ones do.
            let n = if i == 0 { 62 } else { ALPHABET.len() };
            char::from(ALPHABET[rng.usize(..n)])
        })
        .collect();
    k.push(char::from(b'0' + rng.u8(..10)));
    k
}

fn encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The key planted in one of the forms the redactor knows.
fn planted(rng: &mut fastrand::Rng, key: &str) -> String {
    let name = NAMES[rng.usize(..NAMES.len())];
    match rng.usize(..24) {
        0 => format!("{name}={key}"),
        1 => format!("{name}: {key}"),
        2 => format!("\"{name}\": \"{key}\""),
        3 => format!("{name}:{key}"),
        4 => format!("https://h.example/p?a=1&{name}={key}&b=2"),
        5 => format!("https://h.example/p?a=1;{name}={key}"),
        6 => format!("https://h.example/cb#{name}={key}&state=s"),
        7 => format!("https://h.example/app;{name}={key}/x?y=1"),
        8 => format!("https://h.example/?{}={key}", encode_all(name)),
        9 => format!("Bearer {key}"),
        10 => format!("Authorization: Bearer {key}"),
        11 => format!("https://user:{key}@h.example/"),
        12 => format!("user:{key}@h.example"),
        13 => format!("sk-{key}"),
        14 => format!("sk-ant-api03-{key}"),
        15 => format!("sk-or-v1-{key}"),
        16 => format!("AIza{key}{key}"),
        17 => format!("xoxb-{key}"),
        18 => format!("ghp_{key}"),
        19 => format!("https://api.telegram.org/bot{}:{key}/getMe", rng.u32(1..)),
        20 => format!("https://hooks.slack.com/services/T01/B02/{key}"),
        21 => format!("https://discord.com/api/webhooks/{}/{key}", rng.u64(1..)),
        22 => format!(
            "https://a.example/?url={}",
            url::form_urlencoded::byte_serialize(
                format!("https://b.example/?{name}={key}").as_bytes()
            )
            .collect::<String>()
        ),
        _ => format!("{{\\\"{name}\\\":\\\"{key}\\\"}}"),
    }
}

/// Property: whatever surrounds it, a key planted in a known form never survives, and the
/// result is stable under a second pass.
#[test]
fn no_planted_key_survives() {
    let mut rng = fastrand::Rng::with_seed(0x1102);
    for round in 0..5000 {
        let mut text = String::new();
        let mut keys = Vec::new();
        for _ in 0..rng.usize(1..4) {
            for _ in 0..rng.usize(0..4) {
                text.push_str(FILLER[rng.usize(..FILLER.len())]);
                text.push(' ');
            }
            let key = random_key(&mut rng);
            text.push_str(&planted(&mut rng, &key));
            text.push_str([" ", ", ", ". ", "\n", ") "][rng.usize(..5)]);
            keys.push(key);
        }
        let out = redact_text(&text);
        for k in &keys {
            assert!(
                !out.contains(k.as_str()),
                "round {round}: key {k} survived in {out:?} (from {text:?})"
            );
        }
        assert_eq!(
            redact_text(&out),
            out,
            "round {round}: a second pass changes nothing"
        );
        let mut v = serde_json::Value::String(text.clone());
        redact_json(&mut v);
        assert!(
            keys.iter().all(|k| !v.to_string().contains(k.as_str())),
            "round {round}: JSON strings are redacted like text"
        );
    }
}

/// Property: any text, however broken, is redacted without a panic.
#[test]
fn arbitrary_text_never_panics() {
    const PIECES: &[&str] = &[
        "%", "%2", "%5F", "=", ":", "@", "/", "//", "?", "#", ";", "&", "\"", "\\", "'", "é", "日",
        "a", "K", "1", " ", "\n", "+", ".", "-", "key", "bot1", "Bearer", "Basic", "https://",
        "sk-", "webhooks", "services", "T", "B", "\u{0}", "\u{7f}", "\u{9b}",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..20_000 {
        let s: String = (0..rng.usize(0..60))
            .map(|_| PIECES[rng.usize(..PIECES.len())])
            .collect();
        let _ = redact_text(&s);
        let _ = redact_url(&s);
        let bytes: Vec<u8> = (0..rng.usize(0..40)).map(|_| rng.u8(..)).collect();
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = redact_text(&lossy);
        let _ = redact_url(&lossy);
    }
}

/// Adversarial inputs stay linear: 200 KB of each finishes at once, where a rescan per word
/// would take minutes.
#[test]
fn adversarial_inputs_stay_linear() {
    let started = std::time::Instant::now();
    for unit in [
        "a:",
        "key=",
        "key: ",
        "Bearer ",
        "%",
        "\"key\":\"",
        "https://",
        "x:y",
        "a@",
        "bot1:",
        "/",
        "?a=",
        ";",
        "sk-",
    ] {
        let s = unit.repeat(200_000 / unit.len());
        let _ = redact_text(&s);
        let _ = redact_url(&s);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "redaction is linear in the input (took {:?})",
        started.elapsed()
    );
}

/// The other stores of outside text: an account's state message (poll errors quote the
/// provider), alert text, and a payment link. Before the redactor ran there, each kept the key.
#[tokio::test]
async fn state_messages_alerts_and_payment_links_hold_no_key() {
    use crate::db::{accounts, alerts};
    let pool = crate::db::open_in_memory().await.expect("in-memory store");
    let now = event().occurred_at;
    let id = crate::db::test_rows::openrouter_account(&pool, now).await;
    accounts::set_state(
        &pool,
        id,
        crate::model::AccountState::Error,
        Some("OpenRouter refused the request (HTTP 403: \"key=PLANTED_STATE\")"),
        now,
    )
    .await
    .expect("set_state");
    let stored = accounts::get(&pool, id).await.expect("get").account;
    let msg = stored.state_message.unwrap_or_default();
    assert!(
        msg.contains("key=REDACTED") && !msg.contains("PLANTED"),
        "the state message keeps its words, not the key: {msg}"
    );

    alerts::insert(
        &pool,
        &alerts::NewAlert {
            account_id: Some(id),
            kind: "out_of_credit",
            severity: "critical",
            title: "OpenRouter · sk-proj-PLANTED0123456789abcd: out of credit",
            body: "Requests are being refused: see https://x.example/?token=PLANTED_BODY",
            now,
            subject: None,
        },
    )
    .await
    .expect("insert alert");
    let listed = alerts::list(&pool, false).await.expect("list alerts");
    let text = format!(
        "{:?}",
        listed
            .iter()
            .map(|a| (&a.title, &a.body))
            .collect::<Vec<_>>()
    );
    assert!(
        listed.len() == 1 && !text.contains("PLANTED"),
        "alert text is stored redacted: {text}"
    );

    let link = crate::alerts::payment_link("https://pay.example.com/i?n=1&api_key=PLANTED", None)
        .expect("an https link is shown");
    assert_eq!(
        link.url, "https://pay.example.com/i?n=1&api_key=REDACTED",
        "the link is shown without the key in its query"
    );
}

/// `error_from` used to scrub only the account's own key, verbatim; a body that echoes
/// another key, or this one encoded, was quoted into the error (and from there into the
/// state message and the poll result).
#[tokio::test]
async fn poll_errors_quote_no_key() {
    let pool = crate::db::open_in_memory().await.expect("in-memory store");
    let now = event().occurred_at;
    let id = crate::db::test_rows::openrouter_account(&pool, now).await;
    let account = crate::db::accounts::get(&pool, id)
        .await
        .expect("get")
        .account;
    let secret = crate::secrets::Secret::new("sk-or-v1-OWNKEY0123456789abcdef").expect("a key");
    let info = crate::providers::find("openrouter").expect("openrouter");
    let ctx = crate::providers::PollContext {
        info,
        account: &account,
        secret: Some(&secret),
        base_url: info.default_base_url,
        now,
    };
    let body = json!({"error": {"message":
        "Invalid key sk-or-v1-OWNKEY0123456789abcdef (also tried sk-or-v1-PLANTED0123456789abcd, token=PLANTED_T)",
        "code": 401}})
    .to_string();
    let c = classify(&Observation {
        provider: Some("openrouter"),
        host: None,
        status: 401,
        headers: &[],
        request_headers: &[],
        body: body.as_bytes(),
    });
    let e = ctx.error_from(401, c);
    let text = format!("{e} {:?}", e.classification().map(|c| &c.message));
    assert!(
        !text.contains("PLANTED") && !text.contains("OWNKEY"),
        "no key, the account's own or another, is quoted: {text}"
    );
    assert!(
        text.contains("Invalid key"),
        "the provider's words stay: {text}"
    );
}

/// Property: text before a planted key cannot shield it, not even text that ends like the
/// start of a pair (`key= `, `Bearer `, `passwd: `, an open quote); and a key of letters only
/// (no digit to give it away) still goes.
#[test]
fn no_prefix_shields_a_planted_key() {
    const PREFIXES: &[&str] = &[
        "key=",
        "key:",
        "key: \"",
        "\"token\":\"",
        "Bearer",
        "Basic",
        "Authorization:",
        "Authorization: Bearer",
        "passwd:",
        "api_key =",
        "user:",
        "https://x.example/?a=",
        "sid=\\\"",
        "é",
        "\u{1b}[0m",
        "Key::",
        "\"",
        "'",
        "(",
        "a@",
        "%",
        "%5",
        "\\",
    ];
    const FORMS: &[&str] = &[
        "https://api.scraperapi.com/?api_key={K}&url=x",
        "https://x.example/p?a=1;secretKey={K}",
        "https://x.example/cb#access_token={K}&state=1",
        "https://x.example/p?X-Amz-Signature={K}",
        "https://x.example/p?%61pi%5Fkey={K}",
        "https://api.telegram.org/bot123456:{K}/sendMessage",
        "https://hooks.slack.com/services/T0001/B0002/{K}",
        "https://discord.com/api/webhooks/123/{K}",
        "Authorization: Bearer {K}",
        "\"apiSecret\": \"{K}\"",
        "clientSecret={K}",
        "passwd: {K}",
        "https://user:{K}@x.example/",
    ];
    let mut rng = fastrand::Rng::with_seed(0x11_07);
    for round in 0..20_000 {
        let letters_only = rng.bool();
        let key: String = (0..rng.usize(24..40))
            .map(|_| {
                if letters_only {
                    rng.lowercase()
                } else {
                    rng.alphanumeric()
                }
            })
            .collect();
        let prefix: String = (0..rng.usize(0..3))
            .map(|_| PREFIXES[rng.usize(..PREFIXES.len())])
            .collect::<Vec<_>>()
            .join(if rng.bool() { " " } else { "" });
        let form = FORMS[rng.usize(..FORMS.len())].replace("{K}", &key);
        let text = format!("{prefix} {form} {}", PREFIXES[rng.usize(..PREFIXES.len())]);
        let out = redact_text(&text);
        assert!(
            !out.contains(&key),
            "round {round}: {form:?} survived after {prefix:?}: {out:?}"
        );
    }
}

#[test]
fn a_quoted_key_followed_by_a_colon_is_still_redacted() {
    // Found by the `redact` fuzz target: hostile text after the value (` : 401`) made the key
    // look like the next pair's name, and it survived.
    let key = "6g0wxsgikxm7i6g9i0wxsgi9i12j231i6g0y5sgi";
    let text = format!(" \"apiSecret\": \"{key}\" : 401, \"body\": {{\"401, \"{{\"status\": 429");
    let out = redact_text(&text);
    assert!(!out.contains(key), "{out}");
    // The case the rule exists for still holds: a quoted secret name is the next pair's name.
    let out = redact_text(&format!("key = \"apiSecret\": \"{key}\""));
    assert!(!out.contains(key), "{out}");
}
