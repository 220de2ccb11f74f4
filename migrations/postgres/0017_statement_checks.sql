-- 0017: the write path's per-row checks on PostgreSQL become one check per statement, and
-- accounts can no longer be deleted or renumbered (both backends). See docs/storage.md,
-- "Defense in depth", and docs/performance.md for what each per-row check cost.
--
-- The write path inserts a batch's transactions in one statement and their postings in
-- another. Measured on 640 transactions and 1,280 postings: the period-lock row trigger
-- took 3 ms (its plpgsql and one query per row), and the two foreign keys of `postings`
-- 10 ms (two SPI lookups and row locks per posting). The same rules, checked once per
-- statement over the statement's new rows (transition tables), take under 4 ms together.

-- 1. Nothing dated inside a locked period: one check per INSERT statement, over its rows.
DROP TRIGGER transactions_not_in_locked_period ON transactions;
DROP FUNCTION troc_not_in_locked_period();
CREATE FUNCTION troc_none_in_locked_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_locked DATE;
    locked_end TIMESTAMPTZ;
    bad_id BIGINT;
    bad_time TIMESTAMPTZ;
BEGIN
    SELECT through, COALESCE(ends_at, (through + 1)::timestamp AT TIME ZONE 'UTC')
        INTO last_locked, locked_end
        FROM period_locks ORDER BY through DESC LIMIT 1;
    IF locked_end IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT id, time INTO bad_id, bad_time FROM new_transactions
        WHERE time < locked_end ORDER BY time, id LIMIT 1;
    IF bad_id IS NOT NULL THEN
        RAISE EXCEPTION 'troc: transaction % is dated %, inside the period locked through %',
            bad_id, bad_time, last_locked
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transactions_not_in_locked_period AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION troc_none_in_locked_period();

-- 2. Every posting belongs to an existing transaction with as many slots as the posting
-- says, and to an existing account: what the two foreign keys checked, once per statement.
-- Neither side can go away afterwards: transactions are append-only (0002) and accounts
-- are never deleted nor renumbered (3. below), so the foreign keys' row locks are not
-- needed either. The unique (id, posting_count) key existed only for the foreign key.
ALTER TABLE postings DROP CONSTRAINT postings_tx_id_posting_count_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_account_id_fkey;
ALTER TABLE transactions DROP CONSTRAINT transactions_id_posting_count_key;
CREATE FUNCTION troc_postings_belong() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad RECORD;
BEGIN
    SELECT p.tx_id, p.n, p.posting_count, p.account_id INTO bad
        FROM new_postings p
        LEFT JOIN transactions t ON t.id = p.tx_id AND t.posting_count = p.posting_count
        LEFT JOIN accounts a ON a.id = p.account_id
        WHERE t.id IS NULL OR a.id IS NULL
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'troc: posting % of transaction % (% postings, account %) names no such transaction or account',
            bad.n, bad.tx_id, bad.posting_count, bad.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER postings_belong AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION troc_postings_belong();

-- 3. Accounts are closed, never deleted, and keep their id: postings, holds and the
-- records of limit and status changes point at them.
CREATE FUNCTION troc_accounts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'troc: accounts are never deleted nor renumbered (% refused); close the account instead',
        TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION troc_accounts_kept();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION troc_accounts_kept();
CREATE TRIGGER accounts_no_renumber BEFORE UPDATE OF id ON accounts
    FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION troc_accounts_kept();
