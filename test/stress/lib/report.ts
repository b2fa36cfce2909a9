/**
 * Rows of the stress suite: one per scenario and target, printed as a table and written as JSON
 * to bench/results/stress-<size>-<time>.json (gitignored; $STRESS_RESULTS overrides the folder).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** One measured scenario. */
export interface Row {
  /** fuzz | load | fault | attack | finding */
  suite: string;
  scenario: string;
  target: string;
  /** Inputs, connections, calls or streams driven (what "inputs" means is in the scenario's name). */
  inputs: number;
  /** What happened, in a few words ("ok", "crashed", "RESOURCE_EXHAUSTED", "pending"). */
  result: string;
  /** The victim's RSS before and at its highest during the attack (MiB). */
  rssBaseMiB?: number;
  rssMaxMiB?: number;
  /** The bound column (bounds.ts): the option and its configured value, or "none". */
  bound?: string;
  /** Extra figures (p99 latency, calls lost, crashes...). */
  figures?: Record<string, number | string>;
  ms: number;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** The rows as an aligned text table. */
export function table(rows: readonly Row[]): string {
  const head = [
    "suite",
    "scenario",
    "target",
    "inputs",
    "result",
    "RSS base→max MiB",
    "Δ MiB",
    "bound",
    "figures",
    "s",
  ];
  const body = rows.map((r) => [
    r.suite,
    r.scenario,
    r.target,
    String(r.inputs),
    r.result,
    r.rssBaseMiB === undefined ? "" : `${r.rssBaseMiB}→${r.rssMaxMiB}`,
    r.rssBaseMiB === undefined
      ? ""
      : String(Math.round(((r.rssMaxMiB ?? 0) - r.rssBaseMiB) * 10) / 10),
    r.bound ?? "",
    Object.entries(r.figures ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
    (r.ms / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => pad(c, widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** Writes the rows as JSON under bench/results; returns the path. */
export function writeResults(rows: readonly Row[], size: string): string {
  // snapshot.sh points this at the checkout it was started from.
  const dir =
    process.env.STRESS_RESULTS ?? new URL("../../../bench/results/", import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `stress-${size}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify({ size, node: process.version, rows }, null, 2)}\n`);
  return path;
}
