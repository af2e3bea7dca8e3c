#!/usr/bin/env bash
# The main job: annotates ../shared/data/video/hamilton_clip.mp4 (640x360, 275 frames) with the
# faceqan element: each face's box, landmarks and FaceQAN quality drawn into
# build/main-job/hamilton_annotated.mp4, and one JSON line per frame (plus statistics) in
# build/main-job/hamilton_faces.jsonl. Prints a summary.
#
# Settings: FaceQAN at iterations=2 samples=4 (the paper's eps and p) keeps the clip within a few
# minutes on 2 cores; the paper's 5/10 costs about 4x more per face (docs/PERFORMANCE.md).
# FACEQAN_MAIN_JOB=short stops after 30 frames (CI). FACEQAN_MAIN_JOB_OUT overrides the folder;
# FACEQAN_BUILD_DIR the build folder whose element and programs run (ctest sets it, so that
# main_job_test in another build folder, build-asan/ for one, runs that build's).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${FACEQAN_DATA_DIR:-$root/../shared/data}
video=$data/video/hamilton_clip.mp4
build=${FACEQAN_BUILD_DIR:-$root/build}
out=${FACEQAN_MAIN_JOB_OUT:-$build/main-job}
[ -f "$video" ] || { echo "main-job: missing $video" >&2; exit 1; }
mkdir -p "$out"
export GST_PLUGIN_PATH=$build/lib/gstreamer-1.0
export GST_REGISTRY=${GST_REGISTRY:-$build/gst-registry.bin}

limit=()
if [ "${FACEQAN_MAIN_JOB:-full}" = short ]; then
  limit=(identity eos-after=30 !)
fi
settings="iterations=2 samples=4"

echo "main-job: annotating $video${limit:+ (first 30 frames)} (FaceQAN $settings)"
start=$(date +%s)
# overload=block (the default) makes the file wait for the scorer; x264enc wants I420.
"$build/bin/faceqan-annotate" "$out/hamilton_faces.jsonl" \
  filesrc location="$video" ! decodebin ! videoconvert ! "${limit[@]}" \
  faceqan $settings draw=true message=true stats-interval=10000 ! \
  videoconvert ! video/x-raw,format=I420 ! x264enc ! h264parse ! mp4mux ! \
  filesink location="$out/hamilton_annotated.mp4"
seconds=$(( $(date +%s) - start ))

/usr/bin/python3 - "$out/hamilton_faces.jsonl" "$seconds" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
frames = [l for l in lines if l.get("message") == "faceqan"]
faces = [f for l in frames for f in l["faces"]]
scored = [f["quality"] for f in faces if f.get("scored")]
print(f"main-job: {len(frames)} frames, {len(faces)} faces, {len(scored)} scored, in {sys.argv[2]} s")
if scored:
    print(f"main-job: quality min {min(scored):.3f}  mean {sum(scored)/len(scored):.3f}  max {max(scored):.3f}")
PY
echo "main-job: wrote $out/hamilton_annotated.mp4 and $out/hamilton_faces.jsonl"
