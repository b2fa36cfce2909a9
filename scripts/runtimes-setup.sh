#!/usr/bin/env bash
# Installs Bun and Deno for test/runtimes/ from their npm packages (@oven/bun-linux-x64,
# @deno/linux-x64-glibc: each ships the runtime's binary), cached under
# ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/runtimes/{bun,deno}/ — never installed over the system.
# Idempotent: a cached binary of the pinned version is kept. Prints the two paths.
# Usage: scripts/runtimes-setup.sh     (then: node scripts/run-tests.mjs runtimes)
set -euo pipefail
BUN_VERSION=${BUN_VERSION:-1.4.5}
DENO_VERSION=${DENO_VERSION:-2.9.6}
cache=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/runtimes
mkdir -p "$cache"

# install <dir> <npm spec> <binary inside the package> <version flag output must contain>
install() {
  local dir=$cache/$1 spec=$2 inner=$3 version=$4
  if [ -x "$dir/bin/$1" ] && "$dir/bin/$1" --version 2>/dev/null | grep -qF "$version"; then
    echo "$1 $version: cached at $dir/bin/$1"
    return
  fi
  rm -rf "$dir" && mkdir -p "$dir/pkg" "$dir/bin"
  local tgz
  tgz=$(cd "$dir" && npm pack "$spec" --silent | tail -n 1)
  tar xzf "$dir/$tgz" -C "$dir/pkg" --strip-components=1
  rm -f "$dir/$tgz"
  chmod +x "$dir/pkg/$inner"
  ln -s "../pkg/$inner" "$dir/bin/$1"
  "$dir/bin/$1" --version | grep -qF "$version"
  echo "$1 $version: installed at $dir/bin/$1"
}

install bun "@oven/bun-linux-x64@$BUN_VERSION" bin/bun "$BUN_VERSION"
install deno "@deno/linux-x64-glibc@$DENO_VERSION" deno "$DENO_VERSION"
