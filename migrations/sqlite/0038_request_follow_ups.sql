-- 0038: the follow-ups of payment requests by e-mail: to the buyer, a request whose due
-- date passed unpaid; to the seller, its request declined or expired (docs/web.md,
-- "E-mail notices").
--
-- The outbox learns the three new kinds. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and rows (nothing refers to it).
CREATE TABLE mail_outbox_0038 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement',
                                       'request_overdue', 'request_declined',
                                       'request_expired')),
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
INSERT INTO mail_outbox_0038 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0038 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- The follow-ups of a payment request (docs/web.md, "E-mail notices"): when its buyer was
-- told that its due date passed (`overdue_noticed_at`) and when its seller was told that it
-- expired (`expiry_noticed_at`), Unix seconds; null until then. Requests already past
-- their due date or expired are marked told: a network does not hear of its past.
ALTER TABLE payment_requests ADD COLUMN overdue_noticed_at BIGINT;
ALTER TABLE payment_requests ADD COLUMN expiry_noticed_at BIGINT;
UPDATE payment_requests SET overdue_noticed_at = CAST(strftime('%s', 'now') AS INTEGER)
    WHERE expires_at - 2592000 < CAST(strftime('%s', 'now') AS INTEGER);
UPDATE payment_requests SET expiry_noticed_at = CAST(strftime('%s', 'now') AS INTEGER)
    WHERE status = 'expired' OR expires_at <= CAST(strftime('%s', 'now') AS INTEGER);
-- The open requests by expiry: the sweep that expires them, and the overdue ones to tell.
CREATE INDEX payment_requests_open_expiry ON payment_requests (expires_at)
    WHERE status = 'open';
-- The expired requests whose seller is not told yet.
CREATE INDEX payment_requests_expired_untold ON payment_requests (expires_at)
    WHERE status = 'expired' AND expiry_noticed_at IS NULL;
