/**
 * One call on a server connection: runs the handler with its own small context, feeds it the
 * request stream, and writes its result: the final Response, or the response stream.
 * @module
 */
import type { Channel } from "./channel.js";
import { abortContext, CallContext, type DrainNotice, type HandlerContext } from "./context.js";
import { Deadline, type DeadlineOwner } from "./deadline.js";
import { DEBUG, debug } from "./debug.js";
import {
  type Encoded,
  encodeResponseFrame,
  encodeStatus,
  type RequestEnvelope,
  responseLength,
} from "./envelope.js";
import {
  Code,
  deadlineError,
  encodeError,
  oversizeError,
  TtrpcError,
  toStatusError,
} from "./errors.js";
import { Flag } from "./frame.js";
import type { CallStep, Interceptor } from "./interceptor.js";
import { type EngineMethod, type MethodInfo, streamsRequests, streamsResponses } from "./method.js";
import { pump } from "./outbound.js";
import { type InboundBudget, MessageQueue, type QueueLimits } from "./queue.js";
import { handlerStep, responseValue, serverChain, serverRequest } from "./server-intercept.js";
import { isUnexpected } from "./server-report.js";
import type { ServiceInfo } from "./service.js";
import { Stream } from "./stream.js";

/** A registered method and its handler (undefined: UNIMPLEMENTED). */
export interface Entry {
  readonly service: ServiceInfo;
  readonly method: EngineMethod;
  readonly handler: ((input: unknown, context: HandlerContext) => unknown) | undefined;
  /** The interceptor chain around the handler, built on the method's first intercepted call. */
  chain: CallStep | undefined;
}

/** The server settings a call reads. */
export interface CallSettings {
  readonly interceptors: readonly Interceptor[];
  readonly limits: QueueLimits;
  readonly exposeErrorMessages: boolean;
  /** Fails a client or bidi stream whose client sent nothing for this long (ms). */
  readonly streamIdleTimeoutMs: number | undefined;
  /** The server's notice of a graceful shutdown, which handlers read as `context.draining`. */
  readonly drain: DrainNotice;
  /** A handler failed with an error that is not a TtrpcError (a bug, not an answer). */
  readonly unexpected: (
    error: unknown,
    method: MethodInfo,
    streamId: number,
    peer: unknown,
  ) => void;
}

/** What a call needs from its connection. */
export interface CallSite {
  readonly channel: Channel;
  readonly settings: CallSettings;
  readonly peer: unknown;
  /** The connection's number in debug lines. */
  readonly debugId: number;
  /** What the inbound queues of the connection's calls hold together. */
  readonly inbound: InboundBudget;
  /** The call is over: forget its stream. */
  release(call: ServerCall): void;
}

const EMPTY = Buffer.alloc(0);

/** The signal's reason once a call is over; shared, since building an Error costs a stack trace. */
const CALL_COMPLETED = new TtrpcError("ttrpc: call completed", Code.Canceled);

/** Calls that ended in the tick they started, ready for reuse (they hold no user object). */
const pool: ServerCall[] = [];
const POOL_SIZE = 64;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** A code that can travel: code 0 would read as success on the wire, and the field is an int32. */
function sendable(error: TtrpcError): TtrpcError {
  if (error.code >= 1 && error.code <= 0x7fffffff && Number.isInteger(error.code)) return error;
  return new TtrpcError(error.rawMessage, Code.Unknown, { details: error.details, cause: error });
}

/** Sends an error Response on stream `id`. */
export function sendStatus(channel: Channel, id: number, error: TtrpcError): void {
  const status = encodeStatus(error.code, error.rawMessage, error.details);
  channel.send(encodeResponseFrame(id, responseLength(status, undefined), status, undefined));
}

function streamIdle(call: ServerCall, ms: number): void {
  call.idleExpired(ms);
}

function encodeOutput(method: EngineMethod, output: unknown): Encoded {
  try {
    return method.output.encode(output);
  } catch (cause) {
    throw encodeError("response", cause);
  }
}

function payloadError(cause: unknown): TtrpcError {
  return new TtrpcError(
    `ttrpc: error unmarshalling payload: ${(cause as Error)?.message ?? cause}`,
    Code.Internal,
    { cause },
  );
}

function decodePayload(method: EngineMethod, payload: Buffer): unknown {
  try {
    return method.input.decode(payload);
  } catch (cause) {
    throw payloadError(cause);
  }
}

/** One call on a server connection. Its handler sees only {@link ServerCall.context}. */
export class ServerCall extends Stream implements DeadlineOwner {
  site!: CallSite;
  entry!: Entry;
  context!: CallContext;
  deadline: Deadline | undefined;
  /** Requests of a client- or bidi-streaming call. */
  requests: MessageQueue<unknown> | undefined;
  /** Data frames that arrived while the service's runtime was loading. */
  #early: [number, Buffer][] | undefined;
  /** Bytes of its Request a unary call in flight holds against its connection's inbound bound. */
  heldBytes = 0;
  /** Ends a request stream whose client went quiet (`streamIdleTimeoutMs`). */
  #idleTimer: NodeJS.Timeout | undefined;

  /** A call for this request: a pooled one when there is one. */
  static open(site: CallSite, id: number, entry: Entry, request: RequestEnvelope): ServerCall {
    const call = pool.pop() ?? new ServerCall();
    call.site = site;
    call.entry = entry;
    call.id = id;
    call.localClosed = false;
    call.ended = false;
    // A unary or server-streaming Request is the whole request: the client sends nothing more.
    call.remoteClosed = !streamsRequests(entry.method.kind);
    call.#early = entry.service.ready !== undefined ? [] : undefined;
    const timeoutNano = request.timeoutNano;
    call.deadline = timeoutNano !== 0 ? new Deadline(timeoutNano / 1e6, call) : undefined;
    call.context = new CallContext(
      entry.method,
      request.metadata,
      call.deadline,
      site.peer,
      site.settings.drain,
    );
    return call;
  }

  deadlineExpired(): void {
    this.fail(deadlineError(), true);
  }

  /**
   * Ends the call with an error: when `local`, sends it as the final Response (if nothing final
   * went out yet); aborts the handler's signal, drops the requests and forgets the stream.
   */
  fail(error: TtrpcError, local: boolean): void {
    if (!this.ended) {
      if (DEBUG) this.#debug(`failed (${local ? "sent" : "not sent"}): ${error.message}`);
      if (local) sendStatus(this.site.channel, this.id, error);
      // The reader hears this error, not the plain end that `finish` gives.
      this.requests?.fail(error, true);
      this.finish();
    }
    abortContext(this.context, error);
    this.requests?.fail(error, true);
    this.#early = undefined;
  }

  /** Nothing more goes out: the stream is over on this side. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.localClosed = true;
    if (DEBUG) this.#debug("ended");
    this.deadline?.cancel();
    if (this.#idleTimer !== undefined) this.#stopIdle();
    // Requests nobody will read are dropped now, with their grace timer: nothing outlives the call.
    this.requests?.fail(CALL_COMPLETED, true);
    this.site.release(this);
  }

  /** The client sent nothing for `ms` (internal: the stream-idle timer). */
  idleExpired(ms: number): void {
    this.#idleTimer = undefined;
    if (this.ended || this.remoteClosed) return;
    this.fail(
      new TtrpcError(`ttrpc: the client sent nothing for ${ms} ms`, Code.DeadlineExceeded),
      true,
    );
  }

  #debug(what: string): void {
    debug(
      "server conn %d: stream %d %s: %s",
      this.site.debugId,
      this.id,
      this.entry.method.path,
      what,
    );
  }

  #stopIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** A Data frame from the client. */
  data(flags: number, payload: Buffer): void {
    if (this.#early !== undefined) {
      // The service's protobuf runtime is still loading: keep the frame until the call starts.
      this.#early.push([flags, payload]);
      return;
    }
    const requests = this.requests;
    if (requests === undefined || this.remoteClosed) {
      this.fail(
        new TtrpcError("data handling error: stream does not accept data", Code.InvalidArgument),
        true,
      );
      return;
    }
    if ((flags & Flag.RemoteClosed) !== 0) {
      this.remoteClosed = true;
      if (this.#idleTimer !== undefined) this.#stopIdle();
    } else this.#idleTimer?.refresh();
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
      requests.push(message, payload.length);
    }
    if ((flags & Flag.RemoteClosed) !== 0) requests.end();
  }

  frame(_type: number, flags: number, data: Buffer, start: number, end: number): void {
    this.data(flags, data.subarray(start, end));
  }

  /**
   * Runs the handler and writes its result. `request` is read before this returns (unless the
   * service is still loading, then a copy is kept). A handler that returns a value (not a promise) is
   * answered in the same tick, without a promise in between; such a unary call goes back to the
   * pool at once.
   */
  run(request: RequestEnvelope): void {
    const { handler, service, method } = this.entry;
    if (service.ready !== undefined) {
      // The dispatcher reuses its envelope object: keep a copy for later.
      const kept = { ...request };
      // A call that failed meanwhile (deadline, connection closed) never starts its handler.
      service.ready.then(
        () => {
          if (!this.ended) this.run(kept);
        },
        (error: unknown) => {
          if (!this.ended) this.#end(error);
        },
      );
      return;
    }
    const interceptors = this.site.settings.interceptors;
    let output: unknown;
    try {
      if (handler === undefined)
        throw new TtrpcError(`method ${method.service}/${method.name}`, Code.Unimplemented);
      const input = this.#input(request);
      output =
        interceptors.length === 0
          ? handler(input, this.context)
          : this.#intercept(handler, input, interceptors);
    } catch (error) {
      this.#end(error);
      return;
    }
    if (isThenable(output)) {
      output.then(
        (value) => this.#respond(value),
        (error: unknown) => this.#end(error),
      );
    } else if (method.kind === "unary") {
      this.#respond(output);
      // Nothing refers to the call any more: no promise, no queue, no timer, out of the table.
      if (this.ended && pool.length < POOL_SIZE) {
        this.context = undefined as unknown as CallContext;
        pool.push(this);
      }
    } else this.#respond(output);
  }

  /** The handler's input: the decoded request, or the queue of a client stream. */
  #input(request: RequestEnvelope): unknown {
    const method = this.entry.method;
    if (!streamsRequests(method.kind)) {
      const input = decodePayload(method, request.payload ?? EMPTY);
      this.#replayEarly();
      return input;
    }
    const queue = new MessageQueue<unknown>(this.site.settings.limits, this.site.inbound);
    queue.onOverflow = (reason) =>
      this.fail(new TtrpcError(`ttrpc: ${reason}`, Code.ResourceExhausted), true);
    this.requests = queue;
    const idle = this.site.settings.streamIdleTimeoutMs;
    if (idle !== undefined && idle < Number.POSITIVE_INFINITY && !this.remoteClosed) {
      this.#idleTimer = setTimeout(streamIdle, idle, this, idle);
      this.#idleTimer.unref();
    }
    // Go's rule (issue #126): a streaming request's payload is a first message only if present.
    const first = request.payload;
    if (first !== undefined) queue.push(decodePayload(method, first), first.length);
    this.#replayEarly();
    return queue;
  }

  #replayEarly(): void {
    const early = this.#early;
    if (early === undefined) return;
    this.#early = undefined;
    for (const [flags, payload] of early) this.data(flags, payload);
  }

  /** Runs the handler through the interceptors (the method's chain is built on its first call). */
  #intercept(
    handler: NonNullable<Entry["handler"]>,
    input: unknown,
    interceptors: readonly Interceptor[],
  ): Promise<unknown> {
    const entry = this.entry;
    const method = entry.method;
    entry.chain ??= serverChain(handlerStep(method, handler), interceptors);
    const req = serverRequest(method, input, this.context, streamsRequests(method.kind));
    return entry.chain(req).then(responseValue);
  }

  /** Writes the handler's output: the final Response, or the response stream. */
  #respond(output: unknown): void {
    const method = this.entry.method;
    if (!streamsResponses(method.kind)) {
      try {
        if (!this.ended) this.#sendResponse(encodeOutput(method, output));
        this.#end(undefined, false);
      } catch (error) {
        this.#end(error);
      }
      return;
    }
    if (
      output === null ||
      typeof output !== "object" ||
      !(Symbol.asyncIterator in output || Symbol.iterator in output)
    ) {
      this.#end(
        new TtrpcError("ttrpc: a streaming handler must return an iterable", Code.Internal),
      );
      return;
    }
    pump(this, output as Iterable<unknown>, method.output, this.site.channel, "server").then(
      () => this.#end(undefined, false),
      (error: unknown) => this.#end(error),
    );
  }

  /** The OK Response of a unary or client-streaming call (no status field, as Go sends it). */
  #sendResponse(payload: Encoded): void {
    const length = responseLength(undefined, payload);
    const channel = this.site.channel;
    const max = channel.maxMessageBytes;
    // Go drops the connection here; we answer the one call with RESOURCE_EXHAUSTED.
    if (length > max) throw oversizeError(length, max, "response", "the server");
    channel.send(encodeResponseFrame(this.id, length, undefined, payload));
    this.finish();
  }

  /**
   * The call is over. When it `failed`, the error (any value, even `undefined`) becomes its final
   * Response, if none went out yet.
   */
  #end(error: unknown, failed = true): void {
    if (failed) {
      if (isUnexpected(error)) {
        const site = this.site;
        site.settings.unexpected(error, this.entry.method, this.id, site.peer);
      }
      const expose = this.site.settings.exposeErrorMessages;
      this.fail(sendable(toStatusError(error, Code.Unknown, expose)), true);
    }
    this.finish();
    // Go cancels a call's context once its handler returns; so do we.
    abortContext(this.context, CALL_COMPLETED);
  }
}
