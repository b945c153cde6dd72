#!/usr/bin/env bash
# Mirrors /work/main/cluster.sh start_node + wait_up + wait_settled, minus the build step
# (the .build outputs are newer than the sources; cluster.sh's staleness check trips on obj/ files
# and would run `dotnet build` inside the read-only repo).
set -euo pipefail
cd /work/main
DATA=/tmp/profile/data
SEEDS=(--seed 127.0.0.1:4001 --seed 127.0.0.1:4002 --seed 127.0.0.1:4003)
for i in 1 2 3; do
  n=n$i; mkdir -p $DATA/$n; touch $DATA/$n/node.log
  if [[ -f $DATA/$n/pid ]] && kill -0 "$(cat $DATA/$n/pid)" 2>/dev/null; then echo "$n already running"; continue; fi
  DOTNET_PerfMapEnabled=1 DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 nohup dotnet ${NODE_DLL:-.build/host/akkakv-node.dll} --name $n --host 127.0.0.1 --port $((4000+i)) --resp-port $((6380+i)) "${SEEDS[@]}" --data-dir $DATA/$n ${HTTP_PORTS:+--http-port $((8000+i))} >>$DATA/$n/node.log 2>&1 </dev/null &
  echo $! > $DATA/$n/pid; echo "started $n pid $!"
done
for i in 1 2 3; do
  n=n$i; deadline=$((SECONDS+90))
  until grep -q "member up" $DATA/$n/node.log; do (( SECONDS > deadline )) && { echo "$n not up"; exit 1; }; sleep 0.5; done
done
deadline=$((SECONDS+120))
while (( SECONDS < deadline )); do
  out=$(./akkakv --nodes 127.0.0.1:4001 status 2>/dev/null || true)
  if grep -q "^unallocated slots: 0 " <<<"$out" && grep -q "ring position: 0$" <<<"$out" && grep -q "^co-located partitions: 0$" <<<"$out"; then echo settled; exit 0; fi
  sleep 1
done
echo "not settled after 120 s"
