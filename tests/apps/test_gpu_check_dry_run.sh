#!/usr/bin/env bash
# The plumbing of scripts/gpu_check.sh, tested without a GPU: every step runs (GPU programs on
# --device cpu, test_gpu reports "no GPU" and counts as skipped), the JPEG-tarball path of DATA
# is unpacked, train_cifar writes metrics and a checkpoint, and the logs end up in one archive.
# Then a carried set that lacks a program must make the run fail.
# usage: test_gpu_check_dry_run.sh BUILD_DIR MAKE_TEST_DATA WORK_DIR SCRIPTS_DIR
set -euo pipefail
build=$1 make_data=$2 work=$3 scripts=$4
rm -rf "$work" && mkdir -p "$work/bin" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$make_data" data 64 32 >/dev/null
tar -czf data.tar.gz -C data folder   # like cifar10-jpeg.tar.gz: one top folder, train/ test/
ln -s "$build/tests/test_gpu" "$build/apps/bench" "$build/apps/train_cifar" bin/

run() {
  BIN_DIR=$work/bin DATA=$work/data.tar.gz PEER=$work/no_peer.py LOG_DIR=$work/logs \
    ARCHIVE=$work/logs.tar.gz ALLOW_NO_GPU=1 DEVICE=cpu EPOCHS=1 BENCH_BATCHES=2 \
    BENCH_ARGS="--repeats 1 --warmup 0 --no-ops --threads 2" \
    TRAIN_ARGS="--limit-train 48 --limit-test 16 --batch-size 16 --threads 2" \
    STEPS="libs test_gpu bench models data train_cifar peer" MODEL=resnet18 MODEL_BATCHES=1 TOTAL_TIMEOUT=300 \
    bash "$scripts/gpu_check.sh" >"$1" 2>&1
}

if ! run ok.log; then cat ok.log; fail "the dry run failed"; fi
cat ok.log | sed -n '/gpu_check summary/,$p'
for want in "libs         | PASS" "bench        | PASS" "models       | PASS" "data         | PASS" "train_cifar  | PASS" \
  "peer         | SKIP (no peer script" "gpu_check: all steps passed"; do
  grep -qF "$want" ok.log || fail "summary lacks '$want'"
done
# test_gpu: a real verdict where there is a GPU, "no GPU seen" where there is none.
grep -qE "test_gpu     \| (PASS|SKIP \(no GPU seen\))" ok.log || fail "test_gpu line"
tar -tzf logs.tar.gz > archive.txt
for f in summary.txt train_cifar.log train_cifar_metrics.json bench.log; do
  grep -q "logs/$f$" archive.txt || fail "archive lacks $f"
done
[ "$(wc -l < logs/train_cifar_metrics.json)" -eq 1 ] || fail "metrics should have 1 line (1 epoch)"
[ -s gpu_check_model.safetensors ] || fail "no checkpoint written beside the logs"
echo "ok: dry run, archive with $(wc -l < archive.txt) entries"

# A carried set without train_cifar: that step fails, and so does the run.
rm bin/train_cifar
if run missing.log; then cat missing.log; fail "a missing program did not fail the run"; fi
grep -qF "train_cifar  | FAIL (not built)" missing.log || { cat missing.log; fail "missing program line"; }
grep -qF "gpu_check: FAILED" missing.log || fail "no FAILED verdict"
echo "ok: a missing program fails the run"
