/**
 * Before/after figures of a target (and of this process): memory after GC, active resources by
 * kind, running Stress handlers. A scenario takes `snapshot()` before and after and reports the
 * difference; `leaks()` names what did not come back.
 */
import type { Stats, Target } from "./procs.js";

/** Resources of this process by kind (process.getActiveResourcesInfo()). */
export function ownResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

/** Kinds whose count grew from `before` to `after`, as "Kind +n". */
export function grown(
  before: Record<string, number> = {},
  after: Record<string, number> = {},
): string[] {
  const out: string[] = [];
  for (const [kind, n] of Object.entries(after)) {
    const d = n - (before[kind] ?? 0);
    if (d > 0) out.push(`${kind} +${d}`);
  }
  return out;
}

/** What did not come back to the baseline: resources, handlers, heap beyond `heapSlack` bytes. */
export function leaks(before: Stats, after: Stats, heapSlack = 8 * 2 ** 20): string[] {
  const out = grown(before.resources, after.resources);
  if ((after.handlers ?? 0) > 0) out.push(`handlers ${after.handlers}`);
  if (
    before.heapUsed !== undefined &&
    after.heapUsed !== undefined &&
    after.heapUsed - before.heapUsed > heapSlack
  ) {
    out.push(`heap +${Math.round((after.heapUsed - before.heapUsed) / 2 ** 20)} MiB`);
  }
  return out;
}

/** Waits until the target's handlers are back to zero and its resources to the baseline (or timeoutMs). */
export async function settle(target: Target, before: Stats, timeoutMs = 3000): Promise<Stats> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const now = await target.stats(true);
    if (leaks(before, now).length === 0 || performance.now() > end) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
}
