/**
 * Typed errors of the NRI package.
 * @module
 */

/** Why the mux failed or refused something. */
export type MuxErrorCode =
  | "FRAME_TOO_LARGE"
  | "BUFFER_FULL"
  | "MESSAGE_TOO_LARGE"
  | "TRUNK_CLOSED"
  | "INVALID_CONN_ID";

/** An error of the NRI connection multiplexer. */
export class MuxError extends Error {
  /** Machine-readable reason. */
  readonly code: MuxErrorCode;
  constructor(message: string, code: MuxErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MuxError";
    this.code = code;
  }
}

/** Why a plugin operation failed. */
export type NriErrorCode =
  | "INVALID_NAME"
  | "INVALID_INDEX"
  | "INVALID_OPTIONS"
  | "REGISTRATION_TIMEOUT"
  | "NOT_CONNECTED"
  | "SYNC_TOO_LARGE"
  | "UNHANDLED_EVENTS"
  | "STOPPED";

/** An error of the NRI plugin SDK. */
export class NriError extends Error {
  /** Machine-readable reason. */
  readonly code: NriErrorCode;
  constructor(message: string, code: NriErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NriError";
    this.code = code;
  }
}
