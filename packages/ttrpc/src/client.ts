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
import { checkOptions, SHARED_OPTIONS } from "./limits.js";
import { Metadata } from "./metadata.js";
import { type AnyIterable, type EngineMethod, type MethodInfo, streamsRequests } from "./method.js";
import { type MessageQueue, toAsyncIterable } from "./queue.js";
import { type ConnectionState, Redialer, type RedialOptions } from "./redial.js";
import { type AnyService, type Client, normalizeService, type ServiceInfo } from "./service.js";

export type { ConnectOptions } from "./connection.js";

let engineOf: (connection: Connection) => ClientEngine | Redialer;

/**
 * One client connection: a multiplexer of calls over a unix socket (or any Duplex).
 * Create it with {@link connect} (one socket, for its lifetime) or {@link redial} (dials again
 * after the peer goes away); call through {@link createClient}.
 */
export class Connection implements AsyncDisposable {
  readonly #engine: ClientEngine | Redialer;
  /**
   * Settles when the connection ends: with the error that ended it, or undefined after
   * {@link Connection.close}. It never rejects. (A redialing connection ends only with `close()`.)
   */
  readonly closed: Promise<TtrpcError | undefined>;

  /** Wraps a connected Duplex; {@link connect} and {@link redial} are the usual ways in. */
  constructor(socket: Duplex, options?: ConnectOptions) {
    // redial() passes its engine in place of a socket (the constructor is the only way to a
    // Connection's private state).
    const engine: ClientEngine | Redialer =
      (socket as unknown) instanceof Redialer
        ? (socket as unknown as Redialer)
        : new ClientEngine(socket, options);
    this.#engine = engine;
    this.closed = engine.closed;
  }

  /**
   * Where the connection stands: `ready` or `closed` for one made by {@link connect}; a
   * {@link redial} connection also goes through `idle`, `connecting` and `disconnected`.
   */
  get state(): ConnectionState {
    const engine = this.#engine;
    if (engine instanceof Redialer) return engine.state;
    return engine.channel.isClosed ? "closed" : "ready";
  }

  /** True once the connection is closed (for a redialing one: once `close()` was called). */
  get isClosed(): boolean {
    const engine = this.#engine;
    return engine instanceof Redialer ? engine.state === "closed" : engine.channel.isClosed;
  }

  /** Number of calls and streams in flight (and, redialing, calls waiting for a connection). */
  get activeStreams(): number {
    return this.#engine.activeStreams;
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. A redialing one stops for good. */
  close(): Promise<void> {
    const engine = this.#engine;
    if (engine instanceof Redialer) return engine.close();
    engine.channel.close();
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
  // Nonsensical options are refused before anything is dialled (a rejection, for either target).
  try {
    checkOptions("connect", options, SHARED_OPTIONS);
  } catch (error) {
    return Promise.reject(error);
  }
  if (typeof target !== "string") return Promise.resolve(new Connection(target, options));
  return dialSocket(target, options?.signal).then((socket) => new Connection(socket, options));
}

/**
 * A connection that redials (opt-in): it dials `path` on the first call, and after the peer goes
 * away (a restart, a crash) dials again with capped exponential backoff (`initialBackoffMs`
 * doubling up to `maxBackoffMs`, with jitter) until `close()`. While it has no connection, calls
 * fail at once with UNAVAILABLE, or with `queue` > 0 wait for it (up to `queue` calls and
 * `queueBytes` of requests; each still bound by its own timeout and signal). Calls made while a
 * dial is under way wait for its outcome. `onStateChange` and {@link Connection.state} tell
 * where it stands. A call in flight when the connection drops fails (UNAVAILABLE): it is never
 * sent again, since the server may have run it.
 *
 * @example
 * const conn = redial("/run/containerd/s/abc", { queue: 100, onStateChange: (s) => log(s) });
 * const client = createClient(TaskService, conn);
 */
export function redial(path: string, options?: RedialOptions): Connection {
  return new Connection(new Redialer(path, options) as unknown as Duplex);
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
  const metadata =
    options?.metadata === undefined ? new Metadata() : new Metadata(options.metadata);
  // Two literals, no spread of a shared part: one object per call.
  return streamsRequests(method.kind)
    ? {
        side: "client",
        method,
        metadata,
        timeoutMs: options?.timeoutMs,
        signal: options?.signal,
        context: undefined,
        stream: true,
        messages: toAsyncIterable(input as AnyIterable<unknown>),
      }
    : {
        side: "client",
        method,
        metadata,
        timeoutMs: options?.timeoutMs,
        signal: options?.signal,
        context: undefined,
        stream: false,
        message: input,
      };
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

/** The connection a call goes on: a redialing connection's current one, maybe after a wait. */
function acquire(
  source: Redialer,
  method: EngineMethod,
  input: unknown,
  options: CallOptions | undefined,
): Promise<[ClientEngine, CallOptions | undefined]> {
  const got = source.acquire(method, input, options);
  return got instanceof ClientEngine ? Promise.resolve([got, options]) : got;
}

function clientMethod(
  service: ServiceInfo,
  method: EngineMethod,
  source: ClientEngine | Redialer,
): (...args: never[]) => unknown {
  const viaInterceptors = (conn: ClientEngine, input: unknown, options: CallOptions | undefined) =>
    conn.invoke(interceptorRequest(method, input, options));
  switch (method.kind) {
    case "unary":
    case "client_streaming": {
      const direct =
        method.kind === "unary"
          ? (conn: ClientEngine, input: unknown, options?: CallOptions) =>
              conn.unary(method, input, options)
          : (conn: ClientEngine, input: unknown, options?: CallOptions) =>
              conn.stream(method, input, options).result as Promise<unknown>;
      const call = (conn: ClientEngine, input: unknown, options?: CallOptions): Promise<unknown> =>
        conn.hasInterceptors
          ? viaInterceptors(conn, input, options).then(unaryResult)
          : direct(conn, input, options);
      const start =
        source instanceof ClientEngine
          ? (input: unknown, options?: CallOptions) => call(source, input, options)
          : (input: unknown, options?: CallOptions) => {
              const got = source.acquire(method, input, options);
              return got instanceof ClientEngine
                ? call(got, input, options)
                : got.then(([conn, waited]) => call(conn, input, waited));
            };
      return (input: unknown, options?: CallOptions) =>
        service.ready === undefined
          ? start(input, options)
          : service.ready.then(() => start(input, options));
    }
    default:
      return (input: unknown, options?: CallOptions): AsyncIterable<unknown> => {
        let iterated = false;
        return {
          [Symbol.asyncIterator]() {
            // A second pass would silently make a second call: the result is one call's responses.
            if (iterated) throw new TypeError(ITERATED_TWICE);
            iterated = true;
            if (
              service.ready === undefined &&
              source instanceof ClientEngine &&
              !source.hasInterceptors
            ) {
              return source.stream(method, input, options).call.queue as MessageQueue<unknown>;
            }
            return deferredIterator(async () => {
              await service.ready;
              const [conn, opts] =
                source instanceof ClientEngine
                  ? [source, options]
                  : await acquire(source, method, input, options);
              if (!conn.hasInterceptors)
                return conn.stream(method, input, opts).call.queue as MessageQueue<unknown>;
              return streamResult(await viaInterceptors(conn, input, opts));
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
