#!/usr/bin/env bash
# Load test of the HTTP server with wrk (Debian's package): `POST /api/v1/payments` and the
# member dashboard, against the release binary serving a fresh demo network.
#
#   scripts/api-load.sh [DATABASE_URL]     (default: a fresh SQLite file in a temporary folder)
#
# Settings (environment): LOAD_CONNECTIONS (default 64), LOAD_SECONDS (default 30),
# LOAD_THREADS (default 2), LOAD_KEYS (default on: every payment carries an Idempotency-Key;
# off: none), LOAD_BINARY (a troc binary to measure instead of building this checkout's),
# LOAD_TROC_LOG (the server's log filter, default warn; e.g. web=debug for the writer's
# per-batch timings) and LOAD_SERVER_LOG (a file to keep the server's log in).
# A PostgreSQL URL must name an empty database.
# Rate limits are switched off: the point is what the server can carry. Each payment is
# 1.00 from one of the active demo members (its own `pay` token; the manager first raises
# its credit limit through the API, with no upper limit) to another chosen at random,
# each with its own Idempotency-Key. Prints wrk's report (latency percentiles) and the
# answers by status; docs/performance.md records the figures.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null 2>&1 || {
  echo "api-load: wrk is missing (apt-get install wrk)" >&2
  exit 1
}
CONNECTIONS="${LOAD_CONNECTIONS:-64}"
SECONDS_RUN="${LOAD_SECONDS:-30}"
THREADS="${LOAD_THREADS:-2}"
export LOAD_KEYS="${LOAD_KEYS:-on}"

# LOAD_BINARY: a troc binary to measure as it is (to compare two builds); default: build
# and use the release binary of this checkout.
if [[ -n "${LOAD_BINARY:-}" ]]; then
  TROC="$LOAD_BINARY"
else
  cargo build -q --release --bin troc
  TROC=target/release/troc
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "${LOAD_SERVER_LOG:-}" && -f "$WORK/server.log" ]]; then
    cp "$WORK/server.log" "$LOAD_SERVER_LOG"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="${1:-sqlite://$WORK/troc.db}"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

TROC_LOG="${LOAD_TROC_LOG:-warn}" "$TROC" --database-url "$DB" serve --demo --addr "127.0.0.1:$PORT" \
  --base-url "$BASE" --key-file "$WORK/network-key" \
  --rate-limit-login off --rate-limit-payments off --rate-limit-api-payments off \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$BASE/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done

# One pay token per demo member, and its member id (from GET /api/v1/me).
python3 - "$TROC" "$DB" "$BASE" >"$WORK/payments.lua" <<'PY'
import json, os, subprocess, sys, urllib.request
troc, db, base = sys.argv[1:4]
def call(method, path, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))

def new_token(email, scope):
    out = subprocess.run([troc, "--database-url", db, "token", "create", "--email", email,
                          "--scope", scope, "--name", "load"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]

# The manager gives every member room for the whole run (each payment of 1.00 costs its
# seller the minimum commission), through the API itself.
manager = new_token("gestion@demo.troc", "manage")
tokens, members = [], []
for n in range(1, 31):
    token = new_token(f"membre{n:02d}@demo.troc", "pay")
    me = call("GET", "/api/v1/me", token)
    account = call("GET", f"/api/v1/accounts/{me['account_id']}", token)
    if account["status"] != "active":
        continue
    call("PUT", f"/api/v1/accounts/{me['account_id']}/credit-limit", manager,
         {"credit_limit": "1000000.00", "reason": "load test"})
    tokens.append(token)
    members.append(me["member_id"])
print(f"-- {len(members)} paying members", file=sys.stderr)
print("local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}")
print("local members = {" + ",".join(str(m) for m in members) + "}")
print("local keys = " + ("true" if os.environ["LOAD_KEYS"] == "on" else "false"))
print(r'''
local threads = {}
local serial = 0
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
  math.randomseed(id * 7919 + os.time())
end
function request()
  serial = serial + 1
  local i = math.random(#tokens)
  local j = math.random(#members - 1)
  if j >= i then j = j + 1 end
  local body = '{"payee":' .. members[j] .. ',"amount":"1.00","reference":"load","memo":""}'
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
  }
  if keys then headers["Idempotency-Key"] = "load-" .. id .. "-" .. serial end
  return wrk.format("POST", "/api/v1/payments", headers, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 201 and not shown then
    shown = true
    io.write("first non-201 answer: " .. status .. " " .. body .. "\n")
  end
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d (%.0f/s)\n", status, n,
      n / (summary.duration / 1e6)))
  end
end
''')
PY

# A member's session cookie for the dashboard.
COOKIE="$(python3 - "$BASE" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/login").read().decode()
fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
fields.update({"email": "membre01@demo.troc", "password": "demo-troc-2026"})
opener.open(base + "/login", urllib.parse.urlencode(fields).encode())
print("; ".join(f"{c.name}={c.value}" for c in jar))
PY
)"

echo "== POST /api/v1/payments: $CONNECTIONS connections, $THREADS threads, ${SECONDS_RUN}s, keys $LOAD_KEYS ($DB)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$WORK/payments.lua" "$BASE"
echo "== GET /dashboard: $CONNECTIONS connections, $THREADS threads, ${SECONDS_RUN}s"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -H "Cookie: $COOKIE" "$BASE/dashboard"
# The ledger still holds: every balance is the sum of its postings, the sum is zero.
kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
"$TROC" --database-url "$DB" verify | tail -n 3
