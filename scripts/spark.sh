#!/usr/bin/env bash
# Spark measurements (issue 11) into $OUT (default results/spark): embedding throughput of the CLI, of
# one JVM, of Spark local[1], local[2] and a two-worker standalone cluster on 127.0.0.1, on the same data
# (Swiss-Prot u50 test_id, 3,378 records); training step time of the single-JVM trainer against Spark
# (1 and 2 shards, accumulation, local SGD) for widths 128, 256, 512, locally and on the cluster.
# About 25 minutes on 2 cores. Run nothing else meanwhile.
# Usage: scripts/spark.sh            (env: OUT, DATA=a FASTA file, WIDTHS=128,256,512, REPEAT=3, SMOKE=1)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$here/results/spark}"
work="${WORK:-${TMPDIR:-/tmp}/performer-spark-bench}"   # the data copy and the model: not results
mkdir -p "$out" "$work"
p="$here/performer"
corpus=/work/shared/data/proteins/corpus/swissprot2014_u50_test_id.fasta.gz
data="${DATA:-}"
if [ -z "$data" ]; then
  data="$work/test_id.fasta"   # plain text: binaryFiles reads it as one file either way
  [ -f "$data" ] || zcat "$corpus" > "$data"
fi
widths="${WIDTHS:-128,256,512}" repeat="${REPEAT:-3}" steps=12 warmup=4
if [ -n "${SMOKE:-}" ]; then widths=64; repeat=1; steps=3; warmup=1; fi
"$p" spark --version >/dev/null   # build first, outside the timings
"$p" info --peak > "$out/machine.txt"
cat "$out/machine.txt"
rm -f "$out/embed.tsv" "$out/train.tsv" "$out/cli-times.txt"
[ -d "$work/model" ] || "$p" train --steps 20 --run "$work/model" > "$work/model.log"

# the CLI command as a user runs it (JVM start included), REPEAT times
for i in $(seq 1 "$repeat"); do
  t0=$(date +%s.%N)
  "$p" embed --checkpoint "$work/model" --data "$data" --out "$work/cli.npy" > /dev/null
  t1=$(date +%s.%N)
  echo "performer embed run $i: $(echo "$t1 - $t0" | bc) s" | tee -a "$out/cli-times.txt"
done
"$p" spark bench --what embed --data "$data" --checkpoint "$work/model" --master 'local[1]' --repeat "$repeat" \
  --out "$out/embed.tsv"
"$p" spark bench --what embed --data "$data" --checkpoint "$work/model" --master 'local[2]' --repeat "$repeat" \
  --no-single --out "$out/embed.tsv"
"$p" spark bench --what train --widths "$widths" --steps "$steps" --warmup "$warmup" --master 'local[2]' \
  --out "$out/train.tsv"

master=$("$here/scripts/spark-cluster.sh" start)
trap '"$here/scripts/spark-cluster.sh" stop' EXIT
export PERFORMER_JAVA_OPTS="-Dspark.jars=$here/performer-spark/target/performer-spark.jar"
"$p" spark bench --what embed --data "$data" --checkpoint "$work/model" --master "$master" --label cluster-2x1 \
  --repeat "$repeat" --no-single --out "$out/embed.tsv"
"$p" spark bench --what train --widths "$widths" --steps "$steps" --warmup "$warmup" --master "$master" \
  --label cluster-2x1 --no-single --out "$out/train.tsv"
column -t -s $'\t' "$out/embed.tsv"
column -t -s $'\t' "$out/train.tsv"
