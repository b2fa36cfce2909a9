/** Small helpers shared by the interop tests. */

/** An async iterable the test feeds by hand: push() messages, end() to finish. */
export class Pushable<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

/** Bytes of a protobuf varint. */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len += 1;
  }
  return len;
}

/** Bytes of a proto3 length-delimited field holding `n` bytes (tag < 16); empty fields are not sent. */
export function bytesField(n: number): number {
  return n === 0 ? 0 : 1 + varintLength(n) + n;
}

/** Frame data length of the OK Response to Payload{size: n}: Response{payload: PayloadResponse{data}}. */
export function payloadResponseLength(n: number): number {
  return bytesField(bytesField(n));
}

/**
 * Frame data length of the Request of Size{data: n bytes} without metadata or timeout:
 * Request{service, method, payload: SizeRequest{data}}.
 */
export function sizeRequestLength(
  n: number,
  service = "ttrpc.interop.v1.Interop",
  method = "Size",
): number {
  return (
    bytesField(Buffer.byteLength(service)) +
    bytesField(Buffer.byteLength(method)) +
    bytesField(bytesField(n))
  );
}

/** The largest n with length(n) <= max, and the smallest n with length(n) > max. */
export function boundary(
  length: (n: number) => number,
  max: number,
): { largestOk: number; smallestFail: number } {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (length(mid) <= max) lo = mid;
    else hi = mid - 1;
  }
  return { largestOk: lo, smallestFail: lo + 1 };
}

/** The largest protobuf-safe frame data size: Go's messageLengthMax. */
export const MAX_FRAME = 4 << 20;
