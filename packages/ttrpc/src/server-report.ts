/**
 * What the server reports about handler errors it did not expect: which errors are unexpected,
 * what `onError` is told, and the one stderr line when there is no `onError`.
 * @module
 */
import { safeString, TtrpcError } from "./errors.js";
import type { MethodInfo } from "./method.js";

/** Where an error reported to {@link ServerOptions.onError} happened. */
export interface ServerErrorInfo {
  /** The call's method (an unexpected handler error). */
  readonly method?: MethodInfo;
  /** The call's stream id on its connection. */
  readonly streamId?: number;
  /** What the handshaker returned for the call's connection. */
  readonly peer?: unknown;
}

/**
 * An error a handler did not mean to send: not a TtrpcError (an answer), nor the abort of its own
 * signal (the call was already over), nor a timeout.
 */
export function isUnexpected(error: unknown): boolean {
  if (error instanceof TtrpcError) return false;
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return name !== "AbortError" && name !== "TimeoutError";
}

/**
 * The default for an unexpected handler error when no `onError` is given: one line on stderr (a
 * handler bug must not go unseen, and must not flood the log with stacks either).
 */
export function logHandlerError(error: unknown, method: MethodInfo, streamId: number): void {
  const text =
    error instanceof Error ? `${error.name}: ${error.message}` : `thrown ${safeString(error)}`;
  const line = text.split("\n", 1)[0];
  console.error(
    `ttrpc: ${method.path} (stream ${streamId}): handler failed: ${line} (not a TtrpcError; set ServerOptions.onError to handle or silence this)`,
  );
}
