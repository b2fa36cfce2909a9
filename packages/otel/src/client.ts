/**
 * The client side: a span per call, the trace context written into the request's metadata.
 * @module
 */
import { context } from "@opentelemetry/api";
import { type CallStep, Code, type InterceptorRequest, type InterceptorResponse } from "ttrpc";
import { CallSpan } from "./call-span.js";
import { observe } from "./observe.js";
import { metadataSetter, type Telemetry } from "./options.js";

/**
 * Traces one outgoing call. The span starts under the active context and ends with the call:
 * unary and client-streaming calls when the response (or the error) arrives; server-streaming
 * and bidi calls on the last message, an error, or when the caller stops reading (CANCELLED).
 */
export async function traceClient(
  telemetry: Telemetry,
  req: InterceptorRequest,
  next: CallStep,
): Promise<InterceptorResponse> {
  const call = new CallSpan(telemetry, "client", req.method, context.active());
  telemetry.propagator.inject(call.context, req.metadata, metadataSetter);
  const unary = req.method.kind === "unary";
  if (req.stream) req.messages = observe(req.messages, { message: () => call.sent() });
  else call.sent();
  let res: InterceptorResponse;
  try {
    res = await context.with(call.context, () => next(req));
  } catch (error) {
    // As otelttrpc: a unary call's RECEIVED event comes whatever the outcome.
    if (unary) call.received();
    call.fail(error);
    throw error;
  }
  if (!res.stream) {
    call.received();
    call.ok();
    return res;
  }
  res.messages = observe(res.messages, {
    message: () => call.received(),
    done: () => call.ok(),
    error: (error) => call.fail(error),
    stopped: () => call.end(Code.Canceled, "ttrpc: the client stopped reading the stream"),
  });
  return res;
}
