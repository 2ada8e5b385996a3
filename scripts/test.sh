#!/usr/bin/env bash
# Builds dlcraft and runs every test (ctest). GPU tests report themselves skipped without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --timeout 1200
