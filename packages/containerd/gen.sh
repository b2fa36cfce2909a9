#!/usr/bin/env bash
# Regenerates the protobuf-es v2 TypeScript for containerd's ttrpc APIs into packages/containerd/src/gen/
# from the .proto files shipped in Debian trixie's golang-github-containerd-containerd-dev (1.7.24,
# gogo-free), which scripts/containerd-setup.sh unpacks into $TTRPC_CACHE/containerd-dev17.
#
#   containerd.task.v2.Task                       api/runtime/task/v2/shim.proto
#   containerd.services.events.ttrpc.v1.Events    api/services/ttrpc/events/v1/events.proto
#   task event payloads (TaskCreate, TaskExit...)  api/events/task.proto
#   and what they import: api/types/{mount,fieldpath}.proto, api/types/task/task.proto.
#
# Needs bookworm's protoc (apt-get install -y protobuf-compiler libprotobuf-dev, done here when
# missing) and node_modules/.bin/protoc-gen-es (npm ci). The output is committed; users need no protoc.
# protoc names outputs after the import paths (github.com/containerd/containerd/api/...); the common
# prefix is stripped afterwards, which keeps every relative import between the files valid.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)  # the repository root
cd "$root"
cache=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
src=$cache/containerd-dev17/usr/share/gocode/src
if [ ! -f "$src/github.com/containerd/containerd/api/runtime/task/v2/shim.proto" ]; then
  echo "gen.sh: containerd .proto files missing: run scripts/containerd-setup.sh first" >&2
  exit 1
fi
if ! command -v protoc >/dev/null || [ ! -f /usr/include/google/protobuf/descriptor.proto ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
fi
out=packages/containerd/src/gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
api=github.com/containerd/containerd/api
protoc \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out="$tmp" --es_opt=target=ts,import_extension=js,erasable_syntax=true \
  -I "$src" -I /usr/include \
  "$api/runtime/task/v2/shim.proto" \
  "$api/services/ttrpc/events/v1/events.proto" \
  "$api/events/task.proto" \
  "$api/types/mount.proto" \
  "$api/types/fieldpath.proto" \
  "$api/types/task/task.proto"
rm -rf "$out"
mv "$tmp/$api" "$out"
if [ -n "$(find "$tmp" -type f)" ]; then
  echo "gen.sh: unexpected output outside $api: $(find "$tmp" -type f)" >&2
  exit 1
fi
echo "generated: $(cd "$out" && find . -name '*.ts' | sort | tr '\n' ' ')"

# Static codecs (no runtime library) from the same .proto files, with this repository's
# protoc-gen-ttrpc run from its sources: src/static/gen/, exported as @ttrpc/containerd/static.
# The google/protobuf WKTs and the wire helper module land at the output root; moving them next to
# the api files drops four directory levels from their relative imports.
sout=packages/containerd/src/static/gen
stmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$stmp"' EXIT
protoc \
  --plugin=protoc-gen-ttrpc=packages/protoc-gen-ttrpc/bin/protoc-gen-ttrpc-dev \
  --ttrpc_out="$stmp" --ttrpc_opt=target=ts,import_extension=js \
  -I "$src" -I /usr/include \
  "$api/runtime/task/v2/shim.proto" \
  "$api/services/ttrpc/events/v1/events.proto" \
  "$api/events/task.proto" \
  "$api/types/mount.proto" \
  "$api/types/fieldpath.proto" \
  "$api/types/task/task.proto"
rm -rf "$sout"
mkdir -p "$(dirname "$sout")"
mv "$stmp/$api" "$sout"
mv "$stmp/google" "$stmp/ttrpc_wire.ts" "$sout/"
find "$sout" -name '*_ttrpc.ts' -path "$sout/*/*" ! -path "$sout/google/*" -exec \
  perl -pi -e 's#from "(?:\.\./){4}((?:\.\./)*)(google/|ttrpc_wire)#"from \"" . ($1 eq "" ? "./" : $1) . $2#e' {} +
echo "generated: $(cd "$sout" && find . -name '*.ts' | sort | tr '\n' ' ')"
