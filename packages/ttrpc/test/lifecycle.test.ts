// Issue 8 (2) and (3): streams that end (the half-close goes out whenever the client's request side
// completes, even after it stopped reading) and a shutdown that always ends.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import {
  connect,
  createClient,
  createServer,
  createWritableIterable,
  type HandlerContext,
  type ServerOptions,
} from "../src/index.js";
import { deferred, sleep } from "./helpers.js";
import { b, codeOf, collect, S, settle, tmpDir, Wire } from "./wire/helpers.js";

async function serve(t: TestContext, impl: object, options?: ServerOptions) {
  const path = join(tmpDir(t), "s.sock");
  const server = createServer(options);
  server.register(Wire, impl);
  await server.listen(path);
  t.after(() => server.close());
  const conn = await connect(path);
  t.after(() => conn.close());
  return { server, path, conn, wire: createClient(Wire, conn) };
}

/** A bidi echo handler that counts how many of its calls are running. */
function echoCounter() {
  const state = { running: 0, ended: 0, allEnded: deferred() };
  const impl = {
    async *bidi(reqs: AsyncIterable<Uint8Array>) {
      state.running++;
      try {
        for await (const m of reqs) yield m;
      } finally {
        state.running--;
        state.ended++;
        if (state.running === 0) state.allEnded.resolve();
      }
    },
  };
  return { state, impl };
}

describe("streams that end (issue 8 (2))", { timeout: 20_000 }, () => {
  test("breaking out of a bidi and then closing its writable requests half-closes: the handler ends", {
    timeout: 15_000,
  }, async (t) => {
    const { state, impl } = echoCounter();
    const { wire, conn } = await serve(t, impl);
    const n = 20;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const reqs = createWritableIterable<Uint8Array>();
        reqs.write(b(`m${i}`));
        for await (const _ of wire.bidi(reqs)) break;
        reqs.close();
      }),
    );
    await state.allEnded.promise;
    assert.equal(state.ended, n);
    await sleep(50);
    assert.equal(conn.activeStreams, 0, "the client forgot every stream");
  });

  test("breaking out of a bidi fed by an array (already half-closed) leaves nothing running", {
    timeout: 15_000,
  }, async (t) => {
    const { state, impl } = echoCounter();
    const { wire, conn } = await serve(t, impl);
    for await (const _ of wire.bidi([b("a"), b("b"), b("c")])) break;
    await state.allEnded.promise;
    assert.equal(conn.activeStreams, 0);
  });

  test("requests written after the break still go out before the half-close", {
    timeout: 15_000,
  }, async (t) => {
    const got: string[] = [];
    const done = deferred();
    const { wire } = await serve(t, {
      async *bidi(reqs: AsyncIterable<Uint8Array>) {
        for await (const m of reqs) {
          got.push(Buffer.from(m).toString());
          yield m;
        }
        done.resolve();
      },
    });
    const reqs = createWritableIterable<Uint8Array>();
    reqs.write(b("1"));
    for await (const _ of wire.bidi(reqs)) break;
    reqs.write(b("2"));
    reqs.close();
    await done.promise;
    assert.deepEqual(got, ["1", "2"]);
  });

  test("an aborted request stream sends no half-close (the server must not commit partial input)", {
    timeout: 15_000,
  }, async (t) => {
    const signal = deferred<unknown>();
    let sawEnd = false;
    const { wire } = await serve(
      t,
      {
        async clientStream(reqs: AsyncIterable<Uint8Array>, ctx: HandlerContext) {
          ctx.signal.addEventListener("abort", () => signal.resolve(ctx.signal.reason));
          for await (const _ of reqs);
          sawEnd = true;
          return b("committed");
        },
      },
      { streamIdleTimeoutMs: 300 },
    );
    const reqs = createWritableIterable<Uint8Array>();
    const result = settle(wire.clientStream(reqs));
    reqs.write(b("part"));
    reqs.abort(new Error("changed my mind"));
    const r = await result;
    assert.equal(r.ok, false);
    // The server hears nothing more: its stream-idle timeout ends the call, never a half-close.
    assert.equal(codeOf(await signal.promise), S.DEADLINE_EXCEEDED);
    assert.equal(sawEnd, false);
  });

  test("no server-side call, timer or buffer outlives its stream", {
    timeout: 15_000,
  }, async (t) => {
    const { state, impl } = echoCounter();
    const { wire } = await serve(t, impl, { streamIdleTimeoutMs: 60_000 });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await collect(wire.bidi([b("warm")]));
    const before = timers();
    for (let i = 0; i < 20; i++) {
      const reqs = createWritableIterable<Uint8Array>();
      reqs.write(b("x"));
      const it = wire.bidi(reqs, { timeoutMs: 60_000 })[Symbol.asyncIterator]();
      await it.next();
      reqs.close();
      await it.return?.();
    }
    await state.allEnded.promise;
    await sleep(50);
    assert.equal(state.running, 0);
    assert.equal(timers(), before, "deadline and stream-idle timers were cleared");
  });
});

describe("a shutdown that always ends (issue 8 (3))", { timeout: 20_000 }, () => {
  function endless() {
    const seen = { signal: deferred<unknown>(), draining: deferred<unknown>() };
    const impl = {
      async *serverStream(_req: Uint8Array, ctx: HandlerContext) {
        ctx.signal.addEventListener("abort", () => seen.signal.resolve(ctx.signal.reason));
        ctx.draining.addEventListener("abort", () => seen.draining.resolve(ctx.draining.reason));
        for (;;) {
          yield b("tick");
          await sleep(20);
          if (ctx.signal.aborted) return;
        }
      },
    };
    return { seen, impl };
  }

  test("shutdown({ timeoutMs }) falls back to close(): handlers hear draining, then their signal", {
    timeout: 15_000,
  }, async (t) => {
    const { seen, impl } = endless();
    const { server, wire } = await serve(t, impl);
    const reading = collect(wire.serverStream(b("go")));
    await sleep(50);
    await server.shutdown({ timeoutMs: 200 });
    assert.equal(codeOf(await seen.draining.promise), S.UNAVAILABLE);
    assert.equal(codeOf(await seen.signal.promise), S.UNAVAILABLE);
    const r = await reading;
    assert.ok(r.items.length > 0);
    assert.equal(codeOf(r.error), S.UNAVAILABLE);
  });

  test("shutdown({ signal }) falls back to close() when the signal aborts", {
    timeout: 15_000,
  }, async (t) => {
    const { seen, impl } = endless();
    const { server, wire } = await serve(t, impl);
    const reading = collect(wire.serverStream(b("go")));
    await sleep(50);
    const controller = new AbortController();
    const done = server.shutdown({ signal: controller.signal });
    await seen.draining.promise;
    controller.abort();
    await done;
    assert.equal(codeOf((await reading).error), S.UNAVAILABLE);
  });

  test("the server's shutdownTimeoutMs bounds a shutdown() called without options", {
    timeout: 15_000,
  }, async (t) => {
    const { impl } = endless();
    const { server, wire } = await serve(t, impl, { shutdownTimeoutMs: 100 });
    const reading = collect(wire.serverStream(b("go")));
    await sleep(50);
    await server.shutdown();
    assert.equal(codeOf((await reading).error), S.UNAVAILABLE);
  });

  test("a handler that watches ctx.draining winds down, and the shutdown completes gracefully", {
    timeout: 15_000,
  }, async (t) => {
    const { wire, server } = await serve(t, {
      async *serverStream(_req: Uint8Array, ctx: HandlerContext) {
        while (!ctx.draining.aborted) {
          yield b("tick");
          await sleep(10);
        }
        yield b("bye");
      },
    });
    const reading = collect(wire.serverStream(b("go")));
    await sleep(50);
    await server.shutdown();
    const r = await reading;
    assert.equal(r.error, undefined, "the stream ended OK, not by close()");
    assert.equal(Buffer.from(r.items.at(-1) ?? []).toString(), "bye");
  });

  test("a call in flight reads ctx.draining as aborted once the shutdown began; new calls are refused", {
    timeout: 15_000,
  }, async (t) => {
    const release = deferred();
    const { wire, server } = await serve(t, {
      unary: async (_m: Uint8Array, ctx: HandlerContext) => {
        await release.promise;
        return b(String(ctx.draining.aborted));
      },
    });
    const first = wire.unary(b("a"));
    await sleep(30);
    const done = server.shutdown();
    const refused = await settle(wire.unary(b("b")));
    assert.equal(codeOf(!refused.ok && refused.error), S.UNAVAILABLE);
    release.resolve();
    assert.equal(Buffer.from(await first).toString(), "true");
    await done;
  });
});
