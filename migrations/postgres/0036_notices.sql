-- 0036: e-mail notices that follow the ledger and the action log: the hourly digest of the
-- payments a member company received, the network's actions on its account (docs/web.md,
-- "E-mail notices").
--
-- The outbox learns the two new kinds.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches'));

-- How far the notices that follow the ledger, the action log and the marketplace have gone
-- (one row): `payments_through`, the payments received are digested up to this time (Unix
-- seconds, a whole hour); `action_id`, the network's actions on members are notified up to
-- this action-log id; `matches_through`, the weekly e-mail of new listings for each member
-- is sent up to this time (a Monday, 00:00 UTC). All start at the migration, so that a
-- network does not hear of its past.
CREATE TABLE notice_marks (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    payments_through BIGINT NOT NULL
        CHECK (payments_through >= 0 AND payments_through % 3600 = 0),
    action_id BIGINT NOT NULL CHECK (action_id >= 0),
    matches_through BIGINT NOT NULL CHECK ((matches_through - 345600) % 604800 = 0)
);
INSERT INTO notice_marks (id, payments_through, action_id, matches_through)
    SELECT 1, (EXTRACT(EPOCH FROM now())::BIGINT / 3600) * 3600, COALESCE(MAX(id), 0),
        ((EXTRACT(EPOCH FROM now())::BIGINT - 345600) / 604800) * 604800 + 345600
    FROM action_log;

-- Each user chooses the kinds of e-mail apart (docs/web.md, "E-mail notices"): besides
-- `mail_notices` (what waits for the user's action, the network's changes to the account or
-- its fees), the hourly digest of payments received and the weekly new listings; 1 (the
-- default) or 0.
ALTER TABLE users ADD COLUMN mail_receipts BIGINT NOT NULL DEFAULT 1
    CHECK (mail_receipts IN (0, 1));
ALTER TABLE users ADD COLUMN mail_listings BIGINT NOT NULL DEFAULT 1
    CHECK (mail_listings IN (0, 1));
