-- 0011: the action log (manager console, docs/console.md). Every action of a network
-- manager or accountant (limits, freezes, fee changes, write-offs, imports, approvals...) is
-- recorded here with its actor, time, reason and the state before and after, as JSON.
-- Append-only: UPDATE, DELETE and TRUNCATE are refused, even through raw SQL. Times are unix
-- seconds, like the other web tables. Ledger actions are written by the write path inside
-- the batch that decided them (`Submission::noted`), so an action and its record commit
-- together.
CREATE TABLE action_log (
    id BIGSERIAL PRIMARY KEY,
    time BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 254),
    action TEXT NOT NULL CHECK (char_length(action) BETWEEN 1 AND 64),
    member_id BIGINT REFERENCES members (id),
    account_id BIGINT,
    reason TEXT NOT NULL CHECK (char_length(reason) <= 500),
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX action_log_member ON action_log (member_id, id);
CREATE INDEX action_log_action ON action_log (action, id);
CREATE INDEX action_log_time ON action_log (time, id);

CREATE TRIGGER action_log_append_only BEFORE UPDATE OR DELETE ON action_log
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER action_log_no_truncate BEFORE TRUNCATE ON action_log
    FOR EACH STATEMENT EXECUTE FUNCTION troc_append_only();
