/**
 * A ttrpc stream and the table of a connection's open streams, shared by client and server.
 *
 * A stream has two halves (PROTOCOL.md, "Stream states"): *local closed* once this side has sent
 * its last frame on it, *remote closed* once the peer has. Each side's calls extend
 * {@link Stream}, so the half-states live in one place whatever the call kind: this is where a
 * rule such as "a stream the client abandons still half-closes its requests" belongs.
 * @module
 */
import type { TtrpcError } from "./errors.js";

/** One stream of a connection: its id, its two half-states, and whether it is over. */
export abstract class Stream {
  /** The stream id (odd: client-initiated); 0 until the stream is opened. */
  id = 0;
  /**
   * This side sent its last frame (client: the request with remote-closed, or the half-close
   * Data frame; server: the final Response, or the end-of-stream Data frame).
   */
  localClosed = false;
  /**
   * The peer sent its last frame (client: the Response, or Data with remote-closed; server: a
   * Request with remote-closed, or Data with remote-closed).
   */
  remoteClosed = false;
  /** The stream is over: out of its table, nothing more is sent on it or expected for it. */
  ended = false;

  /** A frame for this stream arrived: its data is `data[start, end)`. */
  abstract frame(type: number, flags: number, data: Buffer, start: number, end: number): void;

  /**
   * The stream failed with `error`. `discard` drops messages received and not yet read (a local
   * failure); a lost connection (`discard` false) lets the reader have what arrived first.
   */
  abstract fail(error: TtrpcError, discard: boolean): void;
}

/**
 * Slots of the stream table: ids are handed out in order (odd, +2 a call), so the calls in
 * flight mostly fall into distinct slots of a small ring; one that collides goes in a Map.
 */
const SLOTS = 64;
const SLOT_MASK = SLOTS - 1;

/**
 * The open streams of one connection, by id. A slot per id modulo {@link SLOTS} spares the
 * unary hot path a Map insert, lookup and delete per call (a collision falls back to the Map).
 */
export class StreamTable<S extends Stream> {
  readonly #streams = new Map<number, S>();
  #slots: (S | undefined)[] | undefined;
  #inSlots = 0;

  /** Number of open streams. */
  get size(): number {
    return this.#streams.size + this.#inSlots;
  }

  /** The open stream with this id. */
  get(id: number): S | undefined {
    const stream = this.#slots?.[(id >>> 1) & SLOT_MASK];
    if (stream !== undefined && stream.id === id) return stream;
    return this.#streams.get(id);
  }

  /** Adds an opened stream (its id is set). */
  add(stream: S): void {
    this.#slots ??= new Array<S | undefined>(SLOTS).fill(undefined);
    const slots = this.#slots;
    const i = (stream.id >>> 1) & SLOT_MASK;
    if (slots[i] === undefined) {
      slots[i] = stream;
      this.#inSlots++;
    } else this.#streams.set(stream.id, stream);
  }

  /** Removes a stream that is over. */
  release(stream: S): void {
    const slots = this.#slots;
    const i = (stream.id >>> 1) & SLOT_MASK;
    if (slots !== undefined && slots[i] === stream) {
      slots[i] = undefined;
      this.#inSlots--;
    } else this.#streams.delete(stream.id);
  }

  /** The connection is gone: every open stream fails with `error` (and leaves the table). */
  failAll(error: TtrpcError): void {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    const slots = this.#slots;
    if (slots !== undefined) {
      for (let i = 0; i < SLOTS; i++) {
        const stream = slots[i];
        if (stream !== undefined) streams.push(stream);
        slots[i] = undefined;
      }
      this.#inSlots = 0;
    }
    // In the order they were opened, as the Map alone gave them.
    streams.sort((a, b) => a.id - b.id);
    for (const stream of streams) stream.fail(error, false);
  }
}
