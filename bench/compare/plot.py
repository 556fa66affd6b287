#!/usr/bin/env python3
"""bench/compare.sh's latency plot: a self-contained SVG of each target's
latency by percentile (weir-bench's "curve", median over rounds per point),
the x axis spread as 1/(1 - p) on a log scale, as HdrHistogram plots are, so
the tail is visible.

Usage: plot.py RESULTS_DIR WORKLOAD TARGETS OUT.svg
Reads RESULTS_DIR/<workload>__<target>__r<round>.txt.json.
"""
import json
import math
import pathlib
import statistics
import sys

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 440, 70, 170, 40, 60


def curves(results, workload, targets):
    out = {}
    for target in targets:
        runs = [json.loads(p.read_text()) for p in sorted(results.glob(f"{workload}__{target}__r*.txt.json"))]
        if not runs:
            continue
        points = {}
        for run in runs:
            for pct, ms in run["latency_ms"]["curve"]:
                points.setdefault(pct, []).append(ms)
        out[target] = sorted((pct, statistics.median(v)) for pct, v in points.items())
    return out


def x_of(pct):  # 1/(1-p), capped at the 99.999th
    return math.log10(1 / max(1 - min(pct, 99.999) / 100, 1e-5))


def main():
    results, workload, targets, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(), sys.argv[4]
    data = curves(results, workload, targets)
    if not data:
        print(f"plot: no weir-bench results for {workload}", file=sys.stderr)
        return 1
    y_max = max(ms for c in data.values() for _, ms in c) or 1
    y_top = 10 ** math.ceil(math.log10(y_max * 1.05)) if y_max > 0 else 1
    for step in (1, 2, 5):  # a rounder top than the next power of ten when it fits
        if y_top / 10 * step >= y_max * 1.05:
            y_top = y_top / 10 * step
            break
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    X = lambda p: LEFT + x_of(p) / 5 * pw
    Y = lambda ms: TOP + ph - ms / y_top * ph
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">Latency by percentile, workload {workload} (weir-bench)</text>',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" stroke="black"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" stroke="black"/>']
    for label, pct in (("0%", 0), ("90%", 90), ("99%", 99), ("99.9%", 99.9), ("99.99%", 99.99), ("99.999%", 99.999)):
        x = X(pct)
        svg.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
        svg.append(f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">{label}</text>')
    for i in range(6):
        ms = y_top * i / 5
        y = Y(ms)
        svg.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{ms:g}</text>')
    svg.append(f'<text x="{LEFT + pw / 2}" y="{H - 16}" text-anchor="middle">percentile</text>')
    svg.append(f'<text x="16" y="{TOP + ph / 2}" transform="rotate(-90 16 {TOP + ph / 2})" text-anchor="middle">latency (ms)</text>')
    for i, (target, curve) in enumerate(data.items()):
        color = COLORS[i % len(COLORS)]
        pts = " ".join(f"{X(p):.1f},{Y(ms):.1f}" for p, ms in curve if p < 100)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = TOP + 14 + 20 * i
        p99 = dict(curve).get(99, float("nan"))
        svg.append(f'<line x1="{LEFT + pw + 14}" y1="{ly - 4}" x2="{LEFT + pw + 34}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
        svg.append(f'<text x="{LEFT + pw + 40}" y="{ly}">{target} (p99 {p99:.2f} ms)</text>')
    svg.append("</svg>")
    pathlib.Path(out).write_text("\n".join(svg) + "\n")
    print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
