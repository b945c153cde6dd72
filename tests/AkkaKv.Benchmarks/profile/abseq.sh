#!/usr/bin/env bash
# (in the repo as tests/AkkaKv.Benchmarks/profile/; the cluster comes from profile/start.sh, data in /tmp/profile/data)
# abseq.sh TAG DLL : fresh cluster, 3 SET windows (40k), 2 GET windows (100k)
cd "$(dirname "$0")/../../.."
for n in n1 n2 n3; do [[ -f /tmp/profile/data/$n/pid ]] && kill $(cat /tmp/profile/data/$n/pid) 2>/dev/null; done
for n in n1 n2 n3; do while [[ -f /tmp/profile/data/$n/pid ]] && kill -0 $(cat /tmp/profile/data/$n/pid) 2>/dev/null; do sleep 0.5; done; done
rm -rf /tmp/profile/data
NODE_DLL=$2 bash tests/AkkaKv.Benchmarks/profile/start.sh > /dev/null
for w in 1 2 3; do tests/AkkaKv.Benchmarks/profile/win.sh "$1-set$w" 40000; done
for w in 1 2; do tests/AkkaKv.Benchmarks/profile/gwin.sh "$1-get$w" 100000; done
for n in n1 n2 n3; do kill $(cat /tmp/profile/data/$n/pid); done
