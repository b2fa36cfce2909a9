#!/usr/bin/env bash
# What the `ttrpc` command's tests (test/cli) need beyond npm ci, scripts/interop-peer.sh and
# scripts/containerd-setup.sh: the .proto sources of containerd 1.7 and NRI from Debian trixie
# (golang-github-containerd-containerd-dev, golang-github-containerd-nri-dev), unpacked with
# scripts/lib/apt-private.sh into $TTRPC_CACHE. test/cli/compile.test.ts compiles them with protoc
# and with the pure-JS compiler and compares the descriptors; packages/cli/scripts/gen-schemas.sh
# builds the CLI's built-in descriptor sets from them. Idempotent; no network when warm.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt-private.sh
source "$here/lib/apt-private.sh"
cache=$TTRPC_CACHE
fetch() {
  if ! apt_private_fetch "$@"; then
    echo "cli-setup: apt_private_fetch $* failed" >&2
    exit 1
  fi
}
ctd=$cache/containerd-dev17
if [ ! -f "$ctd/usr/share/gocode/src/github.com/containerd/containerd/api/runtime/task/v2/shim.proto" ]; then
  fetch "$ctd" golang-github-containerd-containerd-dev/trixie
fi
nri=$cache/nri-dev
if [ ! -f "$nri/usr/share/gocode/src/github.com/containerd/nri/pkg/api/api.proto" ]; then
  fetch "$nri" golang-github-containerd-nri-dev/trixie
fi
echo "cli-setup: ready: $ctd, $nri" >&2
