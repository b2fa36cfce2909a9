/**
 * The inputs of the live mutation fuzzer: batches of frames, some valid, most not. Deterministic
 * for a seed (mulberry32), so a failing batch can be replayed. Only methods that both targets serve
 * and that finish on their own are used as bases (no Sleep, no Payload with a random size).
 */
import {
  echoPayload,
  encodeFrame,
  F,
  INTEROP,
  request,
  STREAMING,
  T,
  varint,
  varintField,
} from "../lib/wire.js";

/** A small fast PRNG: a seeded source of uint32s. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

type Kind = "unary" | "server" | "client" | "bidi";
const METHODS: { service: string; method: string; kind: Kind; payload: () => Buffer }[] = [
  { service: STREAMING, method: "Echo", kind: "unary", payload: () => echoPayload(1, "fuzz") },
  { service: STREAMING, method: "EchoStream", kind: "bidi", payload: () => Buffer.alloc(0) },
  { service: STREAMING, method: "SumStream", kind: "client", payload: () => Buffer.alloc(0) },
  {
    service: STREAMING,
    method: "DivideStream",
    kind: "server",
    payload: () => Buffer.concat([varintField(1, 10), varintField(2, 3)]),
  },
  { service: STREAMING, method: "EchoNull", kind: "client", payload: () => Buffer.alloc(0) },
  { service: STREAMING, method: "EchoNullStream", kind: "bidi", payload: () => Buffer.alloc(0) },
  {
    service: STREAMING,
    method: "EmptyPayloadStream",
    kind: "server",
    payload: () => Buffer.alloc(0),
  },
  { service: INTEROP, method: "MetadataEcho", kind: "unary", payload: () => Buffer.alloc(0) },
  { service: INTEROP, method: "DeadlineEcho", kind: "unary", payload: () => Buffer.alloc(0) },
  {
    service: INTEROP,
    method: "Fail",
    kind: "unary",
    payload: () => Buffer.concat([varintField(1, 5), varintField(2, 0)]),
  },
  { service: "no.such.Service", method: "Nope", kind: "unary", payload: () => Buffer.alloc(0) },
];

const REQUEST_FLAGS: Record<Kind, number> = {
  unary: 0,
  server: F.RemoteClosed,
  client: F.RemoteOpen,
  bidi: F.RemoteOpen,
};

/** One batch: the frames to write, and whether the last one leaves the stream out of sync. */
export interface Batch {
  frames: Buffer[];
  desync: boolean;
}

/** Generates batches from a seed. */
export class Mutator {
  readonly #rand: () => number;
  #combo = 0;

  constructor(seed: number) {
    this.#rand = mulberry32(seed);
  }

  #int(n: number): number {
    return this.#rand() % n;
  }

  #bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.#rand() & 0xff;
    return b;
  }

  #pick<V>(list: readonly V[]): V {
    return list[this.#int(list.length)] as V;
  }

  /** A valid Request envelope for a random method, with random metadata and timeout. */
  #envelope(m: (typeof METHODS)[number]): Buffer {
    const metadata: [string, string][] = [];
    for (let i = this.#int(4); i > 0; i--) metadata.push([`k${this.#int(9)}`, `v${this.#int(99)}`]);
    const timeout = this.#int(3) === 0 ? this.#pick([1, 1_000_000_000, -1, 2 ** 62]) : undefined;
    return request({
      service: m.service,
      method: m.method,
      payload: m.payload(),
      timeoutNano: timeout,
      metadata,
    });
  }

  /** Byte-level mutations of an envelope. */
  #mutate(env: Buffer): Buffer {
    let b = Buffer.from(env);
    for (let n = 1 + this.#int(4); n > 0; n--) {
      switch (this.#int(9)) {
        case 0: // bit flip
          if (b.length) {
            const at = this.#int(b.length);
            b[at] = (b[at] as number) ^ (1 << this.#int(8));
          }
          break;
        case 1: // byte set
          if (b.length) b[this.#int(b.length)] = this.#int(256);
          break;
        case 2: // insert random bytes
          b = Buffer.concat([
            b.subarray(0, this.#int(b.length + 1)),
            this.#bytes(1 + this.#int(8)),
            b,
          ]);
          break;
        case 3: // delete a range
          if (b.length) {
            const at = this.#int(b.length);
            b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + this.#int(8))]);
          }
          break;
        case 4: // truncate
          b = b.subarray(0, this.#int(b.length + 1));
          break;
        case 5: // append unknown or weird fields
          b = Buffer.concat([
            b,
            varint(this.#int(2 ** 29) * 8 + this.#pick([0, 1, 2, 3, 4, 5, 6, 7])),
            this.#bytes(this.#int(12)),
          ]);
          break;
        case 6: // a 10-byte varint overflowing 64 bits in timeout_nano
          b = Buffer.concat([
            b,
            Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
          ]);
          break;
        case 7: // a length-delimited field that claims more than there is
          b = Buffer.concat([
            b,
            Buffer.from([0x2a]),
            varint(2 ** 31 + this.#int(1000)),
            this.#bytes(4),
          ]);
          break;
        default: // many metadata entries
          b = Buffer.concat([
            b,
            ...Array.from({ length: this.#int(64) }, (_, i) =>
              request({ service: "", method: "", metadata: [[`m${i}`, "x"]] }).subarray(4),
            ),
          ]);
      }
    }
    return b;
  }

  #sid(fresh: number, seen: readonly number[]): number {
    switch (this.#int(8)) {
      case 0:
        return 0;
      case 1:
        return (fresh + 1) >>> 0; // even
      case 2:
        return this.#rand();
      case 3:
        return 0xffffffff;
      case 4:
      case 5:
        return seen.length ? this.#pick(seen) : fresh;
      default:
        return fresh;
    }
  }

  /** The next batch of about `size` frames. */
  batch(size: number): Batch {
    const frames: Buffer[] = [];
    const seen: number[] = [];
    let fresh = 1;
    const next = () => {
      const s = fresh;
      fresh += 2 + 2 * this.#int(3);
      seen.push(s);
      return s;
    };
    while (frames.length < size) {
      switch (this.#int(6)) {
        case 0: {
          // random header and body, type biased to the known ones
          const type = this.#int(4) === 0 ? this.#int(256) : this.#int(5);
          frames.push(
            encodeFrame(this.#sid(fresh, seen), type, this.#int(256), this.#bytes(this.#int(64))),
          );
          break;
        }
        case 1: {
          // a valid call, then Data frames with random flags, then Data after the end
          const m = this.#pick(METHODS);
          const sid = next();
          frames.push(encodeFrame(sid, T.Request, REQUEST_FLAGS[m.kind], this.#envelope(m)));
          for (let i = this.#int(4); i > 0; i--) {
            frames.push(
              encodeFrame(
                sid,
                T.Data,
                this.#pick([
                  0,
                  F.RemoteClosed,
                  F.RemoteClosed | F.NoData,
                  F.NoData,
                  this.#int(256),
                ]),
                echoPayload(i, "d"),
              ),
            );
          }
          if (this.#int(2) === 0)
            frames.push(encodeFrame(sid, T.Data, F.RemoteClosed | F.NoData, Buffer.alloc(0)));
          if (this.#int(4) === 0)
            frames.push(encodeFrame(sid, T.Data, 0, echoPayload(9, "after end")));
          break;
        }
        case 2:
        case 3: {
          // a mutated Request envelope, with random flags
          const m = this.#pick(METHODS);
          const flags = this.#int(3) === 0 ? this.#int(256) : REQUEST_FLAGS[m.kind];
          frames.push(
            encodeFrame(
              this.#int(5) === 0 ? this.#sid(fresh, seen) : next(),
              T.Request,
              flags,
              this.#mutate(this.#envelope(m)),
            ),
          );
          break;
        }
        case 4: {
          // every type x flag combination, in turn, on a fresh, a used, an even or a zero stream id
          const c = this.#combo++;
          const type = c % 6;
          const flags = [0, 1, 2, 3, 4, 5, 6, 7, 0xff][Math.floor(c / 6) % 9] as number;
          const body = [Buffer.alloc(0), this.#envelope(this.#pick(METHODS)), this.#bytes(8)][
            Math.floor(c / 54) % 3
          ] as Buffer;
          frames.push(encodeFrame(this.#sid(fresh, seen), type, flags, body));
          break;
        }
        default: {
          // Data for a stream never opened, for a finished unary call, zero-length without flags
          const sid = this.#int(2) === 0 ? fresh + 2000 : next();
          if (sid === seen[seen.length - 1]) {
            frames.push(
              encodeFrame(
                sid,
                T.Request,
                0,
                this.#envelope(METHODS[0] as (typeof METHODS)[number]),
              ),
            );
          }
          frames.push(
            encodeFrame(
              sid,
              T.Data,
              this.#pick([0, F.RemoteClosed, F.NoData | F.RemoteClosed]),
              this.#int(2) ? Buffer.alloc(0) : echoPayload(1, "x"),
            ),
          );
        }
      }
    }
    // One batch in ten ends with a frame that never completes: cut short, or oversize.
    let desync = false;
    if (this.#int(10) === 0) {
      desync = true;
      const header = Buffer.alloc(10);
      const oversize = this.#int(2) === 0;
      header.writeUInt32BE(
        oversize ? (4 << 20) + 1 + this.#int(2 ** 31) : 100 + this.#int(1000),
        0,
      );
      header.writeUInt32BE(next(), 4);
      header[8] = T.Request;
      frames.push(Buffer.concat([header, this.#bytes(this.#int(90))]));
    }
    return { frames, desync };
  }
}
