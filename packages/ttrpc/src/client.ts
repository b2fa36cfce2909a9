/**
 * The client: `connect()` opens a {@link Connection}, `createClient()` derives a typed client from
 * a service definition. Every call kind is one frame exchange on a stream with an odd id.
 * @module
 */
import { createConnection } from "node:net";
import type { Duplex } from "node:stream";
import { Channel, type ChannelHandler } from "./channel.js";
import {
  decodeResponse,
  type Encoded,
  encodeDataFrame,
  encodedLength,
  encodeRequestFrame,
  requestLength,
  type StatusEnvelope,
} from "./envelope.js";
import { Code, closedError, oversizeError, TtrpcError } from "./errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, Flag, MessageType } from "./frame.js";
import {
  applyInterceptors,
  type CallStep,
  type Interceptor,
  type InterceptorRequest,
  type InterceptorResponse,
} from "./interceptor.js";
import { Metadata, type MetadataInit, toMetadata } from "./metadata.js";
import {
  type AnyIterable,
  type AnyService,
  type Client,
  type MethodInfo,
  normalizeService,
  type ServiceInfo,
} from "./service.js";
import { MAX_TIMER_MS, MessageQueue, type QueueLimits, toAsyncIterable } from "./stream.js";

/** Per-call options. */
export interface CallOptions {
  /** Aborting fails the call with CANCELLED. Cancellation is local: ttrpc has no cancel frame. */
  signal?: AbortSignal;
  /** Sent as `timeout_nano`; the call also fails locally with DEADLINE_EXCEEDED when it passes. */
  timeoutMs?: number;
  /** Sent with the request, on unary and streaming calls alike. */
  metadata?: MetadataInit;
}

/** Options of {@link connect}. */
export interface ConnectOptions extends QueueLimits {
  /** Largest frame data sent or accepted (default 4 MiB, what every Go and Rust peer uses). */
  maxMessageBytes?: number;
  /** Client interceptors, outermost first. */
  interceptors?: Interceptor[];
  /** Aborts the connection attempt (a path target only). */
  signal?: AbortSignal;
}

const MAX_STREAM_ID = 0xffffffff;

/** A request encoded and checked, ready to open its stream. */
interface Prepared {
  payload: Encoded | undefined;
  metadata: Metadata | undefined;
  timeout: number;
  length: number;
}

/** A stream registered on a connection, waiting for frames. */
interface PendingStream {
  frame(type: number, flags: number, data: Buffer): void;
  /** Fails the call; `discard` drops messages received but not yet read. */
  fail(error: TtrpcError, discard?: boolean): void;
}

function statusError(status: StatusEnvelope): TtrpcError {
  return new TtrpcError(status.message, status.code, { details: status.details });
}

function decodeError(what: string, cause: unknown): TtrpcError {
  return new TtrpcError(
    `ttrpc: error unmarshalling ${what}: ${(cause as Error)?.message ?? cause}`,
    Code.Internal,
    {
      cause,
    },
  );
}

/**
 * A timeout as sent in `timeout_nano`. Infinity (or no timeout) is 0: no deadline. Values past
 * 2^53 ns (about 104 days) are sent as that, the largest the varint encoder keeps exact.
 */
function timeoutNano(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined || timeoutMs === Number.POSITIVE_INFINITY) return 0;
  const ns = Math.round(timeoutMs * 1e6);
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(ns, Number.MAX_SAFE_INTEGER));
}

function deadlineError(): TtrpcError {
  return new TtrpcError("context deadline exceeded", Code.DeadlineExceeded);
}

function canceledError(signal: AbortSignal): TtrpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof TtrpcError) return reason;
  return new TtrpcError("context canceled", Code.Canceled, { cause: reason });
}

function onDeadline(call: CallBase): void {
  const left = call.deadline - Date.now();
  if (left > 0) {
    call.timer = setTimeout(onDeadline, Math.min(left, MAX_TIMER_MS), call);
    return;
  }
  call.timer = undefined;
  call.fail(deadlineError());
}

/** Deadline, signal and stream-id bookkeeping shared by every call kind. */
abstract class CallBase implements PendingStream {
  id = 0;
  timer: NodeJS.Timeout | undefined;
  /** Epoch ms of the call's deadline (when it has one). */
  deadline = 0;
  signal: AbortSignal | undefined;
  done = false;
  /** The message of the final Response. */
  value: unknown;

  readonly conn: Connection;
  readonly method: MethodInfo;

  constructor(conn: Connection, method: MethodInfo) {
    this.conn = conn;
    this.method = method;
  }

  abstract frame(type: number, flags: number, data: Buffer): void;
  protected abstract settle(error: TtrpcError | undefined, value?: unknown): void;

  /**
   * Decodes the final Response: returns its error status, or puts its message in `value`
   * (an empty payload counts as a message only when `decodeEmpty`).
   */
  protected readResponse(data: Buffer, decodeEmpty: boolean): TtrpcError | undefined {
    try {
      const response = decodeResponse(data);
      // Go sends no status for OK; Rust sends code 0.
      if (response.status !== undefined && response.status.code !== 0)
        return statusError(response.status);
      if (decodeEmpty || response.payload.length > 0)
        this.value = this.method.output.decode(response.payload);
      return undefined;
    } catch (cause) {
      return decodeError("response", cause);
    }
  }

  /** Arms the deadline and the signal; false if the call is already over. */
  arm(timeoutMs: number | undefined, signal: AbortSignal | undefined): boolean {
    if (signal !== undefined) {
      if (signal.aborted) {
        this.fail(canceledError(signal));
        return false;
      }
      this.signal = signal;
      signal.addEventListener("abort", this);
    }
    if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
      if (Number.isNaN(timeoutMs)) {
        this.fail(new TtrpcError("ttrpc: timeoutMs is NaN", Code.InvalidArgument));
        return false;
      }
      if (!(timeoutMs > 0)) {
        this.fail(deadlineError());
        return false;
      }
      this.deadline = Date.now() + timeoutMs;
      this.timer = setTimeout(onDeadline, Math.min(timeoutMs, MAX_TIMER_MS), this);
    }
    return true;
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    if (this.signal) this.fail(canceledError(this.signal));
  }

  fail(error: TtrpcError, _discard = true): void {
    this.finish(error);
  }

  finish(error: TtrpcError | undefined, value?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.id !== 0) this.conn.release(this.id);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this);
    this.settle(error, value);
  }
}

class UnaryCall extends CallBase {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: TtrpcError) => void;

  constructor(
    conn: Connection,
    method: MethodInfo,
    resolve: (value: unknown) => void,
    reject: (error: TtrpcError) => void,
  ) {
    super(conn, method);
    this.resolve = resolve;
    this.reject = reject;
  }

  frame(type: number, _flags: number, data: Buffer): void {
    if (type === MessageType.Response) {
      const error = this.readResponse(data, true);
      this.finish(error, this.value);
    } else if (type === MessageType.Data) {
      this.fail(new TtrpcError("ttrpc: received data on a unary call", Code.Internal));
    }
  }

  protected settle(error: TtrpcError | undefined, value?: unknown): void {
    if (error) this.reject(error);
    else this.resolve(value);
  }
}

/** A streaming call of any of the three streaming kinds. */
class StreamCall extends CallBase {
  /** Received messages (server-streaming and bidi). */
  readonly queue: MessageQueue<unknown> | undefined;
  /** The result of a client-streaming call. */
  resolve: ((value: unknown) => void) | undefined;
  reject: ((error: TtrpcError) => void) | undefined;

  constructor(conn: Connection, method: MethodInfo) {
    super(conn, method);
    if (method.kind !== "client_streaming") {
      const queue = new MessageQueue<unknown>(conn.limits);
      queue.onOverflow = () =>
        this.fail(new TtrpcError("ttrpc: stream buffer full", Code.ResourceExhausted));
      // The consumer stopped reading (`break`): drop the stream locally, send nothing more.
      queue.onReturn = () => this.finish(undefined);
      this.queue = queue;
    }
  }

  frame(type: number, flags: number, data: Buffer): void {
    if (type === MessageType.Data) {
      const queue = this.queue;
      if (queue === undefined) {
        this.fail(
          new TtrpcError(
            "ttrpc: received data on a call whose server does not stream",
            Code.Internal,
          ),
        );
        return;
      }
      if ((flags & Flag.NoData) === 0) {
        let message: unknown;
        try {
          message = this.method.output.decode(data);
        } catch (cause) {
          this.fail(decodeError("message", cause));
          return;
        }
        queue.push(message);
      }
      if ((flags & Flag.RemoteClosed) !== 0) this.finish(undefined);
    } else if (type === MessageType.Response) {
      const error = this.readResponse(data, this.queue === undefined);
      const value = this.value;
      // A final OK Response may carry one last message (Go decodes it into RecvMsg's target).
      if (this.queue !== undefined && value !== undefined) this.queue.push(value);
      this.finish(error, value);
    }
  }

  override fail(error: TtrpcError, discard = true): void {
    // A local failure (deadline, cancel, overflow) drops what was buffered; a lost connection
    // lets the reader have what arrived before it.
    if (!this.done && discard) this.queue?.fail(error, true);
    this.finish(error);
  }

  protected settle(error: TtrpcError | undefined, value?: unknown): void {
    if (this.queue !== undefined) {
      if (error) this.queue.fail(error);
      else this.queue.end();
    }
    if (error) this.reject?.(error);
    else this.resolve?.(value);
  }

  /** Sends one request message; false when the socket wants a `drain` first. */
  #send(message: unknown): boolean {
    const payload = this.method.input.encode(message);
    const length = encodedLength(payload);
    const max = this.conn.maxMessageBytes;
    if (length > max) throw oversizeError(length, max);
    return this.conn.send(encodeDataFrame(this.id, 0, payload));
  }

  /** Sends the request stream, then the half-close; stops as soon as the call is over. */
  async pump(requests: AnyIterable<unknown>): Promise<void> {
    const conn = this.conn;
    try {
      if (Symbol.asyncIterator in requests) {
        for await (const message of requests) {
          if (this.done) return;
          if (!this.#send(message)) await conn.drained();
        }
      } else {
        // An array or other synchronous iterable goes out without a promise per message.
        for (const message of requests) {
          if (this.done) return;
          if (!this.#send(message)) await conn.drained();
        }
      }
      if (!this.done)
        conn.send(encodeDataFrame(this.id, Flag.RemoteClosed | Flag.NoData, undefined));
    } catch (cause) {
      // An oversize message, or the request iterable failed: the call fails with that error and
      // nothing more is sent on the stream.
      this.fail(TtrpcError.from(cause, Code.Canceled));
    }
  }
}

/**
 * One client connection: a multiplexer of calls over a unix socket (or any Duplex).
 * Create it with {@link connect}; call through {@link createClient}.
 */
export class Connection implements ChannelHandler, AsyncDisposable {
  readonly #channel: Channel;
  readonly #streams = new Map<number, PendingStream>();
  #nextId = 1;
  readonly #interceptors: readonly Interceptor[];
  /** @internal */
  readonly maxMessageBytes: number;
  /** @internal */
  readonly limits: QueueLimits;
  #resolveClosed!: (error: TtrpcError | undefined) => void;
  /**
   * Settles when the connection ends: with the error that ended it, or undefined after
   * {@link Connection.close}. It never rejects.
   */
  readonly closed: Promise<TtrpcError | undefined>;

  /** Wraps a connected Duplex; {@link connect} is the usual way in. */
  constructor(socket: Duplex, options?: ConnectOptions) {
    this.maxMessageBytes = options?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#interceptors = options?.interceptors ?? [];
    this.limits = {
      streamBufferSize: options?.streamBufferSize,
      streamBufferTimeoutMs: options?.streamBufferTimeoutMs,
    };
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#channel = new Channel(socket, this, this.maxMessageBytes);
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#channel.isClosed;
  }

  /** Number of calls and streams in flight. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.#channel.close();
    return this.closed.then(() => {});
  }

  /** Same as {@link Connection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- channel events

  /** @internal */
  frame(streamId: number, type: number, flags: number, data: Buffer): void {
    // Frames for streams we no longer track (cancelled, timed out) are dropped, as Go does.
    this.#streams.get(streamId)?.frame(type, flags, data);
  }

  /** @internal */
  oversize(streamId: number, _type: number, _flags: number, length: number): void {
    this.#streams.get(streamId)?.fail(oversizeError(length, this.maxMessageBytes));
  }

  /** @internal */
  onClose(error: TtrpcError | undefined): void {
    const failure = error ?? closedError();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream.fail(failure, false);
    this.#resolveClosed(error);
  }

  // ---------------------------------------------------------------- internals used by calls

  /** @internal */
  release(id: number): void {
    this.#streams.delete(id);
  }

  /** @internal */
  send(chunks: Parameters<Channel["send"]>[0]): boolean {
    return this.#channel.send(chunks);
  }

  /** @internal */
  drained(): Promise<void> {
    return this.#channel.drained();
  }

  /** Allocates the next odd id and writes the Request in the same synchronous step. */
  #open(
    call: CallBase,
    flags: number,
    length: number,
    payload: Encoded | undefined,
    timeout: number,
    metadata: Metadata | undefined,
  ): void {
    const id = this.#nextId;
    this.#nextId += 2;
    call.id = id;
    this.#streams.set(id, call);
    this.#channel.send(
      encodeRequestFrame(id, flags, length, call.method.prefix, payload, timeout, metadata),
    );
  }

  /** Encodes the request and checks what must hold before a stream is opened. */
  #prepare(
    method: MethodInfo,
    message: unknown,
    options: CallOptions | undefined,
    hasPayload: boolean,
  ): Prepared {
    if (this.#channel.isClosed) throw this.#channel.error ?? closedError();
    // Stream ids are uint32 and must keep increasing: a connection that used them all is done.
    if (this.#nextId > MAX_STREAM_ID) {
      throw new TtrpcError(
        "ttrpc: stream ids exhausted on this connection; open a new one",
        Code.Unavailable,
      );
    }
    let payload: Encoded | undefined;
    if (hasPayload) {
      try {
        payload = method.input.encode(message);
      } catch (cause) {
        throw new TtrpcError(
          `ttrpc: error marshalling request: ${(cause as Error)?.message ?? cause}`,
          Code.Internal,
          {
            cause,
          },
        );
      }
    }
    const metadata = options?.metadata === undefined ? undefined : toMetadata(options.metadata);
    const timeout = timeoutNano(options?.timeoutMs);
    const length = requestLength(method.prefix, payload, timeout, metadata);
    if (length > this.maxMessageBytes) throw oversizeError(length, this.maxMessageBytes);
    return { payload, metadata, timeout, length };
  }

  /** @internal A unary call without interceptors. */
  unary(method: MethodInfo, message: unknown, options: CallOptions | undefined): Promise<unknown> {
    let p: Prepared;
    try {
      p = this.#prepare(method, message, options, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const call = new UnaryCall(this, method, resolve, reject);
      if (!call.arm(options?.timeoutMs, options?.signal)) return;
      this.#open(call, 0, p.length, p.payload, p.timeout, p.metadata);
    });
  }

  /** @internal A streaming call without interceptors. */
  stream(
    method: MethodInfo,
    input: unknown,
    options: CallOptions | undefined,
  ): { call: StreamCall; result: Promise<unknown> | undefined } {
    const clientStreams = method.kind === "client_streaming" || method.kind === "bidi_streaming";
    const call = new StreamCall(this, method);
    let result: Promise<unknown> | undefined;
    if (method.kind === "client_streaming") {
      result = new Promise((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
      });
    }
    let p: Prepared;
    try {
      p = this.#prepare(method, input, options, !clientStreams);
    } catch (error) {
      call.fail(TtrpcError.from(error));
      return { call, result };
    }
    if (!call.arm(options?.timeoutMs, options?.signal)) return { call, result };
    // Go's client opens client- and bidi-streams with remote-open and no payload field,
    // server-streams with remote-closed and the request as payload.
    this.#open(
      call,
      clientStreams ? Flag.RemoteOpen : Flag.RemoteClosed,
      p.length,
      p.payload,
      p.timeout,
      p.metadata,
    );
    if (clientStreams) void call.pump(input as AnyIterable<unknown>);
    return { call, result };
  }

  #chain: CallStep | undefined;

  /** @internal Runs a call through the interceptors. */
  invoke(request: InterceptorRequest): Promise<InterceptorResponse> {
    this.#chain ??= applyInterceptors(this.#transport, this.#interceptors);
    try {
      return this.#chain(request);
    } catch (error) {
      // An interceptor that throws synchronously still fails the call, not the caller.
      return Promise.reject(error);
    }
  }

  /** @internal */
  get hasInterceptors(): boolean {
    return this.#interceptors.length > 0;
  }

  readonly #transport: CallStep = async (req) => {
    const options: CallOptions = {
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      metadata: req.metadata,
    };
    const method = req.method;
    switch (method.kind) {
      case "unary":
        return {
          stream: false,
          message: await this.unary(method, req.stream ? undefined : req.message, options),
        };
      case "server_streaming": {
        const { call } = this.stream(method, req.stream ? undefined : req.message, options);
        return { stream: true, messages: call.queue as MessageQueue<unknown> };
      }
      case "client_streaming": {
        const { result } = this.stream(method, req.stream ? req.messages : [], options);
        return { stream: false, message: await result };
      }
      default: {
        const { call } = this.stream(method, req.stream ? req.messages : [], options);
        return { stream: true, messages: call.queue as MessageQueue<unknown> };
      }
    }
  };
}

/**
 * Opens a connection to a unix socket path, or wraps an already-connected Duplex.
 *
 * @example
 * await using conn = await connect("/run/demo.sock");
 */
export function connect(target: string | Duplex, options?: ConnectOptions): Promise<Connection> {
  if (typeof target !== "string") return Promise.resolve(new Connection(target, options));
  return new Promise((resolve, reject) => {
    const signal = options?.signal;
    if (signal?.aborted) {
      reject(canceledError(signal));
      return;
    }
    const socket = createConnection(target);
    const onAbort = () => {
      socket.destroy();
      reject(canceledError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(new Connection(socket, options));
    });
    const onError = (err: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        new TtrpcError(`ttrpc: cannot connect to ${target}: ${err.message}`, Code.Unavailable, {
          cause: err,
        }),
      );
    };
    socket.once("error", onError);
  });
}

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
  const streams = method.kind === "client_streaming" || method.kind === "bidi_streaming";
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
  method: MethodInfo,
  conn: Connection,
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
      return (input: unknown, options?: CallOptions): AsyncIterable<unknown> => ({
        [Symbol.asyncIterator]() {
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
      });
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
    client[method.localName] = clientMethod(info, method, connection);
  return client as Client<S>;
}
