#!/bin/sh
# The project's FaceQAN score of one real aligned face agrees with the project's Python
# re-implementation of the reference code (bench/reference/faceqan_reference.py) within 1e-4, at the
# same seed and cheap settings (l 2, k 4). Exit 77 (skipped) when Python lacks torch/onnx/PIL.
#   reference_agreement_test.sh BUILD_DIR SOURCE_DIR PYTHON [DATA_DIR]
set -eu
build=$1 source=$2 python=$3
data=${4:-$source/../shared/data}
face=$data/lfw-aligned-112/000.jpg
model=$build/models/recognition/mobilefacenet512_faceplugin.onnx
"$python" -c "import torch, onnx, numpy, PIL" 2>/dev/null || { echo "python without torch/onnx/numpy/PIL: skipped"; exit 77; }
[ -f "$face" ] || { echo "no $face: skipped"; exit 77; }
[ -f "$model" ] || { echo "no $model: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Decode once (PIL) so that both sides read the same pixels.
"$python" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" "$face" "$work/face.png"
settings="--seed 7 --epsilon 0.001 -l 2 -k 4 -p 5 --threads 2"
"$build/bin/faceqan" score --recognizer "$model" --device cpu $settings --output "$work/project.json" "$work/face.png"
"$python" "$source/bench/reference/faceqan_reference.py" --model "$model" $settings --output "$work/reference.json" "$work/face.png"
"$python" - "$work/project.json" "$work/reference.json" <<'PY'
import json, sys
project = json.load(open(sys.argv[1]))[0]["faces"][0]["quality"]
reference = json.load(open(sys.argv[2]))["results"][0]["quality"]
difference = abs(project - reference)
print("project %.8f reference %.8f |difference| %.2e (tolerance 1e-4)" % (project, reference, difference))
sys.exit(0 if difference <= 1e-4 else 1)
PY
