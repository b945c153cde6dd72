#!/usr/bin/env bash
# The write-path benchmark: redis-benchmark against n1 of a FRESH local AkkaKv cluster and, in
# the same run, against redis-server (appendonly yes) on the same box with the nodes stopped, so
# the denominator is Redis on an idle box. RUNS rounds (default 3); the table gives each round and
# the median, the ratio, p50/p99, and the nodes' CPU per operation (all nodes together, user +
# system time from /proc/<pid>/stat over the phase, divided by the operations).
#   tests/AkkaKv.Benchmarks/resp-vs-redis.sh [requests, default 100000]
# TESTS may also name cache-set, cache-get, cache-get-sliding: .NET's IDistributedCache
# (AddStackExchangeRedisCache, unchanged) driven by tests/AkkaKv.Benchmarks' "cache" mode with 50
# clients over 10,000 keys (run cache-set first: the gets read what it wrote; see CacheLoad.cs).
# KEYSPACE (100000): redis-benchmark's -r (random keys; for hset, random fields of its one hash "myhash").
# Environment: RUNS (3), TESTS (set,get: the redis-benchmark tests, e.g. incr), PIPELINE (1: redis-benchmark -P), AKKAKV_CLUSTER_SIZE (3), REDIS_PORT (6390),
# JOURNAL (sqlite, or postgresql: see below), RESP_TLS (0, or 1: see below), REMOTE_TLS (0, or 1).
# REMOTE_TLS=1: as RESP_TLS=1, and mutual TLS on Akka remoting between the nodes too
# (AKKAKV_REMOTE_TLS=1 ./cluster.sh start with the same PKI).
# RESP_TLS=1: TLS on the RESP port of both targets, with certificates made by ./akkakv certs in a
# temp dir: the nodes get --tls-cert/--tls-key (AKKAKV_TLS_CERT/KEY), redis-server its tls-port
# with the same certificate, and redis-benchmark --tls --cacert ca.crt (plain TCP between nodes).
# The cluster runs from ./cluster.sh with its data in a temp dir (AKKAKV_DATA), on ports 4001.. and
# 6381..: a cluster already on them is refused, not touched. Needs redis-tools and redis-server.
# JOURNAL=postgresql: each round also starts a fresh temporary PostgreSQL server of its own
# (initdb in a temp dir, as the postgres OS user when run as root; a free 127.0.0.1 port; trust
# auth) before the cluster, the nodes journal to it (AKKAKV_JOURNAL, AKKAKV_POSTGRES: one
# database per node), and it is stopped and deleted with the cluster, before Redis is measured.
# The nodes' CPU per operation then includes the PostgreSQL server's processes (the postmaster,
# its backends and background workers: what SQLite does inside the node processes).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
RUNS=${RUNS:-3}
TESTS=${TESTS:-set,get}
PIPELINE=${PIPELINE:-1}
KEYSPACE=${KEYSPACE:-100000}
REDIS_PORT=${REDIS_PORT:-6390}
AKKAKV_PORT=6381
for tool in redis-benchmark redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install redis-tools redis-server" >&2; exit 2; }
done
if redis-cli -p "$AKKAKV_PORT" PING >/dev/null 2>&1; then
  echo "something already serves 127.0.0.1:$AKKAKV_PORT (./cluster.sh stop first): this benchmark starts its own cluster" >&2; exit 2
fi
REMOTE_TLS=${REMOTE_TLS:-0}
export AKKAKV_REMOTE_TLS=$REMOTE_TLS
RESP_TLS=${RESP_TLS:-$REMOTE_TLS}
[[ $REMOTE_TLS == 1 && $RESP_TLS != 1 ]] && { echo "REMOTE_TLS=1 puts the node certificate on the RESP port too: RESP_TLS must be 1" >&2; exit 2; }
TLS_ARGS=()
JOURNAL=${JOURNAL:-sqlite}
# JOURNAL alone decides: journal variables of the caller's environment do not reach the nodes.
case "$JOURNAL" in
  sqlite) export AKKAKV_JOURNAL=sqlite AKKAKV_POSTGRES="" ;;
  postgresql)
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || { echo "JOURNAL=postgresql: no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install --no-install-recommends postgresql)" >&2; exit 2; } ;;
  *) echo "JOURNAL='$JOURNAL' must be sqlite or postgresql" >&2; exit 2 ;;
esac
CLK_TCK=$(getconf CLK_TCK)
work=$(mktemp -d)
export AKKAKV_DATA="$work/data"
redis_pid=""
pg_dir=""
cleanup() {
  ./cluster.sh stop >/dev/null 2>&1 || true
  stop_postgres
  if [[ -n "$redis_pid" ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The temporary PostgreSQL server (JOURNAL=postgresql), as the tests' PostgresServer runs one.
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() {
  local p
  for p in $(seq 55432 55532); do (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done
  echo "no free port in 55432-55532" >&2; return 1
}
start_postgres() {
  # Not under $work (mktemp -d is 0700, which the postgres user cannot enter).
  pg_dir=$(mktemp -d /tmp/akkakv-bench-pg.XXXXXX)
  mkdir -p "$pg_dir/socket"
  [[ $(id -u) -eq 0 ]] && chown -R postgres:postgres "$pg_dir"
  as_pg "$PG_BIN/initdb" -D "$pg_dir/data" --auth=trust -U postgres -E UTF8 --locale=C >"$pg_dir/initdb.log" 2>&1 \
    || { cat "$pg_dir/initdb.log" >&2; return 1; }
  local port; port=$(free_port)
  as_pg "$PG_BIN/pg_ctl" start -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $pg_dir/socket" >/dev/null \
    || { cat "$pg_dir/server.log" >&2; return 1; }
  export AKKAKV_JOURNAL=postgresql AKKAKV_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres"
  echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $pg_dir/data (fsync and synchronous_commit on: the defaults)" >&2
}
stop_postgres() {
  [[ -n "$pg_dir" ]] || return 0
  as_pg "$PG_BIN/pg_ctl" stop -D "$pg_dir/data" -m fast -w -t 60 >/dev/null 2>&1 || true
  rm -rf "$pg_dir"; pg_dir=""
}
# What each node's database holds (evidence that the nodes journal there, one database each).
pg_journal_rows() {
  local port=${AKKAKV_POSTGRES##*Port=} db out=""; port=${port%%;*}
  for db in $("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'akkakv\_%' ORDER BY 1"); do
    out+=" $db $("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d "$db" -Atc "SELECT count(*) FROM journal")"
  done
  echo "${out# }"
}
# CPU of the PostgreSQL server: its live processes (the postmaster's children) plus what the
# postmaster has reaped from children that exited (cutime + cstime).
pg_ticks() {
  [[ -n "$pg_dir" ]] || { echo 0; return; }
  local master t p; master=$(head -1 "$pg_dir/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$master/stat")
  for p in $(pgrep -P "$master"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}

# Sum of utime + stime (clock ticks) of the given pids.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }

# RESP_TLS=1: one development PKI for the whole run.
tls_setup() {
  [[ $RESP_TLS == 1 ]] || { export AKKAKV_TLS_CERT="" AKKAKV_TLS_KEY=""; return 0; }
  ./cluster.sh build
  dotnet .build/cli/akkakv-cli.dll certs --dir "$work/certs" --hosts 127.0.0.1 >/dev/null
  export AKKAKV_TLS_CERT="$work/certs/node.crt" AKKAKV_TLS_KEY="$work/certs/node.key"
  TLS_ARGS=(--tls --cacert "$work/certs/ca.crt")
  [[ $REMOTE_TLS == 1 ]] && export AKKAKV_CERTS="$work/certs"
  return 0
}
tls_setup

# bench <label> <port> <test> <run> <pids...>: one redis-benchmark phase; appends a CSV row.
bench() {
  local label=$1 port=$2 test=$3 run=$4; shift 4
  local before after out errors
  before=$(( $(ticks "$@") + $( [[ $label == akkakv ]] && pg_ticks || echo 0) ))
  if [[ $test == cache-* ]]; then
    out=$(dotnet "$CACHE_LOAD" cache "$test" "127.0.0.1:$port" "$N" 50 10000 2>"$work/err")
  else
    out=$(redis-benchmark "${TLS_ARGS[@]}" -p "$port" -t "$test" -n "$N" -c 50 -d 100 -r "$KEYSPACE" -P "$PIPELINE" --csv 2>"$work/err") || true
  fi
  after=$(( $(ticks "$@") + $( [[ $label == akkakv ]] && pg_ticks || echo 0) ))
  errors=$(grep -ci "error" "$work/err" || true)
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  echo "$out" | tr -d '"' | awk -F, -v l="$label" -v r="$run" -v cpu="$(( (after - before) * 1000000 / CLK_TCK ))" -v n="$N" -v e="$errors" \
    'NR>1 {printf "%s,%s,%s,%.0f,%s,%s,%.3f,%s\n", r, l, $1, $2, $5, $7, cpu/1000.0/n, e}' >> "$work/results.csv"
}

node_pids() { local p; for p in "$AKKAKV_DATA"/n*/pid; do cat "$p"; done; }

CACHE_LOAD=""
if [[ ,$TESTS, == *,cache-* ]]; then
  [[ $RESP_TLS == 1 ]] && { echo "the cache-* tests speak plain TCP: run them without RESP_TLS" >&2; exit 2; }
  dotnet build -c Release tests/AkkaKv.Benchmarks -o "$work/bench" >"$work/bench-build.log" 2>&1 || { cat "$work/bench-build.log" >&2; exit 1; }
  CACHE_LOAD="$work/bench/AkkaKv.Benchmarks.dll"
fi

for run in $(seq "$RUNS"); do
  echo "== run $run: fresh ${AKKAKV_CLUSTER_SIZE:-3}-node cluster, journal $JOURNAL" >&2
  rm -rf "$AKKAKV_DATA"
  [[ $JOURNAL == postgresql ]] && start_postgres
  ./cluster.sh start >"$work/cluster-$run.log" 2>&1 || { cat "$work/cluster-$run.log" >&2; exit 1; }
  mapfile -t pids < <(node_pids)
  echo "== run $run: akkakv (pids ${pids[*]}): redis-benchmark -p $AKKAKV_PORT -t $TESTS (one at a time) -n $N -c 50 -d 100 -r $KEYSPACE -P $PIPELINE" >&2
  for test in ${TESTS//,/ }; do bench akkakv "$AKKAKV_PORT" "$test" "$run" "${pids[@]}"; done
  [[ $JOURNAL == postgresql ]] && echo "== run $run: journal rows per node database: $(pg_journal_rows)" >&2
  ./cluster.sh stop >/dev/null 2>&1
  stop_postgres
  echo "== run $run: redis-server --appendonly yes on an idle box" >&2
  rm -rf "$work/redis"; mkdir -p "$work/redis"
  if [[ $RESP_TLS == 1 ]]; then
    redis-server --bind 127.0.0.1 --port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$AKKAKV_TLS_CERT" --tls-key-file "$AKKAKV_TLS_KEY" \
      --tls-ca-cert-file "$work/certs/ca.crt" --tls-auth-clients no --dir "$work/redis" --appendonly yes --save '' --daemonize no >"$work/redis.log" 2>&1 &
  else
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$work/redis" --appendonly yes --save '' --daemonize no >"$work/redis.log" 2>&1 &
  fi
  redis_pid=$!
  for _ in $(seq 100); do redis-cli "${TLS_ARGS[@]}" -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done
  for test in ${TESTS//,/ }; do bench redis "$REDIS_PORT" "$test" "$run" "$redis_pid"; done
  kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""
done

echo "journal: $JOURNAL$([[ $JOURNAL == postgresql ]] && echo " (akkakv's server CPU includes the PostgreSQL server's processes)"); RESP over TLS: $([[ $RESP_TLS == 1 ]] && echo "yes, both targets" || echo no); remoting TLS between the nodes: $([[ $REMOTE_TLS == 1 ]] && echo yes || echo no)"
echo "run,target,test,ops/s,p50 ms,p99 ms,server CPU ms/op,errors"
cat "$work/results.csv"
# Medians per target and test (ops/s, p50, p99, CPU), then the ratios of the medians.
awk -F, '
  { k=$2","$3; n[k]++; ops[k,n[k]]=$4; p50[k,n[k]]=$5; p99[k,n[k]]=$6; cpu[k,n[k]]=$7; err[k]+=$8 }
  function med(a, k, c,   i, j, t, v) { for (i=1;i<=c;i++) v[i]=a[k,i]; for (i=1;i<=c;i++) for (j=i+1;j<=c;j++) if (v[j]+0<v[i]+0) {t=v[i];v[i]=v[j];v[j]=t}; return v[int((c+1)/2)] }
  END {
    for (k in n) { m[k]=med(ops,k,n[k]); printf "median,%s,%s,%s,%s,%s,%d\n", k, m[k], med(p50,k,n[k]), med(p99,k,n[k]), med(cpu,k,n[k]), err[k] }
    for (t in n) { split(t, a, ","); if (a[1]=="akkakv" && ("redis,"a[2]) in m) printf "ratio %s: akkakv/redis = %.4f (median of %d runs)\n", toupper(a[2]), m[t]/m["redis,"a[2]], n[t] }
  }' "$work/results.csv" | sort
