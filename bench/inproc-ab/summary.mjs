// Medians of bench/inproc-ab/ab.sh output: operations per CPU-second before and after, and the ratio.
//   node bench/inproc-ab/summary.mjs [--min-cpu S] out.txt...
// --min-cpu drops runs whose process got less than S CPU-seconds of its 1.5 s (starved by other
// work on the machine: such runs measure the contention, not the code).
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const at = args.indexOf("--min-cpu");
const minCpu = at >= 0 ? Number(args.splice(at, 2)[1]) : 0;
const rows = new Map();
for (const file of args) {
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    let d;
    try {
      d = JSON.parse(line.slice(space + 1));
    } catch {
      continue;
    }
    if (d.cpuSec < minCpu) continue;
    const side = line.slice(0, space);
    const row = rows.get(d.workload) ?? { before: [], after: [] };
    row[side].push(d.opsPerCpuSec);
    rows.set(d.workload, row);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log("| workload | runs | before ops/CPU-s | after ops/CPU-s | after ÷ before |");
console.log("|---|---|---|---|---|");
for (const [w, { before, after }] of rows) {
  const b = median(before);
  const a = median(after);
  console.log(`| ${w} | ${before.length} | ${fmt(b)} | ${fmt(a)} | ${(a / b).toFixed(3)} |`);
}
