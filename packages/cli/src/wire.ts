/**
 * A small, independent ttrpc frame parser for `tap` (the core's is internal): it cuts a byte stream
 * into frames and decodes the Request and Response envelopes. It only observes — the tap forwards
 * the bytes before they reach here — so it never throws on bad input: an envelope that does not
 * decode is reported as malformed, and a frame larger than the limit is skipped without buffering.
 * @module
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** The frame types. */
export const FRAME_TYPES: Record<number, string> = { 1: "request", 2: "response", 3: "data" };

/** One frame as seen on the wire. */
export interface Frame {
  length: number;
  streamId: number;
  type: number;
  flags: number;
  /** The frame data; undefined when the frame was larger than the limit (skipped). */
  data: Buffer | undefined;
}

/** Cuts bytes into frames; frames over `maxData` bytes are reported without their data. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #skip = 0;
  readonly #max: number;

  constructor(maxData: number) {
    this.#max = maxData;
  }

  /** Bytes not yet part of a whole frame (for a report when the connection ends). */
  get pending(): number {
    return this.#buf.length + this.#skip;
  }

  /** Feeds a chunk; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      chunk = chunk.subarray(n);
    }
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 10) {
      const length = this.#buf.readUInt32BE(0);
      const header = {
        length,
        streamId: this.#buf.readUInt32BE(4),
        type: this.#buf[8] as number,
        flags: this.#buf[9] as number,
      };
      if (length > this.#max) {
        frames.push({ ...header, data: undefined });
        const have = this.#buf.length - 10;
        if (have >= length) this.#buf = this.#buf.subarray(10 + length);
        else {
          this.#skip = length - have;
          this.#buf = Buffer.alloc(0);
        }
        continue;
      }
      if (this.#buf.length < 10 + length) break;
      frames.push({ ...header, data: Buffer.from(this.#buf.subarray(10, 10 + length)) });
      this.#buf = this.#buf.subarray(10 + length);
    }
    return frames;
  }
}

/** A decoded Request envelope. */
export interface RequestEnvelope {
  service: string;
  method: string;
  payload: Uint8Array | undefined;
  timeoutNano: bigint;
  metadata: [string, string][];
}

/** A decoded Status. */
export interface StatusEnvelope {
  code: number;
  message: string;
  details: { typeUrl: string; value: Uint8Array }[];
}

/** A decoded Response envelope. */
export interface ResponseEnvelope {
  status: StatusEnvelope | undefined;
  payload: Uint8Array | undefined;
}

function fields(
  data: Uint8Array,
  on: (r: BinaryReader, field: number, wire: WireType) => boolean,
): void {
  const r = new BinaryReader(data);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (!on(r, field, wire)) r.skip(wire, field);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function keyValue(data: Uint8Array): [string, string] {
  let key = "";
  let value = "";
  fields(data, (r, f, w) => {
    if (w !== WireType.LengthDelimited) return false;
    if (f === 1) key = decoder.decode(r.bytes());
    else if (f === 2) value = decoder.decode(r.bytes());
    else return false;
    return true;
  });
  return [key, value];
}

/** Decodes a Request; throws on bytes that are not one. */
export function decodeRequest(data: Uint8Array): RequestEnvelope {
  const req: RequestEnvelope = {
    service: "",
    method: "",
    payload: undefined,
    timeoutNano: 0n,
    metadata: [],
  };
  fields(data, (r, f, w) => {
    if (f === 4 && w === WireType.Varint) req.timeoutNano = BigInt(r.int64());
    else if (w !== WireType.LengthDelimited) return false;
    else if (f === 1) req.service = decoder.decode(r.bytes());
    else if (f === 2) req.method = decoder.decode(r.bytes());
    else if (f === 3) req.payload = r.bytes();
    else if (f === 5) req.metadata.push(keyValue(r.bytes()));
    else return false;
    return true;
  });
  return req;
}

function decodeStatus(data: Uint8Array): StatusEnvelope {
  const s: StatusEnvelope = { code: 0, message: "", details: [] };
  fields(data, (r, f, w) => {
    if (f === 1 && w === WireType.Varint) s.code = r.int32();
    else if (w !== WireType.LengthDelimited) return false;
    else if (f === 2) s.message = decoder.decode(r.bytes());
    else if (f === 3) {
      const any: { typeUrl: string; value: Uint8Array } = { typeUrl: "", value: new Uint8Array() };
      fields(r.bytes(), (ar, af, aw) => {
        if (aw !== WireType.LengthDelimited) return false;
        if (af === 1) any.typeUrl = decoder.decode(ar.bytes());
        else if (af === 2) any.value = ar.bytes();
        else return false;
        return true;
      });
      s.details.push(any);
    } else return false;
    return true;
  });
  return s;
}

/** Decodes a Response; throws on bytes that are not one. */
export function decodeResponse(data: Uint8Array): ResponseEnvelope {
  const res: ResponseEnvelope = { status: undefined, payload: undefined };
  fields(data, (r, f, w) => {
    if (w !== WireType.LengthDelimited) return false;
    if (f === 1) res.status = decodeStatus(r.bytes());
    else if (f === 2) res.payload = r.bytes();
    else return false;
    return true;
  });
  return res;
}

/** Names of the flags set on a frame of this type. */
export function flagNames(type: number, flags: number): string[] {
  const names: string[] = [];
  if (flags & 1) names.push("remote-closed");
  if (flags & 2) names.push(type === 1 ? "remote-open" : "0x2");
  if (flags & 4) names.push(type === 3 ? "no-data" : "0x4");
  for (let bit = 8; bit < 256; bit <<= 1) if (flags & bit) names.push(`0x${bit.toString(16)}`);
  return names;
}
