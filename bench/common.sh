# shellcheck shell=bash
# Shell helpers shared by the bench/*.sh scripts (sourced right after
# `set -euo pipefail`, with BENCH_NAME set to the script's short name, used
# as the prefix of its messages).

log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { log "$*"; exit 1; }

# usage: prints the script's leading comment block and exits 2.
usage() {
  sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

# bench_build_dir "$@": the one optional argument, BUILD_DIR (default
# build), made absolute into BUILD_DIR; -h or --help prints the usage.
bench_build_dir() {
  [ $# -le 1 ] || usage
  case "${1:-}" in -h | --help) usage ;; esac
  local arg=${1:-build}
  [ -d "$arg" ] || { echo "$BENCH_NAME: build dir '$arg' not found" >&2; exit 2; }
  BUILD_DIR=$(cd "$arg" && pwd)
}

alive() { kill -0 "$1" 2>/dev/null; }

# children_of PID: its child processes' PIDs, one per line.
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

# stop_pid PID [SIGNAL]: signal, up to 10 s for it to exit, then SIGKILL.
# Works for processes that are not our children too (daemonized nginx, a
# process started by a binary upgrade).
stop_pid() {
  local pid=$1 sig=${2:-TERM} i
  kill -"$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for i in $(seq 100); do
    alive "$pid" || break
    # A child that exited is a zombie until waited for: reap it.
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

WRK_PID=""    # the wrk (under timeout) running, if any
SLEEP_PID=""  # the sleep of sleep_until, if any

# bench_traps STOP_FUNCTION: on exit (normal, error, Ctrl-C, TERM) stop the
# sleep and wrk in progress, run STOP_FUNCTION (the script's own processes,
# each by its recorded PID), then remove $WORK unless KEEP_TMP=1.
bench_traps() {
  BENCH_STOP=$1
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$SLEEP_PID" ] && stop_pid "$SLEEP_PID"
  [ -n "$WRK_PID" ] && stop_pid "$WRK_PID"
  "$BENCH_STOP"
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    log "temp files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}

now_ms() { date +%s%3N; }

# sleep_until EPOCH_MS. The sleep runs in the background and is waited for,
# so a signal's trap runs at once instead of after the sleep.
sleep_until() {
  local d=$(($1 - $(now_ms)))
  [ "$d" -gt 0 ] || return 0
  sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))" &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  SLEEP_PID=""
}

# origin_ports NAME OUT PID [N]: the ports weir-origin --name NAME (process
# PID, stdout in OUT, stderr in OUT.err) says it listens on, one per line,
# once it has said N of them (default 1); 5 s at most. Fails with a message
# when the process exits first or the time runs out.
origin_ports() {
  local name=$1 out=$2 pid=$3 n=${4:-1} i ports
  for i in $(seq 500); do
    # One read of the file for every line: it may grow between two reads
    # (and may not exist yet when the background job's redirection has not run).
    ports=$(sed -n "s/^weir-origin $name listening on 127\\.0\\.0\\.1:\\([0-9]*\\)\$/\\1/p" "$out" 2>/dev/null || true)
    if [ -n "$ports" ] && [ "$(wc -l <<<"$ports")" -ge "$n" ]; then
      echo "$ports"
      return 0
    fi
    alive "$pid" || { log "weir-origin $name exited: $(cat "$out.err" 2>/dev/null)"; return 1; }
    sleep 0.01
  done
  log "weir-origin $name did not say it listens within 5 s"
  return 1
}

# free_ports N: prints N distinct free TCP ports on 127.0.0.1.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
