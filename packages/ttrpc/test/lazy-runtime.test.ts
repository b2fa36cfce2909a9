// @bufbuild/protobuf is an optional peer: a process that uses only plain service definitions
// must never load it; one that uses a GenService loads it on first use.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { nodeBinary } from "./helpers.js";

function run(mode: string) {
  // Node's loader flags and module.register(): the child is Node, whatever runs this file.
  const r = spawnSync(
    nodeBinary(),
    [
      "--import",
      "tsx",
      "--import",
      "./test/fixtures/record-imports.mjs",
      "test/fixtures/plain-or-es.ts",
      mode,
    ],
    { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname, timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, loaded: r.stderr.split("\n").filter((l) => l.startsWith("LOADED ")) };
}

describe("optional protobuf runtime", { timeout: 150_000 }, () => {
  it("a plain service never loads @bufbuild/protobuf", { timeout: 70_000 }, () => {
    const { stdout, loaded } = run("plain");
    assert.match(stdout, /result 2/);
    assert.deepEqual(loaded, []);
  });

  it("a GenService loads it (the detector works)", { timeout: 70_000 }, () => {
    const { stdout, loaded } = run("es");
    assert.match(stdout, /result 2/);
    assert.ok(loaded.length > 0);
  });
});
