/**
 * Request input for `call` and `bench`: `-d JSON`, `-d @file`, `-d @-` (stdin). One JSON message for
 * unary and server-streaming calls; NDJSON (one message per line) for client and bidi streams,
 * read as lines arrive so a bidi call interleaves its output with its input.
 * @module
 */
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { JsonValue } from "@bufbuild/protobuf";
import { CliError } from "./cli-error.js";

/** Where request text comes from. */
export type Source =
  | { kind: "text"; text: string; where: string }
  | { kind: "stream"; stream: Readable; where: string };

/** The source `-d` names; without -d, `fallback` (stdin for streams, `{}` otherwise). */
export function sourceOf(
  data: string | undefined,
  fallback: "stdin" | "empty",
  stdin: Readable,
): Source {
  if (data === undefined) {
    return fallback === "stdin"
      ? { kind: "stream", stream: stdin, where: "stdin" }
      : { kind: "text", text: "{}", where: "-d" };
  }
  if (data === "@-") return { kind: "stream", stream: stdin, where: "stdin" };
  if (data.startsWith("@")) {
    const path = data.slice(1);
    try {
      statSync(path);
    } catch (err) {
      throw new CliError(
        `cannot read -d ${data}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    // Streamed, so a fifo or a large NDJSON file need not be read whole first.
    return { kind: "stream", stream: createReadStream(path), where: path };
  }
  return { kind: "text", text: data, where: "-d" };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CliError(`${where}: invalid JSON: ${(err as Error).message}`);
  }
}

/** The one message of a unary or server-streaming call (empty input means `{}`). */
export async function single(source: Source): Promise<{ value: JsonValue; where: string }> {
  const text = source.kind === "text" ? source.text : await readAll(source.stream);
  if (text.trim() === "") return { value: {}, where: source.where };
  return { value: parseJson(text, source.where), where: source.where };
}

/** The messages of a client or bidi stream: one JSON value per non-empty line, as lines arrive. */
export async function* lines(source: Source): AsyncGenerator<{ value: JsonValue; where: string }> {
  if (source.kind === "text") {
    let n = 0;
    for (const line of source.text.split("\n")) {
      n++;
      if (line.trim() === "") continue;
      const where = `${source.where} line ${n}`;
      yield { value: parseJson(line, where), where };
    }
    return;
  }
  const rl = createInterface({ input: source.stream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.trim() === "") continue;
      const where = `${source.where} line ${n}`;
      yield { value: parseJson(line, where), where };
    }
  } finally {
    rl.close();
  }
}
