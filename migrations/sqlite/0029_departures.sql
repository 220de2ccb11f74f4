-- 0029: a member company gives notice that it leaves the network (docs/console.md,
-- "Departures"). Its owner asks, with an optional message, and may withdraw the notice
-- while it waits; the request is closed when a manager closes the member's account (or
-- writes it off), which the ledger allows once the balance is zero and no hold is open.
--
-- `requested_by` and `decided_by` are emails as they were then (a snapshot, as for limit
-- requests): the owner who asked, the owner who withdrew or the manager who closed.
CREATE TABLE departures (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    requested_by TEXT NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 254),
    message TEXT NOT NULL CHECK (length(message) <= 1000),
    status TEXT NOT NULL CHECK (status IN ('pending', 'withdrawn', 'closed')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 254),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'pending') = (decided_by IS NULL))
);
CREATE INDEX departures_status ON departures (status, id);
CREATE INDEX departures_member ON departures (member_id, id);
-- One waiting notice per member.
CREATE UNIQUE INDEX departures_one_pending ON departures (member_id) WHERE status = 'pending';
