/**
 * The message types of protobuf-es generated code, read structurally: the core's declarations
 * never import `@bufbuild/protobuf`, so a project without that optional peer type-checks with
 * `skipLibCheck: false`, and one with it gets the same types as protobuf-es's own
 * `MessageShape` / `MessageInitShape` (mirrored here from protobuf-es v2).
 * @module
 */

/** What every protobuf-es message has. */
export interface EsMessage {
  readonly $typeName: string;
}

/** A protobuf-es message descriptor (`DescMessage`), as far as the types need it. */
export interface EsMessageDesc {
  readonly kind: "message";
  readonly typeName: string;
}

/** The message type a generated descriptor carries (codegen v2 or v1), else any message. */
export type EsShape<D> = D extends { readonly $codegenv2: { a: infer T } }
  ? T
  : D extends { readonly $codegenv1: { a: infer T } }
    ? T
    : EsMessage;

/** What `create()` accepts for a descriptor's message: the message, or its fields, all optional. */
export type EsInitShape<D> = D extends { readonly $codegenv2: { a: infer T } }
  ? MessageInit<T>
  : D extends { readonly $codegenv1: { a: infer T } }
    ? MessageInit<T>
    : Record<string, unknown>;

type MessageInit<T> =
  | T
  | {
      [P in keyof T as P extends "$unknown" ? never : P]?: P extends "$typeName"
        ? never
        : FieldInit<T[P]>;
    };

type OneofADT = { case: undefined; value?: undefined } | { case: string; value: unknown };

type FieldInit<F> = F extends Date | Uint8Array | bigint | boolean | string | number
  ? F
  : F extends Array<infer U>
    ? Array<FieldInit<U>>
    : F extends ReadonlyArray<infer U>
      ? ReadonlyArray<FieldInit<U>>
      : F extends EsMessage
        ? MessageInit<F>
        : F extends { case: infer C extends string; value: infer V extends EsMessage }
          ? { case: C; value: MessageInit<V> }
          : F extends OneofADT
            ? F
            : F extends { [key: string | number]: infer V extends EsMessage }
              ? { [key: string | number]: MessageInit<V> }
              : F;
