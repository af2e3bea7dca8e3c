#!/bin/sh
# Keeps only the frames that show at least one face of good quality, as JPEG files.
#
#   pipelines/keep-good-faces.sh SOURCE OUTPUT_DIR [faceqan properties...]
#     SOURCE: a video file, or a camera device such as /dev/video0
#   e.g. pipelines/keep-good-faces.sh /dev/video0 faces quality-threshold=0.5
#
# From a camera the element runs with overload=skip: frames that arrive while the scorer is busy
# pass unscored (and, in mode=drop, are therefore dropped) instead of delaying the camera.
# Every face is scored (scoring=every-face): a frame passes on its own faces' scores, not on
# scores carried over from earlier frames of the same person. Ctrl-C ends a camera capture. Run from the repository root after building.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 SOURCE OUTPUT_DIR [faceqan properties...]" >&2
  exit 2
fi
source=$1 outdir=$2
shift 2
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/lib/gstreamer-1.0}
mkdir -p "$outdir"

case $source in
  /dev/video*) input="v4l2src device=$source ! videoconvert"; policy="overload=skip" ;;
  *) input="filesrc location=$source ! decodebin ! videoconvert"; policy="overload=block" ;;
esac

# -e: Ctrl-C sends EOS so the last frames are scored and written.
# shellcheck disable=SC2086  # $input is a pipeline fragment
exec gst-launch-1.0 -e $input ! faceqan mode=drop scoring=every-face $policy "$@" ! \
  videoconvert ! jpegenc ! multifilesink location="$outdir/face-%05d.jpg"
