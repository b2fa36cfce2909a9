/**
 * A method as the engine sees it, whatever it was defined with: names, a kind and two codecs.
 * @module
 */

/**
 * Turns messages into bytes and back. `encode` may return one buffer or a list of chunks that
 * form the message in order: a static codec can return a small prefix plus a payload it already
 * holds, and the engine writes large chunks to the socket without copying them.
 */
export interface MessageCodec<T> {
  encode(message: T): Uint8Array | readonly Uint8Array[];
  decode(bytes: Uint8Array): T;
}

/** The four RPC kinds, in protobuf-es's vocabulary. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** Something to iterate over, synchronously or not. */
export type AnyIterable<T> = AsyncIterable<T> | Iterable<T>;

/** A method as handlers and interceptors see it, whatever it was defined with. */
export interface MethodInfo {
  /** The fully-qualified service name. */
  readonly service: string;
  /** The proto method name. */
  readonly name: string;
  /** The JavaScript name (key of clients and implementations). */
  readonly localName: string;
  /** Which of the four RPC kinds it is. */
  readonly kind: MethodKind;
  /** `/service/Method`, as Go's server names it. */
  readonly path: string;
  /** The request codec. */
  readonly input: MessageCodec<unknown>;
  /** The response codec. */
  readonly output: MessageCodec<unknown>;
  /** The protobuf-es `DescMethod`, when the service came from one. */
  readonly desc: unknown;
}

/** The engine's own record of a method: the public view plus what only the engine uses. */
export interface EngineMethod extends MethodInfo {
  /** Encoded Request fields 1–2 (service and method), copied into every request. */
  readonly prefix: Buffer;
}

/** True for the kinds whose requests are a stream (client-streaming and bidi). */
export function streamsRequests(kind: MethodKind): boolean {
  return kind === "client_streaming" || kind === "bidi_streaming";
}

/** True for the kinds whose responses are a stream (server-streaming and bidi). */
export function streamsResponses(kind: MethodKind): boolean {
  return kind === "server_streaming" || kind === "bidi_streaming";
}
