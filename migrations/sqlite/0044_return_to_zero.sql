-- 0044: the return-to-zero rule's reminders (docs/web.md, "Return to zero"). A company
-- whose balance stays below zero is e-mailed at a quarter, a half and three quarters of the
-- network's rule (`console_settings.negative_days`) and once past it; `negative_notices`
-- remembers which steps of which negative spell (the account's `negative_since`) were told,
-- so that each is told once and the housekeeping reads only the accounts due a notice.
CREATE TABLE negative_notices (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- The spell: the account's negative_since when the notice was queued.
    negative_since TEXT NOT NULL,
    step BIGINT NOT NULL CHECK (step BETWEEN 1 AND 4),
    noticed_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, negative_since, step)
);

-- The outbox's kinds become rows of a table the outbox refers to, so that a new kind of
-- e-mail is one INSERT instead of rebuilding the outbox (SQLite cannot change a CHECK
-- constraint: 0036, 0039 and 0043 rebuilt it). This is the last rebuild.
CREATE TABLE mail_kinds (
    kind TEXT PRIMARY KEY CHECK (length(kind) BETWEEN 1 AND 40)
);
INSERT INTO mail_kinds (kind) VALUES ('password_reset'), ('password_changed'), ('invitation'),
    ('payment_request'), ('approval_waiting'), ('payments_received'), ('network_action'),
    ('matches'), ('statement'), ('request_overdue'), ('request_declined'),
    ('request_expired'), ('order_placed'), ('order_delivered'), ('order_cancelled'),
    ('order_expired'), ('order_expiring'), ('network_inbox'), ('dispute'), ('two_step'),
    ('setoff'), ('return_to_zero');
CREATE TABLE mail_outbox_0044 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL REFERENCES mail_kinds (kind),
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
INSERT INTO mail_outbox_0044 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0044 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
