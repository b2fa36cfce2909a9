/**
 * Protobuf wire primitives for the hand-written envelope codecs: varints, length-delimited
 * fields, and a reader that walks a message's fields.
 * @module
 */
import { isUtf8 } from "node:buffer";

const EMPTY = Buffer.alloc(0);

/** Bytes needed for a non-negative integer (< 2^53) as a varint; 10 for a negative one. */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes a varint at `off`; returns the offset after it. */
export function writeVarint(buf: Buffer, off: number, value: number): number {
  if (value < 0) {
    // int64 two's complement: always 10 bytes.
    let v = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    for (let i = 0; i < 9; i++) {
      buf[off++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    buf[off++] = Number(v);
    return off;
  }
  while (value >= 128) {
    buf[off++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[off++] = value;
  return off;
}

/** Writes a string field (tag, length, UTF-8 bytes) of `size` bytes. */
export function writeString(
  buf: Buffer,
  off: number,
  tag: number,
  value: string,
  size: number,
): number {
  buf[off++] = tag;
  off = writeVarint(buf, off, size);
  return off + buf.write(value, off, size, "utf8");
}

/** Writes a bytes field (tag, length, bytes). */
export function writeBytes(buf: Buffer, off: number, tag: number, value: Uint8Array): number {
  buf[off++] = tag;
  off = writeVarint(buf, off, value.length);
  buf.set(value, off);
  return off + value.length;
}

/** Thrown for bytes that are not a valid envelope. */
export class MalformedError extends Error {
  override name = "MalformedError";
}

/** `buf[start, end)` as UTF-8; invalid UTF-8 is an error, as protobuf-go treats it. */
function utf8(buf: Buffer, start: number, end: number): string {
  const value = buf.toString("utf8", start, end);
  // Decoding replaces invalid bytes with U+FFFD: only then is the exact check worth its cost.
  if (value.includes("\ufffd") && !isUtf8(buf.subarray(start, end))) {
    throw new MalformedError("string field contains invalid UTF-8");
  }
  return value;
}

/** The last bytes a string field had and their string, for {@link Reader.cachedString}. */
export interface StringCache {
  bytes: Uint8Array;
  value: string;
}

/**
 * Reads protobuf fields from `buf[start, end)`. Decoders keep one per nesting level and `reset`
 * it for each message (decoding never re-enters itself), so a decode allocates no reader.
 */
export class Reader {
  pos = 0;
  buf: Buffer = EMPTY;
  end = 0;

  /** Points the reader at `buf[start, end)`; returns it. */
  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** A varint as a number; exact below 2^53, two's complement int64 for 10-byte values. */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) throw new MalformedError("truncated varint");
      const b = buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
      if (this.pos - start >= 10) throw new MalformedError("varint too long");
    }
    if (this.pos - start === 10) {
      // The 10th byte holds bit 63 only: anything more overflows 64 bits (protobuf rejects it).
      if ((buf[this.pos - 1] as number) > 1) throw new MalformedError("varint overflows 64 bits");
      // A negative int64 (e.g. an expired timeout, Go's zero time): decode exactly.
      let v = 0n;
      for (let i = this.pos - 1; i >= start; i--) v = (v << 7n) | BigInt((buf[i] as number) & 0x7f);
      return Number(BigInt.asIntN(64, v));
    }
    return result;
  }

  int32(): number {
    return this.varint() | 0;
  }

  /** A length-delimited field: returns [start, end). */
  delimited(): number {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) throw new MalformedError("truncated field");
    const start = this.pos;
    this.pos += len;
    return start;
  }

  /** A string field; invalid UTF-8 is an error, as protobuf-go (and so Go ttrpc) treats it. */
  string(): string {
    const start = this.delimited();
    return utf8(this.buf, start, this.pos);
  }

  /**
   * A string field that usually repeats (a service or method name): when its bytes equal the
   * last ones `cache` saw, that string is returned without decoding (and its hash, which Map
   * lookups need, is already computed).
   */
  cachedString(cache: StringCache): string {
    const start = this.delimited();
    const end = this.pos;
    const buf = this.buf;
    const last = cache.bytes;
    const length = end - start;
    if (last.length === length) {
      let i = 0;
      while (i < length && buf[start + i] === last[i]) i++;
      if (i === length) return cache.value;
    }
    const value = utf8(buf, start, end);
    cache.bytes = Buffer.from(buf.subarray(start, end));
    cache.value = value;
    return value;
  }

  /** A field tag; field number 0 is invalid. */
  tag(): number {
    const tag = this.varint();
    if (tag < 8) throw new MalformedError("invalid field number 0");
    return tag;
  }

  bytes(): Buffer {
    const start = this.delimited();
    return this.buf.subarray(start, this.pos);
  }

  /**
   * Skips the value of a field whose tag was just read. A group (wire type 3) is skipped up to its
   * matching end-group tag, as protobuf does with unknown groups; a stray end-group is malformed.
   */
  skipField(tag: number): void {
    if ((tag & 7) !== 3) {
      this.skip(tag & 7);
      return;
    }
    const field = Math.floor(tag / 8);
    for (let depth = 1; ; ) {
      const inner = this.tag();
      const wire = inner & 7;
      if (wire === 3) {
        if (++depth > 64) throw new MalformedError("groups nested too deep");
      } else if (wire === 4) {
        if (--depth === 0) {
          if (Math.floor(inner / 8) !== field) throw new MalformedError("mismatched end group");
          return;
        }
      } else this.skip(wire);
    }
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new MalformedError(`invalid wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new MalformedError("truncated field");
  }
}
