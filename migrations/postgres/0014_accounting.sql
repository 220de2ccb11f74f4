-- 0014: accountant exports on the web (docs/exports.md, docs/web.md).
--
-- 1. A member-scoped accountant role, `member_accountant`: the accountant of ONE member
--    company, invited by its owner, read-only. Like owners and staff it belongs to a member
--    (member_id NOT NULL); a network-wide `accountant` still has none.
-- 2. The network operator's own SIREN (the FEC file name and the OFX bank id), set by a
--    manager on the accounting page; `troc export --siren` still overrides it.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('manager', 'accountant', 'owner', 'staff', 'member_accountant'));
ALTER TABLE users ADD CONSTRAINT users_member_check
    CHECK ((role IN ('owner', 'staff', 'member_accountant')) = (member_id IS NOT NULL));

ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check
    CHECK (role IN ('manager', 'accountant', 'owner', 'staff', 'member_accountant'));
ALTER TABLE invitations ADD CONSTRAINT invitations_member_check
    CHECK ((role IN ('owner', 'staff', 'member_accountant')) = (member_id IS NOT NULL));

ALTER TABLE network ADD COLUMN siren TEXT CHECK (siren ~ '^[0-9]{9}$');

-- 3. The books' calendar is Europe/Paris (web/src/export/calendar.rs): a locked period ends at
--    the Paris midnight after its last day. The application computes that instant and stores
--    it with the lock (`ends_at`); the trigger compares with it. Locks made before this
--    migration were UTC days and have no `ends_at`: they end at the UTC midnight after
--    `through`, as they meant.
ALTER TABLE period_locks ADD COLUMN ends_at TIMESTAMPTZ;
CREATE OR REPLACE FUNCTION troc_not_in_locked_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_locked DATE;
    locked_end TIMESTAMPTZ;
BEGIN
    SELECT through, COALESCE(ends_at, (through + 1)::timestamp AT TIME ZONE 'UTC')
        INTO last_locked, locked_end
        FROM period_locks ORDER BY through DESC LIMIT 1;
    IF locked_end IS NOT NULL AND NEW.time < locked_end THEN
        RAISE EXCEPTION 'troc: transaction % is dated %, inside the period locked through %',
            NEW.id, NEW.time, last_locked
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
