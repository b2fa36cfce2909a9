// The plugin as protoc and buf run it: target=ts (the committed test/gen is what it generates
// today), target=js+dts, wire=inline, long_type=string, and a clear failure on a bad option.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const root = join(pkg, "..", "..");
const plugin = join(pkg, "bin", "protoc-gen-ttrpc-dev");
const buf = join(root, "node_modules", ".bin", "buf");

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function protoc(out: string, opt: string, protos: string[]) {
  return spawnSync(
    "protoc",
    [
      `--plugin=protoc-gen-ttrpc=${plugin}`,
      `--ttrpc_out=${out}`,
      `--ttrpc_opt=${opt}`,
      "-I",
      join(pkg, "test", "proto"),
      "-I",
      "/usr/include",
      ...protos,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "pgt-gen-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("protoc-gen-ttrpc under protoc and buf", { timeout: 120_000 }, () => {
  test("buf generate reproduces the committed test/gen", { timeout: 60_000 }, (t) => {
    const out = scratch(t);
    const r = spawnSync(buf, ["generate", "-o", out], {
      cwd: join(pkg, "test"),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const committed = join(pkg, "test", "gen");
    assert.deepEqual(files(join(out, "gen")), files(committed));
    for (const f of files(committed)) {
      assert.equal(
        readFileSync(join(out, "gen", f), "utf8"),
        readFileSync(join(committed, f), "utf8"),
        `${f} is stale: run test/gen.sh`,
      );
    }
  });

  test("protoc, target=js+dts: runnable JavaScript and declarations", {
    timeout: 60_000,
  }, async (t) => {
    const out = scratch(t);
    const r = protoc(out, "target=js+dts,import_extension=js,long_type=string", ["feature2.proto"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(files(out), [
      "feature2_ttrpc.d.ts",
      "feature2_ttrpc.js",
      "ttrpc_wire.d.ts",
      "ttrpc_wire.js",
    ]);
    const dts = readFileSync(join(out, "feature2_ttrpc.d.ts"), "utf8");
    assert.match(dts, /export interface P2 \{/);
    assert.match(dts, /r\?: string;/); // long_type=string
    const mod = await import(join(out, "feature2_ttrpc.js"));
    const m = mod.P2.create({ r: "-9007199254740993", g: { x: 3 } });
    const back = mod.P2.decode(mod.P2.toBinary(m));
    assert.equal(back.r, "-9007199254740993");
    assert.equal(back.g.x, 3);
  });

  test("protoc, wire=inline: no helper module, helpers in the file", { timeout: 60_000 }, (t) => {
    const out = scratch(t);
    const r = protoc(out, "target=ts,wire=inline", ["feature2.proto"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(files(out), ["feature2_ttrpc.ts"]);
    const text = readFileSync(join(out, "feature2_ttrpc.ts"), "utf8");
    assert.match(text, /^function \$tag\(/m);
    assert.doesNotMatch(text, /ttrpc_wire/);
  });

  test("a bad option fails with a clear message", { timeout: 60_000 }, (t) => {
    const out = scratch(t);
    const r = protoc(out, "wire=everywhere", ["feature2.proto"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /wire=everywhere: expected module or inline/);
  });
});
