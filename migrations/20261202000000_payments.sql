-- Pay-per-call spend: a paid answer (an x402 PAYMENT-RESPONSE that succeeded, an MPP
-- Payment-Receipt, pay-per-crawl's crawler-charged) is a usage record with the amount in `cost`
-- and the asset in `currency`; these say where it was paid and by which protocol. NULL for
-- token usage from agent logs.
ALTER TABLE usage_records ADD COLUMN host TEXT;
ALTER TABLE usage_records ADD COLUMN protocol TEXT;

-- What an alert is about when it is not about one account: the host of an "unpaid payment
-- challenges" alert. One open alert per (account, kind, subject).
ALTER TABLE alerts ADD COLUMN subject TEXT;
