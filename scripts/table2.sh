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
corpus="${CORPUS:-$here/../shared/data/proteins/corpus}"
out="${OUT:-$here/results/table2}"
train="$corpus/swissprot2014_u50_train.fasta.gz"
valid="$corpus/swissprot2014_u50_valid.fasta.gz"
test_id="$corpus/swissprot2014_u50_test_id.fasta.gz"
test_ood="$corpus/swissprot2014_u50_test_ood_open.fasta.gz"
for f in "$train" "$valid" "$test_id" "$test_ood"; do
  [ -r "$f" ] || { echo "error: $f not found (set CORPUS to the folder of the Swiss-Prot corpus splits)" >&2; exit 2; }
done
case "$steps" in ''|*[!0-9]*) echo "error: STEPS must be a positive integer, got '$steps'" >&2; exit 2;; esac
mkdir -p "$out"
logs="$(mktemp -d)"   # progress bars stay out of results/
trap 'rm -rf "$logs"' EXIT

model=(--L 1024 --batch 8 --layers 2 --width 128 --heads 4 --ffn 256 --features 64 --dropout 0.1 --lr 1e-3
       --clip 1.0 --layout pad --steps "$steps" --eval-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --eval-batches 20
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
  name="$dir-$att-s$seed"
  run="$out/$name"
  if [ -f "$run/test_ood.json" ]; then echo "$name: done"; continue; fi
  resume=()
  ls "$run"/checkpoint-*.safetensors >/dev/null 2>&1 && resume=(--resume)
  echo "$name: training${resume:+ (resuming)}"
  "$here/performer" train --data "$train" --valid "$valid" --attention "$att" --direction "$dir" --seed "$seed" \
      "${model[@]}" --run "$run" "${resume[@]}" > "$logs/out" 2> "$logs/$name.err" \
    || { tail -n 5 "$logs/$name.err" >&2; exit 1; }
  cat "$logs/out" >> "$run/output.txt"
  for split in test_id test_ood; do
    f="$test_id"; [ "$split" = test_ood ] && f="$test_ood"
    "$here/performer" eval --checkpoint "$run" --data "$f" --json > "$logs/$split.json" 2> "$logs/$name.eval.err" \
      || { tail -n 5 "$logs/$name.eval.err" >&2; exit 1; }
    mv "$logs/$split.json" "$run/$split.json"
  done
  rm -f "$run"/checkpoint-*.safetensors   # weights are not kept in the repository
  echo "$name: $(cat "$run/test_id.json")"
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
field() { sed -n "s/.*\"$2\": \([0-9.eE+-]*\).*/\1/p" "$1"; }
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
awk -F, 'NR == 1 { next } { printf "%s{\"direction\": \"%s\", \"attention\": \"%s\", \"seed\": \"%s\", \"test_accuracy\": %s, \"test_perplexity\": %s, \"ood_accuracy\": %s, \"ood_perplexity\": %s}", (n++ ? ",\n  " : "[\n  "), $1, $2, $3, $4, $5, $6, $7 } END { print "\n]" }' \
  "$out/table.csv" > "$out/table.json.tmp" && mv "$out/table.json.tmp" "$out/table.json"
{
  echo "| direction | attention | seed | test accuracy | test perplexity | OOD accuracy | OOD perplexity |"
  echo "|---|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { printf "| %s | %s | %s | %.3f | %.2f | %.3f | %.2f |\n", $1, $2, $3, $4, $5, $6, $7 }' "$out/table.csv"
} > "$out/table.md"
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
