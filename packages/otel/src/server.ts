/**
 * The server side: the trace context read from the request's metadata, a span per call, and
 * the handler (every step of a streaming one) run inside it.
 * @module
 */
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import {
  type CallStep,
  type InterceptorRequest,
  type InterceptorResponse,
  TtrpcError,
} from "ttrpc";
import { CallSpan } from "./call-span.js";
import { observe } from "./observe.js";
import { metadataGetter, type Telemetry } from "./options.js";

/**
 * Traces one incoming call. The parent comes from the metadata only (ROOT_CONTEXT otherwise:
 * whatever context the socket's events happen to run in is not the caller's). The span ends
 * with the status the client gets: a call the server already ended (its deadline, a closed
 * connection, the server closing) records that reason rather than what the handler did later;
 * except a handler that succeeds before its deadline, which is OK without looking further.
 */
export async function traceServer(
  telemetry: Telemetry,
  req: InterceptorRequest,
  next: CallStep,
): Promise<InterceptorResponse> {
  const parent = telemetry.propagator.extract(ROOT_CONTEXT, req.metadata, metadataGetter);
  const call = new CallSpan(telemetry, "server", req.method, parent);
  const unary = req.method.kind === "unary";
  // The call's signal tells whether the call already ended (and why), but the core makes it on
  // first use and an AbortController costs microseconds: a successful call reads it only once
  // its deadline has passed, a failed one always.
  const endWith = (error: unknown) => {
    const left = error === undefined ? req.context?.timeoutMs() : 0;
    const signal = left === undefined || left > 0 ? undefined : req.signal;
    if (signal?.aborted) call.fail(signal.reason);
    else if (error === undefined) call.ok();
    else call.fail(error);
  };
  if (req.stream) req.messages = observe(req.messages, { message: () => call.received() });
  else call.received();
  let res: InterceptorResponse;
  try {
    res = await context.with(call.context, () => next(req));
  } catch (error) {
    // As otelttrpc: a unary call's SENT event is the status, whatever the outcome.
    if (unary) call.sent();
    endWith(error ?? new TtrpcError(String(error)));
    throw error;
  }
  if (!res.stream) {
    call.sent();
    endWith(undefined);
    return res;
  }
  res.messages = observe(res.messages, {
    bind: call.context,
    message: () => call.sent(),
    done: () => endWith(undefined),
    error: (error) => endWith(error ?? new TtrpcError(String(error))),
    stopped: () => {
      // The server stops reading when the call already ended (its signal aborted with the
      // reason) or when sending failed: then the signal aborts right after, with the error.
      const signal = req.signal;
      if (signal === undefined || signal.aborted) call.fail(signal?.reason);
      else signal.addEventListener("abort", () => call.fail(signal.reason), { once: true });
    },
  });
  return res;
}
