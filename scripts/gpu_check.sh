#!/usr/bin/env bash
# Checks the CUDA backend on a machine with a GPU, one step after another:
#   configure    cmake -S . -B build-gpu -G Ninja -DDLCRAFT_CUDA=ON (+ $CMAKE_ARGS)
#   build        test_gpu, bench and train_cifar
#   test_gpu     every GPU test (tests/test_gpu.cpp)
#   memcheck     the quick GPU tests (tag [memcheck], our kernels only) under
#                compute-sanitizer --tool memcheck, when compute-sanitizer is installed
#   bench_ours   bench --device cuda --batch-sizes 32,256 (our kernels)
#   bench_cudnn  the same with --kernels cudnn (cuDNN/cuBLAS)
#   train_cifar  with DATA_DIR: train_cifar --device cuda --epochs 2 --metrics ...
#   racecheck    (only when named in STEPS) the GEMM tests under --tool racecheck
# It goes on past a failed step. Each step's output is printed and kept in
# build-gpu/gpu_check_logs/<step>.log; one summary table (step | result | seconds) ends it.
# Exit status: 0 when every step that ran passed, 1 otherwise (a test program that finds no
# GPU counts as failed here).
#
# Usage: scripts/gpu_check.sh [DATA_DIR]
# Environment:
#   CMAKE_ARGS    extra cmake arguments, e.g. "-DCMAKE_CUDA_ARCHITECTURES=90"
#   BUILD_DIR     build directory (default build-gpu)
#   JOBS          parallel build jobs (default: all cores)
#   STEPS         the steps to run, space-separated (default: all but racecheck), e.g.
#                 STEPS="test_gpu memcheck" to reuse an earlier build
#   STEP_TIMEOUT  seconds after which a step is stopped (default: no limit)
#   MEMCHECK_FILTER / RACECHECK_FILTER  Catch2 filters (default "[memcheck]" / "[gemm]")
set -uo pipefail

if [[ $# -gt 1 ]]; then
  echo "usage: $0 [DATA_DIR]" >&2
  exit 2
fi
data_dir=""
if [[ $# -eq 1 && -n "$1" ]]; then
  data_dir=$1
  if [[ -d "$data_dir" ]]; then data_dir=$(cd "$data_dir" && pwd); fi  # before the cd below
fi

cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)
build=${BUILD_DIR:-build-gpu}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 4)}
steps=${STEPS:-"configure build test_gpu memcheck bench_ours bench_cudnn train_cifar"}
step_timeout=${STEP_TIMEOUT:-0}
log_dir="$build/gpu_check_logs"
mkdir -p "$log_dir"

names=()
results=()
seconds=()
failed=0

wanted() { [[ " $steps " == *" $1 "* ]]; }
now() { date +%s.%N; }

record() {  # name result seconds failed(0/1)
  names+=("$1")
  results+=("$2")
  seconds+=("$3")
  if [[ $4 -ne 0 ]]; then failed=1; fi
}

# run_step NAME COMMAND...: runs it, output to the terminal and to NAME.log, and records it.
run_step() {
  local name=$1
  shift
  local log="$log_dir/$name.log"
  local cmd=("$@")
  if [[ $step_timeout -gt 0 ]] && command -v timeout >/dev/null; then
    cmd=(timeout "$step_timeout" "${cmd[@]}")
  fi
  echo
  echo "==== $name: $*"
  local t0 t1 rc
  t0=$(now)
  { echo "\$ $*"; "${cmd[@]}"; } 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  t1=$(now)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) record "$name" "PASS" "$secs" 0 ;;
    77) record "$name" "SKIP (no GPU seen)" "$secs" 1 ;;
    124) record "$name" "FAIL (timeout)" "$secs" 1 ;;
    *) record "$name" "FAIL (exit $rc)" "$secs" 1 ;;
  esac
  echo "==== $name: ${results[${#results[@]} - 1]} in ${secs}s (log: $log)"
}

# skip_step NAME REASON FAILED: records a step that could not run.
skip_step() {
  echo
  echo "==== $1: $2"
  echo "$2" >"$log_dir/$1.log"
  record "$1" "$2" "0.0" "$3"
}

# A step that needs a program from the build: missing (the build failed) counts as failed.
need() {
  if [[ ! -x "$2" ]]; then
    skip_step "$1" "FAIL (not built)" 1
    echo "missing: $2" >>"$log_dir/$1.log"
    return 1
  fi
}

find_sanitizer() {
  if command -v compute-sanitizer >/dev/null; then
    command -v compute-sanitizer
    return
  fi
  local d
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [[ -n "$d" && -x "$d/bin/compute-sanitizer" ]]; then
      echo "$d/bin/compute-sanitizer"
      return
    fi
  done
}

# ---------------------------------------------------------------- the machine
echo "gpu_check: $(pwd), build in $build, steps: $steps"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 |
    sed 's/^/gpu_check: GPU: /'
else
  echo "gpu_check: nvidia-smi not found"
fi
if command -v nvcc >/dev/null; then
  echo "gpu_check: $(nvcc --version | tail -n 1)"
else
  echo "gpu_check: nvcc not on PATH (cmake may still find it, e.g. in /usr/local/cuda)"
fi

# ---------------------------------------------------------------- steps
test_gpu="$build/tests/test_gpu"
bench="$build/apps/bench"
train="$build/apps/train_cifar"

if wanted configure; then
  read -r -a extra <<<"${CMAKE_ARGS:-}"
  # A GPU machine without Debian's packages: headers carried in .deps (scripts/pack_device_deps.sh).
  if [[ -d "$repo/.deps/usr" ]]; then extra+=("-DCMAKE_PREFIX_PATH=$repo/.deps/usr"); fi
  run_step configure cmake -S . -B "$build" -G Ninja -DDLCRAFT_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
    ${extra[@]+"${extra[@]}"}
fi

if wanted build; then
  run_step build cmake --build "$build" --parallel "$jobs" --target test_gpu bench train_cifar predict
fi

if wanted test_gpu && need test_gpu "$test_gpu"; then
  run_step test_gpu "$test_gpu" --durations yes
fi

if wanted memcheck; then
  sanitizer=$(find_sanitizer)
  if [[ -z "$sanitizer" ]]; then
    skip_step memcheck "SKIP (no compute-sanitizer)" 0
  elif need memcheck "$test_gpu"; then
    # Our kernels only (DLCRAFT_TEST_NO_VENDOR): the vendor libraries are not under test.
    run_step memcheck env DLCRAFT_TEST_NO_VENDOR=1 "$sanitizer" --tool memcheck --error-exitcode 99 \
      --print-limit 20 "$test_gpu" "${MEMCHECK_FILTER:-[memcheck]}"
  fi
fi

if wanted racecheck; then
  sanitizer=$(find_sanitizer)
  if [[ -z "$sanitizer" ]]; then
    skip_step racecheck "SKIP (no compute-sanitizer)" 0
  elif need racecheck "$test_gpu"; then
    run_step racecheck env DLCRAFT_TEST_NO_VENDOR=1 "$sanitizer" --tool racecheck --error-exitcode 99 \
      --print-limit 20 "$test_gpu" "${RACECHECK_FILTER:-[gemm]}"
  fi
fi

if wanted bench_ours && need bench_ours "$bench"; then
  run_step bench_ours "$bench" --device cuda --batch-sizes 32,256
fi

if wanted bench_cudnn && need bench_cudnn "$bench"; then
  run_step bench_cudnn "$bench" --device cuda --batch-sizes 32,256 --kernels cudnn
fi

if wanted train_cifar; then
  if [[ -z "$data_dir" ]]; then
    skip_step train_cifar "SKIP (no DATA_DIR given)" 0
  elif need train_cifar "$train"; then
    metrics="$log_dir/train_cifar_metrics.json"
    rm -f "$metrics"
    run_step train_cifar "$train" --device cuda --data "$data_dir" --epochs 2 --metrics "$metrics" \
      --save "$log_dir/model.safetensors"
    if [[ -f "$metrics" ]]; then
      echo "---- $metrics"
      cat "$metrics"
    fi
    # The checkpoint in PyTorch: load_state_dict(strict=True) into the peer's model must accept it.
    if [[ -f "$log_dir/model.safetensors" ]] && python3 -c "import torch, safetensors" 2>/dev/null; then
      run_step pytorch_load python3 "$repo/tests/apps/load_in_pytorch.py" "$log_dir/model.safetensors"
    fi
  fi
fi

# ---------------------------------------------------------------- summary
echo
echo "gpu_check summary (logs in $log_dir)"
printf '%-12s | %-28s | %8s\n' "step" "result" "seconds"
printf '%s\n' "-------------+------------------------------+---------"
for i in "${!names[@]}"; do
  printf '%-12s | %-28s | %8s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
done
if [[ ${#names[@]} -eq 0 ]]; then
  echo "(no steps ran: STEPS=\"$steps\")"
fi
if [[ $failed -ne 0 ]]; then
  echo "gpu_check: FAILED"
  exit 1
fi
echo "gpu_check: all steps passed"
exit 0
