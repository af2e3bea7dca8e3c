#!/usr/bin/env bash
# Cameras per machine: `faceqan run` with 1, 4 and 8 file cameras (hamilton_clip.mp4, looped,
# paced at its frame rate like a camera, overload=skip as for a live camera) in one process at
# the service's defaults, and the same 8 cameras as 2 processes of 4, all publishing to one
# Mosquitto on a free loopback port. Prints a Markdown table (docs/DEPLOYMENT.md), CPU named.
#
#   bench/cameras.sh [SECONDS] [COUNTS...]      (default: 40 s per run; 1 4 8 and 8 as 2x4)
#
# Per camera, over the run after WARMUP (default 10 s: models loading, first frames):
#   fps        frames into faceqan per second (the clip is 29.97 fps: less means the source
#              could not deliver, which a paced file does only when the machine is saturated)
#   skipped/s  frames faceqan passed on unscored because its queue was full (overload=skip)
#   scored/s   faces scored per second
#   msgs/s     MQTT messages per second that reached a subscriber (frames, tracks, stats)
#   latency    frame to broker: faceqan's mean frame latency (its stats) plus the time from
#              faceqanpublish queueing the message (wall_time) to the subscriber receiving it
# Extra faceqan properties for every camera: CAMERAS_BENCH_ELEMENT="iterations: 2, samples: 4".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
video=${FACEQAN_DATA_DIR:-$root/../shared/data}/video/hamilton_clip.mp4
seconds=${1:-40}
shift $(( $# > 0 ? 1 : 0 )) || true
warmup=${WARMUP:-10}
[ -f "$video" ] || { echo "cameras.sh: missing $video" >&2; exit 1; }
[ -x "$root/build/bin/faceqan" ] || { echo "cameras.sh: build first (build/bin/faceqan)" >&2; exit 1; }
export GST_PLUGIN_PATH=$root/build/lib/gstreamer-1.0
export GST_REGISTRY=$root/build/gst-registry.bin
export FACEQAN_MODEL_PATH=${FACEQAN_MODEL_PATH:-$root/build/models}
scratch=$(mktemp -d)
broker_pid= ; sub_pid=
cleanup() {
  [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null || true
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ [ "$(id -u)" -eq 0 ] && echo "user root"; echo "listener $port 127.0.0.1"; echo "allow_anonymous true"
  echo "max_queued_messages 100000"; } > "$scratch/mosquitto.conf"
/usr/sbin/mosquitto -c "$scratch/mosquitto.conf" > "$scratch/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

# config NAME FIRST COUNT: cameras camFIRST..camFIRST+COUNT-1 in $scratch/NAME.yaml
config() {
  local name=$1 first=$2 count=$3 i
  {
    echo "publish: {address: \"127.0.0.1:$port\", topic: bench}"
    echo "element: {overload: skip${CAMERAS_BENCH_ELEMENT:+, $CAMERAS_BENCH_ELEMENT}}"
    echo "stats-interval: 1"
    echo "cameras:"
    for ((i = first; i < first + count; i++)); do
      echo "  - {id: cam$i, uri: \"file://$video\", loop: true}"
    done
  } > "$scratch/$name.yaml"
}

# run LABEL PROCESSES CAMERAS_PER_PROCESS: one table row per run
run() {
  local label=$1 processes=$2 per=$3 p pids=() start
  rm -f "$scratch"/run*.log "$scratch/messages.txt"
  mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'bench/#' -F '%U %t %p' > "$scratch/messages.txt" &
  sub_pid=$!
  sleep 0.5
  start=$(date +%s.%N)
  for ((p = 0; p < processes; p++)); do
    config "run$p" $((p * per)) "$per"
    "$root/build/bin/faceqan" run "$scratch/run$p.yaml" 2> "$scratch/run$p.log" &
    pids+=($!)
  done
  sleep "$seconds"
  for pid in "${pids[@]}"; do kill -TERM "$pid"; done
  local status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  sleep 1
  kill "$sub_pid"; wait "$sub_pid" 2>/dev/null || true; sub_pid=
  [ "$status" -eq 0 ] || echo "cameras.sh: a faceqan run exited with $status" >&2
  /usr/bin/python3 - "$label" "$start" "$warmup" "$scratch/messages.txt" "$scratch"/run*.log <<'PY'
import datetime, json, re, sys
label, start, warmup, messages = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
logs = sys.argv[5:]
line_re = re.compile(r"^(\S+)Z camera (\S+): running fps=\S+ frames=(\d+) faces=(\d+) scored=(\d+) skipped=(\d+)")
def when(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
cams = {}
for log in logs:
    for line in open(log):
        m = line_re.match(line)
        if m:
            t = when(m.group(1))
            if t >= start + warmup:
                cams.setdefault(m.group(2), []).append((t, *map(int, m.group(3, 4, 5, 6))))
rates = {}
for cam, rows in cams.items():
    (t0, f0, _, s0, k0), (t1, f1, _, s1, k1) = rows[0], rows[-1]
    dt = max(t1 - t0, 1e-9)
    rates[cam] = dict(t0=t0, t1=t1, fps=(f1 - f0) / dt, scored=(s1 - s0) / dt, skipped=(k1 - k0) / dt,
                      msgs=0, lat=[], flat=[])
for line in open(messages):
    parts = line.split(" ", 2)
    if len(parts) < 3: continue
    received, topic, payload = float(parts[0]), parts[1], parts[2]
    cam = topic.split("/")[1]
    r = rates.get(cam)
    if not r or not (r["t0"] <= received <= r["t1"]): continue
    r["msgs"] += 1
    try: body = json.loads(payload)
    except ValueError: continue
    wall = body.get("wall_time")
    if wall and topic.endswith("/frames"):
        w = datetime.datetime.fromisoformat(wall.replace("Z", "+00:00")).timestamp()
        r["lat"].append(received - w)
    if topic.endswith("/stats"):
        f = body.get("faceqan", {})
        if "latency" in f: r["flat"].append(f["latency"] / 1e6)  # ns
n = len(rates)
if not n:
    sys.exit("cameras.sh: no status lines after the warm-up for " + label)
mean = lambda k: sum(r[k] for r in rates.values()) / n
msgs = sum(r["msgs"] / max(r["t1"] - r["t0"], 1e-9) for r in rates.values()) / n
pub = [x for r in rates.values() for x in r["lat"]]
fq = [x for r in rates.values() for x in r["flat"]]
pub_ms = 1000 * sum(pub) / len(pub) if pub else float("nan")
fq_ms = sum(fq) / len(fq) if fq else float("nan")
worst_fps = min(r["fps"] for r in rates.values())
print(f"| {label} | {n} | {mean('fps'):.1f} (min {worst_fps:.1f}) | {mean('skipped'):.1f} | {mean('scored'):.2f} | "
      f"{n * mean('scored'):.2f} | {msgs:.1f} | {fq_ms + pub_ms:.0f} ({fq_ms:.0f} + {pub_ms:.0f}) |")
PY
}

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "CPU: $cpu, $(nproc) cores; ${seconds} s per run (${warmup} s warm-up left out); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | cameras | fps per camera | skipped/s per camera | faces scored/s per camera | faces scored/s all | msgs/s per camera | frame to broker ms (faceqan + publish) |"
echo "|---|---|---|---|---|---|---|---|"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 4 8)
for count in "${counts[@]}"; do run "1 process" 1 "$count"; done
if [ $# -eq 0 ]; then run "2 processes" 2 4; fi
