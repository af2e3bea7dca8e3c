#!/bin/sh
# The example programs under pipelines/ on the 5-frame clip: faceqan-annotate writes one JSON
# line per frame (and stats), faceqan-read-metadata prints each frame's faces.
set -eu
root=$1 annotate=$2 read_metadata=$3
clip=$FACEQAN_DATA_DIR/video/faceapi_clip.mp4
scratch=$FACEQAN_BUILD_DIR/test-scratch/gst-pipelines
rm -rf "$scratch" && mkdir -p "$scratch"

"$annotate" "$scratch/log.jsonl" filesrc location="$clip" ! decodebin ! videoconvert ! \
  faceqan iterations=1 samples=2 message=true stats-interval=100000 ! fakesink
frames=$(grep -c '"message":"faceqan"' "$scratch/log.jsonl")
stats=$(grep -c '"message":"faceqan-stats"' "$scratch/log.jsonl")
[ "$frames" -eq 5 ] || { echo "FAIL: $frames frame messages, expected 5"; exit 1; }
[ "$stats" -ge 1 ] || { echo "FAIL: no final stats message"; exit 1; }
grep -q '"running_time"' "$scratch/log.jsonl" || { echo "FAIL: no running_time field"; exit 1; }

# Every face scored: the clip's faces are too small for the budget (a face never scored carries
# no quality, docs/METADATA.md), and this checks that scored faces' quality reaches the reader.
"$read_metadata" "$clip" iterations=1 samples=2 scoring=every-face > "$scratch/metadata.txt"
lines=$(grep -c '^frame ' "$scratch/metadata.txt")
[ "$lines" -eq 5 ] || { echo "FAIL: read_metadata printed $lines frames, expected 5"; exit 1; }
grep -q 'quality' "$scratch/metadata.txt" || { echo "FAIL: no quality printed"; exit 1; }

# The annotation script end to end: an MP4 and its log.
GST_PLUGIN_PATH=${GST_PLUGIN_PATH} FACEQAN_ANNOTATE=$annotate \
  sh "$root/pipelines/annotate-video.sh" "$clip" "$scratch/out.mp4" "$scratch/script.jsonl" \
  iterations=1 samples=2
[ -s "$scratch/out.mp4" ] || { echo "FAIL: no MP4 written"; exit 1; }
[ "$(grep -c '"message":"faceqan"' "$scratch/script.jsonl")" -eq 5 ] || { echo "FAIL: script log"; exit 1; }

# keep-good-faces.sh on a file: every frame of the clip has a face, so a threshold of 0 keeps all
# five frames and a threshold of 1 none.
FACEQAN_CHEAP="iterations=1 samples=2"
sh "$root/pipelines/keep-good-faces.sh" "$clip" "$scratch/all" $FACEQAN_CHEAP quality-threshold=0 >/dev/null
sh "$root/pipelines/keep-good-faces.sh" "$clip" "$scratch/none" $FACEQAN_CHEAP quality-threshold=1 >/dev/null
[ "$(ls "$scratch/all" | wc -l)" -eq 5 ] || { echo "FAIL: keep-good-faces kept $(ls "$scratch/all" | wc -l) of 5"; exit 1; }
[ "$(ls "$scratch/none" | wc -l)" -eq 0 ] || { echo "FAIL: keep-good-faces kept frames at threshold 1"; exit 1; }
echo "keep-good-faces ok"

# enroll.sh: one aligned crop per person (the clip's faces are tiny: let every size be scored).
sh "$root/pipelines/enroll.sh" "$clip" "$scratch/enroll" $FACEQAN_CHEAP budget-min-eye-distance=0 \
  > "$scratch/enroll.txt"
people=$(ls "$scratch/enroll" | grep -c '^person-.*\.png$' || true)
[ "$people" -ge 1 ] || { echo "FAIL: enroll.sh wrote no crop"; cat "$scratch/enroll.txt"; exit 1; }
grep -q "^$people people" "$scratch/enroll.txt" || { echo "FAIL: enroll.sh summary"; cat "$scratch/enroll.txt"; exit 1; }
[ "$(grep -c '"event":"best"' "$scratch/enroll/faces.jsonl")" -eq "$people" ] || { echo "FAIL: enroll.sh best events"; exit 1; }
echo "enroll ok"

# publish-mqtt.sh to a real Mosquitto on a free loopback port (never 1883), read back with
# `faceqan listen`: a persistent listener session made first keeps what is published meanwhile.
faceqan=$FACEQAN_BUILD_DIR/bin/faceqan
mqtt=$scratch/mqtt
mkdir -p "$mqtt"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  [ "$(id -u)" -eq 0 ] && echo "user root"  # as root mosquitto would drop to user mosquitto
  echo "listener $port 127.0.0.1"
  echo "allow_anonymous true"
} > "$mqtt/mosquitto.conf"
/usr/sbin/mosquitto -c "$mqtt/mosquitto.conf" 2> "$mqtt/broker.log" &
broker=$!
trap 'kill $broker 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  "$faceqan" listen --address "127.0.0.1:$port" --client-id pipelines-test --timeout 0.2 \
    > /dev/null 2>&1 && break
  sleep 0.1
done
FACEQAN_PROPERTIES="iterations=1 samples=2 budget-min-eye-distance=0" \
  sh "$root/pipelines/publish-mqtt.sh" "$clip" "127.0.0.1:$port" clip > "$mqtt/run.txt" 2>&1 ||
  { echo "FAIL: publish-mqtt.sh"; cat "$mqtt/run.txt"; exit 1; }
"$faceqan" listen --address "127.0.0.1:$port" --client-id pipelines-test --timeout 3 \
  > "$mqtt/messages.jsonl"
kill $broker && wait $broker || true
trap - EXIT
frames=$(grep -c '"topic":"faceqan/clip/frames"' "$mqtt/messages.jsonl" || true)
ends=$(grep '"topic":"faceqan/clip/tracks"' "$mqtt/messages.jsonl" | grep -c '"event":"end"' || true)
[ "$frames" -eq 5 ] || { echo "FAIL: publish-mqtt.sh: $frames frames messages, expected 5"; exit 1; }
[ "$ends" -ge 1 ] || { echo "FAIL: publish-mqtt.sh: no track end event"; exit 1; }
grep -q '"topic":"faceqan/clip/stats"' "$mqtt/messages.jsonl" || { echo "FAIL: no stats message"; exit 1; }
echo "publish-mqtt ok"
echo "pipelines ok"
