/**
 * OpenTelemetry tracing and metrics for ttrpc, interoperable with containerd's otelttrpc:
 * one interceptor for clients and servers, for unary and streaming calls alike.
 * @module
 */
import type { Interceptor } from "ttrpc";
import { traceClient } from "./client.js";
import { type OtelInterceptorOptions, Telemetry } from "./options.js";
import { traceServer } from "./server.js";

export { metadataGetter, metadataSetter, type OtelInterceptorOptions } from "./options.js";
export {
  ATTR_MESSAGE_ID,
  ATTR_MESSAGE_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  ATTR_RPC_TTRPC_STATUS_CODE,
  MESSAGE_EVENT,
  METRIC_CLIENT_DURATION,
  METRIC_SERVER_DURATION,
} from "./semconv.js";
export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./version.js";

/**
 * An interceptor that traces calls: put it in a server's or a connection's `interceptors`
 * (the same one works on both sides: it looks at `req.side`). Put it first, so it is the
 * outermost and its span covers the other interceptors.
 *
 * @example
 * createServer({ interceptors: [otelInterceptor()] });
 * await connect(path, { interceptors: [otelInterceptor({ messageEvents: true })] });
 */
export function otelInterceptor(options: OtelInterceptorOptions = {}): Interceptor {
  const telemetry = new Telemetry(options);
  const filter = telemetry.filter;
  return (next) => (req) => {
    if (filter !== undefined && !filter(req.method, req.side)) return next(req);
    return req.side === "client"
      ? traceClient(telemetry, req, next)
      : traceServer(telemetry, req, next);
  };
}
