-- 0019: an idempotency key goes into one random index, not two (docs/storage.md,
-- "Idempotency"; docs/performance.md, "Tenth look").
--
-- Keys are what clients choose (a UUID, a form's random token), so each new key lands on a
-- random page of every index keyed by it, and every page a batch dirties is written to the
-- WAL at COMMIT. A payment's key went into two such indexes: the `idempotency` table, whose
-- primary key makes keys unique in the database, and the UNIQUE index of
-- `transactions.idempotency_key`, which only repeated that guarantee (every transaction made
-- under a key is written in the same database transaction as the key's `idempotency` row,
-- and nothing looks a transaction up by its key). And `idempotency` was a WITHOUT ROWID
-- table, so the random index was the table itself, 200-byte rows splitting pages often.
--
-- 1. `transactions` is rebuilt without the UNIQUE on `idempotency_key` (the column stays:
--    the audit bundle and the operator's reports show which key made a transaction). SQLite
--    cannot drop a column constraint, so the rows are copied aside, the table dropped,
--    created again and the rows copied back with the same ids, as 0014 did for `users`.
--    The migration runs inside a transaction, where `PRAGMA foreign_keys` cannot change;
--    `defer_foreign_keys` lets the rows that reference transactions (postings, holds,
--    payment_signatures, reversals) wait for the copy back, and their count of violations
--    must be zero at COMMIT. The triggers come back after the copy: the rows were checked
--    when they were first written (and the period-lock trigger would refuse the old ones).
-- 2. `idempotency` becomes a rowid table: rows are appended, and the random index holds
--    only the key.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE transactions_0019 AS SELECT * FROM transactions;
DROP TABLE transactions;
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'fee', 'fund_contribution', 'hold_capture',
        'reversal', 'write_off', 'recovery', 'opening_balance', 'adjustment')),
    time TEXT NOT NULL,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    idempotency_key TEXT,
    reverses INTEGER UNIQUE REFERENCES transactions (id),
    posting_count INTEGER NOT NULL CHECK (posting_count BETWEEN 2 AND 16),
    hash TEXT NOT NULL CHECK (length(hash) = 64)
);
INSERT INTO transactions (id, seq, kind, time, reference, memo, idempotency_key, reverses,
        posting_count, hash)
    SELECT id, seq, kind, time, reference, memo, idempotency_key, reverses, posting_count, hash
    FROM transactions_0019 ORDER BY id;
DROP TABLE transactions_0019;
CREATE INDEX transactions_time_id ON transactions (time, id);

CREATE TRIGGER transactions_no_update BEFORE UPDATE ON transactions
BEGIN
    SELECT RAISE(ABORT, 'troc: transactions is append-only (UPDATE refused)');
END;
CREATE TRIGGER transactions_no_delete BEFORE DELETE ON transactions
BEGIN
    SELECT RAISE(ABORT, 'troc: transactions is append-only (DELETE refused)');
END;
CREATE TRIGGER transactions_balanced AFTER INSERT ON transactions
WHEN (SELECT COUNT(*) FROM postings WHERE tx_id = NEW.id) <> NEW.posting_count
     OR (SELECT COALESCE(SUM(amount), 0) FROM postings WHERE tx_id = NEW.id) <> 0
BEGIN
    SELECT RAISE(ABORT, 'troc: a transaction does not balance');
END;
CREATE TRIGGER transactions_not_in_locked_period BEFORE INSERT ON transactions
WHEN NEW.time < (
    SELECT COALESCE(ends_at, date(through, '+1 day') || 'T00:00:00+00:00')
    FROM period_locks ORDER BY through DESC LIMIT 1
)
BEGIN
    SELECT RAISE(ABORT, 'troc: nothing can be dated inside a locked period');
END;

CREATE TABLE idempotency_0019 (
    key TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    time TEXT NOT NULL
);
INSERT INTO idempotency_0019 (key, fingerprint, result, time)
    SELECT key, fingerprint, result, time FROM idempotency ORDER BY time, key;
DROP TABLE idempotency;
ALTER TABLE idempotency_0019 RENAME TO idempotency;
