#!/usr/bin/env bash
# Reload and upgrade under load: Weir, nginx and HAProxy, one after the
# other, each with 2 workers in front of the same weir-origin backends, under
# wrk, while the proxy is reloaded (or its binary upgraded) again and again.
#
# Usage: bench/reload.sh [BUILD_DIR]      (BUILD_DIR defaults to build)
#
# Three origins are started once (--name a, b, c; each response carries
# X-Origin). The pool has a and b; c is added and removed by reloads. For
# each proxy and each mode a fresh proxy is started, warmed up for WARMUP s,
# then wrk -tT -cC -dDURATION s --latency runs while:
#   baseline  nothing happens;
#   reload    every INTERVAL s the config file is rewritten and the proxy
#             reloaded, cycling through: no-op (same file), weight change
#             (server b 1 <-> 2), add server c, remove c; once (at reload
#             BROKEN_AT, default half-way) the file gets a syntax error,
#             which the proxy must refuse while it keeps serving; the next
#             reload writes a good file again ("restore");
#   upgrade   every UPGRADE_INTERVAL s a binary upgrade: weir: SIGUSR2 to
#             the pid in its pid_file, then wait until the pid file names
#             the new process; nginx: SIGUSR2 to the master, wait for the
#             new master in the pid file, then SIGQUIT to the old master
#             (nginx runs daemonized for this mode: it ignores SIGUSR2 when
#             its parent is the process that started it); HAProxy: SIGUSR2
#             to the master (a master-worker reload re-executes the binary).
# Reload commands: weir: kill -HUP <pid> (WEIR_RELOAD=cli: weir -s reload -c
# FILE); nginx: nginx -c FILE -s reload (the client parses the file
# first and refuses a broken one itself, so for the broken file the master
# also gets a SIGHUP directly and must refuse it too; the same for weir -s
# reload if it refuses the file itself); HAProxy: haproxy -W
# -f FILE -p PIDFILE -S SOCKET, SIGUSR2 to the master.
#
# After each reload a probe of PROBE_N requests, each on a new connection
# (curl, Connection: close), checks that the proxy answers 200 and, for
# add/remove, polls until server c shows up / is gone (until just before
# the next reload). Reported per proxy and mode: reloads sent, reloads the
# proxy refused (from its own log or master CLI), add/remove seen applied,
# wrk's requests/s, p99 latency, non-2xx/3xx responses, socket errors
# connect/read/write/timeout, probe failures, and p99 over the baseline's.
#
# Environment (all optional):
#   PROXIES="weir nginx haproxy"   MODES="baseline reload upgrade"
#   DURATION=20 WARMUP=2            seconds (WARMUP=0: none)
#   INTERVAL=0.5 UPGRADE_INTERVAL=2 seconds between reloads / upgrades
#   BROKEN_AT=                      which reload (1-based) is the broken one
#   WRK_THREADS=2 WRK_CONNECTIONS=50 WRK_PATH=/bytes/100
#   ORIGIN_THREADS=2                --threads of each origin
#   PROBE_N=8                       requests per probe batch
#   WEIR_RELOAD=signal              signal: kill -HUP; cli: weir -s reload
#   WEIR_RELOAD_RE, WEIR_RELOAD_FAIL_RE, WEIR_RELOAD_IGNORED_RE  python
#                                   regexes (case-insensitive) for weir's log
#                                   lines of a reload taken in, refused, or
#                                   ignored (see summarize.py for defaults)
#   RESULTS_DIR=BUILD_DIR/bench-results/reload-DATE   raw outputs and table
#   KEEP_TMP=1                      keep generated configs and logs
#
# A proxy that is not installed or does not start is reported and skipped.
set -euo pipefail

BENCH_NAME=reload
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build_dir "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATES=$HERE/reload
PROXIES=${PROXIES:-"weir nginx haproxy"}
MODES=${MODES:-"baseline reload upgrade"}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-2}
INTERVAL=${INTERVAL:-0.5}
UPGRADE_INTERVAL=${UPGRADE_INTERVAL:-2}
BROKEN_AT=${BROKEN_AT:-}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-50}
WRK_PATH=${WRK_PATH:-/bytes/100}
ORIGIN_THREADS=${ORIGIN_THREADS:-2}
PROBE_N=${PROBE_N:-8}
WEIR_RELOAD=${WEIR_RELOAD:-signal}
RESULTS_DIR=${RESULTS_DIR:-$BUILD_DIR/bench-results/reload-$(date +%Y%m%d-%H%M%S)}

ORIGIN_BIN=$BUILD_DIR/weir-origin
WEIR_BIN=$BUILD_DIR/weir

for v in DURATION WRK_THREADS WRK_CONNECTIONS ORIGIN_THREADS PROBE_N; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds (got '$WARMUP')"
[ "$DURATION" -le 300 ] || die "DURATION above 300 s is not supported"
[ "$PROBE_N" -le 50 ] || die "PROBE_N above 50 is not supported"
# seconds (0.5, 2, 1.25) -> ms, at least 100 ms
to_ms() {
  [[ $1 =~ ^[0-9]+(\.[0-9]{1,3})?$ ]] || die "$2 must be seconds like 0.5 or 2 (got '$1')"
  local ms
  ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 + 0.5 }')
  [ "$ms" -ge 100 ] || die "$2 below 0.1 s is not supported"
  echo "$ms"
}
INTERVAL_MS=$(to_ms "$INTERVAL" INTERVAL)
UPGRADE_MS=$(to_ms "$UPGRADE_INTERVAL" UPGRADE_INTERVAL)
[ -z "$BROKEN_AT" ] || [[ $BROKEN_AT =~ ^[1-9][0-9]*$ ]] || die "BROKEN_AT must be a positive integer"
case "$WEIR_RELOAD" in signal | cli) ;; *) die "WEIR_RELOAD must be signal or cli" ;; esac
for m in $MODES; do
  case "$m" in baseline | reload | upgrade) ;; *) die "unknown mode '$m' (baseline, reload, upgrade)" ;; esac
done
for p in $PROXIES; do
  case "$p" in weir | nginx | haproxy) ;; *) die "unknown proxy '$p' (weir, nginx, haproxy)" ;; esac
done
for tool in wrk curl python3 timeout awk ps; do
  command -v "$tool" >/dev/null || die "missing '$tool' (make bench-reload installs wrk, nginx-light, haproxy)"
done
[ -x "$ORIGIN_BIN" ] || die "$ORIGIN_BIN not built (cmake --build $BUILD_DIR --target weir-origin)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/weir-reload.XXXXXX")
mkdir -p "$RESULTS_DIR"

# ---------------------------------------------------------------- processes
# Every process this script starts or learns of (a proxy's master, workers,
# the processes a binary upgrade starts) is recorded by PID and only those
# are stopped.
declare -A ORIGIN_PID=()   # a, b, c -> PID
declare -A ORIGIN_PORT=()
PROXY_PIDS=()              # processes of the proxy run in progress

track() {  # track PID...: remember processes of the current proxy run
  local p q
  for p in "$@"; do
    [ -n "$p" ] || continue
    for q in "${PROXY_PIDS[@]}"; do [ "$q" = "$p" ] && continue 2; done
    PROXY_PIDS+=("$p")
  done
}

stop_proxy() {
  local p kids=()
  # The workers first recorded (a master killed hard would leave them).
  for p in "${PROXY_PIDS[@]}"; do
    alive "$p" && mapfile -t -O "${#kids[@]}" kids < <(children_of "$p")
  done
  for p in "${PROXY_PIDS[@]}"; do stop_pid "$p"; done
  for p in "${kids[@]}"; do [ -n "$p" ] && stop_pid "$p" KILL; done
  PROXY_PIDS=()
}

stop_all() {
  local name
  stop_proxy
  for name in "${!ORIGIN_PID[@]}"; do stop_pid "${ORIGIN_PID[$name]}"; done
}
bench_traps stop_all

# start_origin NAME: weir-origin on a free port, waits (5 s at most) for its
# "listening" line; sets ORIGIN_PID[NAME] and ORIGIN_PORT[NAME].
start_origin() {
  local name=$1 out=$WORK/origin-$1.out p
  "$ORIGIN_BIN" --listen 127.0.0.1:0 --threads "$ORIGIN_THREADS" --name "$name" >"$out" 2>"$out.err" &
  ORIGIN_PID[$name]=$!
  p=$(origin_ports "$name" "$out" $!) || die "origin $name did not start"
  ORIGIN_PORT[$name]=$p
}

# ---------------------------------------------------------------- configs
# The state a config file describes: server b's weight, whether c is in.
WEIGHT_B=1
WITH_C=0

# render PROXY OUT [broken]: the proxy's template with the current state.
# Written next to OUT and renamed over it, so a reload never reads half a file.
render() {
  local proxy=$1 out=$2 broken=${3:-} tmpl ext c_expr broken_expr pid_expr
  case "$proxy" in
    weir) tmpl=$TEMPLATES/weir.yaml.in ;;
    nginx) tmpl=$TEMPLATES/nginx.conf.in ;;
    haproxy) tmpl=$TEMPLATES/haproxy.cfg.in ;;
  esac
  [ "$WITH_C" = 1 ] && c_expr='s/^@C@//' || c_expr='/^@C@/d'
  [ -n "$broken" ] && broken_expr='s/^@BROKEN@//' || broken_expr='/^@BROKEN@/d'
  [ -n "$WEIR_PID_LINE" ] && pid_expr="s|^@PID_FILE@\$|$WEIR_PID_LINE|" || pid_expr='/^@PID_FILE@$/d'
  ext=$out.tmp.$$
  sed -e "s|@PORT@|$PORT|g" -e "s|@ORIGIN_A_PORT@|${ORIGIN_PORT[a]}|g" \
    -e "s|@ORIGIN_B_PORT@|${ORIGIN_PORT[b]}|g" -e "s|@ORIGIN_C_PORT@|${ORIGIN_PORT[c]}|g" \
    -e "s|@WEIGHT_B@|$WEIGHT_B|g" -e "s|@TMPDIR@|$WORK|g" \
    -e "$c_expr" -e "$broken_expr" -e "$pid_expr" "$tmpl" >"$ext"
  mv -f "$ext" "$out"
}

# checks_ok PROXY FILE: the proxy's own config check.
checks_ok() {
  case "$1" in
    weir) "$WEIR_BIN" -t -c "$2" ;;
    nginx) nginx -t -q -p "$WORK" -e "$WORK/nginx-check.log" -c "$2" ;;
    haproxy) haproxy -c -q -f "$2" ;;
  esac >"$WORK/check.out" 2>&1
}

# ---------------------------------------------------------------- proxies
PORT=""
CONF=""
WEIR_PID_LINE=""      # "pid_file: ..." when the weir under test knows the key
WEIR_HAS_PIDFILE=0
MAIN_PID=""           # the pid reloads and upgrades are sent to

# wait_ready NAME PID: until the proxy answers 200 (10 s at most). PID is
# checked only while it is our child (a daemonizing nginx exits at once).
wait_ready() {
  local name=$1 pid=${2:-} i
  for i in $(seq 100); do
    if [ -n "$pid" ] && ! alive "$pid"; then log "$name exited during startup"; return 1; fi
    [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  log "$name did not answer 200 on 127.0.0.1:$PORT within 10s"
  return 1
}

# read_pidfile FILE [OLD]: the pid in FILE once it names a live process
# other than OLD (5 s at most); empty when it does not.
read_pidfile() {
  local file=$1 old=${2:-} i p
  for i in $(seq 500); do
    p=$(tr -dc 0-9 <"$file" 2>/dev/null || true)
    if [ -n "$p" ] && [ "$p" != "$old" ] && alive "$p"; then echo "$p"; return 0; fi
    sleep 0.01
  done
  return 0
}

start_weir() {  # start_weir MODE
  [ -x "$WEIR_BIN" ] || { log "weir: $WEIR_BIN not built"; return 1; }
  CONF=$WORK/weir.yaml
  WEIR_PID_LINE="pid_file: $WORK/weir.pid"
  render weir "$CONF"
  if checks_ok weir "$CONF"; then
    WEIR_HAS_PIDFILE=1
  else
    WEIR_HAS_PIDFILE=0
    WEIR_PID_LINE=""
    render weir "$CONF"
    log "weir does not take pid_file: ($(tail -n 1 "$WORK/check.out")); reloads go to its PID"
  fi
  if [ "$1" = upgrade ] && [ "$WEIR_HAS_PIDFILE" = 0 ]; then
    SKIP_REASON="the weir under test has no pid_file: key, which upgrade needs"
    log "weir: upgrade needs pid_file: (the new process's PID); skipping"
    return 1
  fi
  rm -f "$WORK/weir.pid"
  "$WEIR_BIN" -c "$CONF" >>"$WORK/weir.log" 2>&1 &
  MAIN_PID=$!
  track "$MAIN_PID"
  wait_ready weir "$MAIN_PID" || { tail -n 5 "$WORK/weir.log" >&2; return 1; }
  if [ "$WEIR_HAS_PIDFILE" = 1 ]; then
    local p
    p=$(read_pidfile "$WORK/weir.pid")
    [ "$p" = "$MAIN_PID" ] || log "weir: pid file names '${p:-nothing}', started $MAIN_PID"
  fi
}

start_nginx() {  # start_nginx MODE
  local bin
  bin=$(command -v nginx) || { log "nginx: not installed"; return 1; }
  CONF=$WORK/nginx.conf
  render nginx "$CONF"
  rm -f "$WORK/nginx.pid" "$WORK/nginx.pid.oldbin"
  if [ "$1" = upgrade ]; then
    # Daemonized, started by absolute path: the master re-executes argv[0]
    # on SIGUSR2, and ignores SIGUSR2 while its parent is its starter.
    "$bin" -p "$WORK" -e "$WORK/nginx-error.log" -c "$CONF" >"$WORK/nginx.out" 2>&1 ||
      { tail -n 5 "$WORK/nginx.out" >&2; return 1; }
    MAIN_PID=$(read_pidfile "$WORK/nginx.pid")
    [ -n "$MAIN_PID" ] || { log "nginx: no master in $WORK/nginx.pid"; return 1; }
    track "$MAIN_PID"
    wait_ready nginx || return 1
  else
    "$bin" -p "$WORK" -e "$WORK/nginx-error.log" -c "$CONF" -g "daemon off;" >"$WORK/nginx.out" 2>&1 &
    MAIN_PID=$!
    track "$MAIN_PID"
    wait_ready nginx "$MAIN_PID" || { tail -n 5 "$WORK/nginx.out" "$WORK/nginx-error.log" >&2; return 1; }
  fi
}

start_haproxy() {  # start_haproxy MODE
  command -v haproxy >/dev/null || { log "haproxy: not installed"; return 1; }
  CONF=$WORK/haproxy.cfg
  render haproxy "$CONF"
  rm -f "$WORK/haproxy.pid"
  haproxy -W -db -f "$CONF" -p "$WORK/haproxy.pid" -S "$WORK/haproxy-master.sock" \
    >"$WORK/haproxy.log" 2>&1 &
  MAIN_PID=$!
  track "$MAIN_PID"
  wait_ready haproxy "$MAIN_PID" || { tail -n 5 "$WORK/haproxy.log" >&2; return 1; }
  local p
  p=$(read_pidfile "$WORK/haproxy.pid")
  [ "$p" = "$MAIN_PID" ] || log "haproxy: pid file names '${p:-nothing}', master is $MAIN_PID"
}

# ---------------------------------------------------------------- reloads
# send_reload PROXY [broken]: one reload; returns the command's status.
send_reload() {
  local proxy=$1 broken=${2:-} rc=0 pid
  case "$proxy" in
    weir)
      pid=$MAIN_PID
      if [ "$WEIR_HAS_PIDFILE" = 1 ]; then
        pid=$(tr -dc 0-9 <"$WORK/weir.pid" 2>/dev/null || true)
        pid=${pid:-$MAIN_PID}
      fi
      if [ "$WEIR_RELOAD" = cli ]; then
        "$WEIR_BIN" -s reload -c "$CONF" >"$WORK/weir-cli.last" 2>&1 || rc=$?
        cat "$WORK/weir-cli.last" >>"$WORK/weir-cli.out"
        # As with nginx: if the client refused the broken file itself
        # (an older weir did), the running process must still be shown
        # it; "reload failed:" is the running weir's own answer.
        if [ -n "$broken" ] && [ "$rc" != 0 ] && ! grep -q "reload failed:" "$WORK/weir-cli.last"; then
          kill -HUP "$pid" || true
        fi
      else
        kill -HUP "$pid" || rc=$?
      fi
      ;;
    nginx)
      nginx -p "$WORK" -e "$WORK/nginx-cli.log" -c "$CONF" -s reload >>"$WORK/nginx-cli.out" 2>&1 || rc=$?
      # The client refused the broken file without signalling: make the
      # running master read it as well.
      [ -n "$broken" ] && { kill -HUP "$MAIN_PID" || true; }
      ;;
    haproxy)
      kill -USR2 "$MAIN_PID" || rc=$?
      ;;
  esac
  return "$rc"
}

# probe_batch: PROBE_N requests on new connections; prints "CODE ORIGIN" lines.
probe_batch() {
  curl -s -m 1 -H 'Connection: close' -o /dev/null -w '%{http_code} %header{x-origin}\n' \
    "http://127.0.0.1:$PORT/bytes/10?probe=[1-$PROBE_N]" 2>/dev/null || true
}

# probe VARIANT DEADLINE_MS: prints "VERDICT MS PROBE_FAILURES". For add
# (remove) batches run until c is seen (a batch without c) or the deadline:
# applied MS after the reload, or not_applied. Otherwise one batch: served
# when every answer was 200.
probe() {
  local variant=$1 deadline=$2 start out bad=0 n verdict=""
  start=$(now_ms)
  while :; do
    out=$(probe_batch)
    n=$(grep -cv '^200 ' <<<"$out" || true)
    bad=$((bad + n))
    case "$variant" in
      add) grep -q '^200 c$' <<<"$out" && verdict=applied ;;
      remove) [ -n "$out" ] && ! grep -q ' c$' <<<"$out" && verdict=applied ;;
      *) [ "$n" = 0 ] && [ -n "$out" ] && verdict=served || verdict=errors ;;
    esac
    [ -n "$verdict" ] && break
    [ "$(now_ms)" -lt "$deadline" ] || { verdict=not_applied; break; }
  done
  echo "$verdict $(($(now_ms) - start)) $bad"
}

# reload_loop PROXY BASE_MS EVENTS: the reload schedule during one wrk run.
reload_loop() {
  local proxy=$1 base=$2 events=$3 i=0 good=0 at next variant rc cycle=(noop weight add remove)
  local total=$(((DURATION * 1000 - INTERVAL_MS / 2) / INTERVAL_MS)) broken_at after_broken=0
  broken_at=${BROKEN_AT:-$(((total + 1) / 2))}
  echo "# reload t_ms variant rc verdict probe_ms probe_failures" >"$events"
  while [ "$i" -lt "$total" ]; do
    i=$((i + 1))
    at=$((base + i * INTERVAL_MS))
    next=$((at + INTERVAL_MS - 60))
    sleep_until "$at"
    if [ "$i" = "$broken_at" ]; then
      variant=broken
      render "$proxy" "$CONF" broken
      after_broken=1
    elif [ "$after_broken" = 1 ]; then
      variant=restore
      render "$proxy" "$CONF"
      after_broken=0
    else
      variant=${cycle[good % 4]}
      good=$((good + 1))
      case "$variant" in
        weight) WEIGHT_B=$((3 - WEIGHT_B)) ;;
        add) WITH_C=1 ;;
        remove) WITH_C=0 ;;
      esac
      [ "$variant" = noop ] || render "$proxy" "$CONF"
    fi
    rc=0
    send_reload "$proxy" "$([ "$variant" = broken ] && echo broken)" || rc=$?
    echo "$i $(($(now_ms) - base)) $variant $rc $(probe "$variant" "$next")" >>"$events"
  done
}

# upgrade_loop PROXY BASE_MS EVENTS: a binary upgrade every UPGRADE_MS.
upgrade_loop() {
  local proxy=$1 base=$2 events=$3 i=0 at t0 old new verdict kid before
  local total=$(((DURATION * 1000 - UPGRADE_MS / 2) / UPGRADE_MS))
  echo "# upgrade t_ms pid_signalled new_pid verdict ms" >"$events"
  while [ "$i" -lt "$total" ]; do
    i=$((i + 1))
    at=$((base + i * UPGRADE_MS))
    sleep_until "$at"
    t0=$(now_ms)
    new="" verdict=failed
    case "$proxy" in
      weir)
        old=$(tr -dc 0-9 <"$WORK/weir.pid" 2>/dev/null || true)
        old=${old:-$MAIN_PID}
        if kill -USR2 "$old"; then
          new=$(read_pidfile "$WORK/weir.pid" "$old")
          [ -n "$new" ] && { track "$new"; MAIN_PID=$new; verdict=new_process; }
        fi
        ;;
      nginx)
        old=$MAIN_PID
        if kill -USR2 "$old"; then
          new=$(read_pidfile "$WORK/nginx.pid" "$old")
          if [ -n "$new" ]; then
            track "$new"
            MAIN_PID=$new
            # The new master's workers up, then the old master (and its
            # workers) drains and exits.
            for _ in $(seq 200); do
              [ "$(children_of "$new" | wc -l)" -ge 2 ] && break
              sleep 0.01
            done
            kill -QUIT "$old" || true
            verdict=new_master
          fi
        fi
        ;;
      haproxy)
        # The master keeps its PID; a new worker among its children says the
        # re-executed binary has started serving.
        old=$MAIN_PID
        before=" $(children_of "$old" | tr '\n' ' ') "
        if kill -USR2 "$old"; then
          for _ in $(seq 500); do
            for kid in $(children_of "$old"); do
              [[ $before == *" $kid "* ]] || { verdict=new_worker; new=$kid; break 2; }
            done
            sleep 0.01
          done
        fi
        ;;
    esac
    echo "$i $((t0 - base)) $old ${new:--} $verdict $(($(now_ms) - t0))" >>"$events"
  done
  # The old processes should all be gone by now (nginx: old masters).
  for old in "${PROXY_PIDS[@]}"; do
    [ "$old" = "$MAIN_PID" ] && continue
    alive "$old" && log "$proxy: old process $old still running after the run"
  done
  return 0
}

# counts PROXY MODE: what the proxy itself says about the reloads, as
# key=value lines (summarize.py reads them; weir's log is matched there).
counts() {
  case "$1" in
    nginx)
      # The master's own lines ("PID#PID: reconfiguring"), apart from the
      # reload client's.
      echo "nginx_reconfiguring=$(grep -c "\] $MAIN_PID#[0-9]*: reconfiguring\$" "$WORK/nginx-error.log" || true)"
      echo "nginx_emerg=$(grep -c "\[emerg\] $MAIN_PID#" "$WORK/nginx-error.log" || true)"
      echo "nginx_cli_refused=$(grep -c '\[emerg\]' "$WORK/nginx-cli.out" 2>/dev/null || true)"
      ;;
    haproxy)
      # The master CLI: "<pid> master <reloads> [failed: <n>] ..."
      python3 - "$WORK/haproxy-master.sock" <<'PY' || true
import re, socket, sys
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(sys.argv[1])
    s.sendall(b"show proc\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    print(f"haproxy_show_proc_error={e}")
    sys.exit(0)
text = data.decode(errors="replace")
m = re.search(r"^\s*\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]", text, re.M)
if m:
    print(f"haproxy_reloads={m.group(1)}")
    print(f"haproxy_failed={m.group(2)}")
print("haproxy_workers=" + str(len(re.findall(r"^\s*\d+\s+worker\s", text, re.M))))
PY
      # The master's log: "Reloading HAProxy" per SIGUSR2 taken in, then
      # "Loading success." or "Loading failure!" (the start logs a success too).
      echo "haproxy_log_reloading=$(grep -c 'Reloading HAProxy' "$WORK/haproxy.log" || true)"
      echo "haproxy_log_failure=$(grep -c 'Loading failure' "$WORK/haproxy.log" || true)"
      ;;
  esac
}

# ---------------------------------------------------------------- one run
run_wrk() {  # run_wrk SECONDS OUTFILE
  timeout -k 5 $(($1 + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$1"s --latency \
    "http://127.0.0.1:$PORT$WRK_PATH" >"$2" 2>&1 &
  WRK_PID=$!
}

# run_mode PROXY MODE: a fresh proxy, warm-up, the measured wrk run with the
# mode's schedule; RESULTS_DIR/PROXY-MODE.{wrk,events,counts}.
run_mode() {
  local proxy=$1 mode=$2 label=$1-$2 base f
  WEIGHT_B=1 WITH_C=0 SKIP_REASON=""
  read -r PORT <<<"$(free_ports 1)"
  if ! "start_$proxy" "$mode"; then
    log "skipping $label"
    stop_proxy
    echo "${SKIP_REASON:-did not start; see the messages above the table}" >"$RESULTS_DIR/$label.skipped"
    return 1
  fi
  cp "$CONF" "$RESULTS_DIR/$label.conf"
  checks_ok "$proxy" "$CONF" || log "$proxy: its own check rejects the good config: $(tail -n 2 "$WORK/check.out")"
  if [ "$mode" = reload ]; then
    render "$proxy" "$WORK/broken.check" broken
    ! checks_ok "$proxy" "$WORK/broken.check" || log "$proxy: its own check accepts the broken config"
    cp "$WORK/broken.check" "$RESULTS_DIR/$label.broken.conf"
  fi
  if [ "$WARMUP" -gt 0 ]; then
    run_wrk "$WARMUP" "$WORK/warmup.wrk"
    wait "$WRK_PID" || log "warm-up wrk exited with status $? for $label"
    WRK_PID=""
  fi
  log "$label on 127.0.0.1:$PORT (pid $MAIN_PID); wrk -t$WRK_THREADS -c$WRK_CONNECTIONS ${DURATION}s"
  base=$(now_ms)
  run_wrk "$DURATION" "$RESULTS_DIR/$label.wrk"
  case "$mode" in
    reload) reload_loop "$proxy" "$base" "$RESULTS_DIR/$label.events" ;;
    upgrade) upgrade_loop "$proxy" "$base" "$RESULTS_DIR/$label.events" ;;
  esac
  wait "$WRK_PID" || log "wrk exited with status $? for $label"
  WRK_PID=""
  [ "$mode" = baseline ] || probe served 0 >"$RESULTS_DIR/$label.after"
  counts "$proxy" >"$RESULTS_DIR/$label.counts"
  stop_proxy
  rm -f "$WORK/check.out" "$WORK/nginx-check.log"
  for f in "$WORK"/*.log "$WORK"/*.out; do
    [ -e "$f" ] || continue
    case "$f" in */origin-*) continue ;; esac
    gzip -c "$f" >"$RESULTS_DIR/$label.$(basename "$f").gz"
    rm -f "$f"
  done
  rm -rf "$WORK"/nginx-*-temp "$WORK"/nginx-client-body "$WORK"/*.pid "$WORK"/*.oldbin
}

# ---------------------------------------------------------------- main
start_origin a
start_origin b
start_origin c
log "origins a :${ORIGIN_PORT[a]} b :${ORIGIN_PORT[b]} c :${ORIGIN_PORT[c]} (c only while a reload adds it)"

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs"
  echo "wrk: -t$WRK_THREADS -c$WRK_CONNECTIONS -d${DURATION}s --latency $WRK_PATH, ${WARMUP}s warm-up"
  echo "reload every ${INTERVAL}s, upgrade every ${UPGRADE_INTERVAL}s, probe $PROBE_N requests"
  echo "origins: 3 x weir-origin --threads $ORIGIN_THREADS; proxies: 2 workers/threads each"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  command -v nginx >/dev/null && echo "nginx: $(nginx -v 2>&1)"
  command -v haproxy >/dev/null && echo "haproxy: $(haproxy -v | head -n 1)"
  echo "weir: $("$WEIR_BIN" -v 2>&1 | head -n 1) (reload via $WEIR_RELOAD)"
} >"$RESULTS_DIR/meta.txt"

RAN=()     # the runs measured
LABELS=()  # and those skipped, in order, for the table
SKIP_REASON=""
for proxy in $PROXIES; do
  for mode in $MODES; do
    if run_mode "$proxy" "$mode"; then RAN+=("$proxy-$mode"); fi
    LABELS+=("$proxy-$mode")
  done
done
echo "runs: ${RAN[*]}" >>"$RESULTS_DIR/meta.txt"
[ ${#RAN[@]} -gt 0 ] || die "no proxy could be measured"

echo
python3 "$TEMPLATES/summarize.py" "$RESULTS_DIR" "${LABELS[*]}" | tee "$RESULTS_DIR/table.txt"
echo
echo "results: $RESULTS_DIR"
