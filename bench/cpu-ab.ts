// CPU time per message, engine A against engine B, for when wall-clock throughput is not to be
// trusted (a shared machine: `npm run bench` rows swing 2–5× between repetitions there, while
// CPU µs per message moves by about ±10% per run and the median of several runs by a few %).
//
//   npm run bench:cpu                                   # floor-pb and this tree's engine
//   npm run bench:cpu -- --old e4c14cd                  # + the engine at a git ref (A/B)
//   npm run bench:cpu -- --old e4c14cd --new HEAD       # both engines from commits
//   npm run bench:cpu -- --runs 9 --messages 300000 --workloads server-stream-1k,bidi-1k
//
// Each engine's sources are bundled with esbuild into bench/.build/cpu-ab/ together with the bench's
// own systems (bench/systems/floor.ts "pb", bench/systems/ttrpc.ts "plain"): the same code, the same
// compiler, only the engine differs. A run is one client process and the server process it forks
// (cpu-ab-worker.ts): warm-up, then `--messages` messages, timed with process.cpuUsage (user +
// system) on each side. Systems are interleaved run by run; the table shows medians.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "bench", ".build", "cpu-ab");
const WORKLOADS = [
  "unary-64-c1",
  "unary-64-c32",
  "unary-64k-c32",
  "server-stream-1k",
  "client-stream-1k",
  "bidi-1k",
];

const { values } = parseArgs({
  options: {
    old: { type: "string" },
    new: { type: "string" },
    runs: { type: "string", default: "7" },
    messages: { type: "string", default: "300000" },
    workloads: {
      type: "string",
      default: "unary-64-c32,server-stream-1k,client-stream-1k,bidi-1k",
    },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "npm run bench:cpu -- [--old <git ref>] [--new <git ref>] [--runs 7] [--messages 300000] [--workloads a,b]\n" +
      `workloads: ${WORKLOADS.join(", ")}`,
  );
  process.exit(0);
}
const runs = Number(values.runs);
const messages = Number(values.messages);
const workloads = (values.workloads as string).split(",");
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);

/** Bundles the worker against the engine whose index.ts is `engine`. */
async function bundle(name: string, engine: string): Promise<string> {
  const outfile = join(outDir, `worker-${name}.mjs`);
  await build({
    entryPoints: [join(root, "bench", "cpu-ab-worker.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    alias: { ttrpc: engine },
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

/** Bundles the worker against the engine at git ref `ref` (a detached worktree, removed after). */
async function bundleRef(name: string, ref: string): Promise<string> {
  const tree = mkdtempSync(join(tmpdir(), "ttrpc-cpu-ab-"));
  execFileSync("git", ["-C", root, "worktree", "add", "--detach", tree, ref], { stdio: "ignore" });
  try {
    return await bundle(name, join(tree, "packages", "ttrpc", "src", "index.ts"));
  } finally {
    execFileSync("git", ["-C", root, "worktree", "remove", "--force", tree]);
    rmSync(tree, { recursive: true, force: true });
  }
}

mkdirSync(outDir, { recursive: true });
const current =
  values.new === undefined
    ? await bundle("new", join(root, "packages", "ttrpc", "src", "index.ts"))
    : await bundleRef("new", values.new);
const systems: { name: string; bundle: string; kind: "floor" | "ttrpc" }[] = [
  { name: "floor-pb", bundle: current, kind: "floor" },
];
if (values.old !== undefined) {
  systems.push({
    name: `old ${values.old}`,
    bundle: await bundleRef("old", values.old),
    kind: "ttrpc",
  });
}
systems.push({ name: `new ${values.new ?? "(this tree)"}`, bundle: current, kind: "ttrpc" });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const head = systems.map((s) => `${s.name} client | ${s.name} server`).join(" | ");
console.log(
  `µs CPU per message (user + system), median of ${runs} interleaved runs of ${messages}`,
);
console.log(`\n| workload | ${head} |\n|---|${systems.map(() => "---|---|").join("")}`);
for (const workload of workloads) {
  const got = systems.map(() => ({ client: [] as number[], server: [] as number[] }));
  for (let r = 0; r < runs; r++) {
    systems.forEach((s, i) => {
      const args = [s.bundle, "client", s.kind, workload, String(messages)];
      const res = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 300_000 });
      const line = res.stdout.trim().split("\n").pop() ?? "";
      if (res.status !== 0 || !line.startsWith("{")) {
        throw new Error(`${s.name} ${workload}: exit ${res.status}\n${res.stderr}`);
      }
      const { client, server } = JSON.parse(line) as { client: number; server: number };
      got[i]?.client.push(client);
      got[i]?.server.push(server);
    });
  }
  const cells = got.map((g) => `${median(g.client).toFixed(3)} | ${median(g.server).toFixed(3)}`);
  console.log(`| ${workload} | ${cells.join(" | ")} |`);
}
