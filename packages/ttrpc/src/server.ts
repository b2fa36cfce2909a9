/**
 * The server: registers services, accepts connections on unix sockets (or any Duplex), and
 * dispatches each Request to its handler as Go ttrpc's server does.
 * @module
 */
import { lstatSync, unlinkSync } from "node:fs";
import {
  createConnection,
  createServer as createNetServer,
  type Server as NetServer,
} from "node:net";
import type { Duplex } from "node:stream";
import { Channel, type ChannelHandler } from "./channel.js";
import {
  decodeRequest,
  type Encoded,
  encodeDataFrame,
  encodedLength,
  encodeResponseFrame,
  encodeStatus,
  type RequestEnvelope,
  responseLength,
} from "./envelope.js";
import { Code, oversizeError, safeString, TtrpcError } from "./errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, Flag, MessageType } from "./frame.js";
import type { Handshaker } from "./handshake.js";
import {
  applyInterceptors,
  type CallStep,
  type Interceptor,
  type InterceptorRequest,
} from "./interceptor.js";
import { Metadata } from "./metadata.js";
import {
  type AnyService,
  type MethodInfo,
  normalizeService,
  type ServiceImpl,
  type ServiceInfo,
} from "./service.js";
import { MAX_TIMER_MS, MessageQueue, type QueueLimits, toAsyncIterable } from "./stream.js";

/** What a handler receives besides its request. */
export interface HandlerContext {
  /** The fully-qualified service name. */
  readonly service: string;
  /** The method: proto name, local name, kind, `/service/Method` path, descriptor. */
  readonly method: MethodInfo;
  /** The request's metadata (keys lower-case). */
  readonly metadata: Metadata;
  /**
   * Aborts on the call's deadline (reason: DEADLINE_EXCEEDED), when the client's connection
   * closes (CANCELLED), when the server is closed (UNAVAILABLE), and once the call is over.
   */
  readonly signal: AbortSignal;
  /** The deadline as epoch milliseconds, from the request's `timeout_nano`; undefined if none. */
  readonly deadline: number | undefined;
  /** Milliseconds left until the deadline (may be negative); undefined without one. */
  timeoutMs(): number | undefined;
  /** What the server's handshaker returned for this connection. */
  readonly peer: unknown;
}

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
   * Send the message of errors that are not TtrpcErrors to clients (default true, as Go does).
   * When false they travel as UNKNOWN "internal error".
   */
  exposeErrorMessages?: boolean;
  /** Hears about failures no call reports: refused handshakes, connections that fail. */
  onError?: (error: unknown) => void;
}

interface Entry {
  readonly service: ServiceInfo;
  readonly method: MethodInfo;
  readonly handler: ((input: unknown, context: HandlerContext) => unknown) | undefined;
}

const EMPTY = Buffer.alloc(0);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Go's `convertCode` for errors that carry no status, in Node's terms. */
function toStatusError(error: unknown, expose: boolean): TtrpcError {
  if (error instanceof TtrpcError) {
    // Code 0 would read as success on the wire, and the field is an int32.
    if (error.code >= 1 && error.code <= 0x7fffffff && Number.isInteger(error.code)) return error;
    return new TtrpcError(error.rawMessage, Code.Unknown, { details: error.details, cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  let status: number = Code.Unknown;
  if (code === "ENOENT") status = Code.NotFound;
  else if (code === "EEXIST") status = Code.AlreadyExists;
  else if (code === "EACCES" || code === "EPERM") status = Code.PermissionDenied;
  else if (error instanceof Error && error.name === "AbortError") {
    const cause = error.cause;
    if (cause instanceof TtrpcError) return cause;
    status = Code.Canceled;
  }
  if (!expose) return new TtrpcError("internal error", status, { cause: error });
  return new TtrpcError(error instanceof Error ? error.message : safeString(error), status, {
    cause: error,
  });
}

function onDeadline(call: ServerCall): void {
  const left = (call.deadline ?? 0) - Date.now();
  if (left > 0) {
    call.timer = setTimeout(onDeadline, Math.min(left, MAX_TIMER_MS), call);
    return;
  }
  call.timer = undefined;
  call.fail(new TtrpcError("context deadline exceeded", Code.DeadlineExceeded), true);
}

/** The signal's reason once a call is over; shared, since building an Error costs a stack trace. */
const CALL_COMPLETED = new TtrpcError("ttrpc: call completed", Code.Canceled);

/** One call on a server connection; it is also the handler's context. */
class ServerCall implements HandlerContext {
  readonly conn: ServerConnection;
  readonly id: number;
  readonly entry: Entry;
  readonly deadline: number | undefined;
  #pairs: [string, string][];
  #metadata: Metadata | undefined;
  /** The client half-closed its request stream. */
  #remoteClosed = false;
  /** Data frames that arrived while the service's runtime was loading. */
  #early: [number, Buffer][] | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Requests of a client- or bidi-streaming call. */
  requests: MessageQueue<unknown> | undefined;
  /** The final frame was sent (or the stream was dropped): nothing more goes out. */
  finished = false;
  #controller: AbortController | undefined;
  #abortReason: TtrpcError | undefined;

  constructor(
    conn: ServerConnection,
    id: number,
    entry: Entry,
    pairs: [string, string][],
    timeoutNano: number,
  ) {
    this.conn = conn;
    this.id = id;
    this.entry = entry;
    this.#pairs = pairs;
    if (entry.service.ready !== undefined) this.#early = [];
    this.deadline = undefined;
    if (timeoutNano !== 0) {
      const ms = timeoutNano / 1e6;
      this.deadline = Date.now() + ms;
      this.timer = setTimeout(onDeadline, Math.min(Math.max(0, ms), MAX_TIMER_MS), this);
    }
  }

  // Built on first use: most handlers never read it.
  get metadata(): Metadata {
    if (this.#metadata === undefined) {
      this.#metadata = new Metadata();
      for (const [key, value] of this.#pairs) this.#metadata.append(key, value);
    }
    return this.#metadata;
  }

  get service(): string {
    return this.entry.service.typeName;
  }

  get method(): MethodInfo {
    return this.entry.method;
  }

  get peer(): unknown {
    return this.conn.peer;
  }

  // The AbortController is made on first use: most handlers never look at it.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }

  abort(reason: TtrpcError): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /**
   * Ends the call with an error: sends it as the final Response (when `send` and nothing final
   * went out yet), aborts the handler's signal and forgets the stream.
   */
  fail(error: TtrpcError, send: boolean): void {
    if (!this.finished) {
      if (send) this.conn.sendStatus(this.id, error);
      this.finish();
    }
    this.abort(error);
    this.requests?.fail(error, true);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.conn.release(this.id);
  }

  /** A Data frame from the client. */
  data(flags: number, payload: Buffer): void {
    if (this.#early !== undefined) {
      // The service's protobuf runtime is still loading: keep the frame until the call starts.
      this.#early.push([flags, payload]);
      return;
    }
    const requests = this.requests;
    if (requests === undefined || this.#remoteClosed) {
      this.fail(
        new TtrpcError("data handling error: stream does not accept data", Code.InvalidArgument),
        true,
      );
      return;
    }
    if ((flags & Flag.RemoteClosed) !== 0) this.#remoteClosed = true;
    // A handler that stopped reading (`break`) may still answer: its requests are dropped.
    if (requests.stoppedReading) return;
    if ((flags & Flag.NoData) === 0) {
      let message: unknown;
      try {
        message = this.entry.method.input.decode(payload);
      } catch (cause) {
        this.fail(payloadError(cause), true);
        return;
      }
      requests.push(message);
    }
    if ((flags & Flag.RemoteClosed) !== 0) requests.end();
  }

  /**
   * Runs the handler and writes its result. A handler that returns a value (not a promise) is
   * answered in the same tick, without a promise in between.
   */
  run(request: RequestEnvelope): void {
    const { handler, service, method } = this.entry;
    if (service.ready !== undefined) {
      service.ready.then(
        () => this.run(request),
        (error: unknown) => this.#end(true, error),
      );
      return;
    }
    let output: unknown;
    try {
      if (handler === undefined) throw new TtrpcError(`method ${method.name}`, Code.Unimplemented);
      const input = this.#input(request);
      output =
        this.conn.server.interceptors.length === 0
          ? handler(input, this)
          : this.#intercept(handler, input);
    } catch (error) {
      this.#end(true, error);
      return;
    }
    if (isThenable(output)) {
      output.then(
        (value) => this.#respond(value),
        (error: unknown) => this.#end(true, error),
      );
    } else this.#respond(output);
  }

  /** The handler's input: the decoded request, or the queue of a client stream. */
  #input(request: RequestEnvelope): unknown {
    const method = this.entry.method;
    if (method.kind === "unary" || method.kind === "server_streaming") {
      const input = decodePayload(method, request.payload ?? EMPTY);
      this.#replayEarly();
      return input;
    }
    const queue = new MessageQueue<unknown>(this.conn.server.limits);
    queue.onOverflow = () =>
      this.fail(new TtrpcError("ttrpc: stream buffer full", Code.ResourceExhausted), true);
    this.requests = queue;
    // Go's rule (issue #126): a streaming request's payload is a first message only if present.
    if (request.payload !== undefined) queue.push(decodePayload(method, request.payload));
    this.#replayEarly();
    return queue;
  }

  #replayEarly(): void {
    const early = this.#early;
    if (early === undefined) return;
    this.#early = undefined;
    for (const [flags, payload] of early) this.data(flags, payload);
  }

  async #intercept(handler: NonNullable<Entry["handler"]>, input: unknown): Promise<unknown> {
    const kind = this.entry.method.kind;
    const common = this.#common();
    const req: InterceptorRequest =
      kind === "client_streaming" || kind === "bidi_streaming"
        ? { side: "server", stream: true, messages: input as AsyncIterable<unknown>, ...common }
        : { side: "server", stream: false, message: input, ...common };
    const step: CallStep = async (r) => {
      const out = await handler(r.stream ? r.messages : r.message, this);
      return kind === "unary" || kind === "client_streaming"
        ? { stream: false, message: out }
        : { stream: true, messages: toAsyncIterable(out as AsyncIterable<unknown>) };
    };
    const res = await applyInterceptors(step, this.conn.server.interceptors)(req);
    return res.stream ? res.messages : res.message;
  }

  /** Writes the handler's output: the final Response, or the response stream. */
  #respond(output: unknown): void {
    const method = this.entry.method;
    if (method.kind === "unary" || method.kind === "client_streaming") {
      try {
        if (!this.finished) this.conn.sendResponse(this, method.output.encode(output));
        this.#end(false);
      } catch (error) {
        this.#end(true, error);
      }
      return;
    }
    this.#stream(output).then(
      () => this.#end(false),
      (error: unknown) => this.#end(true, error),
    );
  }

  /**
   * The call is over. When it `failed`, the error (any value, even `undefined`) becomes its final
   * Response, if none went out yet.
   */
  #end(failed: boolean, error?: unknown): void {
    if (failed) this.fail(toStatusError(error, this.conn.server.exposeErrorMessages), true);
    this.finish();
    // Go cancels a call's context once its handler returns; so do we.
    this.abort(CALL_COMPLETED);
  }

  #common() {
    return {
      method: this.entry.method,
      metadata: this.metadata,
      timeoutMs: this.timeoutMs(),
      signal: this.signal,
      context: this as HandlerContext,
    };
  }

  /** Sends one streamed message; false when the socket wants a `drain` first. */
  #send(message: unknown): boolean {
    const payload = this.entry.method.output.encode(message);
    const length = encodedLength(payload);
    const max = this.conn.server.maxMessageBytes;
    if (length > max) throw oversizeError(length, max);
    return this.conn.send(encodeDataFrame(this.id, 0, payload));
  }

  async #stream(output: unknown): Promise<void> {
    if (output === null || typeof output !== "object") {
      throw new TtrpcError("ttrpc: a streaming handler must return an iterable", Code.Internal);
    }
    const conn = this.conn;
    if (Symbol.asyncIterator in output) {
      for await (const message of output as AsyncIterable<unknown>) {
        if (this.finished) return;
        if (!this.#send(message)) await conn.drained();
      }
    } else if (Symbol.iterator in output) {
      // A synchronous iterable (a `*generator` handler) is drained without a promise per message.
      for (const message of output as Iterable<unknown>) {
        if (this.finished) return;
        if (!this.#send(message)) await conn.drained();
      }
    } else {
      throw new TtrpcError("ttrpc: a streaming handler must return an iterable", Code.Internal);
    }
    if (this.finished) return;
    conn.send(encodeDataFrame(this.id, Flag.RemoteClosed | Flag.NoData, undefined));
    this.finish();
  }
}

function payloadError(cause: unknown): TtrpcError {
  return new TtrpcError(
    `ttrpc: error unmarshalling payload: ${(cause as Error)?.message ?? cause}`,
    Code.Internal,
    {
      cause,
    },
  );
}

function decodePayload(method: MethodInfo, payload: Buffer): unknown {
  try {
    return method.input.decode(payload);
  } catch (cause) {
    throw payloadError(cause);
  }
}

/** One accepted connection. */
class ServerConnection implements ChannelHandler {
  readonly server: Server;
  readonly peer: unknown;
  readonly channel: Channel;
  readonly #calls = new Map<number, ServerCall>();
  #lastId = 0;
  #draining = false;

  constructor(server: Server, socket: Duplex, peer: unknown) {
    this.server = server;
    this.peer = peer;
    this.channel = new Channel(socket, this, server.maxMessageBytes);
  }

  frame(streamId: number, type: number, flags: number, data: Buffer): void {
    if (type !== MessageType.Request && type !== MessageType.Data) return; // unknown types: ignored, as Go does
    if ((streamId & 1) === 0) {
      this.sendStatus(
        streamId,
        new TtrpcError("StreamID must be odd for client initiated streams", Code.InvalidArgument),
      );
      return;
    }
    if (type === MessageType.Data) {
      const call = this.#calls.get(streamId);
      if (call === undefined) {
        this.sendStatus(
          streamId,
          new TtrpcError("StreamID is no longer active", Code.InvalidArgument),
        );
      } else call.data(flags, data);
      return;
    }
    if (streamId <= this.#lastId) {
      this.sendStatus(
        streamId,
        new TtrpcError("StreamID cannot be re-used and must increment", Code.InvalidArgument),
      );
      return;
    }
    this.#lastId = streamId;
    let request: RequestEnvelope;
    try {
      request = decodeRequest(data);
    } catch (cause) {
      this.sendStatus(
        streamId,
        new TtrpcError(
          `unmarshal request error: ${(cause as Error).message}`,
          Code.InvalidArgument,
        ),
      );
      return;
    }
    if (this.#draining) {
      this.sendStatus(streamId, new TtrpcError("ttrpc: server shutting down", Code.Unavailable));
      return;
    }
    const methods = this.server.lookup(request.service);
    if (methods === undefined) {
      this.sendStatus(streamId, new TtrpcError(`service ${request.service}`, Code.Unimplemented));
      return;
    }
    const entry = methods.get(request.method);
    if (entry === undefined) {
      this.sendStatus(streamId, new TtrpcError(`method ${request.method}`, Code.Unimplemented));
      return;
    }
    const call = new ServerCall(this, streamId, entry, request.metadata, request.timeoutNano);
    this.#calls.set(streamId, call);
    call.run(request);
  }

  oversize(streamId: number, type: number, _flags: number, length: number): void {
    const error = oversizeError(length, this.server.maxMessageBytes);
    const call = type === MessageType.Data ? this.#calls.get(streamId) : undefined;
    if (call !== undefined) call.fail(error, true);
    else if (type === MessageType.Request || type === MessageType.Data)
      this.sendStatus(streamId, error);
  }

  onClose(error: TtrpcError | undefined): void {
    const reason =
      this.server.closing ??
      new TtrpcError("ttrpc: connection closed", Code.Canceled, { cause: error });
    for (const call of [...this.#calls.values()]) call.fail(reason, false);
    this.#calls.clear();
    this.server.forget(this);
  }

  release(id: number): void {
    this.#calls.delete(id);
    if (this.#draining && this.#calls.size === 0) this.channel.close();
  }

  send(chunks: Parameters<Channel["send"]>[0]): boolean {
    return this.channel.send(chunks);
  }

  drained(): Promise<void> {
    return this.channel.drained();
  }

  /** Sends an error Response. */
  sendStatus(id: number, error: TtrpcError): void {
    const status = encodeStatus(error.code, error.rawMessage, error.details);
    this.channel.send(
      encodeResponseFrame(id, responseLength(status, undefined), status, undefined),
    );
  }

  /** Sends the OK Response of a unary or client-streaming call (no status field, as Go does). */
  sendResponse(call: ServerCall, payload: Encoded): void {
    const length = responseLength(undefined, payload);
    const max = this.server.maxMessageBytes;
    // Go drops the connection here; we answer the one call with RESOURCE_EXHAUSTED.
    if (length > max) throw oversizeError(length, max);
    this.channel.send(encodeResponseFrame(call.id, length, undefined, payload));
    call.finish();
  }

  /** Graceful: refuse new calls, close once the calls in flight are done. */
  drain(): void {
    this.#draining = true;
    if (this.#calls.size === 0) this.channel.close();
  }
}

/**
 * A ttrpc server. Create it with {@link createServer}, `register` services, then `listen` on a
 * unix socket (or `serve` a net.Server, or `handleConnection` any Duplex).
 */
export class Server implements AsyncDisposable {
  readonly #services = new Map<string, Map<string, Entry>>();
  readonly #connections = new Set<ServerConnection>();
  readonly #listeners = new Set<NetServer>();
  readonly #handshakes = new Set<AbortController>();
  readonly #options: ServerOptions;
  #idle: (() => void) | undefined;
  #state: "serving" | "draining" | "closed" = "serving";
  /** @internal */
  closing: TtrpcError | undefined;
  /** @internal */
  readonly maxMessageBytes: number;
  /** @internal */
  readonly interceptors: readonly Interceptor[];
  /** @internal */
  readonly exposeErrorMessages: boolean;
  /** @internal */
  readonly limits: QueueLimits;

  constructor(options: ServerOptions = {}) {
    this.#options = options;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.interceptors = options.interceptors ?? [];
    this.exposeErrorMessages = options.exposeErrorMessages ?? true;
    this.limits = {
      streamBufferSize: options.streamBufferSize,
      streamBufferTimeoutMs: options.streamBufferTimeoutMs,
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
      methods.set(method.name, { service: info, method, handler });
    }
    this.#services.set(info.typeName, methods);
    return this;
  }

  /** @internal */
  lookup(service: string): Map<string, Entry> | undefined {
    return this.#services.get(service);
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Listens on a unix socket path. A stale socket file (nothing listening) is removed; a live one
   * is never replaced: that rejects with EADDRINUSE.
   */
  async listen(path: string): Promise<void> {
    this.#assertServing();
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
    netServer.on("error", (err) => this.#options.onError?.(err));
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
      this.#connections.add(new ServerConnection(this, socket, undefined));
      return;
    }
    const controller = new AbortController();
    this.#handshakes.add(controller);
    const timer = setTimeout(
      () => controller.abort(new TtrpcError("ttrpc: handshake timed out", Code.DeadlineExceeded)),
      this.#options.handshakeTimeoutMs ?? 10_000,
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
      .then(
        (result) => {
          if (controller.signal.aborted || this.#state !== "serving") {
            (result?.socket ?? socket).destroy();
            return;
          }
          this.#connections.add(new ServerConnection(this, result?.socket ?? socket, result?.peer));
        },
        (error: unknown) => {
          socket.destroy();
          this.#options.onError?.(error);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        controller.signal.removeEventListener("abort", abort);
        this.#handshakes.delete(controller);
        this.#checkIdle();
      });
  }

  /** @internal */
  forget(conn: ServerConnection): void {
    this.#connections.delete(conn);
    this.#checkIdle();
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
   * Graceful shutdown: stop accepting, refuse new calls, let calls and streams in flight finish,
   * close each connection as it becomes idle. Resolves when everything is closed.
   */
  async shutdown(): Promise<void> {
    if (this.#state === "serving") this.#state = "draining";
    const idle = this.#whenIdle();
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
    this.closing ??= new TtrpcError("ttrpc: server closed", Code.Unavailable);
    const idle = this.#whenIdle();
    for (const h of this.#handshakes) h.abort(this.closing);
    for (const conn of this.#connections) conn.channel.close(this.closing);
    await this.#stopListening();
    await idle;
  }

  /** Same as {@link Server.shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    return; // nothing there
  }
  const inUse = (message: string) =>
    Object.assign(new Error(`ttrpc: ${message}: ${path}`), { code: "EADDRINUSE", path });
  if (!stat.isSocket()) throw inUse("refusing to replace a file that is not a socket");
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw inUse("a server is already listening on");
  unlinkSync(path);
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
