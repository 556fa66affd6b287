#!/usr/bin/env bash
# Side-by-side comparison of Weir, nginx, HAProxy and Varnish on 127.0.0.1,
# all in front of the same weir-origin in the same run (what `make bench`
# runs).
#
# Usage: bench/compare.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# By default every workload runs: pass-through (small, large, latency) on
# weir, nginx and HAProxy, and cache workloads (hit_small, hit_large, zipf)
# on weir's cache, nginx's proxy_cache, HAProxy's cache and Varnish, each
# workload in rotating rounds; the origin itself ("direct") is measured once
# per workload. Peers that are not installed are skipped (WEIR_BENCH_DEPS=1
# scripts/deps.sh installs them). It prints a table of medians with each
# peer's ratio to weir (weir_cache for the cache workloads), writes a
# latency-by-percentile plot per workload (latency-WORKLOAD.svg) and keeps
# the raw weir-bench JSON beside them.
#
# Environment (all optional):
#   TARGETS="direct weir nginx haproxy weir_cache nginx_cache haproxy_cache varnish"
#                 what to measure. "direct" is the origin itself;
#                 "weir_base" is a second weir binary, WEIR_BASE_BIN (e.g.
#                 the last release), to compare a change with in one run
#                 ("weir_base_cache": that binary with weir_cache's config);
#                 "weir_lr" is weir with least_request; "weir_admin" is weir
#                 with the admin listener (metrics on), /metrics scraped once
#                 a second; "weir_cache" is weir with its cache on the route
#                 (256 MiB); "nginx_cache" (proxy_cache on tmpfs,
#                 proxy_cache_lock), "haproxy_cache" (its cache section) and
#                 "varnish" (-s malloc,256m, 2 thread pools) are the caching
#                 peers. A cache workload runs on the caching targets and the
#                 others on the rest; when TARGETS holds only one kind, every
#                 workload runs on all of them.
#   WORKLOADS="small large latency hit_small hit_large zipf"  (wrk: the first
#                 two and the hit_* ones)
#                 small: /bytes/100, large: /bytes/65536;
#                 hit_small, hit_large: the same with Cache-Control: max-age=3600,
#                 so a caching proxy answers from its cache after the warm-up;
#                 latency: /bytes/100 open loop (weir-bench -R) at LATENCY_RATE
#                 req/s, by default LATENCY_FRACTION=0.5 of the slowest
#                 target's median of the small workload run before it (or
#                 10000 without one): latency counted from when each request
#                 was due, so a stall shows; the table's p99 is that one;
#                 zipf: /bytes/1000?cache=3600&k=RANK, ranks drawn by
#                 weir-bench --zipf ZIPF (default 100000,0.99): a cache
#                 workload with misses, the warm-up filling the caches
#   LOADGEN=auto  weir-bench (BUILD_DIR/weir-bench, when built) or wrk
#   DURATION=10   seconds per run              ROUNDS=3   rounds per proxy
#   WARMUP=2      seconds of discarded warm-up per proxy and workload
#   WRK_THREADS=2 WRK_CONNECTIONS=64           load generator -t / -c
#   RESULTS_DIR=BUILD_DIR/bench-results/DATE   where raw outputs and the table go
#   KEEP_TMP=1    keep the generated configs and logs in the temp dir
#
# At the end, the peak RSS (VmHWM) of each proxy's processes is printed.
#
# Proxies run in rotating order (round 1: weir nginx haproxy, round 2: nginx
# haproxy weir, ...) so drift on the shared machine does not favour one. A
# proxy that is missing or fails to start is reported and skipped.
set -euo pipefail

BENCH_NAME=compare
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATES=$HERE/compare
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
TARGETS=${TARGETS:-"direct weir nginx haproxy weir_cache nginx_cache haproxy_cache varnish"}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/$(date +%Y%m%d-%H%M%S)}
declare -A WORKLOAD_PATH=([small]=/bytes/100 [large]=/bytes/65536 [hit_small]="/bytes/100?cache=3600"
                          [hit_large]="/bytes/65536?cache=3600" [latency]=/bytes/100
                          [zipf]="/bytes/1000?cache=3600&k={}")
ZIPF=${ZIPF:-100000,0.99}
LOADGEN=${LOADGEN:-auto}
BENCH_BIN=$BUILD_DIR/weir-bench
if [ "$LOADGEN" = auto ]; then
  LOADGEN=wrk
  [ -x "$BENCH_BIN" ] && LOADGEN=weir-bench
fi
case "$LOADGEN" in wrk | weir-bench) ;; *) echo "compare: LOADGEN must be wrk or weir-bench" >&2; exit 2 ;; esac
# Every workload by default; wrk has no open loop and no Zipf targets.
DEFAULT_WORKLOADS="small large latency hit_small hit_large zipf"
[ "$LOADGEN" = wrk ] && DEFAULT_WORKLOADS="small large hit_small hit_large"
read -r -a WORKLOADS <<<"${WORKLOADS:-$DEFAULT_WORKLOADS}"
LATENCY_FRACTION=${LATENCY_FRACTION:-0.5}
LATENCY_RATE=${LATENCY_RATE:-auto}

ORIGIN_BIN=$BUILD_DIR/weir-origin
WEIR_BIN=$BUILD_DIR/weir

for tool in $([ "$LOADGEN" = wrk ] && echo wrk) curl python3 timeout; do
  command -v "$tool" >/dev/null || die "missing '$tool' (make bench installs wrk, nginx-light, haproxy, varnish)"
done
[ -x "$ORIGIN_BIN" ] || die "$ORIGIN_BIN not built (cmake --build $BUILD_DIR --target weir-origin)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-compare.XXXXXX")
# Caches that keep files (nginx) keep them in memory, as the others do.
SHMDIR=$WORK
[ -d /dev/shm ] && [ -w /dev/shm ] && SHMDIR=$(mktemp -d /dev/shm/weir-compare.XXXXXX)
# Run as root, nginx's workers and varnish's cache process give up root:
# they must still read the configs and write the cache directory.
chmod 755 "$WORK"
[ "$SHMDIR" != "$WORK" ] && chmod 1777 "$SHMDIR"
mkdir -p "$RESULTS_DIR"

# ---------------------------------------------------------------- processes
PIDS=()       # every long-running process we started
declare -A TARGET_PID=()  # the main process of each proxy under test

stop_all() {  # the newest first: the proxies before the origin they use
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  [ "$SHMDIR" != "$WORK" ] && rm -rf "$SHMDIR"
}
bench_traps stop_all

# render TEMPLATE OUT PORT: fills @PORT@, @ORIGIN_PORT@ and @TMPDIR@.
render() {
  sed -e "s|@PORT@|$3|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@ORIGIN_PORT2@|$ORIGIN_PORT2|g" \
    -e "s|@BALANCER@|${BALANCER:-round_robin}|g" -e "s|@TMPDIR@|$WORK|g" \
    -e "s|@ADMIN_PORT@|${ADMIN_PORT:-0}|g" -e "s|@SHMDIR@|$SHMDIR|g" "$1" >"$2"
  cp "$2" "$RESULTS_DIR/"
}

# wait_ready NAME PORT PID: until the proxy answers with the origin's body.
wait_ready() {
  local name=$1 port=$2 pid=$3 i
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited during startup"; return 1; }
    if curl -sf -m 1 "http://127.0.0.1:$port/" 2>/dev/null | grep -q "hello from bench"; then
      return 0
    fi
    sleep 0.1
  done
  log "$name did not answer on 127.0.0.1:$port within 10s"
  return 1
}

start_origin() {
  "$ORIGIN_BIN" --listen 127.0.0.1:0 --listen 127.0.0.1:0 --threads 2 --name bench \
    >"$WORK/origin.out" 2>"$WORK/origin.out.err" &
  PIDS+=($!)
  local pid=$! listening
  listening=$(origin_ports bench "$WORK/origin.out" "$pid" 2) || die "weir-origin did not start"
  ORIGIN_PORT=$(sed -n 1p <<<"$listening")
  ORIGIN_PORT2=$(sed -n 2p <<<"$listening")
  wait_ready origin "$ORIGIN_PORT" "$pid" || die "weir-origin is not answering"
  log "weir-origin (2 threads) on 127.0.0.1:$ORIGIN_PORT and :$ORIGIN_PORT2 (every proxy's pool has both)"
}

# start_TARGET PORT: starts the proxy in the foreground-mode as a child and
# records its PID; returns non-zero when it cannot run.

# run_weir NAME BINARY TEMPLATE BALANCER PORT: one weir under test.
run_weir() {
  local name=$1 bin=$2 conf="$WORK/$1.yaml"
  [ -n "$bin" ] && [ -x "$bin" ] || { log "$name: ${bin:-binary} not built (WEIR_BASE_BIN for weir_base)"; return 1; }
  BALANCER=$4 render "$TEMPLATES/$3" "$conf" "$5"
  "$bin" -c "$conf" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  TARGET_PID[$name]=$!
  wait_ready "$name" "$5" $! || { tail -n 5 "$WORK/$name.log" >&2; return 1; }
}

start_weir() { run_weir weir "$WEIR_BIN" weir.yaml.in round_robin "$1"; }
# The same weir with balancer: least_request (power of two choices).
start_weir_lr() { run_weir weir_lr "$WEIR_BIN" weir.yaml.in least_request "$1"; }
# The same weir with admin: on (metrics recorded), and a scraper that reads
# /metrics once a second for as long as the run lasts.
start_weir_admin() {
  ADMIN_PORT=${PROXY_PORT[weir_admin_metrics]} run_weir weir_admin "$WEIR_BIN" weir-admin.yaml.in round_robin "$1" ||
    return 1
  local url="http://127.0.0.1:${PROXY_PORT[weir_admin_metrics]}/metrics"
  (while sleep 1; do curl -sf -m 2 -o /dev/null "$url" || echo "weir_admin: scrape of $url failed" >&2; done) &
  PIDS+=($!)
}
# The same weir with its cache on the route (the hit_* workloads).
start_weir_cache() { run_weir weir_cache "$WEIR_BIN" weir-cache.yaml.in round_robin "$1"; }
# Another weir binary (WEIR_BASE_BIN), same pool: new against old in one run.
start_weir_base() { run_weir weir_base "${WEIR_BASE_BIN:-}" weir-base.yaml.in round_robin "$1"; }
# The same with the cache as weir_cache has it: the hit path, new against old.
start_weir_base_cache() { run_weir weir_base_cache "${WEIR_BASE_BIN:-}" weir-cache.yaml.in round_robin "$1"; }

# run_nginx NAME TEMPLATE PORT: nginx in the foreground, its files named NAME.
run_nginx() {
  local name=$1
  command -v nginx >/dev/null || { log "$name: nginx not installed"; return 1; }
  render "$TEMPLATES/$2" "$WORK/$name.conf" "$3"
  nginx -p "$WORK" -e "$WORK/$name-error.log" -c "$WORK/$name.conf" \
    -g "daemon off; pid $WORK/$name.pid;" >"$WORK/$name.out" 2>&1 &
  PIDS+=($!)
  TARGET_PID[$name]=$!
  wait_ready "$name" "$3" $! || { tail -n 5 "$WORK/$name.out" "$WORK/$name-error.log" >&2; return 1; }
}

# run_haproxy NAME TEMPLATE PORT
run_haproxy() {
  local name=$1
  command -v haproxy >/dev/null || { log "$name: haproxy not installed"; return 1; }
  render "$TEMPLATES/$2" "$WORK/$name.cfg" "$3"
  haproxy -db -f "$WORK/$name.cfg" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  TARGET_PID[$name]=$!
  wait_ready "$name" "$3" $! || { tail -n 5 "$WORK/$name.log" >&2; return 1; }
}

start_nginx() { run_nginx nginx nginx.conf.in "$1"; }
start_haproxy() { run_haproxy haproxy haproxy.cfg.in "$1"; }
start_nginx_cache() { run_nginx nginx_cache nginx-cache.conf.in "$1"; }
start_haproxy_cache() { run_haproxy haproxy_cache haproxy-cache.cfg.in "$1"; }

# varnishd -F stays in the foreground as the manager; the cache process is
# its child.
start_varnish() {
  command -v varnishd >/dev/null || { log "varnish: not installed"; return 1; }
  render "$TEMPLATES/varnish.vcl.in" "$WORK/varnish.vcl" "$1"
  varnishd -F -n "$WORK/varnish" -a "127.0.0.1:$1" -f "$WORK/varnish.vcl" -s malloc,256m \
    -p thread_pools=2 >"$WORK/varnish.log" 2>&1 &
  PIDS+=($!)
  TARGET_PID[varnish]=$!
  wait_ready varnish "$1" $! || { tail -n 5 "$WORK/varnish.log" >&2; return 1; }
}

# The peak RSS (VmHWM) of a process and its descendants, in KiB.
peak_rss_kib() {
  local total=0 pid kids hwm
  for pid in "$@"; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${hwm:-0}))
    kids=$(children_of "$pid")
    # shellcheck disable=SC2086
    [ -n "$kids" ] && total=$((total + $(peak_rss_kib $kids)))
  done
  echo "$total"
}

# ---------------------------------------------------------------- wrk runs
declare -A PORT

# The open-loop rate of the latency workload: LATENCY_RATE, or a fraction
# of the slowest target's median req/s in the small workload.
latency_rate() {
  if [ "$LATENCY_RATE" != auto ]; then echo "$LATENCY_RATE"; return; fi
  python3 - "$RESULTS_DIR" "$LATENCY_FRACTION" <<'PY'
import json, pathlib, statistics, sys
d, frac = pathlib.Path(sys.argv[1]), float(sys.argv[2])
by = {}
for p in d.glob("small__*__r*.txt.json"):
    by.setdefault(p.name.split("__")[1], []).append(json.loads(p.read_text())["rps"])
medians = [statistics.median(v) for k, v in by.items() if k != "direct"]
print(int(frac * min(medians)) if medians else 10000)
PY
}

# run_load WORKLOAD TARGET LABEL SECONDS OUTFILE: wrk (its text) or
# weir-bench (its summary, and OUTFILE.json, which summarize.py reads).
run_load() {
  local url="http://127.0.0.1:${PORT[$2]}${WORKLOAD_PATH[$1]}"
  if [ "$LOADGEN" = weir-bench ]; then
    local rate=()
    [ "$1" = latency ] && rate=(-R "$RATE")
    [ "$1" = zipf ] && rate=(--zipf "$ZIPF")
    timeout -k 5 $(($4 + 30)) "$BENCH_BIN" -q -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$4"s "${rate[@]}" \
      --json "$5.json" "$url" >"$5" 2>&1 &
  elif [ "$1" = latency ] || [ "$1" = zipf ]; then
    die "the $1 workload needs weir-bench (LOADGEN=weir-bench)"
  else
    timeout -k 5 $(($4 + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$4"s --latency "$url" >"$5" 2>&1 &
  fi
  WRK_PID=$!
  wait "$WRK_PID" || log "$LOADGEN exited with status $? for $2 ($1, $3)"
  WRK_PID=""
}

measure() {  # measure WORKLOAD TARGET ROUND
  local out="$RESULTS_DIR/$1__$2__r$3.txt" rps p99
  run_load "$1" "$2" "round $3" "$DURATION" "$out"
  if [ -f "$out.json" ]; then
    read -r rps p99 <<<"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(round(j["rps"]), str(j["latency_ms"]["p99"]) + "ms")' "$out.json")"
  else
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" || $1 == "99.000%" {print $2; exit}' "$out")
  fi
  printf '  %-6s round %d  %-8s %12s req/s   p99 %s\n' "$1" "$3" "$2" "${rps:-?}" "${p99:-?}" >&2
}

warm_up() {  # warm_up WORKLOAD TARGET
  [ "$WARMUP" -gt 0 ] || return 0
  run_load "$1" "$2" warm-up "$WARMUP" "$WORK/warmup.txt"
}

# ---------------------------------------------------------------- main
start_origin
PORT[direct]=$ORIGIN_PORT

read -r -a ports <<<"$(free_ports 12)"
declare -A PROXY_PORT=([weir]=${ports[0]} [nginx]=${ports[1]} [haproxy]=${ports[2]} [weir_base]=${ports[3]} [weir_lr]=${ports[4]}
                       [weir_admin]=${ports[5]} [weir_admin_metrics]=${ports[6]} [nginx_cache]=${ports[7]}
                       [haproxy_cache]=${ports[8]} [varnish]=${ports[9]} [weir_cache]=${ports[10]}
                       [weir_base_cache]=${ports[11]})
measure_direct=0
proxies=()
for target in $TARGETS; do
  case "$target" in
    direct) measure_direct=1 ;;
    weir | nginx | haproxy | weir_base | weir_lr | weir_admin | weir_cache | weir_base_cache | nginx_cache | haproxy_cache | varnish)
      if "start_$target" "${PROXY_PORT[$target]}"; then
        PORT[$target]=${PROXY_PORT[$target]}
        proxies+=("$target")
        log "$target on 127.0.0.1:${PORT[$target]}"
      else
        log "skipping $target"
      fi
      ;;
    *) die "unknown target '$target' (use direct, weir, nginx, haproxy, weir_base, weir_lr, weir_admin, weir_cache, weir_base_cache, nginx_cache, haproxy_cache, varnish)" ;;
  esac
done

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs"
  echo "load: $LOADGEN -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s, $ROUNDS rounds, ${WARMUP}s warm-up"
  echo "origin: weir-origin --threads 2; proxies: 2 workers/threads each"
  command -v nginx >/dev/null && echo "nginx: $(nginx -v 2>&1)"
  command -v haproxy >/dev/null && echo "haproxy: $(haproxy -v | head -n 1)"
  echo "targets: $([ "$measure_direct" = 1 ] && echo "direct ")${proxies[*]}"
} >"$RESULTS_DIR/meta.txt"

# The caching proxies, and the workloads meant for them (the objects are
# cacheable): a cache workload runs on the caching targets, the others on
# the rest, so one run can hold both kinds; when the targets hold only one
# kind, every workload runs on all of them.
is_cache_target() { case "$1" in weir_cache | weir_base_cache | nginx_cache | haproxy_cache | varnish) return 0 ;; esac; return 1; }
is_cache_workload() { case "$1" in hit_small | hit_large | zipf) return 0 ;; esac; return 1; }
workload_targets() {  # workload_targets WORKLOAD: the proxies it runs on
  local t mine=()
  for t in "${proxies[@]}"; do
    if is_cache_workload "$1"; then is_cache_target "$t" && mine+=("$t"); else is_cache_target "$t" || mine+=("$t"); fi
  done
  [ ${#mine[@]} -gt 0 ] || mine=("${proxies[@]}")
  echo "${mine[*]}"
}
declare -A WORKLOAD_TARGETS=()

RATE=0
for workload in "${WORKLOADS[@]}"; do
  [ -n "${WORKLOAD_PATH[$workload]:-}" ] || die "unknown workload '$workload' (small large hit_small hit_large latency zipf)"
  if [ "$workload" = latency ]; then
    RATE=$(latency_rate)
    log "workload latency: open loop at $RATE req/s"
    echo "latency workload: open loop at $RATE req/s" >>"$RESULTS_DIR/meta.txt"
  fi
  log "workload $workload (${WORKLOAD_PATH[$workload]})"
  if [ "$measure_direct" = 1 ]; then
    warm_up "$workload" direct
    measure "$workload" direct 1
  fi
  read -r -a run_on <<<"$(workload_targets "$workload")"
  WORKLOAD_TARGETS[$workload]="${run_on[*]}"
  for target in "${run_on[@]}"; do warm_up "$workload" "$target"; done
  n=${#run_on[@]}
  for round in $(seq "$ROUNDS"); do
    [ "$n" -gt 0 ] || break
    shift_by=$(((round - 1) % n))
    for target in "${run_on[@]:shift_by}" "${run_on[@]:0:shift_by}"; do
      measure "$workload" "$target" "$round"
    done
  done
done

# shown_targets WORKLOAD: what its table and plot show (the origin first).
shown_targets() { echo "$([ "$measure_direct" = 1 ] && echo "direct ")${WORKLOAD_TARGETS[$1]}"; }
echo
for workload in "${WORKLOADS[@]}"; do
  python3 "$TEMPLATES/summarize.py" "$RESULTS_DIR" "$workload" "$(shown_targets "$workload")"
  echo
done | tee "$RESULTS_DIR/table.txt"
# A latency plot per workload measured with weir-bench.
if [ "$LOADGEN" = weir-bench ]; then
  for workload in "${WORKLOADS[@]}"; do
    python3 "$TEMPLATES/plot.py" "$RESULTS_DIR" "$workload" "$(shown_targets "$workload")" "$RESULTS_DIR/latency-$workload.svg" ||
      log "no plot for $workload"
  done
fi
echo
for target in "${proxies[@]}"; do
  [ -n "${TARGET_PID[$target]:-}" ] || continue
  printf 'peak RSS %-14s %8d KiB\n' "$target" "$(peak_rss_kib "${TARGET_PID[$target]}")"
done | tee -a "$RESULTS_DIR/table.txt"
echo
echo "results: $RESULTS_DIR"
