/**
 * Entry point that runs the plugin on stdin/stdout (used by `bin/protoc-gen-ttrpc-dev`).
 * @module
 */
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenTtrpc } from "./plugin.js";

runNodeJs(protocGenTtrpc);
