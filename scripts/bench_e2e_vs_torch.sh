#!/usr/bin/env bash
# End to end against PyTorch on the CPU (issue 14, docs/performance.md): 2 epochs of train_cifar
# and of the PyTorch peer on the same data, one after the other, alternating, ROUNDS times per
# batch size. Prints each run's images/s per epoch and test accuracy; the logs stay in OUT.
#
# usage: PYTHON=/path/to/venv-with-torch/bin/python DATA=cifar10-jpeg \
#          [PEER=../shared/peers/pytorch_cifar_cnn.py] [BIN=build/apps/train_cifar] \
#          [BATCHES="32 128"] [ROUNDS=2] [THREADS=2] [OUT=e2e_logs] bash scripts/bench_e2e_vs_torch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PYTHON:?PYTHON must name a Python with torch}" "${DATA:?DATA must name the CIFAR-10 folder (train/ and test/)}"
PEER=${PEER:-../shared/peers/pytorch_cifar_cnn.py}
BIN=${BIN:-build/apps/train_cifar}
BATCHES=${BATCHES:-32 128}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
OUT=${OUT:-e2e_logs}
for f in "$BIN" "$PEER"; do [ -f "$f" ] || { echo "bench_e2e_vs_torch: $f not found" >&2; exit 1; }; done
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for b in $BATCHES; do
    "$BIN" --data "$DATA" --epochs 2 --batch-size "$b" --threads "$THREADS" --seed 0 > "$OUT/dlcraft_b${b}_r${round}.txt" 2>&1
    echo "dlcraft b$b round $round:"
    grep -E "^epoch [0-9]+/2:|^test accuracy" "$OUT/dlcraft_b${b}_r${round}.txt" | sed 's/^/  /'
    "$PYTHON" "$PEER" --data "$DATA" --epochs 2 --batch-size "$b" --threads "$THREADS" --device cpu --feed gpu \
      --seed 0 > "$OUT/pytorch_b${b}_r${round}.txt" 2>&1
    echo "PyTorch b$b round $round:"
    grep -E '"epoch"|^peer:' "$OUT/pytorch_b${b}_r${round}.txt" | sed 's/^/  /'
  done
done
