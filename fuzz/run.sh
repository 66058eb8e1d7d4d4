#!/usr/bin/env bash
# Runs fuzz targets built by the `fuzz` preset, one after the other, each from its seed corpus in
# fuzz/corpus/<target> (and dictionary in fuzz/dict/, if any). Fails at the first target that finds
# a crash, a leak, a timeout or an out-of-memory; the input is copied to build/fuzz/findings/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      each target for SECONDS (default 30): what CI runs
#   FUZZ_RUNS=10000000 fuzz/run.sh 0 T...  each target for that many executions instead (long run)
#   FUZZ_WORK=DIR                          keep each target's corpus and log in DIR/<target>
#                                          (default: a scratch folder, removed at the end)
#   FUZZ_BIN=DIR                           the targets' folder (default build/fuzz/fuzz; a copy
#                                          lets a long run go on while the build changes)
# Targets: spec_yaml spec_json spec_body jsonnet_imports webhook duration url dashboard.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(spec_yaml spec_json spec_body jsonnet_imports webhook duration url dashboard)
fi
work_root="${FUZZ_WORK:-}"
if [ -z "$work_root" ]; then
  work_root="$(mktemp -d)"
  trap 'rm -rf "$work_root"' EXIT
fi
# No allocation stacks and a small quarantine: recording a stack for every allocation took a tenth
# of the time. Leaks are still found; rerun a finding with ASAN_OPTIONS= for its stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS-malloc_context_size=0:quarantine_size_mb=16}"
for name in "${targets[@]}"; do
  work="$work_root/$name"
  mkdir -p "$work/corpus"
  # 4 KiB inputs reach every limit (128 levels, the alias bomb) and keep executions fast.
  # Without the entropic schedule: with these targets' ten thousand features it took most of the
  # time (perf), and executions ran three times slower.
  options=(-timeout=10 -rss_limit_mb=2560 -max_len="${FUZZ_MAX_LEN:-4096}" -entropic=0
           -print_final_stats=1 -artifact_prefix="$work/")
  if [ -n "${FUZZ_RUNS:-}" ]; then
    options+=(-runs="$FUZZ_RUNS")
  else
    options+=(-max_total_time="$seconds")
  fi
  if [ -f "$root/fuzz/dict/$name.dict" ]; then
    options+=(-dict="$root/fuzz/dict/$name.dict")
  fi
  echo "== ${name}_fuzzer: ${FUZZ_RUNS:-${seconds}s}${FUZZ_RUNS:+ executions}"
  status=0
  start=$(date +%s)
  "${FUZZ_BIN:-$root/build/fuzz/fuzz}/${name}_fuzzer" "${options[@]}" "$work/corpus" "$root/fuzz/corpus/$name" \
    >"$work/log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|ERROR|SUMMARY" \
    "$work/log" || true
  echo "wall: $(( $(date +%s) - start ))s"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/log"
    mkdir -p "$root/build/fuzz/findings"
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* \
      "$root/build/fuzz/findings/" 2>/dev/null || true
    echo "${name}_fuzzer: FAILED (exit $status); inputs in build/fuzz/findings/"
    exit 1
  fi
done
echo "fuzz: ok (${#targets[@]} targets)"
