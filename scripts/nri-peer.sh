#!/usr/bin/env bash
# Builds the NRI Go harness (test/nri/go) twice, offline, in GOPATH mode, from Debian's sources:
#   ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/nri-peer/bin/nri-harness-0.6.1   nri 0.6.1 + ttrpc 1.2.4 (trixie)
#   ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/nri-peer/bin/nri-harness-0.8.0   nri 0.8.0 + ttrpc 1.2.7 (sid)
# Both play the runtime with NRI's own pkg/adaptation, or a plugin with NRI's pkg/stub.
#
# - Go 1.22 (bookworm-backports) comes from the same cache folder as scripts/interop-peer.sh
#   ($TTRPC_CACHE/go-peer/go); it is fetched here if that script has not run yet.
# - Every package comes through scripts/lib/apt-private.sh (apt-get download + dpkg -x into the
#   cache, never installed). The sid packages have their own apt folder ($TTRPC_CACHE/apt-nri-sid)
#   because the .deb cache is keyed by package name and nri/ttrpc exist in both suites.
# - Only nri and ttrpc differ between the two trees; the rest (protobuf, grpc, cri-api, ...) is
#   trixie's in both, which Go 1.22 builds.
# - containerd 2.1.9 (sid, built on nri 0.8.0) is unpacked into $TTRPC_CACHE/containerd21 for
#   test/nri's containerd tests (1.7.24 comes from scripts/containerd-setup.sh).
# Idempotent: when both binaries are newer than their sources the script only prints their paths.
# Prints NRI_HARNESS_06=, NRI_HARNESS_08=, TTRPC_CONTAINERD21_BIN= (eval-able). Nothing is written
# into the clone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TTRPC_CACHE=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
out=$TTRPC_CACHE/nri-peer
bin06=$out/bin/nri-harness-0.6.1
bin08=$out/bin/nri-harness-0.8.0
sources=("$root"/test/nri/go/*.go "$root/scripts/nri-peer.sh")

log() { echo "nri-peer: $*" >&2; }
report() {
  echo "NRI_HARNESS_06=$bin06"
  echo "NRI_HARNESS_08=$bin08"
  echo "TTRPC_CONTAINERD21_BIN=$TTRPC_CACHE/containerd21/usr/bin"
}

# shellcheck source=lib/apt-private.sh
source "$root/scripts/lib/apt-private.sh"
# apt_private_fetch is not written for errexit/pipefail: call it in a condition.
fetch() { apt_private_fetch "$@" || { log "apt_private_fetch $* failed"; exit 1; }; }

# containerd 2.1.9 from sid (built on nri 0.8.0): test/nri runs its containerd tests on it too,
# next to trixie's 1.7.24 (nri 0.6.1) from scripts/containerd-setup.sh.
ctd21=$TTRPC_CACHE/containerd21
if [ ! -x "$ctd21/usr/bin/containerd" ] || [ ! -x "$ctd21/usr/bin/containerd-shim-runc-v2" ]; then
  log "fetching containerd/sid into $ctd21"
  rm -rf "$ctd21"
  APT_PRIVATE_DIR=$TTRPC_CACHE/apt-nri-sid APT_PRIVATE_SUITES="sid trixie bookworm-backports" \
    fetch "$ctd21" containerd/sid
fi

fresh() { [ -x "$1" ] && [ -z "$(find "${sources[@]}" -newer "$1" 2>/dev/null | head -n 1)" ]; }
if fresh "$bin06" && fresh "$bin08"; then
  log "up to date"
  report
  exit 0
fi
start=$(date +%s)

# Go 1.22, shared with scripts/interop-peer.sh.
goroot=$TTRPC_CACHE/go-peer/go/usr/lib/go-1.22
if [ ! -x "$goroot/bin/go" ] || [ ! -f "$goroot/src/runtime/runtime.go" ]; then
  log "fetching Go 1.22 (bookworm-backports)"
  fetch "$TTRPC_CACHE/go-peer/go" golang-1.22-go/bookworm-backports golang-1.22-src/bookworm-backports
fi

# What pkg/adaptation, pkg/api and pkg/stub import, besides nri and ttrpc themselves.
common=(
  golang-google-protobuf-dev/trixie
  golang-google-grpc-dev/trixie
  golang-google-genproto-dev/trixie
  golang-golang-x-sys-dev/trixie
  golang-golang-x-net-dev/trixie
  golang-golang-x-text-dev/trixie
  golang-github-sirupsen-logrus-dev/trixie
  golang-github-opencontainers-specs-dev/trixie
  golang-github-kubernetes-cri-api-dev/trixie
  golang-github-gogo-protobuf-dev/trixie
  golang-k8s-sigs-yaml-dev/trixie
  golang-gopkg-yaml.v2-dev/trixie
  golang-github-golang-protobuf-1-5-dev/trixie
)
stamp=$out/common/.unpacked
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${common[*]}" ]; then
  log "fetching Go sources (trixie): ${common[*]}"
  rm -rf "$out/common"
  fetch "$out/common" "${common[@]}"
  echo "${common[*]}" >"$stamp"
fi

# tree <dir> <apt dir> <suites> <pkg/suite>...: nri + ttrpc of one suite, unpacked once.
tree() {
  local dir=$1 aptdir=$2 suites=$3
  shift 3
  local stamp=$dir/.unpacked
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$*" ]; then
    log "fetching $*"
    rm -rf "$dir"
    APT_PRIVATE_DIR=$aptdir APT_PRIVATE_SUITES=$suites fetch "$dir" "$@"
    echo "$*" >"$stamp"
  fi
}
tree "$out/nri-0.6.1" "$TTRPC_CACHE/apt" "trixie bookworm-backports" \
  golang-github-containerd-nri-dev/trixie golang-github-containerd-ttrpc-dev/trixie
tree "$out/nri-0.8.0" "$TTRPC_CACHE/apt-nri-sid" "sid trixie bookworm-backports" \
  golang-github-containerd-nri-dev/sid golang-github-containerd-ttrpc-dev/sid golang-github-containerd-log-dev/trixie

export GOROOT=$goroot
export PATH=$goroot/bin:$PATH
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off
export GOCACHE=$out/gocache

# build <version> <binary>: our program in a private GOPATH in front of that version's tree.
build() {
  local version=$1 bin=$2
  local gopath=$out/gopath-$version
  rm -rf "$gopath"
  mkdir -p "$gopath/src/nriharness" "$out/bin"
  cp "$root"/test/nri/go/*.go "$gopath/src/nriharness/"
  local nri=$out/nri-$version/usr/share/gocode/src/github.com/containerd/nri
  local got
  got=$(sed -n 's/^golang-github-containerd-nri (\([^)-]*\).*/\1/p;q' <(zcat "$out/nri-$version/usr/share/doc/golang-github-containerd-nri-dev/changelog.Debian.gz"))
  [ -d "$nri/pkg/adaptation" ] || { log "no pkg/adaptation in $nri"; exit 1; }
  [ "$got" = "$version" ] || { log "expected nri $version, the package is $got"; exit 1; }
  log "building nri-harness against nri $version (go $(go env GOVERSION), GOPATH mode)"
  GOPATH=$gopath:$out/nri-$version/usr/share/gocode:$out/common/usr/share/gocode \
    go build -trimpath -ldflags "-X main.nriVersion=$version" -o "$bin.tmp" nriharness
  mv "$bin.tmp" "$bin"
}
fresh "$bin06" || build 0.6.1 "$bin06"
fresh "$bin08" || build 0.8.0 "$bin08"
log "built in $(($(date +%s) - start)) s"
report
