#!/usr/bin/env bash
# train_cifar on 2 processes (docs/distributed.md), as a user starts it:
#   mpirun -np 2 train_cifar ...
# - 2 processes x --batch-size 16 train as 1 process x 32 on the same images (same losses);
# - the printout says the global batch; rank 0 alone writes the checkpoint and the metrics;
# - a checkpoint of the 2-process run resumes on 1 process, and the reverse;
# - an error (missing data) ends the job non-zero, naming the rank, without hanging.
# Usage: test_train_cifar_dist.sh <mpirun and its flags...> -- <train_cifar> <make_test_data> <work dir>
set -euo pipefail
launcher=()
while [ "$1" != "--" ]; do launcher+=("$1"); shift; done
shift
train=$1 make_data=$2 work=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "test_train_cifar_dist: FAILED: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work/run2" "$work/run1"
"$make_data" "$work" 96 40 >/dev/null
common=(--data "$work/bin" --no-augment --threads 1 --seed 4)
# A hang (a rank waiting for another forever) is killed here and fails the test.
launch() { timeout -k 10 300 "${launcher[@]}" "$@"; }

echo "== 2 processes x batch 16, epochs 1-2"
launch "$train" "${common[@]}" --epochs 2 --batch-size 16 --save "$work/run2/ck.safetensors" \
  --metrics "$work/run2/metrics.jsonl" >"$work/out2.txt" 2>&1 || { cat "$work/out2.txt"; fail "the 2-process run failed"; }
cat "$work/out2.txt"
grep -q "batch 16 per process = global batch 32 per step" "$work/out2.txt" || fail "no global batch in the printout"
[ "$(grep -c '^test accuracy' "$work/out2.txt")" -eq 1 ] || fail "more than one process printed"
# Rank 0's files only, each once: no second writer's temps left behind.
files=$(cd "$work/run2" && ls | tr '\n' ' ')
[ "$files" = "ck.safetensors ck.safetensors.optim metrics.jsonl " ] || fail "unexpected files in run2: $files"

echo "== 1 process x batch 32, same seed and data"
"$train" "${common[@]}" --epochs 2 --batch-size 32 --metrics "$work/run1/metrics.jsonl" >"$work/out1.txt" 2>&1 ||
  { cat "$work/out1.txt"; fail "the 1-process run failed"; }
# The same images per step, the gradients averaged over the 2 halves: the losses agree to
# float rounding (measured 1e-7; a wrong average or wrong shards moves them by > 1e-3).
for key in train_loss test_loss train_acc test_acc; do
  a=$(grep -o "\"$key\":[-0-9.e+]*" "$work/run1/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
  b=$(grep -o "\"$key\":[-0-9.e+]*" "$work/run2/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
  echo "$key: 1 process [$a] 2 processes [$b]"
  awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x, " "); m = split(b, y, " "); if (n != 2 || m != 2) exit 1;
    for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 } }' ||
    fail "$key differs between 1 and 2 processes"
done

echo "== the 2-process checkpoint resumes on 1 process (epoch 3), then on 2 again (epoch 4)"
"$train" "${common[@]}" --epochs 3 --batch-size 32 --resume "$work/run2/ck.safetensors" \
  --metrics "$work/run2/metrics.jsonl" >"$work/out3.txt" 2>&1 || { cat "$work/out3.txt"; fail "resume on 1 process failed"; }
grep -q "resume: $work/run2/ck.safetensors at the end of epoch 2" "$work/out3.txt" || fail "1 process did not resume at epoch 2"
launch "$train" "${common[@]}" --epochs 4 --batch-size 16 --resume "$work/run2/ck.safetensors" \
  --metrics "$work/run2/metrics.jsonl" >"$work/out4.txt" 2>&1 || { cat "$work/out4.txt"; fail "resume on 2 processes failed"; }
grep -q "resume: $work/run2/ck.safetensors at the end of epoch 3" "$work/out4.txt" || fail "2 processes did not resume at epoch 3"
epochs=$(grep -o '"epoch":[0-9]*' "$work/run2/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
[ "$epochs" = "1 2 3 4 " ] || fail "metrics hold epochs [$epochs], not 1 2 3 4"

echo "== an error ends the job, non-zero, naming the rank"
set +e
launch "$train" --data "$work/missing" --epochs 1 >"$work/out5.txt" 2>&1
rc=$?
set -e
cat "$work/out5.txt"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the job hung"
[ $rc -ne 0 ] || fail "the job exited 0 without data"
grep -q "dlcraft: rank [01] of 2: error: no CIFAR-10 data found" "$work/out5.txt" || fail "no message naming the rank"
grep -q "^  $work/missing$" "$work/out5.txt" || fail "no message naming the folder"
echo "test_train_cifar_dist: passed"
