-- 0027: a payment waiting for the owner's approval expires after 30 days
-- (docs/web.md, "Staff payment limits"), as a payment request does when it falls due.
--
-- The status gains `expired`: a request nobody decided within `APPROVAL_WAIT_DAYS_MAX` days
-- of its asking stops waiting (nothing had moved; nothing moves). `decided_at` is the moment
-- it expired, `decided_by` stays NULL. SQLite cannot change a CHECK in place: the table is
-- rebuilt with the same columns and rows (nothing references it), and its index recreated.
-- The partial index finds the requests still waiting by age, for the expiry sweep.
CREATE TABLE payment_approvals_0027 (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    payee_member_id BIGINT NOT NULL REFERENCES members (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT NOT NULL CHECK (length(reference) <= 64),
    memo TEXT NOT NULL CHECK (length(memo) <= 280),
    requested_by BIGINT NOT NULL,
    requested_by_email TEXT NOT NULL CHECK (length(requested_by_email) BETWEEN 1 AND 254),
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'approved', 'declined', 'withdrawn', 'expired')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    tx_id BIGINT REFERENCES transactions (id),
    decided_by TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 254),
    decided_at BIGINT,
    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 280),
    created_at BIGINT NOT NULL,
    form_token TEXT NOT NULL UNIQUE,
    CHECK (payee_member_id <> member_id),
    CHECK ((status = 'approved') = (tx_id IS NOT NULL)),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'expired' OR decided_by IS NULL)
);
INSERT INTO payment_approvals_0027 (id, member_id, payee_member_id, amount_minor, reference,
    memo, requested_by, requested_by_email, status, attempts, tx_id, decided_by, decided_at,
    note, created_at, form_token)
SELECT id, member_id, payee_member_id, amount_minor, reference, memo, requested_by,
    requested_by_email, status, attempts, tx_id, decided_by, decided_at, note, created_at,
    form_token
FROM payment_approvals;
DROP TABLE payment_approvals;
ALTER TABLE payment_approvals_0027 RENAME TO payment_approvals;
CREATE INDEX payment_approvals_member ON payment_approvals (member_id, status, id);
CREATE INDEX payment_approvals_waiting ON payment_approvals (created_at)
    WHERE status = 'pending';
