import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { Duplex } from "node:stream";
import { DrainNotice } from "./context.js";
import { checkSocketPath, removeStaleSocket } from "./dial.js";
import { type DispatchHost, ServerConnection } from "./dispatch.js";
import { Code, TtrpcError } from "./errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./frame.js";
import type { Handshaker } from "./handshake.js";
import type { Interceptor } from "./interceptor.js";
import {
  checkOptions,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  SERVER_OPTIONS,
  timerMs,
} from "./limits.js";
import type { QueueLimits } from "./queue.js";
import type { Entry } from "./server-call.js";
import { logHandlerError, type ServerErrorInfo } from "./server-report.js";

export type { ServerErrorInfo } from "./server-report.js";

import { type AnyService, normalizeService, type ServiceImpl } from "./service.js";

/** Options of {@link createServer}. */
export interface ServerOptions extends QueueLimits {
  /** Server interceptors, outermost first. They see every call kind. */
  interceptors?: Interceptor[];
  /** Runs on each new connection before any frame is read; may refuse it. */
  handshaker?: Handshaker;
  /** How long a handshake may take (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Largest frame data sent or accepted (default 4 MiB). */
  maxMessageBytes?: number;
  /**
   * Bytes queued for writing on one connection (replies of every kind) past which the connection
   * stops starting calls and stops reading, until the queue drains (default 16 MiB).
   */
  maxWriteQueueBytes?: number;
  /**
   * Streaming calls open at once on one connection (default 1,024); a new one past it is refused
   * with RESOURCE_EXHAUSTED. Unary calls are not counted.
   */
  maxConcurrentStreams?: number;
  /** Metadata entries per request (default 1,024); past it the call is refused with RESOURCE_EXHAUSTED. */
  maxMetadataEntries?: number;
  /** Encoded metadata bytes per request (default 64 KiB); past it the call is refused with RESOURCE_EXHAUSTED. */
  maxMetadataBytes?: number;
  /** How long a frame that started arriving may take to complete before the connection is closed (default 30 s). */
  frameTimeoutMs?: number;
  /** Closes a connection with no call in flight that received no frame for this long (default: never). */
  idleTimeoutMs?: number;
  /**
   * Fails a client- or bidi-streaming call (DEADLINE_EXCEEDED) whose client has sent no message
   * and no half-close for this long (default: never): ttrpc has no cancel frame, so this is how a
   * server ends a stream its client abandoned without a deadline.
   */
  streamIdleTimeoutMs?: number;
  /** The time `shutdown()` waits before it falls back to `close()`, when not given one (default: no limit). */
  shutdownTimeoutMs?: number;
  /**
   * Send the message of errors that are not TtrpcErrors to clients (default true, as Go does).
   * When false they travel as UNKNOWN "internal error".
   */
  exposeErrorMessages?: boolean;
  /**
   * Hears about failures no client should have to report: an unexpected handler error (anything
   * thrown that is not a TtrpcError; `info` names the method, stream and peer), a refused
   * handshake, a listener error. Without it, each unexpected handler error prints one line on
   * stderr; `onError: () => {}` silences that. What it throws is caught (and reported as a process
   * warning): it never crashes the process.
   *
   * @example
   * createServer({ onError: (error, info) => log.error({ err: error, method: info?.method?.path }) });
   */
  onError?: (error: unknown, info?: ServerErrorInfo) => void;
}

/** Options of {@link Server.shutdown}. */
export interface ShutdownOptions {
  /** Aborting it turns the graceful shutdown into `close()`. */
  signal?: AbortSignal;
  /** After this long the graceful shutdown turns into `close()` (default: the server's `shutdownTimeoutMs`). */
  timeoutMs?: number;
}

/** The server's side of its connections: settings, registry, closing reason. */
type Host = { -readonly [K in keyof DispatchHost]: DispatchHost[K] };

/**
 * A ttrpc server. Create it with {@link createServer}, `register` services, then `listen` on a
 * unix socket (or `serve` a net.Server, or `handleConnection` any Duplex).
 */
export class Server implements AsyncDisposable {
  readonly #services = new Map<string, Map<string, Entry>>();
  readonly #connections = new Set<ServerConnection>();
  readonly #host: Host;
  readonly #listeners = new Set<NetServer>();
  readonly #handshakes = new Set<AbortController>();
  readonly #options: ServerOptions;
  #idle: (() => void) | undefined;
  #state: "serving" | "draining" | "closed" = "serving";

  /** Creates a server; {@link createServer} is the usual way in. */
  readonly #drain = new DrainNotice();

  /** Creates a server; {@link createServer} is the usual way in. Throws for a nonsensical option. */
  constructor(options: ServerOptions = {}) {
    checkOptions("createServer", options, SERVER_OPTIONS);
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw new TypeError("createServer: onError must be a function");
    }
    if (options.handshaker !== undefined && typeof options.handshaker !== "function") {
      throw new TypeError("createServer: handshaker must be a function");
    }
    this.#options = options;
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#host = {
      settings: {
        interceptors: options.interceptors ?? [],
        exposeErrorMessages: options.exposeErrorMessages ?? true,
        limits: {
          streamBufferSize: options.streamBufferSize,
          streamBufferTimeoutMs: timerMs(options.streamBufferTimeoutMs),
          streamBufferBytes: options.streamBufferBytes,
          connectionBufferBytes: options.connectionBufferBytes,
        },
        streamIdleTimeoutMs: timerMs(options.streamIdleTimeoutMs),
        drain: this.#drain,
        unexpected: (error, method, streamId, peer) => {
          if (options.onError === undefined) logHandlerError(error, method, streamId);
          else this.#report(error, { method, streamId, peer });
        },
      },
      channelLimits: {
        maxMessageBytes,
        maxWriteQueueBytes: options.maxWriteQueueBytes,
        frameTimeoutMs: timerMs(options.frameTimeoutMs),
      },
      metadataLimits: {
        maxEntries: options.maxMetadataEntries ?? DEFAULT_MAX_METADATA_ENTRIES,
        maxBytes: options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES,
      },
      maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      idleTimeoutMs: timerMs(options.idleTimeoutMs),
      maxMessageBytes,
      services: this.#services,
      closing: undefined,
      forget: (conn) => {
        this.#connections.delete(conn);
        this.#checkIdle();
      },
    };
  }

  /**
   * Registers a service: a protobuf-es `GenService` or a {@link defineService} definition, with
   * handlers keyed by local name. Methods without a handler answer UNIMPLEMENTED. Registering the
   * same service name twice throws.
   */
  register<S extends AnyService>(service: S, implementation: Partial<ServiceImpl<S>>): this {
    const info = normalizeService(service);
    if (this.#services.has(info.typeName)) {
      throw new Error(`ttrpc: service ${info.typeName} is already registered`);
    }
    const impl = implementation as Record<string, unknown>;
    const methods = new Map<string, Entry>();
    for (const method of info.methods) {
      const fn = impl[method.localName];
      if (fn !== undefined && typeof fn !== "function") {
        throw new TypeError(`ttrpc: ${method.localName} of ${info.typeName} is not a function`);
      }
      const handler =
        typeof fn === "function" ? (fn.bind(implementation) as Entry["handler"]) : undefined;
      methods.set(method.name, { service: info, method, handler, chain: undefined });
    }
    this.#services.set(info.typeName, methods);
    return this;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Listens on a unix socket path. A stale socket file (nothing listening) is removed; a live one
   * is never replaced: that rejects with EADDRINUSE. A path longer than the platform keeps (107
   * bytes on Linux) rejects with INVALID_ARGUMENT.
   */
  async listen(path: string): Promise<void> {
    this.#assertServing();
    // Node 20/22 would bind a truncated path: the stale-socket check would look at another file.
    checkSocketPath("listen", path);
    await removeStaleSocket(path);
    const net = createNetServer();
    await new Promise<void>((resolve, reject) => {
      net.once("error", reject);
      net.listen(path, () => {
        net.removeListener("error", reject);
        resolve();
      });
    });
    this.serve(net);
  }

  /** Serves connections accepted by a net.Server (already listening or not). */
  serve(netServer: NetServer): void {
    this.#assertServing();
    this.#listeners.add(netServer);
    netServer.on("connection", (socket) => this.handleConnection(socket));
    netServer.on("error", (err) => this.#report(err));
  }

  /** Serves one connected Duplex (an accepted socket, an in-memory pair, a vsock stream…). */
  handleConnection(socket: Duplex): void {
    if (this.#state !== "serving") {
      socket.destroy();
      return;
    }
    socket.on("error", () => {}); // errors surface through the channel; none may crash the process
    const handshaker = this.#options.handshaker;
    if (handshaker === undefined) {
      this.#connections.add(new ServerConnection(this.#host, socket, undefined));
      return;
    }
    const controller = new AbortController();
    this.#handshakes.add(controller);
    const timer = setTimeout(
      () => controller.abort(new TtrpcError("ttrpc: handshake timed out", Code.DeadlineExceeded)),
      timerMs(this.#options.handshakeTimeoutMs) ?? 10_000,
    );
    const abort = () => socket.destroy();
    controller.signal.addEventListener("abort", abort);
    // A handshaker that ignores its signal is abandoned all the same when the signal aborts.
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
        once: true,
      }),
    );
    aborted.catch(() => {});
    Promise.race([Promise.resolve().then(() => handshaker(socket, controller.signal)), aborted])
      .then((result) => {
        const replaced = result?.socket;
        if (replaced !== undefined && !(replaced instanceof Duplex)) {
          throw new TypeError("ttrpc: the handshaker returned a socket that is not a Duplex");
        }
        if (controller.signal.aborted || this.#state !== "serving") {
          (replaced ?? socket).destroy();
          return;
        }
        if (replaced !== undefined && replaced !== socket) replaced.on("error", () => {});
        this.#connections.add(new ServerConnection(this.#host, replaced ?? socket, result?.peer));
      })
      .catch((error: unknown) => {
        socket.destroy();
        this.#report(error);
      })
      .finally(() => {
        clearTimeout(timer);
        controller.signal.removeEventListener("abort", abort);
        this.#handshakes.delete(controller);
        this.#checkIdle();
      });
  }

  /** Hands an error to `onError`; what that throws is a warning, never a crash. */
  #report(error: unknown, info?: ServerErrorInfo): void {
    const onError = this.#options.onError;
    if (onError === undefined) return;
    try {
      onError(error, info);
    } catch (thrown) {
      process.emitWarning(`ttrpc: onError threw: ${(thrown as Error)?.message ?? thrown}`, {
        code: "TTRPC_ONERROR_THREW",
      });
    }
  }

  #checkIdle(): void {
    if (this.#state !== "serving" && this.#connections.size === 0 && this.#handshakes.size === 0) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle?.();
    }
  }

  #assertServing(): void {
    if (this.#state !== "serving") throw new TtrpcError("ttrpc: server closed", Code.Unavailable);
  }

  async #stopListening(): Promise<void> {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    await Promise.all(
      listeners.map(
        (l) => new Promise<void>((resolve) => (l.listening ? l.close(() => resolve()) : resolve())),
      ),
    );
  }

  #whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = () => {
        previous?.();
        resolve();
      };
      this.#checkIdle();
    });
  }

  /**
   * Graceful shutdown: stop accepting, refuse new calls (UNAVAILABLE), let calls and streams in
   * flight finish, close each connection as it becomes idle. Handlers see it as
   * `context.draining`. With `timeoutMs` (or the server's `shutdownTimeoutMs`) or a `signal`, it
   * turns into {@link Server.close} when time is up or the signal aborts, so it always ends.
   * Resolves when everything is closed.
   *
   * @example
   * await server.shutdown({ timeoutMs: 5000 });
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    checkOptions("shutdown", options, { timeoutMs: "ms0" });
    if (this.#state === "serving") this.#state = "draining";
    const idle = this.#whenIdle();
    this.#drain.start(new TtrpcError("ttrpc: server shutting down", Code.Unavailable));
    const timeoutMs = options.timeoutMs ?? this.#options.shutdownTimeoutMs;
    const signal = options.signal;
    let timer: NodeJS.Timeout | undefined;
    const force = () => void this.close();
    if (signal?.aborted) force();
    signal?.addEventListener("abort", force, { once: true });
    if (timeoutMs !== undefined && timeoutMs < Number.POSITIVE_INFINITY) {
      timer = setTimeout(force, timerMs(timeoutMs));
    }
    try {
      await this.#drainAll(idle);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", force);
    }
  }

  async #drainAll(idle: Promise<void>): Promise<void> {
    for (const h of this.#handshakes) {
      h.abort(new TtrpcError("ttrpc: server shutting down", Code.Unavailable));
    }
    for (const conn of this.#connections) conn.drain();
    await this.#stopListening();
    await idle;
  }

  /**
   * Forced close: stop accepting, abort every handler's signal (UNAVAILABLE), close every
   * connection. Resolves when everything is closed.
   */
  async close(): Promise<void> {
    this.#state = "closed";
    this.#host.closing ??= new TtrpcError("ttrpc: server closed", Code.Unavailable);
    const reason = this.#host.closing;
    this.#drain.start(reason);
    const idle = this.#whenIdle();
    for (const h of this.#handshakes) h.abort(reason);
    for (const conn of this.#connections) conn.close(reason);
    await this.#stopListening();
    await idle;
  }

  /** Same as {@link Server.shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Creates a server.
 *
 * @example
 * const server = createServer();
 * server.register(GreeterService, { sayHello: (req) => ({ message: `hello ${req.name}` }) });
 * await server.listen("/run/demo.sock");
 */
export function createServer(options?: ServerOptions): Server {
  return new Server(options);
}
