#!/usr/bin/env bash
# The main job on a fresh Debian machine: install what is missing, build, get CIFAR-10 if it is
# not there, and train:  bash scripts/train.sh --epochs 100 --lr 1e-4   (flags go to train_cifar)
# DATA_DIR (default data) is where CIFAR-10 is looked for and downloaded to.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
data=${DATA_DIR:-data}
if [ ! -f "$data/cifar-10-batches-bin/data_batch_1.bin" ] && [ ! -f "$data/data_batch_1.bin" ] &&
   [ ! -d "$data/cifar10-jpeg/train" ] && [ ! -d "$data/train" ]; then
  bash scripts/download_cifar10.sh "$data"
fi
exec "${BUILD_DIR:-build}/apps/train_cifar" --data "$data" "$@"
