-- 0014: accountant exports on the web (docs/exports.md, docs/web.md).
--
-- 1. A member-scoped accountant role, `member_accountant`: the accountant of ONE member
--    company, invited by its owner, read-only. Like owners and staff it belongs to a member
--    (member_id NOT NULL); a network-wide `accountant` still has none. SQLite cannot alter a
--    CHECK constraint, so `users` and `invitations` are rebuilt: copy the rows aside, drop,
--    create with the new constraints, copy back with the same ids. The migration runs inside
--    a transaction, where `PRAGMA foreign_keys` cannot change; `defer_foreign_keys` lets the
--    rows that reference users (sessions, invitations, action_log) wait for the copy back:
--    dropping `users` counts their references as violations, re-inserting the same ids
--    resolves them, and the count must be zero at COMMIT.
-- 2. The network operator's own SIREN (the FEC file name and the OFX bank id), set by a
--    manager on the accounting page; `troc export --siren` still overrides it.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE users_0014 AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL
        CHECK (role IN ('manager', 'accountant', 'owner', 'staff', 'member_accountant')),
    member_id BIGINT REFERENCES members (id),
    lang TEXT NOT NULL DEFAULT 'fr',
    created_at BIGINT NOT NULL,
    CHECK ((role IN ('owner', 'staff', 'member_accountant')) = (member_id IS NOT NULL))
);
INSERT INTO users (id, email, password_hash, display_name, role, member_id, lang, created_at)
    SELECT id, email, password_hash, display_name, role, member_id, lang, created_at
    FROM users_0014;
DROP TABLE users_0014;

CREATE TABLE invitations_0014 AS SELECT * FROM invitations;
DROP TABLE invitations;
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    role TEXT NOT NULL
        CHECK (role IN ('manager', 'accountant', 'owner', 'staff', 'member_accountant')),
    member_id BIGINT REFERENCES members (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    CHECK ((role IN ('owner', 'staff', 'member_accountant')) = (member_id IS NOT NULL))
);
INSERT INTO invitations (token_hash, email, role, member_id, created_by, created_at,
                         expires_at, used_at)
    SELECT token_hash, email, role, member_id, created_by, created_at, expires_at, used_at
    FROM invitations_0014;
DROP TABLE invitations_0014;

ALTER TABLE network ADD COLUMN siren TEXT
    CHECK (siren IS NULL OR (length(siren) = 9 AND siren NOT GLOB '*[^0-9]*'));

-- 3. The books' calendar is Europe/Paris (web/src/export/calendar.rs): a locked period ends at
--    the Paris midnight after its last day. The application computes that instant and stores
--    it with the lock (`ends_at`, RFC 3339 UTC text like every time here, so that text order
--    is time order); the trigger compares with it. Locks made before this migration were UTC
--    days and have no `ends_at`: they end at the UTC midnight after `through`, as they meant.
ALTER TABLE period_locks ADD COLUMN ends_at TEXT;
DROP TRIGGER transactions_not_in_locked_period;
CREATE TRIGGER transactions_not_in_locked_period BEFORE INSERT ON transactions
WHEN NEW.time < (
    SELECT COALESCE(ends_at, date(through, '+1 day') || 'T00:00:00+00:00')
    FROM period_locks ORDER BY through DESC LIMIT 1
)
BEGIN
    SELECT RAISE(ABORT, 'troc: nothing can be dated inside a locked period');
END;
