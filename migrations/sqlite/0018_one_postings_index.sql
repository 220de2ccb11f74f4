-- 0018: one index of an account's postings instead of two (docs/storage.md, "Reads";
-- docs/performance.md, "Eighth look").
--
-- Each posting went into two indexes keyed by account, `(account_id, tx_id)` for the
-- history and `(account_id, time)` for periods; with thousands of accounts each entry lands
-- on a random page, and every page a batch dirties is written to the WAL at COMMIT. The
-- time index alone serves both: in a WITHOUT ROWID table an index carries the primary key
-- after its own columns, so `postings_account_time` is in fact `(account_id, time, tx_id,
-- n)`. Histories are now ordered by date, then by transaction id.
DROP INDEX postings_account_tx;
