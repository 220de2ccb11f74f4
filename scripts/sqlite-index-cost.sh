#!/usr/bin/env bash
# What each index and trigger of the ledger's tables costs a SQLite write batch: copies a
# database filled by `troc bench` (e.g. `troc bench --database-url sqlite:///tmp/b/b.db
# --scenarios uniform --submitters 1024 --seconds 8`), then, once as it is and once without
# each object, times in the sqlite3 shell a batch shaped like the writer's (1,000 payments:
# 2,000 postings, 1,000 transactions, 1,000 idempotency rows, their accounts updated, one
# COMMIT with synchronous=FULL). The first batch warms the page cache; the figures printed
# are the second and third batches' (seconds per statement). docs/performance.md has a run.
#
#   scripts/sqlite-index-cost.sh /tmp/b/b.db
set -euo pipefail
SOURCE="${1:?a SQLite database filled by troc bench}"
command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite-index-cost: sqlite3 is missing" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

batch() { # $1: the first transaction id of the batch
  cat <<SQL
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS temp.g;
CREATE TEMP TABLE g AS WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < 1000)
  SELECT k, $1 + k AS id, abs(random()) % 10000 + 1 AS a, abs(random()) % 10000 + 1 AS b,
         abs(random()) % 9000 + 100 AS amt FROM c;
INSERT INTO postings (tx_id, n, account_id, amount, leg, time)
  SELECT id, 0, a, -amt, 'principal', '2026-12-02T16:00:00.000000+00:00' FROM g
  UNION ALL SELECT id, 1, b, amt, 'principal', '2026-12-02T16:00:00.000000+00:00' FROM g;
INSERT INTO transactions (id, seq, kind, time, reference, memo, idempotency_key, reverses, posting_count, hash)
  SELECT id, id, 'payment', '2026-12-02T16:00:00.000000+00:00', '', '', 'k-' || hex(randomblob(8)), NULL, 2,
         '06dcf8b01a15e391551da1d2e9b00f1243df5ce6c762aaf9c43c86bf70de5f42' FROM g;
INSERT INTO idempotency (key, fingerprint, result, time)
  SELECT 'k-' || hex(randomblob(8)), hex(randomblob(32)), '{"Ok":{"Posted":{"transaction":123456}}}',
         '2026-12-02T16:00:00.000000+00:00' FROM g;
UPDATE accounts SET balance = balance WHERE id IN (SELECT a FROM g UNION SELECT b FROM g);
COMMIT;
SQL
}

run() { # $1: a label, $2: SQL run on the copy first (dropping an object), or nothing
  rm -f "$WORK"/t.db*
  cp "$SOURCE" "$WORK/t.db"
  [[ -f "$SOURCE-wal" ]] && cp "$SOURCE-wal" "$WORK/t.db-wal"
  sqlite3 "$WORK/t.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  [[ -n "$2" ]] && sqlite3 "$WORK/t.db" "$2"
  {
    echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA synchronous = FULL;"
    batch 100000000
    echo ".timer on"
    batch 200000000
    batch 300000000
  } | sqlite3 "$WORK/t.db" 2>&1 | grep -o 'real [0-9.]*' | awk '{print $2}' |
    awk -v label="$1" '{t[NR] = $1} END {
      # per batch: BEGIN, DROP, CREATE, postings, transactions, idempotency, accounts, COMMIT
      for (b = 0; b < 2; b++) {
        o = b * 8
        printf "%-45s postings %s  transactions %s  idempotency %s  accounts %s  commit %s\n",
          label, t[o + 4], t[o + 5], t[o + 6], t[o + 7], t[o + 8]
      }
    }'
}

run "as it is" ""
run "without postings_account_time" "DROP INDEX postings_account_time;"
run "without postings_before_seal (trigger)" "DROP TRIGGER postings_before_seal;"
run "without transactions_balanced (trigger)" "DROP TRIGGER transactions_balanced;"
