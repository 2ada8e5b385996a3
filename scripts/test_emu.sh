#!/usr/bin/env bash
# The emulated CUDA build (-DDLCRAFT_CUDA=EMU, docs/cuda.md): every CUDA kernel runs on the
# CPU. Configures and builds EMU_BUILD_DIR (default build-emu/), then runs
#   - the GPU tests (test_gpu) and the emulator's own checks (test_emu, test_emu_asan): ctest -L emu
#   - one short `train_cifar --device cuda` epoch on generated data.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${EMU_BUILD_DIR:-build-emu}
bash scripts/install_deps.sh
cmake -S . -B "$build" -G Ninja -DDLCRAFT_CUDA=EMU -DDLCRAFT_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$(nproc)" --target test_gpu test_emu test_emu_asan test_dist_nccl train_cifar make_test_data
ctest --test-dir "$build" -L emu --output-on-failure --timeout 1200

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/tests/make_test_data" "$work" 64 32
echo "== train_cifar --device cuda, emulated: 1 epoch on 64 generated images"
"$build/apps/train_cifar" --data "$work/bin" --device cuda --epochs 1 --batch-size 32 --seed 0 \
  --metrics "$work/metrics.jsonl"
grep -q '"epoch":1' "$work/metrics.jsonl" || { echo "test_emu: no epoch in $work/metrics.jsonl" >&2; exit 1; }
echo "test_emu: passed"
