#!/usr/bin/env python3
"""bench/stale.sh's table: per proxy, from LABEL.wrk (STALE lines) and
LABEL.events (kill_ms): responses/s and the share answered 200 before the
origin was killed and after it, the requests wrk counted as socket errors,
and the ratio of weir's share of 200s after the kill to each peer's."""
import re
import sys
from pathlib import Path


def load(results: Path, label: str):
    wrk = (results / f"{label}.wrk").read_text()
    events = dict(line.split("=", 1) for line in (results / f"{label}.events").read_text().split())
    kill = int(events["kill_ms"])
    bucket = int(re.search(r"STALE bucket_ms=(\d+)", wrk).group(1))
    summary = re.search(r"STALE summary (.*)", wrk).group(1)
    fields = dict(kv.split("=") for kv in summary.split())
    before = [0, 0, 0]  # responses, ok, ms
    after = [0, 0, 0]
    buckets = [tuple(map(int, m)) for m in re.findall(r"STALE total (-?\d+) (\d+) (\d+)", wrk)]
    for b, total, ok in buckets:
        start = b * bucket
        side = before if start + bucket <= kill else after if start >= kill else None
        if side is None:
            continue
        side[0] += total
        side[1] += ok
    first = min(b for b, _, _ in buckets) * bucket if buckets else 0
    last = (max(b for b, _, _ in buckets) + 1) * bucket if buckets else 0
    before[2] = max(1, kill - max(first, 0))
    after[2] = max(1, last - kill)
    errors = sum(int(fields[k]) for k in ("connect", "read", "write", "timeout"))
    return before, after, errors


def main():
    results = Path(sys.argv[1])
    labels = sys.argv[2].split()
    rows = {label: load(results, label) for label in labels}
    print("| proxy | req/s before | 200s before | req/s origin down | 200s origin down | socket errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    share = {}
    for label, (before, after, errors) in rows.items():
        share[label] = after[1] / after[0] if after[0] else 0.0
        print(f"| {label} | {before[0] * 1000 / before[2]:,.0f} | {100 * before[1] / max(1, before[0]):.2f}% | "
              f"{after[0] * 1000 / after[2]:,.0f} | {100 * share[label]:.2f}% | {errors} |")
    if "weir" in rows:
        for label in labels:
            if label != "weir" and share[label] > 0:
                print(f"weir / {label}: 200s with the origin down {share['weir'] / share[label]:.2f}x")


if __name__ == "__main__":
    main()
