// Issue 10, "learnable": a helper to find typed details in an error (as connect-es's
// findDetails), and a stream call whose result is iterated twice. Specs for the src change after
// the issue 9 refactor; todo until then (see spec.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack, type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createServer, TtrpcError } from "ttrpc";
import { dial, PENDING, proposed, rejection, Svc, serve, tempDir } from "./spec.js";

const T = { timeout: 20_000 };

type FindDetails = (
  error: unknown,
  schema: typeof DurationSchema,
) => Promise<Duration[]> | Duration[];

describe("adoption: usability", () => {
  test("findDetails(error, Schema) returns the error's details of that type, decoded", {
    ...T,
    todo: PENDING(
      "export findDetails(error, schema) (protobuf-es GenMessage; loads @bufbuild/protobuf lazily like GenService support) instead of anyUnpack(create(AnySchema, e.details[0]!), Schema)",
    ),
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
    const findDetails = proposed<FindDetails>("findDetails");
    const found = await findDetails(err, DurationSchema);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.seconds, 5n);
  });

  test("iterating a stream call's result twice fails clearly instead of making a second call", {
    ...T,
    todo: PENDING(
      'client.ts: the iterable a streaming method returns may be iterated once; a second [Symbol.asyncIterator]() throws (FAILED_PRECONDITION or TypeError: "a stream call\'s result can be iterated once; call the method again for a new call")',
    ),
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
