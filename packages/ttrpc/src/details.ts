/**
 * Typed error details: {@link findDetails} decodes the `google.protobuf.Any` details of an error
 * that are of one protobuf-es message type, as connect-es's `findDetails` does. It loads
 * `@bufbuild/protobuf` on first use (an optional peer), and its types never import it.
 * @module
 */
import { Code, TtrpcError } from "./errors.js";
import type { EsMessageDesc, EsShape } from "./es-types.js";

/** The part of protobuf-es's runtime used here. */
interface Runtime {
  fromBinary(schema: never, bytes: Uint8Array): unknown;
}

let loading: Promise<Runtime> | undefined;

function loadRuntime(): Promise<Runtime> {
  loading ??= (import("@bufbuild/protobuf") as Promise<unknown> as Promise<Runtime>).catch(
    (err: unknown) => {
      loading = undefined;
      throw new TtrpcError(
        "ttrpc: findDetails needs the optional peer dependency @bufbuild/protobuf",
        Code.Internal,
        { cause: err },
      );
    },
  );
  return loading;
}

/** The message type name a type URL names: what follows its last "/". */
function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}

/**
 * The details of `error` whose type is `schema` (a protobuf-es generated message descriptor such
 * as `DurationSchema` or `BadRequestSchema`), decoded, in order. Anything that is not a
 * TtrpcError, and details of other types, are skipped; a detail of this type that does not decode
 * rejects. Resolves to `[]` without loading anything when no detail has the type.
 *
 * @example
 * const [retry] = await findDetails(err, RetryInfoSchema);
 * if (retry) setTimeout(again, Number(retry.retryDelay?.seconds ?? 1n) * 1000);
 */
export async function findDetails<D extends EsMessageDesc>(
  error: unknown,
  schema: D,
): Promise<EsShape<D>[]> {
  if (!(error instanceof TtrpcError)) return [];
  const matching = error.details.filter((d) => typeNameOf(d.typeUrl) === schema.typeName);
  if (matching.length === 0) return [];
  const runtime = await loadRuntime();
  return matching.map((d) => runtime.fromBinary(schema as never, d.value) as EsShape<D>);
}
