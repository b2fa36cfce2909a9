/**
 * The client's multiplexer: one connection's calls over one channel. It allocates stream ids,
 * encodes and checks each Request before its stream opens, routes frames to their call, runs
 * calls through the interceptors, and fails every call when the connection goes.
 * @module
 */
import type { Duplex } from "node:stream";
import { Channel, type ChannelHandler } from "./channel.js";
import { type ClientCall, StreamCall, UnaryCall } from "./client-call.js";
import type { CallOptions } from "./context.js";
import { DEBUG, debug, nextConnectionId } from "./debug.js";
import { encodeRequestFrame, requestLength, requestPrefix } from "./envelope.js";
import { Code, closedError, encodeError, oversizeError, TtrpcError } from "./errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, Flag, MessageType } from "./frame.js";
import {
  applyInterceptors,
  type CallStep,
  type Interceptor,
  type InterceptorRequest,
  type InterceptorResponse,
} from "./interceptor.js";
import { checkOptions, SHARED_OPTIONS, timerMs } from "./limits.js";
import { toMetadata } from "./metadata.js";
import { type AnyIterable, type EngineMethod, type MethodInfo, streamsRequests } from "./method.js";
import { type InboundBudget, inboundBudget, type MessageQueue, type QueueLimits } from "./queue.js";
import { StreamTable } from "./stream.js";

/** Options of `connect` and of a Connection. */
export interface ConnectOptions extends QueueLimits {
  /** Largest frame data sent or accepted (default 4 MiB, what every Go and Rust peer uses). */
  maxMessageBytes?: number;
  /**
   * Bytes queued for writing past which new calls wait to be sent, in order, until the queue
   * drains (default 16 MiB): a server that stops reading cannot make the client buffer without end.
   * A waiting call still honours its deadline and signal.
   */
  maxWriteQueueBytes?: number;
  /**
   * How long a frame that started arriving may take to complete before the connection is closed
   * and its calls fail with UNAVAILABLE (default 30 s).
   */
  frameTimeoutMs?: number;
  /** Client interceptors, outermost first. */
  interceptors?: Interceptor[];
  /** Aborts the connection attempt (a path target only). */
  signal?: AbortSignal;
}

const MAX_STREAM_ID = 0xffffffff;

/**
 * A length whose reserved first byte is set: no ttrpc peer sends one (frames are < 16 MiB); the
 * bytes are not ttrpc (an HTTP reply reads as a 1.2 GB header), and skipping them would hang.
 */
const RESERVED_LENGTH = 0xffffff;

/**
 * A timeout as sent in `timeout_nano`. Infinity (or no timeout) is 0: no deadline. Values past
 * 2^53 ns (about 104 days) are sent as that, the largest the varint encoder keeps exact.
 */
function timeoutNano(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined || timeoutMs === Number.POSITIVE_INFINITY) return 0;
  const ns = Math.round(timeoutMs * 1e6);
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(ns, Number.MAX_SAFE_INTEGER));
}

/** Interceptors see the public MethodInfo: usually the engine's own record, else one is made. */
function engineMethod(method: MethodInfo): EngineMethod {
  if ((method as Partial<EngineMethod>).prefix instanceof Buffer) return method as EngineMethod;
  return { ...method, prefix: requestPrefix(method.service, method.name) };
}

/** A streaming call as it starts: its response queue and, for client streams, its result. */
export interface StartedStream {
  call: StreamCall;
  result: Promise<unknown> | undefined;
}

/** The engine behind a public `Connection`. */
export class ClientEngine implements ChannelHandler {
  readonly channel: Channel;
  readonly limits: QueueLimits;
  readonly inbound: InboundBudget;
  /** The connection's number in debug lines (0 when NODE_DEBUG=ttrpc is off). */
  readonly debugId: number = DEBUG ? nextConnectionId() : 0;
  readonly #streams = new StreamTable<ClientCall>();
  #nextId = 1;
  readonly #interceptors: readonly Interceptor[];
  #chain: CallStep | undefined;
  /**
   * Calls waiting for the write queue to drain, four slots each: call, ticket, flags, requests.
   * The ticket tells a waiting call from a pooled object reused after the call ended.
   */
  #parked: unknown[] | undefined;
  #tickets = 0;
  #resolveClosed!: (error: TtrpcError | undefined) => void;
  /** Settles when the connection ends: with the error that ended it, or undefined. */
  readonly closed: Promise<TtrpcError | undefined>;

  /** Throws a TypeError or RangeError for a nonsensical option. */
  constructor(socket: Duplex, options?: ConnectOptions) {
    checkOptions("connect", options, SHARED_OPTIONS);
    this.#interceptors = options?.interceptors ?? [];
    this.limits = {
      streamBufferSize: options?.streamBufferSize,
      streamBufferTimeoutMs: timerMs(options?.streamBufferTimeoutMs),
      streamBufferBytes: options?.streamBufferBytes,
      connectionBufferBytes: options?.connectionBufferBytes,
    };
    this.inbound = inboundBudget(this.limits);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.channel = new Channel(socket, this, {
      maxMessageBytes: options?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxWriteQueueBytes: options?.maxWriteQueueBytes,
      frameTimeoutMs: timerMs(options?.frameTimeoutMs),
    });
    if (DEBUG) debug("client conn %d: opened", this.debugId);
  }

  /** Number of calls and streams in flight. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** True when calls go through interceptors. */
  get hasInterceptors(): boolean {
    return this.#interceptors.length > 0;
  }

  // ---------------------------------------------------------------- channel events

  frame(
    streamId: number,
    type: number,
    flags: number,
    data: Buffer,
    start: number,
    end: number,
  ): void {
    // Frames for streams we no longer track (cancelled, timed out) are dropped, as Go does.
    this.#streams.get(streamId)?.frame(type, flags, data, start, end);
  }

  oversize(streamId: number, type: number, _flags: number, length: number): void {
    const max = this.channel.maxMessageBytes;
    const what = type === MessageType.Data ? "response message" : "response";
    this.#streams.get(streamId)?.fail(oversizeError(length, max, what, "this client"), true);
    if (length > RESERVED_LENGTH) {
      this.channel.close(
        new TtrpcError(
          `ttrpc: protocol error: a frame header announces ${length} bytes (its reserved first byte is set): the peer does not speak ttrpc`,
          Code.Unavailable,
        ),
      );
    }
  }

  onWritable(): void {
    const parked = this.#parked;
    if (parked === undefined) return;
    this.#parked = undefined;
    for (let i = 0; i < parked.length; i += 4) {
      const call = parked[i] as ClientCall;
      // A call that ended while it waited (deadline, signal) is skipped.
      if (call.ended || call.parked !== parked[i + 1]) continue;
      call.parked = 0;
      this.#open(call, parked[i + 2] as number, parked[i + 3] as AnyIterable<unknown> | undefined);
    }
  }

  onClose(error: TtrpcError | undefined): void {
    if (DEBUG) {
      debug("client conn %d: closed%s", this.debugId, error ? `: ${error.message}` : "");
    }
    const reason = error ?? closedError();
    const parked = this.#parked;
    this.#parked = undefined;
    this.#streams.failAll(reason);
    if (parked !== undefined) {
      for (let i = 0; i < parked.length; i += 4) {
        const call = parked[i] as ClientCall;
        if (!call.ended && call.parked === parked[i + 1]) call.fail(reason, false);
      }
    }
    this.#resolveClosed(error);
  }

  release(call: ClientCall): void {
    this.#streams.release(call);
  }

  // ---------------------------------------------------------------- calls

  /** Encodes the request into `call` and checks what must hold before its stream is opened. */
  #prepare(call: ClientCall, message: unknown, options: CallOptions | undefined): void {
    const channel = this.channel;
    if (channel.isClosed) throw channel.error ?? closedError();
    // Stream ids are uint32 and must keep increasing: a connection that used them all is done.
    if (this.#nextId > MAX_STREAM_ID) {
      throw new TtrpcError(
        "ttrpc: stream ids exhausted on this connection; open a new one",
        Code.Unavailable,
      );
    }
    const method = call.method;
    if (!streamsRequests(method.kind)) {
      try {
        call.payload = method.input.encode(message);
      } catch (cause) {
        throw encodeError("request", cause);
      }
    }
    call.metadata = options?.metadata === undefined ? undefined : toMetadata(options.metadata);
    call.timeoutNano = timeoutNano(options?.timeoutMs);
    call.length = requestLength(method.prefix, call.payload, call.timeoutNano, call.metadata);
    const max = channel.maxMessageBytes;
    if (call.length > max) throw oversizeError(call.length, max, "request", "this client");
  }

  /**
   * Allocates the next odd id and writes the Request in the same synchronous step, then starts
   * sending `requests` (a client or bidi stream). Past the write-queue cap the call waits, in
   * order, until the queue drains.
   */
  #open(call: ClientCall, flags: number, requests?: AnyIterable<unknown>): void {
    if (this.#parked !== undefined || this.channel.congested) {
      call.parked = ++this.#tickets;
      this.#parked ??= [];
      this.#parked.push(call, call.parked, flags, requests);
      this.channel.watchWritable();
      return;
    }
    const id = this.#nextId;
    this.#nextId += 2;
    call.id = id;
    // Remote-closed on the Request: the client sends nothing more on this stream.
    call.localClosed = (flags & Flag.RemoteOpen) === 0;
    this.#streams.add(call);
    if (DEBUG) debug("client conn %d: stream %d %s: call", this.debugId, id, call.method.path);
    this.channel.send(
      encodeRequestFrame(
        id,
        flags,
        call.length,
        call.method.prefix,
        call.payload,
        call.timeoutNano,
        call.metadata,
      ),
    );
    call.payload = undefined;
    call.metadata = undefined;
    if (requests !== undefined) void (call as StreamCall).pump(requests);
  }

  /** A unary call without interceptors. */
  unary(
    method: EngineMethod,
    message: unknown,
    options: CallOptions | undefined,
  ): Promise<unknown> {
    const call = UnaryCall.obtain(this, method);
    try {
      this.#prepare(call, message, options);
    } catch (error) {
      call.recycle();
      return Promise.reject(error);
    }
    const promise = new Promise(call.executor);
    if (call.arm(options?.timeoutMs, options?.signal)) this.#open(call, 0);
    return promise;
  }

  /** A streaming call without interceptors. */
  stream(method: EngineMethod, input: unknown, options: CallOptions | undefined): StartedStream {
    const clientStreams = streamsRequests(method.kind);
    const call = new StreamCall(this, method);
    let result: Promise<unknown> | undefined;
    if (method.kind === "client_streaming") {
      result = new Promise((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
      });
    }
    try {
      this.#prepare(call, input, options);
    } catch (error) {
      call.fail(TtrpcError.from(error), true);
      return { call, result };
    }
    if (!call.arm(options?.timeoutMs, options?.signal)) return { call, result };
    // Go's client opens client- and bidi-streams with remote-open and no payload field,
    // server-streams with remote-closed and the request as payload.
    if (clientStreams) this.#open(call, Flag.RemoteOpen, input as AnyIterable<unknown>);
    else this.#open(call, Flag.RemoteClosed);
    return { call, result };
  }

  /** Runs a call through the interceptors. */
  invoke(request: InterceptorRequest): Promise<InterceptorResponse> {
    this.#chain ??= applyInterceptors(this.#transport, this.#interceptors);
    try {
      return this.#chain(request);
    } catch (error) {
      // An interceptor that throws synchronously still fails the call, not the caller.
      return Promise.reject(error);
    }
  }

  /** The last step of the interceptor chain: the call itself. */
  readonly #transport: CallStep = async (req) => {
    const options: CallOptions = {
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      metadata: req.metadata,
    };
    const method = engineMethod(req.method);
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
