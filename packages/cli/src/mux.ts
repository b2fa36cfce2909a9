/**
 * NRI's connection multiplexer as `tap --nri` sees it: every mux frame is
 * `conn id (u32 BE) | length (u32 BE) | payload`, and each conn id carries its own ttrpc byte stream
 * (1: the plugin's service, which the runtime calls; 2: the runtime's service, which the plugin
 * calls). This splits one direction of the socket into per-id ttrpc frames. Like wire.ts it only
 * observes: bad input is reported, never thrown.
 * @module
 */
import { type Frame, FrameReader } from "./wire.js";

/** NRI 0.6's limit on one mux frame's payload. */
export const MAX_MUX_FRAME = 16 << 20;

/** A ttrpc frame and the mux id it travelled on. */
export interface MuxedFrame {
  mux: number;
  frame: Frame;
}

/** One direction of a muxed socket. */
export class MuxReader {
  #buf: Buffer = Buffer.alloc(0);
  readonly #streams = new Map<number, FrameReader>();
  readonly #maxFrame: number;
  /** Set once a mux header announced more than the limit: the rest of the direction is not parsed. */
  lost: string | undefined;

  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  /** Bytes of incomplete frames (mux or ttrpc) held when the direction ends. */
  get pending(): number {
    let n = this.#buf.length;
    for (const r of this.#streams.values()) n += r.pending;
    return n;
  }

  /** Feeds a chunk; returns the ttrpc frames it completed, with their mux ids. */
  push(chunk: Buffer): MuxedFrame[] {
    if (this.lost) return [];
    const out: MuxedFrame[] = [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 8) {
      const id = this.#buf.readUInt32BE(0);
      const length = this.#buf.readUInt32BE(4);
      if (length > MAX_MUX_FRAME) {
        this.lost = `a mux frame of ${length} bytes on id ${id} (over ${MAX_MUX_FRAME}): not parsed further`;
        this.#buf = Buffer.alloc(0);
        return out;
      }
      if (this.#buf.length < 8 + length) break;
      const payload = this.#buf.subarray(8, 8 + length);
      this.#buf = this.#buf.subarray(8 + length);
      let reader = this.#streams.get(id);
      if (!reader) {
        reader = new FrameReader(this.#maxFrame);
        this.#streams.set(id, reader);
      }
      for (const frame of reader.push(Buffer.from(payload))) out.push({ mux: id, frame });
    }
    return out;
  }
}
