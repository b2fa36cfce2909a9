/**
 * A latency histogram with fixed memory whatever the run length: log-linear buckets (16 per power
 * of two, so a percentile is within about 6% of the true value), plus the exact min, max and mean.
 * @module
 */

const SUB = 16;

/** Latencies in microseconds. */
export class Histogram {
  readonly #counts = new Float64Array(64 * SUB);
  count = 0;
  #sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  static #index(us: number): number {
    const v = Math.max(0, Math.floor(us));
    if (v < SUB) return v;
    const e = Math.floor(Math.log2(v));
    const sub = Math.floor(v / 2 ** (e - 4)) - SUB;
    return (e - 3) * SUB + sub;
  }

  /** The smallest value of a bucket. */
  static #lower(index: number): number {
    if (index < SUB) return index;
    const e = Math.floor(index / SUB) + 3;
    return (SUB + (index % SUB)) * 2 ** (e - 4);
  }

  /** Records one latency. */
  record(us: number): void {
    const i = Histogram.#index(us);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.count++;
    this.#sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** The mean, exact. */
  get mean(): number {
    return this.count === 0 ? 0 : this.#sum / this.count;
  }

  /** The value below which `p` percent of the latencies fall (a bucket's upper bound, at most max). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] as number;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Histogram.#lower(i + 1)));
    }
    return this.max;
  }

  /** `bins` equal-width ranges from min to max with their counts (for the printed bar chart). */
  bins(bins: number): { upTo: number; count: number }[] {
    if (this.count === 0) return [];
    const width = (this.max - this.min) / bins || 1;
    const out = Array.from({ length: bins }, (_, i) => ({
      upTo: this.min + width * (i + 1),
      count: 0,
    }));
    for (let i = 0; i < this.#counts.length; i++) {
      const c = this.#counts[i] as number;
      if (c === 0) continue;
      const mid = Math.min(
        this.max,
        Math.max(this.min, (Histogram.#lower(i) + Histogram.#lower(i + 1)) / 2),
      );
      const bin = Math.min(bins - 1, Math.floor((mid - this.min) / width));
      (out[bin] as { count: number }).count += c;
    }
    return out;
  }
}
