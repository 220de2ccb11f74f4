-- 0017: accounts are closed, never deleted, and keep their id (both backends): postings,
-- holds and the records of limit and status changes point at them. On PostgreSQL the same
-- migration also turns the write path's per-row checks into per-statement ones; SQLite has
-- only row triggers, and its foreign keys stay as they are (docs/storage.md).
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
BEGIN
    SELECT RAISE(ABORT, 'troc: accounts are never deleted nor renumbered (DELETE refused); close the account instead');
END;
CREATE TRIGGER accounts_no_renumber BEFORE UPDATE OF id ON accounts
WHEN NEW.id <> OLD.id
BEGIN
    SELECT RAISE(ABORT, 'troc: accounts are never deleted nor renumbered (UPDATE refused); close the account instead');
END;
