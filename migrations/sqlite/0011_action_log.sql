-- 0011: the action log (manager console, docs/console.md). Every action of a network
-- manager or accountant (limits, freezes, fee changes, write-offs, imports, approvals...) is
-- recorded here with its actor, time, reason and the state before and after, as JSON.
-- Append-only: UPDATE and DELETE are refused, even through raw SQL. Times are unix seconds,
-- like the other web tables. Ledger actions are written by the write path inside the batch
-- that decided them (`Submission::noted`), so an action and its record commit together.
CREATE TABLE action_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 254),
    action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    member_id BIGINT REFERENCES members (id),
    account_id BIGINT,
    reason TEXT NOT NULL CHECK (length(reason) <= 500),
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX action_log_member ON action_log (member_id, id);
CREATE INDEX action_log_action ON action_log (action, id);
CREATE INDEX action_log_time ON action_log (time, id);

CREATE TRIGGER action_log_no_update BEFORE UPDATE ON action_log
BEGIN
    SELECT RAISE(ABORT, 'troc: action_log is append-only (UPDATE refused)');
END;
CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log
BEGIN
    SELECT RAISE(ABORT, 'troc: action_log is append-only (DELETE refused)');
END;
