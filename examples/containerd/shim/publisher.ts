// Publishes task events to containerd the way Go shims do: Events/Forward on the ttrpc socket
// named by TTRPC_ADDRESS, the namespace in the `containerd-namespace-ttrpc` metadata, one call at
// a time so that events keep their order.
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Events } from "@ttrpc/containerd";
import { type Client, type Connection, connect, createClient } from "ttrpc";
import { NAMESPACE_METADATA_KEY, packEvent } from "../lib/events.js";
import { socketPathOf } from "../lib/util.js";

export class Publisher {
  readonly #address: string | undefined;
  readonly #namespace: string;
  readonly #log: (line: string) => void;
  #conn: Promise<Connection> | undefined;
  #client: Client<typeof Events> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(address: string | undefined, namespace: string, log: (line: string) => void) {
    this.#address = address ? socketPathOf(address) : undefined;
    this.#namespace = namespace;
    this.#log = log;
  }

  /** Queues one event; failures are logged, never thrown (events are best effort, as in Go). */
  publish<D extends DescMessage>(topic: string, schema: D, init: MessageInitShape<D>): void {
    const address = this.#address;
    if (!address) return;
    const event = packEvent(schema, create(schema, init));
    this.#queue = this.#queue.then(async () => {
      try {
        this.#conn ??= connect(address);
        const conn = await this.#conn;
        this.#client ??= createClient(Events, conn);
        await this.#client.forward(
          {
            envelope: {
              timestamp: timestampNow(),
              namespace: this.#namespace,
              topic,
              event,
            },
          },
          { metadata: { [NAMESPACE_METADATA_KEY]: this.#namespace }, timeoutMs: 5000 },
        );
        this.#log(`published ${topic}`);
      } catch (err) {
        this.#log(`publishing ${topic} to ${address} failed: ${String(err)}`);
        this.#conn = undefined; // reconnect on the next event
        this.#client = undefined;
      }
    });
  }

  /** Waits for queued events, then closes the connection. */
  async close(): Promise<void> {
    await this.#queue;
    const conn = await this.#conn?.catch(() => undefined);
    await conn?.close();
  }
}
