// Publishes an event into containerd with our ttrpc client: Events/Forward on containerd's own
// ttrpc socket (`[ttrpc] address` in its config; /run/containerd/containerd.sock.ttrpc by
// default). Every `ctr events` subscriber sees it:
//
//   ctr -a $ADDR events &                        # prints: <time> <namespace> /tasks/oom {"container_id":"demo"}
//   tsx examples/containerd/publish-event.ts --ttrpc $ADDR.ttrpc --namespace default --container demo

import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Events, TaskOOMSchema } from "@ttrpc/containerd";
import { connect, createClient } from "ttrpc";
import { packEvent } from "./lib/events.js";

/** Forwards one /tasks/oom event (containerd.events.TaskOOM) for `containerId` in `namespace`. */
export async function publishOomEvent(
  ttrpcAddress: string,
  namespace: string,
  containerId: string,
): Promise<void> {
  const conn = await connect(ttrpcAddress);
  try {
    const events = createClient(Events, conn);
    await events.forward(
      {
        envelope: {
          timestamp: timestampNow(),
          namespace, // containerd checks it: an empty namespace is InvalidArgument
          topic: "/tasks/oom",
          event: packEvent(TaskOOMSchema, create(TaskOOMSchema, { containerId })),
        },
      },
      { timeoutMs: 5000 },
    );
  } finally {
    await conn.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      ttrpc: { type: "string", default: "/run/containerd/containerd.sock.ttrpc" },
      namespace: { type: "string", default: "default" },
      container: { type: "string", default: "ttrpc-ts-demo" },
    },
  });
  await publishOomEvent(values.ttrpc, values.namespace, values.container);
  console.log(
    `published /tasks/oom {container_id: ${values.container}} in namespace ${values.namespace} to ${values.ttrpc}`,
  );
}
