/**
 * The Go tracing peer (test/otel/go, built by scripts/otel-peer.sh) from the tests: finding the
 * binary, starting `serve`, running `call`, reading the spans it prints, and killing it after.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";

/** Where the peer is: $TTRPC_OTEL_PEER, else the cache folder scripts/otel-peer.sh builds into. */
export function peerPath(): string {
  const fromEnv = process.env.TTRPC_OTEL_PEER;
  if (fromEnv) return fromEnv;
  const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
  return join(cache, "otel-peer", "bin", "ttrpc-otel-peer");
}

const HINT = "run scripts/otel-peer.sh (or set TTRPC_OTEL_PEER)";

/** A suite that needs the peer: fails under CI=true without it, else skips with one loud line. */
export function otelPeerSuite(name: string, body: (bin: string) => void): void {
  const bin = peerPath();
  if (existsSync(bin)) {
    describe(name, () => body(bin));
    return;
  }
  if (process.env.CI === "true") {
    test(`${name}: the Go otelttrpc peer is required with CI=true`, () => {
      throw new Error(`Go otelttrpc peer not found at ${bin}: ${HINT}`);
    });
    return;
  }
  const marker = join(tmpdir(), `ttrpc-otel-skip-${process.ppid}`);
  try {
    writeFileSync(marker, "", { flag: "wx" });
    process.stderr.write(
      `\n!!! OTEL INTEROP TESTS SKIPPED: Go peer not found at ${bin}: ${HINT} !!!\n\n`,
    );
  } catch {
    // another file of this run already said it
  }
  describe(name, { skip: `Go otelttrpc peer missing: ${HINT}` }, () => {});
}

/** A span as the Go peer prints it. */
export interface GoSpan {
  name: string;
  kind: "client" | "server" | "internal";
  traceId: string;
  spanId: string;
  parentSpanId: string;
  parentRemote: boolean;
  status: { code: "Unset" | "Error" | "Ok"; description: string };
  attributes: Record<string, string | number>;
  events: { name: string; attributes: Record<string, string | number> }[];
  scope: string;
}

/** A Go metric data point as the peer prints it. */
export interface GoMetric {
  name: string;
  unit: string;
  scope: string;
  count: number;
  sum: number;
  attributes: Record<string, string | number>;
}

/** A running peer process and what it printed so far. */
export class Peer {
  readonly lines: Record<string, unknown>[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;

  constructor(bin: string, args: string[]) {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
      try {
        this.lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        this.stderr += `(stdout) ${text}\n`;
      }
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      // Bounded: only the tail matters for a failure message.
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exited = new Promise((resolve) => child.once("close", (code) => resolve(code)));
  }

  /** Every span printed so far. */
  spans(): GoSpan[] {
    return this.lines.filter((l) => "span" in l).map((l) => l.span as GoSpan);
  }

  /** Every metric data point printed so far. */
  metrics(): GoMetric[] {
    return this.lines.filter((l) => "metric" in l).map((l) => l.metric as GoMetric);
  }

  /** Waits for a line that satisfies `pred` (or fails after `ms`, or when the process ends). */
  async waitFor(pred: (line: Record<string, unknown>) => boolean, what: string, ms = 5000) {
    const end = Date.now() + ms;
    let done = false;
    void this.exited.then(() => {
      done = true;
    });
    for (;;) {
      const found = this.lines.find(pred);
      if (found !== undefined) return found;
      if (done || Date.now() > end)
        throw new Error(
          `Go peer: no ${what} (${done ? "exited" : "timed out"}); stderr: ${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Sends a signal if the process still runs. */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }
}

/** Starts `serve` on `socket` and waits until it listens. */
export async function startGoServer(bin: string, socket: string): Promise<Peer> {
  const peer = new Peer(bin, ["serve", "--socket", socket]);
  await peer.waitFor((l) => "listening" in l, "listening line");
  return peer;
}

/** Runs `call`: a trace started in Go, relayed through `socket` then `hops`; waits for the exit. */
export async function goCall(bin: string, socket: string, hops: string[]): Promise<Peer> {
  const peer = new Peer(bin, ["call", "--socket", socket, "--hops", hops.join(" ")]);
  const timer = setTimeout(() => peer.kill(), 15_000);
  await peer.exited;
  clearTimeout(timer);
  return peer;
}
