// The server's interceptor path (issue 10): the request reads the handler context's metadata and
// signal only when an interceptor does, a copy made with a spread still carries them, a signal
// first read after the call ended is already aborted, and each method's chain is built once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Code,
  defineService,
  type Interceptor,
  type InterceptorRequest,
  Metadata,
  TtrpcError,
} from "../src/index.js";
import { json, pair } from "./helpers.js";

const Svc = defineService({
  typeName: "test.v1.Intercepted",
  methods: {
    get: { name: "Get", kind: "unary", input: json, output: json },
    list: { name: "List", kind: "server_streaming", input: json, output: json },
  },
});
const T = { timeout: 10_000 };

describe("server interceptors", () => {
  test("a spread copy still carries metadata and signal to the next step", T, async (t) => {
    const seen: string[] = [];
    const outer: Interceptor = (next) => (req) =>
      req.stream
        ? next(req)
        : next({ ...req, message: { v: `${(req.message as { v: string }).v}!` } });
    const inner: Interceptor = (next) => (req) => {
      seen.push(`${req.metadata.get("k")} ${req.signal?.aborted}`);
      return next(req);
    };
    const p = await pair(t, Svc, { get: (m) => m }, { server: { interceptors: [outer, inner] } });
    assert.deepEqual(await p.client.get({ v: "a" }, { metadata: { k: "1" } }), { v: "a!" });
    assert.deepEqual(seen, ["1 false"]);
  });

  test("assigning metadata or signal keeps the value given", T, async (t) => {
    let got: unknown[] = [];
    const own = new AbortController().signal;
    const setter: Interceptor = (next) => (req) => {
      req.metadata = new Metadata({ x: "y" });
      req.signal = own;
      return next(req);
    };
    const reader: Interceptor = (next) => (req) => {
      got = [req.metadata.get("x"), req.signal === own];
      return next(req);
    };
    const p = await pair(t, Svc, { get: (m) => m }, { server: { interceptors: [setter, reader] } });
    await p.client.get({});
    assert.deepEqual(got, ["y", true]);
  });

  test("a signal first read after the call ended is aborted", T, async (t) => {
    let kept: InterceptorRequest | undefined;
    const keep: Interceptor = (next) => (req) => {
      kept = req;
      return next(req);
    };
    const p = await pair(
      t,
      Svc,
      {
        get: (m) => m,
        get list() {
          return async function* () {
            yield 1;
            throw new TtrpcError("stop", Code.Aborted);
          };
        },
      },
      { server: { interceptors: [keep] } },
    );
    await p.client.get({});
    assert.equal(kept?.signal?.aborted, true, "a unary call that answered");
    await assert.rejects(async () => {
      for await (const _ of p.client.list({})) {
        // drain
      }
    }, /stop/);
    assert.equal(kept?.signal?.aborted, true, "a stream that failed");
    assert.equal(kept?.context?.signal.aborted, true);
  });

  test("an interceptor's factory runs once per method, not once per call", T, async (t) => {
    let built = 0;
    const counting: Interceptor = (next) => {
      built++;
      return (req) => next(req);
    };
    const p = await pair(t, Svc, { get: (m) => m }, { server: { interceptors: [counting] } });
    for (let i = 0; i < 5; i++) await p.client.get({ i });
    assert.equal(built, 1);
  });
});
