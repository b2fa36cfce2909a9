/**
 * Connecting to ADDR for `call` and `bench`: a clear message when there is no socket or nobody
 * listening, and a watch on the first bytes the peer sends, so that a socket that is not ttrpc
 * (containerd's gRPC socket, an HTTP server) is named as such instead of as a closed connection.
 * @module
 */
import { createConnection, type Socket } from "node:net";
import { Code, type Connection, connect } from "ttrpc";
import { socketPath } from "./address.js";
import { CliError } from "./cli-error.js";

/** An open connection and what the first bytes said about the peer. */
export interface Opened {
  conn: Connection;
  /** Why the peer is not a ttrpc server, once its first frame header showed it; else undefined. */
  notTtrpc(): string | undefined;
}

function connectError(path: string, err: NodeJS.ErrnoException): CliError {
  const why =
    err.code === "ENOENT"
      ? "no such socket"
      : err.code === "ECONNREFUSED"
        ? "nothing is listening (a stale socket?)"
        : err.code === "EACCES"
          ? "permission denied (run as root?)"
          : err.code === "ENOTSOCK"
            ? "not a socket"
            : err.message;
  return new CliError(`cannot connect to ${path}: ${why}`, Code.Unavailable);
}

/** What a first frame header that no ttrpc server would send looks like, or undefined if plausible. */
export function judgeFirstHeader(h: Buffer): string | undefined {
  if (h.length < 10) return undefined;
  const text = h.toString("latin1");
  if (/^HTTP\/\d/.test(text)) return "it answered with HTTP/1 (an HTTP server)";
  const streamId = h.readUInt32BE(4);
  const type = h[8] as number;
  // An HTTP/2 server's first frame is SETTINGS: 3-byte length, type 4, flags, stream 0.
  if (h[3] === 4 && h.readUInt32BE(5) === 0 && h[0] === 0) {
    return "it speaks HTTP/2 (a gRPC socket? containerd's ttrpc socket is the one ending in .ttrpc)";
  }
  if ((type !== 2 && type !== 3) || streamId % 2 === 0) {
    return `its first frame header ${h.subarray(0, 10).toString("hex")} is not a ttrpc response (stream ${streamId}, type ${type})`;
  }
  return undefined;
}

/** Opens ADDR; the caller closes the connection. */
export async function open(address: string, maxMessageBytes: number | undefined): Promise<Opened> {
  const path = socketPath(address);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once("connect", () => {
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (err: NodeJS.ErrnoException) => reject(connectError(path, err)));
  });
  let head = Buffer.alloc(0);
  let verdict: string | undefined;
  const sniff = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < 10) return;
    socket.removeListener("data", sniff);
    verdict = judgeFirstHeader(head);
    if (verdict) socket.destroy();
  };
  const conn = await connect(socket, maxMessageBytes === undefined ? {} : { maxMessageBytes });
  // Registered before the connection's own reader sees the bytes, so a bad peer is cut at once.
  socket.prependListener("data", sniff);
  return { conn, notTtrpc: () => verdict };
}
