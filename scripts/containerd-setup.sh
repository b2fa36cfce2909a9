#!/usr/bin/env bash
# Prepares everything the containerd examples and tests need (root only, Debian bookworm):
#
#   - containerd 1.6 (bookworm), runc and busybox-static, through apt-get, when missing;
#   - containerd 1.7 (trixie), unpacked with dpkg -x into $TTRPC_CACHE/containerd17
#     through the private apt configuration in scripts/lib/apt-private.sh (never installed);
#   - a busybox rootfs in $TTRPC_CACHE/rootfs (/bin/busybox plus one symlink per applet);
#   - trixie's golang-github-containerd-containerd-dev (the .proto files that
#     packages/containerd/gen.sh compiles) in $TTRPC_CACHE/containerd-dev17.
#
# Idempotent: a second run finds everything in place and touches no network.
# Prints the paths at the end, in a form the shell can `eval`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt-private.sh
source "$here/lib/apt-private.sh"
cache=$TTRPC_CACHE

if [ "$(id -u)" != 0 ]; then
  echo "containerd-setup: must run as root (containerd, runc and apt-get need it)" >&2
  exit 1
fi

log() { echo "containerd-setup: $*" >&2; }
# apt_private_fetch is written for shells without errexit/pipefail (its cache probe is an
# `ls | head` that fails on a cold cache), so it runs in a condition context here.
fetch() {
  if ! apt_private_fetch "$@"; then
    log "apt_private_fetch $* failed"
    exit 1
  fi
}

# --- bookworm packages -------------------------------------------------------------------
need=()
for cmd in containerd:containerd ctr:containerd containerd-shim-runc-v2:containerd runc:runc busybox:busybox-static; do
  bin=${cmd%%:*}
  pkg=${cmd#*:}
  if ! command -v "$bin" >/dev/null 2>&1; then
    case " ${need[*]-} " in *" $pkg "*) ;; *) need+=("$pkg") ;; esac
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# --- containerd 1.7 from trixie -----------------------------------------------------------
ctd17=$cache/containerd17
if [ ! -x "$ctd17/usr/bin/containerd" ] || [ ! -x "$ctd17/usr/bin/containerd-shim-runc-v2" ]; then
  log "fetching containerd/trixie into $ctd17"
  rm -rf "$ctd17"
  fetch "$ctd17" containerd/trixie
fi

# --- busybox rootfs -----------------------------------------------------------------------
rootfs=$cache/rootfs
if [ ! -x "$rootfs/bin/busybox" ] || [ ! -e "$rootfs/.complete" ]; then
  log "building the busybox rootfs in $rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root}
  cp "$(command -v busybox)" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] && continue
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  touch "$rootfs/.complete"
fi

# --- .proto files (trixie containerd-dev, gogo-free) -----------------------------------------
dev17=$cache/containerd-dev17
protos=$dev17/usr/share/gocode/src/github.com/containerd/containerd/api
if [ ! -f "$protos/runtime/task/v2/shim.proto" ]; then
  log "fetching golang-github-containerd-containerd-dev/trixie into $dev17"
  rm -rf "$dev17"
  fetch "$dev17" golang-github-containerd-containerd-dev/trixie
fi

log "ready: containerd $(containerd --version | awk '{print $3}') and $("$ctd17/usr/bin/containerd" --version | awk '{print $3}'), $(runc --version | head -n 1)"
echo "TTRPC_CONTAINERD16_BIN=$(dirname "$(command -v containerd)")"
echo "TTRPC_CONTAINERD17_BIN=$ctd17/usr/bin"
echo "TTRPC_ROOTFS=$rootfs"
echo "TTRPC_CONTAINERD_PROTO_ROOT=$dev17/usr/share/gocode/src"
