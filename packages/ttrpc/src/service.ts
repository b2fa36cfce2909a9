/**
 * Service definitions: the codec seam between the engine and any protobuf runtime.
 *
 * The engine only ever sees a method's names, a kind and two codecs. A service comes in
 * as a plain {@link ServiceDef} (hand-written codecs, a static code generator, any runtime) or as a
 * protobuf-es v2 `GenService`; the latter loads `@bufbuild/protobuf` on first use, so a process
 * that uses only plain definitions never loads it.
 * @module
 */
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, HandlerContext } from "./context.js";
import { requestPrefix } from "./envelope.js";
import { Code, TtrpcError } from "./errors.js";
import type { EsInitShape, EsMessageDesc, EsShape } from "./es-types.js";
import type { AnyIterable, EngineMethod, MessageCodec, MethodKind } from "./method.js";

/** One method of a plain service definition. */
// biome-ignore lint/suspicious/noExplicitAny: codecs are contravariant; `any` lets inference pick I and O.
export interface MethodDef<I = any, O = any, K extends MethodKind = MethodKind> {
  /** The proto method name, as sent in `Request.method` (e.g. `Create`). */
  name: string;
  kind: K;
  input: MessageCodec<I>;
  output: MessageCodec<O>;
}

/** A plain service definition: the fully-qualified proto service name and its methods by local name. */
export interface ServiceDef<M extends Record<string, MethodDef> = Record<string, MethodDef>> {
  /** The fully-qualified proto service name, as sent in `Request.service` (e.g. `containerd.task.v2.Task`). */
  typeName: string;
  /** Methods keyed by their local (lowerCamel) name, the name clients and implementations use. */
  methods: M;
}

/**
 * Declares a plain service; it only checks the shape and keeps the literal types.
 *
 * @example
 * const Greeter = defineService({
 *   typeName: "demo.v1.Greeter",
 *   methods: { sayHello: { name: "SayHello", kind: "unary", input: jsonCodec, output: jsonCodec } },
 * });
 */
export function defineService<const M extends Record<string, MethodDef>>(def: {
  typeName: string;
  methods: M;
}): ServiceDef<M> {
  if (typeof def.typeName !== "string" || def.typeName.length === 0) {
    throw new TypeError("defineService: typeName must be a non-empty string");
  }
  for (const [key, m] of Object.entries(def.methods)) {
    if (!m || typeof m.name !== "string" || !m.input || !m.output) {
      throw new TypeError(`defineService: method ${key} needs name, kind, input and output`);
    }
  }
  return { typeName: def.typeName, methods: def.methods };
}

/** A service as the engine sees it. */
export interface ServiceInfo {
  readonly typeName: string;
  readonly methods: readonly EngineMethod[];
  /** Pending while the protobuf runtime a descriptor needs is loading; undefined once usable. */
  ready: Promise<void> | undefined;
}

// ---------------------------------------------------------------- protobuf-es adapter

type Runtime = typeof import("@bufbuild/protobuf");
let runtime: Runtime | undefined;
let loading: Promise<void> | undefined;

function loadRuntime(): Promise<void> {
  loading ??= import("@bufbuild/protobuf").then(
    (mod) => {
      runtime = mod;
    },
    (err: unknown) => {
      loading = undefined;
      throw new TtrpcError(
        "ttrpc: a protobuf-es service descriptor needs the optional peer dependency @bufbuild/protobuf",
        Code.Internal,
        { cause: err },
      );
    },
  );
  return loading;
}

function esCodec(schema: DescMessage): MessageCodec<unknown> {
  return {
    encode(message) {
      const rt = runtime as Runtime;
      // create() returns a message of this type as is and builds one from an init object.
      return rt.toBinary(schema, rt.create(schema, message as MessageInitShape<DescMessage>));
    },
    decode(bytes) {
      return (runtime as Runtime).fromBinary(schema, bytes);
    },
  };
}

interface EsMethodLike {
  kind: "rpc";
  name: string;
  localName: string;
  methodKind: MethodKind;
  input: DescMessage;
  output: DescMessage;
}
interface EsServiceLike {
  kind: "service";
  typeName: string;
  methods: EsMethodLike[];
}

function isEsService(value: unknown): value is EsServiceLike {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "service" &&
    Array.isArray((value as { methods?: unknown }).methods)
  );
}

function info(
  service: string,
  name: string,
  localName: string,
  kind: MethodKind,
  input: MessageCodec<unknown>,
  output: MessageCodec<unknown>,
  desc: unknown,
): EngineMethod {
  return {
    service,
    name,
    localName,
    kind,
    path: `/${service}/${name}`,
    input,
    output,
    desc,
    prefix: requestPrefix(service, name),
  };
}

const kinds = new Set<string>(["unary", "server_streaming", "client_streaming", "bidi_streaming"]);
const normalized = new WeakMap<object, ServiceInfo>();

/** Normalises a protobuf-es `GenService`/`DescService` or a {@link ServiceDef} (cached per object). */
export function normalizeService(service: AnyService): ServiceInfo {
  const cached = normalized.get(service);
  if (cached) return cached;
  let result: ServiceInfo;
  if (isEsService(service)) {
    const methods = service.methods.map((m) =>
      info(
        service.typeName,
        m.name,
        m.localName,
        m.methodKind,
        esCodec(m.input),
        esCodec(m.output),
        m,
      ),
    );
    result = { typeName: service.typeName, methods, ready: undefined };
    if (runtime === undefined) {
      result.ready = loadRuntime().then(() => {
        result.ready = undefined;
      });
      // Callers await `ready`; an unobserved failure here must not crash the process.
      result.ready.catch(() => {});
    }
  } else {
    const def = service as ServiceDef;
    if (typeof def?.typeName !== "string" || typeof def.methods !== "object") {
      throw new TypeError(
        "ttrpc: expected a protobuf-es service descriptor or a defineService() definition",
      );
    }
    const methods = Object.entries(def.methods).map(([localName, m]) => {
      if (!kinds.has(m.kind))
        throw new TypeError(`ttrpc: method ${localName} has an unknown kind ${m.kind}`);
      return info(def.typeName, m.name, localName, m.kind, m.input, m.output, undefined);
    });
    result = { typeName: def.typeName, methods, ready: undefined };
  }
  normalized.set(service, result);
  return result;
}

// ---------------------------------------------------------------- types derived from a service

/** A protobuf-es service descriptor (`GenService`), as far as the types need it. */
export interface EsService {
  kind: "service";
  typeName: string;
  method: Record<string, { methodKind: MethodKind; input: EsMessageDesc; output: EsMessageDesc }>;
}

/** Anything `createClient` and `register` accept. */
export type AnyService = EsService | ServiceDef;

type ClientMethod<K, I, O> = K extends "unary"
  ? (request: I, options?: CallOptions) => Promise<O>
  : K extends "server_streaming"
    ? (request: I, options?: CallOptions) => AsyncIterable<O>
    : K extends "client_streaming"
      ? (requests: AnyIterable<I>, options?: CallOptions) => Promise<O>
      : K extends "bidi_streaming"
        ? (requests: AnyIterable<I>, options?: CallOptions) => AsyncIterable<O>
        : never;

type Handler<K, I, O> = K extends "unary"
  ? (request: I, context: HandlerContext) => O | Promise<O>
  : K extends "server_streaming"
    ? (request: I, context: HandlerContext) => AnyIterable<O>
    : K extends "client_streaming"
      ? (requests: AsyncIterable<I>, context: HandlerContext) => O | Promise<O>
      : K extends "bidi_streaming"
        ? (requests: AsyncIterable<I>, context: HandlerContext) => AnyIterable<O>
        : never;

/** The client `createClient` returns: one method per RPC, keyed by local name. */
export type Client<S extends AnyService> = S extends EsService
  ? {
      [K in keyof S["method"]]: ClientMethod<
        S["method"][K]["methodKind"],
        EsInitShape<S["method"][K]["input"]>,
        EsShape<S["method"][K]["output"]>
      >;
    }
  : S extends ServiceDef<infer M>
    ? {
        [K in keyof M]: M[K] extends MethodDef<infer I, infer O, infer MK>
          ? ClientMethod<MK, I, O>
          : never;
      }
    : never;

/** A complete implementation of a service; `register` takes a partial one. */
export type ServiceImpl<S extends AnyService> = S extends EsService
  ? {
      [K in keyof S["method"]]: Handler<
        S["method"][K]["methodKind"],
        EsShape<S["method"][K]["input"]>,
        EsInitShape<S["method"][K]["output"]>
      >;
    }
  : S extends ServiceDef<infer M>
    ? {
        [K in keyof M]: M[K] extends MethodDef<infer I, infer O, infer MK>
          ? Handler<MK, I, O>
          : never;
      }
    : never;
