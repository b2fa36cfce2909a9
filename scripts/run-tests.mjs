#!/usr/bin/env node
// Runs every *.test.ts under packages/*/src, packages/*/test and test/ with node's built-in runner
// through tsx. Workspace packages resolve to their TypeScript sources (the "ttrpc-source" export
// condition), so a test never runs a stale build; test/package tests import dist/ on purpose.
// Node 20's `node --test` does not expand globs, so the files are listed here.
// Arguments narrow the run to paths that contain any of them (`node scripts/run-tests.mjs interop`);
// an argument starting with "!" leaves such paths out (`node scripts/run-tests.mjs '!containerd'`).
// TEST_NODE names another node binary to run the tests with (see scripts/test-node-versions.sh).
// Skips are listed at the end, never hidden in the middle. A suite that cannot run here (a missing
// peer, binary or privilege) declares a skipped test or describe whose reason says why and how to
// fix it — `describe(name, { skip: "Go ttrpc peer missing: run scripts/interop-peer.sh" }, …)`.
// scripts/lib/skip-reporter.mjs (a second reporter) collects every skip and todo with its file and
// reason; after the run each is printed as `SKIPPED-SUITE: <file>: <name>: <why>` or `TODO: …`.
// Under CI=true a skip fails the run (exit 1); todos (known, tracked defects) are listed only.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
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
const skipDir = mkdtempSync(join(tmpdir(), "ttrpc-skips-"));
const skipLog = join(skipDir, "skips.jsonl");
const result = spawnSync(
  process.env.TEST_NODE || process.execPath,
  [
    "--conditions=ttrpc-source",
    "--import",
    "tsx",
    "--test",
    // A test without its own { timeout } fails after 2 minutes instead of hanging the run.
    "--test-timeout=120000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${join(root, "scripts/lib/skip-reporter.mjs")}`,
    `--test-reporter-destination=${skipLog}`,
    ...selected,
  ],
  { cwd: root, stdio: "inherit" },
);
process.exit(summarizeSkips(result.status ?? 1));

/** Prints every skip and todo of the run; under CI=true a skip turns a passing run into a failure. */
function summarizeSkips(status) {
  let lines = [];
  try {
    lines = readFileSync(skipLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    // no reporter output: the run died before any test
  }
  rmSync(skipDir, { recursive: true, force: true });
  const skips = lines.filter((l) => l.kind === "skip");
  const todos = lines.filter((l) => l.kind === "todo");
  if (lines.length > 0)
    console.log("\n── skipped and todo ─────────────────────────────────────────");
  for (const l of skips)
    console.log(`SKIPPED-SUITE: ${l.file}: ${l.name}: ${l.reason || "(no reason)"}`);
  for (const l of todos) console.log(`TODO: ${l.file}: ${l.name}: ${l.reason || "(no reason)"}`);
  console.log(`${skips.length} skipped, ${todos.length} todo (see above)`);
  if (skips.length > 0 && process.env.CI === "true") {
    console.log("CI=true: a skipped suite is a failure");
    return status || 1;
  }
  return status;
}
