#!/usr/bin/env bash
# classify, finetune and features run as a user runs them, on generated image folders of mixed
# sizes and seeded model-zoo weights (stand-ins for scripts/export_torchvision.py's files):
# top-5 lines per image, fine-tuning that learns (both layouts, frozen backbone), resume ==
# uninterrupted run, feature files, and clear errors (non-zero exit, naming the file) for
# missing weights, the wrong model for the weights, unreadable images and empty folders.
# usage: test_zoo_apps.sh BIN_DIR MAKE_ZOO_TEST_DATA WORK_DIR
set -euo pipefail
bin=$1 make_data=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$make_data" data >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() {
  local what=$1 text=$2; shift 2
  if "$@" >err.log 2>&1; then cat err.log; fail "$what: exited 0"; fi
  grep -qF -- "$text" err.log || { cat err.log; fail "$what: message lacks '$text'"; }
  echo "ok: $what -> $(grep -F -- "$text" err.log | head -1)"
}
small=(--threads 2 --device cpu)
imgs=(data/photos/test/red_things/img0.png data/photos/test/blue_things/img1.jpg data/photos/test/green_things/img2.png)

# 1. classify with 1000-class weights: a header line and 5 lines per image, probabilities
#    descending; with --labels the names come from the file.
for i in $(seq 0 999); do echo "label number $i"; done > labels.txt
"$bin/classify" --model resnet18 --weights data/resnet18.safetensors --labels labels.txt --crop 64 --resize 73 "${small[@]}" "${imgs[@]}" > classify.log
[ "$(wc -l < classify.log)" -eq 18 ] || { cat classify.log; fail "classify: expected 3 x (1 + 5) lines"; }
for f in "${imgs[@]}"; do
  grep -qxF "$f" classify.log || fail "classify: no header line for $f"
  grep -A5 -xF "$f" classify.log | tail -n 5 | grep -qE '^ +[0-9]+\.[0-9]{2}%  label number [0-9]+ \([0-9]+\)$' || fail "classify: bad lines for $f"
  grep -A5 -xF "$f" classify.log | tail -n 5 | awk '{ gsub("%","",$1); print $1 }' | sort -g -r -c || fail "classify: not sorted"
done
echo "ok: classify prints 5 classes per image"

# 2. finetune from the "pretrained" weights on train/ val/ test/ folders: learns the 3 classes.
"$bin/finetune" --model resnet18 --weights data/resnet18.safetensors --data data/photos --epochs 3 --lr 3e-4 \
  --batch-size 8 --image-size 64 --seed 1 --save ft.safetensors "${small[@]}" | tee ft.log
grep -q "data: data/photos (train/ val/ test/ folders): 48 train / 12 val / 18 test images, 3 classes" ft.log || fail "finetune data line"
[ "$(grep -c '^epoch [0-9]/3: train loss' ft.log)" -eq 3 ] || fail "finetune: 3 epoch lines"
acc=$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' ft.log)
awk -v a="$acc" 'BEGIN { exit !(a >= 80) }' || fail "finetune did not learn (test accuracy $acc%, chance 33%)"
echo "ok: finetune test accuracy $acc%"

# 3. classify with the fine-tuned checkpoint: class names from its metadata, 3 classes.
"$bin/classify" --model resnet18 --weights ft.safetensors "${small[@]}" "${imgs[0]}" > c2.log  # sizes from its metadata
grep -qE '^ +[0-9.]+%  (red|green|blue)_things \([0-2]\)$' c2.log || { cat c2.log; fail "classify: class names from the checkpoint"; }
echo "ok: classify reads the fine-tuned classes"

# 4. Resume: 2 epochs then resume to 3 gives the same last epoch as the straight run.
"$bin/finetune" --model resnet18 --weights data/resnet18.safetensors --data data/photos --epochs 2 --lr 3e-4 \
  --batch-size 8 --image-size 64 --seed 1 --save part.safetensors "${small[@]}" > part.log
"$bin/finetune" --model resnet18 --data data/photos --epochs 3 --lr 3e-4 --batch-size 8 --image-size 64 \
  --resume part.safetensors "${small[@]}" > resume.log
grep -q "resume: part.safetensors at the end of epoch 2" resume.log || { cat resume.log; fail "resume message"; }
a=$(grep '^epoch 3/3' ft.log | sed 's/ | [^|]*img\/s$//'); b=$(grep '^epoch 3/3' resume.log | sed 's/ | [^|]*img\/s$//')
[ "$a" = "$b" ] || fail "resumed epoch 3 differs: '$a' vs '$b'"
echo "ok: resume == straight run ($b)"

# 5. Frozen backbone, one folder split at random: only the head trains, still learns.
"$bin/finetune" --model resnet18 --weights data/resnet18.safetensors --data data/flat --epochs 10 --lr 1e-2 \
  --batch-size 8 --image-size 64 --freeze-backbone --val-fraction 0.2 --save frozen.safetensors "${small[@]}" | tee frozen.log
grep -q "one folder split at random by class): 18 train / 6 val / 6 test images" frozen.log || fail "flat layout"
grep -qE "model: resnet18, 11178051 parameters \(1539 trained: backbone frozen\)" frozen.log || fail "frozen: parameter counts"
acc=$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' frozen.log)
awk -v a="$acc" 'BEGIN { exit !(a >= 80) }' || fail "the head on a frozen backbone did not learn (test accuracy $acc%)"
echo "ok: frozen backbone trains the head only ($acc%)"

# 6. features: a layer's output for each image into a safetensors file.
# Captured first: `features | grep -q` can kill features with SIGPIPE, which pipefail reports.
layers=$("$bin/features" --model resnet18 --list-layers)
grep -qE '^layer3\.1\.bn2 +BatchNorm2d$' <<<"$layers" || fail "--list-layers"
"$bin/features" --model resnet18 --weights data/resnet18_headless.safetensors --layer layer3 --crop 64 --resize 64 \
  --out feats.safetensors "${small[@]}" "${imgs[@]}" | tee feats.log
grep -qF "layer3: [3,256,4,4] output of resnet18 for 3 images -> feats.safetensors" feats.log || fail "features line"
[ -s feats.safetensors ] || fail "no feature file"
echo "ok: features"
# The frozen run changed nothing before the head: the same layer4 features as the weights it began from.
for w in data/resnet18.safetensors frozen.safetensors; do
  "$bin/features" --model resnet18 --weights "$w" --layer layer4 --crop 64 --resize 64 --out "f_$(basename "$w")" \
    "${small[@]}" "${imgs[@]}" >/dev/null
done
cmp -s f_resnet18.safetensors f_frozen.safetensors || fail "--freeze-backbone changed the backbone"
echo "ok: the frozen backbone is unchanged"

# 7. Errors: clear, non-zero, naming what is wrong.
expect_error "missing weights" "nothere.safetensors" "$bin/classify" --model resnet18 --weights nothere.safetensors "${small[@]}" "${imgs[0]}"
expect_error "wrong model for the weights" "not resnet34 weights (they look like resnet18)" \
  "$bin/classify" --model resnet34 --weights data/resnet18.safetensors "${small[@]}" "${imgs[0]}"
expect_error "unreadable image" "broken.jpg" "$bin/classify" --model resnet18 --weights data/resnet18.safetensors \
  --crop 64 --resize 64 "${small[@]}" "${imgs[0]}" data/bad/train/green_things/broken.jpg
grep -qxF "${imgs[0]}" err.log || fail "the readable image is still classified"
expect_error "labels count" "labels.txt: 1000 labels, but the model has 3 classes" \
  "$bin/classify" --model resnet18 --weights ft.safetensors --labels labels.txt "${small[@]}" "${imgs[0]}"
expect_error "empty folder" "data/empty" "$bin/finetune" --model resnet18 --data data/empty --epochs 1 "${small[@]}"
expect_error "unreadable image while fine-tuning" "broken.jpg" "$bin/finetune" --model resnet18 --data data/bad \
  --epochs 1 --image-size 32 --batch-size 4 --save bad.safetensors "${small[@]}"
expect_error "unknown layer" "no module 'layer9'" "$bin/features" --model resnet18 --weights data/resnet18_headless.safetensors \
  --layer layer9 --out x.safetensors "${small[@]}" "${imgs[0]}"
[ ! -e x.safetensors ] || fail "a failed features run left a file"
expect_error "headless weights in classify" "headless" "$bin/classify" --model resnet18 \
  --weights data/resnet18_headless.safetensors "${small[@]}" "${imgs[0]}"
echo "all zoo app tests passed"
