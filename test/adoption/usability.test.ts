// Issue 10, "learnable": a helper to find typed details in an error (as connect-es's
// findDetails), and a stream call whose result is iterated twice.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack, type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createServer, findDetails, TtrpcError } from "ttrpc";
import { dial, rejection, Svc, serve, tempDir } from "./spec.js";

const T = { timeout: 20_000 };

describe("adoption: usability", () => {
  test("findDetails(error, Schema) returns the error's details of that type, decoded", {
    ...T,
  }, async (t) => {
    const path = join(tempDir(t), "d.sock");
    const server = createServer().register(Svc, {
      hello() {
        const retry = anyPack(DurationSchema, create(DurationSchema, { seconds: 5n }));
        throw new TtrpcError("slow down", Code.ResourceExhausted, { details: [retry] });
      },
    });
    await server.listen(path);
    t.after(() => server.close());
    const err = await rejection(createClient(Svc, await dial(t, path)).hello({ name: "x" }));
    const found: Duration[] = await findDetails(err, DurationSchema);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.seconds, 5n);
  });

  test("iterating a stream call's result twice fails clearly instead of making a second call", {
    ...T,
  }, async (t) => {
    const calls = { count: 0 };
    const { path } = await serve(t, {}, calls);
    const stream = createClient(Svc, await dial(t, path)).count({ to: 2 });
    const first: number[] = [];
    for await (const m of stream) first.push(m.n);
    assert.deepEqual(first, [1, 2]);
    await assert.rejects(async () => {
      for await (const _ of stream) {
        // a second pass
      }
    }, /once|already/i);
    assert.equal(calls.count, 1, "the server saw one call");
  });
});
