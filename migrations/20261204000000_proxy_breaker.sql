-- The recording proxy's circuit breaker (issue 16), per account and opt-in: while the account is
-- known out of credit the proxy answers its clients with a local 402 instead of forwarding.
ALTER TABLE accounts ADD COLUMN breaker INTEGER NOT NULL DEFAULT 0;
