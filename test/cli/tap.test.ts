// `ttrpc tap` as a transparent proxy: calls through it to the Go ttrpc peer behave exactly as
// direct ones while every frame is printed and decoded; and arbitrary bytes — malformed envelopes,
// unknown frame types, frames over the limit, chunks cut anywhere — are forwarded unchanged in both
// directions while the tap prints them and keeps going.
import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { interopSuite, socketPath, startGoServer, tempDir } from "../interop/peer.js";
import { INTEROP, PATH_WITH_PROTOC, start, ttrpc } from "./helpers.js";

const T = { timeout: 90_000 };
const env = { PATH: PATH_WITH_PROTOC };

function frame(streamId: number, type: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt32BE(data.length, 0);
  h.writeUInt32BE(streamId, 4);
  h[8] = type;
  h[9] = flags;
  return Buffer.concat([h, data]);
}

/** A protobuf length-delimited field. */
function ld(field: number, bytes: Buffer | string): Buffer {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
}

interopSuite("ttrpc tap", (bin) => {
  const dir = tempDir();

  test(
    "calls through the tap work as direct calls; every frame is printed and decoded (--json)",
    T,
    async (t) => {
      const go = await startGoServer(bin, socketPath(dir, "go"));
      t.after(() => go.kill());
      const listen = socketPath(dir, "tap");
      const tap = start(
        ["tap", "--listen", listen, "--target", `unix://${go.socket}`, "--json", ...INTEROP],
        env,
      );
      t.after(() => tap.stop());
      await tap.waitFor((l) => l.startsWith("ttrpc tap: listening on"));

      const unary = await ttrpc(
        [
          "call",
          listen,
          "ttrpc.interop.v1.Streaming/Echo",
          ...INTEROP,
          "-d",
          '{"seq":1,"msg":"x"}',
          "-H",
          "k=v",
          "--timeout",
          "5s",
          "--compact",
        ],
        { env },
      );
      assert.equal(unary.stdout, '{"seq":2,"msg":"x"}\n', unary.stderr);
      const stream = await ttrpc(
        ["call", listen, "ttrpc.interop.v1.Streaming/EchoStream", ...INTEROP],
        { env, input: '{"seq":1}\n{"seq":2}\n' },
      );
      assert.equal(stream.stdout, '{"seq":2}\n{"seq":3}\n', stream.stderr);
      const fail = await ttrpc(
        [
          "call",
          listen,
          "ttrpc.interop.v1.Interop/Fail",
          ...INTEROP,
          "-d",
          '{"code":6,"message":"dup"}',
        ],
        { env },
      );
      assert.equal(fail.code, 6);

      await tap.waitFor((l) => l.includes('"status":{"code":6'));
      const events = tap.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const req = events.find((e) => e.type === "request" && e.method === "Echo");
      assert.equal(req.dir, "client->server");
      assert.equal(req.service, "ttrpc.interop.v1.Streaming");
      assert.deepEqual(req.metadata, [["k", "v"]]);
      assert.equal(req.timeoutNano, "5000000000");
      assert.deepEqual(req.payload, { seq: 1, msg: "x" });
      const res = events.find(
        (e) => e.type === "response" && e.rpc === "ttrpc.interop.v1.Streaming/Echo",
      );
      assert.equal(res.dir, "server->client");
      assert.equal(res.stream, req.stream);
      assert.deepEqual(res.status, { code: 0, name: "OK", message: "" });
      assert.deepEqual(res.payload, { seq: 2, msg: "x" });
      const data = events.filter(
        (e) => e.type === "data" && e.rpc === "ttrpc.interop.v1.Streaming/EchoStream",
      );
      // Each direction in order; the two directions interleave as the peers run.
      const side = (dir: string) =>
        data.filter((e) => e.dir === dir).map((e) => [e.payload ?? null, e.flagNames]);
      const end = [null, ["remote-closed", "no-data"]];
      assert.deepEqual(side("client->server"), [[{ seq: 1 }, []], [{ seq: 2 }, []], end]);
      assert.deepEqual(side("server->client"), [[{ seq: 2 }, []], [{ seq: 3 }, []], end]);
      const failed = events.find((e) => e.type === "response" && e.status?.code === 6);
      assert.deepEqual(failed.status, { code: 6, name: "ALREADY_EXISTS", message: "dup" });
      assert.ok(events.some((e) => e.event === "open") && events.some((e) => e.event === "closed"));
    },
  );

  test(
    "text output: one line per frame with direction, stream, type, method, status and payload",
    T,
    async (t) => {
      const go = await startGoServer(bin, socketPath(dir, "go"));
      t.after(() => go.kill());
      const listen = socketPath(dir, "tap");
      const tap = start(["tap", "--listen", listen, "--target", go.socket, ...INTEROP], env);
      t.after(() => tap.stop());
      await tap.waitFor((l) => l.startsWith("ttrpc tap: listening on"));
      const r = await ttrpc(
        [
          "call",
          listen,
          "ttrpc.interop.v1.Streaming/DivideStream",
          ...INTEROP,
          "-d",
          '{"sum":3,"num":2}',
        ],
        { env },
      );
      assert.equal(r.stdout, '{"add":1}\n{"add":2}\n');
      await tap.waitFor((l) => / <- #1 DATA \[remote-closed,no-data\]/.test(l));
      const text = tap.lines.join("\n");
      assert.match(
        text,
        / c1 -> #1 REQUEST \[remote-closed\] ttrpc\.interop\.v1\.Streaming\/DivideStream len=\d+ \{"sum":3,"num":2\}/,
      );
      assert.match(
        text,
        / c1 <- #1 DATA ttrpc\.interop\.v1\.Streaming\/DivideStream len=2 \{"add":1\}/,
      );
      assert.match(
        text,
        / c1 <- #1 DATA ttrpc\.interop\.v1\.Streaming\/DivideStream len=2 \{"add":2\}/,
      );
      // SIGTERM ends the tap with exit 0 and removes its socket.
      assert.equal(await tap.stop(), 0);
    },
  );

  test(
    "bytes are forwarded unchanged both ways; malformed frames are printed and forwarded",
    T,
    async (t) => {
      // A recorder in place of a server: it keeps what it receives and sends canned bytes back.
      const target = socketPath(dir, "rec");
      const received: Buffer[] = [];
      let serverSide: Socket | undefined;
      const recorder = createServer((s) => {
        serverSide = s;
        s.on("data", (d) => received.push(d));
      });
      await new Promise<void>((resolve) => recorder.listen(target, resolve));
      t.after(() => recorder.close());
      const listen = socketPath(dir, "tap");
      const tap = start(
        [
          "tap",
          "--listen",
          listen,
          "--target",
          target,
          "--json",
          "--max-msg-size",
          "64",
          ...INTEROP,
        ],
        env,
      );
      t.after(() => tap.stop());
      await tap.waitFor((l) => l.startsWith("ttrpc tap: listening on"));

      const request = Buffer.concat([
        ld(1, "ttrpc.interop.v1.Streaming"),
        ld(2, "Echo"),
        ld(3, Buffer.from([0x08, 0x05])),
      ]);
      const toServer = Buffer.concat([
        frame(1, 1, 0, Buffer.from([0xff, 0xff, 0xff])), // a Request envelope that does not decode
        frame(3, 0x7f, 0, Buffer.from("hello")), // an unknown frame type
        frame(5, 1, 0, Buffer.alloc(100, 1)), // over --max-msg-size: shown without its payload
        frame(7, 1, 0, request), // a good request after all that
      ]);
      const toClient = Buffer.concat([
        frame(1, 2, 0, Buffer.from([0x0a, 0x05, 0x08])), // a Response whose status is cut short
        frame(7, 2, 0, ld(2, Buffer.from([0x08, 0x06]))), // the good reply
        Buffer.from([0, 0, 0]), // and the start of a header the connection ends inside
      ]);
      const client = createConnection(listen);
      t.after(() => client.destroy());
      const got: Buffer[] = [];
      client.on("data", (d) => got.push(d));
      await new Promise<void>((resolve) => client.once("connect", () => resolve()));
      // Cut at odd places: inside a header, inside a payload.
      for (const [a, b] of [
        [0, 4],
        [4, 17],
        [17, 40],
        [40, toServer.length],
      ] as const) {
        client.write(toServer.subarray(a, b));
        await new Promise((r) => setTimeout(r, 20));
      }
      const until = async (cond: () => boolean, what: string) => {
        for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(cond(), what);
      };
      await until(
        () => Buffer.concat(received).length === toServer.length,
        "the recorder got every byte",
      );
      assert.deepEqual(Buffer.concat(received), toServer);
      serverSide?.write(toClient.subarray(0, 7));
      await new Promise((r) => setTimeout(r, 20));
      serverSide?.end(toClient.subarray(7));
      await until(() => Buffer.concat(got).length === toClient.length, "the client got every byte");
      assert.deepEqual(Buffer.concat(got), toClient);

      await tap.waitFor((l) => l.includes('"event":"truncated"'));
      const events = tap.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const frames = events.filter((e) => e.type !== undefined);
      assert.equal(frames.length, 6);
      assert.ok(frames[0].malformed, "the bad envelope is malformed");
      assert.equal(frames[1].type, "unknown(127)");
      assert.equal(frames[1].dataHex, Buffer.from("hello").toString("hex"));
      assert.equal(frames[2].oversize, true);
      assert.deepEqual(frames[3].payload, { seq: 5 });
      assert.ok(frames[4].malformed, "the cut status is malformed");
      assert.deepEqual(frames[5].payload, { seq: 6 });
    },
  );
});
