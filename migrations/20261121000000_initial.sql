-- Cliffwatch's first schema. Forward-only: never edit this file once it has landed;
-- add a new timestamped migration instead (sqlx checks the checksum of every applied file).
--
-- Times are RFC 3339 UTC text ("2026-11-21T15:16:54.123Z"), which sorts correctly as text.
-- Money and credit amounts are REAL in the unit named beside them.

-- An account is one API key at one provider. The key itself lives in the OS keychain or in an
-- environment variable; only a *reference* to it is stored here (see secrets.rs).
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    provider        TEXT    NOT NULL,
    label           TEXT    NOT NULL UNIQUE,
    base_url        TEXT,
    secret_ref      TEXT    NOT NULL,
    -- at most the last 4 characters, for the UI ("…f3a9"); NULL for env references
    secret_hint     TEXT,
    -- prepaid amount or monthly budget for spend-only providers (OpenAI, Anthropic)
    budget          REAL,
    budget_set_at   TEXT,
    -- provider-specific settings as JSON: Deepgram project id, Twilio SID, a custom spec …
    options         TEXT    NOT NULL DEFAULT '{}',
    -- ok | out_of_credit | invalid_key | error | unknown
    state           TEXT    NOT NULL DEFAULT 'unknown',
    state_message   TEXT,
    poll_interval_s INTEGER,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

-- One reading of a balance / quota endpoint.
CREATE TABLE balance_samples (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    observed_at TEXT    NOT NULL,
    remaining   REAL,
    limit_total REAL,
    used        REAL,
    -- usd | cny | eur | credits | characters | searches | requests | tokens | …
    unit        TEXT    NOT NULL,
    resets_at   TEXT,
    -- 1 when remaining jumped up since the previous sample: a top-up or a period reset, not spend
    is_topup    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX balance_samples_account_time ON balance_samples(account_id, observed_at);

-- Spend or token usage, from provider cost reports or from agent logs (Claude Code, Codex).
CREATE TABLE usage_records (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    source_id             INTEGER REFERENCES log_sources(id) ON DELETE SET NULL,
    occurred_at           TEXT    NOT NULL,
    provider              TEXT    NOT NULL,
    model                 TEXT,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
    cost                  REAL,
    currency              TEXT,
    -- message id + request id, or file + offset: one usage record per real request
    dedupe_key            TEXT    NOT NULL UNIQUE
);
CREATE INDEX usage_records_time ON usage_records(occurred_at);

-- A 402 or a disguised 402 (and other non-success outcomes) seen in a poll or in a log line.
CREATE TABLE cliff_events (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    provider     TEXT,
    occurred_at  TEXT    NOT NULL,
    -- poll | log
    origin       TEXT    NOT NULL,
    -- out_of_credit | rate_limited | unauthorized | forbidden | server_error | bad_response | client_error
    outcome      TEXT    NOT NULL,
    status       INTEGER,
    method       TEXT,
    host         TEXT,
    -- with secrets in the query string redacted
    url          TEXT,
    code         TEXT,
    message      TEXT,
    quota        TEXT,
    -- x402-style payment instructions, parsed, as JSON; untrusted
    payment      TEXT,
    -- log events: the file and byte offset of the line (the dedupe key); NULL for polls
    log_file_id  INTEGER REFERENCES log_files(id) ON DELETE SET NULL,
    byte_offset  INTEGER,
    UNIQUE (log_file_id, byte_offset)
);
CREATE INDEX cliff_events_time ON cliff_events(occurred_at);
CREATE INDEX cliff_events_account ON cliff_events(account_id, occurred_at);

-- A path or glob the user asked Cliffwatch to watch.
CREATE TABLE log_sources (
    id          INTEGER PRIMARY KEY,
    pattern     TEXT    NOT NULL UNIQUE,
    -- scrapy | har | combined | caddy | jsonl | python-http | claude-code | codex | auto
    format      TEXT    NOT NULL,
    -- IANA zone for formats that log local time without an offset; NULL = UTC
    zone        TEXT,
    account_id  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    -- JSON: the JSON-pointer mapping for the jsonl format
    options     TEXT    NOT NULL DEFAULT '{}',
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL
);

-- One concrete file matched by a source, with its identity and how far it has been read.
CREATE TABLE log_files (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES log_sources(id) ON DELETE CASCADE,
    path        TEXT    NOT NULL,
    device      INTEGER,
    inode       INTEGER,
    -- hash of the first bytes: tells a rotated-and-recreated file from the one we read
    head_hash   TEXT,
    byte_offset INTEGER NOT NULL DEFAULT 0,
    size_seen   INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT    NOT NULL,
    UNIQUE (source_id, path)
);

-- Every alert raised, with its state, so that one episode gives one alert.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    -- low_balance | runway_warning | runway_critical | out_of_credit | key_invalid | poll_failing
    kind          TEXT    NOT NULL,
    -- info | warning | critical
    severity      TEXT    NOT NULL,
    -- open | snoozed | resolved
    state         TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    raised_at     TEXT    NOT NULL,
    resolved_at   TEXT,
    snoozed_until TEXT,
    notified_at   TEXT
);
CREATE INDEX alerts_account_kind ON alerts(account_id, kind, state);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
