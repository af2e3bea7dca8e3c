# Sourced by the element benchmarks on hamilton_clip.mp4 (element_bench.sh, multi_stream_bench.sh,
# soak.sh), which all take two counts, then "--" and extra faceqan properties:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/clip_args.sh" NAME DEFAULT1 DEFAULT2 "$@"
#
# Sets root (the checkout), video (the clip; a missing clip exits with a message naming it),
# count1 and count2 (the first two arguments, or the defaults), extra (the properties after
# "--", an array), build (FACEQAN_BUILD_DIR, default build/) and scratch (a temporary folder,
# removed at exit), and points GStreamer at that build's plugin and registry.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
video=${FACEQAN_DATA_DIR:-$root/../shared/data}/video/hamilton_clip.mp4
clip_args_name=$1
clip_args_default1=$2
clip_args_default2=$3
shift 3
count1=${1:-$clip_args_default1}
count2=${2:-$clip_args_default2}
shift $(( $# > 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ -f "$video" ] || { echo "$clip_args_name: missing $video" >&2; exit 1; }
build=${FACEQAN_BUILD_DIR:-$root/build}
export GST_PLUGIN_PATH=$build/lib/gstreamer-1.0
export GST_REGISTRY=$build/gst-registry.bin
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
