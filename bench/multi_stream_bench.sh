#!/usr/bin/env bash
# Many streams, one scorer: STREAMS copies of ../shared/data/video/hamilton_clip.mp4 through one
# pipeline (one process, one faceqan element per branch, sharing one scorer), against one stream
# alone, run back to back so that whatever else loads the machine weighs on both alike. Prints a
# Markdown table per scoring mode (docs/PERFORMANCE.md).
#
#   bench/multi_stream_bench.sh [FRAMES [STREAMS]] [-- extra faceqan properties]
#
# FRAMES (default 40) frames per stream at iterations=2 samples=4, STREAMS (default 4) branches.
# scoring=every-face gives the clean throughput figure; scoring=budget (the default) is the
# realistic one. MULTI_STREAM_BENCH_MODES="every-face budget" picks the modes;
# MULTI_STREAM_BENCH_UNSHARED=1 adds a row with shared-scorer=false (one model per element).
#
# Figures come from each element's final "faceqan-stats" message (at EOS): its faces scored, the
# time since it started (model loading excluded) and the mean time a frame spent in it. The total
# faces scored/s is all streams' faces over the longest stream's time. Checks: the shared run's
# total faces/s at least 0.9x one stream's, and the worst stream's mean latency at most 2x the
# best's (a line "check: ..." per mode; the exit status stays 0). "CPU s" is the process's user +
# system time: faces per CPU second is less sensitive to other load on the machine than faces
# per wall second (but counts OpenMP threads spinning at their barriers).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
video=${FACEQAN_DATA_DIR:-$root/../shared/data}/video/hamilton_clip.mp4
frames=${1:-40}
streams=${2:-4}
shift $(( $# > 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ -f "$video" ] || { echo "multi_stream_bench: missing $video" >&2; exit 1; }
export GST_PLUGIN_PATH=$root/build/lib/gstreamer-1.0
export GST_REGISTRY=$root/build/gst-registry.bin
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# run LABEL STREAMS PROPERTIES...: one pipeline with STREAMS branches; one summary line in
# $scratch/LABEL.row (and per-stream figures in $scratch/LABEL.streams).
run() {
  local label=$1 count=$2
  shift 2
  local pipeline=() i
  for ((i = 0; i < count; i++)); do
    pipeline+=(filesrc location="$video" ! decodebin ! videoconvert ! identity eos-after="$frames" !
      faceqan name="stream$i" threads=2 iterations=2 samples=4 stats-interval=3600000 "$@"
      "${extra[@]}" ! fakesink sync=false)
  done
  local log=$scratch/$label.jsonl start end TIMEFORMAT=%U+%S
  start=$(date +%s.%N)
  { time "$root/build/bin/faceqan-annotate" "$log" "${pipeline[@]}" > /dev/null; } 2> "$scratch/$label.cpu"
  end=$(date +%s.%N)
  /usr/bin/python3 - "$log" "$label" "$count" "$start" "$end" "$*" "$(tail -1 "$scratch/$label.cpu")" \
    > "$scratch/$label.row" <<'PY'
import json, sys
log, label, count, start, end, props, cpu = sys.argv[1:]
cpu = sum(float(x) for x in cpu.split("+"))
last = {}
for line in open(log):
    m = json.loads(line)
    if m.get("message") == "faceqan-stats":
        last[m.get("element", "?")] = m
if len(last) != int(count):
    sys.exit("expected %s streams' stats, got %d" % (count, len(last)))
faces = sum(s["faces_scored"] for s in last.values())
frames = sum(s["frames_out"] for s in last.values())
def seconds(s):  # the element's own time: faces / (faces per second over its whole run)
    if s["faces_scored_per_second"] > 0: return s["faces_scored"] / s["faces_scored_per_second"]
    if s["frames_per_second"] > 0: return s["frames_out"] / s["frames_per_second"]
    return 0.0
elapsed = max(seconds(s) for s in last.values())
lat = [s["latency"] / 1e6 for s in last.values()]
streams_seen = max(s.get("scorer_streams", 0) for s in last.values())
print("%s\t%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.0f\t%.0f\t%.2f\t%d\t%.1f\t%.3f" % (
    label, props, int(count), frames, faces, float(end) - float(start), elapsed,
    faces / elapsed if elapsed > 0 else 0.0, min(lat), max(lat),
    max(lat) / min(lat) if min(lat) > 0 else 0.0, streams_seen, cpu, faces / cpu if cpu else 0.0))
PY
}

table() {
  echo "| run | properties | streams | frames | faces scored | wall s | element s | faces scored/s | best mean latency ms | worst mean latency ms | worst/best | scorer-streams | CPU s | faces/CPU s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local label
  for label in "$@"; do
    [ -f "$scratch/$label.row" ] && sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$scratch/$label.row"
  done
}

for mode in ${MULTI_STREAM_BENCH_MODES:-every-face budget}; do
  rows=("$mode-1" "$mode-$streams-shared")
  run "$mode-1" 1 scoring="$mode"
  run "$mode-$streams-shared" "$streams" scoring="$mode"
  if [ "${MULTI_STREAM_BENCH_UNSHARED:-0}" = 1 ]; then
    run "$mode-$streams-unshared" "$streams" scoring="$mode" shared-scorer=false
    rows+=("$mode-$streams-unshared")
  fi
  echo
  echo "scoring=$mode, $frames frames per stream:"
  echo
  table "${rows[@]}"
  /usr/bin/python3 - "$scratch/$mode-1.row" "$scratch/$mode-$streams-shared.row" <<'PY'
import sys
one = open(sys.argv[1]).read().split("\t")
many = open(sys.argv[2]).read().split("\t")
ratio = float(many[7]) / float(one[7]) if float(one[7]) > 0 else 0.0
fair = float(many[10])
print()
print("check: %s streams scored %.2fx the faces/s of one stream (goal >= 0.9): %s; worst/best "
      "mean latency %.2f (goal <= 2): %s" % (many[2], ratio, "ok" if ratio >= 0.9 else "LOW",
                                             fair, "ok" if fair <= 2.0 else "HIGH"))
PY
done
