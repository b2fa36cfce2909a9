/**
 * The server's per-connection dispatcher: checks each frame against the protocol's rules, opens a
 * call for each Request, routes Data frames to their call, and ends the calls when the
 * connection goes.
 * @module
 */
import type { Duplex } from "node:stream";
import { Channel, type ChannelHandler } from "./channel.js";
import { decodeRequest, type RequestEnvelope } from "./envelope.js";
import { Code, oversizeError, TtrpcError } from "./errors.js";
import { MessageType } from "./frame.js";
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
  /** Registered methods by service name, then by proto method name. */
  readonly services: ReadonlyMap<string, ReadonlyMap<string, Entry>>;
  /** Set once the server is closed: the reason every call on a closing connection ends with. */
  readonly closing: TtrpcError | undefined;
  /** The connection closed. */
  forget(connection: ServerConnection): void;
}

/** One accepted connection. */
export class ServerConnection implements ChannelHandler, CallSite {
  readonly #host: DispatchHost;
  readonly settings: CallSettings;
  readonly peer: unknown;
  readonly channel: Channel;
  readonly #calls = new StreamTable<ServerCall>();
  #lastId = 0;
  #draining = false;
  /** The call whose handler is running synchronously right now, if any. */
  #running: ServerCall | undefined;

  constructor(host: DispatchHost, socket: Duplex, peer: unknown) {
    this.#host = host;
    this.settings = host.settings;
    this.peer = peer;
    this.channel = new Channel(socket, this, host.maxMessageBytes);
  }

  frame(
    streamId: number,
    type: number,
    flags: number,
    data: Buffer,
    start: number,
    end: number,
  ): void {
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
      request = decodeRequest(data, start, end, scratch);
    } catch (cause) {
      this.#refuse(streamId, `unmarshal request error: ${(cause as Error).message}`);
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
      this.#status(streamId, `method ${request.method}`, Code.Unimplemented);
      return;
    }
    const call = ServerCall.open(this, streamId, entry, request);
    // No frame can reach a call while its handler runs synchronously: only a call still going
    // when `run` returns enters the table (a sync unary call, the common case, never does).
    this.#running = call;
    call.run(request);
    this.#running = undefined;
    if (!call.ended) this.#calls.add(call);
  }

  oversize(streamId: number, type: number, _flags: number, length: number): void {
    const error = oversizeError(length, this.channel.maxMessageBytes);
    const call = type === MessageType.Data ? this.#calls.get(streamId) : undefined;
    if (call !== undefined) call.fail(error, true);
    else if (type === MessageType.Request || type === MessageType.Data)
      sendStatus(this.channel, streamId, error);
  }

  onClose(error: TtrpcError | undefined): void {
    const reason =
      this.#host.closing ??
      new TtrpcError("ttrpc: connection closed", Code.Canceled, { cause: error });
    this.#calls.failAll(reason);
    this.#running?.fail(reason, false);
    this.#host.forget(this);
  }

  release(call: ServerCall): void {
    this.#calls.release(call);
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
    this.#status(streamId, message, Code.InvalidArgument);
  }

  #status(streamId: number, message: string, code: number): void {
    sendStatus(this.channel, streamId, new TtrpcError(message, code));
  }
}
