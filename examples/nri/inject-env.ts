/**
 * NRI plugin: injects environment variables and annotations into every new container.
 *
 *   external:  tsx examples/nri/inject-env.ts --socket /var/run/nri/nri.sock --env TEAM=blue
 *   launched:  an executable /opt/nri/plugins/10-inject-env that execs this file; its settings then
 *              come from /etc/nri/conf.d/10-inject-env.conf (JSON, see below), since the runtime
 *              launches plugins with an empty environment and no arguments.
 *
 * Configuration (the drop-in file, or NRI's plugin config): {"env": {"K": "V"}, "annotations": {"k": "v"}}.
 * Command-line --env K=V and --annotation k=v add to it. Without any, it injects
 * NRI_INJECTED_BY=ttrpc-ts and the annotation ttrpc-ts.nri/injected=true.
 */
import { parseArgs } from "node:util";
import { createPlugin } from "@ttrpc/nri";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    name: { type: "string", default: "inject-env" },
    index: { type: "string", default: "10" },
    env: { type: "string", multiple: true, default: [] },
    annotation: { type: "string", multiple: true, default: [] },
  },
});

function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

let env = pairs(values.env);
let annotations = pairs(values.annotation);

function log(what: string, detail: Record<string, unknown> = {}): void {
  // stderr: a launched plugin's stdout and stderr end up in the runtime's log, if anywhere.
  process.stderr.write(`${JSON.stringify({ plugin: "inject-env", what, ...detail })}\n`);
}

const plugin = createPlugin({
  name: values.name,
  index: values.index,
  socketPath: values.socket,
  configure({ config, runtimeName, runtimeVersion }) {
    if (config.trim() !== "") {
      const parsed = JSON.parse(config) as {
        env?: Record<string, string>;
        annotations?: Record<string, string>;
      };
      env = { ...parsed.env, ...env };
      annotations = { ...parsed.annotations, ...annotations };
    }
    if (Object.keys(env).length === 0 && Object.keys(annotations).length === 0) {
      env = { NRI_INJECTED_BY: "ttrpc-ts" };
      annotations = { "ttrpc-ts.nri/injected": "true" };
    }
    log("configured", { runtimeName, runtimeVersion, env, annotations });
  },
  createContainer(pod, container) {
    log("inject", { pod: `${pod.namespace}/${pod.name}`, container: container.name });
    return {
      adjust: {
        env: Object.entries(env).map(([key, value]) => ({ key, value })),
        annotations,
      },
    };
  },
  onStatus: (status) =>
    log(status.state, status.state === "disconnected" ? { error: status.error?.message } : {}),
  onError: (error) => log("error", { error: String(error) }),
});

process.once("SIGINT", () => void plugin.stop());
process.once("SIGTERM", () => void plugin.stop());
await plugin.run();
