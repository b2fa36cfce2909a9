#!/usr/bin/env bash
# Builds the descriptor sets the `ttrpc` command has built in (packages/cli/schemas/*.binpb) from the
# .proto files Debian ships, so users need no schema flags for containerd and NRI:
#
#   containerd.binpb  trixie golang-github-containerd-containerd-dev 1.7.24 (gogo-free):
#                     containerd.task.v2.Task, containerd.task.v3.Task, containerd.runtime.sandbox.v1.Sandbox,
#                     containerd.services.events.ttrpc.v1.Events, the event payloads (api/events/*),
#                     the shared types (api/types/*) and the runc shim's options (containerd.runc.v1)
#   nri.binpb         trixie golang-github-containerd-nri-dev: nri.pkg.api.v1alpha1 (Runtime, Plugin)
#
# Both packages are fetched with scripts/lib/apt-private.sh (apt-get download + dpkg -x, cached in
# $TTRPC_CACHE, nothing installed). protoc is the npm `protoc` package (a devDependency, with the
# well-known types in its include/). The sets keep source info, so `ttrpc describe` shows comments.
# The output is committed: run this only to refresh it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../../scripts/lib/apt-private.sh
source "$root/scripts/lib/apt-private.sh"
cache=$TTRPC_CACHE
protoc_pkg=$root/node_modules/protoc
if [ ! -x "$root/node_modules/.bin/protoc" ]; then
  echo "gen-schemas: node_modules/.bin/protoc missing: run npm ci" >&2
  exit 1
fi
protoc() { "$root/node_modules/.bin/protoc" "$@"; }

ctd=$cache/containerd-dev17
if [ ! -f "$ctd/usr/share/gocode/src/github.com/containerd/containerd/api/runtime/task/v2/shim.proto" ]; then
  apt_private_fetch "$ctd" golang-github-containerd-containerd-dev/trixie
fi
nri=$cache/nri-dev
if [ ! -f "$nri/usr/share/gocode/src/github.com/containerd/nri/pkg/api/api.proto" ]; then
  apt_private_fetch "$nri" golang-github-containerd-nri-dev/trixie
fi

out=$here/../schemas
mkdir -p "$out"
c=github.com/containerd/containerd
(
  cd "$ctd/usr/share/gocode/src"
  protoc -I . -I "$protoc_pkg/include" --include_imports --include_source_info \
    --descriptor_set_out="$out/containerd.binpb" \
    $c/api/runtime/task/v2/shim.proto \
    $c/api/runtime/task/v3/shim.proto \
    $c/api/runtime/sandbox/v1/sandbox.proto \
    $c/api/services/ttrpc/events/v1/events.proto \
    $c/api/events/*.proto \
    $c/api/types/*.proto $c/api/types/task/task.proto \
    $c/runtime/v2/runc/options/oci.proto
)
(
  cd "$nri/usr/share/gocode/src"
  protoc -I . -I "$protoc_pkg/include" --include_imports --include_source_info \
    --descriptor_set_out="$out/nri.binpb" \
    github.com/containerd/nri/pkg/api/api.proto
)
ls -l "$out"/*.binpb
