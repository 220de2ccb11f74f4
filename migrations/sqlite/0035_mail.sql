-- 0035: e-mail (docs/operations.md, "E-mail") and password reset links (docs/web.md,
-- "Forgotten passwords").
--
-- `mail_outbox` is the queue of e-mails the server sends through the SMTP relay it is given
-- (`--smtp-url`): a row is written by the request that wants the e-mail, then sent by the
-- mail task of whichever server process claims it, retried with a backoff, and given up
-- after a number of attempts. The body is erased once the e-mail is sent or given up (it may
-- hold a one-time link). Times are Unix seconds.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting')),
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
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- Whether the user gets e-mail notices of what waits for their action (docs/web.md,
-- "E-mail notices"): 1 (the default) or 0.
ALTER TABLE users ADD COLUMN mail_notices BIGINT NOT NULL DEFAULT 1 CHECK (mail_notices IN (0, 1));

-- A link that sets a user's password once. Only a SHA-256 of its token is stored.
-- `created_by` is null when the user asked for it (/password/forgot), else the manager who
-- made it from the console.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
