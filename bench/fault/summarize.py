#!/usr/bin/env python3
"""Summarizes bench/fault.sh runs into one table.

Usage: summarize.py RESULTS_DIR LABELS

Reads, per label (weir, weir-nohc, nginx, haproxy), RESULTS_DIR/LABEL.wrk
(wrk's output followed by the FAULT lines of fault.lua) and
RESULTS_DIR/LABEL.events (kill_ms, restart_ms, listening_ms: ms after the
start of wrk). Prints per proxy: requests, non-2xx/3xx responses (all, and
during the outage), socket errors connect/read/write/timeout, the rate of
good responses (status below 400: a fast 502 is not throughput) before the
kill, during the outage and after the restart, the outage rate as a share of
the rate before, the time from the restart (origin b's process
started) until it listens, and until the first response it served through
the proxy; then the ratios of weir's rates
to each peer's. Writes RESULTS_DIR/LABEL.timeline (per second: responses,
from a, from b, non-2xx) next to the inputs.
"""
import collections
import pathlib
import re
import sys

ORIGINS = {1: "a", 2: "b"}  # fault.lua's origin indexes, as fault.sh passes them
RESTARTED = 2


def parse(results, label):
    wrk = (results / f"{label}.wrk").read_text(errors="replace")
    events = {}
    for line in (results / f"{label}.events").read_text().splitlines():
        key, _, value = line.partition("=")
        events[key] = int(value) if value else None
    summary = re.search(r"^FAULT summary (.*)$", wrk, re.M)
    if not summary:
        return None
    run = {"summary": {k: int(v) for k, v in (kv.split("=") for kv in summary.group(1).split())}}
    run["bucket_ms"] = int(re.search(r"^FAULT bucket_ms=(\d+)$", wrk, re.M).group(1))
    run["total"], run["bad"] = {}, {}
    run["origin"] = collections.defaultdict(dict)
    run["resume"] = collections.defaultdict(list)
    for m in re.finditer(r"^FAULT total (-?\d+) (\d+) (\d+)$", wrk, re.M):
        run["total"][int(m.group(1))] = int(m.group(2))
        run["bad"][int(m.group(1))] = int(m.group(3))
    for m in re.finditer(r"^FAULT origin (\d+) (-?\d+) (\d+)$", wrk, re.M):
        run["origin"][int(m.group(1))][int(m.group(2))] = int(m.group(3))
    for m in re.finditer(r"^FAULT resume (\d+) (-?\d+)$", wrk, re.M):
        run["resume"][int(m.group(1))].append(int(m.group(2)))
    run["events"] = events
    return run


def phases(run):
    """(name, first bucket, end bucket) for before / outage / after.

    The bucket holding the kill (restart) goes to the outage (after); the
    first bucket starts at wrk's first response and the last, partial bucket
    is left out.
    """
    ms = run["bucket_ms"]
    buckets = sorted(run["total"])
    first, last = buckets[0], buckets[-1]
    kill_b = run["events"]["kill_ms"] // ms
    restart_b = run["events"]["restart_ms"] // ms
    return [("before", first, kill_b), ("outage", kill_b, restart_b), ("after", restart_b, last)]


def rate(table, lo, hi, ms):
    n = sum(v for b, v in table.items() if lo <= b < hi)
    return n / ((hi - lo) * ms / 1000.0) if hi > lo else float("nan")


def count(table, lo, hi):
    return sum(v for b, v in table.items() if lo <= b < hi)


def recovery_s(run):
    restart = run["events"]["restart_ms"]
    after = [t for t in run["resume"].get(RESTARTED, []) if t >= restart]
    return (min(after) - restart) / 1000.0 if after else None


def write_timeline(results, label, run):
    ms = run["bucket_ms"]
    per_s = 1000 // ms
    rows = collections.defaultdict(lambda: [0, 0, 0, 0])
    for b, v in run["total"].items():
        rows[b // per_s][0] += v
        rows[b // per_s][3] += run["bad"].get(b, 0)
    for i, col in ((1, 1), (2, 2)):
        for b, v in run["origin"].get(i, {}).items():
            rows[b // per_s][col] += v
    ev = run["events"]
    lines = [f"# {label}: second after wrk start, responses, from a, from b, non-2xx/3xx; "
             f"b killed at {ev['kill_ms'] / 1000:.2f}s, restarted at {ev['restart_ms'] / 1000:.2f}s"]
    for s in sorted(rows):
        lines.append(f"{s:>4} {rows[s][0]:>8} {rows[s][1]:>8} {rows[s][2]:>8} {rows[s][3]:>6}")
    (results / f"{label}.timeline").write_text("\n".join(lines) + "\n")


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def main():
    results = pathlib.Path(sys.argv[1])
    labels = sys.argv[2].split()
    header = (f"{'proxy':<10} {'requests':>9} {'non-2xx':>8} {'(outage)':>8} {'sock err c/r/w/t':>17} "
              f"{'ok/s before':>12} {'outage':>9} {'after':>9} {'out/bef':>7} {'b listening':>11} {'b back after':>12}")
    lines = [header]
    rates = {}
    for label in labels:
        run = parse(results, label)
        if run is None or not run["total"]:
            lines.append(f"{label:<10} (no data: see {label}.wrk)")
            continue
        write_timeline(results, label, run)
        s = run["summary"]
        ms = run["bucket_ms"]
        (_, b0, b1), (_, o0, o1), (_, a0, a1) = phases(run)
        ok = {b: v - run["bad"].get(b, 0) for b, v in run["total"].items()}
        r = (rate(ok, b0, b1, ms), rate(ok, o0, o1, ms), rate(ok, a0, a1, ms))
        rates[label.split("-")[0]] = r
        errs = f"{s['connect']}/{s['read']}/{s['write']}/{s['timeout']}"
        back = recovery_s(run)
        back_txt = f"{back:.2f} s" if back is not None else "not seen"
        ev = run["events"]
        up = ev.get("listening_ms")
        up_txt = f"{(up - ev['restart_ms']) / 1000:.2f} s" if up is not None else "failed"
        lines.append(f"{label:<10} {s['requests']:>9} {s['status']:>8} {count(run['bad'], o0, o1):>8} "
                     f"{errs:>17} {r[0]:>12.0f} {r[1]:>9.0f} {r[2]:>9.0f} {r[1] / r[0]:>7.2f} {up_txt:>11} {back_txt:>12}")
    weir = rates.get("weir")
    if weir:
        for peer in ("nginx", "haproxy"):
            if peer in rates:
                p = rates[peer]
                lines.append(f"weir/{peer:<8} ok/s before {ratio(weir[0], p[0])}, "
                             f"outage {ratio(weir[1], p[1])}, after {ratio(weir[2], p[2])}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
