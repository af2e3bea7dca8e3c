#!/usr/bin/env bash
# The sanitizer build and its tests (docs/RELIABILITY.md, "Sanitizers"): builds the project with
# AddressSanitizer + UndefinedBehaviorSanitizer (with LeakSanitizer) into build-asan/, prepares the
# models into build-asan/models/ and runs the unit tests under the sanitizers. Run by CI after the
# normal build and tests (.ci/run). Needs the packages of scripts/install-deps.sh.
#
#   scripts/sanitizer-tests.sh            # configure, build, prepare the models, test
#   FACEQAN_SANITIZER_BUILD_DIR=dir ...   # another build folder (default build-asan)
#   FACEQAN_BUILD_JOBS=n ...              # build jobs (default 2)
#
# Every sanitizer report is written to BUILD/sanitizer-logs/ (log_path) as well as failing its
# program with exit status 86, so a report cannot hide in a test that reads a child's output or
# expects a failing exit status: the script fails if any report was written, and prints them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${FACEQAN_SANITIZER_BUILD_DIR:-build-asan}
case $build in /*) ;; *) build=$root/$build ;; esac
start=$(date +%s)

# Debug: -O0 and assertions on. Only the project's code is instrumented; LibTorch, OpenCV,
# GStreamer and protobuf are Debian's (see the doc for what that covers).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFACEQAN_SANITIZE=address,undefined
cmake --build "$build" -j "${FACEQAN_BUILD_JOBS:-2}"
bash models/prepare.sh "$build/models"
built=$(date +%s)

logs=$build/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
supp=$root/scripts/sanitizers
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:\
detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:\
detect_invalid_pointer_pairs=0:print_summary=1:log_path=$logs/asan:\
suppressions=$supp/asan.supp"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$logs/ubsan:\
suppressions=$supp/ubsan.supp"
# GStreamer scans plugins in a helper program (gst-plugin-scanner), which is not instrumented and
# cannot load the instrumented plugin: scan inside the (instrumented) test program instead.
export GST_REGISTRY_FORK=no

# Tests left out of the sanitizer run, each with its reason (docs/RELIABILITY.md says the same).
# Everything else that ctest knows runs, so a new test is covered without touching this list.
declare -A excluded=(
)
# Tests run with part of their cases left out (GTEST_FILTER), each with its reason.
declare -A filtered=(
  [faceqan_scorer_test]="-FaceQanTest.AlignedLfwFacesScoreInUnitIntervalAndDegradedCopiesScoreLower"
)
declare -A filtered_reason=(
  [faceqan_scorer_test]="AlignedLfwFaces...: 60 faces at the paper's settings (l 5, k 10), 100-240 s \
normally and over its 1200 s timeout under ASan on a loaded 2-core machine; the time is LibTorch's \
uninstrumented kernels. The scorer's own code (batching, seeds, aggregation, symmetry, errors) runs \
in the suite's other 7 FaceQAN cases and in the aggregation and settings cases."
)
# Tests run without leak checking (ASan and UBSan still on), each with its reason.
declare -A noleak=(
  [main_job_test]="faceqan-annotate with x264enc/mp4mux: LeakSanitizer's own tracer crashes at \
exit (\"Tracer caught signal 11\", \"LeakSanitizer has encountered a fatal error\") while stopping \
the pipeline's uninstrumented threads (in every run seen)."
  [faceqan_gst_element_tests]="the same LeakSanitizer tracer crash at exit, in one of the two runs \
seen (the other ran the leak check: it found only GLib's, see lsan.supp); the element's leaks are \
checked in faceqan_gst_lifecycle_tests and faceqan_gst_best_frames_clip_tests."
)
# Tests whose programs are not the project's (gst-inspect-1.0, gst-launch-1.0 in the pipeline
# scripts, sh): they load the instrumented plugin, so the ASan runtime is preloaded into them.
# Leak checking is off there: those programs' own allocations are not the project's.
# faceqan_collect_cameras_tests plays its cameras with gst-launch-1.0.
preloaded=(faceqan_gst_inspect faceqan_gst_pipelines faceqan_collect_cameras_tests)

regex() { local IFS='|'; printf '^(%s)$' "$*"; }
skip=("${!excluded[@]}" "${!filtered[@]}" "${!noleak[@]}" "${preloaded[@]}")
echo "sanitizer-tests: excluded tests:"
[ ${#excluded[@]} -eq 0 ] && echo "  none"
for name in "${!excluded[@]}"; do echo "  $name: ${excluded[$name]}"; done
echo "sanitizer-tests: tests with cases left out:"
for name in "${!filtered[@]}"; do echo "  $name: ${filtered_reason[$name]}"; done
echo "sanitizer-tests: tests without leak checking:"
for name in "${!noleak[@]}"; do echo "  $name: ${noleak[$name]}"; done

status=0
ctest --test-dir "$build" --output-on-failure -E "$(regex "${skip[@]}")" || status=1
for name in "${!filtered[@]}"; do
  GTEST_FILTER=${filtered[$name]} \
    ctest --test-dir "$build" --output-on-failure -R "$(regex "$name")" || status=1
done
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
  ctest --test-dir "$build" --output-on-failure -R "$(regex "${!noleak[@]}")" || status=1
echo "sanitizer-tests: tests with the ASan runtime preloaded: ${preloaded[*]}"
LD_PRELOAD=$(gcc -print-file-name=libasan.so) \
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0:verify_asan_link_order=0" \
  ctest --test-dir "$build" --output-on-failure -R "$(regex "${preloaded[@]}")" || status=1

if compgen -G "$logs/*" > /dev/null; then
  echo "sanitizer-tests: sanitizer reports:"
  for report in "$logs"/*; do echo "=== $report"; cat "$report"; done
  status=1
fi
end=$(date +%s)
echo "sanitizer-tests: build $((built - start)) s, tests $((end - built)) s, status $status"
exit $status
