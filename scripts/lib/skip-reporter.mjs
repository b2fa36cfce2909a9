// A node:test reporter for scripts/run-tests.mjs: writes one JSON line per test or suite that was
// skipped or marked todo ({ kind, file, name, reason }), so the run can end with the list of
// everything it did not check, instead of a "skipped 1" count in the middle of the output.
// Usage: node --test --test-reporter=spec --test-reporter-destination=stdout \
//          --test-reporter=./scripts/lib/skip-reporter.mjs --test-reporter-destination=<file>
import { relative } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

/** @param {AsyncIterable<{ type: string, data: Record<string, unknown> }>} source */
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { skip, todo, name, file } = event.data;
    const kind = skip !== undefined && skip !== false ? "skip" : todo ? "todo" : undefined;
    if (!kind) continue;
    const reason = kind === "skip" ? skip : todo;
    yield `${JSON.stringify({
      kind,
      file: typeof file === "string" ? relative(root, file) : "?",
      name,
      reason: typeof reason === "string" ? reason : "",
      failed: event.type === "test:fail",
    })}\n`;
  }
}
