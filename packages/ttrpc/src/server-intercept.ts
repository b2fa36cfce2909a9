/**
 * The server's interceptor path: the request an interceptor sees, and the chain around a
 * method's handler. Both cost little per call: the chain is built once per method, and the
 * request reads the handler context's metadata and signal only when an interceptor does (the
 * context builds them on first use; an AbortController per call cost 4–6 µs, issue 10).
 * @module
 */
import type { CallContext } from "./context.js";
import { Code, TtrpcError } from "./errors.js";
import type {
  CallStep,
  Interceptor,
  InterceptorRequest,
  InterceptorResponse,
} from "./interceptor.js";
import type { Metadata } from "./metadata.js";
import { type MethodInfo, streamsResponses } from "./method.js";
import { toAsyncIterable } from "./queue.js";

/** A handler as the server registered it. */
export type Handler = (input: unknown, context: CallContext) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * The request a server interceptor sees. `metadata` and `signal` read the handler context on
 * first use (prototype accessors: nothing is built for an interceptor that does not read them);
 * assigning one keeps the value given.
 */
class ServerRequest {
  readonly side = "server" as const;
  readonly method: MethodInfo;
  readonly stream: boolean;
  message: unknown;
  messages: AsyncIterable<unknown> | undefined;
  timeoutMs: number | undefined;
  readonly context: CallContext;
  #metadata: Metadata | undefined;
  #signal: AbortSignal | undefined;
  #signalSet = false;

  constructor(method: MethodInfo, input: unknown, context: CallContext, streams: boolean) {
    this.method = method;
    this.stream = streams;
    this.message = streams ? undefined : input;
    this.messages = streams ? (input as AsyncIterable<unknown>) : undefined;
    this.timeoutMs = context.timeoutMs();
    this.context = context;
  }

  get metadata(): Metadata {
    return this.#metadata ?? this.context.metadata;
  }

  set metadata(value: Metadata) {
    this.#metadata = value;
  }

  get signal(): AbortSignal | undefined {
    return this.#signalSet ? this.#signal : this.context.signal;
  }

  set signal(value: AbortSignal | undefined) {
    this.#signalSet = true;
    this.#signal = value;
  }
}

/** The request a server interceptor sees, for one call. */
export function serverRequest(
  method: MethodInfo,
  input: unknown,
  context: CallContext,
  streams: boolean,
): InterceptorRequest {
  return new ServerRequest(method, input, context, streams) as InterceptorRequest;
}

/**
 * A copy an interceptor made (`{ ...req, message }`) has no `metadata` or `signal` (a spread
 * copies own properties only): they are filled in from its context, so the next step sees them.
 */
function complete(request: InterceptorRequest): InterceptorRequest {
  if (request instanceof ServerRequest) return request;
  const context = request.context as CallContext | undefined;
  if (context !== undefined) {
    const copy = request as { metadata?: Metadata; signal?: AbortSignal };
    if (!("metadata" in copy)) copy.metadata = context.metadata;
    if (!("signal" in copy)) copy.signal = context.signal;
  }
  return request;
}

/**
 * The server chain of a method: its interceptors around `last`, the first one outermost, each
 * step handed a complete request (see {@link complete}). Built once per method.
 */
export function serverChain(last: CallStep, interceptors: readonly Interceptor[]): CallStep {
  let step = last;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const next = step;
    step = (interceptors[i] as Interceptor)((request) => next(complete(request)));
  }
  return step;
}

/**
 * The last step of a method's server chain: runs the handler with the request's context (an
 * interceptor that builds a new request keeps `context`, as a spread does).
 */
export function handlerStep(method: MethodInfo, handler: Handler): CallStep {
  const wrap: (out: unknown) => InterceptorResponse = streamsResponses(method.kind)
    ? (out) => ({ stream: true, messages: toAsyncIterable(out as AsyncIterable<unknown>) })
    : (out) => ({ stream: false, message: out });
  return (r) => {
    const context = r.context as CallContext | undefined;
    if (context === undefined) {
      return Promise.reject(
        new TtrpcError(
          "ttrpc: a server interceptor passed on a request without its context",
          Code.Internal,
        ),
      );
    }
    try {
      const out = handler(r.stream ? r.messages : r.message, context);
      return isThenable(out) ? Promise.resolve(out).then(wrap) : Promise.resolve(wrap(out));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** What the chain's response gives the call to write: the message, or the stream. */
export function responseValue(res: InterceptorResponse): unknown {
  return res.stream ? res.messages : res.message;
}
