#!/bin/sh
# Fused-score study of issue 16 (docs/EVALUATION.md, "Fusing FaceQAN with the embedding norm"):
# 2-fold split of the development set by identity, normalisation fitted on the other fold,
# three declared candidates against FaceQAN and the embedding norm with two verifiers.
# Needs build/dev-set and its scores_l5k10.json from tools/eval/dev_eval.sh (scored with a faceqan
# that writes embedding_norm). Results: build/fusion-study/study.{md,json} and fold{A,B}/.
set -e
cd "$(dirname "$0")/../.."
[ -f build/dev-set/scores_l5k10.json ] || { echo "run tools/eval/dev_eval.sh first" >&2; exit 1; }
nice -n 19 /usr/bin/python3 tools/eval/fusion_study.py --dataset build/dev-set \
  --scores build/dev-set/scores_l5k10.json --output build/fusion-study "$@"
