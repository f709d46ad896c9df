#!/usr/bin/env bash
# A byte-level language model (performer-pytorch's own example is one, on enwik8): a causal FAVOR+ model of the
# protein experiments' size trained on the raw bytes of a text, here the GNU GPL version 3 as Debian ships it
# (/usr/share/common-licenses/GPL-3, package base-files, present on every Debian system; 35 kB), its first 90% for
# training and its last 10% held out. Reports bits per byte on the held-out tail and prints samples continuing a
# prompt. It proves the path (any file in, text out), it is not a benchmark: the text is small enough to memorise.
#
# Usage: scripts/bytes.sh [STEPS]     (default 1500 steps of 8 x 256 bytes, a few minutes)
# Resumable: run it again. Writes results/bytes/: run/ (log.csv, loss.png in bits per byte, output.txt),
# valid.json (bits per byte on the held-out tail), samples.txt (three samples of 240 bytes continuing a prompt: with L = 256 learned positions, prompt and sample must fit).
# Env: TEXT (default /usr/share/common-licenses/GPL-3), OUT (default results/bytes), PROMPT.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-1500}"
case "$steps" in ''|*[!0-9]*|0) echo "error: STEPS must be a positive integer, got '$steps'" >&2; exit 2;; esac
text="${TEXT:-/usr/share/common-licenses/GPL-3}"
[ -r "$text" ] || { echo "error: $text not found (set TEXT to a text file)" >&2; exit 2; }
out="${OUT:-$here/results/bytes}"
prompt="${PROMPT:-This License }"
mkdir -p "$out"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
size="$(wc -c < "$text")"
cut=$(( size * 9 / 10 ))
head -c "$cut" "$text" > "$logs/train.txt"
tail -c +"$(( cut + 1 ))" "$text" > "$logs/valid.txt"
echo "bytes: $text ($size bytes): $cut for training, $(( size - cut )) held out; $steps steps"
run="$out/run"
if ! grep -qs '^done:' "$run/output.txt"; then
  resume=()
  if ls "$run"/checkpoint-*.safetensors > /dev/null 2>&1; then resume=(--resume); else rm -rf "$run"; fi
  "$here/performer" train --data "$logs/train.txt" --valid "$logs/valid.txt" --data-kind bytes --direction causal \
      --layout concat --L 256 --batch 8 --layers 2 --width 128 --heads 4 --ffn 256 --features 64 --dropout 0.1 \
      --lr 1e-3 --seed 0 --steps "$steps" --eval-every $(( steps / 15 > 0 ? steps / 15 : 1 )) --eval-batches 20 \
      --checkpoint-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --run "$run" "${resume[@]}" > "$logs/out" \
      2> "$logs/train.err" || { tail -n 5 "$logs/train.err" >&2; exit 1; }
  cat "$logs/out" >> "$run/output.txt"
fi
if [ ! -f "$out/valid.json" ]; then
  "$here/performer" eval --checkpoint "$run" --data "$logs/valid.txt" --json > "$logs/valid.json" 2> "$logs/eval.err" \
    || { tail -n 5 "$logs/eval.err" >&2; exit 1; }
  mv "$logs/valid.json" "$out/valid.json"
fi
if [ ! -f "$out/samples.txt" ]; then
  "$here/performer" generate --checkpoint "$run" --prompt "$prompt" --tokens 240 --samples 3 --temperature 0.8 \
      --seed 0 > "$logs/samples.txt" 2> "$logs/gen.err" || { tail -n 5 "$logs/gen.err" >&2; exit 1; }
  mv "$logs/samples.txt" "$out/samples.txt"
fi
[ "${KEEP_WEIGHTS:-0}" = 1 ] || rm -f "$run"/checkpoint-*.safetensors
cat "$out/valid.json"
cat "$out/samples.txt"
