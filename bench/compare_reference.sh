#!/bin/sh
# The project's FaceQAN against the project's Python re-implementation of the reference code
# (bench/reference/): speed as a Markdown table, and agreement of the scores (one face within 1e-4,
# Spearman >= 0.98 over up to 50 real faces). Needs a build (build/bin/faceqan, build/models) and
# Debian's python3-torch, python3-onnx, python3-numpy, python3-pil.
#
#   bench/compare_reference.sh [--timing-faces 8] [--agreement-faces 50] [--agreement-l 5]
#                              [--agreement-k 10] [--threads 2] [--model M.onnx] [--build DIR]
# Two yardsticks in one run: the literal reference (trainable weights, no flush-to-zero) and a careful
# one (parameters frozen, torch.set_flush_denormal(True)); the project runs at its CLI defaults.
# Not niced: run it on a quiet machine (the table names the CPU; compare only ratios within one run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
exec "${FACEQAN_PYTHON:-/usr/bin/python3}" bench/reference/compare.py "$@"
