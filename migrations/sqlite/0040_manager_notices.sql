-- 0040: the network's managers told by e-mail of what waits for them: new applications,
-- requests for a limit, disputes and notices of departure (docs/console.md, "E-mail to the
-- managers").
--
-- The outbox learns the new kind. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and rows (nothing refers to it).
CREATE TABLE mail_outbox_0040 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement',
                                       'request_overdue', 'request_declined',
                                       'request_expired',
                                       'order_placed', 'order_delivered', 'order_cancelled',
                                       'order_expired', 'network_inbox')),
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
INSERT INTO mail_outbox_0040 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0040 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- How far the network's managers are told of what members and applicants ask of them (one
-- e-mail per manager per housekeeping round that found something): the last application,
-- request for a limit, dispute and notice of departure told. All start at the migration:
-- a network does not hear of its past.
ALTER TABLE notice_marks ADD COLUMN application_id BIGINT NOT NULL DEFAULT 0
    CHECK (application_id >= 0);
ALTER TABLE notice_marks ADD COLUMN limit_request_id BIGINT NOT NULL DEFAULT 0
    CHECK (limit_request_id >= 0);
ALTER TABLE notice_marks ADD COLUMN dispute_id BIGINT NOT NULL DEFAULT 0
    CHECK (dispute_id >= 0);
ALTER TABLE notice_marks ADD COLUMN departure_id BIGINT NOT NULL DEFAULT 0
    CHECK (departure_id >= 0);
UPDATE notice_marks SET
    application_id = (SELECT COALESCE(MAX(id), 0) FROM applications),
    limit_request_id = (SELECT COALESCE(MAX(id), 0) FROM limit_requests),
    dispute_id = (SELECT COALESCE(MAX(id), 0) FROM disputes),
    departure_id = (SELECT COALESCE(MAX(id), 0) FROM departures);
