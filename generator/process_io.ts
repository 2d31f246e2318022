/**
 * The generator process's edges: taking the key out of the environment (K4),
 * one serialised writer per output stream, scrubbed stderr (K5), and
 * SIGTERM/SIGINT turned into an abort.
 */
import { createScrubber, scrubError } from "../core/scrub.ts";
import { geminiBaseUrlProblem } from "../core/loopback.ts";
import { refuse, type Result } from "../core/result.ts";

export const KEY_VARIABLE = "GEMINI_API_KEY";
/** The same variable the server reads (config.ts), with the same rule. */
export const BASE_URL_VARIABLE = "BATCHGEN_GEMINI_BASE_URL";

/** Writes whole chunks in call order; a chunk never interleaves another. */
export interface LineWriter {
  write(text: string): void;
  /** Resolves when everything written so far has reached the stream. */
  flush(): Promise<void>;
}

/**
 * Reads the key once and removes it from the environment at once, so
 * nothing later in this process (the SDK included) can find it there.
 */
export function takeApiKey(): string | undefined {
  const key = Deno.env.get(KEY_VARIABLE)?.trim();
  Deno.env.delete(KEY_VARIABLE);
  return key || undefined;
}

/**
 * The base URL override from the environment: https, or plain http only to
 * this machine, since the key travels to it (K7).
 */
export function baseUrlFromEnv(): Result<string | undefined> {
  const value = Deno.env.get(BASE_URL_VARIABLE)?.trim();
  if (!value) return { ok: true, value: undefined };
  const problem = geminiBaseUrlProblem(value);
  return problem
    ? refuse("invalid_input", `${BASE_URL_VARIABLE} ${problem}`)
    : { ok: true, value: value.replace(/\/+$/, "") };
}

/**
 * A writer that queues every chunk behind the previous one. Write errors
 * (the parent closed the pipe) end the writer quietly instead of crashing.
 */
export function createLineWriter(
  stream: WritableStream<Uint8Array>,
  transform: (text: string) => string = (text) => text,
): LineWriter {
  const writer = stream.getWriter();
  const encoder = new TextEncoder();
  let chain = Promise.resolve();
  let broken = false;
  return {
    write(text) {
      if (broken) return;
      const bytes = encoder.encode(transform(text));
      chain = chain.then(() => writer.write(bytes)).catch(() => {
        broken = true;
      });
    },
    flush: () => chain,
  };
}

/** A stderr writer that scrubs every line with the key and ends it. */
export function createStderr(secrets: readonly string[]): LineWriter {
  const { scrub } = createScrubber(secrets);
  return createLineWriter(Deno.stderr.writable, (text) => scrub(text) + "\n");
}

/**
 * Sends `console.*` output (e.g. SDK warnings) to the scrubbed stderr: stdout
 * belongs to the protocol, and nothing may reach stderr unscrubbed.
 */
export function redirectConsole(stderr: LineWriter): void {
  const log = (...args: unknown[]) =>
    stderr.write(
      args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "),
    );
  const target = globalThis.console as unknown as Record<string, unknown>;
  for (const name of ["log", "info", "warn", "error", "debug", "trace"]) {
    target[name] = log;
  }
}

/**
 * Routes uncaught errors through the scrubbed stderr instead of Deno's own
 * report, which would print them (and whatever key they echo) verbatim.
 */
export function guardUncaught(
  stderr: LineWriter,
  secrets: readonly string[],
): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    stderr.write(`Unhandled rejection: ${scrubError(event.reason, secrets)}`);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    stderr.write(`Uncaught error: ${scrubError(event.error, secrets)}`);
    stderr.flush().then(() => Deno.exit(1));
  });
}

/**
 * Calls `onSignal` on SIGTERM or SIGINT (with the signal's exit code) and
 * returns a function that removes the listeners again.
 */
export function onTerminate(
  onSignal: (exitCode: number) => void,
): () => void {
  const signals = [["SIGTERM", 143], ["SIGINT", 130]] as const;
  const handlers = signals.map(([name, code]) => {
    const handler = () => onSignal(code);
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return () => {
    for (const [name, handler] of handlers) {
      Deno.removeSignalListener(name, handler);
    }
  };
}

/**
 * Runs a generator entry point (child or CLI) with the process's edges set
 * up first: the key taken out of the environment before anything else runs,
 * console output and uncaught errors sent to the scrubbed stderr. Resolves
 * with `main`'s exit code once stderr is flushed.
 */
export async function withProcessEdges(
  main: (apiKey: string | undefined, stderr: LineWriter) => Promise<number>,
): Promise<number> {
  const apiKey = takeApiKey();
  const secrets = apiKey ? [apiKey] : [];
  const stderr = createStderr(secrets);
  redirectConsole(stderr);
  guardUncaught(stderr, secrets);
  const code = await main(apiKey, stderr);
  await stderr.flush();
  return code;
}
