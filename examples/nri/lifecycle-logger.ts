/**
 * NRI plugin: prints every pod and container lifecycle event as one JSON line on stdout, starting
 * with the pods and containers that already exist (Synchronize).
 *
 *   tsx examples/nri/lifecycle-logger.ts --socket /var/run/nri/nri.sock | jq .
 */
import { parseArgs } from "node:util";
import { type Container, ContainerState, createPlugin, type PodSandbox } from "@ttrpc/nri";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    name: { type: "string", default: "lifecycle-logger" },
    index: { type: "string", default: "99" },
  },
});

function podInfo(pod: PodSandbox) {
  return { id: pod.id, namespace: pod.namespace, name: pod.name, uid: pod.uid };
}

function containerInfo(c: Container) {
  const state = Object.entries(ContainerState).find(([, v]) => v === c.state)?.[0];
  return { id: c.id, name: c.name, pod: c.podSandboxId, state, pid: c.pid || undefined };
}

function print(event: string, detail: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...detail })}\n`);
}

const podEvent = (event: string) => (pod: PodSandbox) => print(event, { pod: podInfo(pod) });
const containerEvent = (event: string) => (pod: PodSandbox, c: Container) =>
  print(event, { pod: podInfo(pod), container: containerInfo(c) });

const plugin = createPlugin({
  name: values.name,
  index: values.index,
  socketPath: values.socket,
  configure: ({ runtimeName, runtimeVersion }) =>
    print("Configure", { runtimeName, runtimeVersion }),
  synchronize(pods, containers) {
    for (const pod of pods) print("Existing", { pod: podInfo(pod) });
    for (const c of containers) print("Existing", { container: containerInfo(c) });
    return [];
  },
  shutdown: () => print("Shutdown", {}),
  runPodSandbox: podEvent("RunPodSandbox"),
  stopPodSandbox: podEvent("StopPodSandbox"),
  removePodSandbox: podEvent("RemovePodSandbox"),
  createContainer(pod, c) {
    print("CreateContainer", { pod: podInfo(pod), container: containerInfo(c) });
    return {};
  },
  postCreateContainer: containerEvent("PostCreateContainer"),
  startContainer: containerEvent("StartContainer"),
  postStartContainer: containerEvent("PostStartContainer"),
  updateContainer(pod, c) {
    print("UpdateContainer", { pod: podInfo(pod), container: containerInfo(c) });
    return {};
  },
  postUpdateContainer: containerEvent("PostUpdateContainer"),
  stopContainer(pod, c) {
    print("StopContainer", { pod: podInfo(pod), container: containerInfo(c) });
    return {};
  },
  removeContainer: containerEvent("RemoveContainer"),
  onStatus: (status) => process.stderr.write(`lifecycle-logger: ${status.state}\n`),
});

process.once("SIGINT", () => void plugin.stop());
process.once("SIGTERM", () => void plugin.stop());
await plugin.run();
