#!/usr/bin/env bash
# One run that gives a verdict on the CUDA backend, made for a bare GPU machine lent for
# minutes (no Debian packages, no network). Steps, one after another, each under a timeout:
#   libs         find cudart/cuBLAS/cuDNN/NCCL for the programs (toolkit folders or the Python
#                nvidia-* packages PyTorch brings: nvidia/nccl/lib) and put them on LD_LIBRARY_PATH
#   configure    only without BIN_DIR, or when the carried programs cannot load:
#   build        cmake -DDLCRAFT_CUDA=ON -DDLCRAFT_CUDA_WERROR=OFF (from source, the fallback)
#   test_gpu     every GPU test: ours vs the CPU reference and vs cuDNN/cuBLAS
#   nccl         the [nccl] GPU tests alone (also part of test_gpu): NCCL with one rank, the
#                comm stream and the overlapping gradient bucketer (tests/gpu/gpu_nccl.cpp)
#   bench        bench --kernels both --batch-sizes 32,256: training img/s, per-op ms, tensor-op GB/s, GEMM
#                GFLOP/s, ours and cuDNN/cuBLAS in one process ("ours" alone without cuDNN), and
#                the teaching kernels' versions side by side (--kernel-steps)
#   models       ResNet-50 inference images/s at batch 1 and 32 (bench --model), beside
#                torchvision's on the same GPU when python3 has torch and torchvision
#                (scripts/bench_models.py)
#   data         DATA may be a folder or a .tar.gz (the JPEG CIFAR-10), unpacked once
#   train_cifar  EPOCHS (default 2) of the seed recipe on DATA, final test accuracy
#   pytorch_load the checkpoint loads into PyTorch's model (strict), when python3 has torch
#   peer         PEER (the PyTorch peer script) on the same data, same epochs, data on the GPU
#   memcheck     the [memcheck] GPU tests under compute-sanitizer memcheck (our kernels)
#   racecheck    only when named in STEPS: the [gemm] tests under racecheck
# It goes on past a failed step and ends with one table (step | result | seconds).
# Exit status: 0 when every step that ran passed or was skipped for a stated reason, else 1.
#
# Usage: scripts/gpu_check.sh [DATA]     (DATA as below; the rest through the environment)
#   BIN_DIR       folder with prebuilt test_gpu, bench, train_cifar (scripts/pack_gpu_run.sh);
#                 unset: configure and build from source in BUILD_DIR
#   BUILD_DIR     build folder for a from-source build (default build-gpu)
#   LIB_DIRS      extra folders searched for missing shared libraries (colon-separated)
#   DATA          CIFAR-10 folder (binary batches or image folders) or a .tar.gz of one
#   EPOCHS        epochs for train_cifar and the peer (default 2)
#   PEER          the PyTorch peer script (default ../shared/peers/pytorch_cifar_cnn.py)
#   STEPS         steps to run, space-separated (default: all but racecheck)
#   STEP_TIMEOUT  seconds a step may take (default 240)
#   TOTAL_TIMEOUT seconds for the whole run (default 480): a step gets at most what is left
#   LOG_DIR       where each step's log goes (default $BUILD_DIR/gpu_check_logs)
#   ARCHIVE       write LOG_DIR as this .tar.gz at the end (one file to fetch from a GPU run)
#   ALLOW_NO_GPU  1: a program that finds no GPU (exit 77) counts as skipped: the dry run
#   DEVICE        device for bench and train_cifar (default cuda; the dry run uses cpu)
#   BENCH_BATCHES batch sizes for bench (default 32,256)
#   MODEL, MODEL_BATCHES  the models step's model and batch sizes (default resnet50, 1,32)
#   BENCH_ARGS    extra bench arguments (the dry run: "--repeats 1 --warmup 0 --no-ops")
#   TRAIN_ARGS    extra train_cifar arguments (the dry run: "--limit-train 64 --batch-size 16")
#   CMAKE_ARGS    extra cmake arguments for a from-source build
set -uo pipefail

if [[ $# -gt 1 ]]; then
  echo "usage: $0 [DATA]  (a CIFAR-10 folder or .tar.gz; settings: see the head of this file)" >&2
  exit 2
fi
data=${1:-${DATA:-}}
# Paths given relative to where it was started, before the cd below.
abs() { if [[ -n $1 && -e $1 ]]; then echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; else echo "$1"; fi; }
data=$(abs "$data")
[[ -n ${BIN_DIR:-} ]] && BIN_DIR=$(abs "$BIN_DIR")
[[ -n ${PEER:-} ]] && PEER=$(abs "$PEER")
cd "$(dirname "$0")/.." || exit 2
repo=$(pwd)
build=${BUILD_DIR:-build-gpu}
bin_dir=${BIN_DIR:-}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 4)}
steps=${STEPS:-"libs test_gpu nccl bench models data train_cifar pytorch_load peer memcheck"}
step_timeout=${STEP_TIMEOUT:-240}
total_timeout=${TOTAL_TIMEOUT:-480}
epochs=${EPOCHS:-2}
peer=${PEER:-$repo/../shared/peers/pytorch_cifar_cnn.py}
log_dir=${LOG_DIR:-$build/gpu_check_logs}
allow_no_gpu=${ALLOW_NO_GPU:-0}
device=${DEVICE:-cuda}
bench_batches=${BENCH_BATCHES:-32,256}
read -r -a bench_args <<<"${BENCH_ARGS:-}"
read -r -a train_args <<<"${TRAIN_ARGS:-}"
mkdir -p "$log_dir" || exit 2
log_dir=$(cd "$log_dir" && pwd)
t_start=$(date +%s)

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

# The seconds a step may take: STEP_TIMEOUT (or $2), cut to what TOTAL_TIMEOUT leaves.
step_limit() {
  local want=${1:-$step_timeout}
  local left=$((total_timeout - ($(date +%s) - t_start) - 5))
  if ((left < want)); then want=$left; fi
  echo "$want"
}

# run_step NAME [--timeout S] COMMAND...: output to the terminal and NAME.log, recorded.
run_step() {
  local name=$1
  shift
  local limit
  if [[ $1 == --timeout ]]; then
    limit=$(step_limit "$2")
    shift 2
  else
    limit=$(step_limit)
  fi
  local log="$log_dir/$name.log"
  if ((limit < 5)); then
    skip_step "$name" "FAIL (no time left)" 1
    return
  fi
  echo
  echo "==== $name (limit ${limit}s): $*"
  local t0 t1 rc secs
  t0=$(now)
  { echo "\$ $*"; timeout --kill-after=10 "$limit" "$@"; } 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  t1=$(now)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) record "$name" "PASS" "$secs" 0 ;;
    77) if [[ $allow_no_gpu == 1 ]]; then record "$name" "SKIP (no GPU seen)" "$secs" 0
        else record "$name" "FAIL (no GPU seen)" "$secs" 1; fi ;;
    124 | 137) record "$name" "FAIL (timeout ${limit}s)" "$secs" 1 ;;
    *) record "$name" "FAIL (exit $rc)" "$secs" 1 ;;
  esac
  echo "==== $name: ${results[${#results[@]} - 1]} in ${secs}s"
}

# skip_step NAME REASON FAILED(0/1): records a step that did not run.
skip_step() {
  echo
  echo "==== $1: $2"
  echo "$2" >"$log_dir/$1.log"
  record "$1" "$2" "0.0" "$3"
}

# A step that needs a built program: missing counts as failed.
need() {
  if [[ ! -x "$2" ]]; then
    skip_step "$1" "FAIL (not built)" 1
    echo "missing: $2" >>"$log_dir/$1.log"
    return 1
  fi
}

find_sanitizer() {
  local d
  if command -v compute-sanitizer >/dev/null; then command -v compute-sanitizer; return; fi
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [[ -n "$d" && -x "$d/bin/compute-sanitizer" ]]; then echo "$d/bin/compute-sanitizer"; return; fi
  done
}

# The folders where a missing shared library may be: the toolkit's, the Python nvidia-*
# packages' (PyTorch's cuDNN and cuBLAS live there), and LIB_DIRS.
candidate_lib_dirs() {
  local d sp
  IFS=: read -r -a extra_dirs <<<"${LIB_DIRS:-}"
  for d in ${extra_dirs[@]+"${extra_dirs[@]}"} "${CUDA_HOME:-/usr/local/cuda}"/lib64 \
    "${CUDA_HOME:-/usr/local/cuda}"/lib /usr/local/cuda/targets/x86_64-linux/lib; do
    [[ -d $d ]] && echo "$d"
  done
  if command -v python3 >/dev/null; then
    for sp in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null); do
      [[ -d $sp/nvidia ]] && find "$sp/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null
    done
  fi
}

# resolve_libs PROGRAM: adds to LD_LIBRARY_PATH the folders holding what ldd cannot find.
# Prints what it did; returns 1 when something is still missing.
resolve_libs() {
  local prog=$1 missing lib d found
  missing=$(ldd "$prog" 2>/dev/null | awk '/not found/ { print $1 }')
  for lib in $missing; do
    found=""
    while read -r d; do
      if [[ -e $d/$lib ]]; then found=$d; break; fi
    done < <(candidate_lib_dirs)
    if [[ -n $found ]]; then
      echo "libs: $lib in $found"
      export LD_LIBRARY_PATH="$found${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    else
      echo "libs: $lib not found anywhere"
    fi
  done
  missing=$(ldd "$prog" 2>/dev/null | awk '/not found/ { print $1 }')
  ldd "$prog" | grep -E "cuda|cublas|cudnn|nccl|gomp" | sed 's/^\s*/libs: /'
  [[ -z $missing ]]
}

# ---------------------------------------------------------------- the machine
echo "gpu_check: $repo, steps: $steps, epochs $epochs, limits ${step_timeout}s/step ${total_timeout}s total"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 |
    sed 's/^/gpu_check: GPU: /'
else
  echo "gpu_check: nvidia-smi not found"
fi
if command -v nvcc >/dev/null; then echo "gpu_check: $(nvcc --version | tail -n 1)"; fi

# ---------------------------------------------------------------- programs
from_source() {
  local extra
  read -r -a extra <<<"${CMAKE_ARGS:-}"
  # Header-only dependencies carried in .deps (scripts/pack_device_deps.sh) where there are
  # no Debian packages; warnings of another host gcc must not fail the build.
  if [[ -d "$repo/.deps/usr" ]]; then extra+=("-DCMAKE_PREFIX_PATH=$repo/.deps/usr"); fi
  run_step configure cmake -S . -B "$build" -G Ninja -DDLCRAFT_CUDA=ON -DDLCRAFT_CUDA_WERROR=OFF \
    -DDLCRAFT_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release ${extra[@]+"${extra[@]}"}
  run_step build cmake --build "$build" --parallel "$jobs" --target test_gpu bench train_cifar predict
  bin_dir=""
}

if [[ -n $bin_dir ]]; then
  test_gpu="$bin_dir/test_gpu" bench="$bin_dir/bench" train="$bin_dir/train_cifar"
else
  test_gpu="$build/tests/test_gpu" bench="$build/apps/bench" train="$build/apps/train_cifar"
fi
if wanted configure || wanted build || [[ -z $bin_dir ]]; then
  from_source
  test_gpu="$build/tests/test_gpu" bench="$build/apps/bench" train="$build/apps/train_cifar"
fi
if wanted libs && [[ -x $test_gpu ]]; then
  # Not in a pipe: resolve_libs exports LD_LIBRARY_PATH for the steps after it.
  resolve_libs "$test_gpu" >"$log_dir/libs.log" 2>&1
  libs_rc=$?
  cat "$log_dir/libs.log"
  if [[ $libs_rc -eq 0 ]]; then
    record libs PASS 0.0 0
  elif [[ -n $bin_dir ]]; then
    # The carried programs cannot load here: build from source instead.
    record libs "FAIL (carried: missing libs)" 0.0 1
    from_source
    test_gpu="$build/tests/test_gpu" bench="$build/apps/bench" train="$build/apps/train_cifar"
    [[ -x $test_gpu ]] && resolve_libs "$test_gpu" >>"$log_dir/libs.log" 2>&1
  else
    record libs "FAIL (missing libs)" 0.0 1
  fi
fi
has_cudnn=0
if [[ -x $bench ]] && ldd "$bench" 2>/dev/null | grep -q libcudnn; then has_cudnn=1; fi

# ---------------------------------------------------------------- steps
if wanted test_gpu && need test_gpu "$test_gpu"; then
  run_step test_gpu "$test_gpu" --durations yes
fi

if wanted nccl && need nccl "$test_gpu"; then
  run_step nccl --timeout 120 "$test_gpu" "[nccl]"
fi

if wanted bench && need bench "$bench"; then
  if [[ $has_cudnn == 1 ]]; then
    run_step bench --timeout 150 "$bench" --device "$device" --batch-sizes "$bench_batches" --kernels both --tensor-ops --kernel-steps \
      ${bench_args[@]+"${bench_args[@]}"}
  else
    run_step bench --timeout 150 "$bench" --device "$device" --batch-sizes "$bench_batches" --kernels ours --tensor-ops --kernel-steps \
      ${bench_args[@]+"${bench_args[@]}"}
    skip_step bench_cudnn "SKIP (built without cuDNN)" 0
  fi
fi

model=${MODEL:-resnet50} model_batches=${MODEL_BATCHES:-1,32}
if wanted models && need models "$bench"; then
  if python3 -c "import torch, torchvision" 2>/dev/null; then
    run_step models --timeout 150 python3 "$(dirname "$0")/bench_models.py" --bench "$bench" --device "$device" \
      --model "$model" --batch-sizes "$model_batches" --warmup 3 --repeats 10
  else
    # BENCH_ARGS (the dry run's fewer repeats) replace the defaults.
    model_args=(--warmup 3 --repeats 10)
    [[ ${#bench_args[@]} -gt 0 ]] && model_args=("${bench_args[@]}")
    run_step models --timeout 150 "$bench" --device "$device" --model "$model" --model-batch-sizes "$model_batches" \
      --model-only "${model_args[@]}"
  fi
fi

data_dir=""
checkpoint="$log_dir/../gpu_check_model.safetensors"  # 38 MB: kept out of the archive
if wanted data; then
  if [[ -z $data ]]; then
    skip_step data "SKIP (no DATA given)" 0
  elif [[ -d $data ]]; then
    data_dir=$(cd "$data" && pwd)
  elif [[ -f $data && $data == *.tar.gz ]]; then
    unpack="$log_dir/../gpu_check_data"
    rm -rf "$unpack" && mkdir -p "$unpack"
    run_step data --timeout 60 tar -xzf "$data" -C "$unpack"
    # The tarball holds one top folder (cifar10-jpeg/) with train/ and test/ in it.
    data_dir=$(find "$unpack" -mindepth 1 -maxdepth 2 -type d -name train -printf '%h\n' | head -n 1)
  else
    skip_step data "FAIL (DATA is neither a folder nor a .tar.gz: $data)" 1
  fi
fi

if wanted train_cifar; then
  if [[ -z $data_dir ]]; then
    skip_step train_cifar "SKIP (no data)" 0
  elif need train_cifar "$train"; then
    metrics="$log_dir/train_cifar_metrics.json"
    rm -f "$metrics" "$checkpoint"
    run_step train_cifar --timeout 240 "$train" --device "$device" --data "$data_dir" --epochs "$epochs" \
      --seed 0 --metrics "$metrics" --save "$checkpoint" ${train_args[@]+"${train_args[@]}"}
    if [[ -f $metrics ]]; then echo "---- $metrics"; cat "$metrics"; fi
  fi
fi

if wanted pytorch_load; then
  if [[ ! -f $checkpoint ]]; then
    skip_step pytorch_load "SKIP (no checkpoint)" 0
  elif ! python3 -c "import torch, safetensors" 2>/dev/null; then
    skip_step pytorch_load "SKIP (no torch/safetensors)" 0
  else
    run_step pytorch_load --timeout 60 python3 "$repo/tests/apps/load_in_pytorch.py" "$checkpoint"
  fi
fi

if wanted peer; then
  if [[ -z $data_dir ]]; then
    skip_step peer "SKIP (no data)" 0
  elif [[ ! -f $peer ]]; then
    skip_step peer "SKIP (no peer script at $peer)" 0
  elif ! python3 -c "import torch, PIL" 2>/dev/null; then
    skip_step peer "SKIP (python3 has no torch/PIL)" 0
  else
    PYTHONUNBUFFERED=1 run_step peer --timeout 200 python3 "$peer" --data "$data_dir" --epochs "$epochs" \
      --feed gpu --batch-size 32 --seed 0
  fi
fi

if wanted memcheck; then
  sanitizer=$(find_sanitizer)
  if [[ -z $sanitizer ]]; then
    skip_step memcheck "SKIP (no compute-sanitizer)" 0
  elif need memcheck "$test_gpu"; then
    # Our kernels only (DLCRAFT_TEST_NO_VENDOR): the vendor libraries are not under test.
    run_step memcheck env DLCRAFT_TEST_NO_VENDOR=1 "$sanitizer" --tool memcheck --error-exitcode 99 \
      --print-limit 20 "$test_gpu" "${MEMCHECK_FILTER:-[memcheck]}"
  fi
fi

if wanted racecheck; then
  sanitizer=$(find_sanitizer)
  if [[ -z $sanitizer ]]; then
    skip_step racecheck "SKIP (no compute-sanitizer)" 0
  elif need racecheck "$test_gpu"; then
    run_step racecheck env DLCRAFT_TEST_NO_VENDOR=1 "$sanitizer" --tool racecheck --error-exitcode 99 \
      --print-limit 20 "$test_gpu" "${RACECHECK_FILTER:-[gemm]}"
  fi
fi

# ---------------------------------------------------------------- summary
{
  echo
  echo "gpu_check summary ($(date -u +%FT%TZ), $(($(date +%s) - t_start)) s, logs in $log_dir)"
  printf '%-12s | %-34s | %8s\n' "step" "result" "seconds"
  printf '%s\n' "-------------+------------------------------------+---------"
  for i in "${!names[@]}"; do
    printf '%-12s | %-34s | %8s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
  done
  if [[ ${#names[@]} -eq 0 ]]; then echo "(no steps ran: STEPS=\"$steps\")"; fi
  if [[ $failed -ne 0 ]]; then echo "gpu_check: FAILED"; else echo "gpu_check: all steps passed"; fi
} | tee "$log_dir/summary.txt"
if [[ -n ${ARCHIVE:-} ]]; then
  tar -czf "$ARCHIVE" -C "$(dirname "$log_dir")" "$(basename "$log_dir")" && echo "gpu_check: logs in $ARCHIVE"
fi
exit "$failed"
