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

function fieldNumber(raw: Uint8Array): number {
  let v = 0;
  let mul = 1;
  for (const b of raw) {
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) break;
  }
  return Math.floor(v / 8);
}

/**
 * Unknown fields as raw bytes: ours are already raw, protobuf-es's are {no, wireType, data}.
 * Entries whose field number is in `drop` are left out.
 */
function unknownBytes(u: unknown, drop: Set<number> | undefined): number[] | undefined {
  if (!Array.isArray(u) || u.length === 0) return undefined;
  const out: number[] = [];
  for (const x of u) {
    if (x instanceof Uint8Array) {
      if (drop?.has(fieldNumber(x))) continue;
      out.push(...x);
    } else {
      const { no, wireType, data } = x as { no: number; wireType: number; data: Uint8Array };
      if (drop?.has(no)) continue;
      varint(no * 8 + wireType, out);
      out.push(...data);
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Options of {@link normalize}. */
export interface NormalizeOptions {
  /**
   * Leave out unknown fields that carry a closed enum's unknown value. protobuf-es loses them
   * when another unknown field follows in the same message (its reader replaces the list the
   * enum reader appended to); the generated code keeps both.
   */
  dropClosedEnumUnknowns?: boolean;
}

function closedEnumNumbers(desc: DescMessage): Set<number> {
  return new Set(
    desc.fields.filter((f) => f.fieldKind === "enum" && !f.enum.open).map((f) => f.number),
  );
}

function scalar(v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v;
}

function value(f: DescField, v: unknown, wrapper: boolean, o: NormalizeOptions): unknown {
  if (f.fieldKind === "message" && !wrapper) return normalize(f.message, v as Obj, o);
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
export function normalize(desc: DescMessage, m: Obj, o: NormalizeOptions = {}): Obj {
  const out: Obj = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const oneof = own(m, member.localName) as { case?: string; value?: unknown } | undefined;
      if (oneof?.case !== undefined) {
        const f = member.fields.find((x) => x.localName === oneof.case);
        if (f === undefined) throw new Error(`unknown oneof case ${oneof.case}`);
        out[member.localName] = { case: oneof.case, value: value(f, oneof.value, false, o) };
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
            f.listKind === "message" ? normalize(f.message, x as Obj, o) : scalar(x),
          );
        }
        break;
      }
      case "map": {
        const entries = Object.keys(v as Obj)
          .sort()
          .map((k) => {
            const x = (v as Obj)[k];
            return [k, f.mapKind === "message" ? normalize(f.message, x as Obj, o) : scalar(x)];
          });
        if (entries.length > 0) out[f.localName] = entries;
        break;
      }
      default:
        out[f.localName] = value(f, v, isWrapperField(f), o);
    }
  }
  const u = unknownBytes(
    own(m, "$unknown"),
    o.dropClosedEnumUnknowns ? closedEnumNumbers(desc) : undefined,
  );
  if (u !== undefined) out.$unknown = u;
  return out;
}
