#!/usr/bin/env bash
# Core-milliseconds per frame by stage (decode, detect, align, score, output) of the faceqan
# element on ../shared/data/video/hamilton_clip.mp4 (640x360, 275 frames), as a Markdown table
# (docs/PERFORMANCE.md).
#
#   bench/stage_bench.sh [-- faceqan properties]
#
# Each figure is CPU time (user + system, all threads) of whole gst-launch runs, as differences
# between runs that do more or less (sync=false, so nothing waits on a clock), after subtracting
# each configuration's start-up (the same run stopped after 1 frame, which loads the models):
#   decode  filesrc ! decodebin ! videoconvert ! fakesink
#   detect  the element scoring nothing (budget-min-eye-distance huge), detecting as configured,
#           minus the same detecting only the first frame (detection-interval huge); with
#           detection-interval > 1 this is the average over all frames, and it includes the
#           tracking of boxes between detections
#   align   faceqan-bench-detector's alignment time (one thread) x faces per frame
#   output  the element scoring nothing and detecting once, minus decode and align: tracking,
#           cheap signals, metadata, JSON-free output, the queue and the push
#   score   the element as configured minus the same scoring nothing
# Properties after -- apply to every element run (the defaults when none). Run on a quiet
# machine; CPU time is less disturbed by other load than wall time, but not immune.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
video=${FACEQAN_DATA_DIR:-$root/../shared/data}/video/hamilton_clip.mp4
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ -f "$video" ] || { echo "stage_bench: missing $video" >&2; exit 1; }
export GST_PLUGIN_PATH=${STAGE_BENCH_PLUGIN_PATH:-$root/build/lib/gstreamer-1.0}
export GST_REGISTRY=${STAGE_BENCH_REGISTRY:-$root/build/gst-registry.bin}
frames=275
never=10000  # a budget-min-eye-distance no face reaches, a detection-interval past the clip (their maxima)

# cpu_seconds FRAMES [faceqan PROPERTIES | --no-element]: CPU seconds of one run.
cpu_seconds() {
  local count=$1
  shift
  local element=(faceqan "${extra[@]}" "$@" !)
  [ "${1:-}" = "--no-element" ] && element=()
  /usr/bin/python3 - gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! \
    identity eos-after="$count" ! "${element[@]}" fakesink sync=false <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)
PY
}

# per_frame PROPERTIES...: core-ms per frame of the full clip, start-up (1 frame) subtracted.
per_frame() {
  local all one
  all=$(cpu_seconds "$frames" "$@")
  one=$(cpu_seconds 1 "$@")
  echo "($all - $one) * 1000 / ($frames - 1)" | bc -l
}

decode=$(per_frame --no-element)
detecting=$(per_frame budget-min-eye-distance=$never)
detect_once=$(per_frame budget-min-eye-distance=$never detection-interval=$never)
full=$(per_frame)

# Alignment: one thread, so its wall time is its CPU time; times the clip's faces per frame.
# Columns found by their header, first 640x360 row (the letterboxed full input; alignment does
# not depend on the detector's input).
align_line=$("${STAGE_BENCH_DETECTOR_BENCH:-$root/build/bin/faceqan-bench-detector}" | awk -F'|' '
  /faces/ && /align RGB float/ { for (i = 1; i <= NF; i++) { if ($i ~ /faces/) f = i;
                                                           if ($i ~ /align RGB float/) a = i } }
  $2 ~ /640x360/ && !done { print $a, $f; done = 1 }')
align_ms=$(echo "$align_line" | awk '{print $1}')
bench_faces=$(echo "$align_line" | awk '{print $2}')
faces_per_frame=$(GST_PLUGIN_PATH=$GST_PLUGIN_PATH /usr/bin/python3 - "$video" "${extra[@]}" <<'PY'
import json, subprocess, sys, tempfile
video, props = sys.argv[1], sys.argv[2:]
with tempfile.NamedTemporaryFile(suffix=".jsonl") as log:
    subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + video, "!", "decodebin", "!",
                    "videoconvert", "!", "faceqan", "budget-min-eye-distance=10000",
                    "json-location=" + log.name] + props + ["!", "fakesink", "sync=false"],
                   stdout=subprocess.DEVNULL, check=True)
    frames = [json.loads(l) for l in open(log.name) if '"event"' not in l]
print(sum(len(f["objects"]) for f in frames) / len(frames))
PY
)
align=$(echo "$align_ms / $bench_faces * $faces_per_frame" | bc -l)
detect=$(echo "$detecting - $detect_once" | bc -l)
output=$(echo "$detect_once - $decode - $align" | bc -l)
score=$(echo "$full - $detecting" | bc -l)
total=$(echo "$full" | bc -l)

printf '| properties | decode | detect | align | score | output | total | faces/frame |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
printf '| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.2f |\n' "${extra[*]:-(defaults)}" \
  "$decode" "$detect" "$align" "$score" "$output" "$total" "$faces_per_frame"
