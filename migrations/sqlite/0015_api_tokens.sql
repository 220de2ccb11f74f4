-- 0015: the JSON API (docs/api.md).
--
-- 1. API tokens: a user creates them on /settings/tokens (or the operator with
--    `troc token create`); each has a name and a scope (read, pay or manage). Only the
--    SHA-256 of the token is stored; the token itself is shown once. A revoked token keeps
--    its row (revoked_at set) so the list shows it.
-- 2. Idempotency of API writes: the first answer to a POST or PUT carrying an
--    `Idempotency-Key`, per user and key, with the SHA-256 of the request (method, path and
--    body) it answered: the same request replays the answer, another one is a conflict.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'pay', 'manage')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE api_idempotency (
    user_id BIGINT NOT NULL REFERENCES users (id),
    idem_key TEXT NOT NULL,
    route TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
