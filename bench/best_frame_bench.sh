#!/usr/bin/env bash
# What scoring=budget costs in best-frame quality and gains in speed, on
# ../shared/data/video/hamilton_clip.mp4 (275 frames, 640x360, 29.97 fps, 1-7 faces a frame).
#
#   bench/best_frame_bench.sh [FRAMES] [-- faceqan properties for both runs]
#
# Runs the element twice on the same frames with the same FaceQAN settings (default
# iterations=2 samples=4; see BEST_FRAME_BENCH_FACEQAN below): scoring=every-face (every face scored: the reference best per track)
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
export GST_PLUGIN_PATH=${BEST_FRAME_BENCH_PLUGIN_PATH:-$root/build/lib/gstreamer-1.0}
export GST_REGISTRY=${BEST_FRAME_BENCH_REGISTRY:-$root/build/gst-registry.bin}
# BEST_FRAME_BENCH_DIR keeps the runs' JSON-lines files there; with BEST_FRAME_BENCH_REUSE=1 an
# every-face run already there is reused (to compare budget settings without re-scoring it all).
if [ -n "${BEST_FRAME_BENCH_DIR:-}" ]; then
  scratch=$BEST_FRAME_BENCH_DIR
  mkdir -p "$scratch"
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi

# FaceQAN settings of both runs (BEST_FRAME_BENCH_FACEQAN; the paper's are "iterations=5
# samples=10"). BEST_FRAME_BENCH_PACED=1 runs the budget run as a live source would feed it:
# paced at real time by clocksync, through a 2-frame leaky queue (frames the element is too slow
# for are lost there), into a synchronised sink. BEST_FRAME_BENCH_BUDGET_PLUGIN_PATH runs the
# budget run with another build of the plugin (e.g. a copy of an older one).
read -r -a faceqan_settings <<< "${BEST_FRAME_BENCH_FACEQAN:-iterations=2 samples=4}"
paced=${BEST_FRAME_BENCH_PACED:-0}

# run MODE: one pass writing $scratch/MODE.jsonl and $scratch/MODE.seconds.
run() {
  local mode=$1 start end feed=(identity eos-after="$frames") sink=(fakesink sync=false)
  local plugin_path=$GST_PLUGIN_PATH registry=$GST_REGISTRY
  if [ "$mode" = budget ]; then
    if [ "$paced" = 1 ]; then
      feed+=(! clocksync ! queue leaky=downstream max-size-buffers=2)
      sink=(fakesink)
    fi
    if [ -n "${BEST_FRAME_BENCH_BUDGET_PLUGIN_PATH:-}" ]; then
      plugin_path=$BEST_FRAME_BENCH_BUDGET_PLUGIN_PATH
      registry=$scratch/budget-registry.bin
    fi
  fi
  start=$(date +%s.%N)
  GST_PLUGIN_PATH=$plugin_path GST_REGISTRY=$registry \
    gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! "${feed[@]}" ! \
    faceqan "${faceqan_settings[@]}" scoring="$mode" best-frames=true \
      json-location="$scratch/$mode.jsonl" "${extra[@]}" ! "${sink[@]}" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc > "$scratch/$mode.seconds"
}

if [ "${BEST_FRAME_BENCH_REUSE:-0}" != 1 ] || [ ! -s "$scratch/every-face.seconds" ]; then
  run every-face
fi
run budget

/usr/bin/python3 - "$scratch" "$frames" "${faceqan_settings[*]} ${extra[*]:-}" "$paced" <<'PY'
import json, sys
scratch, frames, extra, paced = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"

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
print("Best frame per track, scoring=budget%s vs every-face (%d frames, %s):" % (
    " paced at real time" if paced else "", frames, extra))
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
# Over ALL every-face tracks, without assuming that both runs have the same tracks (another
# detector input, detection-interval or a paced run that loses frames gives other track ids):
# each best frame the budget run reported is located among the every-face run's faces of the
# same timestamp (box IoU >= 0.5) and credits that face's every-face score to its every-face
# track. A track's loss is its every-face best minus the best credit it got; a track that got
# none (never scored, or its frames lost) loses its whole every-face best.
def iou(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / float(a[2] * a[3] + b[2] * b[3] - w * h)

every_by_time = {}
for frame in every_faces:
    every_by_time[frame["timestamp"]] = frame["objects"]
credit = {}
for best in budget_bests.values():
    box = (best["x"], best["y"], best["w"], best["h"])
    candidates = [(iou(box, (o["x"], o["y"], o["w"], o["h"])), o)
                  for o in every_by_time.get(best["timestamp"], [])]
    if not candidates:
        continue
    overlap, face = max(candidates, key=lambda c: c[0])
    if overlap >= 0.5:
        credit[face["id"]] = max(credit.get(face["id"], 0.0), face["faceqan"]["quality"])
print()
print("Over all every-face tracks (a track without a credited best frame loses its whole best):")
print()
print("| tracks | count | credited | never credited | mean quality lost | mean best quality kept | mean best quality (every-face) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, tracks in (("all scored by every-face", sorted(every_bests)),
                      ("of 10+ frames", [t for t in sorted(every_bests) if length.get(t, 0) >= 10])):
    kept = [min(credit.get(t, 0.0), every_bests[t]["quality"]) for t in tracks]
    lost = [every_bests[t]["quality"] - k for t, k in zip(tracks, kept)]
    print("| %s | %d | %d | %d | %.4f | %.4f | %.4f |" % (
        label, len(tracks), sum(t in credit for t in tracks),
        sum(t not in credit for t in tracks), sum(lost) / max(1, len(lost)),
        sum(kept) / max(1, len(kept)),
        sum(every_bests[t]["quality"] for t in tracks) / max(1, len(tracks))))
print()
print("| scoring | frames | faces detected | faces scored | wall s | frames/s | x real time (%.2f s of video) |" % duration)
print("|---|---:|---:|---:|---:|---:|---:|")
for name, faces, seconds in (("every-face", every_faces, every_s), ("budget", budget_faces, budget_s)):
    detected, scored = count(faces)
    print("| %s | %d | %d | %d | %.1f | %.2f | %.2f |" % (
        name, len(faces), detected, scored, seconds, len(faces) / seconds, duration / seconds))
PY
