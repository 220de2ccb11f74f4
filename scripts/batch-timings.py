#!/usr/bin/env python3
"""The write path's per-batch timings, from a server log at debug level.

Usage: scripts/batch-timings.py LOG [PERIOD_MS ...]
LOG is what `LOAD_TROC_LOG=web::store=debug LOAD_SERVER_LOG=LOG scripts/api-load.sh` (or
`TROC_LOG=web::store=debug troc serve`) wrote. Prints, over the middle 80 % of the batches
(the first and last tenth are warm-up and wind-down), the percentiles of each phase
(`begin`, `load`, `decide`, `write`, `commit`, in microseconds) and of the batch as a whole.
With PERIOD_MS, it also folds the slowest 3 % of the batches on each period: a phase that
recurs with the background checkpointer (`SQLITE_CHECKPOINT_INTERVAL`, 200 ms) crowds into
a few tenths of its own period and spreads evenly on the others (docs/performance.md,
"Thirteenth HTTP run"). Standard library only.
"""
import collections
import re
import sys

PHASES = ["operations", "begin_us", "load_us", "decide_us", "write_us", "commit_us"]
LINE = re.compile(
    r"(\d\d):(\d\d):(\d\d\.\d+)Z.*batch committed "
    + " ".join(rf"{name}=(\d+)" for name in PHASES)
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    batches = []
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        for line in log:
            found = LINE.search(ANSI.sub("", line))
            if found:
                hours, minutes, seconds = found.group(1, 2, 3)
                at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
                batches.append((at, [int(v) for v in found.groups()[3:]]))
    tenth = len(batches) // 10
    batches = batches[tenth : len(batches) - tenth]
    if not batches:
        sys.exit("no batch timings in the log (was it written at debug level?)")
    print(f"{len(batches)} batches (the middle 80 %)")
    print(f"{'':10} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for i, name in enumerate(PHASES):
        values = [phases[i] for _, phases in batches]
        cells = [percentile(values, s) for s in (0.5, 0.9, 0.99)] + [max(values)]
        print(f"{name:10} " + " ".join(f"{c:>8}" for c in cells))
    totals = [sum(phases[1:]) for _, phases in batches]
    cells = [percentile(totals, s) for s in (0.5, 0.9, 0.99)] + [max(totals)]
    print(f"{'batch_us':10} " + " ".join(f"{c:>8}" for c in cells))
    slow_from = percentile(totals, 0.97)
    slow = [at for (at, _), total in zip(batches, totals) if total > slow_from]
    for period_ms in sys.argv[2:]:
        period = float(period_ms) / 1000
        tenths = collections.Counter(int((at % period) / period * 10) for at in slow)
        spread = " ".join(f"{tenths.get(t, 0):>3}" for t in range(10))
        print(f"slowest {len(slow)} folded on {period_ms} ms, per tenth: {spread}")


if __name__ == "__main__":
    main()
