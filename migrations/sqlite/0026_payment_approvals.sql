-- 0026: a staff user's payment above its limit, waiting for the owner's approval
-- (docs/web.md, "Staff payment limits").
--
-- A staff user whose payment is over the limit its owner set (`users.payment_max`) may ask
-- the owner to approve it instead of giving up. Nothing moves while it waits: the row only
-- records what was asked. When the owner approves, the payment goes through the write path
-- like any other (recorded as entered by the staff user, `transaction_authors`), and
-- `tx_id` names it. `requested_by` is the user's id, without a foreign key: removing the
-- user withdraws its pending requests and keeps the decided ones with its email.
-- `attempts` counts the approvals the ledger refused (insufficient credit...): each attempt
-- pays under its own idempotency key, concurrent clicks of one attempt pay once.
CREATE TABLE payment_approvals (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    payee_member_id BIGINT NOT NULL REFERENCES members (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT NOT NULL CHECK (length(reference) <= 64),
    memo TEXT NOT NULL CHECK (length(memo) <= 280),
    requested_by BIGINT NOT NULL,
    requested_by_email TEXT NOT NULL CHECK (length(requested_by_email) BETWEEN 1 AND 254),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'withdrawn')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    tx_id BIGINT REFERENCES transactions (id),
    decided_by TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 254),
    decided_at BIGINT,
    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 280),
    created_at BIGINT NOT NULL,
    form_token TEXT NOT NULL UNIQUE,
    CHECK (payee_member_id <> member_id),
    CHECK ((status = 'approved') = (tx_id IS NOT NULL)),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX payment_approvals_member ON payment_approvals (member_id, status, id);
