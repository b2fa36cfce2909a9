// The smoke checks against a server in another process (maybe another runtime):
// `<runtime> test/runtimes/client.mjs <socket path>`; one JSON line per check, then {"done":true}.
import { runChecks } from "./checks.mjs";

const path = process.argv[2];
if (!path) throw new Error("usage: client.mjs <socket path>");
const failed = await runChecks(path);
console.log(JSON.stringify({ done: true, failed }));
