// The generated service definition works with the ttrpc engine over a real unix socket, in all
// four call kinds, and talks to a protobuf-es GenService of the same .proto on the other side.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type AnyService, connect, createClient, createServer } from "ttrpc";
import * as es from "./gen/es/feature3_pb.js";
import * as st from "./gen/ttrpc/feature3_ttrpc.js";
import { Empty } from "./gen/ttrpc/google/protobuf/empty_ttrpc.js";

const msg = (i: number): st.Scalars =>
  st.Scalars.create({ fInt32: i, fString: `m${i}`, fInt64: BigInt(i) << 40n, fEnum: st.Color.RED });

function staticImpl() {
  return {
    unary(req: st.Scalars) {
      return { ...req, fInt32: req.fInt32 + 1 };
    },
    *serverStream(req: st.Scalars) {
      for (let i = 0; i < req.fInt32; i++) {
        yield st.Everything.create({
          scalars: msg(i),
          oneofs: st.Oneofs.create({ kind: { case: "kString", value: `s${i}` } }),
        });
      }
    },
    async clientStream(reqs: AsyncIterable<st.Everything>) {
      let n = 0;
      for await (const _ of reqs) n++;
      assert.equal(n, 3);
      return Empty.create();
    },
    async *bidi(reqs: AsyncIterable<st.Oneofs>) {
      for await (const r of reqs) yield r;
    },
  };
}

function esImpl() {
  return {
    unary(req: es.Scalars) {
      return { ...req, fInt32: req.fInt32 + 1 };
    },
    async *serverStream(req: es.Scalars) {
      for (let i = 0; i < req.fInt32; i++) {
        yield {
          scalars: { fInt32: i, fString: `m${i}`, fInt64: BigInt(i) << 40n, fEnum: es.Color.RED },
          oneofs: { kind: { case: "kString" as const, value: `s${i}` } },
        };
      }
    },
    async clientStream(reqs: AsyncIterable<es.Everything>) {
      let n = 0;
      for await (const _ of reqs) n++;
      assert.equal(n, 3);
      return {};
    },
    async *bidi(reqs: AsyncIterable<es.Oneofs>) {
      for await (const r of reqs) yield r;
    },
  };
}

async function serve(t: { after(fn: () => unknown): void }, service: AnyService, impl: object) {
  const dir = mkdtempSync(join(tmpdir(), "pgt-svc-"));
  const path = join(dir, "s.sock");
  const server = createServer();
  // biome-ignore lint/suspicious/noExplicitAny: the implementation matches one of two service types
  server.register(service as any, impl as any);
  await server.listen(path);
  const conn = await connect(path);
  t.after(async () => {
    await conn.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return conn;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("generated services over ttrpc", { timeout: 30_000 }, () => {
  test("static client → static server, all call kinds", { timeout: 10_000 }, async (t) => {
    const conn = await serve(t, st.TestService, staticImpl());
    const c = createClient(st.TestService, conn);
    const r: st.Scalars = await c.unary(msg(41));
    assert.equal(r.fInt32, 42);
    assert.equal(r.fInt64, 41n << 40n);
    const items = await collect(c.serverStream(msg(3)));
    assert.deepEqual(
      items.map((e) => [e.scalars?.fString, e.oneofs?.kind.value]),
      [
        ["m0", "s0"],
        ["m1", "s1"],
        ["m2", "s2"],
      ],
    );
    const empty: Empty = await c.clientStream([0, 1, 2].map(() => st.Everything.create()));
    assert.deepEqual(empty, {});
    const echoed = await collect(
      c.bidi([st.Oneofs.create({ other: { case: "oBool", value: true }, after: "x" })]),
    );
    assert.equal(echoed[0]?.other.case, "oBool");
    assert.equal(echoed[0]?.after, "x");
  });

  test("static client → protobuf-es server", { timeout: 10_000 }, async (t) => {
    const conn = await serve(t, es.TestService, esImpl());
    const c = createClient(st.TestService, conn);
    assert.equal((await c.unary(msg(1))).fInt32, 2);
    const items = await collect(c.serverStream(msg(2)));
    assert.equal(items[1]?.scalars?.fEnum, st.Color.RED);
    assert.deepEqual(items[1]?.oneofs?.kind, { case: "kString", value: "s1" });
    await c.clientStream([0, 1, 2].map(() => st.Everything.create()));
  });

  test("protobuf-es client → static server", { timeout: 10_000 }, async (t) => {
    const conn = await serve(t, st.TestService, staticImpl());
    const c = createClient(es.TestService, conn);
    assert.equal((await c.unary({ fInt32: 7, fString: "é" })).fInt32, 8);
    const items = await collect(c.serverStream({ fInt32: 2 }));
    assert.equal(items[1]?.scalars?.fInt64, 1n << 40n);
    const echoed = await collect(c.bidi([{ kind: { case: "kInt64", value: -5n } }]));
    assert.deepEqual(echoed[0]?.kind, { case: "kInt64", value: -5n });
  });
});
