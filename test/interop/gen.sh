#!/usr/bin/env bash
# Regenerates the protobuf-es TypeScript for the interop and bench protos into test/interop/gen/.
# Needs protoc (bookworm: apt-get install -y protobuf-compiler libprotobuf-dev) and npm ci.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
protoc \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out=test/interop/gen --es_opt=target=ts,import_extension=js \
  -I test/interop/proto -I bench/proto -I /usr/include \
  interop.proto bench.proto
echo "generated: $(ls test/interop/gen/*.ts | tr '\n' ' ')"
