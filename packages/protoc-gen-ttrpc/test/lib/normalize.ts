/**
 * Turns a decoded message (protobuf-es's or the generated code's) into a canonical plain value,
 * driven by the protobuf-es descriptor, so the two can be compared with deepStrictEqual: absent
 * fields are left out, bytes become plain Uint8Arrays, unknown fields become one byte string
 * (tag + value, in order).
 * @module
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";

type Obj = Record<string, unknown>;

function own(o: Obj, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

function varint(v: number, out: number[]): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Unknown fields as raw bytes: ours are already raw, protobuf-es's are {no, wireType, data}. */
function unknownBytes(u: unknown): number[] | undefined {
  if (!Array.isArray(u) || u.length === 0) return undefined;
  const out: number[] = [];
  for (const x of u) {
    if (x instanceof Uint8Array) out.push(...x);
    else {
      const { no, wireType, data } = x as { no: number; wireType: number; data: Uint8Array };
      varint(no * 8 + wireType, out);
      out.push(...data);
    }
  }
  return out;
}

function scalar(v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v;
}

function value(f: DescField, v: unknown, wrapper: boolean): unknown {
  if (f.fieldKind === "message" && !wrapper) return normalize(f.message, v as Obj);
  return scalar(v);
}

function isWrapperField(f: DescField): boolean {
  return (
    f.fieldKind === "message" &&
    f.oneof === undefined &&
    f.message.typeName.startsWith("google.protobuf.") &&
    f.message.typeName.endsWith("Value") &&
    f.message.fields[0]?.fieldKind === "scalar"
  );
}

/** The canonical form of a message. */
export function normalize(desc: DescMessage, m: Obj): Obj {
  const out: Obj = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const o = own(m, member.localName) as { case?: string; value?: unknown } | undefined;
      if (o?.case !== undefined) {
        const f = member.fields.find((x) => x.localName === o.case);
        if (f === undefined) throw new Error(`unknown oneof case ${o.case}`);
        out[member.localName] = { case: o.case, value: value(f, o.value, false) };
      }
      continue;
    }
    const f = member;
    const v = own(m, f.localName);
    if (v === undefined) continue;
    switch (f.fieldKind) {
      case "list": {
        const a = v as unknown[];
        if (a.length > 0) {
          out[f.localName] = a.map((x) =>
            f.listKind === "message" ? normalize(f.message, x as Obj) : scalar(x),
          );
        }
        break;
      }
      case "map": {
        const entries = Object.keys(v as Obj)
          .sort()
          .map((k) => {
            const x = (v as Obj)[k];
            return [k, f.mapKind === "message" ? normalize(f.message, x as Obj) : scalar(x)];
          });
        if (entries.length > 0) out[f.localName] = entries;
        break;
      }
      default:
        out[f.localName] = value(f, v, isWrapperField(f));
    }
  }
  const u = unknownBytes(own(m, "$unknown"));
  if (u !== undefined) out.$unknown = u;
  return out;
}
