-- 0039: a second step at login, by a one-time code (docs/web.md, "Two-step login").
--
-- A user may ask for a code from an authenticator app (TOTP, RFC 6238: HMAC-SHA1, 30-second
-- steps, 6 digits) after its password. `users.totp_secret` is the app's secret (20 bytes,
-- hex) once the user confirmed a first code; `totp_pending` the one being set up, not in
-- force yet. A TOTP secret cannot be hashed (the server computes the codes from it): it is
-- kept as is, like a session's CSRF token; the recovery codes, which it only compares, are
-- hashed. `totp_last_step` is the last 30-second step a code was accepted for: a code is
-- accepted once (a second use, even within its 30 seconds, is refused).
ALTER TABLE users ADD COLUMN totp_secret TEXT
    CHECK (totp_secret IS NULL OR length(totp_secret) = 40);
ALTER TABLE users ADD COLUMN totp_pending TEXT
    CHECK (totp_pending IS NULL OR length(totp_pending) = 40);
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Codes for the day the app is lost: shown once when the second step is set up, each
-- accepted once instead of an app's code (SHA-256 of the code, hex).
CREATE TABLE totp_recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL CHECK (length(code_hash) = 64),
    used_at BIGINT,
    UNIQUE (user_id, code_hash)
);

-- A login whose password was right and whose code is awaited: the page asking for the code
-- carries the challenge's token (its SHA-256 here). It lasts 5 minutes and allows 5 wrong
-- codes; then the login starts again from the password.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX login_challenges_expiry ON login_challenges (expires_at);

-- The user is told by e-mail when its second step is turned on or off (by itself, or by
-- the network's manager for a lost phone). The outbox learns the kind; SQLite cannot change
-- a CHECK constraint: the table is rebuilt with the same columns and rows.
CREATE TABLE mail_outbox_0039 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement',
                                       'request_overdue', 'request_declined',
                                       'request_expired',
                                       'order_placed', 'order_delivered', 'order_cancelled',
                                       'order_expired', 'order_expiring', 'network_inbox',
                                       'dispute', 'two_step')),
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
INSERT INTO mail_outbox_0039 (id, kind, to_addr, subject, body, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, notice_key)
    SELECT id, kind, to_addr, subject, body, created_at, attempts, next_attempt_at, sent_at,
        failed_at, last_error, notice_key
    FROM mail_outbox ORDER BY id;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_0039 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
