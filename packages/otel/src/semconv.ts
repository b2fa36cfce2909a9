/**
 * The names otelttrpc 0.1.0 uses (semconv v1.17 RPC attributes plus its own status-code key),
 * and its rules for span names and span status.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import type { MethodInfo } from "ttrpc";

/** `rpc.system`: always "ttrpc". */
export const ATTR_RPC_SYSTEM = "rpc.system";
/** `rpc.service`: the fully-qualified service name. */
export const ATTR_RPC_SERVICE = "rpc.service";
/** `rpc.method`: the proto method name. */
export const ATTR_RPC_METHOD = "rpc.method";
/** `rpc.ttrpc.status_code`: the call's status code, an integer (0 = OK). */
export const ATTR_RPC_TTRPC_STATUS_CODE = "rpc.ttrpc.status_code";
/** `message.type` of a message event: "SENT" or "RECEIVED". */
export const ATTR_MESSAGE_TYPE = "message.type";
/** `message.id` of a message event: 1 for the first message in that direction. */
export const ATTR_MESSAGE_ID = "message.id";
/** The name of every message event. */
export const MESSAGE_EVENT = "message";
/** Server histogram (otelttrpc): call duration in milliseconds. */
export const METRIC_SERVER_DURATION = "rpc.server.duration";
/** Client histogram (ours; otelttrpc records none): call duration in milliseconds. */
export const METRIC_CLIENT_DURATION = "rpc.client.duration";

/**
 * The span name: the method path without its leading slash (`containerd.task.v2.Task/Create`),
 * as otelttrpc's ParseFullMethod does.
 */
export function spanName(method: MethodInfo): string {
  return `${method.service}/${method.name}`;
}

/** The attributes every span and data point of a method carries. */
export function methodAttributes(method: MethodInfo): Attributes {
  const attributes: Attributes = { [ATTR_RPC_SYSTEM]: "ttrpc" };
  // otelttrpc leaves out an empty service or method rather than sending "".
  if (method.service !== "") attributes[ATTR_RPC_SERVICE] = method.service;
  if (method.name !== "") attributes[ATTR_RPC_METHOD] = method.name;
  return attributes;
}

/**
 * otelttrpc's serverStatus: a server span is an Error only for the codes that mean the server
 * failed (Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss). The others
 * (NotFound, InvalidArgument...) are the client's problem and leave the status Unset.
 */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

/** Whether a status code marks a server span as an Error. */
export function isServerError(code: number): boolean {
  return SERVER_ERROR_CODES.has(code);
}
