#!/usr/bin/env bash
# What scoring=budget costs in best-frame quality and gains in speed, on
# ../shared/data/video/hamilton_clip.mp4 (275 frames, 640x360, 29.97 fps, 1-7 faces a frame).
#
#   bench/best_frame_bench.sh [FRAMES] [-- faceqan properties for both runs]
#
# Runs the element twice on the same frames with the same FaceQAN settings (default
# iterations=2 samples=4): scoring=every-face (every face scored: the reference best per track)
# and scoring=budget. The tracker sees the same detections in both runs, so track ids match, and
# a face scored in both runs gets the same score (same seed, same noise key). For each track
# that every-face scored: does the budget pick the same frame, and how much quality does it lose
# otherwise. Prints two Markdown tables. The every-face run takes several minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
video=${FACEQAN_DATA_DIR:-$root/../shared/data}/video/hamilton_clip.mp4
frames=${1:-275}
shift $(( $# > 0 ? 1 : 0 )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ -f "$video" ] || { echo "best_frame_bench: missing $video" >&2; exit 1; }
export GST_PLUGIN_PATH=$root/build/lib/gstreamer-1.0
export GST_REGISTRY=$root/build/gst-registry.bin
# BEST_FRAME_BENCH_DIR keeps the runs' JSON-lines files there; with BEST_FRAME_BENCH_REUSE=1 an
# every-face run already there is reused (to compare budget settings without re-scoring it all).
if [ -n "${BEST_FRAME_BENCH_DIR:-}" ]; then
  scratch=$BEST_FRAME_BENCH_DIR
  mkdir -p "$scratch"
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi

# run MODE: one pass writing $scratch/MODE.jsonl and $scratch/MODE.seconds.
run() {
  local mode=$1 start end
  start=$(date +%s.%N)
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! \
    identity eos-after="$frames" ! \
    faceqan threads=2 iterations=2 samples=4 scoring="$mode" best-frames=true \
      json-location="$scratch/$mode.jsonl" "${extra[@]}" ! fakesink sync=false > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc > "$scratch/$mode.seconds"
}

if [ "${BEST_FRAME_BENCH_REUSE:-0}" != 1 ] || [ ! -s "$scratch/every-face.seconds" ]; then
  run every-face
fi
run budget

/usr/bin/python3 - "$scratch" "$frames" "${extra[*]:-}" <<'PY'
import json, sys
scratch, frames, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def load(mode):
    lines = [json.loads(l) for l in open("%s/%s.jsonl" % (scratch, mode))]
    faces = [l for l in lines if "event" not in l]
    bests = {b["id"]: b for b in lines if b.get("event") == "best"}
    seconds = float(open("%s/%s.seconds" % (scratch, mode)).read())
    return faces, bests, seconds

every_faces, every_bests, every_s = load("every-face")
budget_faces, budget_bests, budget_s = load("budget")

# Every face's score in the every-face run, by (timestamp, track).
score = {}
for frame in every_faces:
    for o in frame["objects"]:
        score[(frame["timestamp"], o["id"])] = o["faceqan"]["quality"]

def count(faces):
    detected = sum(len(f["objects"]) for f in faces)
    scored = sum(o["faceqan"]["scored"] for f in faces for o in f["objects"])
    return detected, scored

length = {}
for frame in every_faces:
    for o in frame["objects"]:
        length[o["id"]] = length.get(o["id"], 0) + 1

def compare(tracks):
  same = 0
  lost = []      # quality lost on tracks where the budget chose another frame
  missed = []    # tracks the budget never scored
  for t in tracks:
    reference = every_bests[t]
    chosen = budget_bests.get(t)
    if chosen is None:
        missed.append(t)
        continue
    if chosen["timestamp"] == reference["timestamp"]:
        same += 1
    else:
        # The chosen frame's quality as every-face scored it (identical noise: identical score).
        q = score.get((chosen["timestamp"], t), chosen["quality"])
        lost.append(reference["quality"] - q)
  return same, lost, missed

duration = frames * 1001 / 30000
print("Best frame per track, scoring=budget vs every-face (%d frames, %s):" % (
    frames, "iterations=2 samples=4 " + extra))
print()
print("| tracks | count | same frame | other frame | never scored by budget | mean quality lost (other frame) | max quality lost | mean best quality (every-face) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, tracks in (("all scored by every-face", sorted(every_bests)),
                      ("of 10+ frames", [t for t in sorted(every_bests) if length.get(t, 0) >= 10])):
    same, lost, missed = compare(tracks)
    mean_lost = sum(lost) / len(lost) if lost else 0.0
    print("| %s | %d | %d (%.0f%%) | %d | %d | %.4f | %.4f | %.3f |" % (
        label, len(tracks), same, 100.0 * same / max(1, len(tracks)), len(lost), len(missed),
        mean_lost, max(lost) if lost else 0.0,
        sum(every_bests[t]["quality"] for t in tracks) / max(1, len(tracks))))
print()
print("| scoring | frames | faces detected | faces scored | wall s | frames/s | x real time (%.2f s of video) |" % duration)
print("|---|---:|---:|---:|---:|---:|---:|")
for name, faces, seconds in (("every-face", every_faces, every_s), ("budget", budget_faces, budget_s)):
    detected, scored = count(faces)
    print("| %s | %d | %d | %d | %.1f | %.2f | %.2f |" % (
        name, frames, detected, scored, seconds, frames / seconds, duration / seconds))
PY
