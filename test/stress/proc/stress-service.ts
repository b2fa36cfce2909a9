/**
 * ttrpc.stress.v1.Stress: the TypeScript-only methods the attacks need, with raw byte codecs (no
 * protobuf runtime on the hot path). Requests are little fixed-size records of uint32 BE fields.
 */
import { defineService } from "ttrpc";

const raw = {
  encode: (m: Uint8Array) => m,
  decode: (b: Uint8Array) => b,
};

/** The Stress service definition (shared by proc/server.ts and proc/client.ts). */
export const Stress = defineService({
  typeName: "ttrpc.stress.v1.Stress",
  methods: {
    /** Unary: replies with a message of the size in the request's first uint32 (0: empty). */
    blob: { name: "Blob", kind: "unary", input: raw, output: raw },
    /** Unary: answers after the ms in the first uint32, or fails when the call's signal aborts. */
    hold: { name: "Hold", kind: "unary", input: raw, output: raw },
    /**
     * Server-streaming: [count, size, intervalMs]; count messages of size bytes (count 0: endless),
     * intervalMs between them (0: as fast as the output pump takes them).
     */
    flood: { name: "Flood", kind: "server_streaming", input: raw, output: raw },
    /** Client-streaming: never reads its requests; ends when the call's signal aborts. */
    stall: { name: "Stall", kind: "client_streaming", input: raw, output: raw },
    /** Client-streaming: replies with the number of messages received (uint32). */
    count: { name: "Count", kind: "client_streaming", input: raw, output: raw },
    /** Bidi: echoes every message. */
    echo: { name: "Echo", kind: "bidi_streaming", input: raw, output: raw },
  },
});

/** Encodes uint32 fields into a request record. */
export function u32s(...values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32BE(v >>> 0, i * 4);
  });
  return b;
}

/** Reads the i-th uint32 of a request record (0 when absent). */
export function u32(b: Uint8Array, i: number): number {
  return b.length >= (i + 1) * 4
    ? Buffer.from(b.buffer, b.byteOffset, b.length).readUInt32BE(i * 4)
    : 0;
}
