#!/usr/bin/env bash
set -u
cd /tmp/profile; TAG=get; mkdir -p $TAG
P1=$(cat data/n1/pid); P2=$(cat data/n2/pid); P3=$(cat data/n3/pid)
log() { echo "[$(date +%T)] $*" | tee -a $TAG/timeline.log; }
log "warm-up GET 100000"; timeout 120 redis-benchmark -p 6381 -t get -n 100000 -c 50 -d 100 -r 100000 --csv > $TAG/warm.csv 2>&1
# reply counter: n1 sendto syscalls, per second, over the whole run
timeout 400 perf stat -I 1000 -x, -e syscalls:sys_enter_sendto -e syscalls:sys_enter_sendmsg -p $P1 -o $TAG/sendto-n1.csv > /dev/null 2>&1 & PS=$!
sleep 1
timeout 400 redis-benchmark -p 6381 -t get -n 3000000 -c 50 -d 100 -r 100000 > $TAG/bench.out 2> $TAG/bench.err & BP=$!
sleep 1; RB=$(pgrep -P $BP redis-benchmark || echo $BP)
log "bench started (redis-benchmark pid $RB)"; sleep 15
w() { python3 snap.py $TAG/$1.json $RB; }
log "U: unperturbed 15 s"; w U0; sleep 15; w U1
log "A: perf -p n1 15 s"; w A0; timeout 40 perf record -F 499 -g -p $P1 -o $TAG/perf-n1.data -- sleep 15 > /dev/null 2>&1; w A1
log "B: perf -a 15 s"; w B0; timeout 40 perf record -F 499 -g -a -o $TAG/perf-all.data -- sleep 15 > /dev/null 2>&1; w B1
log "S: perf stat syscalls"; w S0
EV="-e raw_syscalls:sys_enter -e syscalls:sys_enter_fsync -e syscalls:sys_enter_futex -e syscalls:sys_enter_epoll_wait -e syscalls:sys_enter_sendmsg -e syscalls:sys_enter_recvmsg -e syscalls:sys_enter_sendto -e syscalls:sys_enter_recvfrom -e syscalls:sys_enter_write -e syscalls:sys_enter_read -e syscalls:sys_enter_pwrite64 -e syscalls:sys_enter_pread64 -e syscalls:sys_enter_sched_yield -e context-switches -e cpu-migrations -e task-clock"
PSS=(); for i in 1 2 3; do eval P=\$P$i; timeout 30 perf stat $EV -p $P -o $TAG/perfstat-n$i.txt -- sleep 10 & PSS+=($!); done; wait "${PSS[@]}"; w S1
log "D: counters n1"; w D0
timeout 40 ~/.dotnet/tools/dotnet-counters collect -p $P1 --counters 'EventCounters\System.Runtime' --refresh-interval 1 --duration 00:00:15 --format csv -o $TAG/counters-n1.csv > /dev/null 2>&1; w D1
log "D2: counters n2 n3"; w E0
timeout 40 ~/.dotnet/tools/dotnet-counters collect -p $P2 --counters 'EventCounters\System.Runtime' --refresh-interval 1 --duration 00:00:15 --format csv -o $TAG/counters-n2.csv > /dev/null 2>&1 & A=$!
timeout 40 ~/.dotnet/tools/dotnet-counters collect -p $P3 --counters 'EventCounters\System.Runtime' --refresh-interval 1 --duration 00:00:15 --format csv -o $TAG/counters-n3.csv > /dev/null 2>&1 & B=$!
wait $A $B; w E1
log "W: sched_switch n1 5 s"; w W0; timeout 30 perf record -e sched:sched_switch -g -p $P1 -o $TAG/perf-sw-n1.data -- sleep 5 > /dev/null 2>&1; w W1
log "T: strace -c n1 8 s"; w T0; timeout -s INT 8 strace -f -c -p $P1 -o $TAG/strace-n1.txt 2>/dev/null; w T1
sleep 3
log "G: perf -a repeat 15 s"; w G0; timeout 40 perf record -F 499 -g -a -o $TAG/perf-all2.data -- sleep 15 > /dev/null 2>&1; w G1
log "done"; kill $RB 2>/dev/null; wait $BP 2>/dev/null; sleep 1; kill -INT $PS 2>/dev/null; wait $PS 2>/dev/null
log "bench ended"
