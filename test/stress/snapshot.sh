#!/usr/bin/env bash
# Runs the stress suite against the engine of a committed revision instead of the work tree's, so a
# change in progress under packages/ does not stop a measurement, and "before" and "after" figures
# come from exact commits (the suite itself, test/stress, is always the work tree's):
#   bash test/stress/snapshot.sh [REV] [-- run.ts arguments]      (REV defaults to HEAD)
#   bash test/stress/snapshot.sh [REV] --test                      (the quick tests, test/stress/*.test.ts)
# The revision is exported with `git archive` into $TMPDIR/ttrpc-stress-<sha>; its node_modules
# links to this checkout's packages, except the workspace packages, which point into the snapshot.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rev=${1:-HEAD}
[ $# -gt 0 ] && shift
mode=run
if [ "${1:-}" = "--test" ]; then mode=test; shift; fi
[ "${1:-}" = "--" ] && shift
sha=$(git -C "$root" rev-parse --short "$rev")
snap=${TMPDIR:-/tmp}/ttrpc-stress-$sha
if [ ! -d "$snap/packages" ]; then
  mkdir -p "$snap"
  git -C "$root" archive "$sha" | tar -x -C "$snap"
  mkdir -p "$snap/node_modules/@ttrpc"
  for entry in "$root"/node_modules/* "$root"/node_modules/.bin "$root"/node_modules/@*; do
    name=$(basename "$entry")
    case $name in ttrpc | @ttrpc) continue ;; esac
    ln -sfn "$entry" "$snap/node_modules/$name"
  done
  ln -sfn ../packages/ttrpc "$snap/node_modules/ttrpc"
  for pkg in "$snap"/packages/*; do
    name=$(node -p "require('$pkg/package.json').name" 2>/dev/null || true)
    case $name in @ttrpc/*) ln -sfn "../../packages/$(basename "$pkg")" "$snap/node_modules/$name" ;; esac
  done
fi
rm -rf "$snap/test/stress" && cp -r "$root/test/stress" "$snap/test/stress"
echo "stress: running against $rev ($sha) from $snap" >&2
cd "$snap"
if [ $mode = test ]; then exec node scripts/run-tests.mjs test/stress/; fi
STRESS_RESULTS=$root/bench/results exec node --expose-gc --conditions=ttrpc-source --import tsx test/stress/run.ts "$@"
