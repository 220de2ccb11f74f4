#!/usr/bin/env bash
# Times one set-off run through the API (`POST /api/v1/setoff-runs`): a fresh database seeded
# by `troc serve --demo`, plus SETOFF_INVOICES confirmed outside invoices among the demo's 30
# members (written with SQL, spread by a fixed arithmetic rule; amounts 1,00 to 1 000,00),
# then one run by the manager, timed by curl. Prints the run's figures and the time.
#
#   SETOFF_INVOICES=5000 scripts/setoff-run.sh [path/to/troc]   (default: target/release/troc)
#
# With SETOFF_POSTGRES_URL set (a server URL such as postgres://postgres@127.0.0.1:5432/postgres)
# a fresh PostgreSQL database is created on that server and dropped afterwards; else a fresh
# SQLite file. A measurement for docs/performance.md, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."

TROC="${1:-target/release/troc}"
N="${SETOFF_INVOICES:-5000}"
WORK="$(mktemp -d)"
SERVER_PID=""
PG_SERVER="${SETOFF_POSTGRES_URL:-}"
PG_NAME="troc_setoff_$$"
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$PG_SERVER" ]]; then
    psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS $PG_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
if [[ -n "$PG_SERVER" ]]; then
  psql "$PG_SERVER" -q -c "CREATE DATABASE $PG_NAME" >/dev/null
  DB="${PG_SERVER%/*}/$PG_NAME"
  sql() { psql "$DB" -q -v ON_ERROR_STOP=1 -c "$1" >/dev/null; }
  SERIES="generate_series(1, $N) AS s(n)"
  WITH=""
else
  DB="sqlite://$WORK/troc.db"
  sql() { sqlite3 "$WORK/troc.db" "$1"; }
  SERIES="s"
  WITH="WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $N)"
fi
BASE="http://127.0.0.1:$PORT"
"$TROC" --database-url "$DB" serve --demo --addr "127.0.0.1:$PORT" --base-url "$BASE" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if curl -sf "$BASE/readyz" >/dev/null; then break; fi
  sleep 0.5
done

# Debtor and creditor: two different members of the 30, from n; the demo's own invoices
# are numbered otherwise, so the numbers never collide.
sql "$WITH INSERT INTO outside_invoices (creditor_member_id, debtor_member_id, number,
  amount_minor, open_minor, due_on, status, declared_by, declared_at)
  SELECT m.first + (n * 7 + 3) % 30, m.first + ((n * 7 + 3) % 30 + 1 + (n * 13) % 29) % 30,
    'BENCH-' || n, 100 + (n * 7919) % 99901, 100 + (n * 7919) % 99901, '2027-01-31',
    'confirmed', 'bench', 0
  FROM $SERIES, (SELECT MIN(id) AS first FROM members) AS m"

TOKEN="$("$TROC" --database-url "$DB" token create --email gestion@demo.troc --scope manage --name bench | tail -n 1)"
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/setoff-runs" >"$WORK/before.json"
python3 -c 'import json, sys; print("before:", json.load(open(sys.argv[1]))["now"])' "$WORK/before.json"
TIME="$(curl -sf -o "$WORK/run.json" -w '%{time_total}' -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"reason": "bench"}' "$BASE/api/v1/setoff-runs")"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("run:", r["run"], "lines:", len(r["lines"]))' "$WORK/run.json"
echo "POST /api/v1/setoff-runs: ${TIME} s"
