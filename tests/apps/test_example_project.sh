#!/usr/bin/env bash
# dlcraft as an outside project sees it: install to a prefix, build examples/ against it with
# find_package(dlcraft CONFIG REQUIRED), and run the example (it exits 1 if it does not learn).
# usage: test_example_project.sh BUILD_DIR EXAMPLES_DIR WORK_DIR
set -euo pipefail
build=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/dlcraft/dlcraft.hpp"
cmake -S "$examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/residual_example"
