/**
 * BatchGen's one program, as `deno task start` runs it and as `deno compile`
 * builds it: `serve` (the default), `generate` (the CLI) and the internal
 * generator mode that the server spawns (engine/runner.ts). Each command
 * imports only its own modules, so a generator child never loads the server
 * (nor libSQL's native module, which its permissions refuse).
 */
import { GENERATOR_MODE } from "./engine/generator_mode.ts";

/** The program's own `--help`. */
export const USAGE = `Usage: batchgen [COMMAND]

Batch image generation with Google's Gemini image models, on your own key.

Commands:
  serve               serve the web app and the JSON API (the default);
                      configured by environment variables (see the README)
  generate [OPTIONS]  the command-line generator, without the server;
                      "batchgen generate --help" lists its options
  help                this text (also -h, --help)

From the source folder, "deno task start" is "batchgen serve" and
"deno task generate" is "batchgen generate".
`;

/** What the command line asks for. */
export type EntryCommand =
  | { kind: "serve" }
  | { kind: "generate"; args: string[] }
  | { kind: "generator" }
  | { kind: "help" }
  | { kind: "error"; message: string };

const HELP = new Set(["help", "-h", "--help"]);

/** Reads the command line of the program. */
export function parseEntryArgs(args: readonly string[]): EntryCommand {
  const [first, ...rest] = args;
  if (first === undefined) return { kind: "serve" };
  if (HELP.has(first)) return { kind: "help" };
  if (first === "generate") return { kind: "generate", args: rest };
  if (first === "serve") {
    if (rest.length === 0) return { kind: "serve" };
    if (rest.length === 1 && HELP.has(rest[0]!)) return { kind: "help" };
    return {
      kind: "error",
      message:
        "serve takes no options: it is configured by environment variables (see the README)",
    };
  }
  if (first === GENERATOR_MODE) {
    return rest.length === 0 ? { kind: "generator" } : {
      kind: "error",
      message: `${GENERATOR_MODE} takes no options: the job comes on stdin`,
    };
  }
  // Echo only what looks like a command word: a pasted key must not be
  // printed back into a terminal's scrollback or a log.
  const shown = /^[a-z][a-z_-]{0,19}$/i.test(first) ? ` "${first}"` : "";
  return { kind: "error", message: `Unknown command${shown}` };
}

/**
 * Permissions the generator never needs. A compiled binary runs every
 * command with the permissions `deno compile` fixed, the server's; the
 * generator mode gives these up before it loads any code that could use them.
 */
export function dropGeneratorSpareAccess(): void {
  for (const name of ["run", "ffi", "sys"] as const) {
    Deno.permissions.revokeSync({ name });
  }
}

async function write(
  to: { write(p: Uint8Array): Promise<number> },
  text: string,
) {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await to.write(bytes.subarray(written));
  }
}

/**
 * Loads a command's modules by a specifier Deno cannot see ahead of time.
 * `deno run` resolves every statically visible import, dynamic ones
 * included, before it runs anything: with `import("./serve.ts")` in sight a
 * generator child paid ~300 ms at start-up for the server's npm graph it
 * never loads (issue 13 §2). `deno compile` gets these modules through
 * `--include` (deno.json's compile task).
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

/**
 * Runs the command `args` select; resolves with the exit code, or undefined
 * once the server has stopped by itself.
 */
export async function runEntry(
  args: readonly string[],
): Promise<number | undefined> {
  const command = parseEntryArgs(args);
  switch (command.kind) {
    case "help":
      await write(Deno.stdout, USAGE);
      return 0;
    case "error":
      await write(
        Deno.stderr,
        `${command.message}\nRun "batchgen --help" for usage.\n`,
      );
      return 2;
    case "serve": {
      const { serve } = await load<typeof import("./serve.ts")>("./serve.ts");
      await serve();
      return undefined;
    }
    case "generate": {
      const { runCli } = await load<typeof import("./generator/cli.ts")>(
        "./generator/cli.ts",
      );
      return await runCli(command.args);
    }
    case "generator": {
      dropGeneratorSpareAccess();
      const { runChild } = await load<typeof import("./generator/child.ts")>(
        "./generator/child.ts",
      );
      return await runChild();
    }
  }
}

if (import.meta.main) {
  const code = await runEntry(Deno.args);
  // Exit explicitly: an idle keep-alive socket must not hold a generator.
  if (code !== undefined) Deno.exit(code);
}
