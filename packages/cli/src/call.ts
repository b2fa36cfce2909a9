/**
 * `ttrpc call ADDR SERVICE/METHOD`: one call of any kind, JSON in and out. Replies go to stdout
 * (a unary reply as one JSON document, stream messages as NDJSON, as they arrive); a failed call
 * prints its status as one JSON line on stderr and exits with the status code.
 * @module
 */

import type { Readable, Writable } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import { type CallOptions, Code, createClient, TtrpcError } from "ttrpc";
import {
  duration,
  headers,
  parse,
  SCHEMA_OPTIONS,
  schemaOptions,
  size,
  str,
  type Values,
} from "./args.js";
import { CliError, usageError } from "./cli-error.js";
import { open } from "./conn.js";
import { statusLine } from "./errors.js";
import { lines, single, sourceOf } from "./input.js";
import { JsonCodec } from "./json.js";
import { rawService } from "./rawservice.js";
import { loadSchema } from "./schema/load.js";

/** The flags of `call`. */
export const CALL_OPTIONS = {
  ...SCHEMA_OPTIONS,
  data: { type: "string", short: "d" },
  header: { type: "string", short: "H", multiple: true },
  namespace: { type: "string" },
  timeout: { type: "string" },
  "max-msg-size": { type: "string" },
  "emit-defaults": { type: "boolean" },
  "proto-names": { type: "boolean" },
  "allow-unknown-fields": { type: "boolean" },
  compact: { type: "boolean" },
} as const;

/** Where the verb reads and writes (the process's streams, or a test's). */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** The metadata, deadline and size limit of a call, from its flags. */
export function callSettings(values: Values): {
  options: CallOptions;
  maxMessageBytes: number | undefined;
} {
  const metadata: [string, string][] = headers(values);
  const ns = str(values, "namespace");
  if (ns !== undefined) metadata.push(["containerd-namespace-ttrpc", ns]);
  const timeout = str(values, "timeout");
  const max = str(values, "max-msg-size");
  const options: CallOptions = {};
  if (metadata.length > 0) options.metadata = metadata;
  if (timeout !== undefined) options.timeoutMs = duration("--timeout", timeout);
  return { options, maxMessageBytes: max === undefined ? undefined : size("--max-msg-size", max) };
}

type Unary = (req: unknown, o?: CallOptions) => Promise<Uint8Array>;
type Streaming = (req: unknown, o?: CallOptions) => AsyncIterable<Uint8Array>;

/** Runs `ttrpc call`; resolves to the exit status. */
export async function runCall(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse("call", argv, CALL_OPTIONS);
  if (positionals.length !== 2)
    throw usageError("expected ADDR SERVICE/METHOD (see `ttrpc call --help`)");
  const [address = "", path = ""] = positionals;
  const settings = callSettings(values);
  const schema = await loadSchema(schemaOptions(values));
  const method = schema.method(path);
  const codec = new JsonCodec(schema.typeRegistry, {
    emitDefaults: values["emit-defaults"] === true,
    protoNames: values["proto-names"] === true,
    allowUnknown: values["allow-unknown-fields"] === true,
  });
  const streamsIn =
    method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const source = sourceOf(str(values, "data"), streamsIn ? "stdin" : "empty", io.stdin);
  // The single request is read and checked before connecting: bad input never reaches the peer.
  const request = streamsIn ? undefined : await single(source);
  const first = request && codec.encode(method.input, request.value, request.where);

  const print = (bytes: Uint8Array, pretty: boolean) => {
    let json: unknown;
    try {
      json = codec.decode(method.output, bytes);
    } catch (err) {
      throw new CliError(
        `the reply does not decode as ${method.output.typeName} (${(err as Error).message}): does the schema match the server's?`,
        Code.Internal,
      );
    }
    io.stdout.write(
      `${pretty && values.compact !== true ? JSON.stringify(json, null, 2) : JSON.stringify(json)}\n`,
    );
  };
  const opened = await open(address, settings.maxMessageBytes);
  const abort = new AbortController();
  settings.options.signal = abort.signal;
  let inputError: unknown;
  async function* requests(): AsyncGenerator<Uint8Array> {
    try {
      for await (const { value, where } of lines(source))
        yield codec.encode(method.input, value, where);
    } catch (err) {
      inputError = err;
      abort.abort(new TtrpcError("bad input", Code.Canceled));
    }
  }
  const fn = createClient(rawService(method), opened.conn).call as unknown;
  try {
    await invoke(method, fn, first, requests(), settings.options, print);
    return 0;
  } catch (err) {
    if (inputError) throw inputError;
    const bad = opened.notTtrpc();
    if (bad) throw new CliError(`${address} is not a ttrpc server: ${bad}`, Code.Unavailable);
    if (err instanceof TtrpcError) {
      io.stderr.write(`${statusLine(err, (url, v) => codec.decodeAny(url, v))}\n`);
      return err.code;
    }
    throw err;
  } finally {
    await opened.conn.close().catch(() => {});
  }
}

async function invoke(
  method: DescMethod,
  fn: unknown,
  first: Uint8Array | undefined,
  requests: AsyncIterable<Uint8Array>,
  options: CallOptions,
  print: (bytes: Uint8Array, pretty: boolean) => void,
): Promise<void> {
  switch (method.methodKind) {
    case "unary":
      print(await (fn as Unary)(first, options), true);
      return;
    case "client_streaming":
      print(await (fn as Unary)(requests, options), true);
      return;
    case "server_streaming":
      for await (const m of (fn as Streaming)(first, options)) print(m, false);
      return;
    case "bidi_streaming":
      for await (const m of (fn as Streaming)(requests, options)) print(m, false);
      return;
  }
}
