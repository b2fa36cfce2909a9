/**
 * The schemas the command knows: descriptor sets (from --protoset, compiled --proto files and the
 * built-in containerd and NRI sets) turned into protobuf-es registries, searched in the order given,
 * so a user's schema wins over a built-in one with the same names.
 * @module
 */
import {
  createFileRegistry,
  createRegistry,
  type DescEnum,
  type DescMessage,
  type DescMethod,
  type DescService,
  type FileRegistry,
  type Registry,
} from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { CliError } from "../cli-error.js";
import { suggest } from "../suggest.js";

/** A named descriptor set: where it came from (for messages) and its files. */
export interface SchemaSource {
  /** `--protoset file.binpb`, `--proto file.proto (protoc)`, `built-in containerd`, ... */
  origin: string;
  set: FileDescriptorSet;
}

/** Anything `describe` can name. */
export type SchemaSymbol = DescService | DescMethod | DescMessage | DescEnum;

/** The loaded schemas. */
export class Schema {
  readonly registries: FileRegistry[] = [];
  readonly origins: string[] = [];
  /** One registry over all of them, for `google.protobuf.Any` and error details. */
  readonly typeRegistry: Registry;

  constructor(sources: readonly SchemaSource[]) {
    for (const source of sources) {
      try {
        this.registries.push(createFileRegistry(source.set));
        this.origins.push(source.origin);
      } catch (err) {
        throw new CliError(
          `${source.origin}: not a usable descriptor set: ${(err as Error).message}`,
        );
      }
    }
    // createRegistry lets a later input replace an earlier one: reversed, the first source wins.
    this.typeRegistry = createRegistry(...[...this.registries].reverse());
  }

  /** Every service, first source first, each name once. */
  services(): DescService[] {
    const seen = new Map<string, DescService>();
    for (const reg of this.registries) {
      for (const file of reg.files) {
        for (const s of file.services) if (!seen.has(s.typeName)) seen.set(s.typeName, s);
      }
    }
    return [...seen.values()];
  }

  /** A service by its full name. */
  service(name: string): DescService | undefined {
    const clean = name.replace(/^\./, "");
    for (const reg of this.registries) {
      const s = reg.getService(clean);
      if (s) return s;
    }
    return undefined;
  }

  /** A message by its full name. */
  message(name: string): DescMessage | undefined {
    const clean = name.replace(/^\./, "");
    for (const reg of this.registries) {
      const m = reg.getMessage(clean);
      if (m) return m;
    }
    return undefined;
  }

  /** An enum by its full name. */
  enumType(name: string): DescEnum | undefined {
    const clean = name.replace(/^\./, "");
    for (const reg of this.registries) {
      const e = reg.getEnum(clean);
      if (e) return e;
    }
    return undefined;
  }

  /**
   * The method `SERVICE/METHOD` (also `SERVICE.METHOD` and a leading `/`), or a clear error that
   * names the closest services or methods the schemas know.
   */
  method(path: string): DescMethod {
    const m = /^\/?([A-Za-z0-9_.]+)[/.]([A-Za-z0-9_]+)$/.exec(path);
    if (!m)
      throw new CliError(
        `${JSON.stringify(path)} is not SERVICE/METHOD (for example containerd.task.v2.Task/State)`,
      );
    const [, serviceName = "", methodName = ""] = m;
    const service = this.service(serviceName);
    if (!service) {
      const names = this.services().map((s) => s.typeName);
      throw new CliError(
        `unknown service ${serviceName}${didYouMean(serviceName, names)}; load its schema with --protoset or --proto (see \`ttrpc list\`)`,
      );
    }
    const method = service.methods.find((x) => x.name === methodName);
    if (!method) {
      const names = service.methods.map((x) => x.name);
      throw new CliError(
        `${service.typeName} has no method ${methodName}${didYouMean(methodName, names)}`,
      );
    }
    return method;
  }

  /** Any symbol by its full name: a service, a method (`pkg.Service.Method`), a message or an enum. */
  symbol(name: string): SchemaSymbol | undefined {
    const clean = name.replace(/^\./, "").replace("/", ".");
    const found = this.service(clean) ?? this.message(clean) ?? this.enumType(clean);
    if (found) return found;
    const dot = clean.lastIndexOf(".");
    if (dot > 0) {
      const svc = this.service(clean.slice(0, dot));
      return svc?.methods.find((x) => x.name === clean.slice(dot + 1));
    }
    return undefined;
  }

  /** Every full name `describe` accepts, for suggestions and shell completion. */
  symbolNames(): string[] {
    const names = new Set<string>();
    for (const reg of this.registries) {
      for (const file of reg.files) {
        for (const s of file.services) {
          names.add(s.typeName);
          for (const m of s.methods) names.add(`${s.typeName}.${m.name}`);
        }
      }
      for (const t of reg) if (t.kind === "message" || t.kind === "enum") names.add(t.typeName);
    }
    return [...names];
  }
}

/** ", did you mean X or Y?" when there are close names, else "". */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const close = suggest(name, candidates);
  return close.length === 0 ? "" : `; did you mean ${close.join(" or ")}?`;
}
