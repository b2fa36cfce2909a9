/**
 * The outbound half of a stream, on both sides: one pump that sends a source of messages (a
 * synchronous or an async iterable) as Data frames, with the size check and the wait for `drain`,
 * then closes the local half. Server response streams and client request streams both go out
 * through here, so a write-queue cap or a byte budget is added in one place.
 * @module
 */
import type { Channel } from "./channel.js";
import { type Encoded, encodeDataFrame, encodedLength } from "./envelope.js";
import { encodeError, oversizeError } from "./errors.js";
import { Flag } from "./frame.js";
import type { AnyIterable, MessageCodec } from "./method.js";
import type { Stream } from "./stream.js";

/** Which side sends: it names the message and the limit in an oversize error. */
export type Side = "client" | "server";

/**
 * Encodes one message and queues it as a Data frame on stream `id`. Throws INTERNAL for a
 * message its codec cannot encode and RESOURCE_EXHAUSTED for one over the channel's limit
 * (nothing is sent for either). Returns false when the socket's buffer is full: wait for
 * `channel.drained()` before sending more.
 */
export function sendMessage(
  channel: Channel,
  id: number,
  codec: MessageCodec<unknown>,
  message: unknown,
  side: Side = "client",
): boolean {
  let payload: Encoded;
  try {
    payload = codec.encode(message);
  } catch (cause) {
    throw encodeError("message", cause);
  }
  const length = encodedLength(payload);
  const max = channel.maxMessageBytes;
  if (length > max) {
    throw side === "server"
      ? oversizeError(length, max, "response message", "the server")
      : oversizeError(length, max, "request message", "this client");
  }
  return channel.send(encodeDataFrame(id, 0, payload));
}

/** Closes the local half of `stream`: the Data frame with remote-closed and no data. */
export function closeLocal(stream: Stream, channel: Channel): void {
  stream.localClosed = true;
  channel.send(encodeDataFrame(stream.id, Flag.RemoteClosed | Flag.NoData, undefined));
}

/**
 * Sends every message of `source` on `stream`, then closes its local half. Stops as soon as the
 * stream has ended, sending nothing more. A synchronous iterable is drained without a promise per
 * message. Throws what the source, the codec or the size check throws: the caller fails the
 * stream with it.
 */
export async function pump(
  stream: Stream,
  source: AnyIterable<unknown>,
  codec: MessageCodec<unknown>,
  channel: Channel,
  side: Side = "client",
): Promise<void> {
  if (Symbol.asyncIterator in source) {
    for await (const message of source) {
      if (stream.ended) return;
      if (!sendMessage(channel, stream.id, codec, message, side)) await channel.drained();
    }
  } else {
    for (const message of source) {
      if (stream.ended) return;
      if (!sendMessage(channel, stream.id, codec, message, side)) await channel.drained();
    }
  }
  if (!stream.ended) closeLocal(stream, channel);
}
