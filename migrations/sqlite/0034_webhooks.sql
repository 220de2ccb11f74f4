-- 0034: webhooks (docs/api.md, "Webhooks"). A member company's owner registers up to five
-- URLs; the server posts every transaction on the company's account to each, signed with
-- the network key, oldest first, at least once.
--
-- `webhook_events` is the queue: filled from the ledger in commit order (`transactions.seq`)
-- by whichever server process advances `webhook_tail`, emptied as deliveries succeed.
-- `webhook_deliveries` keeps the last attempts of each webhook for its owner to read.
-- Times are Unix seconds, as in the other tables of members' requests.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 500),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 254),
    created_at BIGINT NOT NULL,
    -- The ledger's head when it was registered: it hears of the transactions after it.
    after_seq BIGINT NOT NULL CHECK (after_seq >= 0),
    -- Failed deliveries in a row (0 after a success); past the maximum, `disabled`.
    failures BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- Not before this time (a retry's backoff, or another process's claim); null: now.
    next_attempt_at BIGINT,
    last_success_at BIGINT,
    disabled_at BIGINT,
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL))
);
CREATE INDEX webhooks_member ON webhooks (member_id, id);
CREATE INDEX webhooks_active ON webhooks (status, next_attempt_at);

CREATE TABLE webhook_events (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    seq BIGINT NOT NULL,
    tx_id BIGINT NOT NULL REFERENCES transactions (id),
    PRIMARY KEY (webhook_id, seq)
);

-- The ledger is queued up to this seq (a new webhook hears of what is committed after it).
CREATE TABLE webhook_tail (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0)
);
INSERT INTO webhook_tail (id, seq) SELECT 1, seq FROM ledger_head WHERE id = 1;

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    attempted_at BIGINT NOT NULL,
    events BIGINT NOT NULL CHECK (events BETWEEN 1 AND 100),
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    -- The receiver's HTTP status; null when no answer came (refused, timed out...).
    status_code BIGINT,
    error TEXT CHECK (error IS NULL OR length(error) <= 300),
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
