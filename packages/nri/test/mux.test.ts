/**
 * The NRI mux over a real unix socket pair: how writes are cut into frames (Go's bufio rule),
 * reads of any frame size, unknown ids, limits, back-pressure and closing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { Mux, MuxError } from "../src/index.js";

/** A connected unix socket pair: [ours, theirs]. */
async function socketPair(t: TestContext): Promise<[Socket, Socket]> {
  const dir = mkdtempSync(join(tmpdir(), "nri-mux-"));
  const path = join(dir, "s.sock");
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const ours = createConnection(path);
  await new Promise((resolve) => ours.once("connect", resolve));
  const theirs = await accepted;
  t.after(() => {
    ours.destroy();
    theirs.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return [ours, theirs];
}

/** Parses raw mux frames from what `socket` receives. */
function frames(socket: Socket): Array<{ id: number; data: Buffer }> {
  const out: Array<{ id: number; data: Buffer }> = [];
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4)) {
      const len = buf.readUInt32BE(4);
      out.push({ id: buf.readUInt32BE(0), data: buf.subarray(8, 8 + len) });
      buf = buf.subarray(8 + len);
    }
  });
  return out;
}

function ttrpcMessage(payloadBytes: number, fill = 0x61): Buffer {
  const m = Buffer.alloc(10 + payloadBytes, fill);
  m.writeUInt32BE(payloadBytes, 0);
  m.writeUInt32BE(1, 4);
  m[8] = 1;
  m[9] = 0;
  return m;
}

function muxFrame(id: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id, 0);
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 400) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("writes: a message of <= 4096 bytes is one frame, a larger one 4096 + the rest", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const got = frames(theirs);
  const mux = new Mux(ours);
  const conn = mux.open(2);
  const sizes = [0, 100, 4086, 4087, 10_820, 1 << 20];
  // Header and payload in separate writes, and byte by byte for one message: framing follows
  // message boundaries, not write boundaries.
  for (const s of sizes) {
    const m = ttrpcMessage(s);
    conn.write(m.subarray(0, 3));
    conn.write(m.subarray(3, 10));
    conn.write(m.subarray(10));
  }
  for (const byte of ttrpcMessage(20)) conn.write(Buffer.from([byte]));
  const expected = [10, 110, 4096, 4096, 1, 4096, 6734, 4096, (1 << 20) + 10 - 4096, 30];
  await until(() => got.length >= expected.length, "all frames");
  assert.deepEqual(
    got.map((f) => f.data.length),
    expected,
  );
  assert.ok(got.every((f) => f.id === 2));
  const all = Buffer.concat(got.map((f) => f.data));
  assert.equal(all.length, sizes.reduce((n, s) => n + s + 10, 0) + 30);
  mux.close();
});

test("reads: frames of any size, split anywhere, reassemble into one byte stream per id", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours);
  const one: Buffer[] = [];
  const two: Buffer[] = [];
  mux.open(1).on("data", (d: Buffer) => one.push(d));
  mux.open(2).on("data", (d: Buffer) => two.push(d));
  const big = Buffer.alloc(300_000, 7);
  const wire = Buffer.concat([
    muxFrame(1, Buffer.from("abc")),
    muxFrame(9, Buffer.from("dropped: nobody opened 9")),
    muxFrame(2, big),
    muxFrame(1, Buffer.alloc(0)),
    muxFrame(1, Buffer.from("def")),
  ]);
  // Dribble it in odd-sized pieces.
  for (let off = 0; off < wire.length; off += 997) theirs.write(wire.subarray(off, off + 997));
  await until(
    () => Buffer.concat(two).length === big.length && Buffer.concat(one).length === 6,
    "data",
  );
  assert.equal(Buffer.concat(one).toString(), "abcdef");
  assert.ok(Buffer.concat(two).equals(big));
  mux.close();
});

test("an oversized frame header closes the trunk with FRAME_TOO_LARGE", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours, { maxFrameBytes: 1000 });
  const conn = mux.open(1);
  const failed = new Promise<Error>((resolve) => conn.once("error", resolve));
  theirs.write(muxFrame(1, Buffer.alloc(1001)));
  const err = await failed;
  assert.ok(err instanceof MuxError);
  assert.equal(err.code, "FRAME_TOO_LARGE");
  assert.equal(await mux.closed, err);
  assert.equal(mux.isClosed, true);
});

test("a connection nobody reads pauses the trunk; reading resumes it; nothing is lost", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours, { maxBufferedBytes: 128 * 1024 });
  const slow = mux.open(1);
  const payload = Buffer.alloc(2 << 20, 3);
  for (let off = 0; off < payload.length; off += 50_000) {
    theirs.write(muxFrame(1, payload.subarray(off, off + 50_000)));
  }
  await until(() => ours.isPaused(), "trunk paused");
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(slow.readableLength <= 128 * 1024, `buffered ${slow.readableLength}`);
  let received = 0;
  slow.on("data", (d: Buffer) => {
    received += d.length;
  });
  await until(() => received === payload.length, "all data after resume");
  mux.close();
});

test("a connection over its byte bound fails alone (BUFFER_FULL); the others go on", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours, { maxBufferedBytes: 1000 });
  const full = mux.open(1);
  const fine = mux.open(2);
  const got: Buffer[] = [];
  fine.on("data", (d: Buffer) => got.push(d));
  const failed = new Promise<Error>((resolve) => full.once("error", resolve));
  theirs.write(
    Buffer.concat([muxFrame(1, Buffer.alloc(5000)), muxFrame(2, Buffer.from("still here"))]),
  );
  const err = await failed;
  assert.ok(err instanceof MuxError);
  assert.equal(err.code, "BUFFER_FULL");
  await until(() => Buffer.concat(got).toString() === "still here", "the other connection");
  assert.equal(mux.isClosed, false);
  mux.close();
});

test("closing the mux closes the trunk and every connection; the peer sees the end", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours);
  const a = mux.open(1);
  const b = mux.open(2);
  const closed = Promise.all([a, b].map((c) => new Promise((r) => c.once("close", r))));
  const peerEnd = new Promise((r) => theirs.once("close", r));
  theirs.resume();
  mux.close();
  await closed;
  await peerEnd;
  assert.equal(await mux.closed, undefined);
  assert.throws(
    () => mux.open(3),
    (e: unknown) => e instanceof MuxError && e.code === "TRUNK_CLOSED",
  );
});

test("the peer closing the trunk closes every connection", { timeout: 10_000 }, async (t) => {
  const [ours, theirs] = await socketPair(t);
  const mux = new Mux(ours);
  const a = mux.open(1);
  const closed = new Promise((r) => a.once("close", r));
  theirs.end();
  await closed;
  assert.equal(mux.isClosed, true);
});

test("bad ids and oversized outgoing messages are typed errors", { timeout: 10_000 }, async (t) => {
  const [ours] = await socketPair(t);
  const mux = new Mux(ours, { maxMessageBytes: 100 });
  for (const id of [0, -1, 1.5, 2 ** 32]) {
    assert.throws(
      () => mux.open(id),
      (e: unknown) => e instanceof MuxError && e.code === "INVALID_CONN_ID",
    );
  }
  assert.equal(mux.open(5), mux.open(5), "open returns the open connection");
  const conn = mux.open(1);
  const failed = new Promise<Error>((resolve) => conn.once("error", resolve));
  conn.write(ttrpcMessage(200));
  const err = await failed;
  assert.ok(err instanceof MuxError && err.code === "MESSAGE_TOO_LARGE");
  assert.equal(mux.isClosed, false, "only that connection failed");
  assert.throws(() => new Mux(ours, { maxBufferedBytes: 0 }), RangeError);
  mux.close();
});

test("a connection destroyed in the middle of a large message closes the whole mux", {
  timeout: 10_000,
}, async (t) => {
  const [ours, theirs] = await socketPair(t);
  theirs.resume();
  const mux = new Mux(ours);
  const half = mux.open(1);
  const other = mux.open(2);
  const otherError = new Promise<Error>((r) => other.once("error", r));
  const otherClosed = new Promise((r) => other.once("close", r));
  // Header and head of a 10 KB message: the remainder frame is announced, its bytes never come.
  await new Promise((r) => half.write(ttrpcMessage(10_000).subarray(0, 5000), r));
  half.destroy();
  const err = await mux.closed;
  assert.ok(err instanceof MuxError && err.code === "TRUNK_CLOSED");
  assert.equal(await otherError, err, "the other connection learns why");
  await otherClosed;
});
