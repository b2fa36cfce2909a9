#!/usr/bin/env node
// RSS of small processes, for the README's "Memory" table: `node bench/rss.mjs` (after npm run build).
// Each variant is a module file (as a user's program is) run 5 times in a fresh
// `node --expose-gc`; RSS is read after a full GC.
//   empty  — an empty module
//   net    — node:net listening on a unix socket (the floor for any Node server)
//   ttrpc  — dist/index.js serving one plain service on a unix socket
//   call   — the same after serving one 64-byte call
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../packages/ttrpc/dist/index.js", import.meta.url));
const settle = `await new Promise((r) => setTimeout(r, 200)); globalThis.gc(); await new Promise((r) => setTimeout(r, 50));
console.log(process.memoryUsage().rss);`;
// biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the generated module
const sock = "`/tmp/ttrpc-rss-${process.pid}.sock`";
const variants = {
  empty: settle,
  net: `import { createServer } from "node:net";
const s = createServer(); await new Promise((r) => s.listen(${sock}, r));
${settle} s.close();`,
  ttrpc: `import { createServer, defineService } from ${JSON.stringify(dist)};
const codec = { encode: (m) => m, decode: (b) => b };
const S = defineService({ typeName: "t.v1.S", methods: { echo: { name: "Echo", kind: "unary", input: codec, output: codec } } });
const server = createServer().register(S, { echo: (b) => b });
await server.listen(${sock});
${settle} await server.close();`,
  call: `import { connect, createClient, createServer, defineService } from ${JSON.stringify(dist)};
const codec = { encode: (m) => m, decode: (b) => b };
const S = defineService({ typeName: "t.v1.S", methods: { echo: { name: "Echo", kind: "unary", input: codec, output: codec } } });
const server = createServer().register(S, { echo: (b) => b });
const path = ${sock};
await server.listen(path);
const conn = await connect(path); await createClient(S, conn).echo(new Uint8Array(64)); await conn.close();
${settle} await server.close();`,
};
const mib = (n) => (n / 1048576).toFixed(2);
const dir = mkdtempSync(join(tmpdir(), "ttrpc-rss-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
for (const [name, source] of Object.entries(variants)) {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const out = execFileSync(process.execPath, ["--expose-gc", file], { encoding: "utf8" });
    runs.push(Number(out.trim()));
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(6)} ${mib(runs[0])}–${mib(runs[4])} MiB (median ${mib(runs[2])})`);
}
