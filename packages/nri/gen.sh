#!/usr/bin/env bash
# Regenerates the protobuf-es v2 TypeScript of NRI's API (package nri.pkg.api.v1alpha1: the Runtime
# and Plugin services and every message) into packages/nri/src/gen/api_pb.ts, from pkg/api/api.proto
# of Debian sid's golang-github-containerd-nri-dev 0.8.0.
#
# 0.8.0 is a superset of trixie's 0.6.1 on the wire (it adds Configure's timeouts, Synchronize's
# `more`, pod IPs, pids limits, CDI devices and oom_score_adj; nothing is renamed or renumbered), so
# the one generated file serves both runtimes.
#
# The .deb is fetched with scripts/lib/apt-private.sh into the same cache folder scripts/nri-peer.sh
# uses ($TTRPC_CACHE/nri-peer/nri-0.8.0). Needs bookworm's protoc (installed here when missing) and
# node_modules/.bin/protoc-gen-es (npm ci). The output is committed; users need no protoc.
#
# The same run writes static codecs (no runtime library) with this repository's protoc-gen-ttrpc,
# run from its sources, into packages/nri/src/static/gen/: exported as @ttrpc/nri/static.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export TTRPC_CACHE=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
tree=$TTRPC_CACHE/nri-peer/nri-0.8.0
src=$tree/usr/share/gocode/src
proto=github.com/containerd/nri/pkg/api/api.proto
if [ ! -f "$src/$proto" ]; then
  # shellcheck source=../../scripts/lib/apt-private.sh
  APT_PRIVATE_DIR=$TTRPC_CACHE/apt-nri-sid APT_PRIVATE_SUITES="sid trixie bookworm-backports" \
    source scripts/lib/apt-private.sh
  apt_private_fetch "$tree" golang-github-containerd-nri-dev/sid || { echo "gen.sh: fetch failed" >&2; exit 1; }
fi
if ! command -v protoc >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
out=packages/nri/src/gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sout=packages/nri/src/static/gen
protoc \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out="$tmp" --es_opt=target=ts,import_extension=js,erasable_syntax=true \
  --plugin=protoc-gen-ttrpc=packages/protoc-gen-ttrpc/bin/protoc-gen-ttrpc-dev \
  --ttrpc_out="$tmp" --ttrpc_opt=target=ts,import_extension=js \
  -I "$src" "$proto"
rm -rf "$out" "$sout"
mkdir -p "$out" "$sout"
mv "$tmp/github.com/containerd/nri/pkg/api/api_pb.ts" "$out/api_pb.ts"
mv "$tmp/github.com/containerd/nri/pkg/api/api_ttrpc.ts" "$tmp/ttrpc_wire.ts" "$sout/"
# The wire helpers were written at the output root; beside the api file its import is "./".
sed -i 's#from "\(\.\./\)*ttrpc_wire\.js"#from "./ttrpc_wire.js"#' "$sout/api_ttrpc.ts"
echo "generated: $out/api_pb.ts ($(wc -l <"$out/api_pb.ts") lines) from $(sed -n 's/^golang-github-containerd-nri (\([^)]*\)).*/nri \1/p;q' <(zcat "$tree/usr/share/doc/golang-github-containerd-nri-dev/changelog.Debian.gz"))"
