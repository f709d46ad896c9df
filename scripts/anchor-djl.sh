#!/usr/bin/env bash
# This project against the JVM user's alternative, DJL 0.36 on libtorch 2.7.1 (the team's anchor in
# /work/shared/anchors/djl, built outside the repository), back to back on the same shapes, each point
# in a fresh JVM of each: one attention layer (B 1, H 8, D 64, M 256), exact and FAVOR+ softmax,
# bidirectional and causal (DJL's causal FAVOR+: its chunked variant, the fairer anchor), forward and
# forward+backward, L 1024, 4096, 16384; one training step of the 4-layer, 256-wide model at L 1024 and
# 4096. Rows go to $OUT/sitting-<SITTING>.tsv with the ratio djl/ours (> 1: this project is faster).
# About 40 minutes on 2 cores; run nothing else meanwhile. Usage: scripts/anchor-djl.sh [SITTING]
# Env: OUT (default results/anchor-djl), LS (default "1024 4096 16384"), SMOKE=1 (L 1024 only, 2 reps),
#      POINT_TIMEOUT (seconds per DJL point, default 900: a point that does not finish is reported).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/scripts/find-jdk.sh"
sitting="${1:-1}"
out="${OUT:-$here/results/anchor-djl}"
anchor=/work/shared/anchors/djl
ls_="${LS:-1024 4096 16384}" reps=5 timeout_s="${POINT_TIMEOUT:-900}"
[ -n "${SMOKE:-}" ] && { ls_=1024; reps=2; }
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build="${DJL_ANCHOR_BUILD:-${TMPDIR:-/tmp}/djl-anchor}"
[ -f "$build/djl-anchor-1.jar" ] || DJL_ANCHOR_BUILD="$build" "$anchor/build.sh" >&2
p="$here/performer"
"$p" info --peak > "$out/machine-$sitting.txt"
tsv="$out/sitting-$sitting.tsv"
echo -e "what\tmethod\tdirection\tpass\tL\tours_ms\tdjl_ms\tdjl_over_ours\tours_rss_mb\tdjl_rss_mb\tdjl_status" > "$tsv"

ours() {  # scope method direction pass L [extra...] -> "median_ms rss_mb"
  local scope="$1" method="$2" dir="$3" pass="$4" l="$5"; shift 5
  rm -rf "$work/o"
  "$p" bench --scope "$scope" --methods "$method" --direction "$dir" --pass "$pass" --L "$l" --reps "$reps" \
    --out "$work/o" "$@" > "$work/o.log" 2>&1 || true
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["status"] == "ok" { print $col["median_ms"], $col["peak_rss_mb"]; found = 1 }
    END { if (!found) print "nan nan" }' "$work/o/bench.csv" 2>/dev/null || echo "nan nan"
}

djl() {  # what args... -> "median_ms rss_mb status"
  local line
  if line=$(DJL_ANCHOR_BUILD="$build" timeout "$timeout_s" "$anchor/run-djl.sh" "$@" --reps "$reps" 2> "$work/d.err" \
      | grep '^RESULT'); then
    echo "$line" | sed 's/^RESULT //' | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["median_ms"], r["peak_rss_mb"], "ok")'
  else
    echo "nan nan $(tail -1 "$work/d.err" | tr ' \t' '__' | cut -c1-60)"
  fi
}

row() {  # what method direction pass L ours(2) djl(3)
  local r
  r=$(python3 -c "import math,sys; o,d=float('$6'),float('$8'); print('%.2f' % (d/o) if o == o and d == d else 'nan')")
  echo -e "$1\t$2\t$3\t$4\t$5\t$6\t$8\t$r\t$7\t$9\t${10}" | tee -a "$tsv"
}

for l in $ls_; do
  for method in exact favor-softmax; do
    for dir in bidir causal; do
      for pass in fwd fwdbwd; do
        c=0; [ "$dir" = causal ] && c=1
        dm=exact; [ "$method" = favor-softmax ] && { dm=favor; [ "$c" = 1 ] && dm=favor-chunk; }
        read -r om orss <<< "$(ours layer "$method" "$dir" "$pass" "$l")"
        read -r dms drss dst <<< "$(djl layer --method "$dm" --causal "$c" --L "$l" --pass "$pass")"
        row layer "$method" "$dir" "$pass" "$l" "$om" "$orss" "$dms" "$drss" "$dst"
      done
    done
  done
done
for l in $ls_; do
  [ "$l" -gt 4096 ] && continue
  for method in exact favor-softmax; do
    dm=exact; [ "$method" = favor-softmax ] && dm=favor
    read -r om orss <<< "$(ours model "$method" bidir step "$l" --model train)"
    read -r dms drss dst <<< "$(djl model --method "$dm" --causal 0 --L "$l")"
    row model-step "$method" bidir step "$l" "$om" "$orss" "$dms" "$drss" "$dst"
  done
done
column -t -s $'\t' "$tsv"
