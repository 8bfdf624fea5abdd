-- Why a file of a log source could not be read (permission denied, a corrupt or truncated .gz,
-- over a size cap, a parser crash): shown by `cliffwatch logs list` and on the Logs screen, and
-- cleared by the next read that commits. `last_error_stat` is the file's device, inode, size and
-- change times when it failed: while a rescan finds the same, the file costs only a stat (a
-- chmod or a rewrite changes it, and the file is tried again).
ALTER TABLE log_files ADD COLUMN last_error TEXT;
ALTER TABLE log_files ADD COLUMN last_error_at TEXT;
ALTER TABLE log_files ADD COLUMN last_error_stat TEXT;
