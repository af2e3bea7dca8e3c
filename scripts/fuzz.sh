#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (AddressSanitizer + UndefinedBehaviorSanitizer
# on the targets and on the project code they cover) in build-fuzz/, and runs them one after
# another, printing per target: executions, seconds, corpus size, crashes.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     (defaults: all, 600 seconds per target)
#
# TARGET: location_pattern | model_description | onnx_importer | image_input (or the full name,
# e.g. onnx_importer_fuzzer). Environment: FACEQAN_FUZZ_BUILD (default build-fuzz),
# FACEQAN_FUZZ_JOBS (build jobs, default 2), FACEQAN_FUZZ_NO_BUILD=1 (run what is built),
# FACEQAN_FUZZ_KEEP_GOING=1 (libFuzzer's fork mode: go on after a crash, keeping every input),
# FACEQAN_MODEL_PATH (where the image target finds
# detection/retinaface_mnet025_640.onnx; default build/models, then ../shared/models).
#
# Seeds are generated into BUILD/fuzz-seeds by fuzz/make_seeds.py (plus a few aligned faces from
# ../shared/data/lfw-aligned-112 if present); the corpus grows in BUILD/fuzz-corpus/TARGET across
# runs; crashing inputs land in BUILD/fuzz-artifacts/TARGET/. Keep the ones that found a bug in
# tests/fuzz/TARGET/, where the normal build's ctest replays them (fuzz_*_regression tests).
# Exits 1 if any target crashed. Needs clang and libFuzzer (Debian: clang-14, libclang-rt-14-dev).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${FACEQAN_FUZZ_BUILD:-$root/build-fuzz}
jobs=${FACEQAN_FUZZ_JOBS:-2}
which_target=${1:-all}
seconds=${2:-600}

all_targets=(location_pattern_fuzzer model_description_fuzzer onnx_importer_fuzzer image_input_fuzzer)
if [ "$which_target" = all ]; then
  targets=("${all_targets[@]}")
else
  name=${which_target%_fuzzer}_fuzzer
  case " ${all_targets[*]} " in
    *" $name "*) targets=("$name") ;;
    *) echo "fuzz.sh: unknown target '$which_target' (one of: ${all_targets[*]%_fuzzer} all)" >&2; exit 2 ;;
  esac
fi

# Per target: the longest input libFuzzer makes, and the slowest one it accepts.
declare -A max_len=([location_pattern_fuzzer]=256 [model_description_fuzzer]=4096
                    [onnx_importer_fuzzer]=8192 [image_input_fuzzer]=16384)

clangxx=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$clangxx" ]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
  nice -n 19 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clangxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACEQAN_FUZZ=ON -DFACEQAN_BUILD_TESTS=OFF \
    -DFACEQAN_WITH_GSTREAMER=OFF -DFACEQAN_WITH_TOOLS=OFF >/dev/null
fi
if [ "${FACEQAN_FUZZ_NO_BUILD:-0}" != 1 ]; then
  nice -n 19 cmake --build "$build" -j "$jobs" --target "${targets[@]}"
fi

rm -rf "$build/fuzz-seeds"
/usr/bin/python3 "$root/fuzz/make_seeds.py" "$build/fuzz-seeds" \
  --face-dir "$root/../shared/data/lfw-aligned-112" >/dev/null

export FACEQAN_MODEL_PATH=${FACEQAN_MODEL_PATH:-$root/build/models:$root/../shared/models}
# Leaks are checked (libFuzzer reports a leak per input); UB stops the run (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1

summary=()
crashed=0
for target in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$target
  artifacts=$build/fuzz-artifacts/$target
  log=$build/fuzz-logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  inputs=("$corpus" "$build/fuzz-seeds/$target")
  [ -d "$root/tests/fuzz/$target" ] && inputs+=("$root/tests/fuzz/$target")
  before=$(find "$artifacts" -type f | wc -l)
  echo "== $target: $seconds s (log: $log)"
  start=$(date +%s)
  status=0
  keep_going=()
  if [ "${FACEQAN_FUZZ_KEEP_GOING:-0}" = 1 ]; then
    # One child process at a time that is restarted after a crash: the run lasts its full time
    # and collects every crashing input instead of stopping at the first.
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  fi
  nice -n 19 "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
    -max_len="${max_len[$target]}" -timeout=20 -rss_limit_mb=2048 "${keep_going[@]}" \
    -artifact_prefix="$artifacts/" "${inputs[@]}" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  executions=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  if [ -z "$executions" ]; then  # fork mode: the parent's last "#N:" status line
    executions=$(grep -oE '^#[0-9]+:' "$log" | tail -1 | tr -d '#:' || true)
  fi
  # libFuzzer's own count of the corpus it ended with (seeds, saved inputs and new ones).
  corpus_size=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  corpus_size=${corpus_size:-$(find "$corpus" -type f | wc -l)}
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
  if [ "$status" -ne 0 ]; then
    crashed=1
    grep -E "^(SUMMARY|==[0-9]+==ERROR)|property failed|Test unit written" "$log" | head -5 || true
  fi
  line=$(printf "%-26s executions %-10s seconds %-5s corpus %-6s crashes %s" \
    "$target" "${executions:-?}" "$elapsed" "$corpus_size" "$crashes")
  echo "$line"
  summary+=("$line")
done

echo
echo "== fuzz summary ($(date -u +%FT%TZ), $seconds s per target)"
printf "%s\n" "${summary[@]}" | tee "$build/fuzz-summary.txt"
exit "$crashed"
