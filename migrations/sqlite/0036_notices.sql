-- 0036: e-mail notices that follow the ledger and the action log: the hourly digest of the
-- payments a member company received, the network's actions on its account (docs/web.md,
-- "E-mail notices").
--
-- The outbox learns the two new kinds. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and rows (nothing refers to it).
CREATE TABLE mail_outbox_0036 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches')),
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
INSERT INTO mail_outbox_0036 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0036 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- How far the notices that follow the ledger, the action log and the marketplace have gone
-- (one row): `payments_through`, the payments received are digested up to this time (Unix
-- seconds, a whole hour); `action_id`, the network's actions on members are notified up to
-- this action-log id; `matches_through`, the weekly e-mail of new listings for each member
-- is sent up to this time (a Monday, 00:00 UTC). All start at the migration, so that a
-- network does not hear of its past.
CREATE TABLE notice_marks (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    payments_through BIGINT NOT NULL
        CHECK (payments_through >= 0 AND payments_through % 3600 = 0),
    action_id BIGINT NOT NULL CHECK (action_id >= 0),
    matches_through BIGINT NOT NULL CHECK ((matches_through - 345600) % 604800 = 0)
);
INSERT INTO notice_marks (id, payments_through, action_id, matches_through)
    SELECT 1, CAST(strftime('%s', 'now') AS INTEGER) / 3600 * 3600, COALESCE(MAX(id), 0),
        (CAST(strftime('%s', 'now') AS INTEGER) - 345600) / 604800 * 604800 + 345600
    FROM action_log;

-- Each user chooses the kinds of e-mail apart (docs/web.md, "E-mail notices"): besides
-- `mail_notices` (what waits for the user's action, the network's changes to the account or
-- its fees), the hourly digest of payments received and the weekly new listings; 1 (the
-- default) or 0.
ALTER TABLE users ADD COLUMN mail_receipts BIGINT NOT NULL DEFAULT 1
    CHECK (mail_receipts IN (0, 1));
ALTER TABLE users ADD COLUMN mail_listings BIGINT NOT NULL DEFAULT 1
    CHECK (mail_listings IN (0, 1));
