#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/fuzz_*.cpp) with clang, AddressSanitizer and UBSan, and
# runs each for SECONDS (default 30) on a scratch copy of its seed corpus (fuzz/corpus/<name>/),
# so the repository's corpus only changes when you copy new finds in by hand.
# usage: scripts/fuzz.sh [SECONDS] [NAME...]      e.g. scripts/fuzz.sh 600 safetensors
# A crash, leak, timeout or oversized allocation fails the run and leaves the input in
# build-fuzz/artifacts/; turn it into a regression test, then fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
packages=(clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
build=${BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLCRAFT_FUZZ=ON \
  -DDLCRAFT_CUDA=OFF -DDLCRAFT_NATIVE=OFF -DDLCRAFT_SHARED=OFF -DDLCRAFT_BUILD_TESTS=OFF \
  -DDLCRAFT_BUILD_APPS=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); names+=("${n#fuzz_}"); done
fi
mkdir -p "$build/artifacts"
failed=()
for name in "${names[@]}"; do
  prog="$build/fuzz/fuzz_$name"
  [ -x "$prog" ] || { echo "fuzz: no harness fuzz/fuzz_$name.cpp" >&2; exit 2; }
  scratch="$build/corpus/$name"
  rm -rf "$scratch" && mkdir -p "$scratch"
  seeds=(); [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  echo "== fuzz_$name: ${seconds}s"
  # Allocation and time limits make "a small file asks for gigabytes" or a hang a finding too.
  if ! "$prog" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" "$scratch" ${seeds[@]+"${seeds[@]}"} \
      >"$build/fuzz_$name.log" 2>&1; then
    tail -n 40 "$build/fuzz_$name.log"
    failed+=("$name")
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz_$name.log" | tr '\n' ' '
  echo "corpus $(ls "$scratch" | wc -l) inputs"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/artifacts/)"
  exit 1
fi
echo "fuzz: ${#names[@]} harnesses, ${seconds}s each, nothing found"
