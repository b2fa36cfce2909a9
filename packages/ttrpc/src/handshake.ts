/**
 * The handshake hook: runs on each accepted connection before any frame is read.
 * @module
 */
import type { Duplex } from "node:stream";

/** What a handshaker returns: possibly a replacement transport, and what handlers see as `peer`. */
export interface HandshakeResult {
  /** A transport that replaces the accepted one (e.g. a wrapped or decrypted stream). */
  socket?: Duplex;
  /** Anything: credentials, an identity. Handlers read it as `context.peer`. */
  peer?: unknown;
}

/**
 * Authenticates or wraps a new connection, as Go's `Handshaker` does. Throwing (or rejecting)
 * refuses the connection: it is closed before any call is read. `signal` aborts when the server
 * closes or the handshake times out.
 */
export type Handshaker = (
  socket: Duplex,
  signal: AbortSignal,
) => Promise<HandshakeResult | undefined> | HandshakeResult | undefined;
