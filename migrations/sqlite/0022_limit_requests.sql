-- 0022: a member company asks the network for another credit limit; a manager grants it (the
-- limit changes through the ledger, on the record as `limits.set`) or declines it with a
-- reason (`limit_request.decline`); the member may withdraw it while it waits
-- (docs/console.md, "Credit-limit requests").
--
-- `requested_by` and `decided_by` are the email of the user who did it, as it was then (a
-- snapshot, as for member keys). `credit_limit_before` is the limit when the member asked;
-- `credit_limit_granted` the limit the manager set (the amount asked or another).
CREATE TABLE limit_requests (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    requested_by TEXT NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 254),
    credit_limit_before BIGINT NOT NULL CHECK (credit_limit_before >= 0),
    credit_limit_asked BIGINT NOT NULL CHECK (credit_limit_asked >= 0),
    message TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 1000),
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'declined', 'withdrawn')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 254),
    decision_reason TEXT NOT NULL DEFAULT '',
    credit_limit_granted BIGINT CHECK (credit_limit_granted IS NULL OR credit_limit_granted >= 0),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'granted') = (credit_limit_granted IS NOT NULL))
);
CREATE INDEX limit_requests_status ON limit_requests (status, id);
CREATE INDEX limit_requests_member ON limit_requests (member_id, id);
-- One waiting request per member.
CREATE UNIQUE INDEX limit_requests_one_pending ON limit_requests (member_id) WHERE status = 'pending';
