/**
 * The server's per-connection dispatcher: checks each frame against the protocol's rules, opens a
 * call for each Request, routes Data frames to their call, and ends the calls when the
 * connection goes.
 * @module
 */
import type { Duplex } from "node:stream";
import { Channel, type ChannelHandler, type ChannelLimits } from "./channel.js";
import { DEBUG, debug, nextConnectionId } from "./debug.js";
import { decodeRequest, type MetadataLimits, type RequestEnvelope } from "./envelope.js";
import { Code, oversizeError, TtrpcError } from "./errors.js";
import { MessageType } from "./frame.js";
import { type InboundBudget, inboundBudget } from "./queue.js";
import {
  type CallSettings,
  type CallSite,
  type Entry,
  ServerCall,
  sendStatus,
} from "./server-call.js";
import { StreamTable } from "./stream.js";

const scratch: RequestEnvelope = {
  service: "",
  method: "",
  payload: undefined,
  timeoutNano: 0,
  metadata: [],
};

/** What the dispatcher needs from the server that accepted the connection. */
export interface DispatchHost {
  readonly settings: CallSettings;
  readonly maxMessageBytes: number;
  /** The channel's bounds (message size, write queue, frame timeout). */
  readonly channelLimits: ChannelLimits;
  /** Bounds on each request's metadata. */
  readonly metadataLimits: MetadataLimits;
  /** Streaming calls open at once on one connection; the excess is refused. */
  readonly maxConcurrentStreams: number;
  /** Closes a connection without calls that has received no frame for this long (ms). */
  readonly idleTimeoutMs: number | undefined;
  /** Registered methods by service name, then by proto method name. */
  readonly services: ReadonlyMap<string, ReadonlyMap<string, Entry>>;
  /** Set once the server is closed: the reason every call on a closing connection ends with. */
  readonly closing: TtrpcError | undefined;
  /** The connection closed. */
  forget(connection: ServerConnection): void;
}

function idleCheck(connection: ServerConnection, idle: number): void {
  connection.checkIdle(idle);
}

/** One accepted connection. */
export class ServerConnection implements ChannelHandler, CallSite {
  readonly #host: DispatchHost;
  readonly settings: CallSettings;
  readonly peer: unknown;
  readonly channel: Channel;
  /** The connection's number in debug lines (0 when NODE_DEBUG=ttrpc is off). */
  readonly debugId: number = DEBUG ? nextConnectionId() : 0;
  readonly #calls = new StreamTable<ServerCall>();
  #lastId = 0;
  #draining = false;
  /** The call whose handler is running synchronously right now, if any. */
  #running: ServerCall | undefined;
  /** Streaming calls open (unary calls are not counted against maxConcurrentStreams). */
  #streams = 0;
  /**
   * Frames held while the write queue is over its cap (reading is paused meanwhile), six slots
   * per frame: id, type, flags, data, start, end. Replayed in order once it drains.
   */
  #held: unknown[] | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastFrame = 0;
  readonly inbound: InboundBudget;
  /**
   * Bytes of the Request frames of the unary calls in flight. Past the connection's inbound bound
   * (with what the streams buffer) the connection stops reading until calls end: a slow handler
   * cannot make us hold any number of large requests, and no call is failed for it.
   */
  #unaryBytes = 0;
  /** Reading stopped because {@link #unaryBytes} passed the bound; a unary call's end resumes it. */
  #inboundFull = false;

  constructor(host: DispatchHost, socket: Duplex, peer: unknown) {
    this.#host = host;
    this.settings = host.settings;
    this.inbound = inboundBudget(host.settings.limits);
    this.peer = peer;
    this.channel = new Channel(socket, this, host.channelLimits);
    if (DEBUG) debug("server conn %d: opened", this.debugId);
    const idle = host.idleTimeoutMs;
    if (idle !== undefined && idle < Number.POSITIVE_INFINITY) {
      this.#lastFrame = performance.now();
      this.#idleTimer = setTimeout(idleCheck, idle, this, idle);
      this.#idleTimer.unref();
    }
  }

  /** The idle timer fired (internal): close if no call is open and no frame came for `idle` ms. */
  checkIdle(idle: number): void {
    if (this.channel.isClosed) return;
    const quiet = performance.now() - this.#lastFrame;
    // Replies still queued for a slow reader are not idleness.
    const busy =
      this.#calls.size > 0 ||
      this.#running !== undefined ||
      this.#held !== undefined ||
      this.channel.queuedBytes > 0;
    if (!busy && quiet >= idle) {
      this.channel.close();
      return;
    }
    // A busy connection (a long call in flight) is looked at again a whole period later.
    this.#idleTimer = setTimeout(idleCheck, busy ? idle : Math.max(1, idle - quiet), this, idle);
    this.#idleTimer.unref();
  }

  frame(
    streamId: number,
    type: number,
    flags: number,
    data: Buffer,
    start: number,
    end: number,
  ): void {
    // Frames of the read that closed the connection (a handler that closed the server) start nothing.
    if (this.channel.isClosed) return;
    if (this.#idleTimer !== undefined) this.#lastFrame = performance.now();
    // Past the write-queue cap (a client that does not read its replies) the connection stops
    // reading, as Go's does: this frame and the rest of the read wait, in order, until the queue
    // drains. No call starts meanwhile, and no stream's input grows.
    if (this.#held !== undefined || this.channel.congested) {
      this.#held ??= [];
      this.#held.push(streamId, type, flags, data, start, end);
      this.channel.pauseReading();
      this.channel.watchWritable();
      return;
    }
    if (type !== MessageType.Request && type !== MessageType.Data) return; // unknown types: ignored, as Go does
    if ((streamId & 1) === 0) {
      this.#refuse(streamId, "StreamID must be odd for client initiated streams");
      return;
    }
    if (type === MessageType.Data) {
      const call = this.#calls.get(streamId);
      if (call === undefined) this.#refuse(streamId, "StreamID is no longer active");
      else call.data(flags, data.subarray(start, end));
      return;
    }
    if (streamId <= this.#lastId) {
      this.#refuse(streamId, "StreamID cannot be re-used and must increment");
      return;
    }
    this.#lastId = streamId;
    let request: RequestEnvelope;
    try {
      // Read at once: one envelope object serves every request (a call copies what it keeps).
      request = decodeRequest(data, start, end, scratch, this.#host.metadataLimits);
    } catch (cause) {
      if (cause instanceof TtrpcError) {
        if (DEBUG)
          debug("server conn %d: stream %d: refused: %s", this.debugId, streamId, cause.message);
        sendStatus(this.channel, streamId, cause);
      } else this.#refuse(streamId, `unmarshal request error: ${(cause as Error).message}`);
      return;
    }
    if (this.#draining) {
      this.#status(streamId, "ttrpc: server shutting down", Code.Unavailable);
      return;
    }
    const methods = this.#host.services.get(request.service);
    if (methods === undefined) {
      this.#status(streamId, `service ${request.service}`, Code.Unimplemented);
      return;
    }
    const entry = methods.get(request.method);
    if (entry === undefined) {
      // Go says "method AddItems"; naming the service too tells which side's schema is stale.
      this.#status(streamId, `method ${request.service}/${request.method}`, Code.Unimplemented);
      return;
    }
    const unary = entry.method.kind === "unary";
    if (!unary) {
      const max = this.#host.maxConcurrentStreams;
      if (this.#streams >= max) {
        this.#status(
          streamId,
          `ttrpc: too many concurrent streams on this connection (max ${max})`,
          Code.ResourceExhausted,
        );
        return;
      }
      this.#streams++;
    }
    if (DEBUG) {
      debug("server conn %d: stream %d %s: call", this.debugId, streamId, entry.method.path);
    }
    const call = ServerCall.open(this, streamId, entry, request);
    // No frame can reach a call while its handler runs synchronously: only a call still going
    // when `run` returns enters the table (a sync unary call, the common case, never does).
    this.#running = call;
    call.run(request);
    this.#running = undefined;
    if (call.ended) return;
    this.#calls.add(call);
    // A unary call holds its request until it ends (no count bound): its bytes are charged.
    if (unary) {
      call.heldBytes = end - start;
      this.#unaryBytes += end - start;
      if (this.#unaryBytes + this.inbound.bytes > this.inbound.max) this.#stopReading();
    }
  }

  /** Past the inbound bound: the rest of this read is held, and the socket paused. */
  #stopReading(): void {
    this.#inboundFull = true;
    this.#held ??= [];
    this.channel.pauseReading();
  }

  oversize(streamId: number, type: number, _flags: number, length: number): void {
    const what = type === MessageType.Data ? "request message" : "request";
    const error = oversizeError(length, this.channel.maxMessageBytes, what, "the server");
    if (DEBUG) debug("server conn %d: stream %d: %s", this.debugId, streamId, error.rawMessage);
    const call = type === MessageType.Data ? this.#calls.get(streamId) : undefined;
    if (call !== undefined) call.fail(error, true);
    else if (type === MessageType.Request || type === MessageType.Data)
      sendStatus(this.channel, streamId, error);
  }

  onWritable(): void {
    this.#replay();
  }

  /** Replays the frames held while reading was stopped, unless the inbound bound still stops it. */
  #replay(): void {
    const held = this.#held;
    if (held === undefined || this.#inboundFull) return;
    this.#held = undefined;
    for (let i = 0; i < held.length; i += 6) {
      this.frame(
        held[i] as number,
        held[i + 1] as number,
        held[i + 2] as number,
        held[i + 3] as Buffer,
        held[i + 4] as number,
        held[i + 5] as number,
      );
    }
    // A frame replayed into a full queue (or past the inbound bound) held the rest again.
    if (this.#held === undefined) this.channel.resumeReading();
  }

  onClose(error: TtrpcError | undefined): void {
    if (DEBUG) {
      debug("server conn %d: closed%s", this.debugId, error ? `: ${error.message}` : "");
    }
    this.#held = undefined;
    clearTimeout(this.#idleTimer);
    const reason =
      this.#host.closing ??
      new TtrpcError("ttrpc: connection closed", Code.Canceled, { cause: error });
    this.#calls.failAll(reason);
    this.#running?.fail(reason, false);
    this.#host.forget(this);
  }

  release(call: ServerCall): void {
    this.#calls.release(call);
    if (call.entry.method.kind !== "unary") this.#streams--;
    else if (call.heldBytes !== 0) {
      this.#unaryBytes -= call.heldBytes;
      call.heldBytes = 0;
      // Read again once back under the bound, or once no unary call is left to wait for (streams
      // past it alone are failed by their own check, not waited for).
      if (
        this.#inboundFull &&
        (this.#unaryBytes === 0 || this.#unaryBytes + this.inbound.bytes <= this.inbound.max)
      ) {
        this.#inboundFull = false;
        this.#replay();
      }
    }
    if (this.#draining && this.#calls.size === 0) this.channel.close();
  }

  /** Graceful: refuse new calls, close once the calls in flight are done. */
  drain(): void {
    this.#draining = true;
    // A handler that shuts the server down from inside closes its connection once it answers.
    if (this.#calls.size === 0 && this.#running === undefined) this.channel.close();
  }

  /** Forced: close now; calls end with the server's closing reason. */
  close(reason: TtrpcError): void {
    this.channel.close(reason);
  }

  #refuse(streamId: number, message: string): void {
    if (DEBUG)
      debug("server conn %d: stream %d: protocol error: %s", this.debugId, streamId, message);
    sendStatus(this.channel, streamId, new TtrpcError(message, Code.InvalidArgument));
  }

  #status(streamId: number, message: string, code: number): void {
    if (DEBUG) debug("server conn %d: stream %d: refused: %s", this.debugId, streamId, message);
    sendStatus(this.channel, streamId, new TtrpcError(message, code));
  }
}
