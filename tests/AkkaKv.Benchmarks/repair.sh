#!/usr/bin/env bash
# Anti-entropy after a partition: convergence time, bytes exchanged vs data size, and client p99
# with and without a repair running.
#   tests/AkkaKv.Benchmarks/repair.sh [keys, default 10000] [divergent percent, default 1] [value bytes, default 100]
# Starts a fresh local 3-node cluster (./cluster.sh, data under ./data is DELETED) with hints bounded
# to one per target (the rest overflow to anti-entropy, as when hints are full), fills <keys> keys
# at W=3, then twice: kills n3 (-9), overwrites <percent>% of the keys at W=2 (n3's replicas miss
# them: not even a frozen process would, as remoting buffers for it), restarts n3 and lets its
# slots' catch-up (a Merkle exchange with each peer, as anti-entropy's) and anti-entropy repair:
#   1. with no client load: time from the restart until every divergent key is repaired, and until
#      every node has completed a whole round, started after the restart, in which every replica
#      pair was in sync;
#   2. with a closed-loop client load (loadgen, 8 clients, 50% gets) from the restart on, against
#      the same load on the settled cluster before any divergence.
# (SIGSTOP does not make a real node diverge: remoting buffers what is sent to it and delivers it
# on SIGCONT. The multi-node AntiEntropySpec drops messages with a blackhole instead.)
# Bytes exchanged: the anti-entropy payload (tree hashes, leaf entries, fetched sibling sets).
set -euo pipefail
cd "$(dirname "$0")/../.."
KEYS=${1:-10000}; PCT=${2:-1}; VALUE=${3:-100}
DIVERGENT=$((KEYS * PCT / 100))
LOAD_SECONDS=20
conf=$(mktemp)
cat > "$conf" <<'EOF'
akka-kv.hints.max-per-target = 1
akka.cluster.split-brain-resolver.stable-after = 120s
EOF
trap 'rm -f "$conf"' EXIT
kv() { ./akkakv --nodes 127.0.0.1:4001,127.0.0.1:4002 "$@"; }
now() { date +%s.%N; }
# Per-node anti-entropy figures from `status`: "node rounds pairs_in_sync pairs_checked repaired bytes".
ae() {
  kv status | grep -E '^  n[0-9]+ +[0-9]+ round\(s\)' | while read -r line; do
    node=$(awk '{print $1}' <<<"$line"); rounds=$(awk '{print $2}' <<<"$line")
    pairs=$(grep -oP '\(\K[0-9]+ of [0-9]+(?= replica pairs\))' <<<"$line" || echo "0 of 0")
    repaired=$(grep -oP '[0-9]+(?= key\(s\) repaired)' <<<"$line"); bytes=$(grep -oP '[0-9]+(?= bytes exchanged)' <<<"$line")
    echo "$node $rounds ${pairs% of *} ${pairs#* of } $repaired $bytes"
  done
}
sum_col() { ae | awk -v c="$1" '{s += $c} END {print s + 0}'; }
wait_unreachable() {
  local deadline=$((SECONDS + 30))
  until kv status | grep -qE '^ *n3 .*(unreachable|UNREACHABLE)'; do
    (( SECONDS < deadline )) || { echo "n3 never became unreachable"; exit 1; }; sleep 0.2
  done
}
diverge() { # $1: first key of the divergent slice
  local killed=$SECONDS
  ./cluster.sh kill n3 >/dev/null; wait_unreachable
  kv fill --from "$1" --keys "$DIVERGENT" --w 2 --value-size "$VALUE" --concurrency 16 | sed 's/^/  /'
  # start-node keeps a crashed node down 10 s in all (docs/operations.md, "Restarting a crashed
  # node"): what is left of them passes here, outside the restart times measured after.
  (( SECONDS - killed >= 10 )) || sleep $(( 10 - (SECONDS - killed) ))
}
restart_n3() { # returns once n3 says it is up
  AKKAKV_CONFIG=$conf ./cluster.sh start-node n3 > data/restart-n3.log 2>&1 &
  until grep -q "is up" data/restart-n3.log 2>/dev/null; do sleep 0.2; done
}

./cluster.sh stop >/dev/null 2>&1 || true
rm -rf data
AKKAKV_CONFIG=$conf ./cluster.sh start >/dev/null
echo "== $KEYS keys of $VALUE B at W=3, $PCT% ($DIVERGENT keys) overwritten while n3 is down (kill -9, then restart)"
kv fill --keys "$KEYS" --w 3 --value-size "$VALUE" --concurrency 16 | sed 's/^/  /'
data_bytes=$((KEYS * (VALUE + 12) * 3))
echo "data: $KEYS keys x 3 replicas, ~$((data_bytes / 1024)) KiB of keys and values"

echo "-- client load on the settled cluster (no repair): $LOAD_SECONDS s"
kv loadgen --duration $LOAD_SECONDS --concurrency 8 --keys "$KEYS" --value-size "$VALUE" --get-ratio 0.5 --seed 1 --w 2 --r 2 | sed 's/^/  /'

echo "-- 1. repair with no client load"
diverge 0
r0=$(sum_col 5); b0=$(sum_col 6)
healed=$(now); restart_n3; up=$(now)
# Round counts right after the restart (n3's own count starts again from 0).
rounds0=$(ae | awk '{print $1, $2}')
repaired_at=""; deadline=$((SECONDS + 600))
while (( SECONDS < deadline )); do
  snapshot=$(ae)
  r=$(awk '{s += $5} END {print s + 0}' <<<"$snapshot")
  # Two keys may have been carried by the one hint each holder kept.
  if [[ -z $repaired_at ]] && (( r - r0 >= DIVERGENT - 2 )); then repaired_at=$(now); fi
  # Converged: all three nodes report, each has completed two rounds since the restart (so a whole
  # round began after it), and each one's last round found every pair in sync.
  if [[ -n $repaired_at ]] && awk 'NR == FNR { base[$1] = $2; next } { n++; if ($2 < base[$1] + 2 || $3 != $4 || $4 == 0) bad = 1 } END { exit (bad || n < 3) }' \
      <(echo "$rounds0") <(echo "$snapshot"); then
    synced_at=$(now); break
  fi
  sleep 0.5
done
[[ -n ${synced_at:-} ]] || { echo "did not converge within 600 s"; ae; exit 1; }
r1=$(sum_col 5); b1=$(sum_col 6)
printf 'n3 up %.1f s after its restart began; all %d divergent keys repaired %.1f s after it; every node confirmed a whole round in sync %.1f s after it\n' \
  "$(echo "$up - $healed" | bc)" "$DIVERGENT" "$(echo "$repaired_at - $healed" | bc)" "$(echo "$synced_at - $healed" | bc)"
echo "keys repaired: $((r1 - r0)); bytes exchanged: $((b1 - b0)) ($(echo "scale=2; 100 * ($b1 - $b0) / $data_bytes" | bc)% of the data)"

echo "-- 2. client load during a repair: $LOAD_SECONDS s from n3 up again"
diverge "$DIVERGENT"
r0=$(sum_col 5)
restart_n3
kv loadgen --duration $LOAD_SECONDS --concurrency 8 --keys "$KEYS" --value-size "$VALUE" --get-ratio 0.5 --seed 2 --w 2 --r 2 | sed 's/^/  /'
echo "keys repaired by anti-entropy while the load ran: $(( $(sum_col 5) - r0 ))"
./cluster.sh stop >/dev/null
