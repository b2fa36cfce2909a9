/**
 * `@ttrpc/cli` as a library: the `ttrpc` command's entry point.
 * @module
 */
export { main } from "./main.js";
