#!/usr/bin/env bash
# Regenerates the CPU tables of docs/PERFORMANCE.md: FaceQAN's cost per face (paper defaults,
# default model, 2 threads, batches of 1 and 8) and detection/alignment per frame.
# Run on a quiet machine: other load makes LibTorch's OpenMP threads stall each other.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/build/bin
echo "## Machine"
echo
echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "- memory: $(free -g | awk '/Mem:/ {print $2}') GiB; $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "- LibTorch $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo '?'), OpenCV $(dpkg-query -W -f='${Version}' libopencv-dev 2>/dev/null || echo '?')"
echo
echo "## FaceQAN scoring (faceqan-bench-quality)"
echo
"$bin/faceqan-bench-quality" --threads 2 --batches 1,8 --faces 16 "$@"
echo
echo "## Detection and alignment (faceqan-bench-detector)"
echo
"$bin/faceqan-bench-detector"
