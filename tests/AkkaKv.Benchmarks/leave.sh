#!/usr/bin/env bash
# The figure of issue 14: `akkakv leave` of one node of four holding 100k keys, under load.
#   tests/AkkaKv.Benchmarks/leave.sh [keys]      (default 100000)
# Starts its own 4-node cluster (./cluster.sh with AKKAKV_CLUSTER_SIZE=4, ports offset by 300, data
# in a temp dir), writes the keys once (W=2), then runs `akkakv leave n4 --wait` while a bounded
# loadgen (W=2 puts and R=2 gets through n1..n3) measures the latency; prints the leave's time,
# keys and bytes moved, and the load's p50/p99. Stops the cluster and deletes its data at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEYS=${1:-100000}
export AKKAKV_CLUSTER_SIZE=4 AKKAKV_PORT_OFFSET=300 AKKAKV_DATA
AKKAKV_DATA=$(mktemp -d /tmp/akkakv-leave.XXXXXX)
STAY=127.0.0.1:4301,127.0.0.1:4302,127.0.0.1:4303
ALL=$STAY,127.0.0.1:4304
cleanup() { ./cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$AKKAKV_DATA"; }
trap cleanup EXIT
./cluster.sh build
./cluster.sh start
echo "== writing $KEYS keys (W=2)"
./akkakv --nodes "$ALL" fill --keys "$KEYS" --concurrency 32 --value-size 100 --w 2 | tail -3
./akkakv --nodes "$STAY" status | sed -n '/replica slots per node/,/partitions held/p'
echo "== leave n4 --wait, with load through n1..n3"
./akkakv --nodes "$STAY" loadgen --duration 90 --concurrency 16 --keys "$KEYS" --get-ratio 0.5 --w 2 --r 2 > "$AKKAKV_DATA/load.txt" &
LOAD=$!
start=$(date +%s.%N)
./akkakv --nodes "$STAY" leave n4 --wait --max-wait 900 | tee "$AKKAKV_DATA/leave.txt" | awk 'NR % 5 == 1 || /left in/'
end=$(date +%s.%N)
wait "$LOAD"
echo "== load during the leave (loadgen, 90 s from the leave's start)"
cat "$AKKAKV_DATA/load.txt"
echo "== leave: $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s from the command to a settled cluster"
grep "left in" "$AKKAKV_DATA/leave.txt"
