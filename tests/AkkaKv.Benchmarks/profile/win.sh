#!/usr/bin/env bash
# (in the repo as tests/AkkaKv.Benchmarks/profile/; the cluster comes from profile/start.sh, data in /tmp/profile/data)
# win.sh LABEL N : one SET window against n1, prints SET/s, p50/p99, node CPU per SET, pwrite calls per SET (n2)
cd /tmp/profile
N=${2:-60000}
cpu() { local t=0; for n in n1 n2 n3; do p=$(cat data/$n/pid); s=($(sed 's/.*) //' /proc/$p/stat)); t=$((t + ${s[11]} + ${s[12]})); done; echo $t; }
io() { p=$(cat data/n2/pid); awk '/^syscw|^write_bytes/{printf "%s ", $2}' /proc/$p/io; }
c0=$(cpu); i0=$(io)
out=$(redis-benchmark -p 6381 -t set -n $N -c 50 -d 100 -r 100000 2>/dev/null | tr '\r' '\n')
c1=$(cpu); i1=$(io)
rate=$(grep -m1 "throughput summary" <<<"$out" | awk "{print \$3}")
p=$(grep -A3 "latency summary" <<<"$out" | tail -1)
read a0 b0 <<<"$i0"; read a1 b1 <<<"$i1"
echo "$1 SET/s=$rate lat(avg min p50 p95 p99 max)=[$p] cpu/SET=$(echo "scale=3; ($c1-$c0)*10/$N" | bc) ms n2 syscw/SET=$(echo "scale=2; ($a1-$a0)/$N" | bc) n2 write_bytes/SET=$(( (b1-b0)/N ))"
