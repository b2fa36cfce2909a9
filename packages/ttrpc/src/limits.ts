/**
 * The bounds on what a peer can make us hold, in bytes, messages, streams and time: their
 * defaults (each protects a process out of the box and stays clear of what containerd sends), and
 * the check that turns a nonsensical option into a clear error when a server or connection is made.
 * @module
 */

/** Default cap on the bytes queued for writing on one connection: 16 MiB. */
export const DEFAULT_MAX_WRITE_QUEUE_BYTES = 16 << 20;
/** Default cap on the bytes a stream buffers for a reader that is behind: 16 MiB. */
export const DEFAULT_STREAM_BUFFER_BYTES = 16 << 20;
/** Default cap on the bytes all the streams of one connection buffer for readers behind: 64 MiB. */
export const DEFAULT_CONNECTION_BUFFER_BYTES = 64 << 20;
/** Default cap on the streaming calls open at once on one server connection. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1024;
/** Default cap on the metadata entries of one request. */
export const DEFAULT_MAX_METADATA_ENTRIES = 1024;
/** Default cap on the metadata bytes of one request (the encoded key/value pairs): 64 KiB. */
export const DEFAULT_MAX_METADATA_BYTES = 64 << 10;
/** Default time a frame that started arriving may take to complete: 30 s. */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

/** The longest delay a Node timer takes: a longer one (or Infinity) fires after 1 ms instead. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * A time option as a timer can wait it: undefined stays undefined (the default applies), anything
 * past 2^31 − 1 ms (Infinity included) becomes that, about 24.8 days: "never", for an unref'd timer.
 */
export function timerMs(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, MAX_TIMER_MS);
}

/** What an option must be. */
type Kind =
  /** A positive integer, or Infinity for "no bound". */
  | "count"
  /** A positive number of milliseconds, or Infinity for "never". */
  | "ms"
  /** A non-negative number of milliseconds, or Infinity. */
  | "ms0";

/**
 * Checks the numeric options named in `spec`: each is undefined (the default) or a number of the
 * right kind. Throws a TypeError for a value that is not a number, a RangeError for one out of
 * range (0, negative, NaN, a fraction where a count is expected), naming the option.
 */
export function checkOptions(
  where: string,
  options: object | undefined,
  spec: Record<string, Kind>,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${where}: options must be an object`);
  }
  const values = options as Record<string, unknown>;
  for (const [name, kind] of Object.entries(spec)) {
    const value = values[name];
    if (value === undefined) continue;
    if (typeof value !== "number") {
      throw new TypeError(`${where}: ${name} must be a number, got ${typeof value}`);
    }
    const infinite = value === Number.POSITIVE_INFINITY;
    const ok =
      kind === "count"
        ? infinite || (Number.isInteger(value) && value >= 1)
        : kind === "ms"
          ? value > 0
          : value >= 0;
    if (!ok) {
      const want =
        kind === "count"
          ? "a positive integer (or Infinity)"
          : kind === "ms"
            ? "a positive number of milliseconds (or Infinity)"
            : "a number of milliseconds >= 0 (or Infinity)";
      throw new RangeError(`${where}: ${name} must be ${want}, got ${value}`);
    }
  }
}

/** The options both sides share, with their kinds. */
export const SHARED_OPTIONS: Record<string, Kind> = {
  maxMessageBytes: "count",
  maxWriteQueueBytes: "count",
  streamBufferSize: "count",
  streamBufferBytes: "count",
  connectionBufferBytes: "count",
  streamBufferTimeoutMs: "ms0",
  frameTimeoutMs: "ms",
};

/** The server's own options, with their kinds. */
export const SERVER_OPTIONS: Record<string, Kind> = {
  ...SHARED_OPTIONS,
  maxConcurrentStreams: "count",
  maxMetadataEntries: "count",
  maxMetadataBytes: "count",
  idleTimeoutMs: "ms",
  streamIdleTimeoutMs: "ms",
  shutdownTimeoutMs: "ms0",
  handshakeTimeoutMs: "ms",
};
