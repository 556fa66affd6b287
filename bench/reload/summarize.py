#!/usr/bin/env python3
"""Summarizes bench/reload.sh runs into one table and results.json.

Usage: summarize.py RESULTS_DIR RUNS

RUNS are PROXY-MODE labels (weir-baseline, nginx-reload, haproxy-upgrade,
...). Per run it reads RESULTS_DIR/LABEL.wrk (wrk --latency output),
LABEL.events (one line per reload or upgrade, written by reload.sh),
LABEL.counts (key=value: what nginx's error log and HAProxy's master CLI
say about the reloads), LABEL.after (the probe after the run), LABEL.skipped (why a run did
not happen, when it did not) and, for
weir, its gzipped log (reload lines matched with WEIR_RELOAD_RE,
WEIR_RELOAD_FAIL_RE and WEIR_RELOAD_IGNORED_RE from the environment).

Columns: reloads (or upgrades) sent; taken in (started, refused ones
included) / refused, as the proxy itself reports them ("?" when it does not
say; "ign N": N reloads a weir without reload support logged as ignored); add/remove seen applied by the
probes; wrk's requests/s and p99; p99 over the same proxy's baseline;
non-2xx/3xx responses; socket errors connect/read/write/timeout; probe
requests that did not get a 200.
"""
import gzip
import json
import os
import pathlib
import re
import sys

# Weir's log lines for a reload, matched case-insensitively, first match
# wins: ignored (a weir without reload), refused, taken in. The defaults are
# guesses made before weir's reload existed; set the environment variables
# to its actual wording.
WEIR_RELOAD_IGNORED_RE = os.environ.get("WEIR_RELOAD_IGNORED_RE", r"reload is not supported|reload.*ignoring")
WEIR_RELOAD_FAIL_RE = os.environ.get(
    "WEIR_RELOAD_FAIL_RE", r"\]: reload failed")
WEIR_RELOAD_RE = os.environ.get(
    "WEIR_RELOAD_RE", r"\]: reloaded ")

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def latency_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_wrk(path):
    if not path.exists():
        return None
    text = path.read_text(errors="replace")
    out = {"requests": None, "rps": None, "p50_ms": None, "p99_ms": None, "non2xx": 0,
           "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", text, re.M)
        if m:
            out[key] = latency_ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    return out if out["rps"] is not None else None


def parse_events(path):
    rows = []
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        rows.append(line.split())
    return rows


def parse_counts(path):
    counts = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                counts[key] = int(value) if value.isdigit() else value
    return counts


def weir_log_counts(results, label):
    taken = refused = ignored = 0
    path = results / f"{label}.weir.log.gz"
    if not path.exists():
        return None, None, None
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            if re.search(WEIR_RELOAD_IGNORED_RE, line, re.I):
                ignored += 1
            elif re.search(WEIR_RELOAD_FAIL_RE, line, re.I):
                refused += 1
            elif re.search(WEIR_RELOAD_RE, line, re.I):
                taken += 1
    return taken, refused, ignored


def reload_summary(proxy, rows, counts, results, label):
    """Reloads sent, taken in, refused, probes; from the events and counts."""
    s = {"sent": len(rows), "command_failed": sum(1 for r in rows if r[3] != "0"),
         "variants": {}, "applied": 0, "applicable": 0, "probe_failures": 0,
         "broken_served": None, "taken": None, "refused": None, "refused_detail": ""}
    for r in rows:
        variant, verdict = r[2], r[4]
        s["variants"][variant] = s["variants"].get(variant, 0) + 1
        s["probe_failures"] += int(r[6])
        if variant in ("add", "remove"):
            s["applicable"] += 1
            s["applied"] += verdict == "applied"
        if variant == "broken":
            s["broken_served"] = verdict == "served"
    if proxy == "nginx":
        # reconfiguring: SIGHUPs the master took in (the direct one for the
        # broken file included); emerg: the master's refusals; the client's
        # refusals of the broken file are counted apart.
        s["taken"] = counts.get("nginx_reconfiguring")
        s["refused"] = counts.get("nginx_emerg")
        s["refused_detail"] = f"nginx -s reload refused {counts.get('nginx_cli_refused', '?')} itself"
    elif proxy == "haproxy":
        # The master's log; show proc's "[failed: n]" is shown beside it but
        # not used: in 2.6 it reads 0 again after the next good reload.
        s["taken"] = counts.get("haproxy_log_reloading")
        s["refused"] = counts.get("haproxy_log_failure")
        if "haproxy_reloads" in counts:
            s["refused_detail"] = (f"master log; master CLI show proc at the end: "
                                   f"{counts['haproxy_reloads']} reloads [failed: {counts.get('haproxy_failed')}]")
        else:
            s["refused_detail"] = f"master log (show proc: {counts.get('haproxy_show_proc_error', 'no answer')})"
    elif proxy == "weir":
        taken, refused, ignored = weir_log_counts(results, label)
        # taken in counts the refused ones too, as nginx's and HAProxy's do
        s["taken"] = taken + refused if taken is not None else None
        s["refused"], s["ignored"] = refused, ignored
        s["refused_detail"] = (f"weir log lines matching WEIR_RELOAD_RE / WEIR_RELOAD_FAIL_RE; "
                               f"{ignored} matching WEIR_RELOAD_IGNORED_RE (reload not supported)")
    return s


def upgrade_summary(rows):
    done = [r for r in rows if r[4] != "failed"]
    ms = sorted(int(r[5]) for r in done)
    return {"sent": len(rows), "done": len(done),
            "max_ms_to_new_process": ms[-1] if ms else None}


def fmt(v, spec):
    return format(v, spec) if v is not None else "?"


def main():
    results = pathlib.Path(sys.argv[1])
    labels = sys.argv[2].split()
    runs = {}
    for label in labels:
        proxy, _, mode = label.partition("-")
        skipped = results / f"{label}.skipped"
        if skipped.exists():
            runs[label] = {"proxy": proxy, "mode": mode, "skipped": skipped.read_text().strip()}
            continue
        run = {"proxy": proxy, "mode": mode, "wrk": parse_wrk(results / f"{label}.wrk")}
        rows = parse_events(results / f"{label}.events")
        counts = parse_counts(results / f"{label}.counts")
        run["counts"] = counts
        if mode == "reload":
            run["reload"] = reload_summary(proxy, rows, counts, results, label)
        elif mode == "upgrade":
            run["upgrade"] = upgrade_summary(rows)
        after = results / f"{label}.after"
        if after.exists():
            run["after"] = after.read_text().split()[0]
        runs[label] = run

    header = (f"{'proxy':<8} {'mode':<8} {'reloads':>7} {'taken/refused':>13} {'add/rm ok':>9} "
              f"{'req/s':>9} {'p99 ms':>7} {'p99/base':>8} {'non-2xx':>7} {'sock err c/r/w/t':>16} "
              f"{'probe fail':>10}")
    lines = [header]
    notes = []
    for label, run in runs.items():
        proxy, mode = run["proxy"], run["mode"]
        if "skipped" in run:
            lines.append(f"{proxy:<8} {mode:<8} (skipped: {run['skipped']})")
            continue
        w = run["wrk"]
        if w is None:
            lines.append(f"{proxy:<8} {mode:<8} (no wrk data: see {label}.wrk)")
            continue
        base = runs.get(f"{proxy}-baseline", {}).get("wrk")
        ratio = (w["p99_ms"] / base["p99_ms"]) if base and base["p99_ms"] and w["p99_ms"] else None
        run["p99_ratio"] = ratio
        e = w["errors"]
        errs = f"{e['connect']}/{e['read']}/{e['write']}/{e['timeout']}"
        reloads, taken, applied, probe_fail = "-", "-", "-", "-"
        if mode == "reload":
            r = run["reload"]
            reloads = str(r["sent"])
            taken = f"{fmt(r['taken'], 'd')}/{fmt(r['refused'], 'd')}"
            if r.get("ignored"):
                taken += f" ign {r['ignored']}"
            applied = f"{r['applied']}/{r['applicable']}"
            probe_fail = str(r["probe_failures"])
            served = {True: "kept serving", False: "probe errors", None: "no broken reload"}[r["broken_served"]]
            notes.append(f"{proxy} reload: broken file: {served}; refused: {r['refused_detail']}; "
                         f"variants {r['variants']}; reload commands failing: {r['command_failed']}")
        elif mode == "upgrade":
            u = run["upgrade"]
            reloads = f"{u['done']}/{u['sent']}"
            notes.append(f"{proxy} upgrade: {u['done']} of {u['sent']} saw the new process; "
                         f"slowest {fmt(u['max_ms_to_new_process'], 'd')} ms")
        if mode != "baseline" and run.get("after") not in (None, "served"):
            notes.append(f"{proxy} {mode}: the probe after the run got '{run['after']}'")
        lines.append(f"{proxy:<8} {mode:<8} {reloads:>7} {taken:>13} {applied:>9} "
                     f"{fmt(w['rps'], '.0f'):>9} {fmt(w['p99_ms'], '.2f'):>7} {fmt(ratio, '.2f'):>8} "
                     f"{w['non2xx']:>7} {errs:>16} {probe_fail:>10}")
    print("\n".join(lines + [""] + notes))
    (results / "results.json").write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
