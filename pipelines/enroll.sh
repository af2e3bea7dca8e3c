#!/bin/sh
# Enrollment: the one best aligned face crop of each person in a video.
#
#   pipelines/enroll.sh VIDEO OUTDIR [faceqan properties...]
#   e.g. pipelines/enroll.sh ../shared/data/video/hamilton_clip.mp4 enroll iterations=2 samples=4
#
# Writes OUTDIR/person-NNNNN.png (the aligned 112x112 crop of each track's best frame; add
# best-save-frame=true for the whole frame beside it, best-same-person=0.6 to join the tracks of
# a person who leaves and comes back into one crop), OUTDIR/faces.jsonl (every frame's faces and
# one {"event": "best"} line per track, docs/METADATA.md) and prints one line per person.
# The element follows each person across frames and, with scoring=budget (the default), runs
# FaceQAN only on faces that may beat that person's best so far. Run from the repository root
# after building.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 VIDEO OUTDIR [faceqan properties...]" >&2; exit 2; }
video=$1 outdir=$2
shift 2
[ -f "$video" ] || { echo "enroll: no such file: $video" >&2; exit 1; }
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-build/lib/gstreamer-1.0}
mkdir -p "$outdir"
rm -f "$outdir"/person-*.png "$outdir/faces.jsonl"

# overload=block: a file waits for the scorer instead of losing frames.
gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! \
  faceqan overload=block best-frames=true best-location="$outdir/person-%05u.png" \
    json-location="$outdir/faces.jsonl" "$@" ! fakesink sync=false

# One line per person from the best-frame events: a person is a track, or with
# best-same-person=0.6 (for example) the tracks joined into one person by their faces.
python3 - "$outdir/faces.jsonl" <<'PY'
import json, sys
bests = [l for l in map(json.loads, open(sys.argv[1])) if l.get("event") == "best"]
persons = {}
for b in bests:
    person = persons.setdefault(b["person"], {"tracks": set(), "best": None})
    person["tracks"].add(b["id"])
    if b["person_best"]:
        person["best"] = b
for pid in sorted(persons):
    b, tracks = persons[pid]["best"], sorted(persons[pid]["tracks"])
    t = b["timestamp"]
    print("person %d: quality %.3f at %s -> %s%s" % (
        pid, b["quality"], "%.3f s" % (t / 1e9) if t is not None else "?", b["crop_location"],
        " (tracks %s)" % ", ".join(map(str, tracks)) if len(tracks) > 1 else ""))
print("%d people" % len(persons))
PY
