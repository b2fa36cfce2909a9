#!/usr/bin/env bash
# Regenerates bench/systems/static/gen/ (the ttrpc-static system's messages and service) from
# bench/proto/bench.proto with this repository's protoc-gen-ttrpc, run from its sources.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
rm -rf bench/systems/static/gen
mkdir -p bench/systems/static/gen
protoc \
  --plugin=protoc-gen-ttrpc=packages/protoc-gen-ttrpc/bin/protoc-gen-ttrpc-dev \
  --ttrpc_out=bench/systems/static/gen --ttrpc_opt=target=ts,import_extension=js \
  -I bench/proto bench/proto/bench.proto
echo "generated: $(find bench/systems/static/gen -name '*.ts' | sort | tr '\n' ' ')"
