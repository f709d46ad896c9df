#!/usr/bin/env bash
# Feature redrawing (the paper's Figure 15) at Table 2's scale: bidirectional FAVOR+ softmax (M 64) with its
# random features redrawn every 100 steps against the same model never redrawn, for several seeds. A pair shares
# its seed: the same initial weights, batches, masks and first projection; only the redraws differ.
#
# Usage: scripts/redraw.sh [STEPS] [SEEDS]      (defaults 500 and 3: seeds 0, 1, 2)
# The redrawn runs are Table 2's bidir favor-softmax runs (the same options; Table 2 redraws every 100 steps):
# where results/table2/bidir-favor-softmax-s<seed> is finished it is used, not trained again.
# Resumable: run it again. Writes results/redraw/: never-s<seed>/ and every100-s<seed>/ (when not in Table 2;
# log.csv, loss.png, output.txt, test_id.json, test_ood.json), table.csv, table.json, table.md, valid_accuracy.png.
# Env: CORPUS (default ../shared/data/proteins/corpus), OUT (default results/redraw).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-500}"
seeds="${2:-3}"
. "$here/scripts/lib/proteins.sh"
positive_int STEPS "$steps"
positive_int SEEDS "$seeds"
out="${OUT:-$here/results/redraw}"
mkdir -p "$out"
model=("${table2_model[@]}" --data "$train" --attention favor-softmax --direction bidir --steps "$steps"
       --eval-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --eval-batches 20 --checkpoint-every 50)
redrawn() {  # the folder of the redrawn run of seed $1
  local t2="$here/results/table2/bidir-favor-softmax-s$1"
  if [ "$steps" = 500 ] && [ -f "$t2/test_ood.json" ]; then echo "$t2"; else echo "$out/every100-s$1"; fi
}
todo=0
for s in $(seq 0 $(( seeds - 1 ))); do
  [ -f "$out/never-s$s/test_ood.json" ] || todo=$(( todo + 1 ))
  [ -f "$(redrawn "$s")/test_ood.json" ] || todo=$(( todo + 1 ))
done
echo "redraw: $seeds seeds x 2 arms of $steps steps x 8 x 1024 tokens; $todo runs to do, about"
echo "$(( todo * (steps * 8192 / 18000 + 90) / 60 )) minutes on 2 cores with their evaluations; resumable (run it again)."

for s in $(seq 0 $(( seeds - 1 ))); do
  train_run "$out/never-s$s" "${model[@]}" --seed "$s" --redraw-every 0
  r="$(redrawn "$s")"
  [ "$r" = "$out/every100-s$s" ] && train_run "$r" "${model[@]}" --seed "$s" --redraw-every 100
done

{
  echo "redraw,seed,test_accuracy,test_perplexity,ood_accuracy,ood_perplexity,run"
  for s in $(seq 0 $(( seeds - 1 ))); do
    for arm in never every100; do
      d="$out/never-s$s"; [ "$arm" = every100 ] && d="$(redrawn "$s")"
      echo "$arm,$s,$(field "$d/test_id.json" accuracy),$(field "$d/test_id.json" perplexity),$(field "$d/test_ood.json" accuracy),$(field "$d/test_ood.json" perplexity),${d#"$here"/}"
    done
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
{
  awk -F, 'NR > 1 { n[$1]++; a[$1] += $3; q[$1] += $3 * $3 } END { for (k in n) { m = a[k] / n[k];
    printf "\n%s: mean test accuracy %.4f, spread (sd over seeds) %.4f", k, m, sqrt((q[k] - n[k] * m * m) / (n[k] > 1 ? n[k] - 1 : 1)) } print "" }' "$out/table.csv"
} >> "$out/table.md"
list=(); names=()
for s in $(seq 0 $(( seeds - 1 ))); do
  list+=("$out/never-s$s" "$(redrawn "$s")"); names+=("never redrawn (seed $s)" "redrawn every 100 (seed $s)")
done
"$here/performer" plot-runs --runs "$(IFS=,; echo "${list[*]}")" --labels "$(IFS=,; echo "${names[*]}")" \
    --metric accuracy --out "$out/valid_accuracy.png" \
    --title "FAVOR+ softmax, redrawn every 100 steps or never: validation accuracy" > /dev/null
cat "$out/table.md"
