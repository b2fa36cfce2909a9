/**
 * Pairs every protobuf-es message schema of a generated module with the generated codec of the
 * same name (`FooSchema` ↔ `Foo`).
 * @module
 */
import type { DescMessage } from "@bufbuild/protobuf";

/** What the tests use of a generated codec. */
export interface Codec {
  typeName: string;
  create(init?: Record<string, unknown>): Record<string, unknown>;
  encode(m: Record<string, unknown>): Uint8Array | Uint8Array[];
  decode(b: Uint8Array): Record<string, unknown>;
  toBinary(m: Record<string, unknown>): Uint8Array;
}

/** A protobuf-es schema and the generated codec for the same message. */
export interface Pair {
  name: string;
  desc: DescMessage;
  codec: Codec;
}

/** All message pairs of an es module and a generated module. */
export function pairs(es: Record<string, unknown>, ours: Record<string, unknown>): Pair[] {
  const out: Pair[] = [];
  for (const [key, value] of Object.entries(es)) {
    if (!key.endsWith("Schema")) continue;
    const desc = value as DescMessage;
    if (desc.kind !== "message") continue;
    const name = key.slice(0, -"Schema".length);
    const codec = ours[name] as Codec | undefined;
    if (codec === undefined || codec.typeName !== desc.typeName) {
      throw new Error(`no generated codec ${name} for ${desc.typeName}`);
    }
    out.push({ name, desc, codec });
  }
  return out;
}
