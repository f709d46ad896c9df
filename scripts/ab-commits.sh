#!/usr/bin/env bash
# Times one `performer bench` command on two builds, alternately, in one sitting: the jar of an older
# commit (built in a temporary git worktree) and this checkout's performer-cli/target/performer.jar
# (build it first: mvn -q -B install -DskipTests). Alternating old, new, old, new, ... puts a drifting
# machine's speed on both alike.
#
#   scripts/ab-commits.sh OLD_COMMIT OUT_DIR ROUNDS bench-args...
#   scripts/ab-commits.sh f39e72e results/gemm-14x2/gemm 2 --scope gemm --L 1024,4096 --square 1024,2048
#
# Writes OUT_DIR/old-N/ and OUT_DIR/new-N/ (each bench's CSV and JSON, with the FMA peak measured at
# its start), OUT_DIR/old-N.txt and new-N.txt (what it printed) and OUT_DIR/summary.tsv: one row per
# bench row and round, the build, its median in ms (GFLOP/s for gemm) and the peak of that run.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: scripts/ab-commits.sh OLD_COMMIT OUT_DIR ROUNDS bench-args..." >&2
  exit 2
fi
old=$1 out=$2 rounds=$3
shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/scripts/find-jdk.sh"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
git -C "$here" rev-parse --verify -q "$old^{commit}" >/dev/null || { echo "error: OLD_COMMIT '$old' is not a commit" >&2; exit 2; }
case $rounds in ''|*[!0-9]*) echo "error: ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2;; esac
new_jar="$here/performer-cli/target/performer.jar"
[ -f "$new_jar" ] || { echo "error: $new_jar missing: run mvn -q -B install -DskipTests first" >&2; exit 2; }
tree=$(mktemp -d /tmp/ab-old.XXXXXX)
trap 'git -C "$here" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
git -C "$here" worktree add -f -q --detach "$tree" "$old"
(cd "$tree" && mvn -o -q -B package -DskipTests >/dev/null)
old_jar="$tree/performer-cli/target/performer.jar"
mkdir -p "$out"
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else export OPENBLAS_CORETYPE=Haswell; fi
for i in $(seq 1 "$rounds"); do
  for build in old new; do
    jar=$new_jar; [ $build = old ] && jar=$old_jar
    echo "round $i/$rounds: $build" >&2
    java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$jar" bench "$@" \
      --out "$out/$build-$i" 2>&1 | grep -v "incubator modules" > "$out/$build-$i.txt"
  done
done
python3 - "$out" "$rounds" "$old" <<'PY'
import csv, json, os, sys
out, rounds, old = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keys = ["scope", "model", "method", "direction", "pass", "shape", "L", "split", "samples"]
lines = []
for i in range(1, rounds + 1):
    for build in ("old", "new"):
        d = os.path.join(out, f"{build}-{i}")
        peak = json.load(open(os.path.join(d, "bench.json")))["meta"].get("fma_peak_gflops", "")
        for r in csv.DictReader(open(os.path.join(d, "bench.csv"))):
            what = " ".join(f"{k}={r[k]}" for k in keys if r.get(k))
            value = r.get("median_ms") or r.get("vector_gflops") or r.get("tokens_per_s", "")
            lines.append(f"{what}\t{build}\t{i}\t{value}\t{peak}")
lines.sort(key=lambda s: (s.split("\t")[0], s.split("\t")[2], s.split("\t")[1] != "old"))
with open(os.path.join(out, "summary.tsv"), "w") as f:
    f.write(f"point\tbuild (old = {old})\tround\tmedian_ms (gemm: GFLOP/s)\tfma_peak_gflops\n")
    f.write("\n".join(lines) + "\n")
print(open(os.path.join(out, "summary.tsv")).read())
PY
