# Shared by the protein experiments (scripts/table2.sh, finetune.sh, ...): the corpus splits, Table 2's model,
# and one resumable run (train, then evaluate on the test and OOD splits). Sourced, not run; expects $here (the
# project root). Env: CORPUS (default ../shared/data/proteins/corpus).
corpus="${CORPUS:-$here/../shared/data/proteins/corpus}"
train="$corpus/swissprot2014_u50_train.fasta.gz"
valid="$corpus/swissprot2014_u50_valid.fasta.gz"
test_id="$corpus/swissprot2014_u50_test_id.fasta.gz"
test_ood="$corpus/swissprot2014_u50_test_ood_open.fasta.gz"
for f in "$train" "$valid" "$test_id" "$test_ood"; do
  [ -r "$f" ] || { echo "error: $f not found (set CORPUS to the folder of the Swiss-Prot corpus splits)" >&2; exit 2; }
done

# Table 2's model and optimizer: 2 blocks of width 128, 4 heads, L 1024 (longer records cropped to a random window,
# shorter ones padded), 8 sequences per step
table2_model=(--L 1024 --batch 8 --layers 2 --width 128 --heads 4 --ffn 256 --features 64 --dropout 0.1 --lr 1e-3
              --clip 1.0 --layout pad)

positive_int() {  # $1: name, $2: value
  case "$2" in ''|*[!0-9]*|0) echo "error: $1 must be a positive integer, got '$2'" >&2; exit 2;; esac
}

logs="$(mktemp -d)"   # progress bars stay out of results/
trap 'rm -rf "$logs"' EXIT

# evaluate CHECKPOINT DEST [eval options...]: DEST/test_id.json and DEST/test_ood.json (each written whole)
evaluate() {
  local ck="$1" dest="$2"; shift 2
  mkdir -p "$dest"
  for split in test_id test_ood; do
    [ -f "$dest/$split.json" ] && continue
    local f="$test_id"; [ "$split" = test_ood ] && f="$test_ood"
    "$here/performer" eval --checkpoint "$ck" --data "$f" --json "$@" > "$logs/$split.json" 2> "$logs/eval.err" \
      || { tail -n 5 "$logs/eval.err" >&2; exit 1; }
    mv "$logs/$split.json" "$dest/$split.json"
  done
}

# train_run RUN [train options...]: trains RUN (resuming it when interrupted), evaluates its last checkpoint on the
# test and OOD splits, then deletes its checkpoints (weights are not kept in the repository) unless KEEP_WEIGHTS=1.
# A run whose test_ood.json exists is done and skipped.
train_run() {
  local run="$1" name; shift
  name="$(basename "$run")"
  if [ -f "$run/test_ood.json" ]; then echo "$name: done"; return; fi
  if ! grep -qs '^done:' "$run/output.txt"; then   # trained, but interrupted while evaluating: evaluate only
    local resume=()
    if ls "$run"/checkpoint-*.safetensors >/dev/null 2>&1; then resume=(--resume)
    else rm -f "$run/log.csv" "$run/output.txt"; fi   # killed before its first checkpoint: start again
    echo "$name: training${resume:+ (resuming)}"
    "$here/performer" train --valid "$valid" "$@" --run "$run" "${resume[@]}" > "$logs/out" 2> "$logs/$name.err" \
      || { tail -n 5 "$logs/$name.err" >&2; exit 1; }
    cat "$logs/out" >> "$run/output.txt"
  fi
  evaluate "$run" "$run"
  [ "${KEEP_WEIGHTS:-0}" = 1 ] || rm -f "$run"/checkpoint-*.safetensors
  echo "$name: $(cat "$run/test_id.json")"
}

. "$here/scripts/lib/tables.sh"   # field, tables
