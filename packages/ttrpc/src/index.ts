/**
 * ttrpc for Node.js: containerd's low-memory RPC protocol, client and server.
 * @module
 */
export {
  type CallOptions,
  Connection,
  type ConnectOptions,
  connect,
  createClient,
} from "./client.js";
export {
  Code,
  codeToString,
  type ErrorDetail,
  TtrpcError,
  type TtrpcErrorOptions,
} from "./errors.js";
export { DEFAULT_MAX_MESSAGE_BYTES, Flag, HEADER_LENGTH, MessageType } from "./frame.js";
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
export { Metadata, type MetadataInit } from "./metadata.js";
export { createServer, type HandlerContext, Server, type ServerOptions } from "./server.js";
export {
  type AnyIterable,
  type AnyService,
  type Client,
  defineService,
  type MessageCodec,
  type MethodDef,
  type MethodInfo,
  type MethodKind,
  type ServiceDef,
  type ServiceImpl,
} from "./service.js";
export {
  createWritableIterable,
  DEFAULT_STREAM_BUFFER,
  DEFAULT_STREAM_BUFFER_TIMEOUT_MS,
  type QueueLimits,
  type WritableIterable,
} from "./stream.js";
