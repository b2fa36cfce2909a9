// A benchmark server process: `node --expose-gc server.js <system> <socket>`.
// Prints {"ready":true} when listening. stdin commands: "gc" (full GC, then reports memory),
// "mem" (reports memory). SIGTERM ends it.
import { createInterface } from "node:readline";

const [system, socket] = process.argv.slice(2);
if (system === undefined || socket === undefined) {
  console.error("usage: server.js <system> <socket>");
  process.exit(2);
}
process.on("SIGTERM", () => process.exit(0));

switch (system) {
  case "floor":
  case "floor-pb":
  case "floor-es": {
    const { startFloorServer } = await import("../systems/floor.js");
    await startFloorServer(
      system === "floor" ? "raw" : system === "floor-pb" ? "pb" : "es",
      socket,
    );
    break;
  }
  case "ttrpc-plain":
  case "ttrpc-es": {
    const { startTtrpcServer } = await import("../systems/ttrpc.js");
    await startTtrpcServer(system === "ttrpc-es" ? "es" : "plain", socket);
    break;
  }
  case "ttrpc-static": {
    const { startStaticServer } = await import("../systems/static.js");
    await startStaticServer(socket);
    break;
  }
  case "grpc-js": {
    const { startGrpcServer } = await import("../systems/grpc.js");
    await startGrpcServer(socket);
    break;
  }
  case "bare": {
    // bare node: nothing imported, nothing listening (the memory baseline)
    break;
  }
  default:
    console.error(`unknown system ${system}`);
    process.exit(2);
}

const memory = () => {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
};
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, ...memory() })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "gc") {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    // let finalizers and freed sockets settle, then collect once more
    setTimeout(() => {
      gc?.();
      process.stdout.write(`${JSON.stringify({ gc: gc !== undefined, ...memory() })}\n`);
    }, 50);
  } else if (cmd === "mem") {
    process.stdout.write(`${JSON.stringify(memory())}\n`);
  }
});
lines.on("close", () => process.exit(0));
