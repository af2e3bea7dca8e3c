#!/usr/bin/env bash
# Soak test: the faceqan element on ../shared/data/video/hamilton_clip.mp4 played in a loop for
# FRAMES frames (default 10000, about 36 loops of the 275-frame clip) at cheap FaceQAN settings in
# annotate mode with best frames saved to a temporary folder. Measures the process's resident
# memory (VmRSS: the median of the samples over frames FRAMES_EARLY (default 500) to twice that,
# against the median over the last FRAMES_EARLY frames), frames in against frames out, and the
# wall time. Prints a Markdown table (docs/RELIABILITY.md).
#
#   nice -n 5 bench/soak.sh [FRAMES [FRAMES_EARLY]] [-- extra faceqan properties]
#
# The clip is decoded once into JPEG files which multifilesrc plays in a loop (timestamps keep
# growing across loops, as from a live camera), so the loop costs a JPEG decode per frame instead
# of a seek; identity eos-after=N+1 passes exactly N frames. FACEQAN_BUILD_DIR picks another
# build (default: build/). Exit status 0 when frames out == frames in == FRAMES and memory grew by
# less than 10% between the two medians; 1 otherwise.
set -euo pipefail
# The build whose element and faceqan-annotate run: FACEQAN_BUILD_DIR (clip_args.sh).
source "$(dirname "${BASH_SOURCE[0]}")/clip_args.sh" soak 10000 500 "$@"
frames=$count1
early=$count2
annotate=$build/bin/faceqan-annotate
[ -x "$annotate" ] || { echo "soak: build first (missing $annotate)" >&2; exit 1; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

mkdir -p "$scratch/clip" "$scratch/best"
gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! video/x-raw,format=I420 ! \
  jpegenc quality=95 ! multifilesink location="$scratch/clip/f%05d.jpg" > /dev/null
clip_frames=$(ls "$scratch/clip" | wc -l)
[ "$clip_frames" -gt 0 ] || { echo "soak: could not decode $video" >&2; exit 1; }

log=$scratch/log.jsonl
samples=$scratch/samples.txt
start=$(date +%s.%N)
"$annotate" "$log" \
  multifilesrc location="$scratch/clip/f%05d.jpg" loop=true stop-index=$((clip_frames - 1)) \
    caps="image/jpeg,framerate=30000/1001" ! jpegdec ! videoconvert ! \
  identity eos-after=$((frames + 1)) ! \
  faceqan threads=2 iterations=2 samples=2 mode=annotate message=true stats-interval=10000 \
    best-frames=true best-location="$scratch/best/person-%05u.png" "${extra[@]}" ! \
  fakesink sync=false > "$scratch/annotate.out" 2>&1 &
pid=$!

# Every 2 s: frames that have left the element (their per-frame messages; the log is written in
# blocks, so this lags by a few frames) and the process's VmRSS in kB.
: > "$samples"
while kill -0 "$pid" 2> /dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)
  out=$(grep -c '"message":"faceqan"[,}]' "$log" 2> /dev/null || true)
  [ -n "$rss" ] && echo "$(date +%s.%N) ${out:-0} $rss ${hwm:-0}" >> "$samples"
  sleep 2
done
status=0
wait "$pid" || status=$?
end=$(date +%s.%N)
if [ "$status" -ne 0 ]; then
  echo "soak: faceqan-annotate failed ($status):" >&2
  cat "$scratch/annotate.out" >&2
fi

/usr/bin/python3 - "$log" "$samples" "$start" "$end" "$frames" "$early" "$clip_frames" \
  "$scratch/best" "$status" <<'PY'
import json, os, sys
log, samples, start, end, frames, early, clip_frames, best_dir, status = sys.argv[1:]
frames, early, clip_frames, status = int(frames), int(early), int(clip_frames), int(status)
lines = [json.loads(l) for l in open(log)]
stats = [l for l in lines if l["message"] == "faceqan-stats"]
per_frame = sum(1 for l in lines if l["message"] == "faceqan")
bests = sum(1 for l in lines if l["message"] == "faceqan-best")
final = stats[-1] if stats else {"frames_in": 0, "frames_out": 0, "faces_detected": 0,
                                 "faces_scored": 0, "skipped": 0, "dropped": 0}
rows = [l.split() for l in open(samples)]
rows = [(float(t), int(o), int(r), int(h)) for t, o, r, h in rows]
at_early = next((r for r in rows if r[1] >= early), None)
last = rows[-1] if rows else None
seconds = float(end) - float(start)
crops = len([f for f in os.listdir(best_dir) if f.endswith(".png")])
mb = lambda kb: kb / 1024.0
pct = lambda a, b: (b - a) / a * 100 if a and b else float("nan")
# The element hands freed memory back after each scoring pass, so VmRSS swings by a pass's
# working set between samples, and one sample is the luck of its timing. The criterion compares
# medians: of the samples over the `early` frames from frame `early` on, and over the last
# `early` frames; the single samples are printed too.
def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None
early_window = [r[2] for r in rows if early <= r[1] < 2 * early]
end_window = [r[2] for r in rows if last and r[1] >= last[1] - early]
growth = pct(median(early_window), median(end_window))
single_growth = pct(at_early[2] if at_early else None, last[2] if last else None)
ok = (status == 0 and final["frames_in"] == frames and final["frames_out"] == frames
      and per_frame == frames and growth < 10)
print("| frames in | frames out | per-frame messages | loops | faces detected | faces scored "
      "| best messages | crops saved | wall min | frames/s | VmRSS median, frames %d-%d MB "
      "| VmRSS median, last %d frames MB | growth | single samples at %d / at end MB "
      "| VmHWM MB | result |" % (early, 2 * early, early, early))
print("|" + "---:|" * 14 + "---|")
nan = float("nan")
print("| %d | %d | %d | %.1f | %d | %d | %d | %d | %.1f | %.2f | %.0f | %.0f | %+.1f%% "
      "| %.0f / %.0f (%+.1f%%) | %.0f | %s |" % (
    final["frames_in"], final["frames_out"], per_frame, frames / clip_frames,
    final["faces_detected"], final["faces_scored"], bests, crops, seconds / 60,
    final["frames_out"] / seconds, mb(median(early_window) or nan), mb(median(end_window) or nan),
    growth, mb(at_early[2]) if at_early else nan, mb(last[2]) if last else nan, single_growth,
    mb(last[3]) if last else nan, "pass" if ok else "FAIL"))
if at_early:
    print("\nVmRSS sampled every 2 s: %d samples (%d from frame %d to %d, %d in the last %d "
          "frames); at %d frames out after %.0f s; last at %d frames out after %.0f s" % (
              len(rows), len(early_window), early, 2 * early, len(end_window), early,
              at_early[1], at_early[0] - float(start), last[1], last[0] - float(start)))
    # The memory curve, ten points, to tell a steady leak from a plateau.
    step = max(1, len(rows) // 10)
    print("frames out -> VmRSS MB: " + ", ".join(
        "%d: %.0f" % (r[1], mb(r[2])) for r in rows[::step] + [rows[-1]]))
sys.exit(0 if ok else 1)
PY
