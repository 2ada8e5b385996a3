#!/usr/bin/env bash
# Configures and builds dlcraft in BUILD_DIR (default build/). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
# -march=native by default here: these scripts build for the machine they run on.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDLCRAFT_NATIVE="${DLCRAFT_NATIVE:-ON}" "$@"
cmake --build "$build" --parallel "$(nproc)"
