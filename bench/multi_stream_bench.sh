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
# Figures come from the elements' "faceqan-stats" messages (every second and at EOS, stamped by
# faceqan-annotate when they arrive): faces scored/s is all streams' faces scored from the first
# scored batch to the last EOS over that time ("measured s"; model loading and start-up left out
# for both runs alike); a stream's mean latency is the mean time its frames spent in its element
# over the whole run. "wall s" is the whole process. Checks: the shared run's
# total faces/s at least 0.9x one stream's, and the worst stream's mean latency at most 2x the
# best's (a line "check: ..." per mode; the exit status stays 0). "CPU s" is the process's user +
# system time: faces per CPU second is less sensitive to other load on the machine than faces
# per wall second (but counts OpenMP threads spinning at their barriers).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/clip_args.sh" multi_stream_bench 40 4 "$@"
frames=$count1
streams=$count2

# run LABEL STREAMS PROPERTIES...: one pipeline with STREAMS branches; one summary line in
# $scratch/LABEL.row (and per-stream figures in $scratch/LABEL.streams).
run() {
  local label=$1 count=$2
  shift 2
  local pipeline=() i
  for ((i = 0; i < count; i++)); do
    pipeline+=(filesrc location="$video" ! decodebin ! videoconvert ! identity eos-after="$frames" !
      faceqan name="stream$i" threads=2 iterations=2 samples=4 stats-interval=1000 "$@"
      "${extra[@]}" ! fakesink sync=false)
  done
  local log=$scratch/$label.jsonl start end TIMEFORMAT=%U+%S
  start=$(date +%s.%N)
  { time "$build/bin/faceqan-annotate" "$log" "${pipeline[@]}" > /dev/null; } 2> "$scratch/$label.cpu"
  end=$(date +%s.%N)
  /usr/bin/python3 - "$log" "$label" "$count" "$start" "$end" "$*" "$(tail -1 "$scratch/$label.cpu")" \
    > "$scratch/$label.row" <<'PY'
import json, sys
log, label, count, start, end, props, cpu = sys.argv[1:]
cpu = sum(float(x) for x in cpu.split("+"))
stats = [m for m in map(json.loads, open(log)) if m.get("message") == "faceqan-stats"]
streams = sorted({m["element"] for m in stats})
if len(streams) != int(count):
    sys.exit("expected %s streams' stats, got %d" % (count, len(streams)))
last = {m["element"]: m for m in stats}  # the one at EOS
faces = sum(s["faces_scored"] for s in last.values())
frames = sum(s["frames_out"] for s in last.values())
# Throughput from the first scored faces to the last EOS: all streams' faces scored in between
# over that time (model loading, start-up and the first batch left out, for both runs alike).
latest = {e: 0 for e in streams}
t0 = f0 = None
for m in sorted(stats, key=lambda m: m["received"]):
    latest[m["element"]] = m["faces_scored"]
    total = sum(latest.values())
    if t0 is None and total > 0:
        t0, f0 = m["received"], total
t1 = max(m["received"] for m in stats)
measured = t1 - t0 if t0 is not None else 0.0
rate = (faces - f0) / measured if measured > 0 else 0.0
# Each stream's mean latency over its whole run: the intervals' means weighted by their frames.
lat = []
for e in streams:
    weighted = n = 0
    previous = 0
    for m in (m for m in stats if m["element"] == e):
        frames_in_interval = m["frames_out"] - previous
        previous = m["frames_out"]
        weighted += m["latency"] * frames_in_interval
        n += frames_in_interval
    lat.append(weighted / n / 1e6 if n else 0.0)
streams_seen = max(s.get("scorer_streams", 0) for s in last.values())
print("%s\t%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.0f\t%.0f\t%.2f\t%d\t%.1f\t%.3f" % (
    label, props, int(count), frames, faces, float(end) - float(start), measured, rate,
    min(lat), max(lat), max(lat) / min(lat) if min(lat) > 0 else 0.0, streams_seen, cpu,
    faces / cpu if cpu else 0.0))
PY
}

table() {
  echo "| run | properties | streams | frames | faces scored | wall s | measured s | faces scored/s | best mean latency ms | worst mean latency ms | worst/best | scorer-streams | CPU s | faces/CPU s |"
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
