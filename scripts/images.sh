#!/usr/bin/env bash
# The paper's image experiment (ImageNet64 as sequences of sub-pixels, unidirectional, bits per dimension) at this
# machine's scale: Fashion-MNIST (Debian's dataset-fashion-mnist, MIT) as sequences of 784 grey levels in raster
# order, next-token models of the protein experiments' size (width 128, 4 heads, ffn 256) with learned positions,
# all given the same wall-clock training budget:
#   favor-softmax-d2, favor-relu-d2, exact-d2   FAVOR+ softmax, FAVOR+ ReLU and exact attention at depth 2
#   exact-d4, reformer-d4                       exact and Reformer (LSH) attention at depth 4: the paper's depth
#                                               comparison, "Performer/6 layers matches Reformer/12 layers"
# First each arm's step time is measured (a short run of its own, same sitting, median of steps 11-30 of 30), which sets its
# number of steps for the budget; then the runs (validation on 80 held-out training images, 15 times); then bits
# per dimension on the first TEST_IMAGES test images, a grid of 16 samples and 8 completions of test images' top
# halves per model (not for Reformer: LSH attention has no incremental decoder here).
#
# Usage: scripts/images.sh [MINUTES]      (default 10 minutes of training per arm; about 6 x MINUTES in all)
# Resumable: run it again. Writes results/images/: peak.txt (FMA peak of this sitting), calibration/ (the timing
# runs' logs), steps.txt (arm, steps, median step ms), ARM/ (log.csv, loss.png (bits per dim), output.txt,
# test.json, samples.png, completions.png), table.csv, table.json, table.md, bits_time.png, bits_step.png.
# Env: FMNIST (default /usr/share/datasets/fashion-mnist; apt-get install dataset-fashion-mnist), OUT (default
# results/images), TEST_IMAGES (default 2000), ARMS (default all five, comma-separated), SMOKE=1 (tiny run: checks
# the script, not the models).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${1:-10}"
case "$minutes" in ''|*[!0-9]*|0) echo "error: MINUTES must be a positive integer, got '$minutes'" >&2; exit 2;; esac
data="${FMNIST:-/usr/share/datasets/fashion-mnist}"
train="$data/train-images-idx3-ubyte.gz"
test="$data/t10k-images-idx3-ubyte.gz"
for f in "$train" "$test"; do
  [ -r "$f" ] || { echo "error: $f not found (apt-get install dataset-fashion-mnist, or set FMNIST)" >&2; exit 2; }
done
out="${OUT:-$here/results/images}"
test_images="${TEST_IMAGES:-2000}"
mkdir -p "$out"
. "$here/scripts/lib/tables.sh"   # field, tables
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
IFS=, read -r -a arms <<< "${ARMS:-favor-softmax-d2,favor-relu-d2,exact-d2,exact-d4,reformer-d4}"
model=(--width 128 --heads 4 --ffn 256 --features 64 --dropout 0.1 --lr 1e-3 --clip 1.0 --batch 8 --L 784
       --direction causal --data-kind image --seed 0)
calib_steps=30
[ "${SMOKE:-0}" = 1 ] && { model=(--width 16 --heads 2 --ffn 32 --features 8 --dropout 0 --batch 2 --L 784
                                  --direction causal --data-kind image --seed 0); calib_steps=9; }

arm_options() {  # ARM: its attention and depth
  local att="${1%-d*}" depth="${1##*-d}"
  echo "--attention $att --layers $depth"
}

echo "images: Fashion-MNIST, L = 784, causal, ${#arms[@]} arms of $minutes min each, test on $test_images images"
if [ ! -f "$out/peak.txt" ]; then
  "$here/performer" info --peak > "$logs/peak.txt" 2> /dev/null && mv "$logs/peak.txt" "$out/peak.txt"
fi
cat "$out/peak.txt"

# step time of each arm: a short run of its own (the same data path as the real one), median of steps 6..15
mkdir -p "$out/calibration"
for arm in "${arms[@]}"; do
  c="$out/calibration/$arm"
  [ -f "$c/log.csv" ] && grep -q "^$calib_steps,train" "$c/log.csv" && continue
  rm -rf "$c"
  # shellcheck disable=SC2046
  "$here/performer" train --data "$train" "${model[@]}" $(arm_options "$arm") --steps "$calib_steps" \
      --eval-every 0 --eval-batches 1 --checkpoint-every "$calib_steps" --run "$c" > "$logs/calib.out" \
      2> "$logs/calib.err" || { tail -n 5 "$logs/calib.err" >&2; exit 1; }
  rm -f "$c"/checkpoint-*.safetensors
done
if [ ! -f "$out/steps.txt" ]; then
  for arm in "${arms[@]}"; do
    # seconds of each step from the elapsed_s column, steps 11.. (after the JIT's warm-up); median
    awk -F, -v from=$(( calib_steps / 3 + 1 )) '$2 == "train" { if ($1 >= from && prev != "") print $9 - prev; prev = $9 }' \
        "$out/calibration/$arm/log.csv" | sort -g | awk -v arm="$arm" -v budget=$(( minutes * 60 )) '
      { d[++n] = $1 }
      END { med = n % 2 ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
            steps = int(budget / med); if (steps < 10) steps = 10
            printf "%s %d %.1f\n", arm, steps, med * 1000 }'
  done > "$out/steps.txt.tmp"
  mv "$out/steps.txt.tmp" "$out/steps.txt"
fi
cat "$out/steps.txt"

for arm in "${arms[@]}"; do
  d="$out/$arm"
  steps="$(awk -v a="$arm" '$1 == a { print $2 }' "$out/steps.txt")"
  [ -n "$steps" ] || { echo "error: no step time for $arm in $out/steps.txt (delete it to measure again)" >&2; exit 1; }
  if ! grep -qs '^done:' "$d/output.txt"; then
    resume=()
    if ls "$d"/checkpoint-*.safetensors > /dev/null 2>&1; then resume=(--resume)
    else rm -rf "$d"; fi
    echo "$arm: training $steps steps${resume:+ (resuming)}"
    # shellcheck disable=SC2046
    "$here/performer" train --data "$train" --valid-fraction 0.05 "${model[@]}" $(arm_options "$arm") \
        --steps "$steps" --eval-every $(( steps / 15 > 0 ? steps / 15 : 1 )) --eval-batches 10 \
        --checkpoint-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --run "$d" "${resume[@]}" > "$logs/out" \
        2> "$logs/$arm.err" || { tail -n 5 "$logs/$arm.err" >&2; exit 1; }
    cat "$logs/out" >> "$d/output.txt"
  fi
  if [ ! -f "$d/test.json" ]; then
    echo "$arm: bits per dimension on $test_images test images"
    "$here/performer" eval --checkpoint "$d" --data "$test" --limit "$test_images" --batch 8 --json \
        > "$logs/test.json" 2> "$logs/eval.err" || { tail -n 5 "$logs/eval.err" >&2; exit 1; }
    mv "$logs/test.json" "$d/test.json"
  fi
  if [ "${arm%-d*}" != reformer ] && [ ! -f "$d/completions.png" ]; then
    echo "$arm: samples and completions"
    "$here/performer" generate --checkpoint "$d" --samples 16 --seed 0 --out "$d/samples.png" > /dev/null \
        2> "$logs/gen.err" || { tail -n 5 "$logs/gen.err" >&2; exit 1; }
    "$here/performer" generate --checkpoint "$d" --complete "$test" --samples 8 --seed 0 --out "$d/completions.png" \
        > /dev/null 2> "$logs/gen.err" || { tail -n 5 "$logs/gen.err" >&2; exit 1; }
  fi
  [ "${KEEP_WEIGHTS:-0}" = 1 ] || rm -f "$d"/checkpoint-*.safetensors
  echo "$arm: $(cat "$d/test.json")"
done

{
  echo "arm,attention,layers,steps,step_ms,train_seconds,images_seen,test_bits_per_dim,test_accuracy,valid_bits_per_dim_last"
  for arm in "${arms[@]}"; do
    read -r _ steps ms <<< "$(awk -v a="$arm" '$1 == a' "$out/steps.txt")"
    d="$out/$arm"
    vb="$(awk -F, '$2 == "valid" { l = $3 } END { printf "%.4f", l / log(2) }' "$d/log.csv")"
    # training seconds, evaluations excluded (as plot-runs --x time): the time since the previous row of train rows
    ts="$(awk -F, 'NR > 1 { d = $9 - prev; if (d < 0) d = $9; if ($2 == "train") s += d; prev = $9 }
                  END { printf "%.0f", s }' "$d/log.csv")"
    echo "$arm,${arm%-d*},${arm##*-d},$steps,$ms,$ts,$(( steps * 8 )),$(field "$d/test.json" bits_per_dim),$(field "$d/test.json" accuracy),$vb"
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
runs="$(printf "$out/%s," "${arms[@]}")"; runs="${runs%,}"
for x in time step; do
  "$here/performer" plot-runs --runs "$runs" --labels "$(IFS=,; echo "${arms[*]}")" --metric bits --x "$x" \
      --out "$out/bits_$x.png" \
      --title "Fashion-MNIST pixels (L = 784, causal): validation bits per dimension, $minutes min each" > /dev/null
done
cat "$out/table.md"
