-- The forecast reads one account's logged requests over six weeks (or every linked account's
-- at once); the time-only index would scan every account's records to find them.
CREATE INDEX usage_records_account_time ON usage_records(account_id, occurred_at);
