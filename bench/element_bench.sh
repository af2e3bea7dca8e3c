#!/usr/bin/env bash
# The faceqan element on ../shared/data/video/hamilton_clip.mp4 (640x360, 275 frames): frames per
# second, faces scored per second and the latency the element adds, at the paper's FaceQAN
# settings and at a cheaper one. Prints a Markdown table (docs/PERFORMANCE.md).
#
#   bench/element_bench.sh [PAPER_FRAMES [CHEAP_FRAMES]] [-- extra faceqan properties]
#
# The paper's settings cost seconds per face on a CPU, so by default every-face scoring runs
# them on the first 48 frames only; the cheap setting and scoring=budget (the element's default:
# only faces that may beat their track's best, at most budget-max-rate per second) run the whole
# clip. The clip plays at 29.97 frames/s: a frames/s above that is faster than real time.
# Run on a quiet machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/clip_args.sh" element_bench 48 275 "$@"
paper_frames=$count1 cheap_frames=$count2

# run LABEL FRAMES PROPERTIES...: one pass, one table row. ELEMENT_BENCH_ROWS="paper-budget ..."
# runs only the rows named.
run() {
  local label=$1 frames=$2
  shift 2
  if [ -n "${ELEMENT_BENCH_ROWS:-}" ] && [[ " $ELEMENT_BENCH_ROWS " != *" $label "* ]]; then
    return 0
  fi
  local log=$scratch/$label.jsonl start end
  start=$(date +%s.%N)
  # A stats interval longer than the run: the one message at EOS covers the whole run.
  "$build/bin/faceqan-annotate" "$log" \
    filesrc location="$video" ! decodebin ! videoconvert ! identity eos-after="$frames" ! \
    faceqan threads=2 stats-interval=3600000 "$@" "${extra[@]}" ! fakesink sync=false > /dev/null
  end=$(date +%s.%N)
  /usr/bin/python3 - "$log" "$label" "$start" "$end" "$*" <<'PY'
import json, sys
log, label, start, end, props = sys.argv[1:]
stats = [json.loads(l) for l in open(log) if '"faceqan-stats"' in l][-1]
seconds = float(end) - float(start)
print("| %s | %s | %d | %d | %.1f | %.2f | %.2f | %.0f | %.0f |" % (
    label, props, stats["frames_out"], stats["faces_scored"], seconds,
    stats["frames_out"] / seconds, stats["faces_scored"] / seconds,
    stats["latency"] / 1e6, stats["max_latency"] / 1e6))
PY
}

echo "| setting | properties | frames | faces scored | wall s | frames/s | faces scored/s | mean latency ms | max latency ms |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
run paper "$paper_frames" iterations=5 samples=10 scoring=every-face
run cheap "$cheap_frames" iterations=2 samples=4 scoring=every-face
run paper-budget "$cheap_frames" iterations=5 samples=10 scoring=budget
run cheap-budget "$cheap_frames" iterations=2 samples=4 scoring=budget
