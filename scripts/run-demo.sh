#!/usr/bin/env bash
# `make run`: starts two demo origins (weir-origin on 127.0.0.1:9001 and
# 127.0.0.1:9002), then Weir in the foreground on conf/weir.yaml (listening on
# :8080). Ctrl-C stops Weir; the origins are then stopped by PID.
#
# Usage: scripts/run-demo.sh BUILD_DIR      (WEIR_CONFIG overrides the config)
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=${WEIR_CONFIG:-$ROOT/conf/weir.yaml}
ORIGIN_BIN=$BUILD_DIR/weir-origin
WEIR_BIN=$BUILD_DIR/weir
DEMO_ORIGINS=("demo-1:9001" "demo-2:9002")
PROXY_PORT=8080

fail() { echo "run-demo: $*" >&2; exit 1; }

[ -x "$ORIGIN_BIN" ] || fail "$ORIGIN_BIN not found; build first (make build)"
[ -x "$WEIR_BIN" ] || fail "$WEIR_BIN not found; build first (make build)"
[ -f "$CONFIG" ] || fail "config $CONFIG not found"

# True when something already holds the port (listening or bound).
port_busy() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

for port in 9001 9002 "$PROXY_PORT"; do
  if port_busy "$port"; then
    fail "port $port is already in use; stop whatever listens there (e.g. 'ss -ltnp | grep :$port') and retry"
  fi
done

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_listening PORT PID: up to 5 s for the origin to accept connections.
wait_listening() {
  local i
  for i in $(seq 50); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

for origin in "${DEMO_ORIGINS[@]}"; do
  name=${origin%%:*}
  port=${origin##*:}
  "$ORIGIN_BIN" --listen "127.0.0.1:$port" --name "$name" &
  PIDS+=($!)
  wait_listening "$port" $! || fail "demo origin $name did not start on 127.0.0.1:$port"
done

echo "run-demo: starting weir on $CONFIG; try:  curl localhost:$PROXY_PORT/   (Ctrl-C to stop)"
set +e
"$WEIR_BIN" -c "$CONFIG"
rc=$?
set -e
exit "$rc"
