/**
 * One traced call: its span, its context, its message counters, and how it ends.
 * @module
 */
import { type Context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MethodInfo } from "ttrpc";
import { Code, TtrpcError } from "ttrpc";
import type { Telemetry } from "./options.js";
import {
  ATTR_MESSAGE_ID,
  ATTR_MESSAGE_TYPE,
  ATTR_RPC_TTRPC_STATUS_CODE,
  isServerError,
  MESSAGE_EVENT,
  type MethodNames,
  namesOf,
  pointAttributes,
} from "./semconv.js";

/** A call's span and metric, ended once, with the call's status code. */
export class CallSpan {
  /** The call's span (a non-recording one when no SDK is registered). */
  readonly span: Span;
  /** The parent context with this span in it: handlers and downstream calls run inside it. */
  readonly context: Context;
  readonly #telemetry: Telemetry;
  readonly #side: "client" | "server";
  readonly #names: MethodNames;
  readonly #start = performance.now();
  #sent = 0;
  #received = 0;
  #ended = false;

  constructor(
    telemetry: Telemetry,
    side: "client" | "server",
    method: MethodInfo,
    parent: Context,
  ) {
    this.#telemetry = telemetry;
    this.#side = side;
    const names = namesOf(method);
    this.#names = names;
    this.span = telemetry.tracer().startSpan(
      names.span,
      {
        kind: side === "client" ? SpanKind.CLIENT : SpanKind.SERVER,
        attributes: names.attributes,
      },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  /** One message went out. */
  sent(): void {
    this.#sent++;
    if (this.#telemetry.sentEvents && !this.#ended) this.#event("SENT", this.#sent);
  }

  /** One message came in. */
  received(): void {
    this.#received++;
    if (this.#telemetry.receivedEvents && !this.#ended) this.#event("RECEIVED", this.#received);
  }

  #event(type: "SENT" | "RECEIVED", id: number): void {
    this.span.addEvent(MESSAGE_EVENT, { [ATTR_MESSAGE_TYPE]: type, [ATTR_MESSAGE_ID]: id });
  }

  /** Ends the call with OK. */
  ok(): void {
    this.end(0, "");
  }

  /** Ends the call with what was caught, converted as the core converts it for the wire. */
  fail(error: unknown): void {
    const status = TtrpcError.from(error);
    const code = status.code;
    // A code outside 1..2^31-1 never reaches the wire: the server sends such an error as UNKNOWN.
    const sent = Number.isInteger(code) && code >= 1 && code <= 0x7fffffff ? code : Code.Unknown;
    this.end(sent, status.rawMessage);
  }

  /**
   * Ends the call: `rpc.ttrpc.status_code`, the span status (client: Error for any code but OK;
   * server: otelttrpc's list), and one duration data point with the same attributes plus the code.
   */
  end(code: number, message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.span;
    span.setAttribute(ATTR_RPC_TTRPC_STATUS_CODE, code);
    if (code !== 0 && (this.#side === "client" || isServerError(code)))
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    span.end();
    this.#telemetry
      .duration(this.#side)
      .record(performance.now() - this.#start, pointAttributes(this.#names, code), this.context);
  }
}
