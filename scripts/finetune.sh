#!/usr/bin/env bash
# From a Transformer to a Performer (the paper's backward compatibility, its Figure 5) at Table 2's scale: a
# bidirectional exact-attention model is trained (Table 2's bidir exact seed-0 run: the same options, seed and
# token budget), then its weights are put under FAVOR+ softmax: zero-shot (no step), and fine-tuned for a few
# steps; against it, the exact model continued for the same steps (the same fresh optimizer and schedule), and a
# FAVOR+ model trained from scratch for those steps. Validation accuracy against step as a plot, test and OOD
# metrics of every arm as a table.
#
# Usage: scripts/finetune.sh [PRETRAIN_STEPS] [FINETUNE_STEPS]     (defaults 500 and 100)
# Resumable: run it again; finished parts are skipped, an interrupted run resumes from its last checkpoint.
# Writes results/finetune/: exact/ (the pretrained model), zero-shot/ (its weights under FAVOR+, evaluated
# only), zero-shot-opt/ (the same under FAVOR++, favor-softmax-opt), favor-from-exact/, exact-continued/, favor-from-scratch/ (log.csv, loss.png, output.txt, test_id.json,
# test_ood.json), table.csv, table.json, table.md, valid_accuracy.png.
# Env: CORPUS (default ../shared/data/proteins/corpus), OUT (default results/finetune).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pre="${1:-500}"
ft="${2:-100}"
. "$here/scripts/lib/proteins.sh"
positive_int PRETRAIN_STEPS "$pre"
positive_int FINETUNE_STEPS "$ft"
out="${OUT:-$here/results/finetune}"
mkdir -p "$out"
echo "finetune: an exact model of $pre steps (about $(( pre * 8192 / 6000 / 60 + 7 )) minutes with its evaluation), then"
echo "3 arms of $ft steps (about $(( ft * 8192 * (2 * 18000 + 6000) / 18000 / 6000 / 60 + 15 )) minutes with evaluations) on 2 cores; resumable (run it again)."

every=$(( ft / 10 > 0 ? ft / 10 : 1 ))
# the pretrained model keeps its last checkpoint: the other arms start from it
KEEP_WEIGHTS=1 train_run "$out/exact" --data "$train" --attention exact --direction bidir --seed 0 \
    "${table2_model[@]}" --steps "$pre" --eval-every $(( pre / 10 > 0 ? pre / 10 : 1 )) --eval-batches 20 \
    --checkpoint-every 50
t2="$here/results/table2/bidir-exact-s0/test_id.json"   # the same run in Table 2: the same numbers, if reproducible
[ -f "$t2" ] && [ "$pre" = 500 ] && { cmp -s "$t2" "$out/exact/test_id.json" \
  && echo "exact: test metrics identical to Table 2's bidir-exact-s0" || echo "exact: test metrics differ from $t2"; }
ck="$out/exact/checkpoint-$(printf %07d "$pre").safetensors"
[ -f "$ck" ] || { echo "error: $ck is missing (delete $out/exact and run again to retrain it)" >&2; exit 1; }
# seed 1: the fine-tuning runs draw their own batches (not the pretraining's first ones) and FAVOR+ features
tune=(--data "$train" --init-from "$ck" --seed 1 --steps "$ft" --eval-every "$every" --eval-batches 20
      --checkpoint-every 25 --features 64 --batch 8 --lr 1e-3 --clip 1.0 --dropout 0.1 --layout pad)
echo "zero-shot: evaluating"
evaluate "$ck" "$out/zero-shot" --attention favor-softmax --features 64 --seed 1
evaluate "$ck" "$out/zero-shot-opt" --attention favor-softmax-opt --features 64 --seed 1
train_run "$out/favor-from-exact" "${tune[@]}" --attention favor-softmax
train_run "$out/exact-continued" "${tune[@]}" --attention exact
train_run "$out/favor-from-scratch" --data "$train" --attention favor-softmax --direction bidir --seed 1 \
    "${table2_model[@]}" --steps "$ft" --eval-every "$every" --eval-batches 20 --checkpoint-every 25

arms=(exact zero-shot zero-shot-opt favor-from-exact exact-continued favor-from-scratch)
steps_of() { case "$1" in exact) echo "$pre";; zero-shot*) echo "$pre + 0";; favor-from-scratch) echo "$ft";;
             *) echo "$pre + $ft";; esac; }
{
  echo "arm,attention,steps,test_accuracy,test_perplexity,ood_accuracy,ood_perplexity"
  for a in "${arms[@]}"; do
    att=favor-softmax; case "$a" in exact*) att=exact;; *-opt) att=favor-softmax-opt;; esac
    d="$out/$a"
    echo "$a,$att,$(steps_of "$a"),$(field "$d/test_id.json" accuracy),$(field "$d/test_id.json" perplexity),$(field "$d/test_ood.json" accuracy),$(field "$d/test_ood.json" perplexity)"
  done
} > "$out/table.csv.tmp" && mv "$out/table.csv.tmp" "$out/table.csv"
tables "$out"
"$here/performer" plot-runs --runs "$out/favor-from-exact,$out/exact-continued,$out/favor-from-scratch" \
    --labels "FAVOR+ from the exact weights,exact continued,FAVOR+ from scratch" --metric accuracy \
    --out "$out/valid_accuracy.png" \
    --title "From exact attention to FAVOR+: validation accuracy after $pre exact steps" > /dev/null
cat "$out/table.md"
