/**
 * A test plugin that implements every handler, records what it receives, and answers with
 * adjustments and updates the tests can recognise (some of them larger than 4 KiB).
 */
import type { Container, PluginHandlers, PluginStatus, PodSandbox } from "@ttrpc/nri";

/** Size of the annotation the plugin adds on CreateContainer (crosses the 4 KiB mux boundary). */
export const BIG_ADJUSTMENT = 6000;

/** One call the plugin received. */
export interface Received {
  handler: string;
  pod?: string;
  container?: string;
  /** Sum of the container's annotation value sizes (how much came from the runtime). */
  annotationBytes?: number;
}

/** The recording handlers and what they saw. */
export interface Recorder {
  handlers: PluginHandlers;
  received: Received[];
  statuses: PluginStatus[];
  syncs: Array<{ pods: number; containers: number }>;
  /** Resolves with the `count`-th call of `handler` (1-based), waiting for it if needed. */
  waitFor(handler: string, count?: number, timeoutMs?: number): Promise<Received>;
}

function annotationBytes(c: Container): number {
  return Object.values(c.annotations).reduce((n, v) => n + v.length, 0);
}

/** Builds a recorder. `bigBytes` is the size of the annotation added on CreateContainer. */
export function recorder(bigBytes = BIG_ADJUSTMENT): Recorder {
  const received: Received[] = [];
  const statuses: PluginStatus[] = [];
  const syncs: Array<{ pods: number; containers: number }> = [];
  const waiters: Array<() => void> = [];
  const record = (handler: string, pod?: PodSandbox, c?: Container) => {
    received.push({
      handler,
      pod: pod?.id,
      container: c?.id,
      annotationBytes: c ? annotationBytes(c) : undefined,
    });
    for (const w of waiters.splice(0)) w();
  };
  const waitFor = async (handler: string, count = 1, timeoutMs = 15_000): Promise<Received> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = received.filter((r) => r.handler === handler)[count - 1];
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for call ${count} of ${handler}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  const handlers: PluginHandlers = {
    synchronize(pods, containers) {
      syncs.push({ pods: pods.length, containers: containers.length });
      record("synchronize");
      return [];
    },
    shutdown: () => record("shutdown"),
    runPodSandbox: (pod) => record("runPodSandbox", pod),
    stopPodSandbox: (pod) => record("stopPodSandbox", pod),
    removePodSandbox: (pod) => record("removePodSandbox", pod),
    createContainer(pod, c) {
      record("createContainer", pod, c);
      return {
        adjust: {
          env: [{ key: "FROM_TS_PLUGIN", value: `${pod.name}/${c.name}` }],
          annotations: { "ts-plugin/big": "t".repeat(bigBytes), "ts-plugin/seen": c.id },
          mounts: [{ destination: "/ts", source: "/tmp", type: "bind", options: ["rbind", "ro"] }],
          linux: { resources: { memory: { limit: { value: 256n << 20n } } } },
        },
      };
    },
    postCreateContainer: (pod, c) => record("postCreateContainer", pod, c),
    startContainer: (pod, c) => record("startContainer", pod, c),
    postStartContainer: (pod, c) => record("postStartContainer", pod, c),
    updateContainer(pod, c, resources) {
      record("updateContainer", pod, c);
      const shares = resources?.cpu?.shares?.value ?? 0n;
      return {
        update: [
          { containerId: c.id, linux: { resources: { cpu: { shares: { value: shares + 1n } } } } },
        ],
      };
    },
    postUpdateContainer: (pod, c) => record("postUpdateContainer", pod, c),
    stopContainer(pod, c) {
      record("stopContainer", pod, c);
      return {};
    },
    removeContainer: (pod, c) => record("removeContainer", pod, c),
  };
  return { handlers, received, statuses, syncs, waitFor };
}
