#!/usr/bin/env bash
# One-node outage under load: availability (sloppy or strict), hints created, drain time.
#   tests/AkkaKv.Benchmarks/outage.sh [cluster size, default 3] [sloppy 0|1, default 1] [outage seconds, default 30]
# Starts a fresh local cluster (./cluster.sh, data under ./data is DELETED), kills n2 with -9, runs
# ./akkakv loadgen against the cluster for the outage, then restarts n2 and polls status until
# every hint has drained. The split-brain resolver's stable-after is raised to 120 s for the run,
# so that n2 stays a member (unreachable) for the whole outage and its hints drain to n2 itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-3}; SLOPPY=${2:-1}; OUTAGE=${3:-30}
NODES=$(for i in $(seq 1 "$SIZE"); do echo -n "127.0.0.1:$((4000 + i)),"; done); NODES=${NODES%,}
conf=$(mktemp); echo 'akka.cluster.split-brain-resolver.stable-after = 120s' > "$conf"
trap 'rm -f "$conf"' EXIT
./cluster.sh stop >/dev/null 2>&1 || true
rm -rf data
AKKAKV_CLUSTER_SIZE=$SIZE AKKAKV_CONFIG=$conf ./cluster.sh start >/dev/null
held() { ./akkakv --nodes 127.0.0.1:4001 status | awk '/holds [0-9]+ hint/ {for (i=1;i<=NF;i++) if ($i=="holds") s+=$(i+1)} END {print s+0}'; }
echo "== $SIZE nodes, sloppy=$SLOPPY, W=2 R=2: kill -9 n2, then ${OUTAGE} s of load (16 clients, 50% gets)"
./cluster.sh kill n2 >/dev/null
kill_at=$(date +%s.%N)
./akkakv --nodes "$NODES" loadgen --duration "$OUTAGE" --concurrency 16 --keys 10000 --value-size 100 --get-ratio 0.5 --seed 7 --w 2 --r 2 --sloppy "$SLOPPY" --timeout 5000
h=$(held); echo "hints held at the end of the outage: $h"
back=$(date +%s.%N)
AKKAKV_CLUSTER_SIZE=$SIZE AKKAKV_CONFIG=$conf ./cluster.sh start-node n2 > data/restart.log 2>&1 &
restart=$!
until grep -q "is up" data/restart.log 2>/dev/null; do sleep 0.2; done
up=$(date +%s.%N)
deadline=$((SECONDS + 300))
while (( $(held) > 0 )) && (( SECONDS < deadline )); do sleep 0.5; done
drained=$(date +%s.%N)
wait "$restart" || true
echo "n2 restarted: member up after $(echo "$up - $back" | bc) s; every hint drained $(echo "$drained - $back" | bc) s after the restart began ($(echo "$drained - $up" | bc) s after member up; left: $(held))"
AKKAKV_CLUSTER_SIZE=$SIZE ./cluster.sh stop >/dev/null
