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

/** The open streams of one connection, by id. */
export class StreamTable<S extends Stream> {
  readonly #streams = new Map<number, S>();

  /** Number of open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** The open stream with this id. */
  get(id: number): S | undefined {
    return this.#streams.get(id);
  }

  /** Adds an opened stream (its id is set). */
  add(stream: S): void {
    this.#streams.set(stream.id, stream);
  }

  /** Removes a stream that is over. */
  release(stream: S): void {
    this.#streams.delete(stream.id);
  }

  /** The connection is gone: every open stream fails with `error` (and leaves the table). */
  failAll(error: TtrpcError): void {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream.fail(error, false);
  }
}
