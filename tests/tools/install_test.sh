#!/usr/bin/env bash
# Installs the build into a temporary prefix and scores a face with the installed program, with no
# model flags and no FACEQAN_MODEL_PATH: it must find share/faceqan/models by itself.
set -euo pipefail
build=$1
data=${FACEQAN_DATA_DIR:?FACEQAN_DATA_DIR is not set}
image=$data/lfw-aligned-112/001.jpg
[ -f "$image" ] || { echo "missing test image $image" >&2; exit 1; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" > "$prefix/install.log"
test -x "$prefix/bin/faceqan" || { echo "no bin/faceqan under the prefix" >&2; exit 1; }
test -f "$prefix/share/faceqan/models/recognition/mobilefacenet512_faceplugin.onnx" ||
  { echo "models not installed under share/faceqan/models" >&2; exit 1; }
"$prefix/bin/faceqan" --version
# Run from elsewhere with a clean environment, and with the build tree's models out of reach.
out=$(cd / && env -u FACEQAN_MODEL_PATH "$prefix/bin/faceqan" score -l 1 -k 2 "$image")
echo "$out"
echo "$out" | grep -q '"quality"' || { echo "the installed faceqan did not score the face" >&2; exit 1; }
echo "install_test: passed"
