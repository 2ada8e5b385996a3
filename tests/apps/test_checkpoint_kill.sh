#!/usr/bin/env bash
# kill -9 during train_cifar --save, again and again: after every kill a resume must find a
# matching weights/optimizer pair (never an older epoch than the last one seen), and after
# that next successful run no temp file may be left. The kills are aimed at the save window:
# each waits for FILE.optim.next to appear (the save's first write), then a growing delay, so
# they land while writing the temps, between the renames, or after the commit. The delays are
# fractions of the save time measured first on this machine (fsync makes it vary a lot).
# usage: test_checkpoint_kill.sh BIN_DIR MAKE_TEST_DATA WORK_DIR
set -euo pipefail
bin=$1 make_data=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$make_data" data 20 10 >/dev/null   # 4 images per batch file: one short step per epoch
T="$bin/train_cifar"
common=(--data data/bin --threads 2 --batch-size 32 --seed 1 --no-augment)
fail() { echo "FAIL: $*" >&2; exit 1; }
pair_id() { head -c 65536 "$1" | grep -ao '"pair_id":"[0-9a-f]*"' | cut -d'"' -f4 || true; }
temps() { ls ck.safetensors.next ck.safetensors.optim.next ck.safetensors.tmp ck.safetensors.optim.tmp 2>/dev/null || true; }

# start_run EPOCHS: train_cifar resuming from ck.safetensors in the background (pid in $pid),
# returning once its save has begun (FILE.optim.next exists).
start_run() {
  "$T" "${common[@]}" --epochs "$1" --resume ck.safetensors >run.log 2>&1 &
  pid=$!
  # Recovery of the last kill happens before this line; only then is a .optim.next ours.
  for _ in $(seq 6000); do grep -q "^resume: ck.safetensors at the end" run.log && break; sleep 0.01; done
  for _ in $(seq 12000); do [ -e ck.safetensors.optim.next ] && break; sleep 0.005; done
}

"$T" "${common[@]}" --epochs 1 --save ck.safetensors >/dev/null
[ -z "$(temps)" ] || fail "temps after a clean save: $(temps)"
# The save window: from .optim.next appearing to the end of a run whose last step is the save.
start_run 2
t0=$(date +%s.%N)
wait $pid || { cat run.log; fail "the measuring run failed"; }
save_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
echo "a save takes about ${save_s}s here"
last_epoch=2 inside=0 between=0
fractions=(0 0.2 0.4 0.6 0.75 0.85 0.92 0.97 1.0 1.1)
for i in "${!fractions[@]}"; do
  start_run 100000
  delay=$(awk -v f="${fractions[$i]}" -v s="$save_s" 'BEGIN { printf "%.3f", f * s }')
  sleep "$delay"
  kill -9 $pid 2>/dev/null || { cat run.log; fail "iteration $i: train_cifar ended before the kill"; }
  wait $pid 2>/dev/null || true
  left=$(temps | tr '\n' ' ')
  w=$(pair_id ck.safetensors) o=$(pair_id ck.safetensors.optim)
  where="after the commit (or outside the save)"
  if [ "$w" != "$o" ]; then where="between the renames"; between=$((between + 1)); inside=$((inside + 1))
  elif [ -n "$left" ]; then where="while writing the temps"; inside=$((inside + 1)); fi
  # The next run must resume from a matching pair, no older than the last one, and tidy up.
  "$T" "${common[@]}" --epochs 1 --resume ck.safetensors >verify.log 2>&1 || { cat verify.log; fail "iteration $i: resume failed"; }
  epoch=$(sed -n 's/^resume: ck.safetensors at the end of epoch \([0-9]*\)$/\1/p' verify.log)
  [ -n "$epoch" ] || { cat verify.log; fail "iteration $i: no resume line"; }
  [ "$epoch" -ge "$last_epoch" ] || fail "iteration $i: resumed at epoch $epoch, older than $last_epoch"
  [ -z "$(temps)" ] || fail "iteration $i: temp files left after a successful run: $(temps)"
  [ "$(pair_id ck.safetensors)" = "$(pair_id ck.safetensors.optim)" ] || fail "iteration $i: pair ids differ"
  rolled=$(grep -o "an interrupted save was completed\|removed [0-9]* temp file(s)" verify.log || true)
  echo "kill $i (+${delay}s): $where; temps left [${left% }]; resumed at epoch $epoch${rolled:+ ($rolled)}"
  last_epoch=$epoch
done
echo "ok: ${#fractions[@]} kills, $inside inside the save window ($between between the two renames); every resume found a matching pair"
