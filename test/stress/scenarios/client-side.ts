/**
 * Findings of issue 8 where our client is the victim or the tool: a peer that stops reading our
 * requests (1), an unread server stream (2), streams whose reader keeps up (3), abandoned bidi
 * streams (4), a shutdown that never ends (6). Our client runs as a child process (proc/client.ts)
 * when its memory is measured, and in this process when only outcomes matter.
 */
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { connect, createClient, createWritableIterable } from "ttrpc";
import { Streaming } from "../../interop/service.js";
import { boundLabel, boundOptions, configured, holds } from "../bounds.js";
import { mib, RssSampler, rssOf, startClient, startTarget, type Target } from "../lib/procs.js";
import type { Row } from "../lib/report.js";
import { sleep } from "../lib/wire.js";
import { Stress, u32s } from "../proc/stress-service.js";
import type { AttackResult } from "./attacks.js";

function row(
  scenario: string,
  target: string,
  inputs: number,
  result: string,
  t0: number,
  extra: Partial<Row> = {},
): Row {
  return {
    suite: "finding",
    scenario,
    target,
    inputs,
    result,
    ms: performance.now() - t0,
    ...extra,
  };
}

/** A unix server that accepts connections and never reads from them. */
export async function deafServer(
  dir: string,
): Promise<{ path: string; server: Server; sockets: Socket[] }> {
  const path = join(dir, `deaf${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
  const sockets: Socket[] = [];
  const server = createServer({ pauseOnConnect: true }, (s) => {
    sockets.push(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server, sockets };
}

/**
 * Finding (1), client side: `count` MiB of unary requests to a server that never reads, sent as
 * 8 KiB requests sharing one buffer: small requests are what the engine copies into its write
 * queue, so the growth measured is the engine's (per-request 1 MiB buffers would measure the
 * application's own allocations, which no engine bound can limit).
 */
export async function clientUnreadRequests(
  dir: string,
  mibs: number,
  size = 8 << 10,
): Promise<AttackResult> {
  const count = Math.round((mibs * 2 ** 20) / size);
  const t0 = performance.now();
  const deaf = await deafServer(dir);
  const client = await startClient(boundOptions("maxWriteQueueBytes"));
  const base = rssOf(client.pid).rss;
  const sampler = new RssSampler(client.pid);
  await client.command({ cmd: "flood-unary", socket: deaf.path, count, size, shared: true });
  await sleep(1000);
  const peak = sampler.stop();
  const alive = client.alive;
  await client.kill();
  for (const s of deaf.sockets) s.destroy();
  deaf.server.close();
  const growth = peak - base;
  const bound = boundOptions("maxWriteQueueBytes").maxWriteQueueBytes;
  return {
    row: row("f1-client-unread-requests", "ts-client", count, alive ? "survived" : "crashed", t0, {
      suite: "attack",
      rssBaseMiB: mib(base),
      rssMaxMiB: mib(peak),
      bound: boundLabel("maxWriteQueueBytes"),
      figures: { requestMiB: mib(count * size) },
    }),
    violations: alive ? [] : ["client crashed"],
    boundHeld: bound === undefined ? undefined : holds(growth, bound),
    growth,
  };
}

/** Finding (2): our client reads one message of a stream of `count` × `size` bytes, then stops. */
export async function clientUnreadStream(
  target: Target,
  count: number,
  waitMs = 3000,
  size = (4 << 20) - 64,
): Promise<AttackResult> {
  const t0 = performance.now();
  const client = await startClient(boundOptions("streamBufferBytes"));
  const base = rssOf(client.pid).rss;
  const sampler = new RssSampler(client.pid);
  await client.command({
    cmd: "unread-stream",
    socket: target.socket,
    count,
    size,
    readAfterMs: waitMs - 500,
  });
  await sleep(waitMs);
  const peak = sampler.stop();
  const { outcomes } = (await client.command({ cmd: "outcomes" })) as {
    outcomes: Record<string, unknown>[];
  };
  const alive = client.alive;
  await client.kill();
  const stream = outcomes.find((o) => o.closed === undefined);
  const growth = peak - base;
  const bound = boundOptions("streamBufferBytes").streamBufferBytes;
  return {
    row: row(
      "f2-client-unread-stream",
      "ts-client",
      count,
      alive
        ? `survived; then read: ${stream ? (stream.ok ? `all ${stream.messages} messages` : `${stream.messages} messages, then code ${stream.code} ${stream.message}`) : "no outcome"}`
        : "crashed",
      t0,
      {
        suite: "attack",
        rssBaseMiB: mib(base),
        rssMaxMiB: mib(peak),
        bound: boundLabel("streamBufferBytes"),
        figures: { messageMiB: mib(size) },
      },
    ),
    violations: alive ? [] : ["client crashed"],
    boundHeld:
      bound === undefined || !configured("streamBufferBytes")
        ? undefined
        : unreadStreamHeld(stream, growth, bound, count * size, size),
    growth,
  };
}

/**
 * The bound held when the stream failed with RESOURCE_EXHAUSTED before the reader got more than
 * the bound's worth of messages, and — where the attack sends enough that an unbounded client would
 * stand out — the client's peak RSS stayed within `holds()`. At the quick size (16 × 4 MiB) every
 * message passes through memory before it is dropped, so the peak RSS says nothing about what was
 * kept (it measured 54–82 MiB on Node 20–24 for an 8 MiB bound): only the behaviour is judged there.
 */
function unreadStreamHeld(
  stream: Record<string, unknown> | undefined,
  growth: number,
  bound: number,
  sentBytes: number,
  size: number,
): boolean {
  const failedAtBound =
    stream !== undefined &&
    stream.ok !== true &&
    stream.code === 8 &&
    typeof stream.messages === "number" &&
    stream.messages <= Math.ceil(bound / size) + 1;
  const rssTells = sentBytes > 2 * (2 * bound + 64 * 2 ** 20);
  return failedAtBound && (!rssTells || holds(growth, bound));
}

/** Finding (3): streams of `n` tiny messages whose reader keeps up must succeed (ts: Stress, go: interop). */
export async function readerKeepsUp(
  target: Target,
  n: number,
): Promise<{ row: Row; failures: string[] }> {
  const t0 = performance.now();
  const conn = await connect(target.socket);
  const failures: string[] = [];
  const attempt = async (what: string, fn: () => Promise<boolean>) => {
    try {
      if (!(await fn())) failures.push(`${what}: wrong result`);
    } catch (e) {
      failures.push(`${what}: ${String((e as Error).message).slice(0, 60)}`);
    }
  };
  if (target.kind === "ts") {
    const stress = createClient(Stress, conn);
    await attempt(
      "client stream from an array",
      async () =>
        Buffer.from(await stress.count(Array.from({ length: n }, () => u32s(1)))).readUInt32BE(
          0,
        ) === n,
    );
    await attempt("server stream", async () => {
      let got = 0;
      for await (const _ of stress.flood(u32s(n, 1, 0))) got += 1;
      return got === n;
    });
  } else {
    const streaming = createClient(Streaming, conn);
    await attempt(
      "client stream from an array",
      async () =>
        (await streaming.sumStream(Array.from({ length: n }, () => ({ add: 1 })))).num === n,
    );
    await attempt("server stream", async () => {
      let got = 0;
      for await (const _ of streaming.divideStream({ sum: n, num: n })) got += 1;
      return got === n;
    });
  }
  await conn.close();
  return {
    row: row(
      "f3-reader-keeps-up",
      target.kind,
      n,
      failures.length ? failures.join("; ") : "ok",
      t0,
    ),
    failures,
  };
}

/** Finding (4): `n` bidi streams abandoned by breaking out of for-await and closing the requests. */
export async function abandonedStreams(
  target: Target,
  n: number,
): Promise<{ row: Row; leftRunning: number }> {
  const t0 = performance.now();
  const before = (await target.stats(false)).handlers ?? 0;
  const conn = await connect(target.socket);
  const stress = createClient(Stress, conn);
  await Promise.all(
    Array.from({ length: n }, async () => {
      const reqs = createWritableIterable<Uint8Array>();
      reqs.write(u32s(1));
      for await (const _ of stress.echo(reqs)) break;
      reqs.close();
    }),
  );
  await sleep(500);
  const left = ((await target.stats(false)).handlers ?? 0) - before;
  await conn.close();
  await sleep(200);
  const afterClose = ((await target.stats(false)).handlers ?? 0) - before;
  return {
    row: row(
      "f4-abandoned-bidi-streams",
      "ts",
      n,
      left ? `${left} handlers still running` : "ok",
      t0,
      { figures: { afterConnClose: afterClose } },
    ),
    leftRunning: left,
  };
}

/** Finding (6): shutdown() with one endless server stream open; how long it takes, whether handlers hear of it. */
export async function shutdownWithEndlessStream(
  dir: string,
  waitMs: number,
): Promise<{ row: Row; ended: boolean }> {
  const t0 = performance.now();
  const timeoutMs = boundOptions("shutdownTimeoutMs").shutdownTimeoutMs;
  const target = await startTarget("ts", dir);
  const conn = await connect(target.socket);
  const reading = (async () => {
    for await (const _ of createClient(Stress, conn).flood(u32s(0, 8, 50))) {
      // an endless stream, read as it comes
    }
  })().catch(() => {});
  await sleep(200);
  const shutdown = target.proc.command(
    { cmd: "shutdown", ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    60_000,
  );
  const done = await Promise.race([shutdown.then(() => true), sleep(waitMs).then(() => false)]);
  const stats = await target
    .stats(false)
    .catch(() => ({ signalled: -1 }) as Record<string, unknown>);
  await conn.close();
  await reading;
  await target.kill();
  return {
    row: row(
      "f6-shutdown-endless-stream",
      "ts",
      1,
      done ? "shutdown ended" : `shutdown still pending after ${waitMs} ms`,
      t0,
      {
        bound: boundLabel("shutdownTimeoutMs"),
        figures: { handlerSignalled: Number((stats as { signalled?: number }).signalled ?? 0) },
      },
    ),
    ended: done,
  };
}
