#!/usr/bin/env bash
# A Spark standalone cluster on this machine, for the measurements of scripts/spark.sh (and to try
# performer spark on a real master): one Master and WORKERS Workers (default 2, CORES each, default 1)
# on 127.0.0.1, started from performer-spark's Maven classpath (no Spark download: SPARK_HOME is a
# folder of links to those jars).
# Usage: scripts/spark-cluster.sh start   (prints the master URL; state in $CLUSTER, default /tmp/performer-spark-cluster)
#        scripts/spark-cluster.sh stop    (stops the Workers, their executors and the Master by process id)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/scripts/find-jdk.sh"
dir="${CLUSTER:-/tmp/performer-spark-cluster}"
workers="${WORKERS:-2}" cores="${CORES:-1}" memory="${WORKER_MEMORY:-4g}" port="${PORT:-7077}"
case "${1:-}" in
  start)
    cp_file="$here/performer-spark/target/classpath.txt"
    [ -f "$cp_file" ] || "$here/performer" spark --version >/dev/null   # builds the module and the classpath
    mkdir -p "$dir/spark-home/jars" "$dir/logs"
    tr ':' '\n' < "$cp_file" | while read -r j; do
      case "$j" in *.jar) ln -sf "$j" "$dir/spark-home/jars/$(basename "$j")";; esac
    done
    opts=$(sed -n 's:.*<spark.jvm.options>\(.*\)</spark.jvm.options>.*:\1:p' "$here/performer-spark/pom.xml")
    export SPARK_HOME="$dir/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
    run() {  # name, class, args...
      local name="$1"; shift
      # shellcheck disable=SC2086
      nohup "$JAVA_HOME/bin/java" $opts -Xmx1g -cp "$(cat "$cp_file")" "$@" > "$dir/logs/$name.log" 2>&1 &
      echo $! > "$dir/$name.pid"
    }
    wait_for() {  # log, text
      for _ in $(seq 1 120); do grep -q "$2" "$dir/logs/$1.log" 2>/dev/null && return 0; sleep 0.5; done
      echo "error: $1 did not start (see $dir/logs/$1.log)" >&2; exit 1
    }
    run master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 8080
    wait_for master "I have been elected leader"
    for i in $(seq 1 "$workers"); do
      run "worker$i" org.apache.spark.deploy.worker.Worker "spark://127.0.0.1:$port" --host 127.0.0.1 \
        --cores "$cores" --memory "$memory" --webui-port $((8080 + i)) --work-dir "$dir/work$i"
      wait_for "worker$i" "Successfully registered with master"
    done
    echo "spark://127.0.0.1:$port"
    ;;
  stop)
    for f in "$dir"/worker*.pid "$dir"/master.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      pkill -TERM -P "$pid" 2>/dev/null || true   # a Worker's executors
      kill "$pid" 2>/dev/null || true
      rm -f "$f"
    done
    ;;
  *) echo "usage: scripts/spark-cluster.sh start|stop" >&2; exit 2;;
esac
