/**
 * What `tap` prints for a frame: an event object (the `--json` line) and its one-line text form.
 * Each connection keeps the method of each stream from its Request, so Response and Data payloads
 * are decoded with the right message type.
 * @module
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { codeName } from "./errors.js";
import type { JsonCodec } from "./json.js";
import type { Schema } from "./schema/schema.js";
import { decodeRequest, decodeResponse, FRAME_TYPES, type Frame, flagNames } from "./wire.js";

/** Which way a frame went. */
export type Direction = "client->server" | "server->client";

/** One printed frame. */
export type TapEvent = Record<string, unknown>;

/** Per-connection state: the method of each stream id. */
export class StreamTable {
  readonly methods = new Map<
    number,
    { path: string; method: DescMethod | undefined; requestDir: Direction }
  >();
}

function formatTimeout(nano: bigint): string {
  if (nano === 0n) return "none";
  const ms = Number(nano) / 1e6;
  return ms >= 1000 ? `${+(ms / 1000).toFixed(3)}s` : `${+ms.toFixed(3)}ms`;
}

/** Turns frames into events; decoding failures become `malformed` events, never exceptions. */
export class FrameFormatter {
  readonly #schema: Schema;
  readonly #codec: JsonCodec;
  readonly #raw: boolean;

  constructor(schema: Schema, codec: JsonCodec, raw: boolean) {
    this.#schema = schema;
    this.#codec = codec;
    this.#raw = raw;
  }

  #payload(
    ev: TapEvent,
    bytes: Uint8Array | undefined,
    method: DescMethod | undefined,
    input: boolean,
  ): void {
    if (bytes === undefined) return;
    ev.payloadBytes = bytes.length;
    if (method && !this.#raw) {
      try {
        ev.payload = this.#codec.decode(input ? method.input : method.output, bytes);
        return;
      } catch (err) {
        ev.payloadError = (err as Error).message;
      }
    }
    ev.payloadHex = Buffer.from(bytes).toString("hex");
  }

  /** The event for one frame of connection `conn`. */
  event(conn: number, dir: Direction, frame: Frame, table: StreamTable): TapEvent {
    const ev: TapEvent = {
      time: new Date().toISOString(),
      conn,
      dir,
      stream: frame.streamId,
      type: FRAME_TYPES[frame.type] ?? `unknown(${frame.type})`,
      flags: frame.flags,
      flagNames: flagNames(frame.type, frame.flags),
      length: frame.length,
    };
    if (frame.data === undefined) {
      ev.oversize = true;
      return ev;
    }
    const toServer = dir === "client->server";
    try {
      if (frame.type === 1) {
        const req = decodeRequest(frame.data);
        const path = `${req.service}/${req.method}`;
        let method: DescMethod | undefined;
        try {
          method = this.#schema.method(path);
        } catch {
          method = undefined;
        }
        table.methods.set(frame.streamId, { path, method, requestDir: dir });
        ev.service = req.service;
        ev.method = req.method;
        ev.timeoutNano = req.timeoutNano.toString();
        ev.metadata = req.metadata;
        // No payload field is the empty message (Go's client sends an empty request that way).
        const streamsIn = (frame.flags & 2) !== 0;
        const payload = req.payload ?? (method && !streamsIn ? new Uint8Array() : undefined);
        this.#payload(ev, payload, method, true);
      } else if (frame.type === 2) {
        const res = decodeResponse(frame.data);
        const known = table.methods.get(frame.streamId);
        if (known) ev.rpc = known.path;
        const code = res.status?.code ?? 0;
        ev.status = {
          code,
          name: code === 0 ? "OK" : codeName(code),
          message: res.status?.message ?? "",
        };
        if (res.status && res.status.details.length > 0) {
          (ev.status as Record<string, unknown>).details = res.status.details.map((d) =>
            this.#codec.decodeAny(d.typeUrl, d.value),
          );
        }
        // An OK without a payload field is the empty message (Go sends Empty that way).
        const payload = res.payload ?? (code === 0 && known?.method ? new Uint8Array() : undefined);
        this.#payload(ev, payload, known?.method, false);
      } else if (frame.type === 3) {
        const known = table.methods.get(frame.streamId);
        if (known) ev.rpc = known.path;
        // Data from the side that sent the Request carries requests, whichever side of the
        // socket that is (a ttrpc server may be the one that connected).
        const input = known ? dir === known.requestDir : toServer;
        if (!(frame.flags & 4)) this.#payload(ev, frame.data, known?.method, input);
      } else {
        ev.dataHex = frame.data.toString("hex");
      }
    } catch (err) {
      ev.malformed = (err as Error).message;
      ev.dataHex = frame.data.toString("hex");
    }
    return ev;
  }
}

function short(hex: string): string {
  return hex.length > 512 ? `${hex.slice(0, 512)}…(${hex.length / 2} bytes)` : hex;
}

/** The text line of an event. */
export function textLine(ev: TapEvent): string {
  if (ev.event !== undefined)
    return `${String(ev.time).slice(11, 23)} c${ev.conn} ${ev.event}${ev.detail ? ` ${ev.detail}` : ""}`;
  const arrow = ev.dir === "client->server" ? "->" : "<-";
  const parts = [
    String(ev.time).slice(11, 23),
    ev.mux === undefined ? `c${ev.conn}` : `c${ev.conn}/m${ev.mux}`,
    arrow,
    `#${ev.stream}`,
    String(ev.type).toUpperCase(),
  ];
  const flags = ev.flagNames as string[];
  if (flags.length > 0) parts.push(`[${flags.join(",")}]`);
  if (ev.service !== undefined) {
    parts.push(`${ev.service}/${ev.method}`);
    if (ev.timeoutNano !== "0")
      parts.push(`timeout=${formatTimeout(BigInt(ev.timeoutNano as string))}`);
    const md = ev.metadata as [string, string][];
    if (md.length > 0)
      parts.push(`metadata={${md.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`);
  } else if (ev.rpc !== undefined) parts.push(String(ev.rpc));
  if (ev.status !== undefined) {
    const s = ev.status as { name: string; message: string; details?: unknown[] };
    parts.push(s.message ? `${s.name} ${JSON.stringify(s.message)}` : s.name);
    if (s.details) parts.push(`details=${JSON.stringify(s.details)}`);
  }
  parts.push(`len=${ev.length}`);
  if (ev.oversize) parts.push("(over --max-msg-size: payload not shown)");
  if (ev.malformed !== undefined) parts.push(`MALFORMED (${ev.malformed})`);
  if (ev.payload !== undefined) parts.push(JSON.stringify(ev.payload));
  if (ev.payloadHex !== undefined) parts.push(`hex:${short(String(ev.payloadHex))}`);
  if (ev.dataHex !== undefined) parts.push(`hex:${short(String(ev.dataHex))}`);
  return parts.join(" ");
}
