#!/usr/bin/env bash
# train_cifar, predict and bench run as a user runs them, on generated data:
# both data layouts, the final accuracy line, --metrics, resume == uninterrupted run,
# predict's top-5, clear errors (non-zero exit) for bad flags, data and checkpoints, and
# divergence (NaN weights refused on loading, the training guard) without touching a checkpoint.
# usage: test_train_cifar.sh BIN_DIR MAKE_TEST_DATA WORK_DIR SCRIPTS_DIR
set -euo pipefail
bin=$1 make_data=$2 work=$3 scripts=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$make_data" data 400 100 >/dev/null
T="$bin/train_cifar"
common=(--threads 2 --lr 1e-3 --batch-size 32 --seed 3)
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error "what" "text the message must contain" command...: must exit non-zero and say it
expect_error() {
  local what=$1 text=$2; shift 2
  if "$@" >err.log 2>&1; then cat err.log; fail "$what: exited 0"; fi
  grep -qF -- "$text" err.log || { cat err.log; fail "$what: message lacks '$text'"; }
  echo "ok: $what -> $(grep -F -- "$text" err.log | head -1)"
}
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | sed -n "${3}p"; }

# 1. Binary layout, 3 epochs straight, with metrics and a checkpoint.
"$T" --data data/bin --epochs 3 "${common[@]}" --metrics full.jsonl --save full.safetensors | tee full.log
last=$(tail -n 1 full.log)
[[ "$last" =~ ^test\ accuracy:\ [0-9]+\.[0-9]{2}%\ \([0-9]+/100\)$ ]] || fail "last line: $last"
[ "$(wc -l < full.jsonl)" -eq 3 ] || fail "metrics should have 3 lines"
for key in epoch train_loss train_acc test_acc epoch_seconds images_per_second; do
  grep -q "\"$key\":" full.jsonl || fail "metrics lacks $key"
done
acc=$(field full.jsonl test_acc 3)
awk -v a="$acc" 'BEGIN { exit !(a >= 0.5) }' || fail "the CNN did not learn the generated set (test_acc $acc)"
echo "ok: 3 epochs, test_acc $acc"

# 2. Resume: 1 epoch, then resume to 3 -> the same losses as the straight run.
"$T" --data data/bin --epochs 1 "${common[@]}" --metrics part.jsonl --save part.safetensors >/dev/null
"$T" --data data/bin --epochs 3 "${common[@]}" --metrics part.jsonl --resume part.safetensors > resume.log
grep -q "resume: part.safetensors at the end of epoch 1" resume.log || fail "resume message"
[ "$(wc -l < part.jsonl)" -eq 3 ] || fail "resumed metrics should have 3 lines"
for e in 2 3; do
  for key in train_loss train_acc test_acc; do
    a=$(field full.jsonl $key $e) b=$(field part.jsonl $key $e)
    [ "$a" = "$b" ] || fail "epoch $e $key: straight $a vs resumed $b"
  done
done
echo "ok: resumed run matches the straight run ($(field part.jsonl train_loss 3))"

# 3. Image-folder layout with --limit-train/--limit-test and SGD.
"$T" --data data/folder --epochs 1 --limit-train 96 --limit-test 50 --optimizer sgd --threads 2 \
  --mean 0.5,0.4,0.3 --std 0.2,0.25,0.5 > folder.log
grep -q "image-folder layout): 96 train / 50 test" folder.log || fail "folder layout/limits"
grep -q "normalize: mean (0.5000, 0.4000, 0.3000) std (0.2000, 0.2500, 0.5000) (given by --mean/--std)" folder.log ||
  fail "given normalisation"
tail -n 1 folder.log | grep -Eq '^test accuracy: [0-9.]+% \([0-9]+/50\)$' || fail "folder last line"
echo "ok: image-folder layout"

# 4. predict on a generated PNG and on the checkpoint.
img=$(ls data/folder/test/class3/*.png | head -n 1)
"$bin/predict" --weights full.safetensors "$img" > predict.log
cat predict.log
[ "$(grep -Ec '^  class[0-9] [0-9]+\.[0-9]{2}%$' predict.log)" -eq 5 ] || fail "predict top-5"

# The checkpoint read by the official safetensors library, when this machine has it.
if python3 -c "import safetensors.numpy" 2>/dev/null; then
  python3 - full.safetensors <<'PY' || fail "safetensors (python) could not read our checkpoint"
import sys
from safetensors import safe_open
from safetensors.numpy import load_file
d = load_file(sys.argv[1])
assert len(d) == 18 and d["fc1.weight"].shape == (2048, 4096) and str(d["fc1.weight"].dtype) == "float32", d.keys()
with safe_open(sys.argv[1], "np") as f:
    assert f.metadata()["epoch"] == "3"
print("ok: the safetensors library reads our checkpoint (18 tensors, metadata epoch 3)")
PY
else
  echo "note: python3 safetensors not installed; the library cross-check is skipped"
fi

# 5. Bad input: clear message, non-zero exit, nothing good overwritten.
expect_error "--epochs 0" "--epochs" "$T" --data data/bin --epochs 0
expect_error "--lr abc" "--lr" "$T" --data data/bin --lr abc
expect_error "--lr nan" "--lr" "$T" --data data/bin --lr nan
expect_error "--device tpu" "--device" "$T" --data data/bin --device tpu
expect_error "--batch-size -1" "--batch-size" "$T" --data data/bin --batch-size -1
expect_error "--std with a zero" "--std" "$T" --data data/bin --mean 0.5,0.5,0.5 --std 1,0,1
expect_error "--mean without --std" "--mean requires --std" "$T" --data data/bin --mean 0.5,0.5,0.5
expect_error "unknown flag" "--frobnicate" "$T" --frobnicate
expect_error "missing data" "download_cifar10.sh" "$T" --data nowhere --epochs 1
mkdir -p bad && cp data/bin/* bad/ && head -c 5000 data/bin/data_batch_1.bin > bad/data_batch_1.bin
expect_error "truncated batch file" "bad/data_batch_1.bin" "$T" --data bad --epochs 1
mkdir -p four && cp data/bin/* four/ && rm four/data_batch_4.bin
expect_error "missing data_batch_4.bin" "four/data_batch_4.bin: missing" "$T" --data four --epochs 1
expect_error "missing checkpoint" "nope.safetensors" "$T" --data data/bin --resume nope.safetensors
head -c 100 full.safetensors > broken.safetensors
expect_error "corrupt checkpoint (predict)" "broken.safetensors" "$bin/predict" --weights broken.safetensors "$img"
expect_error "unreadable image (predict)" "full.log" "$bin/predict" --weights full.safetensors full.log
version=$("$T" --version)
if [[ "$version" == *"CPU only"* ]]; then
  expect_error "--device cuda without CUDA" "built without CUDA" "$T" --data data/bin --device cuda
elif [[ "$version" == *"no GPU visible"* ]]; then
  expect_error "--device cuda without a GPU" "no CUDA GPU is visible" "$T" --data data/bin --device cuda
fi
if [[ "$version" != *"cuDNN"* ]]; then
  expect_error "--kernels cudnn without cuDNN" "cuDNN" "$T" --data data/bin --kernels cudnn
fi
# Divergence, made deterministic (no huge --lr whose outcome depends on rounding): a NaN
# written into a checkpoint by poison_tensor (built beside make_test_data).
poison="$(dirname "$make_data")/poison_tensor"
unchanged() { for f in "$@"; do cmp -s "$f" "$f.keep" || fail "a failed run changed $f"; done; }
keep() { for f in "$@"; do cp "$f" "$f.keep"; done; }
# A NaN weight: resume and predict refuse it on loading, naming the file and the tensor.
"$poison" full.safetensors nanw.safetensors fc1.weight nan
cp full.safetensors.optim nanw.safetensors.optim
keep nanw.safetensors nanw.safetensors.optim
expect_error "resume from a NaN weight" "nanw.safetensors: tensor fc1.weight holds NaN/Inf" \
  "$T" --data data/bin --epochs 4 "${common[@]}" --resume nanw.safetensors
unchanged nanw.safetensors nanw.safetensors.optim
expect_error "predict with a NaN weight" "nanw.safetensors: tensor fc1.weight holds NaN/Inf" \
  "$bin/predict" --weights nanw.safetensors "$img"
"$poison" full.safetensors infw.safetensors block2.conv1.bias -inf
expect_error "predict with an Inf weight" "infw.safetensors: tensor block2.conv1.bias holds NaN/Inf" \
  "$bin/predict" --weights infw.safetensors "$img"
# A NaN std is refused on loading (below); finite but absurd numbers pass that check, so a
# mean of 3e38 (every input -inf after Normalize) must be caught by predict's output check.
"$poison" full.safetensors nannorm.safetensors metadata:normalize_mean 3e38,3e38,3e38
expect_error "predict with a NaN output" "nannorm.safetensors: the model's output for $img is NaN/Inf" \
  "$bin/predict" --weights nannorm.safetensors "$img"
# A NaN in Adam's state: the weights load, the first update turns fc3.bias NaN, and the guard
# stops at that step with exit code 3; neither file of the checkpoint is rewritten, and
# --save to a new file creates nothing.
cp full.safetensors nanopt.safetensors
"$poison" full.safetensors.optim nanopt.safetensors.optim exp_avg.fc3.bias nan
keep nanopt.safetensors nanopt.safetensors.optim
expect_error "NaN after an update (resume)" "fc3.bias has NaN/Inf after the update at epoch 4, step 1" \
  "$T" --data data/bin --epochs 4 "${common[@]}" --resume nanopt.safetensors
grep -qF "the last good checkpoint is nanopt.safetensors (epoch 3)" err.log || { cat err.log; fail "last good checkpoint"; }
rc=0; "$T" --data data/bin --epochs 5 "${common[@]}" --resume nanopt.safetensors --save new.safetensors >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "divergence should exit 3, got $rc"
[ ! -e new.safetensors ] && [ ! -e new.safetensors.optim ] || fail "a diverged run saved new.safetensors"
unchanged nanopt.safetensors nanopt.safetensors.optim
# Checkpoints whose metadata lies: clear errors naming the file and the key, before any data
# is read (poison_tensor rewrites one metadata key of a copy of the epoch-3 pair).
lie() {  # lie OUT KEY VALUE
  "$poison" full.safetensors "$1" "metadata:$2" "$3"
  cp full.safetensors.optim "$1.optim"
}
lie epoch_x.safetensors epoch abc
expect_error "epoch abc" "epoch_x.safetensors: metadata 'epoch' must be an integer in 1..1000000000, got 'abc'" \
  "$T" --data data/bin --epochs 5 --resume epoch_x.safetensors
lie epoch_neg.safetensors epoch -5
expect_error "epoch -5" "epoch_neg.safetensors: metadata 'epoch' must be an integer in 1..1000000000, got '-5'" \
  "$T" --data data/bin --epochs 5 --resume epoch_neg.safetensors
lie epoch_max.safetensors epoch 9223372036854775807
expect_error "epoch INT64_MAX" "epoch_max.safetensors: metadata 'epoch' must be an integer" \
  "$T" --data data/bin --epochs 5 --resume epoch_max.safetensors
lie std_0.safetensors normalize_std 0.2,0,0.2
expect_error "std 0" "std_0.safetensors: metadata 'normalize_std' must be 3 finite numbers above 0" \
  "$T" --data data/bin --epochs 5 --resume std_0.safetensors
lie std_nan.safetensors normalize_std nan,nan,nan
expect_error "std NaN (predict)" "std_nan.safetensors: metadata 'normalize_std' must be 3 finite numbers above 0" \
  "$bin/predict" --weights std_nan.safetensors "$img"
lie classes.safetensors classes '["cat,dog"'
expect_error "classes not a JSON list (predict)" "classes.safetensors: metadata 'classes' is not a JSON list" \
  "$bin/predict" --weights classes.safetensors "$img"
cp full.safetensors mixed.safetensors && cp part.safetensors.optim mixed.safetensors.optim
expect_error "optimizer state of another save" "does not belong to mixed.safetensors" \
  "$T" --data data/bin --epochs 5 --resume mixed.safetensors
# Killed between the two renames (new .optim and .next, old weights): resume rolls forward.
cp part.safetensors rf.safetensors && cp full.safetensors rf.safetensors.next && cp full.safetensors.optim rf.safetensors.optim
"$T" --data data/bin --epochs 3 --threads 2 --resume rf.safetensors > rf.log
grep -q "resume: rf.safetensors: an interrupted save was completed (rolled forward to epoch 3)" rf.log || { cat rf.log; fail "roll forward"; }
cmp -s rf.safetensors full.safetensors && [ ! -e rf.safetensors.next ] || fail "roll forward left the wrong files"
echo "ok: an interrupted save is rolled forward on resume"
expect_error "save into a missing directory" "directory no/such/dir does not exist" "$T" --data data/bin --epochs 1 --limit-train 32 --limit-test 10 --save no/such/dir/x.safetensors
ls no 2>/dev/null && fail "left files behind"

# 6. The download script checks the md5 and leaves nothing half-written.
echo "not the archive" > fake.tar.gz
expect_error "download with a wrong md5" "expected c32a1d4ab5d03f1284b67883e8d87530" \
  env CIFAR10_URL="file://$PWD/fake.tar.gz" bash "$scripts/download_cifar10.sh" dl
[ -z "$(ls dl)" ] || fail "download left files behind: $(ls dl)"

# 7. The fit-API options: AdamW with a cosine schedule and clipping, the curves as a PNG and
#    TensorBoard events; the lr in the metrics follows the cosine (epoch 2 starts at lr/2).
"$T" --data data/bin --epochs 2 --limit-train 96 --limit-test 32 --threads 2 --lr 1e-3 --optimizer adamw \
  --weight-decay 0.01 --lr-schedule cosine --clip-grad-norm 1 --metrics cos.jsonl --plot curves.png \
  --tensorboard tb > cos.log
lr1=$(field cos.jsonl lr 1) lr2=$(field cos.jsonl lr 2)
awk -v a="$lr1" -v b="$lr2" 'BEGIN { exit !(a > 0.00099 && a < 0.00101 && b > 0.000499 && b < 0.000501) }' ||
  fail "cosine lr: epoch 1 $lr1, epoch 2 $lr2"
head -c 8 curves.png | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "--plot did not write a PNG"
ls tb/events.out.tfevents.* >/dev/null || fail "--tensorboard wrote no event file"
"$T" --data data/bin --epochs 1 --limit-train 160 --limit-test 32 --threads 2 --optimizer sgd --nesterov \
  --lr-schedule onecycle > nesterov.log
tail -n 1 nesterov.log | grep -Eq '^test accuracy: [0-9.]+% \([0-9]+/32\)$' || fail "sgd --nesterov --lr-schedule onecycle"
echo "ok: adamw, cosine/onecycle schedules, clipping, --plot, --tensorboard, nesterov"
expect_error "--nesterov with adam" "--nesterov needs --optimizer sgd" "$T" --data data/bin --nesterov
expect_error "--plot with a .jpg" "must end in .png or .svg" "$T" --data data/bin --plot x.jpg
expect_error "--lr-schedule bogus" "--lr-schedule" "$T" --data data/bin --lr-schedule bogus
expect_error "--plot into a missing directory" "directory no/such does not exist" "$T" --data data/bin --plot no/such/c.png

# 8. The other programs answer their flags.
# Output is captured first: `prog | grep -q` can kill prog with SIGPIPE, which pipefail reports.
help=$("$T" --help)
grep -q -- "--metrics" <<<"$help" || fail "--help"
grep -Eq "^dlcraft [0-9]+\.[0-9]+\.[0-9]+ \(" <<<"$version" || fail "--version"
bench_out=$("$bin/bench" --threads 2 --batch-sizes 2 --warmup 0 --repeats 1 --no-ops)
grep -q "train_step" <<<"$bench_out" || fail "bench"
ops_out=$("$bin/bench" --threads 2 --warmup 0 --repeats 1 --tensor-ops-only)
grep -q "softmax (dim 1)" <<<"$ops_out" && grep -q "GB/s" <<<"$ops_out" || fail "bench --tensor-ops-only"
echo "all train_cifar/predict/bench checks passed"
