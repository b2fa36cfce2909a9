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

/** What a method's spans and data points are named and tagged with, computed once per method. */
export interface MethodNames {
  /**
   * The span name: the method path without its leading slash (`containerd.task.v2.Task/Create`),
   * as otelttrpc's ParseFullMethod makes it.
   */
  readonly span: string;
  /** The attributes every span of the method starts with. */
  readonly attributes: Attributes;
  /** The data point attributes per status code (the usual codes only: a peer picks the code). */
  readonly points: Map<number, Attributes>;
}

const names = new WeakMap<MethodInfo, MethodNames>();

/** The names and attributes of `method` (cached: the SDK copies what it keeps). */
export function namesOf(method: MethodInfo): MethodNames {
  let found = names.get(method);
  if (found === undefined) {
    const attributes: Attributes = { [ATTR_RPC_SYSTEM]: "ttrpc" };
    // otelttrpc leaves out an empty service or method rather than sending "".
    if (method.service !== "") attributes[ATTR_RPC_SERVICE] = method.service;
    if (method.name !== "") attributes[ATTR_RPC_METHOD] = method.name;
    found = { span: `${method.service}/${method.name}`, attributes, points: new Map() };
    names.set(method, found);
  }
  return found;
}

/** The attributes of a data point: the method's plus the status code. */
export function pointAttributes(names: MethodNames, code: number): Attributes {
  let found = names.points.get(code);
  if (found === undefined) {
    found = { ...names.attributes, [ATTR_RPC_TTRPC_STATUS_CODE]: code };
    // Codes 0-16 are the defined ones; any other number a peer sends is not kept.
    if (code >= 0 && code <= 16) names.points.set(code, found);
  }
  return found;
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
