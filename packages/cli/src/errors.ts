/**
 * How every failure is printed: one line on stderr, never a stack trace. A call's status is a JSON
 * line; the command's own errors are plain text.
 * @module
 */
import { Code, codeToString, type TtrpcError } from "ttrpc";

/** The canonical upper-case name of a status code (`NOT_FOUND`), as gRPC tools print it. */
export function codeName(code: number): string {
  return codeToString(code).toUpperCase();
}

/** A detail as printed: the decoded message with its `@type`, or the raw bytes in base64. */
export type PrintedDetail = Record<string, unknown>;

/**
 * The JSON line printed on stderr for a failed call: code (number), name, message, details (when
 * any), and a hint for the failures whose wire message says little.
 */
export function statusLine(
  err: TtrpcError,
  decodeDetail: (typeUrl: string, value: Uint8Array) => PrintedDetail,
): string {
  const out: Record<string, unknown> = {
    code: err.code,
    name: codeName(err.code),
    message: err.rawMessage,
  };
  if (err.details.length > 0)
    out.details = err.details.map((d) => decodeDetail(d.typeUrl, d.value));
  const hint = hintFor(err);
  if (hint) out.hint = hint;
  return JSON.stringify(out);
}

function hintFor(err: TtrpcError): string | undefined {
  // The core says "ttrpc: closed", or "ttrpc: closed: <why>" when it knows the reason.
  if (err.code === Code.Unavailable && err.rawMessage.startsWith("ttrpc: closed")) {
    return "the connection closed before the call finished: the peer went away or is not a ttrpc server";
  }
  if (err.code === Code.Unimplemented) {
    return "the peer does not serve this service or method (see `ttrpc list`)";
  }
  return undefined;
}
