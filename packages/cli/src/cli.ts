/**
 * Runs the command from its sources (tests and development: `node --import tsx src/cli.ts`);
 * bin/ttrpc.js does the same from dist/.
 * @module
 */
import { main } from "./main.js";

// Pipes and files are written synchronously on Linux, so exiting right away loses no output; it
// also ends a stdin that is still open when the call is over.
process.exit(await main(process.argv.slice(2)));
