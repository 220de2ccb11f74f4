-- 0002: the ledger tables, with the database's own defenses (see docs/storage.md).
-- Amounts are INTEGER minor units (cents); times are RFC 3339 TEXT in UTC ("+00:00"), which
-- sort in time order.

-- Ids the store hands out (SQLite has no sequences; a batch takes a block under its write
-- lock).
CREATE TABLE id_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO id_counters (name, value) VALUES ('tx', 0), ('hold', 0);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL
        CHECK (kind IN ('member', 'guarantee_fund', 'fees', 'losses', 'migration')),
    status TEXT NOT NULL CHECK (status IN ('active', 'frozen', 'closed')),
    balance INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
    credit_limit INTEGER NOT NULL CHECK (credit_limit >= 0),
    max_balance INTEGER CHECK (max_balance IS NULL OR max_balance >= 0),
    negative_since TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE ledger_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fund_account INTEGER NOT NULL REFERENCES accounts (id),
    fees_account INTEGER NOT NULL REFERENCES accounts (id),
    losses_account INTEGER NOT NULL REFERENCES accounts (id),
    migration_account INTEGER NOT NULL REFERENCES accounts (id)
);

CREATE TABLE policies (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    policy TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO ledger_head (id, seq) VALUES (1, 0);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'fee', 'fund_contribution', 'hold_capture',
        'reversal', 'write_off', 'recovery', 'opening_balance', 'adjustment')),
    time TEXT NOT NULL,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    reverses INTEGER UNIQUE REFERENCES transactions (id),
    posting_count INTEGER NOT NULL CHECK (posting_count BETWEEN 2 AND 16)
);

-- Postings are written BEFORE their transaction row (the reverse of PostgreSQL): the
-- foreign key to `transactions` is deferred to COMMIT, and the transaction row "seals" them.
CREATE TABLE postings (
    tx_id INTEGER NOT NULL REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
    n INTEGER NOT NULL CHECK (n >= 0 AND n < 16),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount INTEGER NOT NULL CHECK (amount <> 0),
    leg TEXT NOT NULL CHECK (leg IN ('principal', 'commission', 'fund_contribution')),
    time TEXT NOT NULL,
    PRIMARY KEY (tx_id, n)
) WITHOUT ROWID;
CREATE INDEX postings_account_tx ON postings (account_id, tx_id);
CREATE INDEX postings_account_time ON postings (account_id, time);

CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    payer INTEGER NOT NULL REFERENCES accounts (id),
    payee INTEGER NOT NULL REFERENCES accounts (id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    reserved INTEGER NOT NULL CHECK (reserved >= amount),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'captured', 'voided', 'expired')),
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    capture_tx INTEGER REFERENCES transactions (id),
    CHECK ((status = 'captured') = (capture_tx IS NOT NULL))
);
CREATE INDEX holds_open_by_expiry ON holds (expires_at) WHERE status = 'open';
CREATE INDEX holds_payer ON holds (payer);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    time TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE limit_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    credit_limit_before INTEGER NOT NULL,
    credit_limit_after INTEGER NOT NULL CHECK (credit_limit_after >= 0),
    max_balance_before INTEGER,
    max_balance_after INTEGER CHECK (max_balance_after IS NULL OR max_balance_after >= 0),
    below_current_debt BOOLEAN NOT NULL,
    above_new_max BOOLEAN NOT NULL
);
CREATE INDEX limit_changes_account ON limit_changes (account_id, id);

CREATE TABLE status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    status_before TEXT NOT NULL,
    status_after TEXT NOT NULL
);
CREATE INDEX status_changes_account ON status_changes (account_id, id);

-- Defense in depth: what must never happen is refused by the database itself.

-- 1. Postings and transactions are append-only.
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN
    SELECT RAISE(ABORT, 'troc: postings is append-only (UPDATE refused)');
END;
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN
    SELECT RAISE(ABORT, 'troc: postings is append-only (DELETE refused)');
END;
CREATE TRIGGER transactions_no_update BEFORE UPDATE ON transactions
BEGIN
    SELECT RAISE(ABORT, 'troc: transactions is append-only (UPDATE refused)');
END;
CREATE TRIGGER transactions_no_delete BEFORE DELETE ON transactions
BEGIN
    SELECT RAISE(ABORT, 'troc: transactions is append-only (DELETE refused)');
END;

-- 2. A debit never takes a bounded account below minus its credit limit.
CREATE TRIGGER accounts_credit_limit BEFORE UPDATE ON accounts
WHEN NEW.balance < OLD.balance AND NEW.balance < -NEW.credit_limit
     AND NEW.kind NOT IN ('losses', 'migration')
BEGIN
    SELECT RAISE(ABORT, 'troc: an account would go below its credit limit');
END;

-- Accounts are opened at zero: money only moves through postings.
CREATE TRIGGER accounts_open_at_zero BEFORE INSERT ON accounts
WHEN NEW.balance <> 0 OR NEW.pending <> 0
BEGIN
    SELECT RAISE(ABORT, 'troc: an account must be opened with a zero balance');
END;

-- 3. A transaction whose postings do not sum to zero cannot commit. SQLite has no deferred
-- triggers; the closest equivalent is a seal:
--   a. postings reference their transaction through a foreign key deferred to COMMIT, so
--      a posting whose transaction row never comes makes COMMIT fail;
--   b. a posting cannot be added once its transaction row exists (it is sealed);
--   c. inserting the transaction row checks that exactly `posting_count` postings are there
--      and that they sum to zero.
-- Together: every committed posting belongs to a sealed transaction that balanced when it
-- was sealed and cannot change afterwards (append-only).
CREATE TRIGGER postings_before_seal BEFORE INSERT ON postings
WHEN EXISTS (SELECT 1 FROM transactions WHERE id = NEW.tx_id)
BEGIN
    SELECT RAISE(ABORT, 'troc: postings cannot be added to a sealed transaction');
END;
CREATE TRIGGER transactions_balanced AFTER INSERT ON transactions
WHEN (SELECT COUNT(*) FROM postings WHERE tx_id = NEW.id) <> NEW.posting_count
     OR (SELECT COALESCE(SUM(amount), 0) FROM postings WHERE tx_id = NEW.id) <> 0
BEGIN
    SELECT RAISE(ABORT, 'troc: a transaction does not balance');
END;
