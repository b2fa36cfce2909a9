/**
 * The plugin's side of NRI's `Plugin` service, built from a plugin's handlers: Configure with the
 * derived event mask, Synchronize (split or not), and each event dispatched to its handler.
 * One instance serves one connection to the runtime.
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, type ServiceImpl, TtrpcError } from "ttrpc";
import { NriError } from "./errors.js";
import { type EventHandlerName, eventMask, eventNames, handlerForEvent } from "./events.js";
import {
  type Container,
  ContainerSchema,
  type Plugin,
  type PodSandbox,
  PodSandboxSchema,
  SynchronizeRequestSchema,
} from "./gen/api_pb.js";
import type { ConfigureInfo, PluginHandlers } from "./handlers.js";

/** What a session reports to the plugin that owns it. */
export interface SessionEvents {
  configured(info: ConfigureInfo, mask: number): void;
  synchronized(pods: number, containers: number, messages: number): void;
  shutdown(): void;
}

const POD_EVENTS = new Set<EventHandlerName>([
  "runPodSandbox",
  "stopPodSandbox",
  "removePodSandbox",
]);

function pod(p: PodSandbox | undefined): PodSandbox {
  return p ?? create(PodSandboxSchema);
}
function container(c: Container | undefined): Container {
  return c ?? create(ContainerSchema);
}

/**
 * Builds the implementation of NRI's `Plugin` service for one connection.
 * @param maxSyncBytes bound on the pods and containers of a split Synchronize held until its last part
 */
export function pluginService(
  handlers: PluginHandlers,
  maxSyncBytes: number,
  events: SessionEvents,
): Partial<ServiceImpl<typeof Plugin>> {
  const handlerMask = eventMask(handlers);
  let mask = handlerMask;
  // A split Synchronize (NRI 0.8+): parts with `more` are collected, the last one is delivered.
  let pendingPods: PodSandbox[] = [];
  let pendingContainers: Container[] = [];
  let pendingBytes = 0;
  let parts = 0;

  const dispatch = async (name: EventHandlerName, p: PodSandbox, c: Container): Promise<void> => {
    if ((mask !== 0 && !eventNames(mask).includes(name)) || !handlers[name]) return;
    if (POD_EVENTS.has(name)) {
      await (handlers[name] as (p: PodSandbox) => unknown).call(handlers, p);
    } else {
      await (handlers[name] as (p: PodSandbox, c: Container) => unknown).call(handlers, p, c);
    }
  };

  return {
    async configure(req) {
      const info: ConfigureInfo = {
        config: req.config,
        runtimeName: req.runtimeName,
        runtimeVersion: req.runtimeVersion,
        registrationTimeoutMs: Number(req.registrationTimeout),
        requestTimeoutMs: Number(req.requestTimeout),
      };
      const wanted = (await handlers.configure?.(info)) ?? 0;
      if (wanted !== 0) {
        const extra = wanted & ~handlerMask;
        if (extra !== 0 || handlerMask === 0) {
          throw new TtrpcError(
            `nri: configure subscribed to events without handlers: ${eventNames(extra).join(", ")}`,
            Code.InvalidArgument,
            { cause: new NriError("unhandled events", "UNHANDLED_EVENTS") },
          );
        }
        mask = wanted;
      } else {
        mask = handlerMask;
      }
      events.configured(info, mask);
      return { events: mask };
    },

    async synchronize(req) {
      parts++;
      if (req.more) {
        pendingBytes += toBinary(SynchronizeRequestSchema, req).length;
        if (pendingBytes > maxSyncBytes) {
          pendingPods = [];
          pendingContainers = [];
          throw new TtrpcError(
            `nri: split Synchronize holds over ${maxSyncBytes} bytes (maxSyncBytes)`,
            Code.ResourceExhausted,
          );
        }
        pendingPods.push(...req.pods);
        pendingContainers.push(...req.containers);
        // The runtime requires exactly this answer while more is coming.
        return { more: true };
      }
      const pods = pendingPods.length > 0 ? [...pendingPods, ...req.pods] : req.pods;
      const ctrs =
        pendingContainers.length > 0 ? [...pendingContainers, ...req.containers] : req.containers;
      pendingPods = [];
      pendingContainers = [];
      pendingBytes = 0;
      const messages = parts;
      parts = 0;
      const update = (await handlers.synchronize?.(pods, ctrs)) ?? [];
      events.synchronized(pods.length, ctrs.length, messages);
      return { update, more: false };
    },

    async shutdown() {
      await handlers.shutdown?.();
      events.shutdown();
      return {};
    },

    async createContainer(req) {
      const r = (await handlers.createContainer?.(pod(req.pod), container(req.container))) ?? {};
      return { adjust: r.adjust, update: r.update ?? [], evict: r.evict ?? [] };
    },

    async updateContainer(req) {
      const r =
        (await handlers.updateContainer?.(
          pod(req.pod),
          container(req.container),
          req.linuxResources,
        )) ?? {};
      return { update: r.update ?? [], evict: r.evict ?? [] };
    },

    async stopContainer(req) {
      const r = (await handlers.stopContainer?.(pod(req.pod), container(req.container))) ?? {};
      return { update: r.update ?? [] };
    },

    async stateChange(req) {
      const name = handlerForEvent(req.event);
      if (name) await dispatch(name, pod(req.pod), container(req.container));
      return {};
    },
  };
}
