#!/usr/bin/env bash
# Fault scenario: Weir, nginx and HAProxy, one after the other, each in front
# of the same two weir-origin backends in one pool, under wrk, while one
# backend is killed and brought back.
#
# Usage: bench/fault.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# Per proxy: two fresh origins (--name a, --name b; each response carries
# X-Origin: a or b), the proxy with both in one pool and its health settings
# (bench/fault/*.in), then wrk -tT -cC for DURATION s; at KILL_AT s origin b
# gets SIGKILL (by its PID), at RESTART_AT s it is started again on the same
# port. Reported per proxy: wrk's total requests, non-2xx/3xx responses and
# socket errors; responses/s with status below 400 (a fast 502 is not
# throughput) before the kill, during the outage and after the restart; the
# time from the restart (origin b's process started) until it listens and
# until the first response from it comes through the proxy; the ratios of
# weir's rates to each peer's.
#
# How it is counted: wrk's own summary gives the totals and the socket
# errors. The per-phase rates and the recovery time come from a wrk Lua
# script (bench/fault/fault.lua): its response() callback counts every
# response per thread in 100 ms buckets of wall-clock time, by status and by
# X-Origin, and done() merges the threads (thread:get). The kill and restart
# times are taken by this script from the same clock. Defining response()
# makes wrk parse every response's headers into Lua, which costs wrk some
# throughput; it is the same for every proxy.
#
# Health settings: weir: health_check {type: http, path: /, interval: 1s,
# timeout: 500ms, rise: 2, fall: 2} and default passive ejection; nginx:
# max_fails=1 fail_timeout=2s, proxy_next_upstream error timeout (no active
# checks in open-source nginx); HAProxy: option httpchk GET /, check inter 1s
# fall 2 rise 2, option redispatch, retries 1, observe layer4 error-limit 1
# on-error mark-down (left out if the installed HAProxy rejects it).
#
# Environment (all optional):
#   TARGETS="weir nginx haproxy"   proxies to run, in this order
#   DURATION=30 KILL_AT=10 RESTART_AT=20   seconds
#   WRK_THREADS=2 WRK_CONNECTIONS=64       wrk -t / -c
#   WRK_PATH=/bytes/100                    what wrk requests
#   ORIGIN_THREADS=2                       --threads of each origin
#   WEIR_HEALTH=auto   auto: use weir's health_check when the weir under
#                      test accepts the key (weir -t), else run without it and
#                      mark the row "weir-nohc"; on: require it; off: never
#   RESULTS_DIR=BUILD_DIR/bench-results/fault-DATE   raw outputs and the table
#   KEEP_TMP=1         keep the generated configs and logs in the temp dir
#
# A proxy that is not installed or does not start is reported and skipped.
set -euo pipefail

BENCH_NAME=fault
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATES=$HERE/fault
TARGETS=${TARGETS:-"weir nginx haproxy"}
DURATION=${DURATION:-30}
KILL_AT=${KILL_AT:-10}
RESTART_AT=${RESTART_AT:-20}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_PATH=${WRK_PATH:-/bytes/100}
ORIGIN_THREADS=${ORIGIN_THREADS:-2}
WEIR_HEALTH=${WEIR_HEALTH:-auto}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/fault-$(date +%Y%m%d-%H%M%S)}

ORIGIN_BIN=$BUILD_DIR/weir-origin
WEIR_BIN=$BUILD_DIR/weir

for v in DURATION KILL_AT RESTART_AT WRK_THREADS WRK_CONNECTIONS ORIGIN_THREADS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[ "$KILL_AT" -lt "$RESTART_AT" ] && [ "$RESTART_AT" -lt "$DURATION" ] ||
  die "need KILL_AT < RESTART_AT < DURATION (got $KILL_AT, $RESTART_AT, $DURATION)"
[ "$DURATION" -le 300 ] || die "DURATION above 300 s is not supported"
case "$WEIR_HEALTH" in auto | on | off) ;; *) die "WEIR_HEALTH must be auto, on or off" ;; esac
for tool in wrk curl python3 timeout date; do
  command -v "$tool" >/dev/null || die "missing '$tool' (make bench-fault installs wrk, nginx-light, haproxy)"
done
[ -x "$ORIGIN_BIN" ] || die "$ORIGIN_BIN not built (cmake --build $BUILD_DIR --target weir-origin)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-fault.XXXXXX")
mkdir -p "$RESULTS_DIR"

# ---------------------------------------------------------------- processes
declare -A ORIGIN_PID=()  # a, b -> PID of the running origin
declare -A ORIGIN_PORT=()
PROXY_PID=""              # the proxy under test, if running

stop_run() {  # the proxy and the origins of one run
  local name
  [ -n "$PROXY_PID" ] && stop_pid "$PROXY_PID"
  PROXY_PID=""
  for name in "${!ORIGIN_PID[@]}"; do stop_pid "${ORIGIN_PID[$name]}"; done
  ORIGIN_PID=()
}

bench_traps stop_run

# render TEMPLATE OUT PORT [HEALTH_CHECK_LINE [OBSERVE]]
render() {
  local health=${4:-} observe=${5:-}
  sed -e "s|@PORT@|$3|g" -e "s|@ORIGIN_A_PORT@|${ORIGIN_PORT[a]}|g" \
    -e "s|@ORIGIN_B_PORT@|${ORIGIN_PORT[b]}|g" -e "s|@TMPDIR@|$WORK|g" \
    -e "s|@HEALTH_CHECK@|$health|" -e "s|@OBSERVE@|$observe|" "$1" >"$2"
}

# start_origin NAME PORT LOG: starts weir-origin --name NAME, waits until it
# says it listens (5 s at most); sets ORIGIN_PID[NAME] and ORIGIN_PORT[NAME].
start_origin() {
  local name=$1 port=$2 out=$3 p
  "$ORIGIN_BIN" --listen "127.0.0.1:$port" --threads "$ORIGIN_THREADS" --name "$name" \
    >"$out" 2>"$out.err" &
  ORIGIN_PID[$name]=$!
  p=$(origin_ports "$name" "$out" $!) || return 1
  ORIGIN_PORT[$name]=$p
}

# wait_both NAME PORT PID: until the proxy has answered from both origins
# (10 s at most; a proxy with active checks may hold servers back at start).
wait_both() {
  local name=$1 port=$2 pid=$3 i seen_a=0 seen_b=0 origin
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { log "$name exited during startup"; return 1; }
    origin=$(curl -s -m 1 -o /dev/null -D - "http://127.0.0.1:$port/" 2>/dev/null |
      tr -d '\r' | sed -n 's/^[Xx]-[Oo]rigin: *//p')
    case "$origin" in a) seen_a=1 ;; b) seen_b=1 ;; esac
    [ "$seen_a$seen_b" = 11 ] && return 0
    sleep 0.1
  done
  log "$name did not answer from both origins on 127.0.0.1:$port within 10s (a=$seen_a b=$seen_b)"
  return 1
}

HEALTH_LINE='    health_check: {type: http, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2}'
WEIR_LABEL=weir

# start_TARGET PORT: starts the proxy as a child, sets PROXY_PID; non-zero
# when it cannot run.
start_weir() {
  [ -x "$WEIR_BIN" ] || { log "weir: $WEIR_BIN not built"; return 1; }
  local health=""
  if [ "$WEIR_HEALTH" != off ]; then
    render "$TEMPLATES/weir.yaml.in" "$WORK/weir-probe.yaml" "$1" "$HEALTH_LINE"
    if "$WEIR_BIN" -t -c "$WORK/weir-probe.yaml" >"$WORK/weir-probe.out" 2>&1; then
      health=$HEALTH_LINE
    elif [ "$WEIR_HEALTH" = on ]; then
      log "weir rejects the health_check config: $(tail -n 1 "$WORK/weir-probe.out")"
      return 1
    else
      log "weir does not take health_check ($(tail -n 1 "$WORK/weir-probe.out")); running it without (row weir-nohc)"
    fi
  fi
  [ -n "$health" ] && WEIR_LABEL=weir || WEIR_LABEL=weir-nohc
  render "$TEMPLATES/weir.yaml.in" "$WORK/weir.yaml" "$1" "$health"
  cp "$WORK/weir.yaml" "$RESULTS_DIR/"
  "$WEIR_BIN" -c "$WORK/weir.yaml" >"$WORK/weir.log" 2>&1 &
  PROXY_PID=$!
  wait_both weir "$1" "$PROXY_PID" || { tail -n 5 "$WORK/weir.log" >&2; return 1; }
}

start_nginx() {
  command -v nginx >/dev/null || { log "nginx: not installed"; return 1; }
  render "$TEMPLATES/nginx.conf.in" "$WORK/nginx.conf" "$1"
  cp "$WORK/nginx.conf" "$RESULTS_DIR/"
  nginx -p "$WORK" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" \
    -g "daemon off; pid $WORK/nginx.pid;" >"$WORK/nginx.out" 2>&1 &
  PROXY_PID=$!
  wait_both nginx "$1" "$PROXY_PID" || { tail -n 5 "$WORK/nginx.out" "$WORK/nginx-error.log" >&2; return 1; }
}

HAPROXY_OBSERVE="observe layer4 error-limit 1 on-error mark-down"
start_haproxy() {
  command -v haproxy >/dev/null || { log "haproxy: not installed"; return 1; }
  local observe=$HAPROXY_OBSERVE
  render "$TEMPLATES/haproxy.cfg.in" "$WORK/haproxy.cfg" "$1" "" "$observe"
  if ! haproxy -c -q -f "$WORK/haproxy.cfg" >"$WORK/haproxy-check.out" 2>&1; then
    log "haproxy rejects '$observe' ($(head -n 1 "$WORK/haproxy-check.out")); running without it"
    observe=""
    render "$TEMPLATES/haproxy.cfg.in" "$WORK/haproxy.cfg" "$1" "" "$observe"
  fi
  cp "$WORK/haproxy.cfg" "$RESULTS_DIR/"
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
  PROXY_PID=$!
  wait_both haproxy "$1" "$PROXY_PID" || { tail -n 5 "$WORK/haproxy.log" >&2; return 1; }
}

# ---------------------------------------------------------------- one run
# run_target TARGET: origins, proxy, wrk with the kill and the restart;
# writes RESULTS_DIR/LABEL.wrk (wrk output with the FAULT lines) and
# RESULTS_DIR/LABEL.events (times in ms after the wrk start, BASE_MS).
run_target() {
  local target=$1 label port base kill_ms restart_ms listen_ms="" i
  read -r port <<<"$(free_ports 1)"
  start_origin a 0 "$WORK/origin-a.out" && start_origin b 0 "$WORK/origin-b.out" ||
    { stop_run; return 1; }
  if ! "start_$target" "$port"; then
    log "skipping $target"
    stop_run
    return 1
  fi
  label=$target
  [ "$target" = weir ] && label=$WEIR_LABEL
  log "$label on 127.0.0.1:$port, origins a :${ORIGIN_PORT[a]} b :${ORIGIN_PORT[b]}; wrk ${DURATION}s, kill b at ${KILL_AT}s, restart at ${RESTART_AT}s"

  base=$(now_ms)
  timeout -k 5 $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION"s \
    -s "$TEMPLATES/fault.lua" "http://127.0.0.1:$port$WRK_PATH" -- "$base" a b \
    >"$RESULTS_DIR/$label.wrk" 2>&1 &
  WRK_PID=$!

  sleep_until $((base + KILL_AT * 1000))
  # Kill and reap with stderr to /dev/null: bash's "Killed" job notice.
  { kill -KILL "${ORIGIN_PID[b]}"; kill_ms=$(($(now_ms) - base)); wait "${ORIGIN_PID[b]}"; } 2>/dev/null || true
  unset 'ORIGIN_PID[b]'

  sleep_until $((base + RESTART_AT * 1000))
  restart_ms=$(($(now_ms) - base))
  if start_origin b "${ORIGIN_PORT[b]}" "$WORK/origin-b2.out"; then
    listen_ms=$(($(now_ms) - base))
  else
    log "origin b did not come back on :${ORIGIN_PORT[b]}"
  fi

  wait "$WRK_PID" || log "wrk exited with status $? for $label"
  WRK_PID=""
  {
    echo "kill_ms=$kill_ms"
    echo "restart_ms=$restart_ms"
    echo "listening_ms=$listen_ms"
  } >"$RESULTS_DIR/$label.events"
  stop_run
  # The proxy's log (one file each), compressed: weir logs a line per failed attempt.
  for i in "$WORK"/*.log; do [ -e "$i" ] && gzip -c "$i" >"$RESULTS_DIR/$label.log.gz" || true; done
  rm -f "$WORK"/*.log
  LABELS+=("$label")
}

# ---------------------------------------------------------------- main
{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs"
  echo "wrk: -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s $WRK_PATH, fault.lua (100 ms buckets)"
  echo "origins: 2 x weir-origin --threads $ORIGIN_THREADS; b killed (SIGKILL) at ${KILL_AT}s, restarted at ${RESTART_AT}s"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  command -v nginx >/dev/null && echo "nginx: $(nginx -v 2>&1)"
  command -v haproxy >/dev/null && echo "haproxy: $(haproxy -v | head -n 1)"
} >"$RESULTS_DIR/meta.txt"

LABELS=()
for target in $TARGETS; do
  case "$target" in
    weir | nginx | haproxy) run_target "$target" || true ;;
    *) die "unknown target '$target' (use weir, nginx, haproxy)" ;;
  esac
done
echo "targets: ${LABELS[*]}" >>"$RESULTS_DIR/meta.txt"
[ ${#LABELS[@]} -gt 0 ] || die "no proxy could be measured"

echo
python3 "$TEMPLATES/summarize.py" "$RESULTS_DIR" "${LABELS[*]}" | tee "$RESULTS_DIR/table.txt"
echo
echo "results: $RESULTS_DIR"
