#!/usr/bin/env bash
# Failover from the cache: Weir (stale_if_error), nginx (proxy_cache_use_stale)
# and Varnish (grace), one after the other, each with its cache in front of
# one weir-origin, under wrk, while the origin is killed and stays down.
#
# Usage: bench/stale.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# Per proxy: a fresh weir-origin, the proxy (2 workers or thread pools,
# 64 MiB of cache; bench/stale/*.in), PATHS URLs /bytes/BYTES?cache=1&k=N
# (max-age=1: stale a second after they are fetched) requested once each to
# fill the cache, then wrk -tT -cC for DURATION s spreading requests over
# those URLs (bench/stale/stale.lua); at KILL_AT s the origin gets SIGKILL
# (by its PID) and is not started again (FAULT=stop: SIGSTOP instead, an
# origin that hangs: connections are accepted by the kernel and never
# answered, so every fetch ends in a timeout). Reported per proxy: requests/s and
# the share of responses that were 200 before the kill and while the origin
# is down, and wrk's socket errors; then weir's share of 200s with the
# origin down against each peer's.
#
# Environment (all optional):
#   TARGETS="weir nginx varnish"   proxies to run, in this order
#   DURATION=20 KILL_AT=6          seconds
#   FAULT=kill                     kill (SIGKILL) or stop (SIGSTOP)
#   PATHS=200 BYTES=1000           cached URLs and their body size
#   WRK_THREADS=2 WRK_CONNECTIONS=32
#   RESULTS_DIR=BUILD_DIR/bench-results/stale-DATE   raw outputs and the table
#   KEEP_TMP=1                     keep the generated configs and logs
#
# A proxy that is not installed or does not start is reported and skipped.
set -euo pipefail

BENCH_NAME=stale
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATES=$HERE/stale
TARGETS=${TARGETS:-"weir nginx varnish"}
DURATION=${DURATION:-20}
KILL_AT=${KILL_AT:-6}
FAULT=${FAULT:-kill}
case "$FAULT" in kill | stop) ;; *) die "FAULT must be kill or stop" ;; esac
PATHS=${PATHS:-200}
BYTES=${BYTES:-1000}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/stale-$(date +%Y%m%d-%H%M%S)}
ORIGIN_BIN=$BUILD_DIR/weir-origin
WEIR_BIN=$BUILD_DIR/weir

for v in DURATION KILL_AT PATHS BYTES WRK_THREADS WRK_CONNECTIONS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ "$KILL_AT" -lt "$DURATION" ] || die "need KILL_AT < DURATION"
[ "$DURATION" -le 300 ] && [ "$PATHS" -le 100000 ] || die "DURATION at most 300 s, PATHS at most 100000"
for tool in wrk curl python3 timeout date; do
  command -v "$tool" >/dev/null || die "missing '$tool' (WEIR_BENCH_DEPS=1 scripts/deps.sh installs wrk, nginx, varnish)"
done
[ -x "$ORIGIN_BIN" ] || die "$ORIGIN_BIN not built (cmake --build $BUILD_DIR --target weir-origin)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-stale.XXXXXX")
SHMDIR=$WORK
[ -d /dev/shm ] && [ -w /dev/shm ] && SHMDIR=$(mktemp -d /dev/shm/weir-stale.XXXXXX)
chmod 755 "$WORK"
[ "$SHMDIR" != "$WORK" ] && chmod 1777 "$SHMDIR"
mkdir -p "$RESULTS_DIR"

ORIGIN_PID=""
ORIGIN_PORT=""
PROXY_PID=""
stop_run() {
  [ -n "$PROXY_PID" ] && stop_pid "$PROXY_PID"
  [ -n "$ORIGIN_PID" ] && kill -CONT "$ORIGIN_PID" 2>/dev/null
  [ -n "$ORIGIN_PID" ] && stop_pid "$ORIGIN_PID"
  PROXY_PID=""
  ORIGIN_PID=""
  [ "$SHMDIR" != "$WORK" ] && rm -rf "${SHMDIR:?}"/nginx-* 2>/dev/null || true
}
cleanup_all() {
  stop_run
  [ "$SHMDIR" != "$WORK" ] && rm -rf "$SHMDIR"
}
bench_traps cleanup_all

render() {
  sed -e "s|@PORT@|$3|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@TMPDIR@|$WORK|g" -e "s|@SHMDIR@|$SHMDIR|g" \
    "$1" >"$2"
}

start_origin() {
  "$ORIGIN_BIN" --listen 127.0.0.1:0 --threads 2 --name stale >"$WORK/origin.out" 2>"$WORK/origin.out.err" &
  ORIGIN_PID=$!
  ORIGIN_PORT=$(origin_ports stale "$WORK/origin.out" "$ORIGIN_PID") || return 1
}

# wait_ready NAME PORT: until the proxy answers with the origin's body.
wait_ready() {
  local i
  for i in $(seq 100); do
    alive "$PROXY_PID" || { log "$1 exited during startup"; return 1; }
    curl -sf -m 1 "http://127.0.0.1:$2/" 2>/dev/null | grep -q "hello from" && return 0
    sleep 0.1
  done
  log "$1 did not answer on 127.0.0.1:$2 within 10s"
  return 1
}

start_weir() {
  [ -x "$WEIR_BIN" ] || { log "weir: $WEIR_BIN not built"; return 1; }
  render "$TEMPLATES/weir.yaml.in" "$WORK/weir.yaml" "$1"
  cp "$WORK/weir.yaml" "$RESULTS_DIR/"
  "$WEIR_BIN" -c "$WORK/weir.yaml" >"$WORK/weir.out" 2>&1 &
  PROXY_PID=$!
  wait_ready weir "$1" || { tail -n 5 "$WORK/weir.out" >&2; return 1; }
}

start_nginx() {
  command -v nginx >/dev/null || { log "nginx: not installed"; return 1; }
  render "$TEMPLATES/nginx.conf.in" "$WORK/nginx.conf" "$1"
  cp "$WORK/nginx.conf" "$RESULTS_DIR/"
  nginx -p "$WORK" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" \
    -g "daemon off; pid $WORK/nginx.pid;" >"$WORK/nginx.out" 2>&1 &
  PROXY_PID=$!
  wait_ready nginx "$1" || { tail -n 5 "$WORK/nginx.out" "$WORK/nginx-error.log" >&2; return 1; }
}

start_varnish() {
  command -v varnishd >/dev/null || { log "varnish: not installed"; return 1; }
  render "$TEMPLATES/varnish.vcl.in" "$WORK/varnish.vcl" "$1"
  cp "$WORK/varnish.vcl" "$RESULTS_DIR/"
  rm -rf "$WORK/varnish"
  varnishd -F -n "$WORK/varnish" -a "127.0.0.1:$1" -f "$WORK/varnish.vcl" -s malloc,64m \
    -p thread_pools=2 >"$WORK/varnish.out" 2>&1 &
  PROXY_PID=$!
  wait_ready varnish "$1" || { tail -n 5 "$WORK/varnish.out" >&2; return 1; }
}

run_target() {
  local target=$1 port base kill_ms i
  read -r port <<<"$(free_ports 1)"
  start_origin || { stop_run; return 1; }
  if ! "start_$target" "$port"; then
    log "skipping $target"
    stop_run
    return 1
  fi
  for i in $(seq 0 $((PATHS - 1))); do
    curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/bytes/$BYTES?cache=1&k=$i" || true
  done
  log "$target on 127.0.0.1:$port, origin :$ORIGIN_PORT; $PATHS URLs stored; wrk ${DURATION}s, origin killed at ${KILL_AT}s"
  base=$(now_ms)
  timeout -k 5 $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION"s \
    -s "$TEMPLATES/stale.lua" "http://127.0.0.1:$port/" -- "$base" "$PATHS" "$BYTES" \
    >"$RESULTS_DIR/$target.wrk" 2>&1 &
  WRK_PID=$!
  sleep_until $((base + KILL_AT * 1000))
  if [ "$FAULT" = kill ]; then
    { kill -KILL "$ORIGIN_PID"; kill_ms=$(($(now_ms) - base)); wait "$ORIGIN_PID"; } 2>/dev/null || true
    ORIGIN_PID=""
  else
    kill -STOP "$ORIGIN_PID"
    kill_ms=$(($(now_ms) - base))
  fi
  wait "$WRK_PID" || log "wrk exited with status $? for $target"
  WRK_PID=""
  echo "kill_ms=$kill_ms" >"$RESULTS_DIR/$target.events"
  stop_run
  LABELS+=("$target")
}

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs"
  echo "wrk: -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s over $PATHS URLs of $BYTES bytes (max-age=1); origin ${FAULT}ped at ${KILL_AT}s"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  command -v nginx >/dev/null && echo "nginx: $(nginx -v 2>&1)"
  command -v varnishd >/dev/null && echo "varnish: $(varnishd -V 2>&1 | head -n 1)"
} >"$RESULTS_DIR/meta.txt"

LABELS=()
for target in $TARGETS; do
  case "$target" in
    weir | nginx | varnish) run_target "$target" || true ;;
    *) die "unknown target '$target' (use weir, nginx, varnish)" ;;
  esac
done
[ ${#LABELS[@]} -gt 0 ] || die "no proxy could be measured"
echo
python3 "$TEMPLATES/summarize.py" "$RESULTS_DIR" "${LABELS[*]}" | tee "$RESULTS_DIR/table.txt"
echo
echo "results: $RESULTS_DIR"
