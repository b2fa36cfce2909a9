#!/usr/bin/env bash
# Builds the Go tracing interop peer (test/otel/go) against containerd/otelttrpc 0.1.0 and
# containerd/ttrpc 1.2.7 from Debian's source packages, offline, in GOPATH mode:
#   ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/otel-peer/bin/ttrpc-otel-peer
#
# - Go 1.22 (bookworm-backports) and the trixie sources come through scripts/lib/apt-private.sh
#   with its default folder (the .deb files are shared with scripts/interop-peer.sh).
# - otelttrpc 0.1.0, ttrpc 1.2.7 and containerd/log come from sid, through a second private apt
#   folder ($TTRPC_CACHE/apt-sid): ttrpc has one package name in both suites (1.2.4 in trixie,
#   which the other peer pins) and the .deb cache is keyed by name.
# - OpenTelemetry Go is trixie's 1.31 (sid's newer one needs a newer Go than 1.22).
# - No protoc: the relay service uses google.protobuf.StringValue from protobuf's known types.
# Its own GOPATH and GOCACHE under otel-peer/, apart from go-peer/ (ttrpc 1.2.4).
# Idempotent: when the binary is newer than its sources the script only prints its path.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TTRPC_CACHE=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
peer=$TTRPC_CACHE/otel-peer
bin=$peer/bin/ttrpc-otel-peer

sources=("$root"/test/otel/go/*.go "$root/scripts/otel-peer.sh")

log() { echo "otel-peer: $*" >&2; }

if [ -x "$bin" ] && [ -z "$(find "${sources[@]}" -newer "$bin" 2>/dev/null | head -n 1)" ]; then
  log "up to date"
  echo "$bin"
  exit 0
fi

start=$(date +%s)

# shellcheck source=lib/apt-private.sh
source "$root/scripts/lib/apt-private.sh"

# Go 1.22 from bookworm-backports (the default apt folder: the same .deb as interop-peer.sh).
goroot=$peer/go/usr/lib/go-1.22
if [ ! -x "$goroot/bin/go" ] || [ ! -f "$goroot/src/runtime/runtime.go" ]; then
  log "fetching Go 1.22 (bookworm-backports)"
  # Called in an || list: apt-private.sh is not written for `set -e -o pipefail`.
  apt_private_fetch "$peer/go" golang-1.22-go/bookworm-backports golang-1.22-src/bookworm-backports ||
    { log "could not fetch Go 1.22 from bookworm-backports"; exit 1; }
fi

# The Go sources, unpacked into one GOPATH tree: sid first for what must be newer, then trixie.
sid_deps=(
  golang-github-containerd-otelttrpc-dev/sid
  golang-github-containerd-ttrpc-dev/sid
  golang-github-containerd-log-dev/sid
)
trixie_deps=(
  golang-opentelemetry-otel-dev/trixie
  golang-github-go-logr-logr-dev/trixie
  golang-github-go-logr-stdr-dev/trixie
  golang-github-google-uuid-dev/trixie
  golang-google-protobuf-dev/trixie
  golang-google-grpc-dev/trixie
  golang-google-genproto-dev/trixie
  golang-golang-x-sys-dev/trixie
  golang-github-sirupsen-logrus-dev/trixie
)
stamp=$peer/deps/.unpacked
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${sid_deps[*]} ${trixie_deps[*]}" ]; then
  log "fetching Go sources: ${sid_deps[*]} ${trixie_deps[*]}"
  rm -rf "$peer/deps"
  APT_PRIVATE_DIR=$TTRPC_CACHE/apt-sid APT_PRIVATE_SUITES=sid apt_private_fetch "$peer/deps" "${sid_deps[@]}" ||
    { log "could not fetch the Go sources from sid"; exit 1; }
  apt_private_fetch "$peer/deps" "${trixie_deps[@]}" || { log "could not fetch the Go sources from trixie"; exit 1; }
  echo "${sid_deps[*]} ${trixie_deps[*]}" >"$stamp"
fi

export GOROOT=$goroot
export PATH=$goroot/bin:$PATH
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off
export GOPATH=$peer/gopath:$peer/deps/usr/share/gocode
export GOCACHE=$peer/gocache

src=$peer/gopath/src/ttrpcotelpeer
rm -rf "$src"
mkdir -p "$src"
cp "$root"/test/otel/go/*.go "$src/"

log "building ttrpc-otel-peer (go $(go env GOVERSION), GOPATH mode)"
mkdir -p "$peer/bin"
go build -trimpath -o "$bin.tmp" ttrpcotelpeer
mv "$bin.tmp" "$bin"
log "built in $(($(date +%s) - start)) s"
echo "$bin"
