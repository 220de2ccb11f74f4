-- 0010: period locks (accountant exports, docs/exports.md). A locked period is closed for
-- good: nothing may be dated on or before its last day; corrections are new entries in an
-- open period. The lock's time is the entries' validation date (FEC ValidDate).
CREATE TABLE period_locks (
    through DATE PRIMARY KEY,
    locked_at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 254)
);

-- Locks only move forward and are never changed.
CREATE FUNCTION troc_period_locks_increasing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM period_locks WHERE through >= NEW.through) THEN
        RAISE EXCEPTION 'troc: a new period lock must end after the last one (%)', NEW.through
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER period_locks_increasing BEFORE INSERT ON period_locks
    FOR EACH ROW EXECUTE FUNCTION troc_period_locks_increasing();
CREATE TRIGGER period_locks_append_only BEFORE UPDATE OR DELETE ON period_locks
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();

-- The rule itself, on the write path: a transaction dated inside a locked period cannot be
-- inserted.
CREATE FUNCTION troc_not_in_locked_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_locked DATE;
BEGIN
    SELECT MAX(through) INTO last_locked FROM period_locks;
    IF last_locked IS NOT NULL AND (NEW.time AT TIME ZONE 'UTC')::date <= last_locked THEN
        RAISE EXCEPTION 'troc: transaction % is dated %, inside the period locked through %',
            NEW.id, NEW.time, last_locked
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_not_in_locked_period BEFORE INSERT ON transactions
    FOR EACH ROW EXECUTE FUNCTION troc_not_in_locked_period();

-- Exports read transactions in (time, id) order, page by page.
CREATE INDEX transactions_time_id ON transactions (time, id);
