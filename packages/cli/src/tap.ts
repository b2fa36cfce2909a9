/**
 * `ttrpc tap --listen PATH --target ADDR`: a transparent ttrpc proxy that prints every frame.
 *
 * Bytes are forwarded as they arrive, before anything parses them, with the sockets' own
 * back-pressure (pipe): the tap never alters, reorders or holds back a frame. The parser sees a
 * copy; a frame it cannot decode is printed as malformed and forwarded like any other.
 * @module
 */
import { existsSync, lstatSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { DEFAULT_MAX_MESSAGE_BYTES } from "ttrpc";
import { socketPath } from "./address.js";
import { parse, SCHEMA_OPTIONS, schemaOptions, size, str } from "./args.js";
import type { Io } from "./call.js";
import { CliError, usageError } from "./cli-error.js";
import { JsonCodec } from "./json.js";
import { MuxReader } from "./mux.js";
import { loadSchema } from "./schema/load.js";
import {
  type Direction,
  FrameFormatter,
  StreamTable,
  type TapEvent,
  textLine,
} from "./tap-format.js";
import { FrameReader } from "./wire.js";

/** The flags of `tap`. */
export const TAP_OPTIONS = {
  ...SCHEMA_OPTIONS,
  listen: { type: "string" },
  target: { type: "string" },
  json: { type: "boolean" },
  raw: { type: "boolean" },
  nri: { type: "boolean" },
  "max-msg-size": { type: "string" },
  "emit-defaults": { type: "boolean" },
  "proto-names": { type: "boolean" },
} as const;

/** Removes a socket file nobody listens on; refuses to replace anything else. */
async function clearStale(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket())
    throw new CliError(`--listen ${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (live) throw new CliError(`--listen ${path}: something is already listening there`);
  rmSync(path, { force: true });
}

/** Runs `ttrpc tap` until SIGINT or SIGTERM; resolves to the exit status. */
export async function runTap(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse("tap", argv, TAP_OPTIONS);
  if (positionals.length > 0)
    throw usageError(`unexpected argument ${positionals[0]} (see \`ttrpc tap --help\`)`);
  const listen = str(values, "listen");
  const targetAddr = str(values, "target");
  if (!listen || !targetAddr) throw usageError("--listen PATH and --target ADDR are required");
  const listenPath = socketPath(listen);
  const target = socketPath(targetAddr);
  const maxSize = str(values, "max-msg-size");
  const max = maxSize === undefined ? DEFAULT_MAX_MESSAGE_BYTES : size("--max-msg-size", maxSize);
  const schema = await loadSchema(schemaOptions(values));
  const codec = new JsonCodec(schema.typeRegistry, {
    emitDefaults: values["emit-defaults"] === true,
    protoNames: values["proto-names"] === true,
    allowUnknown: false,
  });
  const formatter = new FrameFormatter(schema, codec, values.raw === true);
  const json = values.json === true;
  const nri = values.nri === true;
  const emit = (ev: TapEvent) => io.stdout.write(`${json ? JSON.stringify(ev) : textLine(ev)}\n`);
  const note = (conn: number, event: string, detail?: string) => {
    const ev: TapEvent = { time: new Date().toISOString(), conn, event };
    if (detail !== undefined) ev.detail = detail;
    emit(ev);
  };

  await clearStale(listenPath);
  const sockets = new Set<Socket>();
  let connCount = 0;
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const conn = ++connCount;
    sockets.add(client);
    const upstream = createConnection({ path: target, allowHalfOpen: true });
    sockets.add(upstream);
    note(conn, "open");
    const table = new StreamTable();
    // With --nri each mux id has its own stream table: ids are separate ttrpc connections.
    const tables = new Map<number, StreamTable>();
    const tableOf = (mux: number) => {
      let t = tables.get(mux);
      if (!t) {
        t = new StreamTable();
        tables.set(mux, t);
      }
      return t;
    };
    const watch = (from: Socket, to: Socket, dir: Direction) => {
      const reader = new FrameReader(max);
      const muxReader = nri ? new MuxReader(max) : undefined;
      // The data listener runs after pipe's (registered first), so the bytes are already on
      // their way when they are parsed.
      from.pipe(to);
      from.on("data", (chunk: Buffer) => {
        if (muxReader) {
          for (const { mux, frame } of muxReader.push(chunk)) {
            emit({ ...formatter.event(conn, dir, frame, tableOf(mux)), mux });
          }
          if (muxReader.lost && !lostNoted) {
            lostNoted = true;
            note(conn, "mux-lost", muxReader.lost);
          }
          return;
        }
        for (const frame of reader.push(chunk)) emit(formatter.event(conn, dir, frame, table));
      });
      let lostNoted = false;
      from.once("end", () => {
        const pending = muxReader ? muxReader.pending : reader.pending;
        if (pending > 0) note(conn, "truncated", `${dir}: ${pending} bytes of an incomplete frame`);
        note(conn, "half-closed", dir === "client->server" ? "by the client" : "by the server");
      });
    };
    let closed = false;
    const close = (why: string) => {
      if (closed) return;
      closed = true;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      note(conn, "closed", why);
    };
    upstream.once("connect", () => {
      watch(client, upstream, "client->server");
      watch(upstream, client, "server->client");
    });
    upstream.on("error", (err) => close(`on a target error: ${err.message}`));
    client.on("error", (err) => close(`on a client error: ${err.message}`));
    client.on("close", () => close("by the client"));
    upstream.on("close", () => close("by the target"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new CliError(`cannot listen on ${listenPath}: ${err.message}`)),
    );
    server.listen(listenPath, resolve);
  });
  io.stderr.write(`ttrpc tap: listening on ${listenPath}, forwarding to ${target}\n`);
  const probe = createConnection(target);
  probe.once("connect", () => probe.destroy());
  probe.once("error", (err) => {
    // Not fatal: the target may come up later; until then each client is closed at once.
    io.stderr.write(`ttrpc tap: warning: ${target} does not answer yet (${err.message})\n`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close();
      for (const s of sockets) s.destroy();
      rmSync(listenPath, { force: true });
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
