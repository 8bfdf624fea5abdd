-- Parser memory a log file needs across restarts (Codex's last cumulative token total and
-- model), as JSON; written in the same transaction as the file's byte offset.
ALTER TABLE log_files ADD COLUMN memory TEXT;
