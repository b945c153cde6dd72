#!/usr/bin/env bash
set -u
cd /tmp/profile; mkdir -p setf
P1=$(cat data/n1/pid); P2=$(cat data/n2/pid)
timeout 300 redis-benchmark -p 6381 -t set -n 40000 -c 50 -d 100 -r 100000 > setf/bench.out 2>&1 & BP=$!
sleep 20
python3 snap.py setf/F0.json
timeout 20 perf record -e syscalls:sys_enter_fsync -e syscalls:sys_exit_fsync -e syscalls:sys_enter_pwrite64 -p $P2 -o setf/fsync-n2.data -- sleep 5 > /dev/null 2>&1
python3 snap.py setf/F1.json
timeout 20 perf record -e syscalls:sys_enter_fsync -e syscalls:sys_exit_fsync -e syscalls:sys_enter_pwrite64 -p $P1 -o setf/fsync-n1.data -- sleep 5 > /dev/null 2>&1
python3 snap.py setf/F2.json
kill $(pgrep -P $BP redis-benchmark) 2>/dev/null; wait $BP
