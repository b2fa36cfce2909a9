#!/usr/bin/env bash
# Regenerates test/interop/static/gen/: the interop and bench services with static codecs from
# protoc-gen-ttrpc (run from its sources), for test/interop/static.test.ts.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
out=test/interop/static/gen
rm -rf "$out"
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ttrpc=packages/protoc-gen-ttrpc/bin/protoc-gen-ttrpc-dev \
  --ttrpc_out="$out" --ttrpc_opt=target=ts,import_extension=js \
  -I test/interop/proto -I bench/proto -I /usr/include \
  interop.proto bench.proto
echo "generated: $(find "$out" -name '*.ts' | sort | tr '\n' ' ')"
