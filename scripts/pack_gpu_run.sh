#!/usr/bin/env bash
# Prepares a run of scripts/gpu_check.sh on a bare GPU machine: builds test_gpu, bench,
# train_cifar and predict here (portable: no -march=native; sm_90 + PTX) and copies into
# .gpu/ (git-ignored; name it in the device tool's `carry`):
#   .gpu/bin/        the programs
#   .gpu/lib/        libgomp, libjpeg, libpng16 and libz, in case the GPU image lacks them
#                    (cudart/cuBLAS/cuDNN/NCCL are found there by gpu_check.sh: toolkit folders or
#                    PyTorch's nvidia-* wheels)
#   .gpu/cifar10-jpeg.tar.gz and .gpu/pytorch_cifar_cnn.py when ../shared has them
# With --deps it also copies the header-only dependencies (.deps/, scripts/pack_device_deps.sh)
# so the GPU machine can build from source when the carried programs cannot load.
# Then, on the GPU machine (see docs/cuda.md):
#   BIN_DIR=.gpu/bin LIB_DIRS=$PWD/.gpu/lib DATA=.gpu/cifar10-jpeg.tar.gz \
#   PEER=.gpu/pytorch_cifar_cnn.py bash scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-gpu}
# Static libdlcraft: the carried programs hold the whole library (no libdlcraft.so to find).
# No MPI: the GPU machine has no Open MPI to load (one process there; NCCL still runs).
cmake -S . -B "$build" -G Ninja -DDLCRAFT_CUDA=ON -DDLCRAFT_NATIVE=OFF -DDLCRAFT_SHARED=OFF \
  -DDLCRAFT_MPI=OFF -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$(nproc)" --target test_gpu bench train_cifar predict
rm -rf .gpu && mkdir -p .gpu/bin .gpu/lib
cp "$build/tests/test_gpu" "$build/apps/bench" "$build/apps/train_cifar" "$build/apps/predict" .gpu/bin/
# The GPU image (Ubuntu) has libjpeg.so.8, not Debian's .62, and may lack libgomp; its own
# libz is kept (gpu_check.sh adds .gpu/lib to LD_LIBRARY_PATH only for what is missing there).
for lib in libgomp libjpeg libpng16; do
  path=$(ldd .gpu/bin/* | awk -v lib="$lib" '!found && index($1, lib ".so") == 1 { print $3; found = 1 }')
  [[ -n $path ]] && cp -L "$path" .gpu/lib/
done
shared=../shared
[[ -f $shared/data/cifar10-jpeg.tar.gz ]] && cp "$shared/data/cifar10-jpeg.tar.gz" .gpu/
[[ -f $shared/peers/pytorch_cifar_cnn.py ]] && cp "$shared/peers/pytorch_cifar_cnn.py" .gpu/
if [[ ${1:-} == --deps ]]; then bash scripts/pack_device_deps.sh; fi
# The device tool carries at most 64 MiB with the working tree.
du -sh .gpu ${1:+.deps} 2>/dev/null
total=$(du -sk .gpu $([[ ${1:-} == --deps ]] && echo .deps) | awk '{ s += $1 } END { print s }')
if ((total > 56 * 1024)); then
  echo "pack_gpu_run: ${total} KiB is too close to the 64 MiB the device tool carries" >&2
  exit 1
fi
echo "pack_gpu_run: ${total} KiB ready in .gpu/"
