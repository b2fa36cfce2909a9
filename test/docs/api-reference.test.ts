// The API reference: `npm run docs` (TypeDoc over the packages' TSDoc, offline) writes a page for
// every exported class, function and type of `ttrpc` and `@ttrpc/containerd`. Its warnings (a
// {@link} to something not exported, ...) are listed as diagnostics.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { root } from "./markdown.js";

test("npm run docs: TypeDoc writes the API reference", { timeout: 120_000 }, (t) => {
  const out = mkdtempSync(join(tmpdir(), "ttrpc-api-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const typedoc = join(root, "docs", "node_modules", ".bin", "typedoc");
  assert.ok(existsSync(typedoc), "TypeDoc is installed in the docs workspace (npm ci)");
  const r = spawnSync(typedoc, ["--options", "typedoc.config.mjs", "--out", out], {
    cwd: join(root, "docs"),
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    timeout: 110_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const classes = readdirSync(join(out, "classes"));
  for (const name of ["Connection", "Metadata", "Server", "TtrpcError"]) {
    assert.ok(classes.includes(`ttrpc.${name}.html`), `a page for ${name}: ${classes.join(", ")}`);
  }
  const functions = readdirSync(join(out, "functions"));
  for (const name of ["connect", "createClient", "createServer", "defineService"]) {
    assert.ok(functions.includes(`ttrpc.${name}.html`), `a page for ${name}`);
  }
  const modules = readdirSync(join(out, "modules"));
  assert.ok(
    modules.some((m) => m.includes("containerd")),
    "the @ttrpc/containerd module",
  );
  for (const line of `${r.stdout}${r.stderr}`.split("\n").filter((l) => /warning/.test(l))) {
    t.diagnostic(line);
  }
});
