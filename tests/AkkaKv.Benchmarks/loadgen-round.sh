#!/usr/bin/env bash
# One round of the README's load generator on a FRESH local 3-node cluster: two 30 s runs of
#   ./akkakv --nodes 127.0.0.1:4001 loadgen --duration 30 --concurrency 16 --keys 10000 \
#     --value-size 100 --seed 42 --get-ratio R
# and prints the second (the first after a start is JIT warm-up), prefixed with TAG.
#   tests/AkkaKv.Benchmarks/loadgen-round.sh TAG [R, default 0: puts only]
# A/B another build or setting in the same sitting, interleaved, e.g.:
#   AKKAKV_NODE_DLL=/tmp/other/.build/host/akkakv-node.dll tests/AkkaKv.Benchmarks/loadgen-round.sh other
#   AKKAKV_CONFIG=/tmp/x.conf tests/AkkaKv.Benchmarks/loadgen-round.sh x     (a HOCON file of overrides)
#   tests/AkkaKv.Benchmarks/loadgen-round.sh this-tree
# (docs/performance.md, "The load generator on this tree"). Ports 4001-4003, 6381-6383 must be free.
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:?usage: loadgen-round.sh TAG [get-ratio]}
RATIO=${2:-0}
export AKKAKV_DATA
AKKAKV_DATA=$(mktemp -d)
cleanup() { ./cluster.sh stop >/dev/null 2>&1 || true; rm -rf "$AKKAKV_DATA"; }
trap cleanup EXIT
./cluster.sh start >/dev/null
out=""
for _ in 1 2; do
  out=$(./akkakv --nodes 127.0.0.1:4001 loadgen --duration 30 --concurrency 16 --keys 10000 --value-size 100 --seed 42 --get-ratio "$RATIO" 2>&1 | grep -E "^(put|get):" | grep -v " 0 ok" || true)
done
echo "$TAG: $out"
