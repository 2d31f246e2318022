/**
 * The generator run on its own (design.md §4). Without arguments (or with
 * `--job -`) it is a child process: key in `GEMINI_API_KEY`, job on stdin,
 * events on stdout. With arguments it is the CLI (see `--help`).
 *
 * The program's entry point is main.ts: the server spawns `main.ts
 * __generator` (or the compiled binary's `batchgen __generator`), and
 * `deno task generate` runs `main.ts generate`. This file stays so the
 * generator can be run and tested without the rest of BatchGen.
 */
import { runChild } from "./child.ts";
import { runCli } from "./cli.ts";

/** Whether `args` select child-process mode rather than the CLI. */
export function isChildMode(args: readonly string[]): boolean {
  return args.length === 0 || (args.length === 2 && args[0] === "--job" &&
    args[1] === "-");
}

/** Runs the generator in the mode `args` select; resolves with the exit code. */
export function main(args: readonly string[]): Promise<number> {
  return isChildMode(args) ? runChild() : runCli(args);
}

if (import.meta.main) {
  // Exit explicitly: an idle keep-alive socket must not hold the process.
  Deno.exit(await main(Deno.args));
}
