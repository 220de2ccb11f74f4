-- 0013: the console's fees and statistics (docs/console.md, "Fees, guarantee fund and
-- network health").
-- Fee policy versions take effect at a date and are never retroactive. The version in force
-- at a time is the latest whose `effective_from` is at or before it; the first version has
-- none (in force from the beginning). Versions already made took effect when they were
-- made, as before.
ALTER TABLE policies ADD COLUMN effective_from TEXT;
ALTER TABLE policies ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN reason TEXT NOT NULL DEFAULT '';
UPDATE policies SET effective_from = created_at
    WHERE version > (SELECT MIN(version) FROM policies);

-- Defense in depth: versions are append-only, and each takes effect no earlier than the
-- ones before it (the store also refuses a date before now, with the application's clock).
CREATE TRIGGER policies_no_update BEFORE UPDATE ON policies
BEGIN
    SELECT RAISE(ABORT, 'troc: policies is append-only (UPDATE refused)');
END;
CREATE TRIGGER policies_no_delete BEFORE DELETE ON policies
BEGIN
    SELECT RAISE(ABORT, 'troc: policies is append-only (DELETE refused)');
END;
CREATE TRIGGER policies_in_order BEFORE INSERT ON policies
WHEN (NEW.effective_from IS NULL AND EXISTS (SELECT 1 FROM policies))
    OR NEW.effective_from < (SELECT MAX(effective_from) FROM policies)
BEGIN
    SELECT RAISE(ABORT, 'troc: policy versions must take effect in order');
END;

-- Network health (docs/console.md): per account and calendar month (UTC, 'YYYY-MM'), the net
-- of its postings and its trades (payments and captured orders not reversed: sales, their
-- number, purchases). Derived data, kept up to date from the ledger incrementally: every
-- transaction with `seq` up to `stats_state.seq_through` is counted exactly once, so a
-- report reads one row per account and month instead of the postings.
CREATE TABLE stats_months (
    month TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    net BIGINT NOT NULL,
    sales BIGINT NOT NULL,
    sales_count BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    PRIMARY KEY (month, account_id)
);
CREATE TABLE stats_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Transactions with a seq up to this one are counted.
    seq_through BIGINT NOT NULL,
    -- Months before this one ('YYYY-MM') are not kept.
    month_floor TEXT NOT NULL
);
