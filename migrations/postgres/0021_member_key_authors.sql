-- 0021: a member key records who registered it and who revoked it (docs/audit.md, "How
-- members use it").
--
-- `registered_by` and `revoked_by` are the email of the user who did it, as it was then (a
-- snapshot, not a reference: a staff member removed from the company leaves the record
-- behind). NULL for keys registered before this migration, and `revoked_by` until the key is
-- revoked. The revoke-only trigger's function is replaced so that an UPDATE can set
-- `revoked_by` with the revocation and never change who registered the key.
ALTER TABLE member_keys ADD COLUMN registered_by TEXT
    CHECK (registered_by IS NULL OR char_length(registered_by) BETWEEN 1 AND 254);
ALTER TABLE member_keys ADD COLUMN revoked_by TEXT
    CHECK (revoked_by IS NULL OR char_length(revoked_by) BETWEEN 1 AND 254);

CREATE OR REPLACE FUNCTION troc_member_key_revoke_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (OLD.status = 'active' AND NEW.status = 'revoked'
            AND NEW.public_key = OLD.public_key AND NEW.account_id = OLD.account_id
            AND NEW.created_at = OLD.created_at
            AND NEW.registered_by IS NOT DISTINCT FROM OLD.registered_by
            AND OLD.revoked_by IS NULL) THEN
        RAISE EXCEPTION 'troc: a member key can only be revoked (UPDATE refused)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
