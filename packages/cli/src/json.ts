/**
 * proto3 JSON in and out of the wire bytes, with protobuf-es: requests from JSON text to binary,
 * replies and error details from binary to JSON. A request that does not fit its message names the
 * field and the closest field names the message has.
 * @module
 */
import {
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type Registry,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { CliError } from "./cli-error.js";
import { suggest } from "./suggest.js";

/** How replies are printed. */
export interface JsonOptions {
  /** Print fields with their zero value too (grpcurl's -emit-defaults). */
  emitDefaults: boolean;
  /** Keep the .proto field names (`exit_status`) instead of lowerCamelCase (`exitStatus`). */
  protoNames: boolean;
  /** Accept and drop request fields the message does not have. */
  allowUnknown: boolean;
}

/** Converts between JSON and the binary encoding of messages known to a registry. */
export class JsonCodec {
  readonly #registry: Registry;
  readonly #options: JsonOptions;

  constructor(registry: Registry, options: JsonOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  /** Parses JSON text (one message) and encodes it as `schema`. `where` names it in errors. */
  encodeText(schema: DescMessage, text: string, where: string): Uint8Array {
    let value: JsonValue;
    try {
      value = JSON.parse(text) as JsonValue;
    } catch (err) {
      throw new CliError(`${where}: invalid JSON: ${(err as Error).message}`);
    }
    return this.encode(schema, value, where);
  }

  /** Encodes a parsed JSON value as `schema`. */
  encode(schema: DescMessage, value: JsonValue, where: string): Uint8Array {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new CliError(
        `${where}: a ${schema.typeName} must be a JSON object, not ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`,
      );
    }
    try {
      const message = fromJson(schema, value, {
        registry: this.#registry,
        ignoreUnknownFields: this.#options.allowUnknown,
      });
      return toBinary(schema, message);
    } catch (err) {
      throw new CliError(`${where}: ${this.explain(schema, (err as Error).message)}`);
    }
  }

  /** A protobuf-es JSON error, with field-name suggestions for an unknown key. */
  explain(schema: DescMessage, message: string): string {
    const m = /cannot decode message ([\w.]+) from JSON: key "([^"]*)" is unknown/.exec(message);
    if (!m) return message.replace(/^cannot decode /, "cannot read ");
    const [, typeName = schema.typeName, key = ""] = m;
    const desc = (this.#registry.getMessage(typeName) ?? schema) as DescMessage;
    const names = desc.fields.flatMap((f) => [f.jsonName, f.name]);
    const close = suggest(key, names);
    const hint =
      close.length > 0 ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(" or ")}?` : "";
    const all = desc.fields.map((f) => (this.#options.protoNames ? f.name : f.jsonName)).join(", ");
    return `${typeName} has no field ${JSON.stringify(key)}${hint} (fields: ${all || "none"})`;
  }

  /** Decodes bytes as `schema` and returns its proto3 JSON. */
  decode(schema: DescMessage, bytes: Uint8Array): JsonValue {
    const message = fromBinary(schema, bytes, { readUnknownFields: false });
    return toJson(schema, message, {
      registry: this.#registry,
      alwaysEmitImplicit: this.#options.emitDefaults,
      useProtoFieldName: this.#options.protoNames,
    });
  }

  /**
   * A `google.protobuf.Any` as JSON: `{"@type": url, ...fields}` when the registry knows the type,
   * else `{"@type": url, "value": base64}`.
   */
  decodeAny(typeUrl: string, value: Uint8Array): Record<string, unknown> {
    const name = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
    const desc = this.#registry.getMessage(name);
    if (desc) {
      try {
        const json = this.decode(desc, value);
        if (json !== null && typeof json === "object" && !Array.isArray(json))
          return { "@type": typeUrl, ...json };
        return { "@type": typeUrl, value: json };
      } catch {
        // not that type after all: fall through to the raw bytes
      }
    }
    return { "@type": typeUrl, value: base64Encode(value) };
  }
}

/** A JSON skeleton of a message: every field with a sample value (`describe --template`). */
export function template(
  schema: DescMessage,
  protoNames: boolean,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const key = protoNames ? f.name : f.jsonName;
    out[key] = sample(f, protoNames, depth);
  }
  return out;
}

type Field = DescMessage["fields"][number];

function scalarSample(scalar: number): unknown {
  // ScalarType: 1 double 2 float 3 int64 4 uint64 5 int32 6 fixed64 7 fixed32 8 bool 9 string
  // 12 bytes 13 uint32 15 sfixed32 16 sfixed64 17 sint32 18 sint64
  if (scalar === 8) return false;
  if (scalar === 9) return "";
  if (scalar === 12) return "";
  if ([3, 4, 6, 16, 18].includes(scalar)) return "0";
  return 0;
}

function messageSample(desc: DescMessage, protoNames: boolean, depth: number): unknown {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return "1970-01-01T00:00:00Z";
    case "google.protobuf.Duration":
      return "0s";
    case "google.protobuf.Any":
      return { "@type": "type.googleapis.com/NAME" };
    case "google.protobuf.Struct":
      return {};
    case "google.protobuf.Value":
      return null;
    case "google.protobuf.Empty":
      return {};
    case "google.protobuf.FieldMask":
      return "";
  }
  if (desc.typeName.startsWith("google.protobuf.") && desc.typeName.endsWith("Value")) {
    const v = desc.fields[0];
    return v?.fieldKind === "scalar" ? scalarSample(v.scalar) : null;
  }
  // Recursive types stop after a few levels.
  return depth >= 4 ? {} : template(desc, protoNames, depth + 1);
}

function sample(f: Field, protoNames: boolean, depth: number): unknown {
  switch (f.fieldKind) {
    case "scalar":
      return scalarSample(f.scalar);
    case "enum":
      return f.enum.values[0]?.name ?? 0;
    case "message":
      return messageSample(f.message, protoNames, depth);
    case "list":
      if (f.listKind === "scalar") return [scalarSample(f.scalar)];
      if (f.listKind === "enum") return [f.enum.values[0]?.name ?? 0];
      return [messageSample(f.message, protoNames, depth)];
    case "map": {
      const v =
        f.mapKind === "scalar"
          ? scalarSample(f.scalar)
          : f.mapKind === "enum"
            ? (f.enum.values[0]?.name ?? 0)
            : messageSample(f.message, protoNames, depth);
      return { "": v };
    }
  }
}
