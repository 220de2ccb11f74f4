-- 0021: a member key records who registered it and who revoked it (docs/audit.md, "How
-- members use it").
--
-- `registered_by` and `revoked_by` are the email of the user who did it, as it was then (a
-- snapshot, not a reference: a staff member removed from the company leaves the record
-- behind). NULL for keys registered before this migration, and `revoked_by` until the key is
-- revoked. The revoke-only trigger is made again so that an UPDATE can set `revoked_by` with
-- the revocation and never change who registered the key.
ALTER TABLE member_keys ADD COLUMN registered_by TEXT
    CHECK (registered_by IS NULL OR length(registered_by) BETWEEN 1 AND 254);
ALTER TABLE member_keys ADD COLUMN revoked_by TEXT
    CHECK (revoked_by IS NULL OR length(revoked_by) BETWEEN 1 AND 254);

DROP TRIGGER member_keys_revoke_only;
CREATE TRIGGER member_keys_revoke_only BEFORE UPDATE ON member_keys
WHEN NOT (OLD.status = 'active' AND NEW.status = 'revoked'
          AND NEW.public_key = OLD.public_key AND NEW.account_id = OLD.account_id
          AND NEW.created_at = OLD.created_at
          AND NEW.registered_by IS OLD.registered_by AND OLD.revoked_by IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'troc: a member key can only be revoked (UPDATE refused)');
END;
