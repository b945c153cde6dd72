#!/usr/bin/env bash
# SET latency and node CPU as the number of clients grows, on one fresh 3-node cluster:
#   tests/AkkaKv.Benchmarks/concurrency-sweep.sh [clients ...]        (default: 1 5 10 20 50)
# Starts ./cluster.sh on its own ports and data dir, writes 20,000 warm-up SETs, then for each
# client count runs `redis-benchmark -t set -d 100 -r 100000 -c C` against n1 (20,000 requests;
# 3,000 below 5 clients) and prints SET/s, p50/p95/p99, how many of the box's cores the three
# nodes kept busy and their CPU per SET (from /proc/<pid>/stat over the step). Stops the cluster.
# Environment: AKKAKV_PORT_OFFSET (3100), AKKAKV_CONFIG, AKKAKV_NODE_DLL, as for cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark (apt-get install -y redis-tools)" >&2; exit 2; }
export AKKAKV_PORT_OFFSET=${AKKAKV_PORT_OFFSET:-3100}
export AKKAKV_DATA=$(mktemp -d /tmp/akkakv-sweep-XXXXXX)
PORT=$((6381 + AKKAKV_PORT_OFFSET))
CLIENTS=("$@"); (( ${#CLIENTS[@]} )) || CLIENTS=(1 5 10 20 50)
trap './cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$AKKAKV_DATA"' EXIT
./cluster.sh start >/dev/null
mapfile -t PIDS < <(cat "$AKKAKV_DATA"/n*/pid)
ticks() { local t=0 p; for p in "${PIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
timeout 300 redis-benchmark -p "$PORT" -t set -n 20000 -c 50 -d 100 -r 100000 -q >/dev/null
hz=$(getconf CLK_TCK)
printf '%-8s %8s %8s %8s %8s %12s %14s\n' clients SET/s p50_ms p95_ms p99_ms cores_busy cpu_per_set_ms
for c in "${CLIENTS[@]}"; do
  n=$(( c < 5 ? 3000 : 20000 ))
  t0=$(ticks); s=$(date +%s.%N)
  # the latency summary line: avg min p50 p95 p99 max
  line=$(timeout 300 redis-benchmark -p "$PORT" -t set -n "$n" -c "$c" -d 100 -r 100000 | grep -E '^ +[0-9.]+( +[0-9.]+){5} *$' | tail -1)
  e=$(date +%s.%N); t1=$(ticks)
  read -r _ _ p50 p95 p99 _ <<<"$line"
  awk -v c="$c" -v n="$n" -v s="$s" -v e="$e" -v dt=$((t1 - t0)) -v hz="$hz" -v p50="$p50" -v p95="$p95" -v p99="$p99" \
    'BEGIN { w = e - s; printf "%-8d %8.0f %8.1f %8.1f %8.1f %12.2f %14.2f\n", c, n / w, p50, p95, p99, dt / hz / w, dt / hz * 1000 / n }'
done
