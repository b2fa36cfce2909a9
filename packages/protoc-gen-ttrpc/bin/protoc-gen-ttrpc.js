#!/usr/bin/env node
// The protoc plugin executable: protoc (or buf) writes a CodeGeneratorRequest to stdin.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenTtrpc } from "../dist/plugin.js";

runNodeJs(protocGenTtrpc);
