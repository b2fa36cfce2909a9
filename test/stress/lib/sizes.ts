/**
 * The two sizes of the suite: `quick` runs inside `npm test` (well under a minute on 2 cores) and
 * `full` is `npm run stress` (the figures of issue 8: a million fuzz inputs, 10,000 connections,
 * a million calls, the findings at the sizes they were reported at).
 */
export interface Sizes {
  name: "quick" | "full";
  propertyRuns: number;
  fuzzInputs: number;
  fuzzWorkers: number;
  fuzzBatch: number;
  connections: number;
  calls: number;
  callConns: number;
  callDepth: number;
  concurrentCalls: number;
  concurrentStreams: number;
  /** Finding (1): 1 MiB replies requested and never read. */
  unreadReplies: number;
  /** Finding (1): ~4 MiB messages per bidi stream (4 streams) whose echoes are never read. */
  unreadEchoPerStream: number;
  /** Finding (1), client side: MiB of requests (8 KiB each, one shared buffer) to a server that never reads. */
  unreadRequests: number;
  /** Finding (2): ~4 MiB messages in an unread server stream. */
  unreadStreamMessages: number;
  /** Finding (5): requests of 200,000 metadata entries. */
  metadataBombs: number;
  metadataEntries: number;
  /** Finding (5): streams opened on one connection. */
  streamsPerConnection: number;
  slowlorisConns: number;
  slowlorisMs: number;
  /** How long a lying server's call may stay pending before it counts as hung. */
  lieWatchMs: number;
  shutdownWaitMs: number;
}

/** Inside npm test. */
export const QUICK: Sizes = {
  name: "quick",
  propertyRuns: 300,
  fuzzInputs: 10_000,
  fuzzWorkers: 4,
  fuzzBatch: 100,
  connections: 500,
  calls: 20_000,
  callConns: 10,
  callDepth: 16,
  concurrentCalls: 1_000,
  concurrentStreams: 200,
  unreadReplies: 96,
  unreadEchoPerStream: 4,
  unreadRequests: 96,
  unreadStreamMessages: 16,
  metadataBombs: 1,
  metadataEntries: 200_000,
  streamsPerConnection: 2_000,
  slowlorisConns: 20,
  slowlorisMs: 1_000,
  lieWatchMs: 500,
  shutdownWaitMs: 1_000,
};

/** npm run stress. */
export const FULL: Sizes = {
  name: "full",
  propertyRuns: 20_000,
  fuzzInputs: 1_000_000,
  fuzzWorkers: 8,
  fuzzBatch: 100,
  connections: 10_000,
  calls: 1_000_000,
  callConns: 100,
  callDepth: 16,
  concurrentCalls: 10_000,
  concurrentStreams: 1_000,
  unreadReplies: 1_024,
  unreadEchoPerStream: 60,
  // 128 MiB = 16,384 requests of 8 KiB: far past the write-queue cap, while the pending calls' own
  // bookkeeping (promises, the application's callbacks: ~1 KiB each, measured at 131,072 calls)
  // stays small next to what an unbounded engine would copy.
  unreadRequests: 128,
  unreadStreamMessages: 128,
  metadataBombs: 8,
  metadataEntries: 200_000,
  streamsPerConnection: 100_000,
  slowlorisConns: 1_000,
  slowlorisMs: 5_000,
  lieWatchMs: 3_000,
  shutdownWaitMs: 3_000,
};
