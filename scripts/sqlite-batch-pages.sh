#!/usr/bin/env bash
# How many pages a SQLite write batch dirties: every page a batch touches is written to the
# WAL at COMMIT (a 4 KiB frame), so the frames per batch are what the indexes cost, whatever
# the machine's speed. Copies a database filled by `troc bench` (e.g. `troc bench
# --database-url sqlite:///tmp/b/b.db --scenarios uniform --submitters 1024 --seconds 8`),
# optionally gives every stored idempotency key a random value (`random`: what API clients
# send, a UUID; keys made by an older `troc bench` were near-sequential), then runs in the
# sqlite3 shell two batches shaped like the writer's (1,000 payments with random keys: 2,000
# postings, 1,000 transactions, 1,000 idempotency rows, their accounts updated, one COMMIT;
# PAGES_BATCH changes the count)
# and prints the WAL frames and the seconds of the second, for each case:
#   - as it is;
#   - after migration 0019 (the file itself), if the database predates it;
#   - without the idempotency rows, without the postings' account index, without the seal
#     trigger and without the balance trigger (for comparison).
# Each line gives the frames, the batch's seconds and each statement's. (This script
# replaces scripts/sqlite-index-cost.sh, which timed the same statements without counting
# frames.)
# PAGES_BATCH sets the payments per batch (default 1000, at most 100000).
# docs/performance.md ("Tenth look") has runs.
#
#   scripts/sqlite-batch-pages.sh /tmp/b/b.db random
#   PAGES_BATCH=64 scripts/sqlite-batch-pages.sh /tmp/b/b.db
set -euo pipefail
SOURCE="${1:?a SQLite database filled by troc bench}"
KEYS="${2:-as-stored}"
BATCH="${PAGES_BATCH:-1000}"
[[ "$BATCH" =~ ^[0-9]+$ ]] && (( BATCH >= 1 && BATCH <= 100000 )) ||
  { echo "sqlite-batch-pages: PAGES_BATCH is 1 to 100000" >&2; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite-batch-pages: sqlite3 is missing" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cp "$SOURCE" "$WORK/source.db"
[[ -f "$SOURCE-wal" ]] && cp "$SOURCE-wal" "$WORK/source.db-wal"
sqlite3 "$WORK/source.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
if [[ "$KEYS" == random ]]; then
  version="$(sqlite3 "$WORK/source.db" "SELECT MAX(version) FROM _sqlx_migrations")"
  # The append-only trigger is dropped for the rewrite and put back as it was.
  trigger="$(sqlite3 "$WORK/source.db" \
    "SELECT sql FROM sqlite_master WHERE name = 'transactions_no_update'")"
  sqlite3 "$WORK/source.db" "PRAGMA foreign_keys = OFF; BEGIN;
    DROP TRIGGER transactions_no_update;
    CREATE TEMP TABLE m (old TEXT PRIMARY KEY, new TEXT) WITHOUT ROWID;
    INSERT INTO m SELECT key, lower(hex(randomblob(16))) FROM idempotency;
    UPDATE idempotency SET key = (SELECT new FROM m WHERE old = key);
    UPDATE transactions SET idempotency_key = (SELECT new FROM m WHERE old = idempotency_key);
    $trigger;
    COMMIT;"
  echo "keys made random (database at migration $version)"
fi

batch() { # $1: the first transaction id of the batch, $2: idem|noidem
  cat <<SQL
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS temp.g;
CREATE TEMP TABLE g AS WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < $BATCH)
  SELECT k, $1 + k AS id, abs(random()) % 10000 + 1 AS a, abs(random()) % 10000 + 1 AS b,
         abs(random()) % 9000 + 100 AS amt, lower(hex(randomblob(16))) AS key FROM c;
INSERT INTO postings (tx_id, n, account_id, amount, leg, time)
  SELECT id, 0, a, -amt, 'principal', '2026-12-03T16:00:00.000000+00:00' FROM g
  UNION ALL SELECT id, 1, b, amt, 'principal', '2026-12-03T16:00:00.000000+00:00' FROM g;
INSERT INTO transactions (id, seq, kind, time, reference, memo, idempotency_key, reverses, posting_count, hash)
  SELECT id, id, 'payment', '2026-12-03T16:00:00.000000+00:00', '', '', key, NULL, 2,
         '06dcf8b01a15e391551da1d2e9b00f1243df5ce6c762aaf9c43c86bf70de5f42' FROM g;
$(if [[ $2 == idem ]]; then echo "INSERT INTO idempotency (key, fingerprint, result, time)
  SELECT key, hex(randomblob(32)), '{\"Ok\":{\"Posted\":{\"transaction\":123456}}}',
         '2026-12-03T16:00:00.000000+00:00' FROM g;"; else echo "SELECT 1;"; fi)
UPDATE accounts SET balance = balance WHERE id IN (SELECT a FROM g UNION SELECT b FROM g);
COMMIT;
SQL
}

run() { # $1: a label, $2: SQL run on the copy first, or nothing, $3: idem|noidem
  rm -f "$WORK"/t.db*
  cp "$WORK/source.db" "$WORK/t.db"
  [[ -n "$2" ]] && sqlite3 "$WORK/t.db" "$2"
  sqlite3 "$WORK/t.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  {
    echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA synchronous = FULL;"
    echo "PRAGMA wal_autocheckpoint = 0;"
    batch 100000000 "$3"
    echo "PRAGMA wal_checkpoint(TRUNCATE);"
    echo ".timer on"
    batch 200000000 "$3"
    echo ".timer off"
    echo "PRAGMA wal_checkpoint(PASSIVE);"
  } | sqlite3 "$WORK/t.db" 2>&1 |
    awk -v label="$1" '/^Run Time: real/ {t[++n] = $4; s += $4}
      /^0\|/ {split($0, f, "|"); frames = f[2]}
      # the timed statements: BEGIN, DROP, CREATE, postings, transactions, idempotency,
      # accounts, COMMIT
      END {printf "%-40s %5d WAL frames  %.3f s  (postings %s  transactions %s  idempotency %s  accounts %s  commit %s)\n",
        label, frames, s, t[4], t[5], t[6], t[7], t[8]}'
}

run "as it is" "" idem
if (( $(sqlite3 "$WORK/source.db" "SELECT MAX(version) FROM _sqlx_migrations") < 19 )); then
  run "after migration 0019" "BEGIN; $(cat "$HERE/../migrations/sqlite/0019_one_key_index.sql"); COMMIT;" idem
fi
run "without the idempotency rows" "" noidem
run "without postings_account_time" "DROP INDEX postings_account_time;" idem
run "without postings_before_seal (trigger)" "DROP TRIGGER postings_before_seal;" idem
run "without transactions_balanced (trigger)" "DROP TRIGGER transactions_balanced;" idem
