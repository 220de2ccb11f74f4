#!/usr/bin/env python3
"""How fast webhooks follow a busy account (docs/performance.md, "Webhooks").

    scripts/webhook-load.py TROC_BINARY [SECONDS] [THREADS]

Starts `troc serve --demo --webhook-targets any` on a fresh SQLite file, a receiver on
127.0.0.1 (Python's threaded HTTP server, answering 204), registers a webhook for the demo
member membre01 through the API, then for SECONDS (default 20) THREADS (default 8) clients
pay from membre01 to the other demo members as fast as the server answers. It waits until
every payment's event has arrived (at most 60 s after the last payment) and prints: the
payments, the POSTs and events received, duplicates, events never received, and the lag
from each payment's answer to its event's arrival (p50, p90, p99, max). Standard library
only; rate limits are switched off.
"""

import http.client
import http.server
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    troc = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    work = tempfile.mkdtemp()
    db = f"sqlite://{work}/troc.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    arrivals = {}  # transaction id -> first arrival (monotonic)
    counts = {"posts": 0, "events": 0, "duplicates": 0}
    lock = threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            now = time.monotonic()
            events = json.loads(body)["events"]
            with lock:
                counts["posts"] += 1
                for event in events:
                    if event["type"] != "transaction":
                        continue
                    counts["events"] += 1
                    tx = event["transaction"]["id"]
                    if tx in arrivals:
                        counts["duplicates"] += 1
                    else:
                        arrivals[tx] = now
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    log = open(f"{work}/server.log", "w")
    server = subprocess.Popen(
        [troc, "--database-url", db, "serve", "--demo", "--addr", f"127.0.0.1:{port}",
         "--base-url", base, "--key-file", f"{work}/network-key", "--webhook-targets", "any",
         "--rate-limit-login", "off", "--rate-limit-payments", "off",
         "--rate-limit-api-payments", "off"],
        stdout=log, stderr=log, env={**os.environ, "TROC_LOG": "warn"})
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except Exception:
                time.sleep(0.5)

        def token(email, scope):
            out = subprocess.run([troc, "--database-url", db, "token", "create", "--email",
                                  email, "--scope", scope, "--name", "load"],
                                 check=True, capture_output=True, text=True).stdout
            return out.strip().splitlines()[-1]

        def call(method, path, bearer, body=None):
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(
                base + path, data=data, method=method,
                headers={"Authorization": "Bearer " + bearer,
                         "Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))

        manager = token("gestion@demo.troc", "manage")
        payer = token("membre01@demo.troc", "pay")
        me = call("GET", "/api/v1/me", payer)
        call("PUT", f"/api/v1/accounts/{me['account_id']}/credit-limit", manager,
             {"credit_limit": "10000000.00", "reason": "webhook load"})
        call("POST", "/api/v1/webhooks", payer, {"url": hook_url})
        directory = call("GET", "/api/v1/directory?limit=200", payer)
        payees = [m["member_id"] for m in directory["items"] if m["member_id"] != me["member_id"]]
        assert payees, "the demo directory lists no other member"

        answered = {}  # transaction id -> answer time (monotonic)
        stop_at = time.monotonic() + seconds

        def client(seed):
            rng = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", port)
            while time.monotonic() < stop_at:
                body = json.dumps({"payee": rng.choice(payees), "amount": "1.00",
                                   "reference": "hook"})
                conn.request("POST", "/api/v1/payments", body,
                             {"Authorization": "Bearer " + payer,
                              "Content-Type": "application/json"})
                answer = conn.getresponse()
                data = answer.read()
                now = time.monotonic()
                if answer.status == 201:
                    with lock:
                        answered[json.loads(data)["transaction_id"]] = now

        clients = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        started = time.monotonic()
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        paid_for = time.monotonic() - started
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                if all(tx in arrivals for tx in answered):
                    break
            time.sleep(0.05)
        drained = time.monotonic() - started
        with lock:
            lags = [(arrivals[tx] - t) * 1000 for tx, t in answered.items() if tx in arrivals]
            missing = sum(1 for tx in answered if tx not in arrivals)
            print(f"payments: {len(answered)} in {paid_for:.1f} s "
                  f"({len(answered) / paid_for:.0f}/s, {threads} clients)")
            print(f"received: {counts['posts']} POSTs, {counts['events']} events "
                  f"({counts['events'] / max(counts['posts'], 1):.1f} per POST), "
                  f"{counts['duplicates']} duplicates, {missing} missing; "
                  f"all in by {drained:.1f} s")
            print("lag from the payment's answer to its event: "
                  f"p50 {percentile(lags, 50):.0f} ms, p90 {percentile(lags, 90):.0f} ms, "
                  f"p99 {percentile(lags, 99):.0f} ms, max {max(lags):.0f} ms")
    finally:
        server.terminate()
        server.wait()
        receiver.shutdown()


if __name__ == "__main__":
    main()
