// The real test suites under `bun test` and `deno test`, from the sources: the core's
// (packages/ttrpc/src and packages/ttrpc/test) and the Go interop suite (test/interop; it needs
// the Go peer, as under Node). Both runners accept node:test files in TypeScript; Deno needs
// --sloppy-imports (the tests import "./helpers.js" for helpers.ts) and both need the
// "ttrpc-source" condition. Each file runs in its own runner process, as under `node --test`:
// Bun and Deno otherwise run all files in one process, and the interop files then share module
// state and sockets (two size-limit tests fail that way, and pass alone). Failures are matched
// against KNOWN (harness limits, each with its reason, listed as todo); any other failure fails
// this test.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
const dirs = ["packages/ttrpc/src", "packages/ttrpc/test", "test/interop"];

/** The *.test.ts files under `dirs`, relative to the root. */
function testFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".test.ts")) out.push(relative(root, path));
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return out.sort();
}

/** Known failures by runtime: a substring of the test's full name, and why it fails there. */
const KNOWN: Record<string, [string, string][]> = {
  // None left: the fixtures that need Node's loader flags spawn `node` (helpers.ts nodeBinary()),
  // and the tests that close under pending calls attach their rejection handlers first.
  bun: [],
  deno: [],
};

interface Case {
  name: string;
  failed: boolean;
}

/** Test cases from a JUnit XML report (bun's and deno's). */
function parseJunit(xml: string, runtime: string): Case[] {
  const xmlText = (s: string) =>
    s
      .replace(/&gt;/g, ">")
      .replace(/&lt;/g, "<")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
  const cases: Case[] = [];
  const re = /<testcase name="([^"]*)" classname="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const [, name = "", classname = "", , body = ""] = m;
    const file = classname.startsWith("./") || classname.includes("/test/");
    // Bun names a case by its suite (classname); Deno puts "suite > test" in the name.
    const full = runtime === "bun" ? `${xmlText(classname)} > ${xmlText(name)}` : xmlText(name);
    // A Deno file-level entry fails whenever one of its steps does: count the steps only.
    if (runtime === "deno" && file) continue;
    cases.push({ name: full, failed: /<failure/.test(body) });
  }
  return cases;
}

function binary(name: "bun" | "deno"): string {
  return process.env[`TTRPC_${name.toUpperCase()}`] || join(cache, "runtimes", name, "bin", name);
}

function runner(name: "bun" | "deno", out: string, file: string): string[] {
  const bin = binary(name);
  const cond = "--conditions=ttrpc-source";
  // Bun's default per-test timeout (5 s) is shorter than some tests take on a loaded machine;
  // node:test has none, and every test sets its own.
  return name === "bun"
    ? [bin, cond, "test", "--timeout=60000", "--reporter=junit", `--reporter-outfile=${out}`, file]
    : [bin, "test", "-A", "--sloppy-imports", cond, "--no-check", `--junit-path=${out}`, file];
}

describe("the core's and the interop suites under bun test and deno test", () => {
  for (const rt of ["bun", "deno"] as const) {
    const skip = existsSync(binary(rt)) ? false : `${rt} not found: run scripts/runtimes-setup.sh`;
    test(`${rt} test: no failures beyond the known harness limits`, {
      timeout: 600_000,
      skip: process.env.CI === "true" ? false : skip,
    }, async (t) => {
      assert.equal(skip, false, String(skip));
      const dir = mkdtempSync(join(tmpdir(), `ttrpc-${rt}-suite-`));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const env = { ...process.env, NODE_OPTIONS: "", NO_COLOR: "1" };
      const cases: Case[] = [];
      let log = "";
      for (const [n, file] of testFiles().entries()) {
        const out = join(dir, `${n}.xml`);
        const [cmd, ...args] = runner(rt, out, file);
        const r = spawnSync(cmd as string, args, {
          cwd: root,
          env,
          encoding: "utf8",
          timeout: 240_000,
        });
        const xml = existsSync(out) ? readFileSync(out, "utf8") : "";
        const found = parseJunit(xml, rt);
        if (found.length === 0)
          cases.push({ name: `${file}: no report (exit ${r.status})`, failed: true });
        cases.push(...found);
        if (found.some((c) => c.failed) || found.length === 0)
          log += `${file}:\n${r.stdout}\n${r.stderr}\n`;
      }
      assert.ok(cases.length >= 200, `only ${cases.length} cases ran\n${log}`);
      const known = KNOWN[rt] ?? [];
      const failed = cases.filter((c) => c.failed);
      const unexpected = failed.filter((c) => !known.some(([k]) => c.name.includes(k)));
      assert.deepEqual(
        unexpected.map((c) => c.name),
        [],
        log.slice(-20_000),
      );
      for (const [k, why] of known) {
        if (failed.some((c) => c.name.includes(k))) {
          await t.test(`known: ${k}`, { todo: why }, () => assert.fail(`fails under ${rt}`));
        }
      }
      t.diagnostic(`${rt}: ${cases.length - failed.length} of ${cases.length} cases pass`);
    });
  }
});
