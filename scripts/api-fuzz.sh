#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis (PyPI) against the OpenAPI document it serves:
# a fresh database seeded by `troc serve --demo` on a free port, tokens made with
# `troc token create` (a member owner's `pay` token, the manager's `manage` token), and the
# checks `not_a_server_error` and `response_schema_conformance`. Fails on any finding.
#
#   scripts/api-fuzz.sh [path/to/troc]    (default: builds and uses target/debug/troc)
#
# The database is a fresh SQLite file, or, with API_FUZZ_POSTGRES_URL set (a server URL such
# as postgres://postgres@127.0.0.1:5432/postgres), a fresh PostgreSQL database created on
# that server and dropped afterwards: some inputs only fail on one backend (PostgreSQL's text
# cannot hold the NUL character that SQLite keeps).
#
# Bounded: API_FUZZ_MAX_EXAMPLES examples per operation (default 50), fixed seed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v schemathesis >/dev/null 2>&1; then
  pip install -q schemathesis >/dev/null
fi

TROC="${1:-}"
if [[ -z "$TROC" ]]; then
  cargo build -q --bin troc
  TROC=target/debug/troc
fi

WORK="$(mktemp -d)"
SERVER_PID=""
PG_SERVER="${API_FUZZ_POSTGRES_URL:-}"
PG_NAME="troc_fuzz_$$"
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
  echo "api-fuzz: PostgreSQL database $PG_NAME"
else
  DB="sqlite://$WORK/troc.db"
  echo "api-fuzz: SQLite database"
fi
BASE="http://127.0.0.1:$PORT"

# Rate limits off: the fuzzer sends far more than a client would.
"$TROC" --database-url "$DB" serve --demo --addr "127.0.0.1:$PORT" --base-url "$BASE" \
  --rate-limit-login off --rate-limit-payments off --rate-limit-api-payments off \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
fetch() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" >/dev/null 2>&1; }
for _ in $(seq 1 120); do
  if fetch "$BASE/readyz"; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$WORK/server.log" >&2
    echo "api-fuzz: the server did not start" >&2
    exit 1
  fi
  sleep 0.5
done
fetch "$BASE/api/v1/openapi.json" || { echo "api-fuzz: no OpenAPI document" >&2; exit 1; }

token() { "$TROC" --database-url "$DB" token create --email "$1" --scope "$2" --name fuzz | tail -n 1; }
MEMBER_TOKEN="$(token membre01@demo.troc pay)"
MANAGER_TOKEN="$(token gestion@demo.troc manage)"

# The routes that revoke tokens are fuzzed last, on their own: run with the others, the
# fuzzer soon revokes the very token it runs with (`POST /api/v1/tokens/1/revoke`) and every
# later request is a 401 that tests nothing.
REVOKING=("/api/v1/tokens/{id}/revoke" "/api/v1/members/{id}/tokens/{token_id}/revoke")
fuzz() {
  local token="$1"
  shift
  schemathesis run "$BASE/api/v1/openapi.json" \
    --checks "${API_FUZZ_CHECKS:-not_a_server_error,response_schema_conformance}" \
    --header "Authorization: Bearer $token" \
    --max-examples "${API_FUZZ_MAX_EXAMPLES:-50}" \
    --seed 8 \
    --no-color \
    "$@"
}
status=0
for token in "$MEMBER_TOKEN" "$MANAGER_TOKEN"; do
  fuzz "$token" --exclude-path "${REVOKING[0]}" --exclude-path "${REVOKING[1]}" || status=1
done
# No stateful phase here: the document's links lead to none of these two routes, and
# schemathesis counts a stateful phase whose links are all filtered out as an error.
for token in "$MEMBER_TOKEN" "$MANAGER_TOKEN"; do
  fuzz "$token" --include-path "${REVOKING[0]}" --include-path "${REVOKING[1]}" \
    --phases examples,coverage,fuzzing || status=1
done
if [[ $status -ne 0 ]]; then
  echo "api-fuzz: schemathesis found problems (server log: last lines below)" >&2
  tail -n 50 "$WORK/server.log" >&2
fi
exit $status
