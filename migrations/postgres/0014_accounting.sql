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
