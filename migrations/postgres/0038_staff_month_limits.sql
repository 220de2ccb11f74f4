-- 0038: a limit per month for a company's staff (docs/web.md, "Staff payment limits").
--
-- `users.payment_month_max` (minor units) is the most a staff user may commit the company's
-- credit to in one calendar month (UTC), all its operations together: payments, payment
-- requests accepted, orders, refunds, signed payment orders of its key, the runs of the
-- standing orders it set up. NULL: no limit per month. Only the owner sets it; it applies
-- to staff users only.
--
-- `staff_commitments` holds what each staff user with such a limit committed, one row per
-- operation: `op_key` is the operation's idempotency key (a replay counts once), `month`
-- the calendar month ('2026-12') it counts in. A row is written, in one write transaction
-- that first reads the month's sum, before the operation goes to the write path, and
-- deleted when the ledger refuses the operation (or the order it placed is cancelled or
-- expires), so two operations racing cannot both pass a limit that has room for one. The
-- housekeeping deletes the rows of the months before the last one (`spending::prune`).
ALTER TABLE users ADD COLUMN payment_month_max BIGINT
    CHECK (payment_month_max IS NULL OR payment_month_max BETWEEN 1 AND 1000000000);

CREATE TABLE staff_commitments (
    op_key TEXT PRIMARY KEY CHECK (length(op_key) BETWEEN 1 AND 128),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month TEXT NOT NULL CHECK (length(month) = 7),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    created_at BIGINT NOT NULL
);
CREATE INDEX staff_commitments_month_user ON staff_commitments (month, user_id);
