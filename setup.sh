#!/usr/bin/env bash
# The first command for a new user: installs the Debian packages, builds into build/, prepares the
# models into build/models/ and runs the main job (scripts/main-job.sh).
# FACEQAN_MAIN_JOB=short runs a shortened main job (CI); FACEQAN_MAIN_JOB=skip skips it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
# Two jobs: one LibTorch translation unit takes about 1.2 GB to compile.
cmake --build build -j "${FACEQAN_BUILD_JOBS:-2}"
bash models/prepare.sh build/models
case "${FACEQAN_MAIN_JOB:-full}" in
  skip) ;;
  *) bash scripts/main-job.sh ;;
esac
