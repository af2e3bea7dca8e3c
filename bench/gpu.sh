#!/usr/bin/env bash
# The GPU benchmark in one go (a few minutes on an H100): builds quality/'s core and
# faceqan-bench-quality against the LibTorch inside this machine's PyTorch (nothing else: no ONNX,
# OpenCV or GStreamer needed), makes TorchScripts of the default model and of an IResNet-100-sized
# network with random weights, runs the project and the Python reference at fp32, TF32, bf16 and
# fp16, and prints a table (faces/s, ms/face, ratio to the reference, agreement).
#
#   bench/gpu.sh                     on the GPU machine (python3 with a CUDA PyTorch)
#   bench/gpu.sh --prepare           on the development machine first: writes build/gpu-bench/
#                                    (faces.bin: 50 real aligned faces; default.pt: the default
#                                    model as TorchScript), which the GPU machine needs no onnx,
#                                    PIL, data or models for. Carry build/gpu-bench there.
#
# Environment:
#   FACEQAN_GPU_BENCH_DEVICE=cpu     dry run on a CPU (tiny settings, a shallow IResNet), to check
#                                    the script; the CPU timings mean nothing
#   FACEQAN_GPU_BENCH_BUILD=DIR      build folder (default build-gpu; build-gpu-dry for the dry run)
#   FACEQAN_GPU_BENCH_WORK=DIR       inputs and outputs (default build/gpu-bench)
#   FACEQAN_GPU_BENCH_ARGS="..."     extra arguments for bench/gpu_bench.py (--precisions, --faces,
#                                    --default-batches, --iresnet-batches, --models, ...)
#   PYTHON=python3                   the Python with torch
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
work=${FACEQAN_GPU_BENCH_WORK:-$root/build/gpu-bench}
device=${FACEQAN_GPU_BENCH_DEVICE:-cuda}

if [ "${1:-}" = "--prepare" ]; then
  shift
  exec "${FACEQAN_PYTHON:-/usr/bin/python3}" "$root/bench/gpu_bench.py" --prepare --build "$root/build" \
    --work "$work" "$@"
fi

say() { printf '== %s\n' "$*" >&2; }

# 1. The LibTorch of this Python.
read -r torch_root torch_abi torch_cuda gpus < <("$python" - <<'EOF'
import os, torch
print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI),
      torch.version.cuda or "none", torch.cuda.device_count() if torch.cuda.is_available() else 0)
EOF
)
say "torch at $torch_root (C++11 ABI $torch_abi, CUDA $torch_cuda, $gpus GPU(s))"
if [ "$device" != cpu ] && [ "$gpus" = 0 ]; then
  echo "bench/gpu.sh: this PyTorch sees no GPU (torch.cuda.is_available() is False); set" \
       "FACEQAN_GPU_BENCH_DEVICE=cpu for a dry run" >&2
  exit 1
fi

# 2. Configure and build only what needs LibTorch: quality/'s core and faceqan-bench-quality.
#    FACEQAN_TORCH_ROOT uses the wheel's include/ and lib/ directly: its CMake package would want
#    a CUDA toolkit (nvcc), which a machine with only the wheel lacks.
if [ "$device" = cpu ]; then default_build=$root/build-gpu-dry; else default_build=$root/build-gpu; fi
build=${FACEQAN_GPU_BENCH_BUILD:-$default_build}
jobs=${FACEQAN_GPU_BENCH_JOBS:-$(nproc)}
mkdir -p "$build/bin"
if command -v cmake > /dev/null && [ -z "${FACEQAN_GPU_BENCH_NO_CMAKE:-}" ]; then
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  say "configuring $build"
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DFACEQAN_TORCH_ROOT="$torch_root" -DFACEQAN_TORCH_CXX11_ABI="$torch_abi" \
    -DFACEQAN_WITH_ONNX=OFF -DFACEQAN_WITH_DETECTOR=OFF -DFACEQAN_WITH_TOOLS=OFF \
    -DFACEQAN_WITH_GSTREAMER=OFF -DFACEQAN_BUILD_TESTS=OFF > "$build/configure.log" 2>&1 \
    || { tail -30 "$build/configure.log"; exit 1; }
  say "building faceqan-bench-quality with $jobs jobs"
  cmake --build "$build" --target faceqan-bench-quality -j "$jobs" > "$build/build.log" 2>&1 \
    || { tail -40 "$build/build.log"; exit 1; }
else
  # No CMake on the machine (and nothing to install it from): the core (faceqan_quality in
  # quality/CMakeLists.txt: LibTorch only, so not quality_scale.cpp, which needs nlohmann-json)
  # and the benchmark are six files; compile them straight with the C++ compiler, in parallel.
  cxx=${CXX:-c++}
  say "no cmake: compiling with $cxx"
  flags=(-O2 -std=c++17 -fPIC -DNDEBUG -D_GLIBCXX_USE_CXX11_ABI="$torch_abi" -I"$root/quality/include"
         -isystem "$torch_root/include" -isystem "$torch_root/include/torch/csrc/api/include")
  objects=()
  pids=()
  sources=()
  for name in aggregate device faceqan_scorer recognition_model torchscript_model; do
    sources+=("$root/quality/src/$name.cpp")
  done
  sources+=("$root/bench/quality_bench.cpp")
  for source in "${sources[@]}"; do
    object=$build/$(basename "$source" .cpp).o
    objects+=("$object")
    "$cxx" "${flags[@]}" -c "$source" -o "$object" > "$object.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { cat "${objects[$i]}.log"; exit 1; }
  done
  libs=(-ltorch -ltorch_cpu -lc10)
  [ -e "$torch_root/lib/libtorch_cuda.so" ] && libs+=(-ltorch_cuda)
  [ -e "$torch_root/lib/libc10_cuda.so" ] && libs+=(-lc10_cuda)
  "$cxx" "${objects[@]}" -o "$build/bin/faceqan-bench-quality" -L"$torch_root/lib" \
    -Wl,--no-as-needed "${libs[@]}" -Wl,--as-needed -Wl,-rpath,"$torch_root/lib" -pthread
fi
bench=$build/bin/faceqan-bench-quality

# 3. The benchmark and the reference.
mkdir -p "$work"
if [ "$device" = cpu ]; then
  extra=(--faces 4 --reference-faces 2 --iterations 2 --samples 2 --default-batches 2,4
         --iresnet-batches 2 --iresnet-layers 1,1,1,1 --threads 2)
else
  extra=()
fi
if [ ! -e "$work/faces.bin" ]; then
  say "no $work/faces.bin (bench/gpu.sh --prepare makes it): synthetic faces, agreement only indicative"
fi
say "running (work folder $work)"
# shellcheck disable=SC2086
"$python" "$root/bench/gpu_bench.py" --bench "$bench" --work "$work" --device "$device" \
  --onnx "$root/build/models/recognition/mobilefacenet512_faceplugin.onnx" \
  "${extra[@]}" ${FACEQAN_GPU_BENCH_ARGS:-} | tee "$work/table.md"
