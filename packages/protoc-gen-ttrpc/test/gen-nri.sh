#!/usr/bin/env bash
# Generates NRI's API (pkg/api/api.proto of golang-github-containerd-nri-dev 0.8.0, the file
# packages/nri uses, fetched by packages/nri/gen.sh or scripts/nri-peer.sh into the cache) with
# protobuf-es and with protoc-gen-ttrpc into test/nri/gen/{es,ttrpc}, for the differential tests.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)
cache=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
src=$cache/nri-peer/nri-0.8.0/usr/share/gocode/src
proto=github.com/containerd/nri/pkg/api/api.proto
if [ ! -f "$src/$proto" ]; then
  echo "gen-nri.sh: $src/$proto missing: run packages/nri/gen.sh or scripts/nri-peer.sh first" >&2
  exit 1
fi
rm -rf nri/gen
mkdir -p nri/gen/es nri/gen/ttrpc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc \
  --plugin=protoc-gen-es="$root/node_modules/.bin/protoc-gen-es" \
  --es_out="$tmp" --es_opt=target=ts,import_extension=js,erasable_syntax=true \
  --plugin=protoc-gen-ttrpc=../bin/protoc-gen-ttrpc-dev \
  --ttrpc_out="$tmp" --ttrpc_opt=target=ts,import_extension=js \
  -I "$src" "$proto"
mv "$tmp/github.com/containerd/nri/pkg/api/api_pb.ts" nri/gen/es/
mv "$tmp/github.com/containerd/nri/pkg/api/api_ttrpc.ts" "$tmp/ttrpc_wire.ts" nri/gen/ttrpc/
sed -i 's#from "\(\.\./\)*ttrpc_wire\.js"#from "./ttrpc_wire.js"#' nri/gen/ttrpc/api_ttrpc.ts
if [ -n "$(find "$tmp" -type f)" ]; then
  echo "gen-nri.sh: unexpected output: $(find "$tmp" -type f)" >&2
  exit 1
fi
echo "generated: $(find nri/gen -name '*.ts' | sort | tr '\n' ' ')"
