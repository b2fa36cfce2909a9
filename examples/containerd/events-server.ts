// Our ttrpc server as containerd's events endpoint: `containerd.services.events.ttrpc.v1.Events`.
//
// A runtime v2 shim publishes its task events (/tasks/create, /tasks/start, /tasks/exit, …) with
// Events/Forward to the socket named by TTRPC_ADDRESS, with the namespace in the
// `containerd-namespace-ttrpc` metadata. Point a real containerd-shim-runc-v2 at this server and
// every event it publishes is printed:
//
//   tsx examples/containerd/events-server.ts /tmp/events.sock
//   TTRPC_ADDRESS=/tmp/events.sock containerd-shim-runc-v2 … start    (see drive-shim.ts)
import { pathToFileURL } from "node:url";
import { Events } from "@ttrpc/containerd";
import { createServer, type Server } from "ttrpc";
import { decodeEnvelope, NAMESPACE_METADATA_KEY, type ReceivedEvent } from "./lib/events.js";

export interface ForwardedEvent extends ReceivedEvent {
  /** The `containerd-namespace-ttrpc` metadata of the call (the shim sends it; containerd does not). */
  metadataNamespace: string | undefined;
}

export interface EventsServer {
  server: Server;
  events: ForwardedEvent[];
  close(): Promise<void>;
}

/** Serves Events/Forward on `path`; every event lands in `events` and goes to `onEvent`. */
export async function startEventsServer(
  path: string,
  onEvent?: (event: ForwardedEvent) => void,
): Promise<EventsServer> {
  const events: ForwardedEvent[] = [];
  const server = createServer();
  server.register(Events, {
    async forward(request, ctx) {
      if (!request.envelope) throw new Error("Forward without an envelope");
      const event: ForwardedEvent = {
        ...decodeEnvelope(request.envelope),
        metadataNamespace: ctx.metadata.get(NAMESPACE_METADATA_KEY),
      };
      events.push(event);
      onEvent?.(event);
      return {};
    },
  });
  await server.listen(path);
  return {
    server,
    events,
    close: () => server.shutdown(),
  };
}

/** One line per event, as `ctr events` prints them. */
export function formatEvent(e: ForwardedEvent): string {
  return `${e.timestamp?.toISOString() ?? "-"} ${e.namespace} ${e.topic} ${e.typeUrl} ${JSON.stringify(e.json ?? null)} (metadata namespace: ${e.metadataNamespace ?? "none"})`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? "/tmp/ttrpc-ts-events.sock";
  const { close } = await startEventsServer(path, (e) => console.log(formatEvent(e)));
  console.log(`events server listening on ${path}; Ctrl-C to stop`);
  const stop = () => {
    void close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
