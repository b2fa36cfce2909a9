import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_MAX_MESSAGE_BYTES, FrameReader, type FrameSink, writeHeader } from "./frame.js";

interface Seen {
  frames: [number, number, number, string][];
  oversize: [number, number, number, number][];
}

function reader(max = DEFAULT_MAX_MESSAGE_BYTES): { reader: FrameReader; seen: Seen } {
  const seen: Seen = { frames: [], oversize: [] };
  const sink: FrameSink = {
    frame: (id, type, flags, data, start, end) =>
      seen.frames.push([id, type, flags, data.toString("hex", start, end)]),
    oversize: (id, type, flags, length) => seen.oversize.push([id, type, flags, length]),
  };
  return { reader: new FrameReader(sink, max), seen };
}

describe("frame header", () => {
  it("encodes big-endian length and stream id, then type and flags (ttrpc-rust golden vector)", () => {
    const buf = Buffer.alloc(10);
    writeHeader(buf, 0, 0x43, 0x123456, 1, 0xef);
    assert.equal(buf.toString("hex"), "00000043001234560" + "1ef");
  });

  it("decodes the golden header", () => {
    const { reader: r, seen } = reader();
    const frame = Buffer.concat([
      Buffer.from("00000003001234560" + "1ef", "hex"),
      Buffer.from("abcdef", "hex"),
    ]);
    r.push(frame);
    assert.deepEqual(seen.frames, [[0x123456, 1, 0xef, "abcdef"]]);
  });
});

describe("FrameReader", () => {
  const frames = Buffer.from(
    // stream 1 request "0102", stream 3 data with no payload (flags 5), stream 5 response "ff"
    "00000002000000010100" + "0102" + "00000000000000030305" + "00000001000000050200" + "ff",
    "hex",
  );
  const expected = [
    [1, 1, 0, "0102"],
    [3, 3, 5, ""],
    [5, 2, 0, "ff"],
  ];

  it("cuts several frames out of one chunk", () => {
    const { reader: r, seen } = reader();
    r.push(frames);
    assert.deepEqual(seen.frames, expected);
    assert.equal(r.midFrame, false);
  });

  it("reassembles frames fed one byte at a time", () => {
    const { reader: r, seen } = reader();
    for (const byte of frames) r.push(Buffer.from([byte]));
    assert.deepEqual(seen.frames, expected);
  });

  it("reassembles at every split point", () => {
    for (let cut = 1; cut < frames.length; cut++) {
      const { reader: r, seen } = reader();
      r.push(frames.subarray(0, cut));
      r.push(frames.subarray(cut));
      assert.deepEqual(seen.frames, expected, `split at ${cut}`);
    }
  });

  it("knows when it is in the middle of a frame", () => {
    const { reader: r } = reader();
    r.push(frames.subarray(0, 5));
    assert.equal(r.midFrame, true);
    r.push(frames.subarray(5, 11));
    assert.equal(r.midFrame, true);
  });

  it("accepts exactly the limit and reports one byte more as oversize", () => {
    const { reader: r, seen } = reader(16);
    const ok = Buffer.alloc(26);
    writeHeader(ok, 0, 16, 1, 1, 0);
    r.push(ok);
    assert.equal(seen.frames.length, 1);
    const big = Buffer.alloc(27);
    writeHeader(big, 0, 17, 3, 1, 0);
    r.push(big);
    assert.deepEqual(seen.oversize, [[3, 1, 0, 17]]);
    assert.equal(seen.frames.length, 1);
  });

  it("skips an oversize frame's data as it arrives and resumes on the next frame", () => {
    const { reader: r, seen } = reader(8);
    const big = Buffer.alloc(10);
    writeHeader(big, 0, 1000, 7, 3, 0);
    r.push(big);
    assert.deepEqual(seen.oversize, [[7, 3, 0, 1000]]);
    for (let i = 0; i < 10; i++) r.push(Buffer.alloc(100, 0xaa));
    const next = Buffer.alloc(11);
    writeHeader(next, 0, 1, 9, 2, 0);
    next[10] = 0x42;
    r.push(next);
    assert.deepEqual(seen.frames, [[9, 2, 0, "42"]]);
  });

  it("does not allocate for a header announcing 4 GiB", () => {
    const { reader: r, seen } = reader();
    const before = process.memoryUsage().arrayBuffers;
    r.push(Buffer.from("ffffffff000000010100", "hex"));
    assert.deepEqual(seen.oversize, [[1, 1, 0, 0xffffffff]]);
    // A 4 GiB buffer cannot hide in arrayBuffers: allow a generous 1 MiB of noise.
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
    assert.equal(r.midFrame, true);
  });
});
