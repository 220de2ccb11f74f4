-- 0044: the return-to-zero rule's reminders (docs/web.md, "Return to zero"). A company
-- whose balance stays below zero is e-mailed at a quarter, a half and three quarters of the
-- network's rule (`console_settings.negative_days`) and once past it; `negative_notices`
-- remembers which steps of which negative spell (the account's `negative_since`) were told,
-- so that each is told once and the housekeeping reads only the accounts due a notice.
CREATE TABLE negative_notices (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- The spell: the account's negative_since when the notice was queued.
    negative_since TIMESTAMPTZ NOT NULL,
    step BIGINT NOT NULL CHECK (step BETWEEN 1 AND 4),
    noticed_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, negative_since, step)
);

-- The outbox's kinds become rows of a table the outbox refers to, so that a new kind of
-- e-mail is one INSERT instead of changing a CHECK constraint (as SQLite's schema does).
CREATE TABLE mail_kinds (
    kind TEXT PRIMARY KEY CHECK (length(kind) BETWEEN 1 AND 40)
);
INSERT INTO mail_kinds (kind) VALUES ('password_reset'), ('password_changed'), ('invitation'),
    ('payment_request'), ('approval_waiting'), ('payments_received'), ('network_action'),
    ('matches'), ('statement'), ('request_overdue'), ('request_declined'),
    ('request_expired'), ('order_placed'), ('order_delivered'), ('order_cancelled'),
    ('order_expired'), ('order_expiring'), ('network_inbox'), ('dispute'), ('two_step'),
    ('setoff'), ('return_to_zero');
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_fkey
    FOREIGN KEY (kind) REFERENCES mail_kinds (kind);
