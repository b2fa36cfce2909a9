// npm run demo: a ttrpc server and client on a temporary unix socket, one feature at a time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, connect, createClient, createServer, TtrpcError } from "ttrpc";
import { Demo } from "./gen/demo_pb.js";

const dir = mkdtempSync(join(tmpdir(), "ttrpc-demo-"));
const socketPath = join(dir, "demo.sock");
const started = performance.now();
const ms = () => `${(performance.now() - started).toFixed(1).padStart(7)} ms`;
const say = (who: string, text: string) => console.log(`${ms()}  ${who.padEnd(6)} ${text}`);
const section = (title: string) =>
  console.log(`\n── ${title} ${"─".repeat(Math.max(0, 66 - title.length))}`);

// Settles when the Slow handler's signal aborts, so the output stays in order.
let slowAborted: (reason: string) => void = () => {};
const nextSlowAbort = () => new Promise<string>((resolve) => (slowAborted = resolve));

// ---------------------------------------------------------------- the server
const server = createServer();
server.register(Demo, {
  hello(req, ctx) {
    if (req.name === "") {
      throw new TtrpcError("name must not be empty", Code.InvalidArgument, {
        details: [
          { typeUrl: "type.googleapis.com/demo.v1.FieldViolation", value: Buffer.from("name") },
        ],
      });
    }
    const metadata = [...ctx.metadata].flatMap(([k, values]) => values.map((v) => `${k}=${v}`));
    return { message: `hello, ${req.name}`, metadata };
  },
  async *countdown(req) {
    for (let n = req.from; n > 0; n--) {
      yield { value: BigInt(n) };
      await new Promise((r) => setTimeout(r, 20));
    }
  },
  async sum(numbers) {
    let total = 0n;
    let count = 0;
    for await (const n of numbers) {
      total += n.value;
      count++;
    }
    return { total, count };
  },
  async *chat(messages) {
    for await (const m of messages) yield { text: `echo: ${m.text}` };
  },
  slow(req, ctx) {
    const left = ctx.timeoutMs();
    say(
      "server",
      `Slow: asked to take ${req.ms} ms; ${left === undefined ? "no deadline" : `deadline in ${left.toFixed(0)} ms`}`,
    );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({}), req.ms);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        slowAborted((ctx.signal.reason as Error).message);
        reject(ctx.signal.reason);
      });
    });
  },
});
await server.listen(socketPath);
say("server", `listening on ${socketPath}`);

// ---------------------------------------------------------------- the client
const conn = await connect(socketPath);
const demo = createClient(Demo, conn);

section("unary call, with metadata");
const reply = await demo.hello(
  { name: "ttrpc" },
  { metadata: { "X-Request-Id": "42", tags: ["a", "b"] } },
);
say("client", `Hello → ${JSON.stringify(reply.message)}`);
say("client", `server saw metadata ${reply.metadata.join(", ")}`);

section("server-streaming");
for await (const n of demo.countdown({ from: 5 })) say("client", `Countdown → ${n.value}`);

section("client-streaming");
const sum = await demo.sum(
  (async function* () {
    for (let i = 1n; i <= 10n; i++) yield { value: i };
  })(),
);
say("client", `Sum of 1..10 → total ${sum.total} from ${sum.count} messages`);

section("bidirectional streaming");
for await (const m of demo.chat([{ text: "ping" }, { text: "ttrpc" }, { text: "bye" }]))
  say("client", `Chat → ${m.text}`);

section("a deadline expiring");
let aborted = nextSlowAbort();
try {
  await demo.slow({ ms: 2000 }, { timeoutMs: 200 });
} catch (err) {
  const e = err as TtrpcError;
  say("client", `Slow failed: code ${e.code} (DEADLINE_EXCEEDED), ${JSON.stringify(e.rawMessage)}`);
}
say("server", `Slow: its signal aborted too: ${await aborted}`);

section("a typed error");
try {
  await demo.hello({ name: "" });
} catch (err) {
  const e = TtrpcError.from(err);
  say("client", `Hello failed: ${e.message}`);
  say(
    "client",
    `code ${e.code} (INVALID_ARGUMENT), detail ${e.details[0]?.typeUrl} = ${Buffer.from(e.details[0]?.value ?? []).toString()}`,
  );
}

section("cancellation with an AbortSignal");
const controller = new AbortController();
setTimeout(() => controller.abort(), 50);
aborted = nextSlowAbort();
try {
  await demo.slow({ ms: 2000 }, { signal: controller.signal, timeoutMs: 300 });
} catch (err) {
  say("client", `Slow failed: ${(err as TtrpcError).message}`);
}
say(
  "",
  "(ttrpc has no cancel frame: the server learns nothing until its own copy of the deadline)",
);
say("server", `Slow: its signal aborted: ${await aborted}`);

section("the connection keeps working");
say("client", `Hello → ${JSON.stringify((await demo.hello({ name: "again" })).message)}`);

await conn.close();
await server.shutdown();
rmSync(dir, { recursive: true, force: true });
section("done");
say("", "server shut down gracefully");
