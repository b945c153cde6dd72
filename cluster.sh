#!/usr/bin/env bash
# Local AkkaKv cluster on 127.0.0.1: three node processes n1..n3 (remoting ports 4001..4003,
# Redis-protocol ports 6381..6383, HTTP ports 8001..8003 for /metrics and /health/*), each with its own SQLite journal under ./data/<node>, or with
# AKKAKV_JOURNAL=postgresql AKKAKV_POSTGRES="Host=...;Username=...;Password=..." its own database
# (akkakv_n1, ...) on that PostgreSQL server (the nodes read both variables from the environment).
#   ./cluster.sh start          build, start n1 n2 n3, wait until all are members
#   ./cluster.sh stop           stop every node this script started (by PID)
#   ./cluster.sh start-node n2  (re)start one node with the same name, port and data dir
#   ./cluster.sh kill n2        kill -9 one node (to try failures)
#   ./cluster.sh status         the cluster as node n1..n3 sees it
#   ./cluster.sh build          only build the node and the CLI (when the sources changed)
#   ./cluster.sh rolling-restart  restart every node in turn (SIGTERM: it leaves and hands its slots
#                               off; start; wait until every node is ready and no slot moves or
#                               catches up), printing how long each took
# AKKAKV_HTTP=0 ./cluster.sh start: no HTTP ports (no /metrics, no health endpoints).
# AKKAKV_REMOTE_TLS=1 ./cluster.sh start: mutual TLS on remoting, with a development PKI made once
# in $DATA/certs (./akkakv certs; AKKAKV_CERTS=dir names another): nodes get --tls-cert/--tls-key/--tls-ca (so their RESP ports
# speak TLS too) and a client port each (5001..5003, client certificates of --tls-client-ca); the
# script's own ./akkakv calls use the client certificate.
# AKKAKV_PORT_OFFSET=100 ./cluster.sh start: every port above plus 100 (4101.., RESP 6481.., HTTP
# 8101.., client 5101.., and the seeds), for a second cluster beside the first; give it its own
# AKKAKV_DATA too (the PID files live under the data root).
# AKKAKV_NODE_DLL=.../akkakv-node.dll AKKAKV_CLI_DLL=.../akkakv-cli.dll: run these builds instead
# of building into .build/ (the end-to-end tests point them at the build they already made).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
# AKKAKV_DATA=/some/dir ./cluster.sh start: the nodes' data dirs under another root (default ./data).
DATA=${AKKAKV_DATA:-data}
# AKKAKV_CLUSTER_SIZE=5 ./cluster.sh start: n1..n5 (ports 4001..4005, RESP 6381..6385, HTTP 8001..8005).
NODES=($(seq -f 'n%g' 1 "${AKKAKV_CLUSTER_SIZE:-3}"))
OFFSET=${AKKAKV_PORT_OFFSET:-0}
# Below 20000, so that every port stays under the ephemeral range (32768 and up).
[[ $OFFSET =~ ^[0-9]+$ ]] && (( OFFSET <= 20000 )) || { echo "AKKAKV_PORT_OFFSET='$OFFSET' must be a number from 0 to 20000" >&2; exit 2; }
SEEDS=(--seed "127.0.0.1:$((4001 + OFFSET))" --seed "127.0.0.1:$((4002 + OFFSET))" --seed "127.0.0.1:$((4003 + OFFSET))")
NODE_DLL=${AKKAKV_NODE_DLL:-.build/host/akkakv-node.dll}
# Seconds a node killed by `kill` stays down before `start-node` runs it again (docs/operations.md,
# "Restarting a crashed node"; the end-to-end tests' ClusterTestContext.MinimumDownTime).
MIN_DOWN_S=10
# The CLI this script runs (status, certs): a given build, or ./akkakv (which builds .build/cli once).
cli() {
  if [[ -n "${AKKAKV_CLI_DLL:-}" ]]; then dotnet "$AKKAKV_CLI_DLL" "$@"; else "$ROOT/akkakv" "$@"; fi
}

# The journal variables go to every node as they are (the Host reads AKKAKV_JOURNAL and
# AKKAKV_POSTGRES itself, an empty one as unset); checked before a node starts, so that a typo
# fails here rather than in three node logs.
export AKKAKV_JOURNAL="${AKKAKV_JOURNAL:-}" AKKAKV_POSTGRES="${AKKAKV_POSTGRES:-}"
check_journal() {
  case "$AKKAKV_JOURNAL" in
    ""|sqlite) JOURNAL_DESC="SQLite in the data dir" ;;
    postgresql)
      [[ -n "$AKKAKV_POSTGRES" ]] || { echo "AKKAKV_JOURNAL=postgresql needs AKKAKV_POSTGRES (an Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Username=postgres)" >&2; exit 2; }
      JOURNAL_DESC="PostgreSQL database akkakv_$1" ;;
    *) echo "AKKAKV_JOURNAL='$AKKAKV_JOURNAL' must be sqlite or postgresql" >&2; exit 2 ;;
  esac
}

# The keys that sign causal contexts: every node of the cluster must hold the same file, kept across
# restarts. AKKAKV_CONTEXT_KEYS=/path/file names one; otherwise the script makes $DATA/context-keys
# once (32 random bytes, readable by this user only) and keeps it until the data is deleted.
CONTEXT_KEYS=${AKKAKV_CONTEXT_KEYS:-$DATA/context-keys}
ensure_context_keys() {
  if [[ -n "${AKKAKV_CONTEXT_KEYS:-}" ]]; then
    [[ -f "$CONTEXT_KEYS" ]] || { echo "AKKAKV_CONTEXT_KEYS='$CONTEXT_KEYS': no such file" >&2; exit 2; }
  elif [[ ! -f "$CONTEXT_KEYS" ]]; then
    mkdir -p "$DATA"
    (umask 077; echo "k1 $(head -c 32 /dev/urandom | base64 -w0)" > "$CONTEXT_KEYS")
  fi
}

REMOTE_TLS=${AKKAKV_REMOTE_TLS:-0}
CERTS=${AKKAKV_CERTS:-$DATA/certs}
CLI_TLS=()
[[ $REMOTE_TLS == 1 ]] && CLI_TLS=(--tls-cert "$CERTS/client.crt" --tls-key "$CERTS/client.key" --tls-ca "$CERTS/ca.crt")
ensure_certs() {
  [[ $REMOTE_TLS == 1 && ! -f "$CERTS/ca.crt" ]] || return 0
  cli certs --dir "$CERTS" --hosts 127.0.0.1,localhost >/dev/null
}
# The node's TLS flags, and the endpoint clients use: its client port with TLS, else its node port.
NODE_TLS=()
node_tls_args() {
  NODE_TLS=()
  [[ $REMOTE_TLS == 1 ]] || return 0
  NODE_TLS=(--tls-cert "$CERTS/node.crt" --tls-key "$CERTS/node.key" --tls-ca "$CERTS/ca.crt" --tls-client-ca "$CERTS/client-ca.crt" --client-port "$(client_port_of "$1")")
}
client_port_of() { echo $((5000 + OFFSET + ${1#n})); }
client_endpoint_of() { if [[ $REMOTE_TLS == 1 ]]; then echo "127.0.0.1:$(client_port_of "$1")"; else echo "127.0.0.1:$(port_of "$1")"; fi; }

port_of() { echo $((4000 + OFFSET + ${1#n})); }
resp_port_of() { echo $((6380 + OFFSET + ${1#n})); }
http_port_of() { echo $((8000 + OFFSET + ${1#n})); }

# dotnet build, its output shown only when it fails (a compile error must not end the script silently).
build_quietly() {
  local out
  if ! out=$(dotnet build "$1" -c Release -o "$2" -v quiet -nologo 2>&1); then
    echo "$out" >&2
    echo "build of $1 failed" >&2
    exit 1
  fi
}

build() {
  if [[ -n "${AKKAKV_NODE_DLL:-}" ]]; then
    [[ -f "$NODE_DLL" ]] || { echo "AKKAKV_NODE_DLL='$NODE_DLL': no such file" >&2; exit 2; }
    return 0
  fi
  if [[ ! -f .build/host/akkakv-node.dll || -n "${AKKAKV_REBUILD:-}" ]] || [[ -n "$(find src hocon -newer .build/host/akkakv-node.dll -type f -not -path '*/obj/*' -not -path '*/bin/*' 2>/dev/null | head -1)" ]]; then
    echo "building the node and the CLI (Release)..."
    build_quietly src/Host/AkkaKv.Host.csproj .build/host
    build_quietly src/Client/AkkaKv.Cli/AkkaKv.Cli.csproj .build/cli
  fi
}

alive() { [[ -f "$DATA/$1/pid" ]] && kill -0 "$(cat "$DATA/$1/pid")" 2>/dev/null; }

start_node() {
  local n=$1 port resp http_args=(); port=$(port_of "$n"); resp=$(resp_port_of "$n")
  [[ ${AKKAKV_HTTP:-1} == 0 ]] || http_args=(--http-port "$(http_port_of "$n")")
  if alive "$n"; then echo "$n already running (pid $(cat $DATA/$n/pid))"; return; fi
  check_journal "$n"
  ensure_context_keys
  ensure_certs
  node_tls_args "$n"
  mkdir -p "$DATA/$n"
  # Three nodes share this machine's cores: idle thread-pool workers must not spin waiting for
  # work (the .NET default), or they take CPU from the other nodes.
  DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 nohup dotnet "$NODE_DLL" --name "$n" --host 127.0.0.1 --port "$port" --resp-port "$resp" "${http_args[@]}" "${SEEDS[@]}" --data-dir "$DATA/$n" --context-keys "$CONTEXT_KEYS" "${NODE_TLS[@]}" \
    >>"$DATA/$n/node.log" 2>&1 < /dev/null &
  echo $! > "$DATA/$n/pid"
  echo "started $n (pid $!) on 127.0.0.1:$port (RESP 127.0.0.1:$resp${http_args:+, HTTP 127.0.0.1:${http_args[1]}}), data in $DATA/$n, journal: $JOURNAL_DESC, log $DATA/$n/node.log"
}

wait_up() {
  local n=$1 deadline=$((SECONDS + 90))
  until tail -n +"$((${2:-0} + 1))" "$DATA/$n/node.log" | grep -q "member up"; do
    if ! alive "$n"; then echo "$n exited; see $DATA/$n/node.log:"; tail -20 "$DATA/$n/node.log"; exit 1; fi
    if (( SECONDS > deadline )); then echo "$n did not join within 90 s; see $DATA/$n/node.log"; exit 1; fi
    sleep 0.5
  done
}

# SIGTERM to a node this script started: it leaves the cluster gracefully (Akka's coordinated
# shutdown hands its replica slots off) and exits. Waits up to $2 seconds; fails if it still runs.
term_and_wait() {
  local n=$1 pid deadline=$((SECONDS + $2)); pid=$(cat "$DATA/$n/pid")
  if kill -0 "$pid" 2>/dev/null; then kill "$pid"; echo "stopping $n (pid $pid)"; fi
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

# Whether the cluster is ready, now: every node's /health/ready answers 200 (it is Up, no slot is
# unallocated or misplaced, none of its slots catching up), and `status --json` of every node
# shows each of n1..nK an Up, reachable member and nothing unallocated, misplaced, co-located or
# catching up. With AKKAKV_HTTP=0 only the latter. Sets NOT_READY to the first reason it is not.
CURL_TLS=(); HTTP_SCHEME=http
[[ $REMOTE_TLS == 1 ]] && { CURL_TLS=(--cacert "$CERTS/ca.crt"); HTTP_SCHEME=https; }
NOT_READY=""
ready_now() {
  local n answer code why json want
  if [[ ${AKKAKV_HTTP:-1} != 0 ]]; then
    for n in "${NODES[@]}"; do
      answer=$(curl -s -w '\n%{http_code}' --max-time 5 "${CURL_TLS[@]}" "$HTTP_SCHEME://127.0.0.1:$(http_port_of "$n")/health/ready" || true)
      code=${answer##*$'\n'}
      [[ $code == 200 ]] && continue
      # The reasons are the failing checks' descriptions (e.g. "12 replica slot(s) wait to move ...").
      why=$(jq -r '[.checks[] | select(.status != "Healthy") | .description] | join("; ")' <<<"${answer%$'\n'*}" 2>/dev/null || true)
      NOT_READY="$n: /health/ready answers ${code/#000/nothing}${why:+ ($why)}"; return 1
    done
  fi
  want=$(printf '%s\n' "${NODES[@]}" | jq -R . | jq -sc 'sort')
  for n in "${NODES[@]}"; do
    json=$(cli "${CLI_TLS[@]}" --nodes "$(client_endpoint_of "$n")" status --json 2>/dev/null) || { NOT_READY="$n: status did not answer"; return 1; }
    NOT_READY=$(jq -r --argjson want "$want" --arg n "$n" '
      ([.members[] | select(.status == "Up" and .reachable) | .node] | sort) as $up
      | if $up != $want then "\($n) sees Up and reachable: \($up | join(",")); waits for \($want | join(","))"
        elif .unallocatedSlots != 0 then "\($n): \(.unallocatedSlots) slot(s) unallocated"
        elif .misplacedSlots != 0 then "\($n): \(.misplacedSlots) slot(s) wait to move"
        elif .coLocatedPartitions != 0 then "\($n): \(.coLocatedPartitions) partition(s) co-located"
        elif .slotsCatchingUp != 0 then "\($n): \(.slotsCatchingUp // "unknown") slot(s) catching up"
        else "" end' <<<"$json")
    [[ -z $NOT_READY ]] || return 1
  done
}

# Waits until the cluster is ready in two polls a second apart (a slot that just moved may not have
# started catching up at the first), within $1 seconds; fails naming what was still missing. With
# $2 = progress, prints each new reason it waits for.
wait_ready() {
  local deadline=$((SECONDS + $1)) streak=0 shown=""
  while (( streak < 2 )); do
    if ready_now; then streak=$((streak + 1)); else
      streak=0
      if [[ ${2:-} == progress && $NOT_READY != "$shown" ]]; then echo "  waiting: $NOT_READY"; shown=$NOT_READY; fi
    fi
    (( streak >= 2 )) && return 0
    (( SECONDS < deadline )) || { echo "not ready within $1 s: $NOT_READY" >&2; return 1; }
    sleep 1
  done
}

# Until every replica slot is placed on its ring position (a new cluster places all Q*N slots once,
# which takes a few seconds), requests may wait on slots that are still starting.
# True when a `status` output ($1) shows every replica slot allocated and none waiting to move to its
# ring position.
slots_placed() { grep -q "^unallocated slots: 0 " <<<"$1" && grep -q "ring position: 0$" <<<"$1"; }

wait_settled() {
  local deadline=$((SECONDS + 120)) out
  echo -n "placing replica slots"
  while (( SECONDS < deadline )); do
    out=$(cli "${CLI_TLS[@]}" --nodes "$(client_endpoint_of n1)" status 2>/dev/null || true)
    if slots_placed "$out" && grep -q "^co-located partitions: 0$" <<<"$out" \
      && grep -q "^slots catching up: 0 " <<<"$out"; then
      echo " done"; return
    fi
    echo -n "."; sleep 1
  done
  echo " still settling after 120 s; see ./akkakv status"
}

# After a node left during `stop`: while two or more nodes still run, waits (up to 30 s, quietly)
# until the oldest of them reports every replica slot allocated again and none waiting to move to
# its ring position. The slots of the node that left get new homes, then the rebalancer moves up to
# all of them to the smaller ring's positions (256 moves pending right after a node of 3 left, done
# about a second later); if the next node were told to leave first, the coordinator could be writing
# a home or a hand-off on it as it goes, miss its majority and log an error (seen twice in CI:
# ShardHomeAllocated, then ShardHomeDeallocated once the wait covered allocation only).
# Takes the nodes from stop's RUNNING (youngest first), so the oldest running is the last alive.
wait_rehomed() {
  local running=0 oldest="" m out deadline=$((SECONDS + 30))
  for m in "${RUNNING[@]}"; do alive "$m" && { running=$((running + 1)); oldest=$m; }; done
  (( running >= 2 )) || return 0
  while (( SECONDS < deadline )); do
    out=$(cli "${CLI_TLS[@]}" --nodes "$(client_endpoint_of "$oldest")" status 2>/dev/null || true)
    slots_placed "$out" && return 0
    sleep 0.5
  done
}

case "${1:-}" in
  start)
    check_journal n1
    build
    declare -A offsets
    for n in "${NODES[@]}"; do mkdir -p "$DATA/$n"; touch "$DATA/$n/node.log"; offsets[$n]=$(wc -l < "$DATA/$n/node.log"); start_node "$n"; done
    for n in "${NODES[@]}"; do wait_up "$n" "${offsets[$n]}"; done
    wait_settled
    echo
    echo "AkkaKv cluster is up: $(for n in "${NODES[@]}"; do echo -n "$n 127.0.0.1:$(port_of "$n") (RESP $(resp_port_of "$n"))  "; done)"
    if [[ $REMOTE_TLS == 1 ]]; then
      echo "mutual TLS on remoting; clients: ./akkakv --nodes $(for n in "${NODES[@]}"; do echo -n "$(client_endpoint_of "$n"),"; done | sed 's/,$//') ${CLI_TLS[*]} status"
      echo "RESP speaks TLS: redis-cli --tls --cacert $CERTS/ca.crt -p $(resp_port_of n1)"
    elif (( OFFSET > 0 )); then
      echo "try:   ./akkakv --nodes $(client_endpoint_of n1) put hello world && redis-cli -p $(resp_port_of n2) GET hello"
    else
      echo "try:   ./akkakv put hello world && ./akkakv get hello && ./akkakv status"
    fi
    echo "stop:  ./cluster.sh stop"
    ;;
  build)
    # Only (re)build the node and the CLI into .build/ when the sources changed.
    build
    ;;
  start-node)
    check_journal "${2:-n1}"
    build
    n=${2:?node name}; mkdir -p "$DATA/$n"; touch "$DATA/$n/node.log"; off=$(wc -l < "$DATA/$n/node.log")
    # A node killed moments ago stays down MIN_DOWN_S in all: a new incarnation that starts
    # listening while a peer's first reconnect to the dead one is due (about 5 s after the crash)
    # can fail to join for good (docs/operations.md, "Restarting a crashed node").
    if [[ -f $DATA/$n/killed-at ]]; then
      left=$(( $(cat "$DATA/$n/killed-at") + MIN_DOWN_S - $(date +%s) )); rm -f "$DATA/$n/killed-at"
      if (( left > 0 )); then echo "$n was killed moments ago: starting it in $left s"; sleep "$left"; fi
    fi
    start_node "$n"; wait_up "$n" "$off"; echo "$n is up"; wait_settled
    ;;
  kill)
    n=${2:?node name}
    if alive "$n"; then kill -9 "$(cat $DATA/$n/pid)"; echo "killed $n (pid $(cat $DATA/$n/pid))"; rm -f "$DATA/$n/pid"; date +%s > "$DATA/$n/killed-at"; else echo "$n is not running"; fi
    ;;
  stop)
    # Every node this script started, whatever the cluster size was: one at a time, the youngest
    # first, each leaving the cluster gracefully before the next is told to (nodes that all leave
    # at once cannot all complete their leave: their shutdown times out, with warnings).
    RUNNING=($(ls "$DATA" 2>/dev/null | grep -E '^n[0-9]+$' | sort -rV || true))
    for n in "${RUNNING[@]}"; do
      if [[ -f $DATA/$n/pid ]]; then
        pid=$(cat "$DATA/$n/pid")
        term_and_wait "$n" 30 || kill -9 "$pid"
        rm -f "$DATA/$n/pid"
        wait_rehomed
      fi
    done
    echo "stopped"
    ;;
  rolling-restart)
    # Each node in turn: SIGTERM (it leaves and hands its slots off), start it again with the same
    # name, ports and data dir, then wait until every node is ready, its transfers done.
    check_journal n1
    build
    command -v jq >/dev/null || { echo "rolling-restart needs jq (apt-get install -y jq)" >&2; exit 2; }
    [[ ${AKKAKV_HTTP:-1} == 0 ]] || command -v curl >/dev/null || { echo "rolling-restart needs curl (or AKKAKV_HTTP=0)" >&2; exit 2; }
    ROLL_TIMEOUT=${AKKAKV_ROLL_TIMEOUT:-180}
    for n in "${NODES[@]}"; do alive "$n" || { echo "$n is not running: start the cluster first (./cluster.sh start)" >&2; exit 1; }; done
    echo "waiting until the cluster is ready before the first restart"
    wait_ready "$ROLL_TIMEOUT" progress || exit 1
    roll_start=$SECONDS
    for n in "${NODES[@]}"; do
      t0=$SECONDS
      if ! term_and_wait "$n" 60; then
        echo "$n (pid $(cat "$DATA/$n/pid")) still runs 60 s after SIGTERM; it is left running, see $DATA/$n/node.log" >&2; exit 1
      fi
      rm -f "$DATA/$n/pid"
      t_stop=$((SECONDS - t0))
      off=$(wc -l < "$DATA/$n/node.log")
      start_node "$n"
      wait_up "$n" "$off"
      t_up=$((SECONDS - t0))
      if ! wait_ready "$ROLL_TIMEOUT" progress; then
        echo "$n was restarted but the cluster did not become ready within $ROLL_TIMEOUT s (AKKAKV_ROLL_TIMEOUT); see ./cluster.sh status and $DATA/*/node.log" >&2; exit 1
      fi
      echo "$n restarted and ready in $((SECONDS - t0)) s (stopped after ${t_stop} s, member up after ${t_up} s)"
    done
    echo "rolling restart done in $((SECONDS - roll_start)) s"
    ;;
  status)
    cli "${CLI_TLS[@]}" --nodes "$(for n in "${NODES[@]}"; do echo -n "$(client_endpoint_of "$n"),"; done | sed 's/,$//')" status
    ;;
  *)
    sed -n '2,14p' "$0"; exit 2
    ;;
esac
