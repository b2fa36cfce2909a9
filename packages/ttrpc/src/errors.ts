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
   * Turns anything caught into a TtrpcError: a TtrpcError is returned as is, an AbortError becomes
   * CANCELLED, a TimeoutError DEADLINE_EXCEEDED, any other value `fallbackCode` with its message.
   */
  static from(reason: unknown, fallbackCode: number = Code.Unknown): TtrpcError {
    if (reason instanceof TtrpcError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError") {
        // An abort whose reason is already a TtrpcError (deadline, server close) keeps that code.
        if (reason.cause instanceof TtrpcError) return reason.cause;
        return new TtrpcError(reason.message, Code.Canceled, { cause: reason });
      }
      if (reason.name === "TimeoutError") {
        return new TtrpcError(reason.message, Code.DeadlineExceeded, { cause: reason });
      }
      return new TtrpcError(reason.message, fallbackCode, { cause: reason });
    }
    return new TtrpcError(safeString(reason), fallbackCode, { cause: reason });
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

/** The error for a connection that is closed or failed: UNAVAILABLE, as Go's `ErrClosed` maps. */
export function closedError(cause?: unknown): TtrpcError {
  return new TtrpcError("ttrpc: closed", Code.Unavailable, { cause });
}

/** The error for a message over the size limit, worded as Go ttrpc words it. */
export function oversizeError(length: number, max: number): TtrpcError {
  return new TtrpcError(
    `message length ${length} exceed maximum message size of ${max}`,
    Code.ResourceExhausted,
  );
}
