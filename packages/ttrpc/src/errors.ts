/**
 * Status codes and the one error class every failure surfaces as.
 * @module
 */

/**
 * gRPC status codes, as ttrpc carries them in `google.rpc.Status.code`.
 * OK (0) is not listed: an error is never OK.
 */
export const Code = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

/** A status code value (1–16). Codes outside that range received from a peer are kept as numbers. */
export type Code = (typeof Code)[keyof typeof Code];

const codeNames: string[] = [];
for (const [name, value] of Object.entries(Code)) {
  codeNames[value] = name.replace(
    /[A-Z]/g,
    (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase(),
  );
}

/** The snake_case name of a code (`not_found`), or `code_<n>` for an unknown number. */
export function codeToString(code: number): string {
  return codeNames[code] ?? `code_${code}`;
}

/** A `google.protobuf.Any`: a type URL and the encoded message. protobuf-es `Any` messages fit as they are. */
export interface ErrorDetail {
  typeUrl: string;
  value: Uint8Array;
}

/** Options for {@link TtrpcError}. */
export interface TtrpcErrorOptions {
  /** `google.rpc.Status.details`, sent and received as `google.protobuf.Any`. */
  details?: readonly ErrorDetail[];
  /** The underlying error, kept locally (never sent). */
  cause?: unknown;
}

const marker = Symbol.for("ttrpc.TtrpcError");

/**
 * The error of every failed call, on both sides.
 *
 * A handler throws one to send its code, message and details; a client receives one for every
 * failure: a status from the server, a deadline, a cancellation, a closed connection.
 *
 * @example
 * throw new TtrpcError("no such container", Code.NotFound);
 */
export class TtrpcError extends Error {
  override name = "TtrpcError";
  /** The status code. */
  readonly code: number;
  /** The message without the `[code]` prefix, as it travels on the wire. */
  readonly rawMessage: string;
  /** Status details (`google.protobuf.Any`). */
  readonly details: ErrorDetail[];

  constructor(message: string, code: number = Code.Unknown, options?: TtrpcErrorOptions) {
    message = typeof message === "string" ? message : safeString(message);
    super(
      message.length > 0 ? `[${codeToString(code)}] ${message}` : `[${codeToString(code)}]`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.rawMessage = message;
    this.details = options?.details ? [...options.details] : [];
    Object.defineProperty(this, marker, { value: true });
  }

  /**
   * Turns anything caught into a TtrpcError with {@link toStatusError}: a TtrpcError is returned
   * as is, an AbortError becomes CANCELLED, a TimeoutError DEADLINE_EXCEEDED, a Node error with
   * an `ENOENT`/`EEXIST`/`EACCES`/`EPERM` code NOT_FOUND/ALREADY_EXISTS/PERMISSION_DENIED, any
   * other value `fallbackCode` with its message.
   */
  static from(reason: unknown, fallbackCode: number = Code.Unknown): TtrpcError {
    return toStatusError(reason, fallbackCode);
  }

  /** `instanceof` that also recognises errors from another copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && marker in value;
  }
}

/** `String(value)` that never throws (an object without `toString` would). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The error for a connection that is closed or failed: UNAVAILABLE, as Go's `ErrClosed` maps.
 * `why`, when given, is told in the message ("ttrpc: closed: connection ended in the middle of a
 * frame"), not only in `cause`, so a log line says why.
 */
export function closedError(cause?: unknown, why?: string): TtrpcError {
  return new TtrpcError(
    why === undefined ? "ttrpc: closed" : `ttrpc: closed: ${why}`,
    Code.Unavailable,
    {
      cause,
    },
  );
}

/**
 * The error for a message over the size limit: which message (`what`: "request", "response",
 * "request message"…), whose limit (`whose`: "the server", "this client"…) and the option that
 * raises it, e.g. "ttrpc: request of 70034 bytes exceeds maxMessageBytes (65536) of the server".
 */
export function oversizeError(
  length: number,
  max: number,
  what: string,
  whose: string,
): TtrpcError {
  return new TtrpcError(
    `ttrpc: ${what} of ${length} bytes exceeds maxMessageBytes (${max}) of ${whose}`,
    Code.ResourceExhausted,
  );
}

/** Node's `code` of a system error, as Go's `convertCode` maps `os` errors. */
const errnoCodes: Record<string, number> = {
  ENOENT: Code.NotFound,
  EEXIST: Code.AlreadyExists,
  EACCES: Code.PermissionDenied,
  EPERM: Code.PermissionDenied,
};

/**
 * The one mapping from anything thrown to a status, used by both sides and by
 * {@link TtrpcError.from}; Go's `convertCode` in Node's terms. A TtrpcError is kept as is, and so
 * is the TtrpcError an AbortError carries as its cause (a deadline, a closing server). Otherwise
 * the code comes from the error's kind (AbortError: CANCELLED, TimeoutError: DEADLINE_EXCEEDED,
 * a system error's `code`), else `fallbackCode`; the message is the error's own, or "internal
 * error" when `exposeMessage` is false (a server that does not show its internals).
 */
export function toStatusError(
  reason: unknown,
  fallbackCode: number = Code.Unknown,
  exposeMessage = true,
): TtrpcError {
  if (reason instanceof TtrpcError) return reason;
  let code = fallbackCode;
  const errno = (reason as { code?: unknown } | null | undefined)?.code;
  if (typeof errno === "string" && Object.hasOwn(errnoCodes, errno)) {
    code = errnoCodes[errno] as number;
  } else if (reason instanceof Error) {
    if (reason.name === "AbortError") {
      if (reason.cause instanceof TtrpcError) return reason.cause;
      code = Code.Canceled;
    } else if (reason.name === "TimeoutError") code = Code.DeadlineExceeded;
  }
  const message = !exposeMessage
    ? "internal error"
    : reason instanceof Error
      ? reason.message
      : safeString(reason);
  return new TtrpcError(message, code, { cause: reason });
}

/**
 * The error of a message its codec could not encode: INTERNAL on every call kind and both sides
 * (nothing was sent for it). `what` is "request" or "response".
 */
export function encodeError(what: string, cause: unknown): TtrpcError {
  if (cause instanceof TtrpcError) return cause;
  const message = cause instanceof Error ? cause.message : safeString(cause);
  return new TtrpcError(`ttrpc: error marshalling ${what}: ${message}`, Code.Internal, { cause });
}

/** The error of a call whose deadline passed, worded as Go's context error. */
export function deadlineError(): TtrpcError {
  return new TtrpcError("context deadline exceeded", Code.DeadlineExceeded);
}

/** The error of a call whose signal aborted: the signal's TtrpcError reason, else CANCELLED. */
export function canceledError(signal: AbortSignal): TtrpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof TtrpcError) return reason;
  return new TtrpcError("context canceled", Code.Canceled, { cause: reason });
}
