#!/usr/bin/env bash
# plot_metrics run as a user runs it, on a generated metrics file in train_cifar's format:
# a PNG of the size asked for (read from its IHDR), an SVG, TensorBoard scalars, and clear
# errors (exit 1, "error: " naming the file) for a missing file, a line that is not JSON, an
# empty file, an unknown extension and a bad size, none of which touches an existing picture.
# usage: test_plot_metrics.sh PLOT_METRICS WORK_DIR
set -euo pipefail
plot=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() {
  local what=$1 text=$2; shift 2
  if "$@" >err.log 2>&1; then cat err.log; fail "$what: exited 0"; fi
  grep -q "^error: " err.log || { cat err.log; fail "$what: no 'error: ' line"; }
  grep -qF -- "$text" err.log || { cat err.log; fail "$what: message lacks '$text'"; }
  echo "ok: $what -> $(grep -F -- "$text" err.log | head -1)"
}
# Big-endian uint32 at a byte offset of a file.
u32be() { od -An -tu1 -j"$2" -N4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'; }

# 17 epochs of train_cifar's keys, values from a seeded awk generator.
awk 'BEGIN { srand(11); for (e = 1; e <= 17; e++)
  printf "{\"epoch\": %d, \"train_loss\": %.5f, \"train_acc\": %.5f, \"test_acc\": %.5f, \"epoch_seconds\": %.2f}\n",
         e, 2.2 / e + 0.05 * rand(), 0.95 - 0.6 / e, 0.85 - 0.6 / e - 0.02 * rand(), 30 + rand() }' > run.jsonl

# 1. PNG, odd size: the IHDR says 777 x 333.
"$plot" run.jsonl curves.png --width 777 --height 333 --title "generated run" | tee png.log
grep -qF "run.jsonl: 17 epochs -> curves.png" png.log || fail "PNG summary line"
[ "$(head -c 8 curves.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "not a PNG signature"
[ "$(u32be curves.png 16)" -eq 777 ] && [ "$(u32be curves.png 20)" -eq 333 ] || fail "PNG size $(u32be curves.png 16) x $(u32be curves.png 20)"
echo "ok: PNG 777 x 333"

# 2. SVG at the default size, in points.
"$plot" run.jsonl curves.svg >/dev/null
head -c 5 curves.svg | grep -q "<?xml" || fail "SVG: no XML declaration"
grep -q 'width="960pt"' curves.svg && grep -q 'height="480pt"' curves.svg || fail "SVG size"
grep -q "<path" curves.svg && grep -q "</svg>" curves.svg || fail "SVG: no paths or no end"
echo "ok: SVG 960pt x 480pt"

# 3. --tensorboard: one event file with records in it.
"$plot" run.jsonl again.png --tensorboard logs/run1 | tee tb.log
grep -qF "68 scalars -> logs/run1/events.out.tfevents." tb.log || fail "TensorBoard line (17 epochs x 4 keys)"
[ "$(ls logs/run1 | grep -c tfevents)" -eq 1 ] || fail "one event file"
[ "$(stat -c %s logs/run1/events.out.tfevents.*)" -gt 1000 ] || fail "event file too small"
echo "ok: TensorBoard scalars"

# 4. Errors; curves.png stays as it was.
before=$(md5sum < curves.png)
expect_error "missing metrics file" "no_such.jsonl" "$plot" no_such.jsonl curves.png
{ head -n 3 run.jsonl; echo "{not json"; } > broken.jsonl
expect_error "a line that is not JSON" "broken.jsonl: line 4" "$plot" broken.jsonl curves.png
: > empty.jsonl
expect_error "an empty metrics file" "empty.jsonl" "$plot" empty.jsonl curves.png
expect_error "an unknown extension" "use .png or .svg" "$plot" run.jsonl curves.gif
expect_error "a width too small" "plot size 10 x 480" "$plot" run.jsonl curves.png --width 10
expect_error "a missing output directory" "no/such/dir/c.png" "$plot" run.jsonl no/such/dir/c.png
[ "$(md5sum < curves.png)" = "$before" ] || fail "an error changed curves.png"
[ ! -e curves.gif ] && [ ! -e curves.png.tmp ] || fail "a failed run left a file behind"
echo "ok: errors leave curves.png as it was"
echo "all plot_metrics checks passed"
