-- 0010: period locks (accountant exports, docs/exports.md). A locked period is closed for
-- good: nothing may be dated on or before its last day; corrections are new entries in an
-- open period. The lock's time is the entries' validation date (FEC ValidDate).
CREATE TABLE period_locks (
    through TEXT PRIMARY KEY CHECK (length(through) = 10 AND date(through) = through),
    locked_at TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 254)
);

-- Locks only move forward and are never changed.
CREATE TRIGGER period_locks_increasing BEFORE INSERT ON period_locks
WHEN EXISTS (SELECT 1 FROM period_locks WHERE through >= NEW.through)
BEGIN
    SELECT RAISE(ABORT, 'troc: a new period lock must end after the last one');
END;
CREATE TRIGGER period_locks_no_update BEFORE UPDATE ON period_locks
BEGIN
    SELECT RAISE(ABORT, 'troc: period_locks is append-only (UPDATE refused)');
END;
CREATE TRIGGER period_locks_no_delete BEFORE DELETE ON period_locks
BEGIN
    SELECT RAISE(ABORT, 'troc: period_locks is append-only (DELETE refused)');
END;

-- The rule itself, on the write path: a transaction dated inside a locked period cannot be
-- inserted (times are RFC 3339 text in UTC, so the first 10 characters are the UTC date).
CREATE TRIGGER transactions_not_in_locked_period BEFORE INSERT ON transactions
WHEN substr(NEW.time, 1, 10) <= (SELECT MAX(through) FROM period_locks)
BEGIN
    SELECT RAISE(ABORT, 'troc: nothing can be dated inside a locked period');
END;

-- Exports read transactions in (time, id) order, page by page.
CREATE INDEX transactions_time_id ON transactions (time, id);
