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
