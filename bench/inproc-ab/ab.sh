#!/usr/bin/env bash
# Before/after CPU cost of the engine, for changes on the hot path when the machine is too busy for
# wall-clock throughput (issue 8's byte accounting was measured this way): each workload runs
# alternately on two builds of the core (dist/index.js), `rounds` times, pinned to one CPU; every
# run reports operations per CPU-second of its process (client and server in one process).
#   bash bench/inproc-ab/ab.sh <before dist/index.js> <after dist/index.js> <rounds> [workloads...] > out.txt
#   node bench/inproc-ab/summary.mjs [--min-cpu 0.8] out.txt
# Workloads: unary-64-c1 unary-64-c32 unary-64k-c32 server-stream-1k client-stream-1k bidi-1k.
# Build a revision's core with: git archive <rev> | tar -x -C <dir>, link node_modules, npm run build -w ttrpc.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
before=$1; after=$2; rounds=${3:-6}; shift 3 || true
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(unary-64-c1 unary-64-c32 unary-64k-c32 server-stream-1k client-stream-1k bidi-1k)
pin=""; command -v taskset >/dev/null && pin="taskset -c 1"
for w in "${workloads[@]}"; do
  for _ in $(seq "$rounds"); do
    for side in before after; do
      eng=$before; [ "$side" = after ] && eng=$after
      echo "$side $($pin node "$here/run-one.mjs" "$eng" "$w" 1.5)"
    done
  done
done
