-- The scheduler's memory, kept across restarts so that a restart polls only what is due: when
-- each account is polled next, before when no request may be sent at all (the provider's
-- minimum interval, a Retry-After), the count of consecutive transient failures (backoff), and
-- whether a rejected key waits for the account to be edited.
CREATE TABLE poll_schedule (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    next_due_at     TEXT    NOT NULL,
    hold_until      TEXT    NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    waiting         INTEGER NOT NULL DEFAULT 0,
    -- accounts.updated_at when this row was written: a later value means the user edited the
    -- account (a new key), which ends a wait.
    seen_updated_at TEXT
);
