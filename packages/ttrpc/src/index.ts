/**
 * ttrpc for Node.js: containerd's low-memory RPC protocol, client and server.
 * Wire-level constants (frame types, flags, header length) are in the `ttrpc/wire` subpath.
 * @module
 */
export { Connection, connect, createClient, redial } from "./client.js";
export type { ConnectOptions } from "./connection.js";
export type { CallOptions, HandlerContext } from "./context.js";
export { findDetails } from "./details.js";
export {
  Code,
  codeToString,
  type ErrorDetail,
  TtrpcError,
  type TtrpcErrorOptions,
} from "./errors.js";
export { DEFAULT_MAX_MESSAGE_BYTES } from "./frame.js";
export type { HandshakeResult, Handshaker } from "./handshake.js";
export type {
  CallStep,
  Interceptor,
  InterceptorRequest,
  InterceptorResponse,
  StreamRequest,
  StreamResponse,
  UnaryRequest,
  UnaryResponse,
} from "./interceptor.js";
export {
  DEFAULT_CONNECTION_BUFFER_BYTES,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  DEFAULT_MAX_WRITE_QUEUE_BYTES,
  DEFAULT_STREAM_BUFFER_BYTES,
} from "./limits.js";
export { Metadata, type MetadataInit } from "./metadata.js";
export type { AnyIterable, MessageCodec, MethodInfo, MethodKind } from "./method.js";
export {
  createWritableIterable,
  DEFAULT_STREAM_BUFFER,
  DEFAULT_STREAM_BUFFER_TIMEOUT_MS,
  type QueueLimits,
  type WritableIterable,
} from "./queue.js";
export {
  type ConnectionState,
  DEFAULT_INITIAL_BACKOFF_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_REDIAL_QUEUE_BYTES,
  type RedialOptions,
} from "./redial.js";
export {
  createServer,
  Server,
  type ServerErrorInfo,
  type ServerOptions,
  type ShutdownOptions,
} from "./server.js";
export {
  type AnyService,
  type Client,
  defineService,
  type MethodDef,
  type ServiceDef,
  type ServiceImpl,
} from "./service.js";
