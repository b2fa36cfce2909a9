/**
 * Interceptors: one onion shape for client and server, unary and streaming calls.
 *
 * An interceptor takes the next step and returns a step: `(next) => async (req) => next(req)`.
 * The first interceptor in a list is the outermost. On the client an interceptor may change
 * `metadata` and `timeoutMs` before the call goes out; on the server `context` gives the handler's
 * context (metadata, signal, deadline, peer).
 * @module
 */
import type { HandlerContext } from "./context.js";
import type { Metadata } from "./metadata.js";
import type { MethodInfo } from "./method.js";

interface RequestCommon {
  /** Which side runs the interceptor. */
  readonly side: "client" | "server";
  /** The method, with its service name, proto name, local name and kind. */
  readonly method: MethodInfo;
  /** Client: the outgoing metadata (mutable). Server: the incoming metadata. */
  metadata: Metadata;
  /** Client: the call's timeout (mutable). Server: the time left when the call arrived. */
  timeoutMs: number | undefined;
  /** Client: the caller's signal. Server: the handler's signal. */
  signal: AbortSignal | undefined;
  /** Server only: the handler context. */
  readonly context: HandlerContext | undefined;
}

/** A call whose request is one message (unary and server-streaming). */
export interface UnaryRequest extends RequestCommon {
  readonly stream: false;
  message: unknown;
}

/** A call whose request is a stream (client-streaming and bidi). */
export interface StreamRequest extends RequestCommon {
  readonly stream: true;
  messages: AsyncIterable<unknown>;
}

/** A call whose response is one message (unary and client-streaming). */
export interface UnaryResponse {
  readonly stream: false;
  message: unknown;
}

/** A call whose response is a stream (server-streaming and bidi). */
export interface StreamResponse {
  readonly stream: true;
  messages: AsyncIterable<unknown>;
}

/** A request of any kind. */
export type InterceptorRequest = UnaryRequest | StreamRequest;
/** A response of any kind. */
export type InterceptorResponse = UnaryResponse | StreamResponse;

/** One step of a call: the transport (client), the handler (server), or an interceptor. */
export type CallStep = (request: InterceptorRequest) => Promise<InterceptorResponse>;

/**
 * Wraps a call step.
 *
 * @example
 * const logger: Interceptor = (next) => async (req) => {
 *   const started = Date.now();
 *   try { return await next(req); }
 *   finally { console.log(req.method.path, Date.now() - started, "ms"); }
 * };
 */
export type Interceptor = (next: CallStep) => CallStep;

/** Composes interceptors around `last`; the first interceptor is the outermost. */
export function applyInterceptors(last: CallStep, interceptors: readonly Interceptor[]): CallStep {
  let step = last;
  for (let i = interceptors.length - 1; i >= 0; i--) step = (interceptors[i] as Interceptor)(step);
  return step;
}
