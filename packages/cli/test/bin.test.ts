// The published entry point: bin/ttrpc.js runs the built dist/ (what `npx ttrpc` runs). npm ci and
// npm test build it; a bare checkout without dist/ skips this file (CI=true fails instead).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";

const bin = new URL("../bin/ttrpc.js", import.meta.url).pathname;
const built = existsSync(new URL("../dist/main.js", import.meta.url));
const skip =
  !built && process.env.CI !== "true" ? "packages/cli/dist missing: npm run build" : false;

test("bin/ttrpc.js: --version, help and the built-in schemas from dist/", {
  timeout: 30_000,
  skip,
}, () => {
  assert.ok(built, "packages/cli/dist/main.js missing: npm run build");
  assert.match(
    execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" }),
    /^ttrpc \d+\.\d+\.\d+\n$/,
  );
  assert.match(
    execFileSync(process.execPath, [bin, "call", "--help"], { encoding: "utf8" }),
    /^Usage: ttrpc call ADDR SERVICE\/METHOD/,
  );
  assert.match(
    execFileSync(process.execPath, [bin, "list"], { encoding: "utf8" }),
    /^containerd\.task\.v2\.Task$/m,
  );
});
