/**
 * A canary: one connection that keeps calling Streaming.Echo, one call at a time, while an attack
 * runs on other connections. Its latencies tell whether the attack stalled everybody else; a call
 * that gets no answer within `timeoutMs` is counted as failed and the canary reconnects.
 */
import { echoFrame, RawConn, sleep } from "./wire.js";

/** Latency figures of a canary (ms). */
export interface CanaryFigures {
  calls: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** Percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** A running canary; `stop()` returns its figures. */
export class Canary {
  readonly #latencies: number[] = [];
  #failed = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(socket: string, opts: { gapMs?: number; timeoutMs?: number } = {}) {
    this.#done = this.#loop(socket, opts.gapMs ?? 2, opts.timeoutMs ?? 5000);
  }

  async #loop(socket: string, gapMs: number, timeoutMs: number): Promise<void> {
    let conn: RawConn | undefined;
    let sid = 1;
    while (this.#running) {
      if (conn === undefined || conn.closed) {
        conn = new RawConn(socket);
        sid = 1;
        try {
          await conn.connected();
        } catch {
          this.#failed += 1;
          conn = undefined;
          await sleep(50);
          continue;
        }
      }
      const t0 = performance.now();
      const reply = conn.reply(sid);
      conn.socket.write(echoFrame(sid));
      sid += 2;
      let timer: NodeJS.Timeout | undefined;
      const type = await Promise.race([
        reply,
        new Promise<number>((resolve) => {
          timer = setTimeout(() => resolve(-2), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (type === 2) this.#latencies.push(performance.now() - t0);
      else {
        this.#failed += 1;
        conn.destroy();
      }
      if (gapMs > 0) await sleep(gapMs);
    }
    conn?.destroy();
  }

  /** Stops calling and returns the figures. */
  async stop(): Promise<CanaryFigures> {
    this.#running = false;
    await this.#done;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const r = (n: number) => Math.round(n * 10) / 10;
    return {
      calls: sorted.length,
      failed: this.#failed,
      p50: r(percentile(sorted, 50)),
      p99: r(percentile(sorted, 99)),
      max: r(sorted[sorted.length - 1] ?? 0),
    };
  }
}
