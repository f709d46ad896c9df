#!/usr/bin/env bash
# The paper's protein language-model comparison at this project's scale: the default model
# (2 layers, width 128, 4 heads, M = 64) trained on the bundled Swiss-Prot sample with each
# attention, masked LM (bidir) and next-token LM (causal), same seed, data order and schedule.
# Writes results/lm-compare/<direction>-<attention>/ (log.csv, loss.png) and the comparison plots.
# Usage: scripts/lm-compare.sh [STEPS]   (default 600; about 20 minutes on 2 cores)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-600}"
out="$here/results/lm-compare"
mkdir -p "$out"
logs="$(mktemp -d)"   # progress bars (stderr) stay out of results/
for dir in bidir causal; do
  runs=()
  for att in exact favor-softmax favor-relu identity; do
    run="$out/$dir-$att"
    "$here/performer" train --attention "$att" --direction "$dir" --L 512 --batch 8 --steps "$steps" \
      --eval-every 100 --eval-batches 0 --checkpoint-every 0 --seed 0 --run "$run" > "$logs/out" 2> "$logs/$dir-$att.err" \
      || { cat "$logs/$dir-$att.err" >&2; exit 1; }
    mv "$logs/out" "$run/output.txt"
    rm -f "$run"/checkpoint-*.safetensors   # weights are not kept in the repository
    tail -n 1 "$run/output.txt"
    runs+=("$run")
  done
  "$here/performer" plot-runs --runs "$(IFS=,; echo "${runs[*]}")" --out "$out/valid_loss_$dir.png" \
    --title "Validation loss, $dir, 2 layers x 128, L 512 (bundled Swiss-Prot sample)"
done
