// Our TypeScript ttrpc server with the interop and bench services (test/interop/service.ts), as a
// process of its own for `ttrpc bench` and `ttrpc call`: `tsx test/cli/our-server.ts SOCKET`.
// Prints {"ready":true} once listening; SIGTERM shuts it down.
import { createServer } from "ttrpc";
import { Bench, Interop, implementations, Recorder, Streaming } from "../interop/service.js";

const socket = process.argv[2];
if (!socket) {
  process.stderr.write("usage: our-server.ts SOCKET\n");
  process.exit(64);
}
const impl = implementations(new Recorder());
const server = createServer();
server.register(Streaming, impl.streaming);
server.register(Interop, impl.interop);
server.register(Bench, impl.bench);
await server.listen(socket);
process.stdout.write(`${JSON.stringify({ ready: true, socket, pid: process.pid })}\n`);
process.once("SIGTERM", () => {
  server.close().finally(() => process.exit(0));
});
