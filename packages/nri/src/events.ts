/**
 * NRI events, their handler names and the event mask a plugin subscribes with.
 * @module
 */
import { Event } from "./gen/api_pb.js";

/** The handler name of each event a plugin can subscribe to. */
export const EVENT_HANDLERS = {
  runPodSandbox: Event.RUN_POD_SANDBOX,
  stopPodSandbox: Event.STOP_POD_SANDBOX,
  removePodSandbox: Event.REMOVE_POD_SANDBOX,
  createContainer: Event.CREATE_CONTAINER,
  postCreateContainer: Event.POST_CREATE_CONTAINER,
  startContainer: Event.START_CONTAINER,
  postStartContainer: Event.POST_START_CONTAINER,
  updateContainer: Event.UPDATE_CONTAINER,
  postUpdateContainer: Event.POST_UPDATE_CONTAINER,
  stopContainer: Event.STOP_CONTAINER,
  removeContainer: Event.REMOVE_CONTAINER,
} as const;

/** Name of an event handler (`createContainer`, `postStartContainer`, ...). */
export type EventHandlerName = keyof typeof EVENT_HANDLERS;

/** The handler name for an event number, or undefined for events this API does not know. */
export function handlerForEvent(event: number): EventHandlerName | undefined {
  for (const [name, e] of Object.entries(EVENT_HANDLERS)) {
    if (e === event) return name as EventHandlerName;
  }
  return undefined;
}

/** The mask bit of one event, as NRI defines it: `1 << (event - 1)`. */
export function eventBit(event: number): number {
  return event >= 1 && event <= 31 ? 2 ** (event - 1) : 0;
}

/**
 * The event mask for the handlers present in `handlers`. Note that NRI reads a zero mask as
 * "every event": a plugin without event handlers is subscribed to all of them, and answers each
 * with an empty reply.
 */
export function eventMask(handlers: object): number {
  let mask = 0;
  for (const [name, event] of Object.entries(EVENT_HANDLERS)) {
    if (typeof (handlers as Record<string, unknown>)[name] === "function") mask |= eventBit(event);
  }
  return mask;
}

/** Handler names of the events set in `mask` (for logs and tests). */
export function eventNames(mask: number): EventHandlerName[] {
  return (Object.keys(EVENT_HANDLERS) as EventHandlerName[]).filter(
    (name) => (mask & eventBit(EVENT_HANDLERS[name])) !== 0,
  );
}
