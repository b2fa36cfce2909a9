/**
 * Load: many connections; many calls over a hundred connections with none lost; many concurrent
 * calls and streams on one connection. Our client (this process) drives a target in another
 * process; afterwards the target's memory, handlers and resources must come back to the baseline.
 */
import { setTimeout as delay } from "node:timers/promises";
import { type Connection, connect, createClient } from "ttrpc";
import { Interop, Streaming } from "../../interop/service.js";
import { grown, leaks, ownResources, settle } from "../lib/leaks.js";
import { mib, RssSampler, type Target } from "../lib/procs.js";
import type { Row } from "../lib/report.js";
import { echoFrame, RawConn } from "../lib/wire.js";
import { Stress, u32s } from "../proc/stress-service.js";

/** A row plus the invariant violations the quick test asserts on. */
export interface Checked {
  row: Row;
  violations: string[];
}

function finish(
  t0: number,
  target: Target,
  row: Omit<Row, "ms" | "target">,
  violations: string[],
): Checked {
  return { row: { ...row, target: target.kind, ms: performance.now() - t0 }, violations };
}

/** n connections, each answering one call, held open together, then closed. */
export async function connections(target: Target, n: number): Promise<Checked> {
  const t0 = performance.now();
  const before = await target.stats(true);
  const sampler = new RssSampler(target.pid);
  const conns: RawConn[] = [];
  let answered = 0;
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, async () => {
        const c = new RawConn(target.socket);
        conns.push(c);
        await c.connected();
        const reply = c.reply(1);
        c.socket.write(echoFrame(1));
        if ((await reply) === 2) answered += 1;
      }),
    );
  }
  const peak = sampler.stop();
  for (const c of conns) c.destroy();
  await Promise.all(conns.map((c) => c.whenClosed));
  const after = await settle(target, before);
  const violations = leaks(before, after);
  if (answered !== n) violations.push(`${n - answered} connections not answered`);
  return finish(
    t0,
    target,
    {
      suite: "load",
      scenario: "connections",
      inputs: n,
      result: violations.length ? violations.join("; ") : `${answered}/${n} answered`,
      rssBaseMiB: mib(before.rss),
      rssMaxMiB: mib(peak),
      figures: {
        perConnKiB: Math.round((peak - before.rss) / n / 1024),
        rssAfterGcMiB: mib(after.rss),
        ...(after.heapUsed !== undefined
          ? { heapBaseMiB: mib(before.heapUsed ?? 0), heapAfterMiB: mib(after.heapUsed) }
          : {}),
      },
    },
    violations,
  );
}

async function openConns(socket: string, n: number): Promise<Connection[]> {
  return Promise.all(Array.from({ length: n }, () => connect(socket)));
}

async function closeConns(conns: Connection[]): Promise<string[]> {
  const open = conns.reduce((a, c) => a + c.activeStreams, 0);
  await Promise.all(conns.map((c) => c.close()));
  return open > 0 ? [`client streams still open: ${open}`] : [];
}

/** `total` unary calls over `connCount` connections, `depth` in flight per connection; none may be lost. */
export async function calls(
  target: Target,
  total: number,
  connCount: number,
  depth: number,
): Promise<Checked> {
  const t0 = performance.now();
  const before = await target.stats(true);
  const ownBefore = ownResources();
  const sampler = new RssSampler(target.pid);
  const conns = await openConns(target.socket, connCount);
  let issued = 0;
  let ok = 0;
  const errors = new Map<string, number>();
  const tStart = performance.now();
  await Promise.all(
    conns.flatMap((conn) => {
      const client = createClient(Streaming, conn);
      return Array.from({ length: depth }, async () => {
        while (issued < total) {
          const seq = issued++;
          try {
            const r = await client.echo({ seq, msg: "" });
            if (r.seq === seq + 1) ok += 1;
            else errors.set("wrong reply", (errors.get("wrong reply") ?? 0) + 1);
          } catch (e) {
            const k = String((e as Error).message).slice(0, 60);
            errors.set(k, (errors.get(k) ?? 0) + 1);
          }
        }
      });
    }),
  );
  const secs = (performance.now() - tStart) / 1000;
  const peak = sampler.stop();
  const violations = await closeConns(conns);
  const after = await settle(target, before);
  violations.push(...leaks(before, after));
  await delay(50);
  violations.push(...grown(ownBefore, ownResources()).map((g) => `client ${g}`));
  if (ok !== total) violations.push(`lost ${total - ok}: ${JSON.stringify([...errors])}`);
  return finish(
    t0,
    target,
    {
      suite: "load",
      scenario: "unary-calls",
      inputs: total,
      result: violations.length ? violations.join("; ") : "ok, 0 lost",
      rssBaseMiB: mib(before.rss),
      rssMaxMiB: mib(peak),
      figures: {
        conns: connCount,
        depth,
        lost: total - ok,
        callsPerSec: Math.round(total / secs),
        rssAfterGcMiB: mib(after.rss),
      },
    },
    violations,
  );
}

/** n calls in flight at once on one connection (each held ~holdMs by the server). */
export async function concurrentCalls(
  target: Target,
  n: number,
  holdMs = n >= 5000 ? 1500 : 300,
): Promise<Checked> {
  const t0 = performance.now();
  const before = await target.stats(true);
  const sampler = new RssSampler(target.pid);
  const [conn] = await openConns(target.socket, 1);
  if (conn === undefined) throw new Error("no connection");
  let ok = 0;
  const all =
    target.kind === "ts"
      ? Array.from({ length: n }, () =>
          createClient(Stress, conn)
            .hold(u32s(holdMs))
            .then(() => void ok++),
        )
      : Array.from({ length: n }, (_, i) =>
          createClient(Interop, conn)
            .sleep({ ms: holdMs, tag: `c${i}` })
            .then(() => void ok++),
        );
  await delay(holdMs / 2);
  const during = target.kind === "ts" ? await target.stats(false) : undefined;
  await Promise.allSettled(all);
  const peak = sampler.stop();
  const violations = await closeConns([conn]);
  const after = await settle(target, before);
  violations.push(...leaks(before, after));
  if (ok !== n) violations.push(`failed ${n - ok}`);
  return finish(
    t0,
    target,
    {
      suite: "load",
      scenario: "concurrent-calls-1-conn",
      inputs: n,
      result: violations.length ? violations.join("; ") : "ok",
      rssBaseMiB: mib(before.rss),
      rssMaxMiB: mib(peak),
      figures: {
        ...(during ? { handlersAtOnce: during.handlers ?? 0 } : {}),
        rssAfterGcMiB: mib(after.rss),
      },
    },
    violations,
  );
}

/** n bidi streams at once on one connection, `messages` echoed on each. */
export async function concurrentStreams(
  target: Target,
  n: number,
  messages = 10,
): Promise<Checked> {
  const t0 = performance.now();
  const before = await target.stats(true);
  const sampler = new RssSampler(target.pid);
  const [conn] = await openConns(target.socket, 1);
  if (conn === undefined) throw new Error("no connection");
  let complete = 0;
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      let got = 0;
      try {
        if (target.kind === "ts") {
          const reqs = Array.from({ length: messages }, (_, j) => u32s(i, j));
          for await (const _m of createClient(Stress, conn).echo(reqs)) got += 1;
        } else {
          const reqs = Array.from({ length: messages }, (_, j) => ({ seq: j, msg: `s${i}` }));
          for await (const _m of createClient(Streaming, conn).echoStream(reqs)) got += 1;
        }
      } catch (e) {
        if (errors.length < 3) errors.push(String((e as Error).message).slice(0, 80));
      }
      if (got === messages) complete += 1;
    }),
  );
  const peak = sampler.stop();
  const violations = await closeConns([conn]);
  const after = await settle(target, before);
  violations.push(...leaks(before, after));
  if (complete !== n) violations.push(`incomplete ${n - complete} ${JSON.stringify(errors)}`);
  return finish(
    t0,
    target,
    {
      suite: "load",
      scenario: "concurrent-streams-1-conn",
      inputs: n,
      result: violations.length ? violations.join("; ") : "ok",
      rssBaseMiB: mib(before.rss),
      rssMaxMiB: mib(peak),
      figures: { messagesPerStream: messages, rssAfterGcMiB: mib(after.rss) },
    },
    violations,
  );
}
