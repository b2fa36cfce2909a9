/**
 * A ttrpc service definition for one method whose messages stay bytes: the command converts JSON
 * itself (json.ts), so the core sees a plain definition with pass-through codecs.
 * @module
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { defineService, type MethodKind } from "ttrpc";

/** Bytes in, bytes out; received bytes are copied, as a stream may hold them after the frame buffer moves on. */
const copying = {
  encode: (b: Uint8Array) => b,
  decode: (b: Uint8Array) => Uint8Array.from(b),
};

/** Bytes in, nothing kept: for `bench`, which only counts replies. */
const discarding = {
  encode: (b: Uint8Array) => b,
  decode: (_b: Uint8Array) => undefined as unknown as Uint8Array,
};

/** The plain definition of `method`, keyed `call`. */
export function rawService(method: DescMethod, keep = true) {
  const codec = keep ? copying : discarding;
  return defineService({
    typeName: method.parent.typeName,
    methods: {
      call: {
        name: method.name,
        kind: method.methodKind as MethodKind,
        input: codec,
        output: codec,
      },
    },
  });
}
