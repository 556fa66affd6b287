#!/usr/bin/env bash
# What `make test` runs: four stages, each in its own build directory, in
# this order (README.md, "Tests"):
#   release  build/       Release build, the whole CTest suite
#   asan     build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (GCC),
#                         the whole suite; RSS-bound tests skip themselves
#   tsan     build-tsan/  ThreadSanitizer (GCC), the whole suite (or
#                         WEIR_TSAN_TESTS, a ctest -R regex)
#   fuzz     build-fuzz/  libFuzzer targets (clang-14): every seed and
#                         regression input once, then each target for
#                         WEIR_FUZZ_SECONDS (default 60) from a copy of its corpus
#
#   scripts/test.sh [STAGE...]     default: every stage
#
# Environment: WEIR_TEST_QUICK=1 runs the release stage only;
# WEIR_TEST_STAGES="release asan" picks stages; JOBS (default nproc) sets
# build and ctest parallelism; BUILD names the release build directory.
# A sanitizer report from any process (tests, weir, weir-origin) fails its
# stage even when no test noticed it: reports are written to files under
# <build dir>/sanitizer-reports/ and printed at the end of the stage.
# Every stage runs even after one fails; the exit status is 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD:-build}
FUZZ_CC=${WEIR_FUZZ_CC:-clang-14}
FUZZ_CXX=${WEIR_FUZZ_CXX:-clang++-14}
# Sanitizer builds: some optimisation keeps the suite fast, line tables make
# the reports readable. (Debug: assertions stay on.)
SAN_FLAGS=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
           -DWEIR_BUILD_BENCH=OFF)

if [ $# -gt 0 ]; then
  stages=("$@")
elif [ "${WEIR_TEST_QUICK:-0}" = 1 ]; then
  stages=(release)
else
  read -r -a stages <<<"${WEIR_TEST_STAGES:-release asan tsan fuzz}"
fi

say() { printf '\n==== %s\n' "$*"; }

configure_and_build() {  # DIR [cmake args...] -- [build args...]
  local dir=$1
  shift
  local cfg=() bld=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cfg+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  bld=("$@")
  cmake -S . -B "$dir" "${cfg[@]}" >/dev/null && cmake --build "$dir" -j "$JOBS" "${bld[@]}"
}

ctest_in() {  # DIR [ctest args...]
  local dir=$1
  shift
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j "$JOBS" "$@")
}

# Fails when a sanitizer wrote a report; prints them.
check_reports() {  # DIR
  local reports
  reports=$(find "$1" -type f 2>/dev/null | sort)
  [ -z "$reports" ] && return 0
  echo "sanitizer reports under $1:" >&2
  local r
  for r in $reports; do
    echo "---- $r" >&2
    head -n 80 "$r" >&2
  done
  return 1
}

stage_release() {
  configure_and_build "$BUILD" -DCMAKE_BUILD_TYPE=Release && ctest_in "$BUILD"
}

stage_asan() {
  local dir=build-asan reports
  reports=$PWD/$dir/sanitizer-reports
  configure_and_build "$dir" "${SAN_FLAGS[@]}" -DWEIR_SANITIZE=address,undefined || return 1
  rm -rf "$reports" && mkdir -p "$reports"
  local rc=0
  ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    ctest_in "$dir" || rc=1
  check_reports "$reports" || rc=1
  return $rc
}

stage_tsan() {
  local dir=build-tsan reports supp
  reports=$PWD/$dir/sanitizer-reports
  supp=$PWD/scripts/tsan-suppressions.txt
  configure_and_build "$dir" "${SAN_FLAGS[@]}" -DWEIR_SANITIZE=thread || return 1
  rm -rf "$reports" && mkdir -p "$reports"
  local filter=()
  [ -n "${WEIR_TSAN_TESTS:-}" ] && filter=(-R "$WEIR_TSAN_TESTS")
  # TSan's shadow layout needs the kernel's default ASLR entropy (28 bits);
  # kernels configured with more make it abort at start unless ASLR is off.
  local launcher=()
  if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
    launcher=(setarch "$(uname -m)" -R)
  fi
  local rc=0
  (cd "$dir" &&
    TSAN_OPTIONS="log_path=$reports/tsan:second_deadlock_stack=1:suppressions=$supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
      "${launcher[@]}" ctest --output-on-failure --timeout 300 -j "$JOBS" "${filter[@]}") || rc=1
  check_reports "$reports" || rc=1
  return $rc
}

stage_fuzz() {
  local dir=build-fuzz
  if ! command -v "$FUZZ_CXX" >/dev/null; then
    echo "fuzz: $FUZZ_CXX not found (scripts/deps.sh installs clang-14)" >&2
    return 1
  fi
  (export CC=$FUZZ_CC CXX=$FUZZ_CXX
   configure_and_build "$dir" -DCMAKE_BUILD_TYPE=Release -DWEIR_BUILD_BENCH=OFF \
     -- --target weir_parser_fuzz weir_forward_fuzz weir_config_fuzz weir_cache_policy_fuzz) || return 1
  local rc=0
  ctest_in "$dir" -L fuzz || rc=1
  cat "$dir"/tests/fuzz/work/*/summary.txt 2>/dev/null
  return $rc
}

for s in "${stages[@]}"; do
  if ! declare -F "stage_$s" >/dev/null; then
    echo "test.sh: unknown stage \"$s\" (release, asan, tsan, fuzz)" >&2
    exit 2
  fi
done

declare -A result seconds
failed=0
for s in "${stages[@]}"; do
  say "stage $s"
  start=$(date +%s)
  if "stage_$s"; then result[$s]=passed; else result[$s]=FAILED; failed=1; fi
  seconds[$s]=$(( $(date +%s) - start ))
done

say "summary"
for s in "${stages[@]}"; do
  printf '%-8s %-7s %4ds\n' "$s" "${result[$s]}" "${seconds[$s]}"
done
exit $failed
