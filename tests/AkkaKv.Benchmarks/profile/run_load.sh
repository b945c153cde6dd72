#!/usr/bin/env bash
# run_load.sh set|get TAG : one load run with the measurement windows, all bounded.
set -u
T=$1; TAG=$2
cd /tmp/profile; mkdir -p $TAG
P1=$(cat data/n1/pid); P2=$(cat data/n2/pid); P3=$(cat data/n3/pid)
log() { echo "[$(date +%T)] $*" | tee -a $TAG/timeline.log; }
N=${N:-200000}
timeout 900 redis-benchmark -p 6381 -t $T -n $N -c 50 -d 100 -r 100000 > $TAG/bench.out 2> $TAG/bench.err &
BP=$!; echo $BP > $TAG/bench.pid
sleep 1; RB=$(pgrep -P $BP redis-benchmark || echo $BP)
log "bench started (timeout pid $BP, redis-benchmark pid $RB)"
sleep ${WARM:-20}
w() { python3 snap.py $TAG/$1.json $RB; }
log "C: pidstat"; w C0; timeout 20 pidstat -w -t -p $P1,$P2,$P3 5 2 > $TAG/pidstat.txt 2>&1; w C1
log "A: perf -p n1"; w A0; timeout 40 perf record -F 499 -g -p $P1 -o $TAG/perf-n1.data -- sleep 20 > $TAG/perf-n1.log 2>&1; w A1
log "B: perf -a"; w B0; timeout 40 perf record -F 499 -g -a -o $TAG/perf-all.data -- sleep 15 > $TAG/perf-all.log 2>&1; w B1
log "S: perf stat syscalls"; w S0
EV="-e raw_syscalls:sys_enter -e syscalls:sys_enter_fsync -e syscalls:sys_enter_fdatasync -e syscalls:sys_enter_futex -e syscalls:sys_enter_epoll_wait -e syscalls:sys_enter_epoll_pwait -e syscalls:sys_enter_sendmsg -e syscalls:sys_enter_recvmsg -e syscalls:sys_enter_sendto -e syscalls:sys_enter_recvfrom -e syscalls:sys_enter_write -e syscalls:sys_enter_read -e syscalls:sys_enter_pwrite64 -e syscalls:sys_enter_pread64 -e context-switches -e cpu-migrations -e task-clock"
for i in 1 2 3; do eval P=\$P$i; timeout 30 perf stat $EV -p $P -o $TAG/perfstat-n$i.txt -- sleep 10 & done; wait; w S1
log "D: dotnet-counters"; w D0
timeout 40 ~/.dotnet/tools/dotnet-counters collect -p $P1 --counters 'EventCounters\System.Runtime' --refresh-interval 1 --duration 00:00:15 --format csv -o $TAG/counters-legacy.csv > $TAG/counters-legacy.log 2>&1 &
timeout 40 ~/.dotnet/tools/dotnet-counters collect -p $P1 --counters 'System.Runtime' --refresh-interval 1 --duration 00:00:15 --format csv -o $TAG/counters-meter.csv > $TAG/counters-meter.log 2>&1 &
wait; w D1
log "W: sched_switch stacks n1"; w W0; timeout 30 perf record -e sched:sched_switch -g -p $P1 -o $TAG/perf-sw-n1.data -- sleep 5 > $TAG/perf-sw.log 2>&1; w W1
log "E: strace n1"; w E0; timeout -s INT 10 strace -f -c -p $P1 -o $TAG/strace-n1.txt 2>/dev/null; w E1
sleep 5
log "E2: strace n2"; w F0; timeout -s INT 10 strace -f -c -p $P2 -o $TAG/strace-n2.txt 2>/dev/null; w F1
sleep 5
log "B2: perf -a repeat"; w G0; timeout 40 perf record -F 499 -g -a -o $TAG/perf-all2.data -- sleep 15 > $TAG/perf-all2.log 2>&1; w G1
log "measurements done"
if [[ -n "${WAIT_BENCH:-}" ]]; then
  for _ in $(seq 600); do kill -0 $BP 2>/dev/null || break; sleep 1; done
fi
kill -0 $RB 2>/dev/null && { log "killing redis-benchmark $RB"; kill $RB; }
wait $BP 2>/dev/null
log "bench ended"; tail -c 600 $TAG/bench.out | tr '\r' '\n' | tail -4
