#!/usr/bin/env bash
# (in the repo as tests/AkkaKv.Benchmarks/profile/; the cluster comes from profile/start.sh, data in /tmp/profile/data)
# gwin.sh LABEL N : one GET window against n1: GET/s, latency, node CPU per GET
cd /tmp/profile
N=${2:-100000}
cpu() { local t=0; for n in n1 n2 n3; do p=$(cat data/$n/pid); s=($(sed 's/.*) //' /proc/$p/stat)); t=$((t + ${s[11]} + ${s[12]})); done; echo $t; }
c0=$(cpu)
out=$(redis-benchmark -p 6381 -t get -n $N -c 50 -d 100 -r 100000 2>/dev/null | tr '\r' '\n')
c1=$(cpu)
rate=$(grep -m1 "throughput summary" <<<"$out" | awk "{print \$3}")
p=$(grep -A3 "latency summary" <<<"$out" | tail -1)
echo "$1 GET/s=$rate lat(avg min p50 p95 p99 max)=[$p] cpu/GET=$(echo "scale=4; ($c1-$c0)*10/$N" | bc) ms"
