// containerd event envelopes: packing a task event the way containerd's shims do, and turning a
// received envelope back into something printable.
import {
  createRegistry,
  type DescMessage,
  type MessageShape,
  type Registry,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { type Any, anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Envelope } from "@ttrpc/containerd";
import { file_github_com_containerd_containerd_api_events_task } from "@ttrpc/containerd";

/** Metadata key carrying the namespace on containerd's ttrpc calls. */
export const NAMESPACE_METADATA_KEY = "containerd-namespace-ttrpc";

/** The task event messages (containerd.events.Task*). */
export const taskEventRegistry: Registry = createRegistry(
  file_github_com_containerd_containerd_api_events_task,
);

/**
 * Packs an event as containerd's typeurl does: the type URL is the bare message name
 * (`containerd.events.TaskExit`), without the `type.googleapis.com/` prefix.
 */
export function packEvent<D extends DescMessage>(schema: D, message: MessageShape<D>): Any {
  return {
    $typeName: "google.protobuf.Any",
    typeUrl: schema.typeName,
    value: toBinary(schema, message),
  };
}

/** A received envelope, decoded as far as the registry allows. */
export interface ReceivedEvent {
  namespace: string;
  topic: string;
  timestamp: Date | undefined;
  typeUrl: string;
  /** The decoded event (the message), when its type is known. */
  event: unknown;
  /** The event as protobuf JSON, when its type is known. */
  json: unknown;
}

export function decodeEnvelope(envelope: Envelope, registry = taskEventRegistry): ReceivedEvent {
  const any = envelope.event;
  const typeUrl = any?.typeUrl ?? "";
  let event: unknown;
  let json: unknown;
  if (any) {
    const message = anyUnpack(any, registry);
    if (message) {
      event = message;
      const desc = registry.getMessage(message.$typeName);
      if (desc) json = toJson(desc, message, { registry });
    }
  }
  return {
    namespace: envelope.namespace,
    topic: envelope.topic,
    timestamp: envelope.timestamp ? timestampDate(envelope.timestamp) : undefined,
    typeUrl,
    event,
    json,
  };
}
