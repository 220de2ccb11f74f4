-- 0042: multilateral set-off of outside invoices (docs/web.md, "Set-off of outside
-- invoices"). A member company declares a euro invoice another member owes it (outside
-- the barter ledger); the debtor confirms or rejects it; a network manager runs a set-off
-- that cancels, on the confirmed invoices, amounts that leave every company's net position
-- unchanged (ledger::setoff). Nothing here touches the ledger's accounts.
CREATE TABLE outside_invoices (
    id INTEGER PRIMARY KEY,
    creditor_member_id BIGINT NOT NULL REFERENCES members (id),
    debtor_member_id BIGINT NOT NULL REFERENCES members (id),
    -- The creditor's own invoice number.
    number TEXT NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 10000000000),
    -- What is still owed: the amount less what set-offs cancelled.
    open_minor BIGINT NOT NULL CHECK (open_minor >= 0 AND open_minor <= amount_minor),
    due_on TEXT NOT NULL CHECK (length(due_on) = 10),
    status TEXT NOT NULL
        CHECK (status IN ('declared', 'confirmed', 'rejected', 'closed', 'cleared')),
    declared_by TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    -- The debtor's confirmation or rejection; the creditor's closing (paid otherwise,
    -- cancelled), with its reason.
    answered_by TEXT,
    answered_at BIGINT,
    closed_by TEXT,
    closed_at BIGINT,
    note TEXT,
    CHECK (creditor_member_id <> debtor_member_id),
    CHECK ((status = 'cleared') = (open_minor = 0)),
    UNIQUE (creditor_member_id, number)
);
CREATE INDEX outside_invoices_debtor ON outside_invoices (debtor_member_id, id);
-- The dashboard's count of the invoices a company has to answer.
CREATE INDEX outside_invoices_to_answer ON outside_invoices (debtor_member_id)
    WHERE status = 'declared';
-- The set-off's read: the confirmed invoices still owed, oldest first.
CREATE INDEX outside_invoices_open ON outside_invoices (id) WHERE status = 'confirmed';

CREATE TABLE setoff_runs (
    id INTEGER PRIMARY KEY,
    run_at BIGINT NOT NULL,
    run_by TEXT NOT NULL,
    -- The confirmed invoices it took, what they owed before, and what it cancelled.
    invoices BIGINT NOT NULL CHECK (invoices >= 0),
    owed_minor BIGINT NOT NULL CHECK (owed_minor >= 0),
    cleared_minor BIGINT NOT NULL CHECK (cleared_minor >= 0 AND cleared_minor <= owed_minor)
);
CREATE TABLE setoff_lines (
    run_id BIGINT NOT NULL REFERENCES setoff_runs (id),
    invoice_id BIGINT NOT NULL REFERENCES outside_invoices (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (run_id, invoice_id)
);
CREATE INDEX setoff_lines_invoice ON setoff_lines (invoice_id);

-- A set-off's record is never changed.
CREATE TRIGGER setoff_runs_no_update BEFORE UPDATE ON setoff_runs
BEGIN SELECT RAISE(ABORT, 'setoff_runs are append-only'); END;
CREATE TRIGGER setoff_runs_no_delete BEFORE DELETE ON setoff_runs
BEGIN SELECT RAISE(ABORT, 'setoff_runs are append-only'); END;
CREATE TRIGGER setoff_lines_no_update BEFORE UPDATE ON setoff_lines
BEGIN SELECT RAISE(ABORT, 'setoff_lines are append-only'); END;
CREATE TRIGGER setoff_lines_no_delete BEFORE DELETE ON setoff_lines
BEGIN SELECT RAISE(ABORT, 'setoff_lines are append-only'); END;
