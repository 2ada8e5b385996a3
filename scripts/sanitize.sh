#!/usr/bin/env bash
# Builds dlcraft with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, CPU only) and runs
# the unit tests (ctest label "cpu") under them: an out-of-bounds access, use after free,
# leak or undefined behaviour fails the run with a stack trace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
build=${BUILD_DIR:-build-asan}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLCRAFT_SANITIZE=ON \
  -DDLCRAFT_CUDA=OFF -DDLCRAFT_NATIVE=OFF -DDLCRAFT_BUILD_APPS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" -L cpu --output-on-failure --timeout 1200
