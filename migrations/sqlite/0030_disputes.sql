-- 0030: a member that paid contests the payment (docs/web.md, "Disputes"): goods not
-- delivered, not as described, a payment it did not mean. The payee answers, refunds it
-- (its refund closes the dispute as `refunded`) or leaves it to the network's manager, who
-- reverses the payment (`reversed`) or dismisses the dispute with a note (`dismissed`).
-- The payer may withdraw it while it is open (`withdrawn`).
--
-- The members and the amount are copied from the transaction (which never changes) so
-- that the lists need no read of the ledger. Emails are snapshots, as for departures.
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    transaction_id BIGINT NOT NULL,
    payer_member_id BIGINT NOT NULL REFERENCES members (id),
    payee_member_id BIGINT NOT NULL REFERENCES members (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    opened_by TEXT NOT NULL CHECK (length(opened_by) BETWEEN 1 AND 254),
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    status TEXT NOT NULL
        CHECK (status IN ('open', 'withdrawn', 'refunded', 'reversed', 'dismissed')),
    reply TEXT CHECK (reply IS NULL OR length(reply) BETWEEN 1 AND 1000),
    replied_by TEXT CHECK (replied_by IS NULL OR length(replied_by) BETWEEN 1 AND 254),
    replied_at BIGINT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 254),
    decision_note TEXT CHECK (decision_note IS NULL OR length(decision_note) <= 280),
    CHECK (payer_member_id <> payee_member_id),
    CHECK ((status = 'open') = (decided_at IS NULL)),
    CHECK ((reply IS NULL) = (replied_at IS NULL))
);
CREATE INDEX disputes_status ON disputes (status, id);
CREATE INDEX disputes_payer ON disputes (payer_member_id, id);
CREATE INDEX disputes_payee ON disputes (payee_member_id, id);
CREATE INDEX disputes_transaction ON disputes (transaction_id);
-- One open dispute per payment.
CREATE UNIQUE INDEX disputes_one_open ON disputes (transaction_id) WHERE status = 'open';
