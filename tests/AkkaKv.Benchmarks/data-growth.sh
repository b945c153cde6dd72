#!/usr/bin/env bash
# Cost as data grows: for each key count K, a FRESH 3-node cluster (N=3: every node holds every
# key) takes `akkakv fill --keys K` (100 B values), and the script reports per node:
#   - resident memory (VmRSS) before and after the fill as the node left it, and the bytes per
#     key-replica beyond the value; then the same after a full GC (induced by dotnet-gcdump), with
#     the live GC heap (the generations' sizes after that GC, from dotnet-counters) beside it;
#   - the data dir's size before and after (SQLite file + WAL), and bytes per key-replica beyond the value;
#   - SET throughput (redis-benchmark -t set -n SETS -c 50 -d 100 -r 100000 against n1) on the
#     filled store, beside the same figure on an empty store measured first (after a warm-up of
#     10,000 SETs on 100 keys, so that both figures are for a warm process);
#   - restart: n2 killed with -9 and restarted; seconds until `akkakv status` shows every slot
#     allocated, on its ring position and none catching up; then SET p99 through n2 in the first
#     5,000 SETs after that (a fresh process: its code is still being compiled) and the next 5,000.
#   tests/AkkaKv.Benchmarks/data-growth.sh [K ...]      (default: 10000 100000)
# Environment: SETS (20000), FILL_CONCURRENCY (64), MEMORY_ONLY (set: only the memory and disk
# table, without the SET rates and the restart). Needs redis-tools, dotnet-counters and
# dotnet-gcdump (dotnet tool install -g ...). Ports 4001-4003 and 6381-6383 must be free.
set -euo pipefail
cd "$(dirname "$0")/../.."
if (( $# )); then KEYS=("$@"); else KEYS=(10000 100000); fi
SETS=${SETS:-20000}
FILL_CONCURRENCY=${FILL_CONCURRENCY:-64}
export PATH="$PATH:$HOME/.dotnet/tools"
for tool in redis-benchmark redis-cli dotnet-counters dotnet-gcdump; do
  command -v "$tool" >/dev/null || { echo "$tool missing (redis-tools from apt; dotnet tool install -g dotnet-counters dotnet-gcdump)" >&2; exit 2; }
done
if redis-cli -p 6381 PING >/dev/null 2>&1; then echo "something already serves 127.0.0.1:6381 (./cluster.sh stop first)" >&2; exit 2; fi
work=$(mktemp -d)
export AKKAKV_DATA="$work/data"
cleanup() { ./cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

pid_of() { cat "$AKKAKV_DATA/$1/pid"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# GC heap after the last collection, in bytes: the generations' sizes summed.
gc_heap() {
  local f="$work/ctr-$1.csv"; rm -f "$f"
  dotnet-counters collect -p "$1" --counters System.Runtime --refresh-interval 1 --duration 00:00:03 --format csv -o "$f" >/dev/null 2>&1 || true
  awk -F, '/last_collection.heap.size/ {v[$3]=$NF} END {s=0; for (k in v) s+=v[k]; printf "%.0f", s}' "$f"
}
# A full blocking GC in the node (a heap dump induces one; the dump itself is thrown away).
full_gc() { dotnet-gcdump collect -p "$1" -o "$work/heap.gcdump" >/dev/null 2>&1 || true; rm -f "$work/heap.gcdump"; }
dir_kb() { du -sk "$AKKAKV_DATA/$1" | cut -f1; }
set_rate() { redis-benchmark -p "${2:-6381}" -t set -n "$1" -c 50 -d 100 -r 100000 --csv 2>/dev/null | tr -d '"' | awk -F, 'NR==2 {print $2, $5, $7}'; }

start_fresh() { rm -rf "$AKKAKV_DATA"; ./cluster.sh start >"$work/cluster.log" 2>&1 || { cat "$work/cluster.log" >&2; exit 1; }; }

if [[ -z "${MEMORY_ONLY:-}" ]]; then
echo "== empty store: fresh cluster, redis-benchmark -t set -n $SETS" >&2
start_fresh
redis-benchmark -p 6381 -t set -n 10000 -c 50 -d 100 -r 100 -q >/dev/null 2>&1
read -r empty_rate _ empty_p99 < <(set_rate "$SETS")
./cluster.sh stop >/dev/null
echo "empty-store SET: $empty_rate/s, p99 $empty_p99 ms"
fi

printf "\n| keys | node | RSS before → after (MB) | RSS per key-replica beyond the value | after a full GC: RSS before → after (MB) | RSS per key-replica beyond the value | live GC heap before → after (MB) | GC heap per key-replica beyond the value | data dir before → after (MB) | disk per key-replica beyond the value |\n|---|---|---|---|---|---|---|---|---|---|\n" > "$work/mem.md"
printf "\n| keys | fill rate (puts/s) | SET/s on the filled store (vs empty) | SET p99 | n2 restart: up and settled | SET p99 through n2 after restart: first 5,000 / next 5,000 |\n|---|---|---|---|---|---|\n" > "$work/rate.md"
for k in "${KEYS[@]}"; do
  echo "== $k keys: fresh cluster" >&2
  start_fresh
  declare -A rss0 grss0 heap0 disk0
  for n in n1 n2 n3; do p=$(pid_of $n); rss0[$n]=$(rss_kb "$p"); full_gc "$p"; grss0[$n]=$(rss_kb "$p"); heap0[$n]=$(gc_heap "$p"); disk0[$n]=$(dir_kb $n); done
  echo "== $k keys: akkakv fill --keys $k --concurrency $FILL_CONCURRENCY" >&2
  fill=$(./akkakv fill --keys "$k" --concurrency "$FILL_CONCURRENCY" --value-size 100)
  echo "$fill" >&2
  secs=$(grep -oP '100 B values, \K[0-9.]+(?= s)' <<<"$fill")
  for n in n1 n2 n3; do
    p=$(pid_of $n); rss=$(rss_kb "$p"); full_gc "$p"; grss=$(rss_kb "$p"); heap=$(gc_heap "$p"); disk=$(dir_kb $n)
    awk -v k="$k" -v n="$n" -v r0="${rss0[$n]}" -v r1="$rss" -v g0="${grss0[$n]}" -v g1="$grss" -v h0="${heap0[$n]}" -v h1="$heap" -v d0="${disk0[$n]}" -v d1="$disk" 'BEGIN {
      printf "| %d | %s | %.0f → %.0f | %.0f B | %.0f → %.0f | %.0f B | %.0f → %.0f | %.0f B | %.1f → %.1f | %.0f B |\n", k, n, r0/1024, r1/1024, (r1-r0)*1024/k-100,
        g0/1024, g1/1024, (g1-g0)*1024/k-100, h0/1048576, h1/1048576, (h1-h0)/k-100, d0/1024, d1/1024, (d1-d0)*1024/k-100 }' >> "$work/mem.md"
  done
  if [[ -z "${MEMORY_ONLY:-}" ]]; then
    read -r full_rate _ full_p99 < <(set_rate "$SETS")
    echo "== $k keys: kill -9 n2, restart it" >&2
    ./cluster.sh kill n2 >/dev/null
    # The 10 s a crashed node stays down before start-node runs it again (docs/operations.md,
    # "Restarting a crashed node") are spent here, outside the restart time measured below.
    sleep 10
    t0=$(date +%s.%N)
    ./cluster.sh start-node n2 >"$work/restart.log" 2>&1 || { cat "$work/restart.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    settled=$(grep -c "still settling" "$work/restart.log" || true)
    read -r _ _ n2_p99 < <(set_rate 5000 6382)
    read -r _ _ n2_p99_warm < <(set_rate 5000 6382)
    awk -v k="$k" -v s="$secs" -v fr="$full_rate" -v er="$empty_rate" -v fp="$full_p99" -v t0="$t0" -v t1="$t1" -v ns="$settled" -v np="$n2_p99" -v nw="$n2_p99_warm" 'BEGIN {
      printf "| %d | %.0f | %d (%.0f%%) | %s ms | %.1f s%s | %s / %s ms |\n", k, k/s, fr, 100*fr/er, fp, t1-t0, (ns>0 ? " (NOT settled)" : ""), np, nw }' >> "$work/rate.md"
  fi
  ./cluster.sh stop >/dev/null
done
if [[ -n "${MEMORY_ONLY:-}" ]]; then cat "$work/mem.md"; else cat "$work/mem.md" "$work/rate.md"; fi
