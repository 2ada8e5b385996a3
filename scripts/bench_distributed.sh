#!/usr/bin/env bash
# Images/s of the notes' CNN on 1 and 2 processes on this machine (docs/distributed.md §8), and
# the scaling model's prediction checked against the 2-process figure. bench_dist times the
# parts of a step (compute, gradient all-reduce, update) on random images; nothing passes or fails.
# usage: scripts/bench_distributed.sh [BATCH] [STEPS]      (default 32 and 10)
#   BUILD_DIR  where bench_dist was built (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-32}
steps=${2:-10}
bench=${BUILD_DIR:-build}/apps/bench_dist
[ -x "$bench" ] || { echo "bench_distributed: no $bench (build it: cmake --build ${BUILD_DIR:-build} --target bench_dist)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "bench_distributed: no mpirun (install openmpi-bin)" >&2; exit 2; }
cores=$(nproc)
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)
echo "== CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores"
echo "== 1 process, $cores threads, batch $batch"
"$bench" --batch-size "$batch" --steps "$steps" --threads "$cores"
per=$(( cores / 2 > 0 ? cores / 2 : 1 ))
echo "== 1 process, $per thread(s), batch $batch: what each of 2 processes has"
one=$("$bench" --batch-size "$batch" --steps "$steps" --threads "$per")
echo "$one"
ips=$(echo "$one" | sed -n 's/^images\/s: \([0-9.]*\).*/\1/p')
echo "== 2 processes, $per thread(s) each, batch $batch each (global $((2 * batch)))"
"${mpi[@]}" -np 2 "$bench" --batch-size "$batch" --steps "$steps" --threads "$per" --model-images-per-second "$ips"
half=$(( batch / 2 > 0 ? batch / 2 : 1 ))
echo "== 2 processes, $per thread(s) each, batch $half each (global $((2 * half)): the same global batch as 1 process)"
"${mpi[@]}" -np 2 "$bench" --batch-size "$half" --steps "$steps" --threads "$per"
