#!/usr/bin/env bash
# Hits during a purge by tag: weir holds COUNT objects tagged "a" and serves
# hits of one other URL under wrk; a purge of tag "a" runs in the middle of
# a short wrk run. Compared with a run without the purge, in alternating
# rounds (the store is filled again before each purge).
#
# Usage: bench/purge.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# Reported: the median over ROUNDS of wrk's p99 and requests/s for the hot
# URL with and without the purge, their ratio, and the purge's own time
# (curl's time_total for POST /cache/purge?tag=a) and count.
#
# Environment (all optional):
#   COUNT=100000 ROUNDS=5 DURATION=2 (s of each wrk run; the purge starts
#   at PURGE_AT_MS=700)  WRK_THREADS=2 WRK_CONNECTIONS=32
#   RESULTS_DIR=BUILD_DIR/bench-results/purge-DATE  KEEP_TMP=1
set -euo pipefail

BENCH_NAME=purge
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
COUNT=${COUNT:-100000}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-2}
PURGE_AT_MS=${PURGE_AT_MS:-700}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/purge-$(date +%Y%m%d-%H%M%S)}
for v in COUNT ROUNDS DURATION PURGE_AT_MS WRK_THREADS WRK_CONNECTIONS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ "$COUNT" -le 1000000 ] && [ "$ROUNDS" -le 20 ] && [ "$DURATION" -le 30 ] || die "COUNT <= 1000000, ROUNDS <= 20, DURATION <= 30"
for tool in wrk curl python3 timeout; do command -v "$tool" >/dev/null || die "missing '$tool'"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-purge.XXXXXX")
mkdir -p "$RESULTS_DIR"
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do stop_pid "$p"; done; PIDS=(); }
bench_traps stop_all

origin() {  # origin NAME: prints its port
  "$BUILD_DIR/weir-origin" --listen 127.0.0.1:0 --threads 1 --name "$1" >"$WORK/origin-$1.out" 2>"$WORK/origin-$1.out.err" &
  PIDS+=($!)
  origin_ports "$1" "$WORK/origin-$1.out" $! || die "origin $1 did not start"
}
A=$(origin a)
B=$(origin b)
read -r PORT ADMIN <<<"$(free_ports 2)"
sed -e "s|@PORT@|$PORT|" -e "s|@ADMIN_PORT@|$ADMIN|" -e "s|@ORIGIN_A@|$A|" -e "s|@ORIGIN_B@|$B|" -e "s|@TMPDIR@|$WORK|" \
  "$HERE/purge/weir.yaml.in" >"$WORK/weir.yaml"
cp "$WORK/weir.yaml" "$RESULTS_DIR/"
"$BUILD_DIR/weir" -c "$WORK/weir.yaml" >"$WORK/weir.out" 2>&1 &
WEIR_PID=$!
PIDS+=("$WEIR_PID")
for i in $(seq 100); do curl -sf -m 1 "http://127.0.0.1:$PORT/hot?cache=600" >/dev/null && break; sleep 0.1; done

fill() {  # until COUNT objects are stored (the fill script cycles over them)
  timeout -k 5 60 wrk -t2 -c32 -d"$((COUNT / 15000 + 3))"s -s "$HERE/purge/fill.lua" "http://127.0.0.1:$PORT/" -- "$COUNT" \
    >"$WORK/fill.out" 2>&1 || die "fill failed: $(tail -n 3 "$WORK/fill.out")"
}

hot() {  # hot OUT [purge]: one wrk run on the hot URL, with a purge at PURGE_AT_MS
  timeout -k 5 $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION"s --latency \
    "http://127.0.0.1:$PORT/hot?cache=600" >"$1" 2>&1 &
  WRK_PID=$!
  if [ "${2:-}" = purge ]; then
    sleep "0.$(printf '%03d' "$PURGE_AT_MS")"
    curl -s -X POST -o "$1.purge" -w '%{time_total}\n' "http://127.0.0.1:$ADMIN/cache/purge?tag=a" >"$1.time"
  fi
  wait "$WRK_PID" || die "wrk failed: $(tail -n 3 "$1")"
  WRK_PID=""
}

for r in $(seq "$ROUNDS"); do
  fill
  hot "$RESULTS_DIR/plain-$r.wrk"
  hot "$RESULTS_DIR/purge-$r.wrk" purge
  log "round $r: purged $(cat "$RESULTS_DIR/purge-$r.wrk.purge" | tr -d '\n') in $(cat "$RESULTS_DIR/purge-$r.wrk.time") s"
done

python3 - "$RESULTS_DIR" "$ROUNDS" <<'PY' | tee "$RESULTS_DIR/table.txt"
import re, statistics, sys
from pathlib import Path
d, rounds = Path(sys.argv[1]), int(sys.argv[2])
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
def wrk(path):
    t = path.read_text()
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
    return ms(*p99.groups()), float(rps.group(1))
plain = [wrk(d / f"plain-{r}.wrk") for r in range(1, rounds + 1)]
purge = [wrk(d / f"purge-{r}.wrk") for r in range(1, rounds + 1)]
times = [float((d / f"purge-{r}.wrk.time").read_text()) * 1000 for r in range(1, rounds + 1)]
counts = [(d / f"purge-{r}.wrk.purge").read_text().strip() for r in range(1, rounds + 1)]
med = statistics.median
p_plain, p_purge = med(x[0] for x in plain), med(x[0] for x in purge)
print("| run | hit p99 (median) | hit req/s (median) |")
print("| --- | --- | --- |")
print(f"| no purge | {p_plain:.2f} ms | {med(x[1] for x in plain):,.0f} |")
print(f"| purge of tag a during the run | {p_purge:.2f} ms | {med(x[1] for x in purge):,.0f} |")
print(f"p99 with purge / without: {p_purge / p_plain:.2f}; purge time median {med(times):.0f} ms, max {max(times):.0f} ms; answers {sorted(set(counts))}")
PY
echo "results: $RESULTS_DIR"
