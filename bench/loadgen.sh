#!/usr/bin/env bash
# weir-bench against wrk on the same target, side by side: is the load
# generator the bottleneck? One weir-origin (2 threads) on 127.0.0.1, then
# ROUNDS alternating runs of weir-bench and wrk with the same threads,
# connections and duration (closed loop, keep-alive). Per run: requests/s
# and the load generator's own CPU time (user + system, from getrusage of
# the finished child) per request; then medians and weir-bench's ratios.
#
# Usage: bench/loadgen.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# Environment (all optional):
#   ROUNDS=3  DURATION=5 (seconds)  THREADS=2  CONNECTIONS=64
#   TARGET=/bytes/100   the origin's path
#   RESULTS_DIR=BUILD_DIR/bench-results/loadgen-DATE   raw outputs
set -euo pipefail

BENCH_NAME=loadgen
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
TARGET=${TARGET:-/bytes/100}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/loadgen-$(date +%Y%m%d-%H%M%S)}
ORIGIN_BIN=$BUILD_DIR/weir-origin
BENCH_BIN=$BUILD_DIR/weir-bench
for tool in wrk python3 timeout; do
  command -v "$tool" >/dev/null || die "missing '$tool' (WEIR_BENCH_DEPS=1 scripts/deps.sh installs wrk)"
done
[ -x "$ORIGIN_BIN" ] && [ -x "$BENCH_BIN" ] || die "build weir-origin and weir-bench first (cmake --build $BUILD_DIR)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-loadgen.XXXXXX")
mkdir -p "$RESULTS_DIR"
ORIGIN_PID=""
stop_origin() { [ -n "$ORIGIN_PID" ] && stop_pid "$ORIGIN_PID"; return 0; }
bench_traps stop_origin

"$ORIGIN_BIN" --listen 127.0.0.1:0 --threads 2 --name loadgen >"$WORK/origin.out" 2>"$WORK/origin.out.err" &
ORIGIN_PID=$!
PORT=$(origin_ports loadgen "$WORK/origin.out" "$ORIGIN_PID") || die "weir-origin did not start"
URL="http://127.0.0.1:$PORT$TARGET"
log "weir-origin (2 threads) on 127.0.0.1:$PORT; $ROUNDS rounds of ${DURATION}s, -t$THREADS -c$CONNECTIONS, $URL"

# timed OUT CMD...: runs CMD (under timeout), its output to OUT, and writes
# the CPU seconds it used (user + system) to OUT.cpu.
timed() {
  local out=$1
  shift
  python3 - "$out" "$@" <<'PY'
import resource, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
with open(out, "w") as f:
    subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(out + ".cpu", "w").write(f"{r.ru_utime + r.ru_stime}\n")
PY
}

limit=$((DURATION + 30))
for round in $(seq "$ROUNDS"); do
  order=(weir-bench wrk)
  [ $((round % 2)) = 0 ] && order=(wrk weir-bench)
  for gen in "${order[@]}"; do
    out="$RESULTS_DIR/$gen-r$round.txt"
    if [ "$gen" = wrk ]; then
      timed "$out" timeout -k 5 "$limit" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"s "$URL"
    else
      timed "$out" timeout -k 5 "$limit" "$BENCH_BIN" -q -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"s \
        --json "$out.json" "$URL"
    fi
    log "round $round: $gen done"
  done
done

python3 - "$RESULTS_DIR" "$ROUNDS" <<'PY' | tee "$RESULTS_DIR/table.txt"
import json, pathlib, re, statistics, sys
d, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])

def run(gen, r):
    out = d / f"{gen}-r{r}.txt"
    cpu = float((d / f"{out.name}.cpu").read_text())
    if gen == "wrk":
        text = out.read_text(errors="replace")
        n = int(re.search(r"(\d+) requests in", text).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
        errors += sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    else:
        j = json.loads((d / f"{out.name}.json").read_text())
        n, rps, errors = j["requests"], j["rps"], j["errors"]["total"]
    return rps, cpu / n * 1e6 if n else float("nan"), errors

print(f"{'generator':<11} {'round':>5} {'req/s':>10} {'CPU us/req':>11} {'errors':>7}")
med = {}
for gen in ("weir-bench", "wrk"):
    runs = [run(gen, r) for r in range(1, rounds + 1)]
    for r, (rps, us, err) in enumerate(runs, 1):
        print(f"{gen:<11} {r:>5} {rps:>10.0f} {us:>11.2f} {err:>7}")
    med[gen] = (statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs))
    print(f"{gen:<11} {'med':>5} {med[gen][0]:>10.0f} {med[gen][1]:>11.2f}")
print(f"weir-bench/wrk: req/s {med['weir-bench'][0] / med['wrk'][0]:.2f}, "
      f"CPU per request {med['weir-bench'][1] / med['wrk'][1]:.2f}")
PY
echo "results: $RESULTS_DIR"
