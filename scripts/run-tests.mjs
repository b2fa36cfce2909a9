#!/usr/bin/env node
// Runs every *.test.ts under packages/*/src, packages/*/test and test/ with node's built-in runner
// through tsx. Workspace packages resolve to their TypeScript sources (the "ttrpc-source" export
// condition), so a test never runs a stale build; test/package tests import dist/ on purpose.
// Node 20's `node --test` does not expand globs, so the files are listed here.
// Arguments narrow the run to paths that contain any of them (`node scripts/run-tests.mjs interop`);
// an argument starting with "!" leaves such paths out (`node scripts/run-tests.mjs '!containerd'`).
// TEST_NODE names another node binary to run the tests with (see scripts/test-node-versions.sh).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.ts")) files.push(relative(root, path));
  }
}
for (const pkg of readdirSync(join(root, "packages"))) {
  for (const dir of ["src", "test"]) {
    const path = join(root, "packages", pkg, dir);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path);
  }
}
walk(join(root, "test"));
const args = process.argv.slice(2);
const include = args.filter((a) => !a.startsWith("!"));
const exclude = args.filter((a) => a.startsWith("!")).map((a) => a.slice(1));
const selected = files
  .sort()
  .filter((f) => include.length === 0 || include.some((x) => f.includes(x)))
  .filter((f) => !exclude.some((x) => f.includes(x)));
if (selected.length === 0) {
  console.error(`no test files match ${args.join(" ")}`);
  process.exit(1);
}
const result = spawnSync(
  process.env.TEST_NODE || process.execPath,
  ["--conditions=ttrpc-source", "--import", "tsx", "--test", "--test-reporter=spec", ...selected],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
