#!/usr/bin/env bash
# Fuzzes one libFuzzer target for a bounded time, starting from a copy of its
# committed seed corpus, so the corpus in the repository is never modified.
#
#   scripts/fuzz-run.sh BINARY CORPUS_DIR WORK_DIR [DICT]
#
# WORK_DIR is emptied, then holds corpus/ (the seeds plus what the run
# found) and artifacts/ (inputs that crashed or broke an invariant).
# WEIR_FUZZ_SECONDS sets the time (default: WEIR_FUZZ_DEFAULT_SECONDS, set
# by CTest from the CMake cache, else 60). Exits non-zero on any finding.
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 BINARY CORPUS_DIR WORK_DIR [DICT]" >&2
  exit 2
fi
binary=$1 corpus=$2 work=$3 dict=${4:-}
seconds=${WEIR_FUZZ_SECONDS:-${WEIR_FUZZ_DEFAULT_SECONDS:-60}}
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz-run: WEIR_FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;;
esac

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -R "$corpus"/. "$work/corpus/"

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
[ -n "$dict" ] && args+=(-dict="$dict")
# Symbolized stacks in reports, when the LLVM symbolizer is installed.
for s in /usr/lib/llvm-14/bin/llvm-symbolizer "$(command -v llvm-symbolizer || true)"; do
  if [ -n "$s" ] && [ -x "$s" ]; then
    export ASAN_SYMBOLIZER_PATH=$s
    break
  fi
done

name=$(basename "$binary")
seeds=$(find "$work/corpus" -type f | wc -l)
echo "fuzz-run: $name for ${seconds}s from $seeds seeds"
status=0
# A backstop: libFuzzer can hang after reporting a timeout (its alarm handler
# interrupts an allocation), so the run is killed a minute past its time.
timeout --kill-after=10 $((seconds + 60)) "$binary" "${args[@]}" "$work/corpus" > "$work/fuzz.log" 2>&1 || status=$?
[ "$status" -eq 124 ] || [ "$status" -eq 137 ] && echo "fuzz-run: $name did not stop by itself; killed" >&2
found=$(find "$work/artifacts" -type f | wc -l)
# Figures from libFuzzer's final statistics (-print_final_stats) and its last
# status line ("#RUNS ... cov: N ft: N corp: N/SIZE ..."), also after a finding.
final() { sed -nE "s|^stat::$1: *([0-9]+).*|\\1|p" "$work/fuzz.log" | tail -1; }
status_line=$(grep -E '^#[0-9]+[[:space:]].* cov: ' "$work/fuzz.log" | tail -1 || true)
field() { sed -nE "s|.* $1: ([0-9]+).*|\\1|p" <<<"$status_line"; }
summary="$name: $(final number_of_executed_units) runs (limit ${seconds}s), $(final average_exec_per_sec) exec/s, cov: $(field cov) ft: $(field ft), corpus $seeds -> $(find "$work/corpus" -type f | wc -l) inputs, $found finding(s)"
echo "$summary" > "$work/summary.txt"
echo "fuzz-run: $summary"
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
  # The report: everything from the sanitizer's or the target's first line.
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)' "$work/fuzz.log" | tail -60 >&2
  echo "fuzz-run: $name FAILED (exit $status); reproducers:" >&2
  find "$work/artifacts" -type f -exec echo "  {}" \; >&2
  echo "fuzz-run: replay one with: $binary FILE; keep it as a regression under tests/fuzz/regressions/" >&2
  exit 1
fi
