// examples/README.md is the index of the examples: every example file (examples/*.ts and
// examples/<topic>/*.ts; a folder such as containerd/shim/ is linked as a folder) must be listed,
// and every relative link in it must point at something that exists.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { root } from "./markdown.js";

const examples = join(root, "examples");

/** The example files an index must list: top level and one folder down, generated code aside. */
function exampleFiles(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(examples)) {
    const path = join(examples, name);
    if (name.endsWith(".ts")) out.push(name);
    if (!statSync(path).isDirectory() || name === "gen" || name === "proto") continue;
    for (const inner of readdirSync(path)) if (inner.endsWith(".ts")) out.push(`${name}/${inner}`);
  }
  return out.sort();
}

test("examples/README.md lists every example, and its links resolve", { timeout: 10_000 }, () => {
  const index = readFileSync(join(examples, "README.md"), "utf8");
  const links = [...index.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string);
  const local = links.filter((l) => !/^[a-z]+:/.test(l));
  const missing = local.filter((l) => !existsSync(join(examples, l)));
  assert.deepEqual(missing, [], "links to files that do not exist");
  const unlisted = exampleFiles().filter(
    (f) => !local.includes(f) && !local.includes(`${dirname(f)}/`),
  );
  assert.deepEqual(unlisted, [], "examples not listed in examples/README.md");
});
