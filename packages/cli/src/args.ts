/**
 * Command-line parsing shared by the verbs (node:util parseArgs, strict): the schema flags every
 * verb takes, durations (`5s`, `300ms`, `1.5` seconds), sizes (`4MiB`) and `-H key=value`.
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { usageError } from "./cli-error.js";
import { COMPILERS, type Compiler } from "./schema/compile.js";
import type { SchemaOptions } from "./schema/load.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The schema flags, accepted by every verb that reads schemas. */
export const SCHEMA_OPTIONS = {
  protoset: { type: "string", multiple: true },
  proto: { type: "string", multiple: true },
  "import-path": { type: "string", short: "I", multiple: true },
  "no-builtin": { type: "boolean" },
  compiler: { type: "string" },
} as const satisfies Options;

/** Flags every verb takes. */
export const COMMON_OPTIONS = { help: { type: "boolean", short: "h" } } as const satisfies Options;

/** Parsed flags: strings, string lists and booleans by name. */
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses argv for one verb; a bad flag is a usage error naming the verb. */
export function parse(
  verb: string,
  argv: string[],
  options: Options,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    throw usageError(`${(err as Error).message.split("\n")[0]} (see \`ttrpc ${verb} --help\`)`);
  }
}

/** A string flag's value. */
export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A repeatable string flag's values. */
export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The schema options from parsed flags. */
export function schemaOptions(values: Values): SchemaOptions {
  const compiler = (str(values, "compiler") ?? "auto") as Compiler;
  if (!COMPILERS.includes(compiler)) {
    throw usageError(`--compiler must be one of ${COMPILERS.join(", ")}`);
  }
  return {
    protoset: list(values, "protoset"),
    proto: list(values, "proto"),
    importPath: list(values, "import-path"),
    builtin: values["no-builtin"] !== true,
    compiler,
  };
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A duration in milliseconds: `300ms`, `5s`, `1m30s`, or a plain number of seconds. */
export function duration(flag: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end !== text.length || text.length === 0) {
    throw usageError(
      `${flag} ${JSON.stringify(text)}: not a duration (for example 5s, 300ms, 1m30s or 2.5)`,
    );
  }
  return total;
}

/** A size in bytes: `4194304`, `64KiB`, `4MiB`, `4MB`. */
export function size(flag: string, text: string): number {
  const m = /^(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)$/i.exec(text.trim());
  if (!m)
    throw usageError(`${flag} ${JSON.stringify(text)}: not a size (for example 4194304 or 4MiB)`);
  const unit = (m[2] ?? "").toLowerCase();
  const mult = unit.startsWith("k")
    ? 1024
    : unit.startsWith("m")
      ? 1 << 20
      : unit.startsWith("g")
        ? 1 << 30
        : 1;
  return Number(m[1]) * mult;
}

/** `-H key=value` (or `key: value`) pairs, in order. */
export function headers(values: Values): [string, string][] {
  return list(values, "header").map((h) => {
    const m = /^([^=:]+)(?:=|:\s*)(.*)$/.exec(h);
    if (!m || (m[1] ?? "").trim() === "")
      throw usageError(`-H ${JSON.stringify(h)}: expected key=value`);
    return [(m[1] as string).trim(), m[2] ?? ""];
  });
}
