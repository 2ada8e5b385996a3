#!/usr/bin/env bash
# dlcraft as an outside project sees it: install to a prefix, build examples/ against it with
# find_package(dlcraft CONFIG REQUIRED), and run the examples (each exits 1 if it does not learn).
# usage: test_example_project.sh BUILD_DIR EXAMPLES_DIR WORK_DIR
set -euo pipefail
build=$1 examples=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/dlcraft/dlcraft.hpp"
cmake -S "$examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
for example in residual_example perceptron mlp_xor mlp_spiral fit_perceptron fit_mlp_xor fit_mlp_csv fit_cnn; do
  echo "== $example"
  "$work/build/$example"
done
