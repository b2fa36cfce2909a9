// A benchmark client driver process: `node client.js <system> <socket>` (see lib/driver.ts).
import { type BenchClient, driverMain } from "../lib/driver.js";

const [system, socket] = process.argv.slice(2);
if (system === undefined || socket === undefined) {
  console.error("usage: client.js <system> <socket>");
  process.exit(2);
}

let client: BenchClient;
switch (system) {
  case "floor":
  case "floor-pb":
  case "floor-es": {
    const { createFloorClient } = await import("../systems/floor.js");
    client = await createFloorClient(
      system === "floor" ? "raw" : system === "floor-pb" ? "pb" : "es",
      socket,
    );
    break;
  }
  case "ttrpc-plain":
  case "ttrpc-es": {
    const { createTtrpcClient } = await import("../systems/ttrpc.js");
    client = await createTtrpcClient(system === "ttrpc-es" ? "es" : "plain", socket);
    break;
  }
  case "ttrpc-static": {
    const { createStaticClient } = await import("../systems/static.js");
    client = await createStaticClient(socket);
    break;
  }
  case "grpc-js": {
    const { createGrpcClient } = await import("../systems/grpc.js");
    client = await createGrpcClient(socket);
    break;
  }
  default:
    console.error(`unknown system ${system}`);
    process.exit(2);
}
await driverMain(client);
