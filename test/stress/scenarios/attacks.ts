/**
 * Attacks on a server by a raw peer in this process (the target is another process; ours or Go's):
 * each reproduces a finding of issue 8 and reports the target's RSS against the bound that should
 * stop it (bounds.ts). While a bound is not configured the figures are today's "before" numbers.
 */
import { type BoundName, boundLabel, boundOptions, configured, holds } from "../bounds.js";
import { Canary } from "../lib/canary.js";
import { mib, RssSampler, rssOf, startTarget, type Target, type TargetKind } from "../lib/procs.js";
import type { Row } from "../lib/report.js";
import {
  echoPayload,
  encodeFrame,
  F,
  payloadFrame,
  RawConn,
  request,
  STREAMING,
  STRESS,
  sleep,
  T,
} from "../lib/wire.js";

/** An attack's row, its hard violations (a crash), and whether its bound held (undefined: no bound yet). */
export interface AttackResult {
  row: Row;
  violations: string[];
  boundHeld: boolean | undefined;
  growth: number;
}

/** Starts a target with the options of the named bounds (those configured). */
export function attackTarget(kind: TargetKind, dir: string, bounds: BoundName[]): Promise<Target> {
  return startTarget(kind, dir, boundOptions(...bounds));
}

/** Waits until the RSS of pid has not grown for `quietMs` (or `maxMs` passed). */
async function untilStable(sampler: RssSampler, quietMs = 300, maxMs = 6000): Promise<void> {
  const end = performance.now() + maxMs;
  let last = sampler.max;
  let since = performance.now();
  while (performance.now() < end) {
    await sleep(100);
    if (sampler.max > last + 2 ** 20) {
      last = sampler.max;
      since = performance.now();
    } else if (performance.now() - since > quietMs) return;
  }
}

function result(
  t0: number,
  target: Target,
  scenario: string,
  inputs: number,
  base: number,
  peak: number,
  bounds: BoundName[],
  boundBytes: number | undefined,
  figures: Record<string, number | string>,
  extra: string[] = [],
): AttackResult {
  const alive = target.proc.alive;
  const violations = alive ? [] : [`target crashed: ${target.proc.stderr.slice(0, 200)}`];
  const growth = peak - base;
  const boundHeld =
    configured(...bounds) && boundBytes !== undefined ? holds(growth, boundBytes) : undefined;
  const outcome = alive ? (boundHeld === false ? "BOUND EXCEEDED" : "survived") : "crashed";
  return {
    row: {
      suite: "attack",
      scenario,
      target: target.kind,
      inputs,
      result: [outcome, ...extra].join("; "),
      rssBaseMiB: mib(base),
      rssMaxMiB: mib(peak),
      bound: boundLabel(...bounds),
      figures,
      ms: performance.now() - t0,
    },
    violations,
    boundHeld,
    growth,
  };
}

/** Finding (1): `n` unary requests for `size`-byte replies on a connection that never reads. */
export async function unreadUnaryReplies(
  target: Target,
  n: number,
  size = 1 << 20,
): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const c = new RawConn(target.socket, { read: false });
  await c.connected();
  const reqs = Buffer.concat(Array.from({ length: n }, (_, i) => payloadFrame(1 + 2 * i, size)));
  await c.write(reqs);
  await untilStable(sampler);
  const peak = sampler.stop();
  c.destroy();
  return result(
    t0,
    target,
    "f1-unread-unary-replies",
    n,
    base,
    peak,
    ["maxWriteQueueBytes"],
    boundBytes("maxWriteQueueBytes"),
    {
      requestKiB: Math.round(reqs.length / 1024),
      replyMiB: mib(n * size),
    },
  );
}

function boundBytes(name: BoundName): number | undefined {
  return boundOptions(name)[name];
}

/** Finding (1): `streams` bidi echo streams fed `perStream` ~4 MiB messages whose echoes are never read. */
export async function unreadBidiEcho(
  target: Target,
  streams: number,
  perStream: number,
): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const c = new RawConn(target.socket, { read: false });
  await c.connected();
  const open = (sid: number) =>
    encodeFrame(
      sid,
      T.Request,
      F.RemoteOpen,
      request({ service: STREAMING, method: "EchoStream" }),
    );
  const msg = (sid: number) =>
    encodeFrame(sid, T.Data, 0, echoPayload(1, Buffer.alloc((4 << 20) - 64, 0x61)));
  let sent = 0;
  let stalled = false;
  for (let s = 0; s < streams; s++) await c.write(open(1 + 2 * s));
  outer: for (let i = 0; i < perStream; i++) {
    for (let s = 0; s < streams; s++) {
      if (!(await c.write(msg(1 + 2 * s), 3000))) {
        stalled = true;
        break outer;
      }
      sent += 1;
    }
  }
  await untilStable(sampler);
  const peak = sampler.stop();
  c.destroy();
  return result(
    t0,
    target,
    "f1-unread-bidi-echo",
    sent,
    base,
    peak,
    ["maxWriteQueueBytes", "streamBufferBytes"],
    boundBytes("maxWriteQueueBytes"),
    { streams, sentMiB: sent * 4 },
    stalled ? [`stopped reading after ${sent * 4} MiB`] : [],
  );
}

/**
 * Finding (2), server side: a client stream whose handler never reads, fed `messages` ~4 MiB Data
 * frames (ts only: the Go peer has no handler that ignores its input).
 */
export async function unreadClientStream(target: Target, messages: number): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const c = new RawConn(target.socket);
  await c.connected();
  await c.write(
    encodeFrame(1, T.Request, F.RemoteOpen, request({ service: STRESS, method: "Stall" })),
  );
  const reply = c.reply(1);
  let answer = "";
  reply.then((type) => {
    answer = type === 2 ? "stream failed by the server" : "connection closed";
  });
  const data = encodeFrame(1, T.Data, 0, Buffer.alloc((4 << 20) - 64, 0x62));
  let sent = 0;
  for (; sent < messages && answer === ""; sent++) {
    if (!(await c.write(data, 3000))) break;
  }
  await untilStable(sampler);
  const peak = sampler.stop();
  c.destroy();
  return result(
    t0,
    target,
    "f2-server-unread-client-stream",
    sent,
    base,
    peak,
    ["streamBufferBytes"],
    boundBytes("streamBufferBytes"),
    { sentMiB: sent * 4 },
    [answer === "" ? "no answer" : `${answer} after ${sent * 4} MiB`],
  );
}

/** Finding (5): `count` Requests carrying `entries` metadata pairs each, while a canary calls. */
export async function metadataBomb(
  target: Target,
  count: number,
  entries: number,
): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const canary = new Canary(target.socket, { gapMs: 1 });
  await sleep(100);
  // Distinct keys (as in the issue: 200,000 entries = 3.3 MB): each is its own Metadata key.
  const metadata = Array.from({ length: entries }, (_, i) => [`key-${i}`, "v"] as const);
  const body = request({ service: STREAMING, method: "Echo", payload: echoPayload(1), metadata });
  const c = new RawConn(target.socket, { parse: false });
  await c.connected();
  for (let i = 0; i < count; i++) await c.write(encodeFrame(1 + 2 * i, T.Request, 0, body), 10_000);
  await sleep(300);
  const lat = await canary.stop();
  const peak = sampler.stop();
  c.destroy();
  return result(
    t0,
    target,
    "f5-metadata-bomb",
    count,
    base,
    peak,
    ["maxMetadataEntries", "maxMetadataBytes"],
    boundBytes("maxMetadataBytes"),
    {
      entries,
      requestMiB: mib(body.length),
      canaryP99ms: lat.p99,
      canaryMaxMs: lat.max,
      canaryFailed: lat.failed,
    },
  );
}

/** Finding (5): `n` bidi streams opened on one connection and never used. */
export async function streamsPerConnection(target: Target, n: number): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const c = new RawConn(target.socket, { parse: false });
  await c.connected();
  const body = request({ service: STREAMING, method: "EchoStream" });
  for (let i = 0; i < n; i += 1000) {
    const frames = Array.from({ length: Math.min(1000, n - i) }, (_, j) =>
      encodeFrame(1 + 2 * (i + j), T.Request, F.RemoteOpen, body),
    );
    await c.write(Buffer.concat(frames), 10_000);
  }
  await untilStable(sampler);
  const peak = sampler.stop();
  const refused = c.bytesIn;
  c.destroy();
  const cap = boundOptions("maxConcurrentStreams").maxConcurrentStreams;
  return result(
    t0,
    target,
    "f5-streams-per-connection",
    n,
    base,
    peak,
    ["maxConcurrentStreams"],
    cap === undefined ? undefined : cap * 4096,
    {
      perStreamKiB: Math.round(((peak - base) / n / 1024) * 10) / 10,
      bytesBack: refused,
    },
  );
}

/** Finding (5): `n` connections each dribbling a frame header one byte per `everyMs` for `ms`. */
export async function slowloris(
  target: Target,
  n: number,
  ms: number,
  everyMs = 1000,
): Promise<AttackResult> {
  const t0 = performance.now();
  const base = rssOf(target.pid).rss;
  const sampler = new RssSampler(target.pid);
  const canary = new Canary(target.socket, { gapMs: 5 });
  // Connected 50 at a time, each retried a few times: a unix socket whose listen backlog is full
  // refuses at once (EAGAIN) instead of queueing, and a refused connection is no attack.
  const conns: RawConn[] = [];
  let refused = 0;
  const open = async (): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const c = new RawConn(target.socket, { parse: false });
      try {
        await c.connected();
        conns.push(c);
        return;
      } catch {
        c.destroy();
        await sleep(20 * (attempt + 1));
      }
    }
    refused += 1;
  };
  for (let i = 0; i < n; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, open));
  // A Request header that announces 1,000 bytes, and then its bytes one at a time.
  const frame = Buffer.concat([Buffer.from([0, 0, 3, 0xe8, 0, 0, 0, 1, 1, 0]), Buffer.alloc(1000)]);
  for (let i = 0; performance.now() - t0 < ms; i++) {
    for (const c of conns) if (!c.closed) c.socket.write(frame.subarray(i, i + 1));
    await sleep(everyMs);
  }
  const held = conns.filter((c) => !c.closed).length;
  const lat = await canary.stop();
  const peak = sampler.stop();
  for (const c of conns) c.destroy();
  const timeout = boundOptions("frameTimeoutMs").frameTimeoutMs;
  const r = result(
    t0,
    target,
    "f5-slowloris",
    n,
    base,
    peak,
    ["frameTimeoutMs", "idleTimeoutMs"],
    undefined,
    {
      heldOpen: held,
      refused,
      canaryP99ms: lat.p99,
      canaryFailed: lat.failed,
    },
  );
  // The bound here is time, not bytes: past the frame timeout no connection may still be open.
  if (timeout !== undefined) r.boundHeld = held === 0 || ms < timeout;
  return r;
}

/** Runs one attack against a fresh target and kills it after. */
export async function onFreshTarget(
  kind: TargetKind,
  dir: string,
  bounds: BoundName[],
  attack: (t: Target) => Promise<AttackResult>,
): Promise<AttackResult> {
  const target = await attackTarget(kind, dir, bounds);
  try {
    return await attack(target);
  } finally {
    await target.kill();
  }
}
