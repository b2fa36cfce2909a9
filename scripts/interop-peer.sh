#!/usr/bin/env bash
# Builds the Go ttrpc interop peer (test/interop/go) against containerd/ttrpc 1.2.4 from Debian's
# source packages, offline, in GOPATH mode:
#   ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/go-peer/bin/ttrpc-interop-peer
#
# - Go 1.22 (golang-1.22-go + golang-1.22-src, bookworm-backports) and the Go sources
#   (trixie -dev packages) come through scripts/lib/apt-private.sh: apt-get download + dpkg -x
#   into the cache folder, never installed over the system.
# - protoc comes from bookworm (apt-get install -y protobuf-compiler libprotobuf-dev) if missing.
# - protoc-gen-go and protoc-gen-go-ttrpc are built from those sources; the Go code for
#   test/interop/proto/interop.proto and bench/proto/bench.proto is generated into the cache.
# Idempotent: when the binary is newer than its sources the script only prints its path
# (no network, well under a second). Nothing is written into the clone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TTRPC_CACHE=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
peer=$TTRPC_CACHE/go-peer
bin=$peer/bin/ttrpc-interop-peer

sources=(
  "$root"/test/interop/go/*.go
  "$root/test/interop/proto/interop.proto"
  "$root/bench/proto/bench.proto"
  "$root/scripts/interop-peer.sh"
)

log() { echo "interop-peer: $*" >&2; }

if [ -x "$bin" ] && [ -z "$(find "${sources[@]}" -newer "$bin" 2>/dev/null | head -n 1)" ]; then
  log "up to date"
  echo "$bin"
  exit 0
fi

start=$(date +%s)

# protoc and the well-known types (bookworm).
if ! command -v protoc >/dev/null || [ ! -f /usr/include/google/protobuf/empty.proto ]; then
  if [ "$(id -u)" != 0 ]; then
    log "protoc is missing: run (as root) apt-get install -y protobuf-compiler libprotobuf-dev"
    exit 1
  fi
  log "installing protobuf-compiler libprotobuf-dev (bookworm)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
fi

# shellcheck source=lib/apt-private.sh
source "$root/scripts/lib/apt-private.sh"

# Go 1.22 from bookworm-backports.
goroot=$peer/go/usr/lib/go-1.22
if [ ! -x "$goroot/bin/go" ] || [ ! -f "$goroot/src/runtime/runtime.go" ]; then
  log "fetching Go 1.22 (bookworm-backports)"
  # Called in an || list: apt-private.sh is not written for `set -e -o pipefail`.
  apt_private_fetch "$peer/go" golang-1.22-go/bookworm-backports golang-1.22-src/bookworm-backports ||
    { log "could not fetch Go 1.22 from bookworm-backports"; exit 1; }
fi

# Go ttrpc 1.2.4 and what it imports (trixie), unpacked into one GOPATH tree.
deps=(
  golang-github-containerd-ttrpc-dev/trixie
  golang-google-protobuf-dev/trixie
  golang-google-grpc-dev/trixie
  golang-google-genproto-dev/trixie
  golang-golang-x-sys-dev/trixie
  golang-github-sirupsen-logrus-dev/trixie
)
stamp=$peer/deps/.unpacked
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${deps[*]}" ]; then
  log "fetching Go sources (trixie): ${deps[*]}"
  rm -rf "$peer/deps"
  apt_private_fetch "$peer/deps" "${deps[@]}" || { log "could not fetch the Go sources from trixie"; exit 1; }
  echo "${deps[*]}" >"$stamp"
fi

export GOROOT=$goroot
export PATH=$goroot/bin:$PATH
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off
export GOPATH=$peer/gopath:$peer/deps/usr/share/gocode
export GOCACHE=$peer/gocache

# The protoc plugins, built from the Debian sources.
mkdir -p "$peer/tools"
if [ ! -x "$peer/tools/protoc-gen-go" ]; then
  log "building protoc-gen-go"
  go build -o "$peer/tools/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
fi
if [ ! -x "$peer/tools/protoc-gen-go-ttrpc" ]; then
  log "building protoc-gen-go-ttrpc"
  go build -o "$peer/tools/protoc-gen-go-ttrpc" github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc
fi

# Generated code and our program, in the private GOPATH.
src=$peer/gopath/src/ttrpcinterop
rm -rf "$src"
mkdir -p "$src/peer"
protoc \
  --plugin=protoc-gen-go="$peer/tools/protoc-gen-go" \
  --plugin=protoc-gen-go-ttrpc="$peer/tools/protoc-gen-go-ttrpc" \
  --go_out="$peer/gopath/src" --go-ttrpc_out="$peer/gopath/src" \
  -I "$root/test/interop/proto" -I "$root/bench/proto" -I /usr/include \
  interop.proto bench.proto
cp "$root"/test/interop/go/*.go "$src/peer/"

log "building ttrpc-interop-peer (go $(go env GOVERSION), GOPATH mode)"
mkdir -p "$peer/bin"
go build -trimpath -o "$bin.tmp" ttrpcinterop/peer
mv "$bin.tmp" "$bin"
log "built in $(($(date +%s) - start)) s"
echo "$bin"
