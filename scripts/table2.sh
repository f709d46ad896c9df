#!/usr/bin/env bash
# The paper's Table 2 at this machine's scale: protein language models on the whole redundancy-reduced
# Swiss-Prot training split (127k sequences, 51 M residues), L = 1024 (longer records cropped to a random
# window of L, shorter ones padded: --layout pad), the same model, schedule, seed and token budget for every
# attention. Bidirectional (masked LM): exact, FAVOR+ softmax, FAVOR+ ReLU, Linformer, identity; unidirectional
# (next-token LM): exact, FAVOR+ softmax, FAVOR+ ReLU, Reformer, identity; exact and FAVOR+ softmax with a
# second seed for the seed-to-seed spread. Each model is evaluated on the in-distribution test split and on
# the out-of-distribution split (whole held-out families); the unigram baseline comes from the training
# residue frequencies.
#
# Usage: scripts/table2.sh [STEPS]        (default 500 steps of 8 x 1024 tokens per run)
# Resumable: a finished run (its test metrics written) is skipped, an interrupted one resumes from its last
# checkpoint exactly. Writes results/table2/: <direction>-<attention>-s<seed>/ (log.csv, loss.png,
# output.txt, test_id.json, test_ood.json; checkpoints are deleted once a run is evaluated), table.csv,
# table.json, table.md and valid_accuracy_<direction>.png (the paper's Figure 6).
# Env: CORPUS (default ../shared/data/proteins/corpus), OUT (default results/table2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-500}"
. "$here/scripts/lib/proteins.sh"
positive_int STEPS "$steps"
out="${OUT:-$here/results/table2}"
mkdir -p "$out"

model=("${table2_model[@]}" --steps "$steps" --eval-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --eval-batches 20
       --checkpoint-every 50)
runs=(bidir:exact:0 bidir:exact:1 bidir:favor-softmax:0 bidir:favor-softmax:1 bidir:favor-relu:0 bidir:linformer:0
      bidir:identity:0 causal:exact:0 causal:exact:1 causal:favor-softmax:0 causal:favor-softmax:1 causal:favor-relu:0
      causal:reformer:0 causal:identity:0)
# training tokens/s of this model measured here (2 cores, 2026-12-01), for the budget printed up front
rate() { case "$1" in exact) echo 6000;; identity) echo 25000;; favor-*) echo 18000;; *) echo 10000;; esac; }
seconds=0
for r in "${runs[@]}"; do IFS=: read -r _ att _ <<< "$r"; seconds=$(( seconds + steps * 8 * 1024 / $(rate "$att") + 120 )); done
echo "table2: ${#runs[@]} runs of $steps steps x 8 x 1024 tokens ($(( ${#runs[@]} * steps * 8192 / 1000000 )) M tokens), each"
echo "then evaluated on the test and OOD splits: about $(( seconds / 60 )) minutes on 2 cores; resumable (run it again)."

for r in "${runs[@]}"; do
  IFS=: read -r dir att seed <<< "$r"
  train_run "$out/$dir-$att-s$seed" --data "$train" --attention "$att" --direction "$dir" --seed "$seed" "${model[@]}"
done

# the empirical (unigram) baseline: residue frequencies of the training split, scored on each test split
unigram() {  # $1: test file -> "accuracy perplexity" of always predicting by the training frequencies
  { zcat "$train" | grep -v '^>'; echo "#TEST"; zcat "$1" | grep -v '^>'; } | awk '
    /^#TEST$/ { test = 1; for (c in n) { p[c] = n[c] / total; if (n[c] > best) { best = n[c]; top = c } } next }
    !test { for (i = 1; i <= length($0); i++) n[substr($0, i, 1)]++; total += length($0); next }
    { for (i = 1; i <= length($0); i++) { c = substr($0, i, 1); m++; if (c == top) hit++
        nll -= log(p[c] > 0 ? p[c] : 1 / total) } }
    END { printf "%.4f %.3f\n", hit / m, exp(nll / m) }'
}
read -r uacc_id uppl_id <<< "$(unigram "$test_id")"
read -r uacc_ood uppl_ood <<< "$(unigram "$test_ood")"

# the table: one row per (direction, attention, seed), and the paper's layout in markdown
{
  echo "direction,attention,seed,test_accuracy,test_perplexity,ood_accuracy,ood_perplexity"
  for dir in bidir causal; do echo "$dir,unigram,,$uacc_id,$uppl_id,$uacc_ood,$uppl_ood"; done
  for r in "${runs[@]}"; do
    IFS=: read -r dir att seed <<< "$r"
    run="$out/$dir-$att-s$seed"
    [ -f "$run/test_ood.json" ] || continue
    echo "$dir,$att,$seed,$(field "$run/test_id.json" accuracy),$(field "$run/test_id.json" perplexity),$(field "$run/test_ood.json" accuracy),$(field "$run/test_ood.json" perplexity)"
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
for dir in bidir causal; do
  list=()
  for r in "${runs[@]}"; do
    IFS=: read -r d att seed <<< "$r"
    [ "$d" = "$dir" ] && [ -f "$out/$d-$att-s$seed/log.csv" ] && list+=("$out/$d-$att-s$seed")
  done
  [ ${#list[@]} -gt 0 ] && "$here/performer" plot-runs --runs "$(IFS=,; echo "${list[*]}")" --metric accuracy \
      --out "$out/valid_accuracy_$dir.png" --title "Validation accuracy, $dir, 2 x 128, L 1024 (Swiss-Prot u50)" > /dev/null
done
cat "$out/table.md"
