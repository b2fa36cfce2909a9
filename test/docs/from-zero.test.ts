// The From-zero guide's other generation path: its `protoc` command line (protoc and
// protoc-gen-es from npm, offline) generates the same code as `buf generate`, which
// docs.test.ts runs before compiling and running the guide's server and client.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { blocks } from "./markdown.js";
import { DocProject } from "./project.js";

const doc = "docs/from-zero.md";

test("From zero: the guide's protoc line generates what buf generate does", {
  timeout: 120_000,
}, async (t) => {
  const all = blocks(doc);
  const project = new DocProject(all);
  t.after(() => project.dispose());
  // The commands as the guide prints them, except `npm install -D protoc`: the workspace has it.
  const bash = all.filter((b) => b.lang === "bash").map((b) => b.code);
  const lines = bash
    .flatMap((code) => code.split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim());
  const protocLines = lines.filter((l) => /^(mkdir -p src\/gen|npx protoc )/.test(l));
  assert.equal(protocLines.length, 2, `the guide's protoc commands: ${protocLines.join(" | ")}`);
  assert.ok(lines.includes("npx buf generate"), "the guide's buf command");
  const generated = join(project.dir, "src/gen/greeter/v1/greeter_pb.ts");

  project.shell("npx buf generate");
  const byBuf = readFileSync(generated, "utf8");
  project.shell("rm -rf src/gen");
  for (const line of protocLines) project.shell(line);
  const byProtoc = readFileSync(generated, "utf8");
  assert.match(byProtoc, /export const Greeter: GenService</);
  // The only difference allowed: the header comment naming the generator's input.
  const body = (s: string) => s.replace(/^\/\/.*\n/gm, "");
  assert.equal(body(byProtoc), body(byBuf));
  assert.deepEqual(project.typecheck(), []);
});
