-- 0037: more e-mail (docs/web.md, "E-mail notices"; docs/console.md, "E-mail to the
-- managers"): the monthly statement; the follow-ups of a payment request (overdue to the
-- buyer; declined or expired to the seller); an order's steps; a dispute's steps; the
-- network's managers told of what waits for them.
--
-- The outbox learns the new kinds. SQLite cannot change a CHECK constraint: the table
-- is rebuilt with the same columns and rows (nothing refers to it).
CREATE TABLE mail_outbox_0037 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('password_reset', 'password_changed', 'invitation',
                                       'payment_request', 'approval_waiting',
                                       'payments_received', 'network_action',
                                       'matches', 'statement',
                                       'request_overdue', 'request_declined',
                                       'request_expired',
                                       'order_placed', 'order_delivered', 'order_cancelled',
                                       'order_expired', 'order_expiring', 'network_inbox',
                                       'dispute')),
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

-- When the buyer and the seller were told that an order expired undelivered (Unix
-- seconds; null until then). Orders already expired are marked told: a network does not
-- hear of its past.
ALTER TABLE orders ADD COLUMN expiry_noticed_at BIGINT;
UPDATE orders SET expiry_noticed_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE status = 'expired';
-- When the seller was reminded that an order it has not delivered expires soon (Unix
-- seconds; null until then).
ALTER TABLE orders ADD COLUMN reminder_noticed_at BIGINT;
-- The held orders by expiry: the sweep that releases them, and the reminders.
CREATE INDEX orders_held_expiry ON orders (expires_at) WHERE status = 'held';
-- The expired orders whose parties are not told yet.
CREATE INDEX orders_expired_untold ON orders (expires_at)
    WHERE status = 'expired' AND expiry_noticed_at IS NULL;

-- When the parties of a closed dispute were told how it ended (withdrawn, refunded,
-- reversed, dismissed), Unix seconds; null until then. Disputes already closed are marked
-- told: a network does not hear of its past.
ALTER TABLE disputes ADD COLUMN closed_noticed_at BIGINT;
UPDATE disputes SET closed_noticed_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE status <> 'open';
-- The closed disputes not yet told, by the time they closed.
CREATE INDEX disputes_closed_untold ON disputes (decided_at)
    WHERE status <> 'open' AND closed_noticed_at IS NULL;
