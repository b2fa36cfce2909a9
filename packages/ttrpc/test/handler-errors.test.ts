// Unexpected handler errors (issue 10): what reaches the server's onError, with what, and what
// does not (a TtrpcError is an answer; the abort of a call that is already over is no news).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, defineService, type ServerErrorInfo, TtrpcError } from "../src/index.js";
import { json, pair } from "./helpers.js";

const Svc = defineService({
  typeName: "test.v1.Failing",
  methods: {
    plain: { name: "Plain", kind: "unary", input: json, output: json },
    answer: { name: "Answer", kind: "unary", input: json, output: json },
    aborted: { name: "Aborted", kind: "unary", input: json, output: json },
    stream: { name: "Stream", kind: "server_streaming", input: json, output: json },
  },
});
const T = { timeout: 10_000 };

describe("unexpected handler errors", () => {
  test(
    "reach onError with the method, the stream id and the peer; answers do not",
    T,
    async (t) => {
      const heard: [string, ServerErrorInfo | undefined][] = [];
      const p = await pair(
        t,
        Svc,
        {
          plain: () => {
            throw new Error("bug");
          },
          answer: () => {
            throw new TtrpcError("no such thing", Code.NotFound);
          },
          aborted: () => {
            throw new DOMException("gone", "AbortError");
          },
          async *stream() {
            yield 1;
            throw new RangeError("late bug");
          },
        },
        {
          server: {
            handshaker: () => ({ peer: "peer-1" }),
            onError: (error, info) => heard.push([(error as Error).message, info]),
          },
        },
      );
      await assert.rejects(p.client.plain(1), { code: Code.Unknown, rawMessage: "bug" });
      await assert.rejects(p.client.answer(1), { code: Code.NotFound });
      await assert.rejects(p.client.aborted(1), { code: Code.Canceled });
      await assert.rejects(async () => {
        for await (const _ of p.client.stream(1)) {
          // the first message, then the error
        }
      }, /late bug/);
      assert.deepEqual(
        heard.map(([m, info]) => [m, info?.method?.path, info?.streamId, info?.peer]),
        [
          ["bug", "/test.v1.Failing/Plain", 1, "peer-1"],
          ["late bug", "/test.v1.Failing/Stream", 7, "peer-1"],
        ],
      );
    },
  );
});
