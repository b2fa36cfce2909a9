#!/usr/bin/env node
// The `ttrpc` command. The code lives in dist/ (built from src/ by `npm run build`).
// Pipes and files are written synchronously on Linux, so exiting right away loses no output; it
// also ends a stdin that is still open when the call is over.
import { main } from "../dist/main.js";

process.exit(await main(process.argv.slice(2)));
