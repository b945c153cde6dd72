#!/usr/bin/env bash
# redis-benchmark against one node of the local AkkaKv cluster and, in the same run, against a
# local redis-server (appendonly yes) on another loopback port; prints both and the ratio.
#   ./cluster.sh start && tests/AkkaKv.Benchmarks/resp-vs-redis.sh [requests, default 100000]
# Needs redis-tools and redis-server (apt-get install redis-tools redis-server). Starts its own
# redis-server on 127.0.0.1:${REDIS_PORT:-6390} with its data in a temp dir, and stops it (by PID).
set -euo pipefail
N=${1:-100000}
AKKAKV_PORT=${AKKAKV_RESP_PORT:-6381}
REDIS_PORT=${REDIS_PORT:-6390}
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing: apt-get install redis-tools" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install redis-server" >&2; exit 2; }
redis-cli -p "$AKKAKV_PORT" PING >/dev/null || { echo "no AkkaKv node on 127.0.0.1:$AKKAKV_PORT: ./cluster.sh start" >&2; exit 2; }

dir=$(mktemp -d)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --appendonly yes --save '' --daemonize no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done

run() { # port label
  echo "== $2: redis-benchmark -p $1 -t set,get -n $N -c 50 -d 100 -r 100000" >&2
  redis-benchmark -p "$1" -t set,get -n "$N" -c 50 -d 100 -r 100000 --csv | tr -d '"' | awk -F, -v l="$2" 'NR>1 {print l","$1","$2","$5","$7}'
}
{ run "$AKKAKV_PORT" akkakv; run "$REDIS_PORT" redis; } > "$dir/results.csv"
echo "target,test,ops/s,p50 ms,p99 ms"
cat "$dir/results.csv"
awk -F, '{rps[$1","$2]=$3} END {for (t in rps) if (t ~ /^akkakv,/) {split(t,a,","); printf "ratio %s: akkakv/redis = %.4f (redis is %.0fx faster)\n", a[2], rps[t]/rps["redis,"a[2]], rps["redis,"a[2]]/rps[t]}}' "$dir/results.csv"
