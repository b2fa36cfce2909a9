/**
 * What a plugin implements: one optional handler per NRI request or event, in the style of NRI's
 * Go stub. Handlers receive decoded messages and return plain (init-shaped) objects.
 * @module
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  Container,
  ContainerAdjustmentSchema,
  ContainerEvictionSchema,
  ContainerUpdate,
  ContainerUpdateSchema,
  LinuxResources,
  PodSandbox,
} from "./gen/api_pb.js";

type MaybePromise<T> = T | Promise<T>;
// biome-ignore lint/suspicious/noConfusingVoidType: a handler written as `() => {}` returns void.
type Nothing = undefined | void;

/** An adjustment to a container being created (env, annotations, mounts, hooks, devices, resources...). */
export type ContainerAdjustmentInit = MessageInitShape<typeof ContainerAdjustmentSchema>;
/** An update to an existing container (its Linux resources). */
export type ContainerUpdateInit = MessageInitShape<typeof ContainerUpdateSchema>;
/** A request to evict (stop) a container. */
export type ContainerEvictionInit = MessageInitShape<typeof ContainerEvictionSchema>;

/** What the runtime tells a plugin in Configure. */
export interface ConfigureInfo {
  /** Plugin configuration (a launched plugin's drop-in file; usually empty for external plugins). */
  config: string;
  runtimeName: string;
  runtimeVersion: string;
  /** Registration timeout in ms (NRI 0.8+; 0 from older runtimes). */
  registrationTimeoutMs: number;
  /** How long the runtime waits for each request, in ms (NRI 0.8+; 0 from older runtimes, which use 2000). */
  requestTimeoutMs: number;
}

/** The reply to CreateContainer. */
export interface CreateContainerResult {
  /** Changes to the container being created. */
  adjust?: ContainerAdjustmentInit;
  /** Updates to other, existing containers. */
  update?: ContainerUpdateInit[];
  /** Containers to evict. */
  evict?: ContainerEvictionInit[];
}

/** The reply to UpdateContainer. */
export interface UpdateContainerResult {
  update?: ContainerUpdateInit[];
  evict?: ContainerEvictionInit[];
}

/** The reply to StopContainer. */
export interface StopContainerResult {
  update?: ContainerUpdateInit[];
}

/**
 * The handlers a plugin may implement. The event mask sent to the runtime is derived from the
 * event handlers present. Each must answer within the runtime's request timeout (2 s by default),
 * or the runtime drops the plugin. Do not await `updateContainers` inside a handler: the runtime
 * serves it only after the event being delivered is answered.
 */
export interface PluginHandlers {
  /**
   * The runtime configures the plugin. May return an event mask to subscribe to a subset of the
   * events the handlers cover (0 or undefined: all of them).
   */
  configure?(info: ConfigureInfo): MaybePromise<number | Nothing>;
  /** Existing pods and containers, once per (re)connection; may return container updates. */
  synchronize?(
    pods: PodSandbox[],
    containers: Container[],
  ): MaybePromise<ContainerUpdateInit[] | Nothing>;
  /** The runtime is shutting the plugin down. */
  shutdown?(): MaybePromise<void>;

  runPodSandbox?(pod: PodSandbox): MaybePromise<void>;
  stopPodSandbox?(pod: PodSandbox): MaybePromise<void>;
  removePodSandbox?(pod: PodSandbox): MaybePromise<void>;
  createContainer?(
    pod: PodSandbox,
    container: Container,
  ): MaybePromise<CreateContainerResult | Nothing>;
  postCreateContainer?(pod: PodSandbox, container: Container): MaybePromise<void>;
  startContainer?(pod: PodSandbox, container: Container): MaybePromise<void>;
  postStartContainer?(pod: PodSandbox, container: Container): MaybePromise<void>;
  updateContainer?(
    pod: PodSandbox,
    container: Container,
    resources: LinuxResources | undefined,
  ): MaybePromise<UpdateContainerResult | Nothing>;
  postUpdateContainer?(pod: PodSandbox, container: Container): MaybePromise<void>;
  stopContainer?(
    pod: PodSandbox,
    container: Container,
  ): MaybePromise<StopContainerResult | Nothing>;
  removeContainer?(pod: PodSandbox, container: Container): MaybePromise<void>;
}

/** Updates the runtime could not apply. */
export type FailedUpdates = ContainerUpdate[];
