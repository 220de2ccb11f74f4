-- 0037: the monthly statement by e-mail (docs/web.md, "E-mail notices").
--
-- The outbox learns the new kind. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and rows (nothing refers to it).
CREATE TABLE mail_outbox_0037 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement')),
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
INSERT INTO mail_outbox_0037 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0037 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- How far the monthly statements have gone: `statements_month`, the end of the month last
-- sent or being sent (Unix seconds, the first instant of a month in UTC);
-- `statements_member_after`, while that month is being sent in chunks, the last member
-- whose statement is queued (null once all are). Starts at this month: a network does not
-- get statements of its past.
ALTER TABLE notice_marks ADD COLUMN statements_month BIGINT NOT NULL DEFAULT 0
    CHECK (statements_month >= 0);
ALTER TABLE notice_marks ADD COLUMN statements_member_after BIGINT
    CHECK (statements_member_after IS NULL OR statements_member_after >= 0);
UPDATE notice_marks SET statements_month = CAST(strftime('%s', 'now', 'start of month') AS INTEGER);

-- Each user chooses whether to get the monthly statement (docs/web.md, "E-mail notices");
-- 1 (the default) or 0.
ALTER TABLE users ADD COLUMN mail_statements BIGINT NOT NULL DEFAULT 1
    CHECK (mail_statements IN (0, 1));
