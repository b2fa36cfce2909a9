/**
 * What the generators need to know about a field, computed once from its descriptor.
 * @module
 */
import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import type { Refs } from "./names.js";
import { tsType, zero } from "./scalars.js";

let forceString = false;

/** Makes every 64-bit integer a string (option `long_type=string`). */
export function setLongAsString(on: boolean): void {
  forceString = on;
}

/** Whether a field's 64-bit integers are strings (`jstype = JS_STRING` or `long_type=string`). */
export function las(f: { longAsString: boolean }): boolean {
  return forceString || f.longAsString;
}

/** protobuf-es's FeatureSet_FieldPresence values. */
export const PRESENCE = { EXPLICIT: 1, IMPLICIT: 2, LEGACY_REQUIRED: 3 } as const;

const WRAPPERS = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

export type ScalarField = DescField & { fieldKind: "scalar" };

/** A wrapper message (google.protobuf.Int32Value...) whose value field is a scalar. */
export function wrapperScalar(m: DescMessage): ScalarField | undefined {
  const f = m.fields[0];
  if (!WRAPPERS.has(m.typeName) || f === undefined || f.fieldKind !== "scalar") return undefined;
  return f.name === "value" && f.number === 1 ? f : undefined;
}

/** Whether a singular message field is held unwrapped (as protobuf-es does: not in a oneof). */
export function unwrapped(f: DescField): ScalarField | undefined {
  if (f.fieldKind !== "message" || f.oneof !== undefined) return undefined;
  return wrapperScalar(f.message);
}

/** Whether a singular field is absent when undefined (explicit presence, not in a oneof). */
export function hasPresence(f: DescField): boolean {
  if (f.oneof !== undefined) return false;
  if (f.fieldKind === "message") return true;
  if (f.fieldKind === "scalar" || f.fieldKind === "enum") return f.presence !== PRESENCE.IMPLICIT;
  return false;
}

/** Whether a scalar string field rejects invalid UTF-8 (proto3, editions' VERIFY). */
export function strict(f: DescField): boolean {
  return (f as { utf8Validation?: boolean }).utf8Validation === true;
}

/** The numeric values of a closed enum, when the check is needed. */
export function closedValues(e: DescEnum): number[] | undefined {
  return e.open ? undefined : [...new Set(e.values.map((v) => v.number))];
}

/** The TypeScript type of one element (list item, map value, singular value). */
export function elementType(r: Refs, f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
      return tsType(f.scalar, las(f));
    case "enum":
      return r.t(f.enum);
    case "message": {
      const w = unwrapped(f);
      return w !== undefined ? tsType(w.scalar, las(w)) : r.t(f.message);
    }
    case "list":
      switch (f.listKind) {
        case "scalar":
          return tsType(f.scalar, las(f));
        case "enum":
          return r.t(f.enum);
        case "message":
          return r.t(f.message);
      }
      break;
    case "map":
      switch (f.mapKind) {
        case "scalar":
          return tsType(f.scalar, false);
        case "enum":
          return r.t(f.enum);
        case "message":
          return r.t(f.message);
      }
  }
  throw new Error("unreachable");
}

/** The TypeScript type of a field's property (not in a oneof). */
export function fieldType(r: Refs, f: DescField): string {
  if (f.fieldKind === "list") return `${elementType(r, f)}[]`;
  if (f.fieldKind === "map") return `{ [key: string]: ${elementType(r, f)} }`;
  return elementType(r, f);
}

/** The zero value of an enum (its first value). */
export function enumZero(e: DescEnum): number {
  return e.values[0]?.number ?? 0;
}

/** The initial value of a field in a new message, or undefined when it starts absent. */
export function initialValue(r: Refs, f: DescField): string | undefined {
  if (f.oneof !== undefined || hasPresence(f)) return undefined;
  switch (f.fieldKind) {
    case "list":
      return "[]";
    case "map":
      return "{}";
    case "scalar":
      return f.scalar === ScalarType.BYTES ? r.w("$EMPTY") : zero(f.scalar, las(f));
    case "enum":
      return String(enumZero(f.enum));
  }
  return undefined;
}

/** Fields in the order protobuf-es writes them: by number. */
export function sortedFields(m: DescMessage): DescField[] {
  return m.fields.concat().sort((a, b) => a.number - b.number);
}

/** The scalar type a list or map element is read and written as (enums as int32). */
export function elementScalar(f: DescField): ScalarType | undefined {
  if (f.fieldKind === "list" || f.fieldKind === "map") {
    if (f.fieldKind === "list" ? f.listKind === "enum" : f.mapKind === "enum") {
      return ScalarType.INT32;
    }
    return f.scalar;
  }
  if (f.fieldKind === "enum") return ScalarType.INT32;
  if (f.fieldKind === "scalar") return f.scalar;
  return undefined;
}
