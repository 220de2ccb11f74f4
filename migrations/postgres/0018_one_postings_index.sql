-- 0018: one index of an account's postings instead of two (docs/storage.md, "Reads";
-- docs/performance.md, "Eighth look").
--
-- Each posting went into two indexes keyed by account, `(account_id, tx_id)` for the
-- history and `(account_id, time)` for periods: two random index pages per posting. One
-- `(account_id, time, tx_id)` index serves both: a period is a range of it, and a history
-- page (ordered by date, then by transaction id) is a keyset range of it. The same shape as
-- SQLite's `postings_account_time`, which carries the primary key after its columns.
CREATE INDEX postings_account_time_tx ON postings (account_id, time, tx_id);
DROP INDEX postings_account_time;
DROP INDEX postings_account_tx;
