// Summarises V8 CPU profiles (node --cpu-prof, e.g. from `npm run bench -- --profile ttrpc-plain`):
//   tsx bench/profile.ts bench/results/profiles/ttrpc-plain-server [--top 25]
// Prints self time per function (mapped back to the TypeScript source through the build's source
// maps) and inclusive time for functions of the repo.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { SourceMap } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const root = join(fileURLToPath(import.meta.url), "..", "..");
const args = process.argv.slice(2);
const topIdx = args.indexOf("--top");
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
const paths = args.filter((a, i) => !a.startsWith("--") && i !== topIdx + 1);
if (paths.length === 0) {
  console.error("usage: tsx bench/profile.ts <profile file or directory>... [--top N]");
  process.exit(2);
}

process.stdout.on("error", () => process.exit(0)); // e.g. piped into head

const maps = new Map<string, SourceMap | null>();
function mapFor(url: string): SourceMap | null {
  if (!url.startsWith("file://")) return null;
  let m = maps.get(url);
  if (m !== undefined) return m;
  m = null;
  try {
    const file = fileURLToPath(url);
    const payload = JSON.parse(readFileSync(`${file}.map`, "utf8")) as ConstructorParameters<
      typeof SourceMap
    >[0];
    m = new SourceMap(payload);
  } catch {
    // no map
  }
  maps.set(url, m);
  return m;
}

function where(cf: CallFrame): string {
  if (!cf.url) return "(native)";
  const m = mapFor(cf.url);
  if (m) {
    const e = m.findEntry(cf.lineNumber, cf.columnNumber) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (e.originalSource) {
      const src = e.originalSource.startsWith("file://")
        ? fileURLToPath(e.originalSource)
        : e.originalSource;
      const abs = src.startsWith("/") ? src : join(fileURLToPath(cf.url), "..", src);
      return `${relative(root, abs)}:${(e.originalLine ?? 0) + 1}`;
    }
  }
  const file = cf.url.startsWith("file://") ? relative(root, fileURLToPath(cf.url)) : cf.url;
  return `${file}:${cf.lineNumber + 1}`;
}

function files(p: string): string[] {
  if (statSync(p).isDirectory()) {
    return readdirSync(p)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(p, f));
  }
  return [p];
}

for (const file of paths.flatMap(files)) {
  const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame)}`;
  for (const [id, t] of selfTime) {
    const n = byId.get(id);
    if (!n) continue;
    self.set(key(n), (self.get(key(n)) ?? 0) + t);
    // inclusive: count each distinct function once per stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur);
      if (!c) break;
      const k = key(c);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${relative(process.cwd(), file)} — ${(total / 1e6).toFixed(2)} s sampled`);
  console.log("-- self time");
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${pct(t)}  ${k}`);
  console.log("-- inclusive time, functions in src/ and bench/");
  for (const [k, t] of [...incl]
    .filter(([k]) => / (src|bench)\//.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`${pct(t)}  ${k}`);
}
