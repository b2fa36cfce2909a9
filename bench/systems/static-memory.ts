// Memory and size of containerd's Task API with static codecs (protoc-gen-ttrpc) against
// protobuf-es: `node_modules/.bin/tsx bench/systems/static-memory.ts [--runs N]` (after
// `npm run build -w ttrpc`).
//
// RSS: like bench/rss.mjs, each variant is a module run in a fresh `node --expose-gc`, RSS read
// after a full GC, median of N runs, interleaved:
//   net         node:net listening on a unix socket (the floor for any Node server)
//   core        ttrpc serving one plain service (what the engine alone adds, as bench/rss.mjs)
//   static-loaded  core, with @ttrpc/containerd/static loaded but not registered (the codecs' cost)
//   static      ttrpc (dist/index.js) serving containerd.task.v2.Task, @ttrpc/containerd/static
//   static-call the same after serving one State call (client in the same process)
//   es          ttrpc serving the protobuf-es Task (@ttrpc/containerd, @bufbuild/protobuf)
//   es-call     the same after one State call
// The containerd code is bundled with esbuild (every export kept, so nothing is tree-shaken);
// ttrpc and @bufbuild/protobuf load from their packages, as in a user's program.
//
// Size: the generated TypeScript of both, and minified bundles of everything each needs for the
// API's messages and services (the generated code plus, for protobuf-es, its runtime).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "packages/ttrpc/dist/index.js");
const esbuild = join(root, "node_modules/.bin/esbuild");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 5);
// Inside node_modules, so the generated modules resolve @bufbuild/protobuf as a user's would.
const work = mkdtempSync(join(root, "node_modules", ".static-memory-"));

/** Bundles `import * as api from <spec>` into one ESM file, every export kept. */
function bundle(spec: string, out: string, minify: boolean, external: string[]): number {
  // The entry comes on stdin, resolved from the repository root (cwd).
  execFileSync(
    esbuild,
    [
      "--bundle",
      "--loader=ts",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--conditions=ttrpc-source",
      ...external.map((e) => `--external:${e}`),
      ...(minify ? ["--minify"] : []),
      `--outfile=${join(work, out)}`,
    ],
    {
      cwd: root,
      input: `export * from ${JSON.stringify(spec)};\n`,
      stdio: ["pipe", "ignore", "inherit"],
    },
  );
  return statSync(join(work, out)).size;
}

// ttrpc is imported by absolute path below; the bundles refer to "ttrpc" for defineService.
bundle("@ttrpc/containerd/static", "api-static.mjs", false, ["ttrpc"]);
bundle("@ttrpc/containerd", "api-es.mjs", false, [
  "ttrpc",
  "@bufbuild/protobuf",
  "@bufbuild/protobuf/*",
]);
for (const f of ["api-static.mjs", "api-es.mjs"]) {
  const p = join(work, f);
  writeFileSync(
    p,
    readFileSync(p, "utf8").replaceAll('from "ttrpc"', `from ${JSON.stringify(dist)}`),
  );
}

const settle = `await new Promise((r) => setTimeout(r, 200)); globalThis.gc(); await new Promise((r) => setTimeout(r, 50));
console.log(process.memoryUsage().rss);`;
// biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the generated module
const sock = "`/tmp/static-memory-${process.pid}.sock`";
const serve = (
  api: string,
  call: boolean,
) => `import { connect, createClient, createServer } from ${JSON.stringify(dist)};
import * as api from ${JSON.stringify(join(work, api))};
globalThis.keep = api;
const server = createServer();
server.register(api.Task, {
  state: (req) => ({ id: req.id, bundle: "/b", pid: 42, status: api.Status.RUNNING, stdin: "", stdout: "", stderr: "", terminal: false, exitStatus: 0, execId: "" }),
});
const path = ${sock};
await server.listen(path);
${call ? "const conn = await connect(path); const r = await createClient(api.Task, conn).state({ id: 'c1', execId: '' }); if (r.pid !== 42) throw new Error('bad reply'); await conn.close();" : ""}
${settle} await server.close();`;
const variants: Record<string, string> = {
  net: `import { createServer } from "node:net";
const s = createServer(); await new Promise((r) => s.listen(${sock}, r));
${settle} s.close();`,
  core: `import { createServer, defineService } from ${JSON.stringify(dist)};
const codec = { encode: (m) => m, decode: (b) => b };
const S = defineService({ typeName: "t.v1.S", methods: { echo: { name: "Echo", kind: "unary", input: codec, output: codec } } });
const server = createServer().register(S, { echo: (b) => b });
await server.listen(${sock});
${settle} await server.close();`,
  "static-loaded": `import { createServer, defineService } from ${JSON.stringify(dist)};
import * as api from ${JSON.stringify(join(work, "api-static.mjs"))};
globalThis.keep = api;
const codec = { encode: (m) => m, decode: (b) => b };
const S = defineService({ typeName: "t.v1.S", methods: { echo: { name: "Echo", kind: "unary", input: codec, output: codec } } });
const server = createServer().register(S, { echo: (b) => b });
await server.listen(${sock});
${settle} await server.close();`,
  static: serve("api-static.mjs", false),
  "static-call": serve("api-static.mjs", true),
  es: serve("api-es.mjs", false),
  "es-call": serve("api-es.mjs", true),
};
const files: Record<string, string> = {};
for (const [name, text] of Object.entries(variants)) {
  files[name] = join(work, `${name}.mjs`);
  writeFileSync(files[name], text);
}
const rss: Record<string, number[]> = {};
for (let i = 0; i < runs; i++) {
  for (const name of Object.keys(variants)) {
    const out = execFileSync(process.execPath, ["--expose-gc", files[name] as string], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    const list = rss[name] ?? [];
    list.push(Number(out.trim().split("\n").pop()));
    rss[name] = list;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mib = (n: number) => (n / 1048576).toFixed(2);
const net = median(rss.net as number[]);
console.log(`RSS after a full GC, median of ${runs} runs (node ${process.version}):`);
console.log("| process | RSS MiB | over node:net |\n|---|---|---|");
for (const name of Object.keys(variants)) {
  const m = median(rss[name] as number[]);
  console.log(`| ${name} | ${mib(m)} | ${name === "net" ? "—" : `+${mib(m - net)}`} |`);
}

// ---------------------------------------------------------------- size
function tsBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".ts")) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const esSrc = tsBytes(join(root, "packages/containerd/src/gen"));
const stSrc = tsBytes(join(root, "packages/containerd/src/static/gen"));
const esMin = bundle("@ttrpc/containerd", "es.min.mjs", true, ["ttrpc"]);
const stMin = bundle("@ttrpc/containerd/static", "static.min.mjs", true, ["ttrpc"]);
console.log("\nCode size, containerd Task/Events APIs:");
console.log("| | protobuf-es | protoc-gen-ttrpc |\n|---|---|---|");
console.log(
  `| generated TypeScript | ${kib(esSrc.bytes)} (${esSrc.files} files) | ${kib(stSrc.bytes)} (${stSrc.files} files, WKTs and wire helpers included) |`,
);
console.log(
  `| minified bundle, runtime included (ttrpc excluded) | ${kib(esMin)} | ${kib(stMin)} |`,
);
rmSync(work, { recursive: true, force: true });
