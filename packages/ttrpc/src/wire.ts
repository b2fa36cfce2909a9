/**
 * `ttrpc/wire`: the frame-level constants of the protocol, for tools that read or write frames
 * themselves (a proxy, a fuzzer, a test peer). Applications do not need them.
 * @module
 */
export { DEFAULT_MAX_MESSAGE_BYTES, Flag, HEADER_LENGTH, MessageType } from "./frame.js";
