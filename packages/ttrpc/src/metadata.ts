/**
 * Request metadata: the `KeyValue` list of a ttrpc Request.
 * @module
 */

/** What any API that accepts metadata takes: a Metadata, a record, or an iterable of pairs. */
export type MetadataInit =
  | Metadata
  | Record<string, string | readonly string[]>
  | Iterable<readonly [string, string | readonly string[]]>;

/** The stored `[key, values]` pairs of a Metadata, not copied: for the envelope encoder only. */
export let metadataEntries: (metadata: Metadata) => IterableIterator<[string, string[]]>;

/**
 * Case-insensitive, multi-valued string metadata. Keys are stored lower-case (as Go's `MD`
 * does on every write), values keep their order, and each value travels as its own `KeyValue`.
 * ttrpc has metadata from client to server only: there are no response headers or trailers.
 */
export class Metadata implements Iterable<[string, string[]]> {
  readonly #map = new Map<string, string[]>();

  constructor(init?: MetadataInit) {
    if (init === undefined) return;
    const entries =
      init instanceof Metadata || Symbol.iterator in init
        ? (init as Iterable<readonly [string, string | readonly string[]]>)
        : Object.entries(init as Record<string, string | readonly string[]>);
    for (const [key, value] of entries) {
      if (typeof value === "string") this.append(key, value);
      else for (const v of value) this.append(key, v);
    }
  }

  /** The first value of `key`, or undefined. */
  get(key: string): string | undefined {
    return this.#map.get(key.toLowerCase())?.[0];
  }

  /** Every value of `key`, in order (a copy; empty when absent). */
  getAll(key: string): string[] {
    const values = this.#map.get(key.toLowerCase());
    return values ? [...values] : [];
  }

  /** Replaces the values of `key`; no values deletes it. */
  set(key: string, ...values: string[]): this {
    if (values.length === 0) this.#map.delete(key.toLowerCase());
    else this.#map.set(key.toLowerCase(), values.map(String));
    return this;
  }

  /** Adds values to `key`. */
  append(key: string, ...values: string[]): this {
    if (values.length === 0) return this;
    const k = key.toLowerCase();
    const existing = this.#map.get(k);
    if (existing) for (const v of values) existing.push(String(v));
    else this.#map.set(k, values.map(String));
    return this;
  }

  /** Removes `key`; true if it was there. */
  delete(key: string): boolean {
    return this.#map.delete(key.toLowerCase());
  }

  /** True if `key` has at least one value. */
  has(key: string): boolean {
    return this.#map.has(key.toLowerCase());
  }

  /** The number of distinct keys. */
  get size(): number {
    return this.#map.size;
  }

  /** A deep copy. */
  clone(): Metadata {
    return new Metadata(this);
  }

  /** Iterates `[key, values]` pairs (values are copies). */
  *[Symbol.iterator](): IterableIterator<[string, string[]]> {
    for (const [k, v] of this.#map) yield [k, [...v]];
  }

  static {
    // The encoder reads the stored pairs without copying; users get copies.
    metadataEntries = (metadata) => metadata.#map.entries();
  }

  /** A plain object, for logs and JSON. */
  toJSON(): Record<string, string[]> {
    return Object.fromEntries(this);
  }
}

/** Accepts a MetadataInit (or nothing) and returns a Metadata, reusing a Metadata as is. */
export function toMetadata(init: MetadataInit | undefined): Metadata {
  return init instanceof Metadata ? init : new Metadata(init);
}
