// The CLI's small pure parts: address forms, durations and sizes, name suggestions, the histogram,
// the non-ttrpc peer check and the tap's frame reader.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { socketPath } from "../src/address.js";
import { duration, size } from "../src/args.js";
import { judgeFirstHeader } from "../src/conn.js";
import { Histogram } from "../src/histogram.js";
import { suggest } from "../src/suggest.js";
import { decodeRequest, FrameReader, flagNames } from "../src/wire.js";

const T = { timeout: 10_000 };

describe("cli units", () => {
  test("addresses: a path, unix://, unix:, ttrpc+unix://; others refused", T, () => {
    assert.equal(socketPath("/run/x.sock"), "/run/x.sock");
    assert.equal(socketPath("unix:///run/x.sock"), "/run/x.sock");
    assert.equal(socketPath("unix:/run/x.sock"), "/run/x.sock");
    assert.equal(socketPath("ttrpc+unix:///run/x.sock"), "/run/x.sock");
    assert.throws(() => socketPath("tcp://1.2.3.4:5"), /unsupported address/);
    assert.throws(() => socketPath("unix://"), /empty socket path/);
    assert.throws(() => socketPath("unix://@abstract"), /abstract sockets/);
  });

  test("durations and sizes", T, () => {
    assert.equal(duration("--timeout", "5s"), 5000);
    assert.equal(duration("--timeout", "300ms"), 300);
    assert.equal(duration("--timeout", "1m30s"), 90_000);
    assert.equal(duration("--timeout", "2.5"), 2500);
    assert.throws(() => duration("--timeout", "5 parsecs"), /not a duration/);
    assert.equal(size("--max-msg-size", "4MiB"), 4 << 20);
    assert.equal(size("--max-msg-size", "64k"), 65536);
    assert.equal(size("--max-msg-size", "100"), 100);
    assert.throws(() => size("--max-msg-size", "lots"), /not a size/);
  });

  test("suggestions ignore case and underscores, and rank by distance", T, () => {
    assert.deepEqual(suggest("exitstatus", ["exit_status", "exitedAt", "pid"]), ["exit_status"]);
    assert.deepEqual(suggest("Stat", ["State", "Stats", "Start", "Delete"]), [
      "Start",
      "State",
      "Stats",
    ]);
    assert.deepEqual(suggest("zzzzzz", ["State"]), []);
    assert.deepEqual(suggest("Task", ["containerd.task.v2.Task"]), ["containerd.task.v2.Task"]);
  });

  test(
    "the histogram: exact min/max/mean, percentiles within a bucket (~6%), bins add up",
    T,
    () => {
      const h = new Histogram();
      for (let i = 1; i <= 1000; i++) h.record(i * 10);
      assert.equal(h.min, 10);
      assert.equal(h.max, 10_000);
      assert.equal(h.mean, 5005);
      for (const [p, exact] of [
        [50, 5000],
        [90, 9000],
        [99, 9900],
      ] as const) {
        const got = h.percentile(p);
        assert.ok(got >= exact && got <= exact * 1.07, `p${p} = ${got}, exact ${exact}`);
      }
      assert.equal(h.percentile(100), 10_000);
      assert.equal(
        h.bins(10).reduce((a, b) => a + b.count, 0),
        1000,
      );
    },
  );

  test(
    "first frame headers: a ttrpc response passes; HTTP/2, HTTP/1 and even stream ids do not",
    T,
    () => {
      assert.equal(judgeFirstHeader(Buffer.from("00000002000000010200", "hex")), undefined);
      assert.match(
        judgeFirstHeader(Buffer.from("000006040000000000000300", "hex")) ?? "",
        /HTTP\/2/,
      );
      assert.match(judgeFirstHeader(Buffer.from("HTTP/1.1 400 Bad")) ?? "", /HTTP\/1/);
      assert.match(
        judgeFirstHeader(Buffer.from("00000002000000020200", "hex")) ?? "",
        /not a ttrpc response/,
      );
    },
  );

  test("the frame reader: any chunking, oversize frames skipped without buffering", T, () => {
    const req = Buffer.from("0a03612e42120158", "hex"); // service "a.B", method "X"
    const f = (id: number, type: number, data: Buffer) => {
      const h = Buffer.alloc(10);
      h.writeUInt32BE(data.length, 0);
      h.writeUInt32BE(id, 4);
      h[8] = type;
      return Buffer.concat([h, data]);
    };
    const bytes = Buffer.concat([f(1, 1, req), f(3, 3, Buffer.alloc(50)), f(5, 1, req)]);
    for (const step of [1, 3, 7, bytes.length]) {
      const r = new FrameReader(16);
      const frames = [];
      for (let i = 0; i < bytes.length; i += step)
        frames.push(...r.push(bytes.subarray(i, i + step)));
      assert.deepEqual(
        frames.map((x) => [x.streamId, x.type, x.data === undefined]),
        [
          [1, 1, false],
          [3, 3, true],
          [5, 1, false],
        ],
      );
      assert.equal(r.pending, 0);
      assert.equal(decodeRequest(frames[2]?.data as Buffer).method, "X");
    }
    assert.deepEqual(flagNames(3, 5), ["remote-closed", "no-data"]);
    assert.deepEqual(flagNames(1, 2), ["remote-open"]);
  });
});
