#!/usr/bin/env bash
# Installs the Debian packages Weir needs to build, run and test (all of
# make test's stages), when missing.
# Runs apt-get directly as root, through sudo otherwise. Safe to run repeatedly.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libevent-dev libssl-dev libyaml-cpp-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev node-llhttp
  curl python3 procps
  # The admin tests: Prometheus's own text parser for /metrics, and a real
  # headless browser for the /status page.
  python3-prometheus-client chromium
  # make test: GCC's sanitizer runtimes (ASan, UBSan, TSan; g++ pulls them
  # in, listed so the test stages' needs are explicit) and, for the fuzz
  # targets, clang with libFuzzer (libclang-rt-14-dev) and llvm-symbolizer
  # (llvm-14) for readable reports.
  libasan8 libubsan1 libtsan2
  clang-14 libclang-rt-14-dev llvm-14
)
if [ "${WEIR_BENCH_DEPS:-0}" = 1 ]; then
  packages+=(wrk nginx-light haproxy varnish)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
