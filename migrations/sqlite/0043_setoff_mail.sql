-- 0043: the set-off of outside invoices e-mails the companies (docs/web.md, "Set-off of
-- outside invoices"): the debtor when an invoice is declared on it, each company when a run
-- lowered its invoices. The outbox learns the kind; SQLite cannot change a CHECK
-- constraint: the table is rebuilt with the same columns and rows (as in 0039).
CREATE TABLE mail_outbox_0043 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement',
                                       'request_overdue', 'request_declined',
                                       'request_expired',
                                       'order_placed', 'order_delivered', 'order_cancelled',
                                       'order_expired', 'order_expiring', 'network_inbox',
                                       'dispute', 'two_step', 'setoff')),
    to_addr TEXT NOT NULL CHECK (length(to_addr) BETWEEN 3 AND 254),
    subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body TEXT NOT NULL CHECK (length(body) <= 10000),
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Not before this time (a retry's backoff, or a process's claim).
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    failed_at BIGINT,
    last_error TEXT CHECK (last_error IS NULL OR length(last_error) <= 300),
    -- A notice is queued once per user and object (`request:ID:USER`...); null otherwise.
    notice_key TEXT UNIQUE CHECK (notice_key IS NULL OR length(notice_key) <= 100),
    CHECK (sent_at IS NULL OR failed_at IS NULL)
);
INSERT INTO mail_outbox_0043 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0043 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
