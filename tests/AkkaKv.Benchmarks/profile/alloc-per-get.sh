#!/usr/bin/env bash
set -u
# Bytes allocated per GET on each node: tests/AkkaKv.Benchmarks/profile/alloc-per-get.sh <repo root with .build/host built> <tag>
# Starts a fresh 3-node cluster on 127.0.0.1:4001-4003 / RESP 6381-6383 (data in /tmp/ag-<tag>), 30,000 SETs, 50,000
# warm-up GETs, then dotnet-counters (System.Runtime) on every node around 100,000 GETs (redis-benchmark -c 50 -d 100
# -r 100000); prints the sum of dotnet.gc.heap.total_allocated per GET per node. Stops the nodes it started, by PID.
ROOT=$1; TAG=$2; D=/tmp/ag-$TAG; rm -rf $D; mkdir -p $D
SEEDS=(--seed 127.0.0.1:4001 --seed 127.0.0.1:4002 --seed 127.0.0.1:4003)
cd $ROOT
for i in 1 2 3; do n=n$i; mkdir -p $D/$n
  nohup dotnet .build/host/akkakv-node.dll --name $n --host 127.0.0.1 --port $((4000+i)) --resp-port $((6380+i)) "${SEEDS[@]}" --data-dir $D/$n >$D/$n/node.log 2>&1 </dev/null &
  echo $! > $D/$n/pid; done
for i in 1 2 3; do deadline=$((SECONDS+90)); until grep -q "member up" $D/n$i/node.log; do (( SECONDS > deadline )) && exit 1; sleep 0.5; done; done
deadline=$((SECONDS+120))
while (( SECONDS < deadline )); do out=$(./akkakv --nodes 127.0.0.1:4001 status 2>/dev/null || true)
  grep -q "^unallocated slots: 0 " <<<"$out" && grep -q "^co-located partitions: 0$" <<<"$out" && break; sleep 1; done
redis-benchmark -p 6381 -t set -n 30000 -c 50 -d 100 -r 100000 -q >/dev/null 2>&1
redis-benchmark -p 6381 -t get -n 50000 -c 50 -d 100 -r 100000 -q >/dev/null 2>&1
t=get
for i in 1 2 3; do ~/.dotnet/tools/dotnet-counters collect -p $(cat $D/n$i/pid) --counters System.Runtime --refresh-interval 1 --format csv -o $D/$t-n$i.csv >/dev/null 2>&1 & echo $! > $D/c$i.pid; done
sleep 3
redis-benchmark -p 6381 -t get -n 100000 -c 50 -d 100 -r 100000 -q > $D/$t.bench 2>&1
sleep 1
for i in 1 2 3; do kill -INT $(cat $D/c$i.pid); done; sleep 2
for i in 1 2 3; do kill $(cat $D/n$i/pid); done
python3 - $D $TAG <<'PY'
import sys, csv
D = sys.argv[1]; n = 100000; per = []
for i in (1, 2, 3):
    s = 0
    for row in csv.reader(open(f"{D}/get-n{i}.csv")):
        if len(row) > 4 and "total_allocated" in row[2]:
            try: s += float(row[4])
            except ValueError: pass
    per.append(s / n)
print(sys.argv[2], "GET allocated per op: n1 %.1f KB n2 %.1f KB n3 %.1f KB all %.1f KB" % tuple([p / 1024 for p in per] + [sum(per) / 1024]))
print(open(D + "/get.bench").read().strip().split("\r")[-1])
PY
