/**
 * "Did you mean": the names closest to a mistyped one, by edit distance, case-insensitive and
 * ignoring `_` (so `exitStatus`, `exit_status` and `ExitStatus` are all the same name).
 * @module
 */

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length] as number;
}

const norm = (s: string) => s.toLowerCase().replace(/_/g, "");

/**
 * Up to three candidates close to `name` (the closest first): a match that differs only in case
 * or underscores, a short name that is the last part of a long one, or one within about a third
 * of its length in edits.
 */
export function suggest(name: string, candidates: readonly string[]): string[] {
  const n = norm(name);
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    const cn = norm(c);
    const tail = cn.slice(cn.lastIndexOf(".") + 1);
    let d = Math.min(distance(n, cn), distance(n, tail));
    if (cn.endsWith(`.${n}`) || cn === n) d = 0;
    if (d <= Math.max(2, Math.floor(n.length / 3))) scored.push({ c, d });
  }
  return scored
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, 3)
    .map((s) => s.c);
}
