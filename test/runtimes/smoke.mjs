// Smoke suite, one runtime: a server and a client in this process (node, bun or deno).
// `<runtime> test/runtimes/smoke.mjs <socket path>` prints one JSON line per check, then
// {"done":true}; test/runtimes/runtimes.test.ts reads them.
import { runChecks } from "./checks.mjs";
import { smokeServer } from "./service.mjs";

const path = process.argv[2];
if (!path) throw new Error("usage: smoke.mjs <socket path>");
let stopped;
const down = new Promise((resolve) => (stopped = resolve));
const server = smokeServer((s) => s.shutdown().then(stopped));
await server.listen(path);
const failed = await runChecks(path);
let timer;
await Promise.race([down, new Promise((r) => (timer = setTimeout(r, 5000)))]);
clearTimeout(timer);
await server.close();
console.log(JSON.stringify({ done: true, failed }));
