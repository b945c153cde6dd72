#!/usr/bin/env bash
# (in the repo as tests/AkkaKv.Benchmarks/profile/; the cluster comes from profile/start.sh, data in /tmp/profile/data)
# lone.sh TAG DLL : fresh cluster, warm-up, then one client: SET and GET latency
cd "$(dirname "$0")/../../.."
for n in n1 n2 n3; do [[ -f /tmp/profile/data/$n/pid ]] && kill $(cat /tmp/profile/data/$n/pid) 2>/dev/null; done
for n in n1 n2 n3; do while [[ -f /tmp/profile/data/$n/pid ]] && kill -0 $(cat /tmp/profile/data/$n/pid) 2>/dev/null; do sleep 0.5; done; done
rm -rf /tmp/profile/data
NODE_DLL=$2 bash tests/AkkaKv.Benchmarks/profile/start.sh > /dev/null
redis-benchmark -p 6381 -t set -n 30000 -c 50 -d 100 -r 100000 -q > /dev/null 2>&1
redis-benchmark -p 6381 -t get -n 50000 -c 50 -d 100 -r 100000 -q > /dev/null 2>&1
for t in set get; do
  out=$(redis-benchmark -p 6381 -t $t -n 5000 -c 1 -d 100 -r 100000 2>/dev/null | tr '\r' '\n')
  echo "$1 $t c=1: $(grep -m1 'throughput summary' <<<"$out" | awk '{print $3}')/s lat(avg min p50 p95 p99 max)=[$(grep -A3 'latency summary' <<<"$out" | tail -1)]"
done
for n in n1 n2 n3; do kill $(cat /tmp/profile/data/$n/pid); done
