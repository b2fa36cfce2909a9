/**
 * The client's public face: `connect()` opens a {@link Connection}, `createClient()` derives a
 * typed client from a service definition. The multiplexer behind both is connection.ts.
 * @module
 */
import type { Duplex } from "node:stream";
import { ClientEngine, type ConnectOptions } from "./connection.js";
import type { CallOptions } from "./context.js";
import { dialSocket } from "./dial.js";
import { Code, TtrpcError } from "./errors.js";
import type { InterceptorRequest, InterceptorResponse } from "./interceptor.js";
import { Metadata } from "./metadata.js";
import { type AnyIterable, type EngineMethod, type MethodInfo, streamsRequests } from "./method.js";
import { type MessageQueue, toAsyncIterable } from "./queue.js";
import { type AnyService, type Client, normalizeService, type ServiceInfo } from "./service.js";

export type { ConnectOptions } from "./connection.js";

let engineOf: (connection: Connection) => ClientEngine;

/**
 * One client connection: a multiplexer of calls over a unix socket (or any Duplex).
 * Create it with {@link connect}; call through {@link createClient}.
 */
export class Connection implements AsyncDisposable {
  readonly #engine: ClientEngine;
  /**
   * Settles when the connection ends: with the error that ended it, or undefined after
   * {@link Connection.close}. It never rejects.
   */
  readonly closed: Promise<TtrpcError | undefined>;

  /** Wraps a connected Duplex; {@link connect} is the usual way in. */
  constructor(socket: Duplex, options?: ConnectOptions) {
    this.#engine = new ClientEngine(socket, options);
    this.closed = this.#engine.closed;
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#engine.channel.isClosed;
  }

  /** Number of calls and streams in flight. */
  get activeStreams(): number {
    return this.#engine.activeStreams;
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.#engine.channel.close();
    return this.closed.then(() => {});
  }

  /** Same as {@link Connection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  static {
    engineOf = (connection) => connection.#engine;
  }
}

/**
 * Opens a connection to a unix socket path, or wraps an already-connected Duplex.
 *
 * @example
 * await using conn = await connect("/run/demo.sock");
 */
export function connect(target: string | Duplex, options?: ConnectOptions): Promise<Connection> {
  if (typeof target !== "string") return Promise.resolve(new Connection(target, options));
  return dialSocket(target, options?.signal).then((socket) => new Connection(socket, options));
}

const ITERATED_TWICE =
  "ttrpc: a stream call's result can be iterated once; call the method again for a new call";

/** An async iterator that first waits for the real one (runtime loading, interceptors). */
function deferredIterator<T>(open: () => Promise<AsyncIterable<T>>): AsyncIterableIterator<T> {
  let inner: Promise<AsyncIterator<T>> | undefined;
  const get = () => {
    inner ??= open().then((iterable) => iterable[Symbol.asyncIterator]());
    return inner;
  };
  return {
    next: () => get().then((it) => it.next()),
    return: async () => {
      if (inner === undefined) {
        // Closed before the first read: no call is ever opened.
        inner = Promise.resolve({ next: async () => ({ done: true, value: undefined }) });
        return { done: true, value: undefined };
      }
      const it = await inner.catch(() => undefined);
      return (await it?.return?.()) ?? { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function interceptorRequest(
  method: MethodInfo,
  input: unknown,
  options: CallOptions | undefined,
): InterceptorRequest {
  const common = {
    side: "client" as const,
    method,
    metadata: options?.metadata === undefined ? new Metadata() : new Metadata(options.metadata),
    timeoutMs: options?.timeoutMs,
    signal: options?.signal,
    context: undefined,
  };
  const streams = streamsRequests(method.kind);
  return streams
    ? { ...common, stream: true, messages: toAsyncIterable(input as AnyIterable<unknown>) }
    : { ...common, stream: false, message: input };
}

function unaryResult(response: InterceptorResponse): unknown {
  if (response.stream)
    throw new TtrpcError(
      "ttrpc: interceptor returned a stream for a unary response",
      Code.Internal,
    );
  return response.message;
}

function streamResult(response: InterceptorResponse): AsyncIterable<unknown> {
  if (!response.stream)
    throw new TtrpcError(
      "ttrpc: interceptor returned a message for a stream response",
      Code.Internal,
    );
  return response.messages;
}

function clientMethod(
  service: ServiceInfo,
  method: EngineMethod,
  conn: ClientEngine,
): (...args: never[]) => unknown {
  const viaInterceptors = (input: unknown, options: CallOptions | undefined) =>
    conn.invoke(interceptorRequest(method, input, options));
  switch (method.kind) {
    case "unary":
    case "client_streaming": {
      const direct =
        method.kind === "unary"
          ? (input: unknown, options?: CallOptions) => conn.unary(method, input, options)
          : (input: unknown, options?: CallOptions) =>
              conn.stream(method, input, options).result as Promise<unknown>;
      const call = (input: unknown, options?: CallOptions): Promise<unknown> =>
        conn.hasInterceptors
          ? viaInterceptors(input, options).then(unaryResult)
          : direct(input, options);
      return (input: unknown, options?: CallOptions) =>
        service.ready === undefined
          ? call(input, options)
          : service.ready.then(() => call(input, options));
    }
    default:
      return (input: unknown, options?: CallOptions): AsyncIterable<unknown> => {
        let iterated = false;
        return {
          [Symbol.asyncIterator]() {
            // A second pass would silently make a second call: the result is one call's responses.
            if (iterated) throw new TypeError(ITERATED_TWICE);
            iterated = true;
            if (service.ready === undefined && !conn.hasInterceptors) {
              return conn.stream(method, input, options).call.queue as MessageQueue<unknown>;
            }
            return deferredIterator(async () => {
              await service.ready;
              if (!conn.hasInterceptors)
                return conn.stream(method, input, options).call.queue as MessageQueue<unknown>;
              return streamResult(await viaInterceptors(input, options));
            });
          },
        };
      };
  }
}

/**
 * Derives a client from a service: one method per RPC, keyed by the method's local name.
 * `service` is a protobuf-es v2 `GenService` or a {@link defineService} definition.
 *
 * @example
 * const client = createClient(GreeterService, conn);
 * const reply = await client.sayHello({ name: "ttrpc" }, { timeoutMs: 1000 });
 */
export function createClient<S extends AnyService>(service: S, connection: Connection): Client<S> {
  const info = normalizeService(service);
  const client: Record<string, unknown> = {};
  for (const method of info.methods)
    client[method.localName] = clientMethod(info, method, engineOf(connection));
  return client as Client<S>;
}
