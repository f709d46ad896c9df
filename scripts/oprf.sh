#!/usr/bin/env bash
# FAVOR++ (OPRF, --attention favor-softmax-opt) against FAVOR+ (SM+) and exact attention (issue 13), at Table 2's
# scale: the same model, schedule, token budget and seeds as results/table2 (whose favor-softmax and exact runs are
# the comparison, not retrained): bidirectional with A per batch-head from its queries and keys (seeds 0 and 1),
# causal with A fixed from the head width (seed 0). Then the cost: one FAVOR layer (B 1, H 8, D 64, M 256) at
# L = 4096, SM+ against OPRF, forward and forward+backward, both directions, and one training step of Table 2's
# model (B 8, L 1024), a fresh JVM per point; the training runs' own speeds are not compared (Table 2 ran in
# another session, possibly on another CPU).
#
# Usage: scripts/oprf.sh [STEPS]        (default 500, Table 2's; another value has no Table 2 runs to compare with)
# Resumable: finished runs are skipped. Writes results/oprf/: <direction>-favor-softmax-opt-s<seed>/ (log.csv,
# loss.png, output.txt, test_id.json, test_ood.json), bench/ and bench-step/ (bench.csv and plots), table.csv, table.json,
# table.md, valid_accuracy_<direction>.png.
# Env: CORPUS (default ../shared/data/proteins/corpus), OUT (default results/oprf), TABLE2 (default results/table2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-500}"
. "$here/scripts/lib/proteins.sh"
positive_int STEPS "$steps"
out="${OUT:-$here/results/oprf}"
t2="${TABLE2:-$here/results/table2}"
mkdir -p "$out"
runs=(bidir:0 bidir:1 causal:0)
echo "oprf: ${#runs[@]} runs of $steps steps x 8 x 1024 tokens with favor-softmax-opt (about"
echo "$(( ${#runs[@]} * (steps * 8192 / 18000 + 120) / 60 )) minutes with their evaluations), then a layer benchmark (a few minutes); resumable."

model=("${table2_model[@]}" --steps "$steps" --eval-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --eval-batches 20
       --checkpoint-every 50)
for r in "${runs[@]}"; do
  IFS=: read -r dir seed <<< "$r"
  train_run "$out/$dir-favor-softmax-opt-s$seed" --data "$train" --attention favor-softmax-opt --direction "$dir" \
      --seed "$seed" "${model[@]}"
done

if [ ! -f "$out/bench/bench.csv" ]; then
  echo "bench: favor-softmax and favor-softmax-opt layers at L = 4096"
  "$here/performer" bench --scope layer --methods favor-softmax,favor-softmax-opt --L 4096 --features 256 \
      --reps 7 --out "$logs/oprf-bench" > "$logs/oprf-bench.out" || { tail -n 5 "$logs/oprf-bench.out" >&2; exit 1; }
  rm -rf "$out/bench"; mv "$logs/oprf-bench" "$out/bench"
fi
if [ ! -f "$out/bench-step/bench.csv" ]; then
  echo "bench: one training step of Table 2's model with each"
  "$here/performer" bench --scope model --model table2 --methods favor-softmax,favor-softmax-opt --pass step \
      --direction both --L 1024 --batch 8 --features 64 --reps 5 --out "$logs/oprf-step" > "$logs/oprf-step.out" \
    || { tail -n 5 "$logs/oprf-step.out" >&2; exit 1; }
  rm -rf "$out/bench-step"; mv "$logs/oprf-step" "$out/bench-step"
fi

{
  echo "direction,attention,seed,test_accuracy,test_perplexity,ood_accuracy,ood_perplexity,source"
  for dir in bidir causal; do
    for att in exact favor-softmax favor-softmax-opt; do
      for seed in 0 1; do
        d="$t2/$dir-$att-s$seed"; src=table2
        [ "$att" = favor-softmax-opt ] && { d="$out/$dir-$att-s$seed"; src=oprf; }
        [ -f "$d/test_ood.json" ] || continue
        echo "$dir,$att,$seed,$(field "$d/test_id.json" accuracy),$(field "$d/test_id.json" perplexity),$(field "$d/test_ood.json" accuracy),$(field "$d/test_ood.json" perplexity),$src"
      done
    done
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
for dir in bidir causal; do
  list=(); labels=()
  for att in exact favor-softmax favor-softmax-opt; do
    d="$t2/$dir-$att-s0"; [ "$att" = favor-softmax-opt ] && d="$out/$dir-$att-s0"
    [ -f "$d/log.csv" ] && { list+=("$d"); labels+=("$att"); }
  done
  [ ${#list[@]} -gt 0 ] && "$here/performer" plot-runs --runs "$(IFS=,; echo "${list[*]}")" \
      --labels "$(IFS=,; echo "${labels[*]}")" --metric accuracy --out "$out/valid_accuracy_$dir.png" \
      --title "FAVOR++ vs FAVOR+ vs exact, $dir, 2 x 128, L 1024, seed 0" > /dev/null
done
cat "$out/table.md"
for f in "$out/bench/bench.csv" "$out/bench-step/bench.csv"; do
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print $c["scope"], $c["method"], $c["direction"], $c["pass"], "L " $c["L"], $c["median_ms"] " ms" }' "$f"
done
