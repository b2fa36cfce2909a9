// The smoke server alone, for cross-runtime pairs: `<runtime> test/runtimes/server.mjs <socket>`
// prints {"listening":true} once it accepts connections, and exits after a client asks for a
// graceful shutdown (the last check) and the shutdown completes.
import { smokeServer } from "./service.mjs";

const path = process.argv[2];
if (!path) throw new Error("usage: server.mjs <socket path>");
const server = smokeServer(async (s) => {
  await s.shutdown();
  console.log(JSON.stringify({ shutdown: true }));
  process.exit(0);
});
await server.listen(path);
console.log(JSON.stringify({ listening: true, runtime: runtimeName() }));

function runtimeName() {
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  if (process.versions.bun) return `bun ${process.versions.bun}`;
  return `node ${process.versions.node}`;
}
