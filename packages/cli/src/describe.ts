/**
 * `ttrpc list [SERVICE]` and `ttrpc describe [SYMBOL]`, printed the way grpcurl prints them, from
 * the loaded schemas (ttrpc has no reflection); `describe --template` prints a request skeleton.
 * @module
 */

import type { Writable } from "node:stream";
import type { DescEnum, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { parse, SCHEMA_OPTIONS, schemaOptions } from "./args.js";
import { CliError, usageError } from "./cli-error.js";
import { template } from "./json.js";
import { printEnum, printMessage, printMethod, printService } from "./protoprint.js";
import { loadSchema } from "./schema/load.js";
import { didYouMean, type Schema } from "./schema/schema.js";

/** The flags of `list`. */
export const LIST_OPTIONS = {
  ...SCHEMA_OPTIONS,
  origin: { type: "boolean" },
  methods: { type: "boolean" },
} as const;
/** The flags of `describe`. */
export const DESCRIBE_OPTIONS = {
  ...SCHEMA_OPTIONS,
  template: { type: "boolean" },
  "proto-names": { type: "boolean" },
} as const;

function originOf(schema: Schema, s: DescService): string {
  for (let i = 0; i < schema.registries.length; i++) {
    if (schema.registries[i]?.getService(s.typeName)) return schema.origins[i] ?? "";
  }
  return "";
}

/** Runs `ttrpc list`; resolves to the exit status. */
export async function runList(argv: string[], out: Writable): Promise<number> {
  const { values, positionals } = parse("list", argv, LIST_OPTIONS);
  if (positionals.length > 1)
    throw usageError("expected at most one SERVICE (see `ttrpc list --help`)");
  const schema = await loadSchema(schemaOptions(values));
  const name = positionals[0];
  if (name === undefined && values.methods === true) {
    for (const s of schema.services())
      for (const m of s.methods) out.write(`${s.typeName}/${m.name}\n`);
    return 0;
  }
  if (name === undefined) {
    const services = schema.services().sort((a, b) => a.typeName.localeCompare(b.typeName));
    for (const s of services) {
      out.write(
        values.origin === true ? `${s.typeName}\t${originOf(schema, s)}\n` : `${s.typeName}\n`,
      );
    }
    return 0;
  }
  const service = schema.service(name);
  if (!service) {
    const names = schema.services().map((s) => s.typeName);
    throw new CliError(`unknown service ${name}${didYouMean(name, names)}`);
  }
  for (const m of service.methods) out.write(`${service.typeName}.${m.name}\n`);
  return 0;
}

/** The grpcurl-style description of one symbol. */
export function describeSymbol(sym: DescService | DescMethod | DescMessage | DescEnum): string {
  switch (sym.kind) {
    case "service":
      return `${sym.typeName} is a service:\n${printService(sym)}`;
    case "rpc":
      return `${sym.parent.typeName}.${sym.name} is a method:\n${printMethod(sym, "")}`;
    case "message":
      return `${sym.typeName} is a message:\n${printMessage(sym, "")}`;
    case "enum":
      return `${sym.typeName} is an enum:\n${printEnum(sym, "")}`;
  }
}

/** Runs `ttrpc describe`; resolves to the exit status. */
export async function runDescribe(argv: string[], out: Writable): Promise<number> {
  const { values, positionals } = parse("describe", argv, DESCRIBE_OPTIONS);
  const schema = await loadSchema(schemaOptions(values));
  if (positionals.length === 0) {
    if (values.template === true) throw usageError("--template needs a message or method name");
    const services = schema.services().sort((a, b) => a.typeName.localeCompare(b.typeName));
    out.write(services.map(describeSymbol).join("\n"));
    return 0;
  }
  const texts = positionals.map((name) => {
    const sym = schema.symbol(name);
    if (!sym) throw new CliError(`unknown symbol ${name}${didYouMean(name, schema.symbolNames())}`);
    if (values.template !== true) return describeSymbol(sym);
    const message = sym.kind === "rpc" ? sym.input : sym.kind === "message" ? sym : undefined;
    if (!message) {
      const what = sym.kind === "enum" ? "an enum" : "a service";
      throw new CliError(`--template needs a message or a method, and ${name} is ${what}`);
    }
    return `${JSON.stringify(template(message, values["proto-names"] === true), null, 2)}\n`;
  });
  out.write(texts.join("\n"));
  return 0;
}
