// RSS right after importing a system's library: `node import.js <system>`; prints {"rss": bytes}.
// floor and floor-pb import only node:net (their codec is a few lines of bench code).
const [system] = process.argv.slice(2);
switch (system) {
  case "bare":
    break;
  case "floor":
  case "floor-pb":
    await import("node:net");
    break;
  case "floor-es":
    await import("node:net");
    await import("@bufbuild/protobuf");
    await import("../../test/interop/gen/bench_pb.js");
    break;
  case "ttrpc-plain":
    await import("ttrpc");
    break;
  case "ttrpc-es":
    await import("ttrpc");
    await import("../../test/interop/gen/bench_pb.js");
    break;
  case "ttrpc-static":
    await import("ttrpc");
    await import("../systems/static/gen/bench_ttrpc.js");
    break;
  case "grpc-js":
    await import("@grpc/grpc-js");
    break;
  default:
    console.error(`unknown system ${system}`);
    process.exit(2);
}
process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage.rss() })}\n`);
