#!/bin/sh
# Annotates a video: each face's box, landmarks and FaceQAN quality drawn on the frames, written
# to an MP4 (H.264), and one JSON line per frame (the element's "faceqan" messages, plus
# "faceqan-stats" every 5 s and at the end) in LOG.jsonl.
#
#   pipelines/annotate-video.sh INPUT OUTPUT.mp4 LOG.jsonl [faceqan properties...]
#   e.g. pipelines/annotate-video.sh clip.mp4 out.mp4 out.jsonl iterations=2 samples=4
#
# Run from the repository root after building (it uses build/lib/gstreamer-1.0 and
# build/bin/faceqan-annotate unless GST_PLUGIN_PATH / FACEQAN_ANNOTATE say otherwise).
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 INPUT OUTPUT.mp4 LOG.jsonl [faceqan properties...]" >&2
  exit 2
fi
input=$1 output=$2 log=$3
shift 3
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/lib/gstreamer-1.0}
annotate=${FACEQAN_ANNOTATE:-build/bin/faceqan-annotate}

# overload=block (the default): a file waits for the scorer instead of losing frames.
# x264enc wants I420; videoconvert before faceqan hands it a format it reads without a copy.
exec "$annotate" "$log" \
  filesrc location="$input" ! decodebin ! videoconvert ! \
  faceqan draw=true message=true stats-interval=5000 "$@" ! \
  videoconvert ! video/x-raw,format=I420 ! x264enc ! h264parse ! mp4mux ! \
  filesink location="$output"
