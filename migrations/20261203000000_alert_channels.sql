-- Alert channels (issue 15): where alerts go besides the desktop. The channel's secret (a webhook
-- or topic URL, a bot token) is never here: `secret_ref` says where it lives (`keychain:<id>`,
-- `env:<VAR>`, or `none` for a local program), as for accounts. `options` holds what is not a
-- secret: a Telegram chat id or Bot API server, a program's path and arguments.
CREATE TABLE channels (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    label        TEXT NOT NULL UNIQUE,
    secret_ref   TEXT NOT NULL,
    secret_hint  TEXT,
    min_severity TEXT NOT NULL DEFAULT 'warning',
    options      TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL
);

-- One row per (alert, channel) that is to be told: pending until it is delivered, retried with
-- capped backoff, failed after too many tries or a refusal that will not change. `payload` is
-- the message as it is sent (redacted), so a retry after a restart says the same thing.
CREATE TABLE alert_deliveries (
    alert_id        INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    payload         TEXT NOT NULL,
    next_attempt_at TEXT,
    last_error      TEXT,
    delivered_at    TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (alert_id, channel_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
