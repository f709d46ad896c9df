#!/usr/bin/env bash
# L = 8192 (the paper's long-sequence protein experiment) at this machine's scale: the whole training split
# joined into one stream (records separated by SEP) and cut into windows of 8192, one window per step, Table 2's
# model (2 x 128, 4 heads) with FAVOR+ softmax against exact attention, both trained for the same wall-clock
# time. First the memory and the time of one training step of each (performer bench, a fresh JVM per point, peak
# heap measured), which also sets each arm's number of steps for the budget; then the two runs; accuracy against
# training time (evaluations excluded) as the plot.
#
# Exact attention here is the tiled kernel (online softmax, O(L) memory): it fits where the paper's
# materialising Transformer, which keeps H x L x L attention probabilities per layer for backward (4 x 8192^2 x
# 4 bytes = 1.07 GB per layer at this size), does not fit its accelerator. The comparison therefore rests on
# time: the same minutes buy FAVOR+ many more windows.
#
# Usage: scripts/long.sh [MINUTES] [DIRECTION]     (defaults: 15 minutes of training per arm, bidir)
# Resumable: run it again. Writes results/long/: bench/ (bench.csv, the step's time and peak heap),
# favor-softmax/ and exact/ (log.csv, loss.png, output.txt, test_id.json, test_ood.json), steps.txt (the steps
# each arm was given), table.csv, table.json, table.md, valid_accuracy_time.png, valid_accuracy_step.png,
# valid_perplexity_time.png.
# Env: CORPUS (default ../shared/data/proteins/corpus), OUT (default results/long), LONG_L (default 8192).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${1:-15}"
dir="${2:-bidir}"
. "$here/scripts/lib/proteins.sh"
positive_int MINUTES "$minutes"
case "$dir" in bidir|causal) ;; *) echo "error: DIRECTION must be bidir or causal, got '$dir'" >&2; exit 2;; esac
out="${OUT:-$here/results/long}"
mkdir -p "$out"
L="${LONG_L:-8192}"   # LONG_L: another window length (tests of this script)
arms=(favor-softmax exact)
echo "long: L = $L, batch 1, $dir; a benchmark of one step (a few minutes), then ${#arms[@]} arms of $minutes minutes"
echo "of training each, plus their evaluations (exact attention's at L = $L take minutes); resumable (run it again)."

if [ ! -f "$out/bench/bench.csv" ]; then
  echo "bench: one training step of each attention at L = $L"
  "$here/performer" bench --scope model --model table2 --methods "$(IFS=,; echo "${arms[*]}"),identity" \
      --pass step --direction "$dir" --L "$L" --batch 1 --features 64 --reps 3 --out "$logs/bench" > "$logs/bench.out" \
    || { tail -n 5 "$logs/bench.out" >&2; exit 1; }
  rm -rf "$out/bench"; mv "$logs/bench" "$out/bench"
fi
# the steps each arm gets, fixed once (a resumed run keeps its schedule): budget / measured median step time
if [ ! -f "$out/steps.txt" ]; then
  awk -F, -v budget=$(( minutes * 60 )) 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["status"] == "ok" { s = int(budget * 1000 / $col["median_ms"]); if (s < 10) s = 10; print $col["method"], s, $col["median_ms"], $col["peak_heap_mb"] }' \
    "$out/bench/bench.csv" > "$out/steps.txt.tmp"
  mv "$out/steps.txt.tmp" "$out/steps.txt"
fi
cat "$out/steps.txt"
for att in "${arms[@]}"; do
  steps="$(awk -v a="$att" '$1 == a { print $2 }' "$out/steps.txt")"
  [ -n "$steps" ] || { echo "error: no benchmark of $att in $out/bench/bench.csv" >&2; exit 1; }
  train_run "$out/$att" --data "$train" --attention "$att" --direction "$dir" --seed 0 --L "$L" --batch 1 \
      --layers 2 --width 128 --heads 4 --ffn 256 --features 64 --dropout 0.1 --lr 1e-3 --clip 1.0 --layout concat \
      --steps "$steps" --eval-every $(( steps / 15 > 0 ? steps / 15 : 1 )) --eval-batches 8 \
      --checkpoint-every $(( steps / 20 > 0 ? steps / 20 : 1 ))
done

{
  echo "attention,steps,step_ms,peak_heap_mb,tokens_seen,test_accuracy,test_perplexity,ood_accuracy,ood_perplexity"
  for att in "${arms[@]}"; do
    read -r _ steps ms heap <<< "$(awk -v a="$att" '$1 == a' "$out/steps.txt")"
    d="$out/$att"
    echo "$att,$steps,$ms,$heap,$(( steps * L )),$(field "$d/test_id.json" accuracy),$(field "$d/test_id.json" perplexity),$(field "$d/test_ood.json" accuracy),$(field "$d/test_ood.json" perplexity)"
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
runs="$(printf "$out/%s," "${arms[@]}")"; runs="${runs%,}"
for x in time step; do
  "$here/performer" plot-runs --runs "$runs" --labels "$(IFS=,; echo "${arms[*]}")" --metric accuracy --x "$x" \
      --out "$out/valid_accuracy_$x.png" --title "L = $L ($dir, concatenated): validation accuracy, $minutes min each" \
      > /dev/null
done
"$here/performer" plot-runs --runs "$runs" --labels "$(IFS=,; echo "${arms[*]}")" --metric perplexity --x time \
    --out "$out/valid_perplexity_time.png" \
    --title "L = $L ($dir, concatenated): validation perplexity, $minutes min each" > /dev/null
cat "$out/table.md"
