// Opens idle connections to a server for the memory rows: `node connector.js <raw|ttrpc|grpc> <socket>`.
// stdin "open N": opens N more connections; each makes one unary 64-byte call (so the server has
// set up everything a used connection needs), then stays idle. Answers {"open": total}.
// stdin "close": closes them all. Frames are hand-encoded (ttrpc) or sent with node:http2 (grpc).
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import {
  encodeBenchMessage,
  FrameReader,
  HEADER_LENGTH,
  requestPrefix,
  SERVICE,
  TYPE_REQUEST,
  TYPE_RESPONSE,
  varintSize,
  writeHeader,
  writeVarint,
} from "../lib/wire.js";

const [mode, socket] = process.argv.slice(2);
if ((mode !== "raw" && mode !== "ttrpc" && mode !== "grpc") || socket === undefined) {
  console.error("usage: connector.js <raw|ttrpc|grpc> <socket>");
  process.exit(2);
}
const payload = Buffer.alloc(64, 0x62);

function requestFrame(): Buffer {
  if (mode === "raw") {
    const f = Buffer.allocUnsafe(HEADER_LENGTH + 1 + payload.length);
    writeHeader(f, 0, 1 + payload.length, 1, TYPE_REQUEST, 0);
    f[HEADER_LENGTH] = 0; // method id 0 = Unary (floor raw)
    payload.copy(f, HEADER_LENGTH + 1);
    return f;
  }
  const pre = requestPrefix(SERVICE, "Unary");
  const msg = encodeBenchMessage(payload);
  const len = pre.length + 1 + varintSize(msg.length) + msg.length;
  const f = Buffer.allocUnsafe(HEADER_LENGTH + len);
  writeHeader(f, 0, len, 1, TYPE_REQUEST, 0);
  pre.copy(f, HEADER_LENGTH);
  let off = HEADER_LENGTH + pre.length;
  f[off++] = 0x1a;
  off = writeVarint(f, off, msg.length);
  msg.copy(f, off);
  return f;
}
const frame = mode === "grpc" ? Buffer.alloc(0) : requestFrame();

const sockets: Socket[] = [];
const sessions: ClientHttp2Session[] = [];

function openTtrpc(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(socket as string);
    s.once("error", reject);
    const reader = new FrameReader((sid, type) => {
      if (sid === 1 && type === TYPE_RESPONSE) {
        s.removeListener("error", reject);
        s.on("error", () => {});
        resolve();
      }
    });
    s.on("data", (c: Buffer) => reader.push(c));
    s.once("connect", () => s.write(frame));
    sockets.push(s);
  });
}

function openGrpc(): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = h2connect("http://localhost", {
      createConnection: () => connect(socket as string),
    });
    session.once("error", reject);
    sessions.push(session);
    const msg = encodeBenchMessage(payload);
    const body = Buffer.allocUnsafe(5 + msg.length);
    body[0] = 0;
    body.writeUInt32BE(msg.length, 1);
    msg.copy(body, 5);
    const req = session.request({
      ":method": "POST",
      ":path": "/ttrpc.bench.v1.Bench/Unary",
      "content-type": "application/grpc",
      te: "trailers",
    });
    req.on("data", () => {});
    req.on("error", reject);
    req.on("end", () => {
      session.removeListener("error", reject);
      session.on("error", () => {});
      resolve();
    });
    req.end(body);
  });
}

const open = mode === "grpc" ? openGrpc : openTtrpc;
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === "open") {
    let n = Number(arg);
    try {
      while (n > 0) {
        const batch = Math.min(n, 50);
        await Promise.all(Array.from({ length: batch }, open));
        n -= batch;
      }
      process.stdout.write(`${JSON.stringify({ open: sockets.length + sessions.length })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ error: String(e) })}\n`);
    }
  } else if (cmd === "close") {
    for (const s of sockets) s.destroy();
    for (const s of sessions) s.destroy();
    sockets.length = 0;
    sessions.length = 0;
    process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
  }
}
process.exit(0);
