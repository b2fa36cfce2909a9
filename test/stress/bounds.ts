/**
 * The configured-bound column of the stress suite: one entry per memory/time bound of issue 8.
 *
 * For the engine engineer: when an option exists in the engine, put the value the suite should
 * configure here (instead of `undefined`). The attacks that name it then pass it to the target
 * (server options, or connect options for our client) and ASSERT that the victim's RSS growth stays
 * within `holds()` of it; while it is `undefined` they only measure and report (today's "before"
 * figures), and their quick tests are `todo`.
 */
export const BOUNDS = {
  /** Per connection, bytes queued for writing before reading stops (server and client). */
  maxWriteQueueBytes: (8 << 20) as number | undefined,
  /** Per stream, inbound bytes buffered for a reader that is behind. */
  streamBufferBytes: (8 << 20) as number | undefined,
  /** Per connection, concurrent streams (the excess is refused with RESOURCE_EXHAUSTED). */
  maxConcurrentStreams: 100 as number | undefined,
  /** Per request, metadata entries. */
  maxMetadataEntries: 1024 as number | undefined,
  /** Per request, metadata bytes. */
  maxMetadataBytes: (64 << 10) as number | undefined,
  /** How long a partially received frame may take to complete (ms). */
  frameTimeoutMs: 500 as number | undefined,
  /** How long a connection may stay without a frame (ms). */
  idleTimeoutMs: 10_000 as number | undefined,
  /** shutdown({ timeoutMs }): how long a graceful shutdown may wait before close(). */
  shutdownTimeoutMs: 500 as number | undefined,
};

/** A bound's name. */
export type BoundName = keyof typeof BOUNDS;

/** The options to pass for the given bounds (only those that are configured). */
export function boundOptions(...names: BoundName[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const v = BOUNDS[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** "name=value" for the table, or "name: none" while the engine has no such option. */
export function boundLabel(...names: BoundName[]): string {
  return names
    .map((n) => (BOUNDS[n] === undefined ? `${n}: none` : `${n}=${BOUNDS[n]}`))
    .join(", ");
}

/** True when every named bound is configured (the scenario asserts instead of only measuring). */
export function configured(...names: BoundName[]): boolean {
  return names.every((n) => BOUNDS[n] !== undefined);
}

/**
 * Whether a victim's RSS growth holds a byte bound: twice the bound (a queue is drained while it
 * refills) plus 64 MiB for the runtime's own growth under load (JIT, heap headroom, socket buffers).
 */
export function holds(growthBytes: number, boundBytes: number): boolean {
  return growthBytes <= 2 * boundBytes + 64 * 2 ** 20;
}

/**
 * Findings of issue 8 that are not a byte bound and are still open in the engine. Their quick
 * tests assert the fixed behaviour and are `todo` while listed here: delete an entry when the
 * engine fixes it, and the test starts to count.
 */
export const OPEN_FINDINGS: Record<string, string | undefined> = {};
