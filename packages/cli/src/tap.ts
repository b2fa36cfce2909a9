import type { Io } from "./call.js";
export async function runTap(_argv: string[], _io: Io): Promise<number> {
  return 1;
}
