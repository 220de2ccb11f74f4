#!/usr/bin/env python3
"""Sequential latency of a few Troc pages over one keep-alive connection.

Usage: scripts/http-latency.py BASE_URL EMAIL PASSWORD [REQUESTS]
Logs in through the real form, then GETs each page REQUESTS times and prints the median,
the 95th percentile and the rate. Standard library only; measures one client, not capacity.
"""
import http.client
import re
import statistics
import sys
import time
import urllib.parse


def main():
    base, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80)
    cookies = {}

    def request(method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name] = rest.split(";")[0]
        return response.status, data

    _, page = request("GET", "/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": password})
    status, _ = request("POST", "/login", form)
    assert status == 303, status
    for path in ["/dashboard", "/history", "/market", "/history.csv", "/statement"]:
        timings = []
        for _ in range(count):
            start = time.perf_counter()
            status, _ = request("GET", path)
            timings.append(time.perf_counter() - start)
            assert status == 200, (path, status)
        timings.sort()
        p50 = statistics.median(timings) * 1000
        p95 = timings[int(len(timings) * 0.95) - 1] * 1000
        rate = count / sum(timings)
        print(f"{path:14} n={count} p50={p50:.2f} ms p95={p95:.2f} ms {rate:.0f} req/s")


if __name__ == "__main__":
    main()
