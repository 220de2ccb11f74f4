-- 0023: standing orders (« virements permanents »): a member company pays another the same
-- amount every week or every month, from a first date until an optional end date or until
-- either company cancels it (docs/web.md, "Standing orders"). Each due date is paid through
-- the ledger's write path under the idempotency key `standing-ID-DATE`, so a due date is paid
-- at most once whatever the number of processes or restarts; `standing_order_runs` records
-- each due date's outcome (the transaction, or the ledger's refusal code).
--
-- Dates are `YYYY-MM-DD` (UTC). `runs` counts the due dates passed: due date k is
-- `first_date` plus k weeks or k months (clamped to the month's last day, never drifting).
-- `created_by` and `ended_by` are the email of the user who did it, as it was then.
CREATE TABLE standing_orders (
    id INTEGER PRIMARY KEY,
    payer_member_id BIGINT NOT NULL REFERENCES members (id),
    payee_member_id BIGINT NOT NULL REFERENCES members (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reference TEXT NOT NULL CHECK (length(reference) <= 64),
    memo TEXT NOT NULL CHECK (length(memo) <= 280),
    every TEXT NOT NULL CHECK (every IN ('week', 'month')),
    first_date TEXT NOT NULL CHECK (length(first_date) = 10),
    end_date TEXT CHECK (end_date IS NULL OR (length(end_date) = 10 AND end_date >= first_date)),
    next_date TEXT CHECK (next_date IS NULL OR length(next_date) = 10),
    runs BIGINT NOT NULL DEFAULT 0 CHECK (runs >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled', 'finished')),
    created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 254),
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    ended_by TEXT CHECK (ended_by IS NULL OR length(ended_by) BETWEEN 1 AND 254),
    CHECK (payer_member_id <> payee_member_id),
    CHECK ((status = 'active') = (next_date IS NOT NULL)),
    CHECK ((status = 'active') = (ended_at IS NULL))
);
CREATE INDEX standing_orders_due ON standing_orders (next_date, id) WHERE status = 'active';
CREATE INDEX standing_orders_payer ON standing_orders (payer_member_id, id);
CREATE INDEX standing_orders_payee ON standing_orders (payee_member_id, id);

CREATE TABLE standing_order_runs (
    order_id BIGINT NOT NULL REFERENCES standing_orders (id),
    due_date TEXT NOT NULL CHECK (length(due_date) = 10),
    tx_id BIGINT,
    rejection TEXT,
    ran_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, due_date),
    CHECK ((tx_id IS NULL) <> (rejection IS NULL))
);
