#!/bin/sh
# A clip or a camera to an MQTT broker: faces per frame, track events and statistics
# (faceqanpublish, docs/METADATA.md "Publishing").
#
#   pipelines/publish-mqtt.sh SOURCE [HOST:PORT [CAMERA-ID [faceqanpublish properties...]]]
#   SOURCE: a video file, or a V4L2 device such as /dev/video0
#   e.g. pipelines/publish-mqtt.sh ../shared/data/video/hamilton_clip.mp4 127.0.0.1:1883 stage
#        pipelines/publish-mqtt.sh /dev/video0 broker.lan:8883 door tls-ca-file=ca.crt \
#            username=door password-file=/etc/faceqan/door.pass
#
# Watch the messages as they arrive with
#   mosquitto_sub -h HOST -p PORT -t 'faceqan/#' -v
# FACEQAN_PROPERTIES adds faceqan properties (default: cheap settings that keep up on a CPU).
# Run from the repository root after building.
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 SOURCE [HOST:PORT [CAMERA-ID [faceqanpublish properties...]]]" >&2
  exit 2
fi
source=$1
address=${2:-127.0.0.1:1883}
camera=${3:-camera}
[ $# -gt 3 ] && shift 3 || shift $#
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/lib/gstreamer-1.0}
faceqan_properties=${FACEQAN_PROPERTIES:-iterations=2 samples=4}

case $source in
  /dev/video*)
    # A camera is live: frames that find the scorer busy pass unscored rather than pile up.
    # shellcheck disable=SC2086
    exec gst-launch-1.0 -e v4l2src device="$source" ! videoconvert ! \
      faceqan camera-id="$camera" best-frames=true overload=skip stats-interval=10000 \
        $faceqan_properties ! \
      faceqanpublish address="$address" "$@" ! fakesink ;;
  *)
    [ -f "$source" ] || { echo "publish-mqtt: no such file: $source" >&2; exit 1; }
    # shellcheck disable=SC2086
    exec gst-launch-1.0 filesrc location="$source" ! decodebin ! videoconvert ! \
      faceqan camera-id="$camera" best-frames=true overload=block stats-interval=10000 \
        $faceqan_properties ! \
      faceqanpublish address="$address" "$@" ! fakesink sync=false ;;
esac
