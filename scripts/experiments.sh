#!/usr/bin/env bash
# Every experiment of the paper's comparisons, one after the other, each resumable (run this again after an
# interruption: finished parts are skipped): Table 2 (scripts/table2.sh, about two hours), feature redrawing
# (scripts/redraw.sh, about 25 minutes beyond Table 2), from a Transformer to a Performer (scripts/finetune.sh,
# about 40 minutes), L = 8192 (scripts/long.sh, about 60 minutes), FAVOR++ against FAVOR+ (scripts/oprf.sh,
# about 30 minutes; it compares with Table 2's runs), image generation on Fashion-MNIST (scripts/images.sh, about
# 65 minutes; needs the package dataset-fashion-mnist) and a byte-level model (scripts/bytes.sh, a few minutes).
# Results under results/<experiment>/.
# Usage: scripts/experiments.sh [table2|redraw|finetune|long|oprf|images|bytes ...]   (default: all, in this order)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
list=("$@")
[ ${#list[@]} -gt 0 ] || list=(table2 redraw finetune long oprf images bytes)
for e in "${list[@]}"; do
  case "$e" in table2|redraw|finetune|long|oprf|images|bytes) ;;
    *) echo "error: unknown experiment '$e' (table2, redraw, finetune, long, oprf, images, bytes)" >&2; exit 2;; esac
done
for e in "${list[@]}"; do
  echo "== $e ($(date -u +%H:%M) UTC)"
  "$here/scripts/$e.sh"
done
