/**
 * The programs test/package/pack-install.test.ts writes into its scratch projects: what a user of
 * the installed tarballs writes, as TypeScript (type-checked strictly, then emitted and run) and as
 * plain CommonJS JavaScript. Each prints one line starting with "ok" when everything worked.
 */

/** A typed JSON service over the core alone (no protobuf runtime), as ESM or CommonJS TypeScript. */
export function coreProgram(format: "esm" | "cjs"): string {
  return `import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Code, type MessageCodec, TtrpcError, connect, createClient, createServer, defineService } from "ttrpc";

function json<T>(): MessageCodec<T> {
  return {
    encode: (m) => new TextEncoder().encode(JSON.stringify(m)),
    decode: (b) => JSON.parse(new TextDecoder().decode(b)) as T,
  };
}
const Greeter = defineService({
  typeName: "scratch.v1.Greeter",
  methods: {
    hello: { name: "Hello", kind: "unary", input: json<{ name: string }>(), output: json<{ text: string }>() },
    count: { name: "Count", kind: "server_streaming", input: json<{ to: number }>(), output: json<{ n: number }>() },
  },
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ttrpc-scratch-"));
  const path = join(dir, "s.sock");
  const server = createServer().register(Greeter, {
    hello: (req) => {
      if (!req.name) throw new TtrpcError("name is empty", Code.InvalidArgument);
      return { text: \`hello, \${req.name}\` };
    },
    async *count(req) {
      for (let n = 1; n <= req.to; n++) yield { n };
    },
  });
  await server.listen(path);
  const conn = await connect(path);
  try {
    const client = createClient(Greeter, conn);
    const reply: { text: string } = await client.hello({ name: "${format}" }, { timeoutMs: 5000 });
    const ns: number[] = [];
    for await (const m of client.count({ to: 3 })) ns.push(m.n);
    const err = await client.hello({ name: "" }).catch((e: unknown) => e);
    if (!(err instanceof TtrpcError) || err.code !== Code.InvalidArgument) throw new Error("bad error");
    // Class names survive bundling: what console.log shows.
    const shown = inspect(new TtrpcError("x", Code.NotFound)).split("\\n")[0];
    console.log("ok", reply.text, ns.join(","), shown);
  } finally {
    await conn.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
`;
}

/** What a CommonJS JavaScript user writes: require() of the ESM-only package (Node >= 20.19). */
export const plainRequireProgram = `"use strict";
const { Code, TtrpcError, defineService } = require("ttrpc");
const svc = defineService({ typeName: "a.v1.B", methods: {} });
const e = new TtrpcError("x", Code.NotFound);
console.log("ok", svc.typeName, e.constructor.name, e.code);
`;

/**
 * Imports every installed workspace package (the ones with an import entry) and prints how many
 * exports each has, as ESM or CommonJS TypeScript.
 */
export function everyPackageProgram(names: string[], format: "esm" | "cjs"): string {
  const lines = names.map((n, i) => `import * as p${i} from ${JSON.stringify(n)};`);
  const counts = names.map((n, i) => `${JSON.stringify(n)}: Object.keys(p${i}).length`);
  return `${lines.join("\n")}
const counts: Record<string, number> = { ${counts.join(", ")} };
const empty = Object.entries(counts).filter(([, n]) => n === 0);
if (empty.length > 0) throw new Error(\`no exports: \${empty.map(([k]) => k).join(", ")}\`);
console.log("ok ${format}", JSON.stringify(counts));
`;
}

/** Prints the exported classes whose name matches their export name (esbuild renames clashes). */
export const classesProgram = `import * as ttrpc from "ttrpc";
const classes = Object.entries(ttrpc).filter(([, v]) => typeof v === "function" && /^class\\b/.test(String(v)));
const renamed = classes.filter(([k, v]) => v.name !== k).map(([k, v]) => k + " is " + v.name);
if (renamed.length > 0) throw new Error(renamed.join(", "));
console.log("ok", classes.map(([k]) => k).sort().join(","));
`;

/** Throws a TypeError from inside the library and prints its stack. */
export const throwsProgram = `import { defineService } from "ttrpc";
try {
  defineService({ typeName: "a.v1.B", methods: { m: {} } });
} catch (e) {
  console.log(e.stack);
}
`;
