#!/usr/bin/env bash
# The main job: scores the aligned faces of ../shared/data/lfw-aligned-112 with FaceQAN at the
# paper's defaults and prints a table (build/main-job/lfw-scores.csv keeps the results).
# FACEQAN_MAIN_JOB=short scores four images only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${FACEQAN_DATA_DIR:-$root/../shared/data}
out=$root/build/main-job
mkdir -p "$out"

mapfile -t images < <(find "$data/lfw-aligned-112" -maxdepth 1 -name '*.jpg' | sort)
if [ ${#images[@]} -eq 0 ]; then
  echo "main-job: no images in $data/lfw-aligned-112" >&2
  exit 1
fi
[ "${FACEQAN_MAIN_JOB:-full}" = short ] && images=("${images[@]:0:4}")

echo "main-job: scoring ${#images[@]} aligned faces with FaceQAN (paper defaults)"
start=$(date +%s)
"$root/build/bin/faceqan" score --batch-size 4 --output "$out/lfw-scores.csv" "${images[@]}"
echo "main-job: done in $(( $(date +%s) - start )) s; results in $out/lfw-scores.csv"
cut -d, -f1,3-6 "$out/lfw-scores.csv" | sed "s|\"$data/||; s|\"||g" | column -s, -t
