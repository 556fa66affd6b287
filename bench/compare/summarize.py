#!/usr/bin/env python3
"""Summarizes bench/compare.sh wrk outputs into a comparison table.

Usage: summarize.py RESULTS_DIR WORKLOADS TARGETS
Reads RESULTS_DIR/<workload>__<target>__r<round>.txt (raw `wrk --latency`
output, or weir-bench's RESULTS_DIR/<...>.txt.json) and prints, per workload
and target: median requests/s over rounds, median p99 latency (and p99.9
with weir-bench), total errors (socket errors + non-2xx/3xx responses), and
each peer's ratio to weir of the medians: weir/nginx, weir/haproxy,
weir/weir_base (a second weir binary), weir_admin/weir (metrics and the
admin listener on, scraped every second, against off), weir_lr/weir
(least_request against round_robin), and for the caching proxies
weir_cache/nginx_cache, weir_cache/haproxy_cache, weir_cache/varnish, the
best of those peers, and each against the origin (direct).
"""
import json
import pathlib
import re
import statistics
import sys

# The caching proxies compare.sh runs for the hit_* workloads; weir_cache
# is weir with its cache on.
CACHE_PEERS = ("nginx_cache", "haproxy_cache", "varnish")

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text):
    """Returns (req_per_sec, p99_ms, errors) from one wrk output, or None."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not rps:
        return None
    p99 = re.search(r"^\s+99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    p99_ms = float(p99.group(1)) * UNITS_MS[p99.group(2)] if p99 else float("nan")
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    return float(rps.group(1)), p99_ms, errors


def parse_bench(path):
    """(req_per_sec, p99_ms, errors, p99.9_ms) from weir-bench's JSON."""
    j = json.loads(path.read_text())
    return j["rps"], j["latency_ms"]["p99"], j["errors"]["total"], j["latency_ms"]["p99.9"]


def collect(results, workload, target):
    runs = []
    for path in sorted(results.glob(f"{workload}__{target}__r*.txt")):
        bench = path.with_name(path.name + ".json")
        parsed = parse_bench(bench) if bench.exists() else parse_wrk(path.read_text(errors="replace"))
        if parsed:
            runs.append(parsed)
    return runs


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


# Each peer's ratio to weir, by the kind of target: the pass-through
# proxies against weir, the caching ones against weir_cache.
PASS_PEERS = ("nginx", "haproxy", "weir_base")
VARIANTS = ("weir_lr", "weir_admin")  # weir with another setting: VARIANT/weir


def ratio_line(workload, medians):
    parts = []
    weir, weir_cache = medians.get("weir"), medians.get("weir_cache")
    if weir:
        parts += [f"weir/{p} = {ratio(weir, medians[p])}" for p in PASS_PEERS if p in medians]
        parts += [f"{v}/weir = {ratio(medians[v], weir)}" for v in VARIANTS if v in medians]
    if weir_cache:
        parts += [f"weir_cache/{p} = {ratio(weir_cache, medians[p])}"
                  for p in CACHE_PEERS + ("weir_base_cache",) if p in medians]
    return f"{workload:<10} ratios        " + ("   ".join(parts) if parts else "(no peer of weir measured)")


def main():
    results = pathlib.Path(sys.argv[1])
    workloads = sys.argv[2].split()
    targets = sys.argv[3].split()
    lines = []
    header = f"{'workload':<10} {'target':<13} {'runs':>4} {'req/s (median)':>15} {'min':>10} {'max':>10} {'p99 ms (median)':>16} {'errors':>7}"
    for workload in workloads:
        lines.append(header)
        medians = {}
        for target in targets:
            runs = collect(results, workload, target)
            if not runs:
                lines.append(f"{workload:<10} {target:<13} {0:>4} {'(no data)':>15}")
                continue
            rps = [r[0] for r in runs]
            medians[target] = statistics.median(rps)
            p99 = statistics.median(r[1] for r in runs)
            errors = sum(r[2] for r in runs)
            line = (f"{workload:<10} {target:<13} {len(runs):>4} {medians[target]:>15.0f} "
                    f"{min(rps):>10.0f} {max(rps):>10.0f} {p99:>16.2f} {errors:>7}")
            if all(len(r) > 3 for r in runs):  # weir-bench: p99.9 too
                line += f"   p99.9 {statistics.median(r[3] for r in runs):.2f} ms"
            lines.append(line)
        lines.append(ratio_line(workload, medians))
        peers = {t: medians[t] for t in CACHE_PEERS if t in medians}
        if peers:
            best = max(peers, key=peers.get)
            cache_line = f"{workload:<10} cache         best peer = {best}"
            cache_line += f"   weir_cache/{best} = {ratio(medians.get('weir_cache'), peers[best])}"
            if "direct" in medians:
                cache_line += f"   {best}/direct = {ratio(peers[best], medians['direct'])}"
                cache_line += f"   weir_cache/direct = {ratio(medians.get('weir_cache'), medians['direct'])}"
            lines.append(cache_line)
        lines.append("")
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
